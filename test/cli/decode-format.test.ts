/**
 * The two output formats of `pktstack decode`, in-process: the JSON field names issue 2 fixes for
 * every layer, and the tcpdump-like text line for each kind of frame in the fixtures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureDecoder } from '../../src/decode/capture.js';
import { frameToJSON } from '../../src/decode/json.js';
import { formatTime, frameToText, tcpFlagsText } from '../../src/decode/text.js';
import { frame as generatedFrame, gre, igmp, ipv4, ppp } from '../../src/generated/index.js';
import { IpProtocol } from '../../src/generated/ipv4.js';
import { type CaptureRecord, openCapture } from '../../src/pcap/reader.js';

const PCAP = join(import.meta.dirname, '..', 'fixtures', 'pcap');
const decoder = new CaptureDecoder();

function frame(file: string, n: number): CaptureRecord {
  const rec = [...openCapture(readFileSync(join(PCAP, file)))][n - 1];
  decoder.decode(rec.bytes, rec.linkType, rec.origLen);
  return rec;
}
function json(file: string, n: number): Record<string, Record<string, unknown>> {
  frame(file, n);
  return frameToJSON(decoder, n).layers as Record<string, Record<string, unknown>>;
}
function text(file: string, n: number): string {
  const rec = frame(file, n);
  return frameToText(decoder, rec, rec.origLen);
}

/** Field names per layer from issue 2 ("pktstack decode FILE"). */
const FIELDS: Record<string, string[]> = {
  ethernet: ['dst', 'src', 'etherType'],
  arp: ['htype', 'ptype', 'hlen', 'plen', 'op', 'sha', 'spa', 'tha', 'tpa'],
  ipv4: [
    'version',
    'ihl',
    'dscp',
    'ecn',
    'totalLength',
    'identification',
    'flags',
    'fragmentOffset',
    'ttl',
    'protocol',
    'checksum',
    'checksumValid',
    'src',
    'dst',
    'options',
  ],
  icmp: ['type', 'code', 'checksum', 'checksumValid', 'identifier', 'sequence'],
  udp: ['srcPort', 'dstPort', 'length', 'checksum', 'checksumValid'],
  tcp: [
    'srcPort',
    'dstPort',
    'seq',
    'ack',
    'dataOffset',
    'flags',
    'window',
    'checksum',
    'checksumValid',
    'urgentPointer',
    'options',
    'payloadLength',
  ],
  dhcp: [
    'op',
    'htype',
    'hlen',
    'hops',
    'xid',
    'secs',
    'flags',
    'ciaddr',
    'yiaddr',
    'siaddr',
    'giaddr',
    'chaddr',
    'messageType',
    'options',
  ],
  dns: [
    'id',
    'qr',
    'opcode',
    'aa',
    'tc',
    'rd',
    'ra',
    'rcode',
    'qdcount',
    'ancount',
    'nscount',
    'arcount',
    'questions',
    'answers',
  ],
};

describe('decode --json shape', () => {
  it.each([
    ['linux-arp-icmp.pcap', 1, ['ethernet', 'arp']],
    ['linux-arp-icmp.pcap', 3, ['ethernet', 'ipv4', 'icmp']],
    ['linux-tcp-sack.pcap', 1, ['ethernet', 'ipv4', 'tcp']],
    ['linux-dhcp-dora.pcap', 1, ['ethernet', 'ipv4', 'udp', 'dhcp']],
    ['linux-dns.pcap', 2, ['ethernet', 'ipv4', 'udp', 'dns']],
  ] as const)('%s #%d has the issue-2 field names', (file, n, layers) => {
    const l = json(file, n);
    expect(Object.keys(l)).toEqual(layers);
    for (const name of layers) {
      for (const field of FIELDS[name]) expect(l[name], `${name}.${field}`).toHaveProperty(field);
    }
  });

  it('addresses are strings, numbers are numbers, TCP options are typed', () => {
    const l = json('linux-tcp-sack.pcap', 1);
    expect(l.ethernet.src).toBe('02:00:5e:77:00:02');
    expect(l.ipv4.src).toBe('10.77.0.2');
    expect(typeof l.tcp.seq).toBe('number');
    expect(l.tcp.checksumValid).toBe(true);
    const opts = l.tcp.options as Array<Record<string, unknown>>;
    expect(opts.map((o) => o.kind)).toEqual([2, 4, 8, 1, 3]);
    expect(opts[0].value).toBe(1460);
    expect(opts[1]).toEqual({ kind: 4, length: 2 });
    expect(opts[4].shift).toBe(10);
  });

  it('SACK blocks as {left, right} items', () => {
    const l = json('linux-tcp-sack.pcap', 19);
    const sack = (l.tcp.options as Array<Record<string, unknown>>).find((o) => o.kind === 5);
    expect(sack?.blocks).toEqual([{ left: 524290610, right: 524292058 }]);
  });

  it('DNS over TCP carries its length prefix; DNS shows the Z/AD/CD bits', () => {
    const l = json('linux-dns.pcap', 16);
    expect(l.dns.tcpLength).toBe(52);
    expect(l.dns.z).toBe(2); // dig sets AD (0x0020) in its queries
  });

  it('a first fragment has no verifiable transport checksum', () => {
    const l = json('linux-ip-fragments.pcap', 1);
    expect(l.icmp.checksumValid).toBeNull();
  });

  it('a first UDP fragment shows its header (length of the whole datagram), no error', () => {
    frame('linux-ip-fragments.pcap', 13);
    const j = frameToJSON(decoder, 13);
    const udp = j.layers.udp as Record<string, unknown>;
    expect(udp.length).toBe(4008);
    expect(udp.checksumValid).toBeNull();
    expect(j.error).toBeNull();
  });

  it('a frame cut by the snap length keeps its headers and reports E_TRUNCATED at IPv4', () => {
    frame('zeek-tcp-truncated-header.pcap', 4);
    const j = frameToJSON(decoder, 4);
    const tcp = j.layers.tcp as Record<string, unknown>;
    expect(Object.keys(j.layers)).toEqual(['ethernet', 'ipv4', 'tcp']);
    expect(tcp.payloadLength).toBe(84); // as declared by IPv4, not the 0 bytes captured
    expect(tcp.checksumValid).toBeNull();
    expect(j.error).toEqual({ code: 'E_TRUNCATED', layer: 'ipv4', field: 'payload', offset: 34 });
  });

  it('a UDP length past its whole datagram: header and DNS shown, E_TRUNCATED in udp', () => {
    frame('synthetic-edge-cases.pcap', 38);
    const j = frameToJSON(decoder, 38);
    expect(Object.keys(j.layers)).toEqual(['ethernet', 'ipv4', 'udp', 'dns']);
    expect((j.layers.udp as Record<string, unknown>).length).toBe(200);
    expect(j.error).toMatchObject({ code: 'E_TRUNCATED', layer: 'udp', field: 'payload' });
  });

  it('a cut inside the Ethernet padding is E_TRUNCATED at ethernet; a cut at the end is none', () => {
    frame('synthetic-edge-cases.pcap', 39);
    const j = frameToJSON(decoder, 39);
    expect(Object.keys(j.layers)).toEqual(['ethernet', 'arp']);
    expect(j.error).toEqual({
      code: 'E_TRUNCATED',
      layer: 'ethernet',
      field: 'payload',
      offset: 42,
    });
    frame('zeek-tcp-truncated-header.pcap', 3); // 54 of 60 bytes: the datagram ends at 54
    expect(frameToJSON(decoder, 3).error).toBeNull();
  });

  it('a header cut by the snap length ends the walk there, shown in part', () => {
    // 38 bytes captured: 4 of the 8 UDP header bytes (the ports), as tshark shows them
    frame('synthetic-edge-cases.pcap', 31);
    const j = frameToJSON(decoder, 31);
    expect(Object.keys(j.layers)).toEqual(['ethernet', 'ipv4', 'udp']);
    expect(j.partial).toBe('udp');
    expect(j.layers.udp).toEqual({ srcPort: 1, dstPort: 2 });
    expect(j.error?.layer).toBe('ipv4');
  });

  it('a header that fails validation shows its fields up to the failing one', () => {
    // IPv4 with ihl 3 (tshark: version 4, header length 12 bytes, "bogus")
    frame('synthetic-analyser.pcap', 1);
    const j = frameToJSON(decoder, 1);
    expect(j.partial).toBe('ipv4');
    expect(j.layers.ipv4).toEqual({ version: 4, ihl: 3 });
    expect(j.error).toMatchObject({ code: 'E_BAD_LENGTH', layer: 'ipv4', field: 'ihl' });
    // TCP data offset 3: the fields up to it, beside the error
    frame('synthetic-analyser.pcap', 4);
    const t = frameToJSON(decoder, 4);
    expect(t.layers.tcp).toEqual({
      srcPort: 40000,
      dstPort: 80,
      seq: 1000,
      ack: 0,
      dataOffset: 3,
    });
    expect(t.error).toMatchObject({ code: 'E_BAD_LENGTH', layer: 'tcp', field: 'dataOffset' });
  });

  it('a first fragment that cuts its transport header shows the ports, without error', () => {
    frame('synthetic-analyser.pcap', 6);
    const j = frameToJSON(decoder, 6);
    expect(j.partial).toBe('tcp');
    expect(j.layers.tcp).toEqual({ srcPort: 40000, dstPort: 80, seq: 1000, ack: 0 });
    expect(j.error).toBeNull();
    // the second fragment of the UDP datagram (frame 7 is its first) has no transport header
    frame('synthetic-analyser.pcap', 8);
    const later = frameToJSON(decoder, 8);
    expect(Object.keys(later.layers)).toEqual(['ethernet', 'ipv4']);
    expect(later.partial).toBeUndefined();
    expect(later.error).toBeNull();
  });

  it('IPv4 total length 0 (offloaded) is the rest of the frame, as tshark presumes', () => {
    frame('synthetic-analyser.pcap', 10);
    const j = frameToJSON(decoder, 10);
    const ip = j.layers.ipv4 as Record<string, unknown>;
    expect(ip.totalLength).toBe(0);
    expect(ip.offloadedLength).toBe(140);
    expect(ip.checksumValid).toBe(true);
    const tcp = j.layers.tcp as Record<string, unknown>;
    expect([tcp.payloadLength, tcp.checksumValid]).toEqual([100, true]);
    expect(j.error).toBeNull();
  });

  it('ARP for a protocol other than IPv4 shows its protocol addresses as bytes', () => {
    frame('synthetic-analyser.pcap', 12);
    const a = frameToJSON(decoder, 12).layers.arp as Record<string, unknown>;
    expect([a.ptype, a.spa, a.tpa, a.sha]).toEqual([
      0x809b,
      '00:ff:12:34',
      '00:ff:56:78',
      '02:00:00:00:00:01',
    ]);
  });

  it('VLAN tags are a list, outermost first; ethernet keeps the first tag type', () => {
    const l = json('synthetic-edge-cases.pcap', 24) as unknown as Record<string, unknown>;
    expect((l.ethernet as Record<string, unknown>).etherType).toBe(0x88a8);
    expect(l.vlan).toEqual([
      { pcp: 3, dei: 0, id: 100, etherType: 0x8100 },
      { pcp: 5, dei: 1, id: 5, etherType: 0x0800 },
    ]);
    expect((l.udp as Record<string, unknown>).dstPort).toBe(2000);
    expect(Object.keys(json('synthetic-edge-cases.pcap', 25))).toEqual(['ethernet', 'vlan', 'arp']);
  });

  it('ARP of other address sizes: MAC / IPv4 when 6 / 4 bytes, colon hex otherwise', () => {
    const a = json('synthetic-edge-cases.pcap', 27).arp;
    expect(a).toEqual({
      htype: 1,
      ptype: 0x86dd,
      hlen: 6,
      plen: 16,
      op: 1,
      sha: '02:00:00:00:00:01',
      spa: 'fe:80:00:00:00:00:00:00:00:00:00:00:00:00:00:01',
      tha: '00:00:00:00:00:00',
      tpa: 'fe:80:00:00:00:00:00:00:00:00:00:00:00:00:00:02',
    });
    expect(json('synthetic-edge-cases.pcap', 22).arp.spa).toBe('10.0.0.1');
    expect(json('synthetic-edge-cases.pcap', 26).arp.op).toBe(3); // RARP
  });

  it('a non-first fragment has no transport layer and no error', () => {
    frame('linux-ip-fragments.pcap', 2);
    const j = frameToJSON(decoder, 2);
    expect(Object.keys(j.layers)).toEqual(['ethernet', 'ipv4']);
    expect(j.error).toBeNull();
  });
});

describe('decode text lines', () => {
  it('formats time as UTC HH:MM:SS.micro', () => {
    expect(formatTime({ tsSec: 86400 * 3 + 3600 + 62, tsNanos: 5_123_999 })).toBe(
      '01:01:02.005123',
    );
  });

  it('TCP flag letters in tcpdump order', () => {
    expect(tcpFlagsText(0x12)).toBe('S.');
    expect(tcpFlagsText(0x18)).toBe('P.');
    expect(tcpFlagsText(0x11)).toBe('F.');
    expect(tcpFlagsText(0xc2)).toBe('SEW');
    expect(tcpFlagsText(0)).toBe('none');
  });

  it.each([
    ['linux-arp-icmp.pcap', 1, / ARP, Request who-has 10\.77\.0\.1 tell 10\.77\.0\.2, length 28$/],
    ['linux-arp-icmp.pcap', 2, / ARP, Reply 10\.77\.0\.1 is-at 02:00:5e:77:00:01, length 28$/],
    [
      'linux-arp-icmp.pcap',
      3,
      / IP 10\.77\.0\.2 > 10\.77\.0\.1: ICMP echo request, id \d+, seq 1, length 64$/,
    ],
    ['linux-arp-icmp.pcap', 4, / ICMP echo reply, id \d+, seq 1, length 64$/],
    [
      'linux-udp-unreachable.pcap',
      2,
      / IP 10\.77\.0\.1 > 10\.77\.0\.2: ICMP DestinationUnreachable, code 3, length 88$/,
    ],
    ['linux-ip-fragments.pcap', 2, /: ip-proto-1 \(frag id \d+, off 1480, MF\), length 1480$/],
    [
      'linux-tcp-http.pcap',
      2,
      /8080 > 10\.77\.0\.2\.\d+: Flags \[S\.\], seq \d+, ack \d+, win 65160, options \[mss 1460,sackOK,TS val \d+ ecr \d+,nop,wscale 10\], length 0$/,
    ],
    [
      'linux-tcp-sack.pcap',
      19,
      /options \[nop,nop,TS val \d+ ecr \d+,nop,nop,sack 1 \{524290610:524292058\}\]/,
    ],
    ['linux-dns.pcap', 1, /\.53: DNS \d+\+ A\? www\.fx\.test \[EDNS udp 1232, COOKIE\] \(52\)$/],
    [
      'linux-dns.pcap',
      2,
      /: DNS \d+\+\* A\? www\.fx\.test 1\/0\/1 A 10\.77\.0\.1 \[EDNS udp \d+\] \(56\)$/,
    ],
    [
      'linux-dns.pcap',
      10,
      /: DNS \d+\+ NXDomain A\? nope\.fx\.test 0\/0\/1 \[EDNS udp \d+\] \(41\)$/,
    ],
    [
      'linux-dhcp-dora.pcap',
      1,
      /0\.0\.0\.0\.68 > 255\.255\.255\.255\.67: DHCP \w+, xid 0x[0-9a-f]{8}, length 300$/,
    ],
    [
      'linux-dhcp-dora.pcap',
      2,
      /: DHCP \w+, xid 0x[0-9a-f]{8}, yiaddr 10\.77\.0\.\d+, length \d+$/,
    ],
    [
      'zeek-trunc-ip4-trunc.pcap',
      1,
      /ethertype IPv4 ipv4 \(version 4, ihl 5, .*, identification 1\) \[error E_TRUNCATED ipv4\.flags @20\]$/,
    ],
    [
      'synthetic-analyser.pcap',
      6,
      /IP 10\.0\.0\.1 > 10\.0\.0\.2: ip-proto-6 \(frag id 1, off 0, MF\), length 12 tcp \(srcPort 40000, dstPort 80, seq 1000, ack 0\)$/,
    ],
    [
      'synthetic-analyser.pcap',
      10,
      /Flags \[P\.\], seq 1000, ack 5, win 64240, length 100, IP total length 0 \(offloaded, 140\)$/,
    ],
    [
      'synthetic-analyser.pcap',
      12,
      /protocol type 0x809b \(4 bytes\), 02:00:00:00:00:01 00:ff:12:34 >/,
    ],
    [
      'zeek-wikipedia.pcap',
      2,
      / IP6 fe80::217:f2ff:fed7:cf65\.5353 > ff02::fb\.5353: UDP, length 151$/,
    ],
  ] as const)('%s #%d', (file, n, re) => {
    expect(text(file, n)).toMatch(re);
  });
});

describe('IGMP (specs/igmp.pkt): the layout by type, a v3 query by its length', () => {
  const NEXT = join(import.meta.dirname, '..', 'fixtures', 'next', 'pcap');
  const at = (file: string, n: number): CaptureRecord => {
    const rec = [...openCapture(readFileSync(join(NEXT, file)))][n - 1];
    decoder.decode(rec.bytes, rec.linkType, rec.origLen);
    return rec;
  };

  it('v1 and v2 messages show their group', () => {
    const rec = at('zeek-igmp-multicast-igmp-version-membership-query-and-report.pcap', 2);
    expect(frameToJSON(decoder, 2).layers.igmp).toEqual({
      type: igmp.IgmpType.V1MembershipReport,
      maxRespCode: 0,
      checksum: 65020,
      checksumValid: true,
      group: '239.1.1.1',
    });
    expect(frameToText(decoder, rec, rec.origLen)).toMatch(
      /IP 192\.168\.1\.101 > 239\.1\.1\.1: IGMP V1MembershipReport group 239\.1\.1\.1 max resp 0, length 8$/,
    );
    expect(json('tcpdump-IGMP_V2.pcap', 1).igmp).toMatchObject({ type: 0x11, maxRespCode: 100 });
  });

  it('a v3 report shows its group records, no group', () => {
    const rec = at('zeek-igmp-igmp.pcap', 1);
    expect(frameToJSON(decoder, 1).layers.igmp).toEqual({
      type: igmp.IgmpType.V3MembershipReport,
      checksum: 59907,
      checksumValid: true,
      numGroupRecords: 1,
      records: [
        {
          recordType: igmp.IgmpRecordType.ChangeToExcludeMode,
          auxDataLen: 0,
          numSources: 0,
          group: '239.255.255.250',
          sources: [],
        },
      ],
    });
    expect(frameToText(decoder, rec, rec.origLen)).toMatch(
      /IGMP v3 report, 1 group records \[ChangeToExcludeMode 239\.255\.255\.250 sources 0\], length 16$/,
    );
  });

  it('a query longer than 8 bytes is v3; one too short for the v3 fields is an error', () => {
    // the v2 query of tcpdump-IGMP_V2 #1 (60-byte frame, 20-byte IPv4 header), made a v3 query
    // with two sources: IPv4 total length 20 + 12 + 8, checksums refilled by the encoders
    const base = [...openCapture(readFileSync(join(PCAP, 'tcpdump-IGMP_V2.pcap')))][0].bytes;
    const bytes = new Uint8Array(14 + 20 + 20);
    bytes.set(base.subarray(0, 34));
    const ip = ipv4.decodeIpv4(base, 14, base.length - 14) as ipv4.Ipv4Fields;
    ipv4.encodeIpv4({ ...ip, totalLength: undefined, checksum: undefined }, bytes, 14, 20);
    const sources = [0x0a000001, 0x0a000002];
    const q = { type: igmp.IgmpType.MembershipQuery, maxRespCode: 100, group: 0, reserved: 0 };
    igmp.encodeIgmpv3Query({ ...q, s: 1, qrv: 2, qqic: 125, sources }, bytes, 34, 0);
    decoder.decode(bytes);
    expect(decoder.error).toBeNull();
    expect(frameToJSON(decoder, 1).layers.igmp).toEqual({
      type: 0x11,
      maxRespCode: 100,
      checksum: (bytes[36] << 8) | bytes[37],
      checksumValid: true,
      group: '0.0.0.0',
      s: 1,
      qrv: 2,
      qqic: 125,
      numSources: 2,
      sources: ['10.0.0.1', '10.0.0.2'],
    });
    expect(frameToText(decoder, { tsSec: 0, tsNanos: 0 }, bytes.length)).toMatch(
      /IGMP v3 query group 0\.0\.0\.0 max resp 100 qrv 2 qqic 125 sources 2 \[10\.0\.0\.1, 10\.0\.0\.2\], length 20$/,
    );
    // the same query claiming 3 sources runs past the message
    bytes[34 + 11] = 3;
    decoder.decode(bytes);
    expect(decoder.error).toMatchObject({ code: 'E_TRUNCATED', layer: 'igmp', field: 'sources' });
    // Shown in part: the v3 query's fields up to the cut.
    expect(decoder.partialLayer).toBe('igmp');
    expect(decoder.partialFields()).toMatchObject({ type: 0x11, qqic: 125, numSources: 3 });
  });
});

describe('text of tunnelled frames: the outer line, then what the tunnel carries, one level in', () => {
  const TUNNELS = join(import.meta.dirname, '..', 'fixtures', 'tunnels');
  const line = (file: string, n: number): string => {
    const rec = [...openCapture(readFileSync(join(TUNNELS, file)))][n - 1];
    decoder.decode(rec.bytes, rec.linkType, rec.origLen);
    return frameToText(decoder, rec, rec.origLen).replace(/^\S+ /, '');
  };

  it('VXLAN carrying ICMP and ARP', () => {
    expect(line('tcpdump-vxlan.pcap', 1)).toBe(
      'IP 192.168.203.1.45149 > 192.168.202.1.4789: VXLAN, vni 100: 00:16:3e:37:f6:04 > ' +
        '00:30:88:01:00:02, IP 192.168.203.3 > 192.168.203.5: ICMP echo request, id 1292, seq 1, length 64',
    );
    expect(line('tcpdump-vxlan.pcap', 2)).toBe(
      'IP 192.168.202.1.42710 > 192.168.203.1.4789: VXLAN, vni 100: 00:30:88:01:00:02 > ' +
        'ff:ff:ff:ff:ff:ff, ARP, Request who-has 192.168.203.3 tell 192.168.203.5, length 28',
    );
  });

  it('VXLAN in VXLAN in VXLAN, down to the DNS query', () => {
    expect(line('zeek-tunnels-vxlan-triple-v2.pcap', 1)).toBe(
      'IP 1.1.1.1.4789 > 1.1.1.9.4789: VXLAN, vni 1: c8:89:f3:ad:a3:33 > 7a:8a:20:f6:3c:b5, ' +
        'IP 2.2.2.2.4789 > 2.2.2.9.4789: VXLAN, vni 2: c8:89:f3:ad:a3:33 > 7a:8a:20:f6:3c:b5, ' +
        'IP 3.3.3.3.4789 > 3.3.3.9.4789: VXLAN, vni 3: c8:89:f3:ad:a3:33 > 7a:8a:20:f6:3c:b5, ' +
        'IP 4.4.4.4.53 > 4.4.4.9.53: DNS 0+ A? www.bbc.com (29)',
    );
  });
});

describe('MPLS: the label stack between Ethernet and what its first nibble names', () => {
  const NEXT = join(import.meta.dirname, '..', 'fixtures', 'next', 'pcap');
  const decoded = (file: string, n: number): CaptureRecord => {
    const rec = [...openCapture(readFileSync(join(NEXT, file)))][n - 1];
    decoder.decode(rec.bytes, rec.linkType, rec.origLen);
    return rec;
  };

  it("shows tcpdump's stack, then IPv4 or IPv6 at the same level", () => {
    const rec = decoded('zeek-mixed-vlan-mpls.pcap', 1);
    expect(frameToText(decoder, rec, rec.origLen).replace(/^\S+ /, '')).toBe(
      'MPLS (label 29, tc 6, [S], ttl 255) IP 10.1.2.1.11001 > 10.34.0.1.23: Flags [S], ' +
        'seq 2553417723, win 4128, options [mss 536], length 0',
    );
    const l = frameToJSON(decoder, 1).layers;
    expect(Object.keys(l)).toEqual(['ethernet', 'mpls', 'ipv4', 'tcp']);
    expect(l.mpls).toEqual({
      entries: [{ label: 29, tc: 6, s: 1, ttl: 255 }],
      payloadLength: 44,
    });
    decoded('zeek-trunc-mpls-6in6-6in6-4in6-trunc.pcap', 1);
    expect(Object.keys(frameToJSON(decoder, 1).layers)).toEqual([
      'ethernet',
      'mpls',
      'ipv6',
      'inner',
    ]);
  });

  it('a stack of several entries; one the frame ends inside is E_TRUNCATED at mpls.entries', () => {
    const rec = decoded('zeek-mixed-vlan-mpls.pcap', 1);
    // Two entries above the bottom one (label 16, tc 0; label 1000, tc 5), then the same IPv4.
    const stack = [0x00, 0x01, 0x00, 0x40, 0x00, 0x3e, 0x8a, 0x3f];
    const bytes = new Uint8Array([
      ...rec.bytes.subarray(0, 14),
      ...stack,
      ...rec.bytes.subarray(14),
    ]);
    decoder.decode(bytes);
    expect(frameToText(decoder, rec, bytes.length)).toContain(
      'MPLS (label 16, ttl 64), (label 1000, tc 5, ttl 63), (label 29, tc 6, [S], ttl 255) IP 10.1.2.1.11001',
    );
    // The bottom-of-stack bit cleared everywhere: the stack runs to the end of the frame.
    for (let at = 16; at < bytes.length; at += 4) bytes[at] &= 0xfe;
    decoder.decode(bytes);
    expect(frameToJSON(decoder, 1).error).toEqual({
      code: 'E_TRUNCATED',
      layer: 'mpls',
      field: 'entries',
      offset: 14,
    });
  });
});

describe('IPv6 carried by GRE and PPP (specs/gre.pkt, ppp.pkt), one level in', () => {
  // tcpdump-dhcpv6-ia-na #1's IPv6 datagram (a DHCPv6 Solicit), carried in GRE over the IPv4
  // header of tcpdump-IGMP_V2 #1 (protocol made GRE; total length and checksum refilled)
  const next = join(import.meta.dirname, '..', 'fixtures', 'next', 'pcap');
  const v6 = [...openCapture(readFileSync(join(next, 'tcpdump-dhcpv6-ia-na.pcap')))][0].bytes;
  const datagram = v6.subarray(14);
  const base = [...openCapture(readFileSync(join(PCAP, 'tcpdump-IGMP_V2.pcap')))][0].bytes;
  const ip = ipv4.decodeIpv4(base, 14, base.length - 14) as ipv4.Ipv4Fields;
  const greHead = {
    r: 0,
    strictSourceRoute: 0,
    recursion: 0,
    flags: 0,
    version: 0,
    protocolType: gre.GreProtocol.IPv6,
  };

  /** The frame with `headLength` bytes of tunnel headers, which `encode` writes at `at`. */
  function carried(headLength: number, encode: (out: Uint8Array, at: number) => void): Uint8Array {
    const bytes = new Uint8Array(14 + 20 + headLength + datagram.length);
    bytes.set(base.subarray(0, 14));
    const fields = { ...ip, protocol: IpProtocol.GRE, totalLength: undefined, checksum: undefined };
    ipv4.encodeIpv4(fields, bytes, 14, headLength + datagram.length);
    bytes.set(datagram, 34 + headLength);
    encode(bytes, 34);
    return bytes;
  }

  it('GRE with protocol type IPv6', () => {
    const bytes = carried(4, (out, at) => {
      expect(gre.encodeGre(greHead, out, at, datagram.length)).toBe(4);
    });
    const decoder = new CaptureDecoder();
    expect(decoder.decode(bytes)).toBe(true);
    expect(decoder.has('gre')).toBe(true);
    const inner = decoder.inner as CaptureDecoder;
    expect(['ipv6', 'udp', 'dhcpv6'].map((l) => inner.has(l as 'ipv6'))).toEqual([
      true,
      true,
      true,
    ]);
    expect(frameToJSON(decoder, 1).layers.inner).toMatchObject({
      ipv6: { nextHeader: IpProtocol.UDP },
      dhcpv6: { msgType: 1 },
    });
    const f = new generatedFrame.FrameDecoder();
    expect(f.decode(bytes)).toBeNull();
    expect((f.layers & generatedFrame.FrameLayer.gre) !== 0).toBe(true);
  });

  it('PPP in enhanced GRE (PPTP) with protocol IPv6', () => {
    const pptp = { ...greHead, version: 1, protocolType: gre.GreProtocol.PPP, keyCallId: 7 };
    const bytes = carried(12, (out, at) => {
      expect(gre.encodeGre(pptp, out, at, 4 + datagram.length)).toBe(8);
      const head = { address: 0xff, control: 3, protocol: ppp.PppProtocol.IPv6 };
      expect(ppp.encodePpp(head, out, at + 8)).toBe(4);
    });
    const decoder = new CaptureDecoder();
    expect(decoder.decode(bytes)).toBe(true);
    expect(decoder.has('ppp')).toBe(true);
    expect((decoder.inner as CaptureDecoder).has('dhcpv6')).toBe(true);
  });
});
