/**
 * Hostile input: random, truncated and bit-flipped buffers. wrap() must never throw; when it
 * accepts a message, no getter, cursor, checksum, toJSON() or describe() may throw or read
 * outside [offset, offset + length) — reads are watched through a Proxy over the bytes (slow,
 * which is fine for a few hundred runs); when it rejects one, the error must be well formed.
 * The decode*() value functions must never throw either.
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
  icmp,
  igmp,
  ipv4,
  lldp,
  mpls,
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
  dnsAFields,
  dnsAaaaFields,
  dnsMxFields,
  dnsSoaFields,
  dnsSrvFields,
  dnsTargetFields,
  dnsTxtFields,
  dnsNaptrFields,
  dnsQuestion,
  dnsRecord,
  dhcpEthernetChaddrFields,
  geneveFields,
  greFields,
  igmpv3GroupRecordFields,
  igmpv3QueryFields,
  igmpv3ReportFields,
  lldpFields,
  ipv6Fields,
  ipv6FragmentFields,
  ipv6HomeAddressRouteFields,
  ipv6JumboFields,
  ipv6OptionsHeaderFields,
  ipv6RoutingFields,
  ipv6SegmentRoutingFields,
  ipv6SourceRouteFields,
  payload,
  pcapFileFields,
  pcapRecordFields,
  pppFields,
  vlanFields,
  mplsFields,
  vxlanFields,
} from './arbitraries.js';
import { fixturePcaps, readPcapFrames, splitLayers, watched, type LayerName } from './helpers.js';

const RUNS = { numRuns: 250 };
const CODES = new Set([
  'E_TRUNCATED',
  'E_BAD_LENGTH',
  'E_BAD_VALUE',
  'E_BAD_OPTION',
  'E_BAD_NAME',
  'E_POINTER_LOOP',
  'E_BAD_POINTER',
]);

interface AnyView {
  wrap(
    bytes: Uint8Array,
    offset?: number,
    length?: number,
  ): { code: string; layer: string; field: string; offset: number } | null;
  toJSON(...args: number[]): unknown;
  describe(): string;
}

/** The frame layers, plus the messages no frame walk reaches (their samples are encoded). */
type MessageName =
  | LayerName
  | 'vlan'
  | 'mpls'
  | 'vxlan'
  | 'gre'
  | 'geneve'
  | 'lldp'
  | 'ppp'
  | 'arpAnySize'
  | 'igmpv3Query'
  | 'igmpv3Report'
  | 'igmpv3GroupRecord'
  | 'dhcpEthernetChaddr'
  | 'dnsA'
  | 'dnsAaaa'
  | 'dnsTarget'
  | 'dnsMx'
  | 'dnsSoa'
  | 'dnsSrv'
  | 'dnsTxt'
  | 'dnsNaptr'
  | 'dnsQuestion'
  | 'dnsRecord'
  | 'pcapFileLe'
  | 'pcapFileBe'
  | 'pcapRecordLe'
  | 'pcapRecordBe'
  | 'ipv6'
  | 'ipv6Jumbo'
  | 'ipv6opts'
  | 'ipv6frag'
  | 'ipv6route'
  | 'ipv6SourceRoute'
  | 'ipv6HomeAddressRoute'
  | 'ipv6SegmentRouting';

const VIEWS: Record<
  MessageName,
  { make: () => AnyView; decode: (b: Uint8Array, o: number, l: number) => unknown }
> = {
  ethernet: { make: () => new ethernet.EthernetView(), decode: ethernet.decodeEthernet },
  arp: { make: () => new arp.ArpView(), decode: arp.decodeArp },
  ipv4: { make: () => new ipv4.Ipv4View(), decode: ipv4.decodeIpv4 },
  icmp: { make: () => new icmp.IcmpView(), decode: icmp.decodeIcmp },
  igmp: { make: () => new igmp.IgmpView(), decode: igmp.decodeIgmp },
  igmpv3Query: { make: () => new igmp.Igmpv3QueryView(), decode: igmp.decodeIgmpv3Query },
  igmpv3Report: { make: () => new igmp.Igmpv3ReportView(), decode: igmp.decodeIgmpv3Report },
  igmpv3GroupRecord: {
    make: () => new igmp.Igmpv3GroupRecordView(),
    decode: igmp.decodeIgmpv3GroupRecord,
  },
  ipv6: { make: () => new ipv6.Ipv6View(), decode: ipv6.decodeIpv6 },
  ipv6Jumbo: { make: () => new ipv6.Ipv6JumboView(), decode: ipv6.decodeIpv6Jumbo },
  ipv6opts: {
    make: () => new ipv6opts.Ipv6OptionsHeaderView(),
    decode: ipv6opts.decodeIpv6OptionsHeader,
  },
  ipv6frag: { make: () => new ipv6frag.Ipv6FragmentView(), decode: ipv6frag.decodeIpv6Fragment },
  ipv6route: { make: () => new ipv6route.Ipv6RoutingView(), decode: ipv6route.decodeIpv6Routing },
  ipv6SourceRoute: {
    make: () => new ipv6route.Ipv6SourceRouteView(),
    decode: ipv6route.decodeIpv6SourceRoute,
  },
  ipv6HomeAddressRoute: {
    make: () => new ipv6route.Ipv6HomeAddressRouteView(),
    decode: ipv6route.decodeIpv6HomeAddressRoute,
  },
  ipv6SegmentRouting: {
    make: () => new ipv6route.Ipv6SegmentRoutingView(),
    decode: ipv6route.decodeIpv6SegmentRouting,
  },
  udp: { make: () => new udp.UdpView(), decode: udp.decodeUdp },
  tcp: { make: () => new tcp.TcpView(), decode: tcp.decodeTcp },
  dhcp: { make: () => new dhcp.DhcpView(), decode: dhcp.decodeDhcp },
  dhcpEthernetChaddr: {
    make: () => new dhcp.DhcpEthernetChaddrView(),
    decode: dhcp.decodeDhcpEthernetChaddr,
  },
  dns: { make: () => new dns.DnsView(), decode: dns.decodeDns },
  dnsA: { make: () => new dns.DnsAView(), decode: dns.decodeDnsA },
  dnsAaaa: { make: () => new dns.DnsAaaaView(), decode: dns.decodeDnsAaaa },
  dnsTarget: { make: () => new dns.DnsTargetView(), decode: dns.decodeDnsTarget },
  dnsMx: { make: () => new dns.DnsMxView(), decode: dns.decodeDnsMx },
  dnsSoa: { make: () => new dns.DnsSoaView(), decode: dns.decodeDnsSoa },
  dnsSrv: { make: () => new dns.DnsSrvView(), decode: dns.decodeDnsSrv },
  dnsTxt: { make: () => new dns.DnsTxtView(), decode: dns.decodeDnsTxt },
  dnsNaptr: { make: () => new dns.DnsNaptrView(), decode: dns.decodeDnsNaptr },
  dnsQuestion: { make: () => new dns.DnsQuestionView(), decode: dns.decodeDnsQuestion },
  dnsRecord: { make: () => new dns.DnsRecordView(), decode: dns.decodeDnsRecord },
  vlan: { make: () => new vlan.VlanView(), decode: vlan.decodeVlan },
  mpls: { make: () => new mpls.MplsView(), decode: mpls.decodeMpls },
  vxlan: { make: () => new vxlan.VxlanView(), decode: vxlan.decodeVxlan },
  gre: { make: () => new gre.GreView(), decode: gre.decodeGre },
  geneve: { make: () => new geneve.GeneveView(), decode: geneve.decodeGeneve },
  lldp: { make: () => new lldp.LldpView(), decode: lldp.decodeLldp },
  ppp: { make: () => new ppp.PppView(), decode: ppp.decodePpp },
  arpAnySize: { make: () => new arp.ArpAnySizeView(), decode: arp.decodeArpAnySize },
  pcapFileLe: {
    make: () => inOrder(new pcap.PcapFileView(), true),
    decode: (b, o, l) => pcap.decodePcapFile(b, o, l, true),
  },
  pcapFileBe: { make: () => new pcap.PcapFileView(), decode: pcap.decodePcapFile },
  pcapRecordLe: {
    make: () => inOrder(new pcap.PcapRecordView(), true),
    decode: (b, o, l) => pcap.decodePcapRecord(b, o, l, true),
  },
  pcapRecordBe: { make: () => new pcap.PcapRecordView(), decode: pcap.decodePcapRecord },
};

/** An endian(be, le) view whose wrap() reads in the order `le` (the table's entries are per order). */
function inOrder<
  V extends { wrap(b: Uint8Array, o?: number, l?: number, le?: boolean): DecodeError | null },
>(view: V, le: boolean): V {
  const wrap = view.wrap.bind(view);
  view.wrap = (b, o = 0, l = b.length - o) => wrap(b, o, l, le);
  return view;
}
const LAYERS = Object.keys(VIEWS) as MessageName[];

/** Reads every getter of an object (and its prototypes) and drains anything that has next(). */
function touchAll(obj: object, depth = 0): void {
  let proto = Object.getPrototypeOf(obj) as object | null;
  while (proto !== null && proto !== Object.prototype) {
    for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (d.get !== undefined) void (obj as Record<string, unknown>)[key];
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  if (depth > 0) return;
  for (const method of ['options', 'questions', 'records']) {
    const fn = (obj as Record<string, unknown>)[method];
    if (typeof fn !== 'function') continue;
    const cursor = (
      fn as () => {
        next(): boolean;
        sackCount?: number;
        sackLeft?(i: number): number;
        sackRight?(i: number): number;
      }
    ).call(obj);
    for (let n = 0; n < 2000 && cursor.next(); n++) {
      touchAll(cursor, depth + 1);
      touchElementViews(cursor);
      for (let i = 0; i < (cursor.sackCount ?? 0); i++) {
        cursor.sackLeft?.(i);
        cursor.sackRight?.(i);
      }
    }
  }
  for (const method of ['findOption', 'optionLength']) {
    const fn = (obj as Record<string, unknown>)[method];
    if (typeof fn === 'function')
      for (const code of [1, 53, 255]) (fn as (c: number) => number).call(obj, code);
  }
  for (const method of ['checksumValidWith']) {
    const fn = (obj as Record<string, unknown>)[method];
    if (typeof fn === 'function')
      (fn as (a: number, b: number) => boolean).call(obj, 0x0a000001, 0x0a000002);
  }
}

/**
 * A list cursor's typed element views (getters returning objects with point()): every getter,
 * and every item accessor below its count.
 */
function touchElementViews(cursor: object): void {
  const proto = Object.getPrototypeOf(cursor) as object;
  for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
    if (d.get === undefined) continue;
    const view = (cursor as Record<string, unknown>)[key];
    if (typeof view !== 'object' || view === null || !('point' in view)) continue;
    touchAll(view, 1);
    const vp = Object.getPrototypeOf(view) as object;
    const members = Object.getOwnPropertyDescriptors(vp);
    for (const [name, m] of Object.entries(members)) {
      if (m.get === undefined || !name.endsWith('Count')) continue;
      const count = (view as Record<string, number>)[name];
      const array = name.slice(0, -'Count'.length);
      for (const [method, f] of Object.entries(members)) {
        if (!method.startsWith(array) || typeof f.value !== 'function' || method === 'point')
          continue;
        for (let i = 0; i < count; i++) (f.value as (i: number) => number).call(view, i);
      }
    }
  }
}

/** Messages whose errors name another layer (spec) than their own name says. */
const ERROR_LAYER: Partial<Record<MessageName, string>> = {
  arpAnySize: 'arp',
  ipv6Jumbo: 'ipv6',
  ipv6SourceRoute: 'ipv6route',
  ipv6HomeAddressRoute: 'ipv6route',
  ipv6SegmentRouting: 'ipv6route',
};

/** The layer a message's errors name: its spec's (pcapFile → pcap, igmpv3Query → igmp, ...). */
function errorLayer(m: MessageName): string {
  return ERROR_LAYER[m] ?? ['pcap', 'igmp', 'dhcp', 'dns'].find((spec) => m.startsWith(spec)) ?? m;
}

/** The whole check for one message candidate at bytes[offset, offset + length). */
function exercise(layer: MessageName, bytes: Uint8Array, offset: number, length: number): void {
  const { proxy, outside } = watched(bytes, offset, offset + length);
  const view = VIEWS[layer].make();
  const err = view.wrap(proxy, offset, length);
  if (err === null) {
    touchAll(view);
    JSON.stringify(view.toJSON(0x0a000001, 0x0a000002));
    JSON.stringify({ [layer]: view });
    view.describe();
    const v = view as unknown as {
      payloadOffset?: number;
      payloadLength?: number;
      headerLength: number;
      messageLength: number;
    };
    if (v.payloadOffset !== undefined && v.payloadLength !== undefined) {
      expect(v.payloadOffset).toBeGreaterThanOrEqual(offset);
      expect(v.payloadOffset + v.payloadLength).toBeLessThanOrEqual(offset + length);
    }
    expect(v.messageLength).toBeLessThanOrEqual(length);
  } else {
    expect(CODES.has(err.code)).toBe(true);
    expect(err.layer).toBe(errorLayer(layer));
    expect(err.offset).toBeGreaterThanOrEqual(0);
    expect(err.offset).toBeLessThanOrEqual(bytes.length);
    // A failed view holds nothing: its getters read an empty array.
    touchAll(view);
  }
  expect(outside, `${layer} read outside its bounds`).toEqual([]);
  // The lenient entry point (IPv4, UDP) keeps the same guarantees.
  const partial = view as unknown as { wrapPartial?: AnyView['wrap'] };
  if (partial.wrapPartial !== undefined) {
    const w = watched(bytes, offset, offset + length);
    if (partial.wrapPartial.call(view, w.proxy, offset, length) === null) {
      touchAll(view);
      JSON.stringify(view.toJSON(0x0a000001, 0x0a000002));
      view.describe();
      const v = view as unknown as { payloadOffset: number; payloadLength: number };
      expect(v.payloadOffset + v.payloadLength).toBeLessThanOrEqual(offset + length);
    }
    expect(w.outside, `${layer} wrapPartial read outside its bounds`).toEqual([]);
  }
  // The allocating decoder never throws either.
  const value = VIEWS[layer].decode(bytes, offset, length);
  expect(isDecodeError(value)).toBe(err !== null);
}

/** Valid messages made by an encoder from fast-check values (fixed seed: the same every run). */
function encoded<T>(
  fields: fc.Arbitrary<T>,
  encode: (f: T, out: Uint8Array) => number,
): Uint8Array[] {
  return fc.sample(fields, { numRuns: 40, seed: 20261125 }).map((f) => {
    const out = new Uint8Array(200);
    return out.slice(0, encode(f, out));
  });
}

/**
 * Real messages of each layer from the fixture captures, as exact-size byte arrays; encoded ones
 * for the messages no frame walk reaches.
 */
function corpus(): Record<MessageName, Uint8Array[]> {
  const out = Object.fromEntries(LAYERS.map((l) => [l, [] as Uint8Array[]])) as Record<
    MessageName,
    Uint8Array[]
  >;
  out.vlan = encoded(vlanFields, (f, o) => vlan.encodeVlan(f, o, 0));
  // A label stack and what it carries (its first nibble is the dispatch's).
  out.mpls = encoded(fc.tuple(mplsFields, payload), ([f, body], o) => {
    const n = mpls.encodeMpls(f, o, 0);
    o.set(body, n);
    return n + body.length;
  });
  out.vxlan = encoded(vxlanFields, (f, o) => vxlan.encodeVxlan(f, o, 0));
  // GRE with a payload its checksum (when C is set) covers; PPP as PPTP carries it.
  out.gre = encoded(fc.tuple(greFields, payload), ([f, body], o) => {
    const n = gre.greHeaderLength(f);
    o.set(body, n);
    return gre.encodeGre({ ...f, checksum: undefined }, o, 0, body.length) + body.length;
  });
  out.geneve = encoded(fc.tuple(geneveFields, payload), ([f, body], o) => {
    o.set(body, 8 + f.options.length);
    return geneve.encodeGeneve(f, o, 0) + body.length;
  });
  const smallLldp = lldpFields.filter((f) => f.tlvs.length <= 190);
  out.lldp = encoded(fc.tuple(smallLldp, fc.uint8Array({ maxLength: 8 })), ([f, pad], o) => {
    o.set(pad, f.tlvs.length);
    return lldp.encodeLldp(f, o, 0) + pad.length;
  });
  out.ppp = encoded(fc.tuple(pppFields, payload), ([f, body], o) => {
    o.set(body, 4);
    return ppp.encodePpp(f, o, 0) + body.length;
  });
  out.arpAnySize = encoded(arpAnySizeFields, (f, o) => arp.encodeArpAnySize(f, o, 0));
  out.igmpv3Query = encoded(fc.tuple(igmpv3QueryFields, payload), ([f, body], o) => {
    o.set(body, 12 + 4 * f.sources.length);
    return igmp.encodeIgmpv3Query(f, o, 0, body.length) + body.length;
  });
  out.igmpv3Report = encoded(fc.tuple(igmpv3ReportFields, payload), ([f, body], o) => {
    o.set(body, igmp.igmpv3ReportHeaderLength(f));
    return igmp.encodeIgmpv3Report(f, o, 0, body.length) + body.length;
  });
  out.igmpv3GroupRecord = encoded(igmpv3GroupRecordFields, (f, o) =>
    igmp.encodeIgmpv3GroupRecord(f, o, 0),
  );
  out.dhcpEthernetChaddr = encoded(dhcpEthernetChaddrFields, (f, o) =>
    dhcp.encodeDhcpEthernetChaddr(f, o, 0),
  );
  out.dnsA = encoded(dnsAFields, (f, o) => dns.encodeDnsA(f, o, 0));
  out.dnsAaaa = encoded(dnsAaaaFields, (f, o) => dns.encodeDnsAaaa(f, o, 0));
  out.dnsTarget = encoded(dnsTargetFields, (f, o) => dns.encodeDnsTarget(f, o, 0));
  out.dnsMx = encoded(dnsMxFields, (f, o) => dns.encodeDnsMx(f, o, 0));
  out.dnsSoa = encoded(dnsSoaFields, (f, o) => dns.encodeDnsSoa(f, o, 0));
  out.dnsSrv = encoded(dnsSrvFields, (f, o) => dns.encodeDnsSrv(f, o, 0));
  out.dnsTxt = encoded(dnsTxtFields, (f, o) => dns.encodeDnsTxt(f, o, 0));
  out.dnsNaptr = encoded(dnsNaptrFields, (f, o) => dns.encodeDnsNaptr(f, o, 0));
  out.dnsQuestion = encoded(dnsQuestion, (f, o) => dns.encodeDnsQuestion(f, o, 0));
  out.dnsRecord = encoded(dnsRecord, (f, o) => dns.encodeDnsRecord(f, o, 0));
  out.ipv6 = encoded(fc.tuple(ipv6Fields, payload), ([f, body], o) => {
    o.set(body, 40);
    return ipv6.encodeIpv6(f, o, 0, body.length) + body.length;
  });
  out.ipv6Jumbo = encoded(fc.tuple(ipv6JumboFields, payload), ([f, body], o) => {
    o.set(body, 40);
    return ipv6.encodeIpv6Jumbo(f, o, 0) + body.length;
  });
  // IPv6 extension headers, each followed by a payload (what it does not count).
  const ext = <F>(fields: fc.Arbitrary<F>, encode: (f: F, o: Uint8Array) => number) =>
    encoded(fc.tuple(fields, payload), ([f, body], o) => {
      const n = encode(f, o);
      o.set(body.subarray(0, Math.max(0, o.length - n)), n);
      return n + Math.min(body.length, o.length - n);
    });
  out.ipv6opts = ext(ipv6OptionsHeaderFields, (f, o) => ipv6opts.encodeIpv6OptionsHeader(f, o, 0));
  out.ipv6frag = ext(ipv6FragmentFields, (f, o) => ipv6frag.encodeIpv6Fragment(f, o, 0));
  out.ipv6route = ext(ipv6RoutingFields, (f, o) => ipv6route.encodeIpv6Routing(f, o, 0));
  out.ipv6SourceRoute = ext(ipv6SourceRouteFields, (f, o) =>
    ipv6route.encodeIpv6SourceRoute(f, o, 0),
  );
  out.ipv6HomeAddressRoute = ext(ipv6HomeAddressRouteFields, (f, o) =>
    ipv6route.encodeIpv6HomeAddressRoute(f, o, 0),
  );
  out.ipv6SegmentRouting = ext(ipv6SegmentRoutingFields, (f, o) =>
    ipv6route.encodeIpv6SegmentRouting(f, o, 0),
  );
  out.pcapFileLe = encoded(pcapFileFields, (f, o) => pcap.encodePcapFile(f, o, 0, true));
  out.pcapFileBe = encoded(pcapFileFields, (f, o) => pcap.encodePcapFile(f, o, 0));
  out.pcapRecordLe = encoded(fc.tuple(pcapRecordFields, payload), ([f, body], o) => {
    o.set(body, 16); // the record header, then the captured bytes
    return pcap.encodePcapRecord(f, o, 0, body.length, true) + body.length;
  });
  out.pcapRecordBe = encoded(fc.tuple(pcapRecordFields, payload), ([f, body], o) => {
    o.set(body, 16);
    return pcap.encodePcapRecord(f, o, 0, body.length) + body.length;
  });
  for (const file of fixturePcaps()) {
    for (const frame of readPcapFrames(file)) {
      // Real label stacks (Zeek's MPLS captures) beside the encoded ones.
      const eth = new ethernet.EthernetView();
      if (eth.wrap(frame) === null && ethernet.payloadKind(eth) === 'mpls' && out.mpls.length < 80)
        out.mpls.push(frame.slice(eth.payloadOffset, eth.payloadOffset + eth.payloadLength));
      for (const l of splitLayers(frame)) {
        if (out[l.name].length < 40) out[l.name].push(frame.slice(l.offset, l.offset + l.length));
      }
    }
  }
  return out;
}

const samples = corpus();

describe('hostile input never throws or reads out of bounds', () => {
  it('the watcher itself sees out-of-bounds reads', () => {
    const { proxy, outside } = watched(new Uint8Array(8), 2, 6);
    void proxy[1];
    void proxy[3];
    void proxy[6];
    expect(outside).toEqual([1, 6]);
    // And a view over a lying length field is caught by wrap(), not by the watcher.
    const ip = new Uint8Array(20);
    ip[0] = 0x4f; // ihl 15: 60 bytes of header in a 20-byte buffer
    ip[3] = 60; // totalLength
    const w = watched(ip, 0, 20);
    expect(new ipv4.Ipv4View().wrap(w.proxy)?.code).toBe('E_TRUNCATED');
    expect(w.outside).toEqual([]);
  });

  it('has real samples of every layer', () => {
    for (const l of LAYERS) expect(samples[l].length, l).toBeGreaterThan(0);
  });

  for (const layer of LAYERS) {
    describe(layer, () => {
      it('random bytes at random offsets', () => {
        fc.assert(
          fc.property(
            fc.uint8Array({ maxLength: 400 }),
            fc.nat(8),
            fc.nat(8),
            (body, before, after) => {
              const bytes = new Uint8Array(before + body.length + after).fill(0xee);
              bytes.set(body, before);
              exercise(layer, bytes, before, body.length);
            },
          ),
          RUNS,
        );
      });

      it('truncated real messages', () => {
        const list = samples[layer];
        fc.assert(
          fc.property(fc.nat(list.length - 1), fc.nat(2000), (i, cut) => {
            const msg = list[i];
            const len = cut % (msg.length + 1);
            const bytes = new Uint8Array(msg.length + 4).fill(0xee);
            bytes.set(msg, 2);
            exercise(layer, bytes, 2, len);
          }),
          RUNS,
        );
      });

      it('bit-flipped real messages', () => {
        const list = samples[layer];
        fc.assert(
          fc.property(
            fc.nat(list.length - 1),
            fc.array(fc.nat(8 * 1600), { minLength: 1, maxLength: 6 }),
            (i, flips) => {
              const msg = list[i].slice();
              for (const bit of flips) {
                const at = (bit >> 3) % msg.length;
                msg[at] ^= 1 << (bit & 7);
              }
              exercise(layer, msg, 0, msg.length);
            },
          ),
          RUNS,
        );
      });
    });
  }

  it('wrap() rejects impossible offsets and lengths without throwing', () => {
    const bytes = new Uint8Array(64);
    for (const layer of LAYERS) {
      const view = VIEWS[layer].make();
      for (const [o, l] of [
        [-1, 10],
        [0, -1],
        [60, 10],
        [Number.NaN, 1],
        [0, Number.NaN],
        [65, 0],
      ]) {
        const err = view.wrap(bytes, o, l);
        expect(err?.code, `${layer} ${o} ${l}`).toBe('E_TRUNCATED');
      }
    }
  });
});
