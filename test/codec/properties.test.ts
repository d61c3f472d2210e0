/**
 * decode(encode(x)) equals x for every message type, with the derived fields (lengths, data
 * offset, counts, checksums) computed by the encoder and checked to verify.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecodeError, isDecodeError } from '../../src/codec/errors.js';
import {
  arp,
  dhcp,
  dns,
  ethernet,
  geneve,
  gre,
  mpls,
  icmp,
  igmp,
  ipv4,
  lldp,
  ipv6,
  ipv6frag,
  ipv6opts,
  ipv6route,
  pcap,
  ppp,
  tcp,
  udp,
  vlan,
  vxlan,
} from '../../src/generated/index.js';
import {
  arpAnySizeFields,
  arpFields,
  dhcpEthernetChaddrFields,
  dnsAFields,
  dnsAaaaFields,
  dnsMxFields,
  dnsSoaFields,
  dnsSrvFields,
  dnsTargetFields,
  dnsTxtFields,
  dnsNaptrFields,
  dhcpFields,
  dnsFields,
  ethernetFields,
  geneveFields,
  geneveOptions,
  greFields,
  icmpFields,
  igmpFields,
  igmpv3GroupRecordFields,
  igmpv3QueryFields,
  igmpv3ReportFields,
  ipv4Address,
  ipv4Fields,
  ipv4Options,
  lldpFields,
  lldpTlvItems,
  ipv6Fields,
  ipv6FragmentFields,
  ipv6HomeAddressRouteFields,
  ipv6JumboFields,
  ipv6Options,
  ipv6OptionsHeaderFields,
  ipv6RoutingFields,
  ipv6SegmentRoutingFields,
  ipv6SourceRouteFields,
  srhTlvs,
  payload,
  pcapFileFields,
  pcapRecordFields,
  pppFields,
  tcpFields,
  tcpOptions,
  udpFields,
  vlanFields,
  mplsFields,
  vxlanFields,
} from './arbitraries.js';

const RUNS = { numRuns: 300 };

function decoded<T>(value: T | DecodeError): T {
  if (isDecodeError(value)) throw new Error(`decode failed: ${JSON.stringify(value)}`);
  return value as T;
}

/** Header at `at`, payload right after it: the layout the checksummed encoders expect. */
function withPayload(headerLength: number, body: Uint8Array, at = 3): Uint8Array {
  const out = new Uint8Array(at + headerLength + body.length + 5);
  out.set(body, at + headerLength);
  return out;
}

/** An IPv4 header around the options under test. */
const base4: ipv4.Ipv4Fields = {
  version: 4,
  dscp: 0,
  ecn: 0,
  identification: 1,
  flags: 0,
  fragmentOffset: 0,
  ttl: 64,
  protocol: 17,
  src: 0x0a000001,
  dst: 0x0a000002,
  options: new Uint8Array(0),
};

/** Bytes one TCP option item takes on the wire. */
function itemSize(o: tcp.TcpOptionsItem): number {
  switch (o.kind) {
    case 'EOL':
    case 'NOP':
      return 1;
    case 'MSS':
      return 4;
    case 'WindowScale':
      return 3;
    case 'SackPermitted':
      return 2;
    case 'Sack':
      return 2 + 8 * o.blocks.length;
    case 'Timestamps':
      return 10;
    case 'raw':
      return o.bytes.length;
  }
}

describe('decode(encode(x)) = x', () => {
  it('ethernet', () => {
    fc.assert(
      fc.property(ethernetFields, (f) => {
        const out = new Uint8Array(20);
        expect(ethernet.encodeEthernet(f, out, 2)).toBe(14);
        expect(decoded(ethernet.decodeEthernet(out, 2, 14))).toEqual(f);
      }),
      RUNS,
    );
  });

  it('arp', () => {
    fc.assert(
      fc.property(arpFields, (f) => {
        const out = new Uint8Array(28);
        expect(arp.encodeArp(f, out, 0)).toBe(28);
        expect(decoded(arp.decodeArp(out))).toEqual(f);
      }),
      RUNS,
    );
  });

  it('vlan', () => {
    fc.assert(
      fc.property(vlanFields, (f) => {
        const out = new Uint8Array(6);
        expect(vlan.encodeVlan(f, out, 1)).toBe(4);
        expect(decoded(vlan.decodeVlan(out, 1, 4))).toEqual(f);
      }),
      RUNS,
    );
  });

  it('vxlan', () => {
    fc.assert(
      fc.property(vxlanFields, (f) => {
        const out = new Uint8Array(10);
        expect(vxlan.encodeVxlan(f, out, 1)).toBe(8);
        expect(decoded(vxlan.decodeVxlan(out, 1, 8))).toEqual(f);
      }),
      RUNS,
    );
  });

  it('mpls', () => {
    fc.assert(
      fc.property(mplsFields, payload, (f, body) => {
        const out = new Uint8Array(1 + 16 + body.length);
        const n = mpls.encodeMpls(f, out, 1);
        expect(n).toBe(mpls.mplsHeaderLength(f));
        out.set(body, 1 + n);
        expect(decoded(mpls.decodeMpls(out, 1))).toEqual(f);
        const v = new mpls.MplsView();
        expect(v.wrap(out, 1, n + body.length)).toBeNull();
        expect([v.entriesCount, v.payloadOffset, v.payloadLength]).toEqual([
          f.entries.length,
          1 + n,
          body.length,
        ]);
      }),
      RUNS,
    );
  });

  it('gre', () => {
    fc.assert(
      fc.property(greFields, (f) => {
        const out = new Uint8Array(26);
        const n = gre.encodeGre(f, out, 1, 0);
        expect(n).toBe(gre.greHeaderLength(f));
        expect(decoded(gre.decodeGre(out, 1, n))).toEqual(f);
      }),
      RUNS,
    );
  });

  it('geneve (option length derived; options read back by the cursor)', () => {
    fc.assert(
      fc.property(geneveFields, (f) => {
        const size = 8 + f.options.length;
        const out = new Uint8Array(size + 2);
        expect(geneve.encodeGeneve(f, out, 2)).toBe(size);
        expect(decoded(geneve.decodeGeneve(out, 2, size))).toEqual({
          ...f,
          optLen: f.options.length / 4,
        });
        const v = new geneve.GeneveView();
        expect(v.wrap(out, 2, size)).toBeNull();
        const c = v.options();
        let seen = 0;
        while (c.next()) seen += c.length;
        expect([c.error, seen]).toEqual([null, f.options.length]);
      }),
      RUNS,
    );
  });

  it('geneve options: any area wrap() accepts decodes to items that encode to the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(geneveOptions, fc.uint8Array({ maxLength: 40 })), (b) => {
        fc.pre(geneve.validateGeneveOptions(b, 0, b.length) < 0);
        const items = geneve.decodeGeneveOptions(b, 0, b.length);
        const out = new Uint8Array(b.length);
        expect(geneve.encodeGeneveOptions(items, out, 0)).toBe(b.length);
        expect(out).toEqual(b);
      }),
      { seed: 6081, numRuns: 1000 },
    );
  });

  it('lldp (the TLV list up to End, then padding)', () => {
    fc.assert(
      fc.property(lldpFields, fc.uint8Array({ maxLength: 8 }), (f, pad) => {
        const size = f.tlvs.length;
        const out = new Uint8Array(size + pad.length + 1);
        expect(lldp.encodeLldp(f, out, 1)).toBe(size);
        out.set(pad, 1 + size);
        const v = new lldp.LldpView();
        expect(v.wrap(out, 1)).toBeNull();
        expect([v.headerLength, v.payloadLength]).toEqual([size, pad.length]);
        expect(decoded(lldp.decodeLldp(out, 1, size))).toEqual(f);
      }),
      RUNS,
    );
  });

  it('lldp TLVs: items encode (7-bit type, 9-bit length) and decode back to the same items', () => {
    fc.assert(
      fc.property(lldpTlvItems, (items) => {
        const out = new Uint8Array(4096);
        const n = lldp.encodeLldpTlvs(items, out, 0);
        expect(n).toBeGreaterThan(0);
        expect(lldp.decodeLldpTlvs(out, 0, n)).toEqual(items);
      }),
      RUNS,
    );
  });

  it('ppp', () => {
    fc.assert(
      fc.property(pppFields, (f) => {
        const out = new Uint8Array(6);
        expect(ppp.encodePpp(f, out, 1)).toBe(4);
        expect(decoded(ppp.decodePpp(out, 1, 4))).toEqual(f);
      }),
      RUNS,
    );
  });

  it('arp of any address size', () => {
    fc.assert(
      fc.property(arpAnySizeFields, (f) => {
        const size = 8 + 2 * f.hlen + 2 * f.plen;
        const out = new Uint8Array(size + 3);
        expect(arp.encodeArpAnySize(f, out, 3)).toBe(size);
        expect(decoded(arp.decodeArpAnySize(out, 3, size))).toEqual(f);
      }),
      RUNS,
    );
  });

  it('pcap file header, in both byte orders', () => {
    fc.assert(
      fc.property(pcapFileFields, (f) => {
        const le = new Uint8Array(24);
        const be = new Uint8Array(24);
        expect(pcap.encodePcapFile(f, le, 0, true)).toBe(24);
        expect(pcap.encodePcapFile(f, be, 0, false)).toBe(24);
        expect(decoded(pcap.decodePcapFile(le, 0, 24, true))).toEqual(f);
        expect(decoded(pcap.decodePcapFile(be, 0, 24, false))).toEqual(f);
        // The same fields, each one's bytes reversed.
        expect([...le.subarray(0, 4)].reverse()).toEqual([...be.subarray(0, 4)]);
        expect([...le.subarray(4, 6)].reverse()).toEqual([...be.subarray(4, 6)]);
      }),
      RUNS,
    );
  });

  it('pcap record (inclLen derived), in both byte orders', () => {
    fc.assert(
      fc.property(pcapRecordFields, payload, (f, body) => {
        const le = withPayload(16, body);
        expect(pcap.encodePcapRecord(f, le, 3, body.length, true)).toBe(16);
        expect(decoded(pcap.decodePcapRecord(le, 3, 16 + body.length, true))).toEqual({
          ...f,
          inclLen: body.length,
        });
        const be = withPayload(16, body);
        expect(pcap.encodePcapRecord(f, be, 3, body.length, false)).toBe(16);
        expect(decoded(pcap.decodePcapRecord(be, 3, 16 + body.length, false))).toEqual({
          ...f,
          inclLen: body.length,
        });
      }),
      RUNS,
    );
  });

  it('ipv4 (ihl, totalLength, checksum derived)', () => {
    fc.assert(
      fc.property(ipv4Fields, payload, (f, body) => {
        const hl = ipv4.ipv4HeaderLength(f);
        const out = withPayload(hl, body);
        expect(ipv4.encodeIpv4(f, out, 3, body.length)).toBe(hl);
        const view = new ipv4.Ipv4View();
        expect(view.wrap(out, 3, hl + body.length)).toBeNull();
        expect(view.checksumValid).toBe(true);
        expect(view.payloadLength).toBe(body.length);
        const got = decoded(ipv4.decodeIpv4(out, 3, hl + body.length));
        expect(got).toEqual({
          ...f,
          ihl: hl / 4,
          totalLength: hl + body.length,
          checksum: got.checksum,
        });
        // Giving the derived values back reproduces the same bytes.
        const again = withPayload(hl, body);
        ipv4.encodeIpv4(got, again, 3, body.length);
        expect(again).toEqual(out);
      }),
      RUNS,
    );
  });

  it('ipv6 (payload length derived; addresses as RFC 5952 text)', () => {
    fc.assert(
      fc.property(ipv6Fields, payload, (f, body) => {
        const out = withPayload(40, body);
        expect(ipv6.encodeIpv6(f, out, 3, body.length)).toBe(40);
        const view = new ipv6.Ipv6View();
        expect(view.wrap(out, 3, 40 + body.length + 5)).toBeNull();
        expect(view.payloadLength).toBe(body.length);
        expect(view.payloadLen).toBe(body.length);
        const got = decoded(ipv6.decodeIpv6(out, 3, 40 + body.length));
        expect(got).toEqual({ ...f, payloadLen: body.length });
        expect(ipv6.encodeIpv6(got, new Uint8Array(40), 0, body.length)).toBe(40);
      }),
      RUNS,
    );
  });

  it('ipv6 jumbogram header (the payload is the rest of the bytes)', () => {
    fc.assert(
      fc.property(ipv6JumboFields, payload, (f, body) => {
        const out = withPayload(40, body, 0).subarray(0, 40 + body.length);
        expect(ipv6.encodeIpv6Jumbo(f, out, 0)).toBe(40);
        const view = new ipv6.Ipv6JumboView();
        expect(view.wrap(out)).toBeNull();
        expect(view.payloadLength).toBe(body.length);
        expect(decoded(ipv6.decodeIpv6Jumbo(out, 0, out.length))).toEqual(f);
        // The plain view reads the same header with an empty payload.
        expect(new ipv6.Ipv6View().wrap(out)).toBeNull();
      }),
      RUNS,
    );
  });

  /** encode(f) then decode() gives f back (with `derived` filled in); wrap() accepts it. */
  function roundTrip<F extends object>(
    fields: fc.Arbitrary<F>,
    encode: (f: F, out: Uint8Array, offset: number, payloadLength: number) => number,
    decode: (b: Uint8Array, o: number, l: number) => unknown,
    View: new () => { wrap(b: Uint8Array, o: number, l: number): unknown; payloadLength: number },
    derived: (f: F, got: Record<string, unknown>) => object,
  ): void {
    fc.assert(
      fc.property(fields, payload, (f, body) => {
        const out = new Uint8Array(600);
        const n = encode(f, out, 3, body.length);
        expect(n).toBeGreaterThan(0);
        out.set(body, 3 + n);
        const view = new View();
        expect(view.wrap(out, 3, n + body.length)).toBeNull();
        expect(view.payloadLength).toBe(body.length);
        const got = decoded(decode(out, 3, n + body.length)) as Record<string, unknown>;
        expect(got).toEqual({ ...f, ...derived(f, got) });
      }),
      RUNS,
    );
  }

  it('ipv6 hop-by-hop / destination options header (length in 8-octet units derived)', () => {
    roundTrip(
      ipv6OptionsHeaderFields,
      (f, o, at) => ipv6opts.encodeIpv6OptionsHeader(f, o, at),
      ipv6opts.decodeIpv6OptionsHeader,
      ipv6opts.Ipv6OptionsHeaderView,
      (f) => ({ hdrExtLen: (2 + f.options.length) / 8 - 1 }),
    );
  });

  it('ipv6 options: items encode, decode back (then the Pad1 padding), and re-encode alike', () => {
    fc.assert(
      fc.property(ipv6Options, (opts) => {
        const items = ipv6opts.decodeIpv6Options(opts.bytes, 0, opts.bytes.length);
        expect(items.slice(0, opts.list.length)).toEqual(opts.list);
        // Pad1 is one byte of padding, not an end: every byte after the items is one.
        expect(items.slice(opts.list.length).every((x) => x.kind === 'Pad1')).toBe(true);
        const again = new Uint8Array(opts.bytes.length);
        expect(ipv6opts.encodeIpv6Options(items, again, 0)).toBe(opts.bytes.length);
        expect(again).toEqual(opts.bytes);
      }),
      RUNS,
    );
  });

  it('ipv6 Home Address option: a length other than its 16-byte address is E_BAD_OPTION at it', () => {
    const header = (length: number, pad: number[]): Uint8Array =>
      Uint8Array.from([59, 2, 0xc9, length, ...new Array<number>(length).fill(0x20), ...pad]);
    const v = new ipv6opts.Ipv6OptionsHeaderView();
    // 16 bytes of address, then a 4-byte PadN: 24 bytes, hdrExtLen 2.
    expect(v.wrap(header(16, [1, 2, 0, 0]))).toBeNull();
    expect(v.homeAddress).toBe(true);
    const c = v.options();
    expect(c.next() && c.homeAddress.addressOffset).toBe(4);
    // 20 bytes where the address takes 16: the same 24 bytes, refused at the option.
    expect(v.wrap(header(20, []))).not.toBeNull();
    expect({ ...v.error }).toMatchObject({ code: 'E_BAD_OPTION', field: 'options', offset: 2 });
    expect(ipv6opts.decodeIpv6Options(header(20, []), 2, 22)).toEqual([
      { kind: 'raw', bytes: header(20, []).slice(2) },
    ]);
  });

  it('ipv6 options / SRH TLVs: any list wrap() accepts decodes to items that encode alike', () => {
    const s = new ipv6opts.Ipv6OptionsSummary();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (b) => {
        if (ipv6opts.validateIpv6Options(b, 0, b.length, s) < 0) {
          const out = new Uint8Array(b.length);
          const items = ipv6opts.decodeIpv6Options(b, 0, b.length);
          expect(ipv6opts.encodeIpv6Options(items, out, 0)).toBe(b.length);
          expect(out).toEqual(b);
        }
        if (ipv6route.validateSrhTlvs(b, 0, b.length) < 0) {
          const out = new Uint8Array(b.length);
          const items = ipv6route.decodeSrhTlvs(b, 0, b.length);
          expect(ipv6route.encodeSrhTlvs(items, out, 0)).toBe(b.length);
          expect(out).toEqual(b);
        }
      }),
      { seed: 0x1b6, numRuns: 2000 },
    );
  });

  it('ipv6 SRH TLVs: items encode and decode back', () => {
    fc.assert(
      fc.property(srhTlvs, (t) => {
        const items = ipv6route.decodeSrhTlvs(t.bytes, 0, t.bytes.length);
        expect(items.slice(0, t.list.length)).toEqual(t.list);
      }),
      RUNS,
    );
  });

  it('ipv6 fragment header', () => {
    roundTrip(
      ipv6FragmentFields,
      (f, o, at) => ipv6frag.encodeIpv6Fragment(f, o, at),
      ipv6frag.decodeIpv6Fragment,
      ipv6frag.Ipv6FragmentView,
      () => ({}),
    );
  });

  it('ipv6 routing header, any type (length derived from the data)', () => {
    roundTrip(
      ipv6RoutingFields,
      (f, o, at) => ipv6route.encodeIpv6Routing(f, o, at),
      ipv6route.decodeIpv6Routing,
      ipv6route.Ipv6RoutingView,
      (f) => ({ hdrExtLen: (f.data.length - 4) / 8 }),
    );
  });

  it('ipv6 routing type 0 (addresses; length derived)', () => {
    roundTrip(
      ipv6SourceRouteFields,
      (f, o, at) => ipv6route.encodeIpv6SourceRoute(f, o, at),
      ipv6route.decodeIpv6SourceRoute,
      ipv6route.Ipv6SourceRouteView,
      (f) => ({ hdrExtLen: 2 * f.addresses.length }),
    );
  });

  it('ipv6 routing type 2 (home address)', () => {
    roundTrip(
      ipv6HomeAddressRouteFields,
      (f, o, at) => ipv6route.encodeIpv6HomeAddressRoute(f, o, at),
      ipv6route.decodeIpv6HomeAddressRoute,
      ipv6route.Ipv6HomeAddressRouteView,
      () => ({ hdrExtLen: 2 }),
    );
  });

  it('ipv6 segment routing header (segments and TLVs; length derived)', () => {
    roundTrip(
      ipv6SegmentRoutingFields,
      (f, o, at) => ipv6route.encodeIpv6SegmentRouting(f, o, at),
      ipv6route.decodeIpv6SegmentRouting,
      ipv6route.Ipv6SegmentRoutingView,
      (f) => ({ hdrExtLen: (16 * f.segments.length + f.tlvs.length) / 8 }),
    );
  });

  it('icmp (checksum derived)', () => {
    fc.assert(
      fc.property(icmpFields, payload, (f, body) => {
        const out = withPayload(8, body);
        expect(icmp.encodeIcmp(f, out, 3, body.length)).toBe(8);
        const view = new icmp.IcmpView();
        expect(view.wrap(out, 3, 8 + body.length)).toBeNull();
        expect(view.checksumValid).toBe(true);
        const got = decoded(icmp.decodeIcmp(out, 3, 8 + body.length));
        expect(got).toEqual({ ...f, checksum: got.checksum });
      }),
      RUNS,
    );
  });

  it('igmp v1/v2 (checksum derived over the message)', () => {
    fc.assert(
      fc.property(igmpFields, payload, (f, body) => {
        const out = withPayload(8, body);
        expect(igmp.encodeIgmp(f, out, 3, body.length)).toBe(8);
        const view = new igmp.IgmpView();
        expect(view.wrap(out, 3, 8 + body.length)).toBeNull();
        expect(view.checksumValid).toBe(true);
        const got = decoded(igmp.decodeIgmp(out, 3, 8 + body.length));
        expect(got).toEqual({ ...f, checksum: got.checksum });
      }),
      RUNS,
    );
  });

  it('igmpv3 query (source count and checksum derived)', () => {
    fc.assert(
      fc.property(igmpv3QueryFields, payload, (f, body) => {
        const head = 12 + 4 * f.sources.length;
        const out = withPayload(head, body);
        expect(igmp.encodeIgmpv3Query(f, out, 3, body.length)).toBe(head);
        const view = new igmp.Igmpv3QueryView();
        expect(view.wrap(out, 3, head + body.length)).toBeNull();
        expect(view.checksumValid).toBe(true);
        expect(view.numSources).toBe(f.sources.length);
        expect(Array.from({ length: view.sourcesCount }, (_, i) => view.sources(i))).toEqual(
          f.sources,
        );
        expect(view.payloadLength).toBe(body.length);
        const got = decoded(igmp.decodeIgmpv3Query(out, 3, head + body.length));
        expect(got).toEqual({ ...f, numSources: f.sources.length, checksum: got.checksum });
        // the v1/v2 view of the same bytes sees the same head
        const base = decoded(igmp.decodeIgmp(out, 3, head + body.length));
        expect(base).toEqual({
          type: f.type,
          maxRespCode: f.maxRespCode,
          checksum: got.checksum,
          group: f.group,
        });
      }),
      RUNS,
    );
  });

  it('igmpv3 report (record count, record counts and checksum derived)', () => {
    const withCounts = (r: igmp.Igmpv3GroupRecordFields): igmp.Igmpv3GroupRecordFields => ({
      ...r,
      numSources: r.sources.length,
      auxDataLen: r.auxData.length / 4,
    });
    fc.assert(
      fc.property(igmpv3ReportFields, payload, (f, body) => {
        const head = igmp.igmpv3ReportHeaderLength(f);
        expect(head).toBe(8 + igmp.igmpv3GroupRecordItemsLength(f.records));
        const out = withPayload(head, body);
        expect(igmp.encodeIgmpv3Report(f, out, 3, body.length)).toBe(head);
        const view = new igmp.Igmpv3ReportView();
        expect(view.wrap(out, 3, head + body.length)).toBeNull();
        expect(view.checksumValid).toBe(true);
        expect(view.recordsCount).toBe(f.records.length);
        expect(view.recordsLength).toBe(head - 8);
        expect(view.payloadLength).toBe(body.length);
        const groups: number[] = [];
        const c = view.records();
        while (c.next()) groups.push(c.item.group);
        expect(groups).toEqual(f.records.map((r) => r.group));
        const got = decoded(igmp.decodeIgmpv3Report(out, 3, head + body.length));
        expect(got).toEqual({
          ...f,
          numGroupRecords: f.records.length,
          records: f.records.map(withCounts),
          checksum: got.checksum,
        });
        // the v1/v2 view shows no group for it
        expect(new igmp.IgmpView().wrap(out, 3, head + body.length)).toBeNull();
      }),
      RUNS,
    );
  });

  it('igmpv3 group record (counts derived)', () => {
    fc.assert(
      fc.property(igmpv3GroupRecordFields, (f) => {
        const size = 8 + 4 * f.sources.length + f.auxData.length;
        const out = new Uint8Array(size + 4);
        expect(igmp.encodeIgmpv3GroupRecord(f, out, 2)).toBe(size);
        const got = decoded(igmp.decodeIgmpv3GroupRecord(out, 2, size));
        expect(got).toEqual({
          ...f,
          numSources: f.sources.length,
          auxDataLen: f.auxData.length / 4,
        });
      }),
      RUNS,
    );
  });

  it('udp (length, checksum derived; 0 = none)', () => {
    fc.assert(
      fc.property(udpFields, payload, ipv4Address, ipv4Address, (f, body, src, dst) => {
        const out = withPayload(8, body);
        expect(udp.encodeUdp(f, out, 3, body.length, src, dst)).toBe(8);
        const view = new udp.UdpView();
        expect(view.wrap(out, 3, 8 + body.length)).toBeNull();
        expect(view.checksumPresent).toBe(true);
        expect(view.checksumValidWith(src, dst)).toBe(true);
        expect(view.checksumValidWith(src ^ 1, dst)).toBe(false);
        const got = decoded(udp.decodeUdp(out, 3, 8 + body.length));
        expect(got.checksum).not.toBe(0);
        expect(got).toEqual({ ...f, length: 8 + body.length, checksum: got.checksum });
        // Checksum 0 means "none": present is false, valid is true whatever the addresses.
        udp.encodeUdp({ ...f, checksum: 0 }, out, 3, body.length, src, dst);
        expect(view.wrap(out, 3, 8 + body.length)).toBeNull();
        expect(view.checksumPresent).toBe(false);
        expect(view.checksumValidWith(src ^ 1, dst)).toBe(true);
        expect(view.toJSON(src, dst).checksumValid).toBeNull();
      }),
      RUNS,
    );
  });

  it('tcp (dataOffset, checksum derived; options read back by the cursor)', () => {
    fc.assert(
      fc.property(
        tcpFields,
        tcpOptions,
        payload,
        ipv4Address,
        ipv4Address,
        (base, opts, body, src, dst) => {
          const f = { ...base, options: opts.bytes };
          const hl = tcp.tcpHeaderLength(f);
          const out = withPayload(hl, body);
          expect(tcp.encodeTcp(f, out, 3, body.length, src, dst)).toBe(hl);
          const view = new tcp.TcpView();
          expect(view.wrap(out, 3, hl + body.length)).toBeNull();
          expect(view.checksumValidWith(src, dst)).toBe(true);
          expect(view.payloadLength).toBe(body.length);
          const got = decoded(tcp.decodeTcp(out, 3, hl + body.length));
          expect(got).toEqual({ ...f, dataOffset: hl / 4, checksum: got.checksum });
          // The items come back, then the padding: one EOL, or EOL and the zeros after it.
          const items = tcp.decodeTcpOptions(out, view.optionsOffset, view.optionsLength);
          const pad = opts.bytes.length - opts.list.reduce((n, o) => n + itemSize(o), 0);
          expect(items.slice(0, opts.list.length)).toEqual(opts.list);
          const rest = items.slice(opts.list.length);
          if (pad === 0) expect(rest).toEqual([]);
          else if (pad === 1) expect(rest).toEqual([{ kind: 'EOL' }]);
          else
            expect(rest).toEqual([
              { kind: 'EOL' },
              { kind: 'raw', bytes: new Uint8Array(pad - 1) },
            ]);
          const again = new Uint8Array(opts.bytes.length);
          expect(tcp.encodeTcpOptions(items, again, 0)).toBe(opts.bytes.length);
          expect(again).toEqual(opts.bytes);
          // The summaries wrap() recorded agree with the items (the last occurrence counts).
          const last = <K extends tcp.TcpOptionsItem['kind']>(k: K) =>
            opts.list
              .filter((o): o is Extract<tcp.TcpOptionsItem, { kind: K }> => o.kind === k)
              .at(-1);
          expect(view.mss).toBe(last('MSS')?.value ?? -1);
          expect(view.windowScale).toBe(last('WindowScale')?.shift ?? -1);
          expect(view.sackPermitted).toBe(last('SackPermitted') !== undefined);
          expect([view.tsval, view.tsecr]).toEqual([
            last('Timestamps')?.tsval ?? -1,
            last('Timestamps')?.tsecr ?? -1,
          ]);
          const sack = last('Sack')?.blocks ?? [];
          expect(view.sackCount).toBe(sack.length);
          sack.forEach((b, i) =>
            expect([view.sackLeft(i), view.sackRight(i)]).toEqual([b.left, b.right]),
          );
        },
      ),
      RUNS,
    );
  });

  it('ipv4 options: items encode, decode back (then the padding), and re-encode to the same bytes', () => {
    fc.assert(
      fc.property(ipv4Options, (opts) => {
        const view = new ipv4.Ipv4View();
        const f = { ...base4, options: opts.bytes };
        const hl = ipv4.ipv4HeaderLength(f);
        const out = new Uint8Array(hl);
        expect(ipv4.encodeIpv4(f, out, 0, 0)).toBe(hl);
        expect(view.wrap(out)).toBeNull();
        const items = ipv4.decodeIpv4Options(out, view.optionsOffset, view.optionsLength);
        expect(items.slice(0, opts.list.length)).toEqual(opts.list);
        const again = new Uint8Array(opts.bytes.length);
        expect(ipv4.encodeIpv4Options(items, again, 0)).toBe(opts.bytes.length);
        expect(again).toEqual(opts.bytes);
      }),
      { seed: 0x1b4, numRuns: 300 },
    );
  });

  it('ipv4 options: any list wrap() accepts decodes to items that encode to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (raw) => {
        const b = raw.slice(0, raw.length - (raw.length % 4));
        fc.pre(ipv4.validateIpv4Options(b, 0, b.length, new ipv4.Ipv4OptionsSummary()) < 0);
        const out = new Uint8Array(b.length);
        expect(ipv4.encodeIpv4Options(ipv4.decodeIpv4Options(b, 0, b.length), out, 0)).toBe(
          b.length,
        );
        expect(out).toEqual(b);
      }),
      { seed: 0x1b5, numRuns: 2000 },
    );
  });

  it('tcp options: one whose length runs past the header ends the list there, and nothing past the header is read', () => {
    // The payload repeats a well-formed MSS option: a parser that read on past the header's
    // end would find MSS 0x1234 there.
    const bait = new Uint8Array(64).map((_, i) => [2, 4, 0x12, 0x34][i % 4]);
    fc.assert(
      fc.property(
        tcpFields,
        tcpOptions,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        ipv4Address,
        ipv4Address,
        (base, opts, pick, over, src, dst) => {
          // Where each item with a length byte starts; after an EOL the list is not read.
          const starts: Array<{ start: number; item: number }> = [];
          let at = 0;
          for (const [item, o] of opts.list.entries()) {
            if (o.kind === 'EOL') break;
            if (o.kind !== 'NOP') starts.push({ start: at, item });
            at += itemSize(o);
          }
          fc.pre(starts.length > 0);
          const { start, item } = starts[pick % starts.length];
          const bytes = opts.bytes.slice();
          bytes[start + 1] = Math.min(255, bytes.length - start + over);
          const f = { ...base, options: bytes };
          const hl = tcp.tcpHeaderLength(f);
          const out = withPayload(hl, bait);
          expect(tcp.encodeTcp(f, out, 3, bait.length, src, dst)).toBe(hl);
          const view = new tcp.TcpView();
          // Lenient, as Linux's tcp_parse_options: the segment stands, its options end early.
          expect(view.wrap(out, 3, hl + bait.length)).toBeNull();
          expect(view.optionsMalformedAt).toBe(view.optionsOffset + start);
          expect(view.payloadLength).toBe(bait.length);
          const kept = opts.list.slice(0, item);
          expect(tcp.decodeTcpOptions(out, view.optionsOffset, view.optionsLength)).toEqual(kept);
          const mss = kept.filter((o) => o.kind === 'MSS').at(-1);
          expect(view.mss).toBe(mss?.kind === 'MSS' ? mss.value : -1);
          const sack = kept.filter((o) => o.kind === 'Sack').at(-1);
          expect(view.sackCount).toBe(sack?.kind === 'Sack' ? sack.blocks.length : 0);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('tcp options: any list wrap() accepts decodes to items that encode to the same bytes', () => {
    const s = new tcp.TcpOptionsSummary();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (raw, aligned) => {
        const b = aligned ? raw.slice(0, raw.length - (raw.length % 4)) : raw;
        fc.pre(tcp.validateTcpOptions(b, 0, b.length, s) < 0);
        const items = tcp.decodeTcpOptions(b, 0, b.length);
        const out = new Uint8Array(b.length + 4);
        const n = tcp.encodeTcpOptions(items, out, 0);
        // The encoder pads to 4 bytes: equal up to the list's length, zeros after.
        expect(out.subarray(0, b.length)).toEqual(b);
        expect(n).toBe(b.length + ((4 - (b.length % 4)) % 4));
      }),
      { seed: 0x5eed, numRuns: 2000 },
    );
  });

  it('dhcp (options found by the view)', () => {
    fc.assert(
      fc.property(dhcpFields, (f) => {
        const size = 240 + f.options.length;
        const out = new Uint8Array(size + 4);
        expect(dhcp.encodeDhcp(f, out, 4)).toBe(size);
        expect(decoded(dhcp.decodeDhcp(out, 4, size))).toEqual(f);
        const view = new dhcp.DhcpView();
        expect(view.wrap(out, 4, size)).toBeNull();
        // The messageType summary is the first MessageType option's type, -1 without one.
        const items = dhcp.decodeDhcpOptions(out, view.optionsOffset, view.optionsLength);
        const first = items.find((o) => o.kind === 'MessageType');
        expect(view.messageType).toBe(first === undefined ? -1 : first.type);
        expect(dhcp.encodeDhcpOptions(items, new Uint8Array(size), 0)).toBe(f.options.length);
        expect(view.toJSON().options.at(-1)).toEqual({ code: 255 });
      }),
      RUNS,
    );
  });

  it('dhcp ethernet chaddr', () => {
    fc.assert(
      fc.property(dhcpEthernetChaddrFields, (f) => {
        const out = new Uint8Array(18);
        expect(dhcp.encodeDhcpEthernetChaddr(f, out, 2)).toBe(16);
        expect(decoded(dhcp.decodeDhcpEthernetChaddr(out, 2, 16))).toEqual(f);
        const v = new dhcp.DhcpEthernetChaddrView();
        expect(v.wrap(out, 2, 16)).toBeNull();
        expect(v.mac).toBe(f.mac);
      }),
      RUNS,
    );
  });

  const rdata: Array<
    [
      string,
      fc.Arbitrary<object>,
      (f: never, o: Uint8Array, at: number) => number,
      (b: Uint8Array, o: number, l: number) => unknown,
      () => { wrap(b: Uint8Array, o: number, l: number): unknown; messageLength: number },
    ]
  > = [
    ['a', dnsAFields, dns.encodeDnsA, dns.decodeDnsA, () => new dns.DnsAView()],
    ['aaaa', dnsAaaaFields, dns.encodeDnsAaaa, dns.decodeDnsAaaa, () => new dns.DnsAaaaView()],
    [
      'target',
      dnsTargetFields,
      dns.encodeDnsTarget,
      dns.decodeDnsTarget,
      () => new dns.DnsTargetView(),
    ],
    ['mx', dnsMxFields, dns.encodeDnsMx, dns.decodeDnsMx, () => new dns.DnsMxView()],
    ['soa', dnsSoaFields, dns.encodeDnsSoa, dns.decodeDnsSoa, () => new dns.DnsSoaView()],
    ['srv', dnsSrvFields, dns.encodeDnsSrv, dns.decodeDnsSrv, () => new dns.DnsSrvView()],
  ];
  const withLength = (s: dns.DnsCharacterStringFields): dns.DnsCharacterStringFields => ({
    ...s,
    length: s.data.length,
  });
  it('dns txt and naptr record data (character-string lengths derived)', () => {
    fc.assert(
      fc.property(dnsTxtFields, dnsNaptrFields, (txt, naptr) => {
        const out = new Uint8Array(600);
        const n = dns.encodeDnsTxt(txt, out, 3);
        expect(n).toBe(txt.strings.reduce((sum, s) => sum + 1 + s.data.length, 0));
        expect(decoded(dns.decodeDnsTxt(out, 3, n))).toEqual({
          strings: txt.strings.map(withLength),
        });
        const v = new dns.DnsTxtView();
        expect(v.wrap(out, 3, n)).toBeNull();
        expect(v.stringsCount).toBe(txt.strings.length);
        expect(dns.encodeDnsTxt(txt, new Uint8Array(3 + n - 1), 3)).toBe(-1);
        const m = dns.encodeDnsNaptr(naptr, out, 3);
        expect(m).toBeGreaterThan(0);
        expect(decoded(dns.decodeDnsNaptr(out, 3, m))).toEqual({
          ...naptr,
          flags: withLength(naptr.flags),
          services: withLength(naptr.services),
          regexp: withLength(naptr.regexp),
        });
        expect(dns.encodeDnsNaptr(naptr, new Uint8Array(3 + m - 1), 3)).toBe(-1);
      }),
      RUNS,
    );
  });
  for (const [name, arb, encode, decode, view] of rdata) {
    it(`dns ${name} record data (names written uncompressed)`, () => {
      fc.assert(
        fc.property(arb, (f) => {
          const out = new Uint8Array(600);
          const n = encode(f as never, out, 3);
          expect(n).toBeGreaterThan(0);
          expect(decoded(decode(out, 3, n))).toEqual(f);
          const v = view();
          expect(v.wrap(out, 3, n)).toBeNull();
          expect(v.messageLength).toBe(n);
          // Too little room is -1, never a partial write past `out`.
          expect(encode(f as never, new Uint8Array(3 + n - 1), 3)).toBe(-1);
        }),
        RUNS,
      );
    });
  }

  it('dns (counts and record data lengths derived)', () => {
    const withLength = (r: dns.DnsRecordFields): dns.DnsRecordFields => ({
      ...r,
      rdlength: (r.rdata as Uint8Array).length,
    });
    fc.assert(
      fc.property(dnsFields, (f) => {
        const out = new Uint8Array(2048);
        const n = dns.encodeDns(f, out, 7);
        expect(n).toBeGreaterThan(11);
        const got = decoded(dns.decodeDns(out, 7, n));
        expect(got).toEqual({
          ...f,
          qdcount: f.questions.length,
          ancount: f.answers.length,
          nscount: f.authority.length,
          arcount: f.additional.length,
          answers: f.answers.map(withLength),
          authority: f.authority.map(withLength),
          additional: f.additional.map(withLength),
        });
        // Too little room is -1, never a write past `out`.
        expect(dns.encodeDns(f, new Uint8Array(7 + n - 1), 7)).toBe(-1);
      }),
      RUNS,
    );
  });
});
