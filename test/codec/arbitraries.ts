/** fast-check arbitraries for every message's Fields (valid messages only). */
import fc from 'fast-check';
import { formatIpv6 } from '../../src/codec/address.js';
import { dhcp, ipv4, tcp } from '../../src/generated/index.js';
import type {
  arp,
  dns,
  ethernet,
  geneve,
  gre,
  icmp,
  mpls,
  pcap,
  ppp,
  udp,
  vlan,
  vxlan,
} from '../../src/generated/index.js';
import { igmp, lldp } from '../../src/generated/index.js';
import type { ipv6, ipv6frag } from '../../src/generated/index.js';
import { ipv6opts, ipv6route } from '../../src/generated/index.js';

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const bits = (n: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: 2 ** n - 1 });
export const mac = fc.integer({ min: 0, max: 2 ** 48 - 1 });
export const ipv4Address = u32;
export const payload = fc.uint8Array({ maxLength: 64 });

export const ethernetFields: fc.Arbitrary<ethernet.EthernetFields> = fc.record({
  dst: mac,
  src: mac,
  etherType: u16,
});

export const arpFields: fc.Arbitrary<arp.ArpFields> = fc.record({
  htype: u16,
  ptype: u16,
  hlen: fc.constant(6),
  plen: fc.constant(4),
  op: u16,
  sha: mac,
  spa: ipv4Address,
  tha: mac,
  tpa: ipv4Address,
});

export const vlanFields: fc.Arbitrary<vlan.VlanFields> = fc.record({
  pcp: bits(3),
  dei: bits(1),
  id: bits(12),
  etherType: u16,
});

const mplsEntry = (s: number): fc.Arbitrary<mpls.MplsFields['entries'][number]> =>
  fc.record({ label: bits(20), tc: bits(3), s: fc.constant(s), ttl: u8 });

/** A label stack of 1 to 4 entries, the last one (only) with the bottom-of-stack bit. */
export const mplsFields: fc.Arbitrary<mpls.MplsFields> = fc
  .tuple(fc.array(mplsEntry(0), { maxLength: 3 }), mplsEntry(1))
  .map(([above, bottom]) => ({ entries: [...above, bottom] }));

export const vxlanFields: fc.Arbitrary<vxlan.VxlanFields> = fc.record({
  flagsHigh: bits(4),
  vniValid: bits(1),
  flagsLow: bits(11),
  groupPolicyId: bits(16),
  vni: bits(24),
  reserved: bits(8),
});

/**
 * GRE headers of both versions with any mix of present words: the flags are given, so a word
 * is there exactly when its flag (and for PPTP's words, version 1) says. R is 0: the spec
 * refuses RFC 1701 source routing.
 */
export const greFields: fc.Arbitrary<gre.GreFields> = fc
  .record({
    c: bits(1),
    k: bits(1),
    s: bits(1),
    a: bits(1),
    version: fc.constantFrom(0, 1),
    strictSourceRoute: bits(1),
    recursion: bits(3),
    flags: bits(4),
    protocolType: u16,
    words: fc.record({
      checksum: u16,
      reserved1: u16,
      key: u32,
      keyPayloadLength: u16,
      keyCallId: u16,
      sequence: u32,
      ack: u32,
    }),
  })
  .map(({ words, ...h }) => {
    const v1 = h.version === 1;
    return {
      ...h,
      r: 0,
      ...(h.c === 1 ? { checksum: words.checksum, reserved1: words.reserved1 } : {}),
      ...(h.k === 1 && !v1 ? { key: words.key } : {}),
      ...(h.k === 1 && v1
        ? { keyPayloadLength: words.keyPayloadLength, keyCallId: words.keyCallId }
        : {}),
      ...(h.s === 1 ? { sequence: words.sequence } : {}),
      ...(h.a === 1 && v1 ? { ack: words.ack } : {}),
    };
  });

/** One Geneve option (RFC 8926 §3.5) as wire bytes: class, type, R bits, length, a body of words. */
export const geneveOption: fc.Arbitrary<Uint8Array> = fc
  .record({ optionClass: u16, type: u8, reserved: bits(3), words: fc.integer({ min: 0, max: 4 }) })
  .chain((h) =>
    fc.uint8Array({ minLength: 4 * h.words, maxLength: 4 * h.words }).map((body) => {
      const b = new Uint8Array(4 + body.length);
      b.set([h.optionClass >> 8, h.optionClass & 0xff, h.type, (h.reserved << 5) | h.words]);
      b.set(body, 4);
      return b;
    }),
  );

/** A Geneve options area: whole options, at most 63 words (the 6-bit length). */
export const geneveOptions: fc.Arbitrary<Uint8Array> = fc
  .array(geneveOption, { maxLength: 6 })
  .map((opts) => {
    const out = new Uint8Array(opts.reduce((n, o) => n + o.length, 0));
    let at = 0;
    for (const o of opts) {
      out.set(o, at);
      at += o.length;
    }
    return out;
  });

export const geneveFields: fc.Arbitrary<geneve.GeneveFields> = fc.record({
  version: fc.constant(0),
  oam: bits(1),
  critical: bits(1),
  reserved0: bits(6),
  protocolType: u16,
  vni: bits(24),
  reserved1: u8,
  options: geneveOptions,
});

const text = fc.uint8Array({ maxLength: 24 });

/** LLDP TLVs of every declared kind (and unknown ones, raw), as items. */
export const lldpTlvItem: fc.Arbitrary<lldp.LldpTlvsItem> = fc.oneof(
  fc.record({ kind: fc.constant('ChassisId' as const), subtype: u8, id: text }),
  fc.record({ kind: fc.constant('PortId' as const), subtype: u8, id: text }),
  fc.record({ kind: fc.constant('Ttl' as const), seconds: u16 }),
  fc.record({ kind: fc.constant('PortDescription' as const), text }),
  fc.record({ kind: fc.constant('SystemName' as const), text }),
  fc.record({ kind: fc.constant('SystemDescription' as const), text }),
  fc.record({ kind: fc.constant('SystemCapabilities' as const), capabilities: u16, enabled: u16 }),
  fc.record({
    kind: fc.constant('ManagementAddress' as const),
    addressLength: u8,
    addressSubtype: u8,
    more: text,
  }),
  fc.record({ kind: fc.constant('OrgSpecific' as const), oui: bits(24), subtype: u8, info: text }),
  // An unknown type (9..126) with a body of up to 300 bytes: the 9-bit length's high bit too.
  fc
    .record({ type: fc.integer({ min: 9, max: 126 }), body: fc.uint8Array({ maxLength: 300 }) })
    .map(({ type, body }) => {
      const bytes = new Uint8Array(2 + body.length);
      bytes[0] = (type << 1) | (body.length >> 8);
      bytes[1] = body.length & 0xff;
      bytes.set(body, 2);
      return { kind: 'raw' as const, bytes };
    }),
);

/** An LLDPDU's TLVs, End last. */
export const lldpTlvItems: fc.Arbitrary<lldp.LldpTlvsItem[]> = fc
  .array(lldpTlvItem, { maxLength: 8 })
  .map((items) => [...items, { kind: 'End' as const }]);

export const lldpFields: fc.Arbitrary<lldp.LldpFields> = lldpTlvItems.map((items) => {
  const out = new Uint8Array(4096);
  return { tlvs: out.slice(0, lldp.encodeLldpTlvs(items, out, 0)) };
});

export const pppFields: fc.Arbitrary<ppp.PppFields> = fc.record({
  address: fc.constant(0xff),
  control: fc.constant(0x03),
  protocol: u16,
});

/** ARP with any address sizes: the address fields are as long as hlen / plen say. */
export const arpAnySizeFields: fc.Arbitrary<arp.ArpAnySizeFields> = fc
  .record({ hlen: fc.integer({ min: 0, max: 20 }), plen: fc.integer({ min: 0, max: 20 }) })
  .chain(({ hlen, plen }) =>
    fc.record({
      htype: u16,
      ptype: u16,
      hlen: fc.constant(hlen),
      plen: fc.constant(plen),
      op: u16,
      sha: fc.uint8Array({ minLength: hlen, maxLength: hlen }),
      spa: fc.uint8Array({ minLength: plen, maxLength: plen }),
      tha: fc.uint8Array({ minLength: hlen, maxLength: hlen }),
      tpa: fc.uint8Array({ minLength: plen, maxLength: plen }),
    }),
  );

/** Either byte order's file header (PcapFile in either order). */
export const pcapFileFields: fc.Arbitrary<pcap.PcapFileFields> = fc.record({
  magic: fc.constantFrom(0xa1b2c3d4, 0xa1b23c4d), // PcapMagic: microseconds, nanoseconds
  versionMajor: fc.constant(2),
  versionMinor: u16,
  thiszone: u32,
  sigfigs: u32,
  snaplen: u32,
  linkTypeWord: u32,
});

export const pcapRecordFields: fc.Arbitrary<pcap.PcapRecordFields> = fc.record({
  tsSec: u32,
  tsFraction: u32,
  origLen: u32,
});

/** A kind-length-value option list (no EOL inside), padded with EOL to a multiple of 4. */
/** Kinds no Ipv4Options element declares: raw items. */
const IPV4_DECLARED = new Set<number>(Object.values(ipv4.Ipv4OptionType));

export const ipv4Option: fc.Arbitrary<ipv4.Ipv4OptionsItem> = fc.oneof(
  fc.constant({ kind: 'NOP' as const }),
  fc
    .tuple(u8, fc.array(ipv4Address, { maxLength: 3 }))
    .map(([pointer, route]) => ({ kind: 'RecordRoute' as const, pointer, route })),
  fc
    .tuple(u8, bits(4), bits(4), fc.array(u32, { maxLength: 3 }))
    .map(([pointer, overflow, flag, data]) => ({
      kind: 'Timestamp' as const,
      pointer,
      overflow,
      flag,
      data,
    })),
  u16.map((value) => ({ kind: 'RouterAlert' as const, value })),
  fc
    .tuple(
      fc.integer({ min: 2, max: 255 }).filter((k) => !IPV4_DECLARED.has(k)),
      fc.uint8Array({ maxLength: 10 }),
    )
    .map(([kind, data]) => ({
      kind: 'raw' as const,
      bytes: Uint8Array.from([kind, data.length + 2, ...data]),
    })),
);

/** IPv4 option lists that fit in 40 bytes, with their encoded bytes. */
export const ipv4Options: fc.Arbitrary<{ list: ipv4.Ipv4OptionsItem[]; bytes: Uint8Array }> = fc
  .array(ipv4Option, { maxLength: 5 })
  .map((list) => {
    const out = new Uint8Array(40);
    const n = ipv4.encodeIpv4Options(list, out, 0);
    return { list, bytes: n < 0 ? new Uint8Array(0) : out.slice(0, n), fits: n >= 0 };
  })
  .filter((x) => x.fits)
  .map(({ list, bytes }) => ({ list, bytes }));

export const ipv4Fields: fc.Arbitrary<ipv4.Ipv4Fields> = fc.record({
  version: fc.constant(4),
  dscp: bits(6),
  ecn: bits(2),
  identification: u16,
  flags: bits(3),
  fragmentOffset: bits(13),
  ttl: u8,
  protocol: u8,
  src: ipv4Address,
  dst: ipv4Address,
  options: ipv4Options.map((o) => o.bytes),
});

export const icmpFields: fc.Arbitrary<icmp.IcmpFields> = fc.record({
  type: u8,
  code: u8,
  identifier: u16,
  sequence: u16,
});

export const igmpFields: fc.Arbitrary<igmp.IgmpFields> = fc.record({
  type: u8,
  maxRespCode: u8,
  group: ipv4Address,
});

/** Up to `max` IPv4 addresses (an IGMPv3 source list). */
const addressList = (max: number): fc.Arbitrary<number[]> =>
  fc.array(ipv4Address, { maxLength: max });

/** `n` 32-bit words of bytes (IGMPv3 auxiliary data). */
const wordBytes = (max: number): fc.Arbitrary<Uint8Array> =>
  fc.nat(max).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n }));

export const igmpv3QueryFields: fc.Arbitrary<igmp.Igmpv3QueryFields> = fc
  .record({
    maxRespCode: u8,
    group: ipv4Address,
    reserved: bits(4),
    s: bits(1),
    qrv: bits(3),
    qqic: u8,
    sources: addressList(8),
  })
  .map((f) => ({ ...f, type: igmp.IgmpType.MembershipQuery }));

export const igmpv3GroupRecordFields: fc.Arbitrary<igmp.Igmpv3GroupRecordFields> = fc.record({
  recordType: u8,
  group: ipv4Address,
  sources: addressList(8),
  auxData: wordBytes(4),
});

export const igmpv3ReportFields: fc.Arbitrary<igmp.Igmpv3ReportFields> = fc
  .record({
    reserved1: u8,
    reserved2: u16,
    records: fc.array(igmpv3GroupRecordFields, { maxLength: 4 }),
  })
  .map((f) => ({ ...f, type: igmp.IgmpType.V3MembershipReport }));
/** An IPv6 address as RFC 5952 text (what Fields and toJSON() hold). */
export const ipv6Address: fc.Arbitrary<string> = fc
  .oneof(
    fc.uint8Array({ minLength: 16, maxLength: 16 }),
    // runs of zero groups, so `::` is exercised
    fc
      .tuple(fc.nat(15), fc.nat(16))
      .chain(([from, n]) =>
        fc
          .uint8Array({ minLength: 16, maxLength: 16 })
          .map((b) => b.fill(0, from, Math.min(16, from + n))),
      ),
  )
  .map((b) => formatIpv6(b, 0));

export const ipv6Fields: fc.Arbitrary<ipv6.Ipv6Fields> = fc.record({
  version: fc.constant(6),
  trafficClass: u8,
  flowLabel: bits(20),
  nextHeader: u8,
  hopLimit: u8,
  src: ipv6Address,
  dst: ipv6Address,
});

/** A jumbogram's header (RFC 2675): payload length 0, hop-by-hop options next. */
export const ipv6JumboFields: fc.Arbitrary<ipv6.Ipv6JumboFields> = fc
  .record({
    trafficClass: u8,
    flowLabel: bits(20),
    hopLimit: u8,
    src: ipv6Address,
    dst: ipv6Address,
  })
  .map((f) => ({ ...f, version: 6, payloadLen: 0, nextHeader: 0 }));

/** Items of a list, encoded, then zero bytes (padding elements) up to `pad(n)` bytes. */
function encodedList<T>(
  items: fc.Arbitrary<T[]>,
  encode: (list: T[], out: Uint8Array, offset: number) => number,
  pad: (n: number) => number,
): fc.Arbitrary<{ list: T[]; bytes: Uint8Array }> {
  return items
    .map((list) => {
      const out = new Uint8Array(512);
      const n = encode(list, out, 0);
      return { list, bytes: n < 0 ? new Uint8Array(0) : out.slice(0, pad(n)), fits: n >= 0 };
    })
    .filter((x) => x.fits)
    .map(({ list, bytes }) => ({ list, bytes }));
}

/** Option types no Ipv6Options element declares: raw items. */
const IPV6_OPTION_DECLARED = new Set<number>(Object.values(ipv6opts.Ipv6OptionType));

export const ipv6Option: fc.Arbitrary<ipv6opts.Ipv6OptionsItem> = fc.oneof(
  fc.constant({ kind: 'Pad1' as const }),
  fc.uint8Array({ maxLength: 6 }).map((padding) => ({ kind: 'PadN' as const, padding })),
  u16.map((value) => ({ kind: 'RouterAlert' as const, value })),
  u32.map((jumboLength) => ({ kind: 'JumboPayload' as const, jumboLength })),
  ipv6Address.map((address) => ({ kind: 'HomeAddress' as const, address })),
  fc
    .tuple(u8, fc.uint8Array({ maxLength: 8 }))
    .filter(([t]) => !IPV6_OPTION_DECLARED.has(t))
    .map(([t, data]) => ({ kind: 'raw' as const, bytes: Uint8Array.of(t, data.length, ...data) })),
);

/** An option list that fills a whole header: 2 + its length is a multiple of 8 (Pad1s after). */
export const ipv6Options = encodedList(
  fc.array(ipv6Option, { maxLength: 5 }),
  ipv6opts.encodeIpv6Options,
  (n) => n + ((14 - (n % 8)) % 8),
);

export const ipv6OptionsHeaderFields: fc.Arbitrary<ipv6opts.Ipv6OptionsHeaderFields> = fc.record({
  nextHeader: u8,
  options: ipv6Options.map((o) => o.bytes),
});

export const ipv6FragmentFields: fc.Arbitrary<ipv6frag.Ipv6FragmentFields> = fc.record({
  nextHeader: u8,
  reserved: u8,
  fragmentOffset: bits(13),
  reserved2: bits(2),
  more: bits(1),
  identification: u32,
});

/** Type-specific data of a routing header: 4 bytes, then 8-byte units. */
export const ipv6RoutingFields: fc.Arbitrary<ipv6route.Ipv6RoutingFields> = fc.record({
  nextHeader: u8,
  routingType: u8,
  segmentsLeft: u8,
  data: fc.nat(6).chain((n) => fc.uint8Array({ minLength: 4 + 8 * n, maxLength: 4 + 8 * n })),
});

export const ipv6SourceRouteFields: fc.Arbitrary<ipv6route.Ipv6SourceRouteFields> = fc.record({
  nextHeader: u8,
  routingType: fc.constant(ipv6route.Ipv6RoutingType.SourceRoute),
  segmentsLeft: u8,
  reserved: u32,
  addresses: fc.array(ipv6Address, { maxLength: 4 }),
});

export const ipv6HomeAddressRouteFields: fc.Arbitrary<ipv6route.Ipv6HomeAddressRouteFields> =
  fc.record({
    nextHeader: u8,
    routingType: fc.constant(ipv6route.Ipv6RoutingType.HomeAddress),
    segmentsLeft: u8,
    reserved: u32,
    homeAddress: ipv6Address,
  });

const SRH_TLV_DECLARED = new Set<number>(Object.values(ipv6route.SrhTlvType));

export const srhTlv: fc.Arbitrary<ipv6route.SrhTlvsItem> = fc.oneof(
  fc.constant({ kind: 'Pad1' as const }),
  fc.uint8Array({ maxLength: 5 }).map((padding) => ({ kind: 'PadN' as const, padding })),
  fc
    .record({ d: bits(1), reserved: bits(15), keyId: u32, hmac: fc.uint8Array({ maxLength: 32 }) })
    .map((h) => ({ kind: 'Hmac' as const, ...h })),
  fc
    .tuple(u8, fc.uint8Array({ maxLength: 8 }))
    .filter(([t]) => !SRH_TLV_DECLARED.has(t))
    .map(([t, data]) => ({ kind: 'raw' as const, bytes: Uint8Array.of(t, data.length, ...data) })),
);

/** SRH TLVs filling whole 8-octet units (Pad1s after). */
export const srhTlvs = encodedList(
  fc.array(srhTlv, { maxLength: 4 }),
  ipv6route.encodeSrhTlvs,
  (n) => n + ((8 - (n % 8)) % 8),
);

export const ipv6SegmentRoutingFields: fc.Arbitrary<ipv6route.Ipv6SegmentRoutingFields> = fc
  .record({
    nextHeader: u8,
    segmentsLeft: u8,
    flags: u8,
    tag: u16,
    segments: fc.array(ipv6Address, { minLength: 1, maxLength: 4 }),
    tlvs: srhTlvs.map((t) => t.bytes),
  })
  .map((f) => ({
    ...f,
    routingType: ipv6route.Ipv6RoutingType.SegmentRouting,
    lastEntry: f.segments.length - 1,
  }));

export const udpFields: fc.Arbitrary<udp.UdpFields> = fc.record({
  srcPort: u16,
  dstPort: u16,
});

/** Kinds no TcpOptions element declares: raw items. */
const TCP_DECLARED = new Set<number>(Object.values(tcp.TcpOptionKind));

export const tcpOption: fc.Arbitrary<tcp.TcpOptionsItem> = fc.oneof(
  u16.map((value) => ({ kind: 'MSS' as const, value })),
  fc.integer({ min: 0, max: 14 }).map((shift) => ({ kind: 'WindowScale' as const, shift })),
  fc.constant({ kind: 'SackPermitted' as const }),
  fc
    .array(fc.record({ left: u32, right: u32 }), { minLength: 1, maxLength: 4 })
    .map((blocks) => ({ kind: 'Sack' as const, blocks })),
  fc.tuple(u32, u32).map(([tsval, tsecr]) => ({ kind: 'Timestamps' as const, tsval, tsecr })),
  fc.constant({ kind: 'NOP' as const }),
  fc
    .tuple(
      fc.integer({ min: 2, max: 255 }).filter((k) => !TCP_DECLARED.has(k)),
      fc.uint8Array({ maxLength: 6 }),
    )
    .map(([kind, data]) => ({
      kind: 'raw' as const,
      bytes: Uint8Array.from([kind, data.length + 2, ...data]),
    })),
);

/** TCP option lists that fit in 40 bytes, with their encoded bytes. */
export const tcpOptions: fc.Arbitrary<{ list: tcp.TcpOptionsItem[]; bytes: Uint8Array }> = fc
  .array(tcpOption, { maxLength: 5 })
  .map((list) => {
    const out = new Uint8Array(40);
    const n = tcp.encodeTcpOptions(list, out, 0);
    return { list, bytes: n < 0 ? new Uint8Array(0) : out.slice(0, n), fits: n >= 0 };
  })
  .filter((x) => x.fits)
  .map(({ list, bytes }) => ({ list, bytes }));

export const tcpFields: fc.Arbitrary<tcp.TcpFields> = fc.record({
  srcPort: u16,
  dstPort: u16,
  seq: u32,
  ack: u32,
  flags: bits(12),
  window: u16,
  urgentPointer: u16,
  options: tcpOptions.map((o) => o.bytes),
});

/** Codes no DhcpOptions element declares: raw items. */
const DHCP_DECLARED = new Set<number>(Object.values(dhcp.DhcpOption));
const dhcpBytes = fc.uint8Array({ maxLength: 12 });
const dhcpAddresses = fc.array(ipv4Address, { maxLength: 3 });

/** DHCP options (no Overload: file and sname hold arbitrary bytes), as items. */
export const dhcpOption: fc.Arbitrary<dhcp.DhcpOptionsItem> = fc.oneof(
  ipv4Address.map((mask) => ({ kind: 'SubnetMask' as const, mask })),
  dhcpAddresses.map((addresses) => ({ kind: 'Router' as const, addresses })),
  dhcpAddresses.map((addresses) => ({ kind: 'DomainNameServer' as const, addresses })),
  dhcpBytes.map((name) => ({ kind: 'HostName' as const, name })),
  dhcpBytes.map((name) => ({ kind: 'DomainName' as const, name })),
  ipv4Address.map((address) => ({ kind: 'BroadcastAddress' as const, address })),
  ipv4Address.map((address) => ({ kind: 'RequestedIpAddress' as const, address })),
  u32.map((seconds) => ({ kind: 'LeaseTime' as const, seconds })),
  u8.map((type) => ({ kind: 'MessageType' as const, type })),
  ipv4Address.map((address) => ({ kind: 'ServerIdentifier' as const, address })),
  dhcpBytes.map((codes) => ({ kind: 'ParameterRequestList' as const, codes })),
  dhcpBytes.map((text) => ({ kind: 'Message' as const, text })),
  u16.map((size) => ({ kind: 'MaxMessageSize' as const, size })),
  u32.map((seconds) => ({ kind: 'RenewalTime' as const, seconds })),
  u32.map((seconds) => ({ kind: 'RebindingTime' as const, seconds })),
  fc.tuple(u8, dhcpBytes).map(([type, id]) => ({ kind: 'ClientIdentifier' as const, type, id })),
  fc.constant({ kind: 'Pad' as const }),
  fc
    .tuple(
      fc.integer({ min: 1, max: 254 }).filter((c) => !DHCP_DECLARED.has(c)),
      dhcpBytes,
    )
    .map(([code, data]) => ({
      kind: 'raw' as const,
      bytes: Uint8Array.from([code, data.length, ...data]),
    })),
);

/** DHCP option lists: items, End, then pads, with their encoded bytes. */
export const dhcpOptions: fc.Arbitrary<{ list: dhcp.DhcpOptionsItem[]; bytes: Uint8Array }> = fc
  .tuple(fc.array(dhcpOption, { maxLength: 6 }), fc.integer({ min: 0, max: 5 }))
  .map(([items, pads]) => {
    const list: dhcp.DhcpOptionsItem[] = [...items, { kind: 'End' }];
    const out = new Uint8Array(6 * 20 + 1);
    const n = dhcp.encodeDhcpOptions(list, out, 0);
    if (pads > 0) list.push({ kind: 'raw', bytes: new Uint8Array(pads) });
    return { list, bytes: out.slice(0, n + pads) };
  });

/** An Ethernet client's chaddr: the MAC and 10 bytes of padding. */
export const dhcpEthernetChaddrFields: fc.Arbitrary<dhcp.DhcpEthernetChaddrFields> = fc.record({
  mac: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
  padding: fc.uint8Array({ minLength: 10, maxLength: 10 }),
});

export const dhcpFields: fc.Arbitrary<dhcp.DhcpFields> = fc.record({
  op: u8,
  htype: u8,
  hlen: u8,
  hops: u8,
  xid: u32,
  secs: u16,
  flags: u16,
  ciaddr: ipv4Address,
  yiaddr: ipv4Address,
  siaddr: ipv4Address,
  giaddr: ipv4Address,
  chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  sname: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  file: fc.uint8Array({ minLength: 128, maxLength: 128 }),
  magic: fc.constant(0x63825363),
  options: dhcpOptions.map((o) => o.bytes),
});

const label = fc.stringMatching(/^[a-zA-Z0-9-]{1,12}$/);
/** Names from a small pool of labels, so compression has suffixes to share. */
export const dnsName = fc
  .array(fc.oneof(label, fc.constantFrom('example', 'com', 'fx', 'test')), { maxLength: 4 })
  .map((labels) => labels.join('.'));

/** Record types: common ones and any other (RDATA is kept as bytes; its messages are tested apart). */
const recordType = fc.oneof(fc.constantFrom(1, 2, 5, 6, 12, 15, 16, 28, 33, 35, 41), u16);

export const dnsQuestion: fc.Arbitrary<dns.DnsQuestionFields> = fc.record({
  name: dnsName,
  type: u16,
  class: u16,
});

export const dnsRecord: fc.Arbitrary<dns.DnsRecordFields> = fc.record({
  name: dnsName,
  type: recordType,
  class: u16,
  ttl: u32,
  rdata: fc.uint8Array({ maxLength: 20 }),
});

export const dnsFields: fc.Arbitrary<dns.DnsFields> = fc.record({
  id: u16,
  qr: bits(1),
  opcode: bits(4),
  aa: bits(1),
  tc: bits(1),
  rd: bits(1),
  ra: bits(1),
  z: bits(3),
  rcode: bits(4),
  questions: fc.array(dnsQuestion, { maxLength: 3 }),
  answers: fc.array(dnsRecord, { maxLength: 3 }),
  authority: fc.array(dnsRecord, { maxLength: 2 }),
  additional: fc.array(dnsRecord, { maxLength: 2 }),
});

/** RDATA values of the record-data messages (names uncompressed, as their encoders write). */
export const dnsAFields: fc.Arbitrary<dns.DnsAFields> = fc.record({ address: ipv4Address });
export const dnsAaaaFields: fc.Arbitrary<dns.DnsAaaaFields> = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((b) => ({ address: formatIpv6(b, 0) }));
/** A character-string (RFC 1035 §3.3): up to 255 bytes. */
export const dnsCharacterStringFields: fc.Arbitrary<dns.DnsCharacterStringFields> = fc.record({
  data: fc.uint8Array({ maxLength: 40 }),
});
export const dnsTxtFields: fc.Arbitrary<dns.DnsTxtFields> = fc.record({
  strings: fc.array(dnsCharacterStringFields, { minLength: 1, maxLength: 4 }),
});
export const dnsNaptrFields: fc.Arbitrary<dns.DnsNaptrFields> = fc.record({
  order: u16,
  preference: u16,
  flags: dnsCharacterStringFields,
  services: dnsCharacterStringFields,
  regexp: dnsCharacterStringFields,
  replacement: dnsName,
});
export const dnsTargetFields: fc.Arbitrary<dns.DnsTargetFields> = fc.record({ target: dnsName });
export const dnsMxFields: fc.Arbitrary<dns.DnsMxFields> = fc.record({
  preference: u16,
  exchange: dnsName,
});
export const dnsSoaFields: fc.Arbitrary<dns.DnsSoaFields> = fc.record({
  mname: dnsName,
  rname: dnsName,
  serial: u32,
  refresh: u32,
  retry: u32,
  expire: u32,
  minimum: u32,
});
export const dnsSrvFields: fc.Arbitrary<dns.DnsSrvFields> = fc.record({
  priority: u16,
  weight: u16,
  port: u16,
  target: dnsName,
});
