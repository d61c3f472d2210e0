/**
 * FrameDecoder (src/generated/frame.ts, generated from the specs' dispatch) against a reference
 * walk that wraps one fresh view per layer and dispatches with the generated payloadKind(): on
 * every fixture frame and on hostile variants of them, both must decode the same layers to the
 * same fields and fail at the same layer with the same error. decode() must never throw or read
 * outside its window, whatever it is given.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodeError } from '../../src/codec/errors.js';
import {
  arp,
  dhcp,
  dhcpv6,
  dns,
  ethernet,
  frame,
  geneve,
  gre,
  icmp,
  icmpv6,
  igmp,
  ipv4,
  lldp,
  mpls,
  ppp,
  ipv6,
  ipv6frag,
  ipv6opts,
  ipv6route,
  tcp,
  udp,
  vlan,
  vxlan,
} from '../../src/generated/index.js';
import { fixturePcaps, readPcapFrames, watched } from './helpers.js';

const { FrameDecoder, FrameLayer, FRAME_MAX_DEPTH } = frame;
type LayerName = keyof typeof FrameLayer;
const ALL = Object.values(FrameLayer).reduce((m, bit) => m | bit, 0);
const LAYER_NAMES = Object.keys(FrameLayer) as LayerName[];

interface View {
  wrap(bytes: Uint8Array, offset: number, length: number): DecodeError | null;
  toJSON(): unknown;
  describe(): string;
  readonly offset: number;
  readonly byteLength: number;
  readonly headerLength: number;
  readonly messageLength: number;
}

interface Outcome {
  layers: number;
  error: DecodeError | null;
  /** What each decoded layer's view shows. */
  shown: Partial<Record<LayerName, unknown>>;
  /** The frame a tunnel carried, one nesting level in. */
  inner: Outcome | null;
}

function show(v: View): unknown {
  const p = v as unknown as { payloadOffset?: number; payloadLength?: number };
  return {
    json: v.toJSON(),
    text: v.describe(),
    offset: v.offset,
    byteLength: v.byteLength,
    headerLength: v.headerLength,
    messageLength: v.messageLength,
    payload: [p.payloadOffset, p.payloadLength],
  };
}

type Kind = (view: never) => string | null;
/** Each dispatching layer's generated payloadKind(). */
const KIND: Partial<Record<LayerName, Kind>> = {
  ethernet: ethernet.payloadKind,
  vlan: vlan.payloadKind,
  ipv4: ipv4.payloadKind,
  ipv6: ipv6.payloadKind,
  ipv6opts: ipv6opts.payloadKind,
  ipv6route: ipv6route.payloadKind,
  ipv6frag: ipv6frag.payloadKind,
  udp: udp.payloadKind,
  vxlan: vxlan.payloadKind,
  geneve: geneve.payloadKind,
  gre: gre.payloadKind,
  ppp: ppp.payloadKind,
  mpls: mpls.payloadKind,
};
/** Tags: headers taken in a loop after the layer that names them (VLAN; IPv6's extension headers). */
const TAGS = new Set<string>(['vlan', 'ipv6opts', 'ipv6route', 'ipv6frag']);
/** The dispatches that go back to a layer no deeper than their own: a new nesting level. */
const TUNNELS = new Set([
  'ipv4>ipv4',
  'vxlan>ethernet',
  'geneve>ethernet',
  'geneve>ipv4',
  'geneve>ipv6',
  'ipv4>ipv6',
  'ipv6>ipv6',
  'ipv6>ipv4',
  'gre>ipv4',
  'gre>ipv6',
  'gre>ethernet',
  'ppp>ipv4',
  'ppp>ipv6',
]);

interface Positioned {
  readonly payloadOffset: number;
  readonly payloadLength: number;
}

/**
 * The layer-by-layer decode FrameDecoder must equal: one fresh view per layer, the generated
 * payloadKind() to go on, VLAN tags in a loop, and a tunnel's payload as a nested walk.
 */
function referenceDecode(
  bytes: Uint8Array,
  offset: number,
  length: number,
  wanted: number,
  entry: LayerName = 'ethernet',
  depth: number = FRAME_MAX_DEPTH,
): Outcome {
  const views = {
    ethernet: new ethernet.EthernetView(),
    vlan: new vlan.VlanView(),
    arp: new arp.ArpView(),
    ipv4: new ipv4.Ipv4View(),
    ipv6: new ipv6.Ipv6View(),
    ipv6opts: new ipv6opts.Ipv6OptionsHeaderView(),
    ipv6route: new ipv6route.Ipv6RoutingView(),
    ipv6frag: new ipv6frag.Ipv6FragmentView(),
    icmp: new icmp.IcmpView(),
    icmpv6: new icmpv6.Icmpv6View(),
    dhcpv6: new dhcpv6.Dhcpv6MessageView(),
    igmp: new igmp.IgmpView(),
    tcp: new tcp.TcpView(),
    udp: new udp.UdpView(),
    dhcp: new dhcp.DhcpView(),
    dns: new dns.DnsView(),
    vxlan: new vxlan.VxlanView(),
    geneve: new geneve.GeneveView(),
    gre: new gre.GreView(),
    ppp: new ppp.PppView(),
    lldp: new lldp.LldpView(),
    mpls: new mpls.MplsView(),
  } satisfies Record<LayerName, View>;
  let layers = 0;
  const done = (error: DecodeError | null, inner: Outcome | null = null): Outcome => {
    const shown: Partial<Record<LayerName, unknown>> = {};
    for (const name of LAYER_NAMES) {
      if ((layers & FrameLayer[name]) !== 0) shown[name] = show(views[name]);
    }
    return { layers, error: error === null ? null : { ...error }, shown, inner };
  };
  const wants = (name: string): name is LayerName =>
    name in FrameLayer && (wanted & FrameLayer[name as LayerName]) !== 0;
  let name: LayerName = entry;
  let at = offset;
  let n = length;
  for (;;) {
    const err = views[name].wrap(bytes, at, n);
    if (err !== null) return done(err);
    layers |= FrameLayer[name];
    const kind = KIND[name];
    let next = kind === undefined ? null : kind(views[name] as never);
    at = (views[name] as unknown as Positioned).payloadOffset;
    n = (views[name] as unknown as Positioned).payloadLength;
    while (next !== null && TAGS.has(next) && wants(next)) {
      const tag: LayerName = next;
      const e = views[tag].wrap(bytes, at, n);
      if (e !== null) return done(e);
      layers |= FrameLayer[tag];
      next = (KIND[tag] as Kind)(views[tag] as never);
      at = (views[tag] as unknown as Positioned).payloadOffset;
      n = (views[tag] as unknown as Positioned).payloadLength;
    }
    if (next !== null && TAGS.has(next)) return done(null);
    if (next === null || !wants(next)) return done(null);
    if (TUNNELS.has(`${name}>${next}`)) {
      if (depth === 0) {
        return done({ code: 'E_TOO_DEEP', layer: name, field: 'payload', offset: at });
      }
      const inner = referenceDecode(bytes, at, n, wanted, next, depth - 1);
      return done(inner.error, inner);
    }
    name = next;
  }
}

type Decoder = InstanceType<typeof FrameDecoder>;

function collect(d: Decoder, error: DecodeError | null): Outcome {
  expect(error).toBe(d.error);
  const shown: Partial<Record<LayerName, unknown>> = {};
  for (const name of LAYER_NAMES) {
    if (d.has(FrameLayer[name])) shown[name] = show(d[name] as View);
  }
  return {
    layers: d.layers,
    error: error === null ? null : { ...error },
    shown,
    inner: d.inner === null ? null : collect(d.inner, d.inner.error),
  };
}

function frameDecode(d: Decoder, bytes: Uint8Array, at: number, n: number): Outcome {
  return collect(d, d.decode(bytes, at, n));
}

/** Tunnel captures (test/fixtures/tunnels) beside the others. */
const TUNNEL_DIR = join(import.meta.dirname, '..', 'fixtures', 'tunnels');
const tunnelFrames = readdirSync(TUNNEL_DIR)
  .filter((f) => f.endsWith('.pcap'))
  .sort()
  .flatMap((f) => readPcapFrames(join(TUNNEL_DIR, f)));

const frames = [...fixturePcaps().flatMap((path) => readPcapFrames(path)), ...tunnelFrames];

describe('FrameDecoder', () => {
  it('decodes every fixture frame exactly like the layer-by-layer walk', () => {
    expect(frames.length).toBeGreaterThan(500);
    const d = new FrameDecoder();
    const seen = new Set<number>();
    let failed = 0;
    for (const f of frames) {
      const got = frameDecode(d, f, 0, f.length);
      expect(got).toEqual(referenceDecode(f, 0, f.length, ALL));
      seen.add(got.layers);
      if (got.error !== null) failed++;
    }
    // The fixtures reach every layer, and some frames fail part way (cut captures).
    const reached = [...seen].reduce((m, x) => m | x, 0);
    expect(reached).toBe(ALL);
    expect(failed).toBeGreaterThan(0);
  });

  it('stops at the layers it is not asked for', () => {
    const subsets = [
      FrameLayer.ethernet,
      FrameLayer.ethernet | FrameLayer.ipv4,
      ALL & ~FrameLayer.dns & ~FrameLayer.dhcp,
      ALL & ~FrameLayer.vlan,
      ALL & ~FrameLayer.tcp,
      ALL & ~FrameLayer.vxlan,
    ];
    for (const wanted of subsets) {
      const d = new FrameDecoder(wanted);
      for (const f of frames) {
        expect(frameDecode(d, f, 0, f.length)).toEqual(referenceDecode(f, 0, f.length, wanted));
        expect(d.layers & ~wanted).toBe(0);
      }
    }
  });

  it('does not read an IPv4 fragment past the first as a transport header', () => {
    const d = new FrameDecoder();
    const f = frames.find((x) => {
      d.decode(x);
      return d.has(FrameLayer.tcp) && d.ipv4.ihl === 5;
    });
    if (f === undefined) throw new Error('no TCP fixture frame');
    const fragment = f.slice();
    fragment[14 + 6] |= 0x01; // fragment offset 256 * 8 bytes
    expect(d.decode(fragment)).toBeNull();
    expect(d.layers).toBe(FrameLayer.ethernet | FrameLayer.ipv4);
    expect(ipv4.payloadKind(d.ipv4)).toBeNull();
  });

  it('matches the walk on truncated, bit-flipped and random frames, inside a larger buffer', () => {
    const d = new FrameDecoder();
    const hostile = fc.oneof(
      fc
        .tuple(fc.constantFrom(...frames), fc.nat())
        .map(([f, cut]) => f.subarray(0, cut % (f.length + 1))),
      fc
        .tuple(fc.constantFrom(...frames), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }))
        .map(([f, flips]) => {
          const g = f.slice();
          for (const bit of flips) g[(bit >> 3) % g.length] ^= 1 << (bit & 7);
          return g;
        }),
      fc.uint8Array({ maxLength: 120 }),
    );
    fc.assert(
      fc.property(hostile, fc.nat(16), fc.nat(16), (f, before, after) => {
        const buf = new Uint8Array(before + f.length + after).fill(0xa5);
        buf.set(f, before);
        const expected = referenceDecode(buf, before, f.length, ALL);
        const { proxy, outside } = watched(buf, before, before + f.length);
        expect(frameDecode(d, proxy, before, f.length)).toEqual(expected);
        expect(outside).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('decodes VXLAN in VXLAN in VXLAN one nesting level per tunnel', () => {
    const d = new FrameDecoder();
    const triple = readPcapFrames(join(TUNNEL_DIR, 'zeek-tunnels-vxlan-triple-v2.pcap'))[0];
    expect(d.decode(triple)).toBeNull();
    const vnis: number[] = [];
    let level: Decoder | null = d;
    let innermost: Decoder = d;
    while (level !== null) {
      innermost = level;
      if (level.has(FrameLayer.vxlan)) vnis.push(level.vxlan.vni);
      level = level.inner;
    }
    expect(vnis).toEqual([1, 2, 3]);
    expect(innermost.layers).toBe(
      FrameLayer.ethernet | FrameLayer.ipv4 | FrameLayer.udp | FrameLayer.dns,
    );
    // The next frame without a tunnel leaves no stale inner level.
    expect(d.decode(frames[0])).toBe(d.error);
    expect(d.inner).toBeNull();
  });

  /** `levels` IPv4 headers, each carrying the next (protocol 4), the last one an empty UDP. */
  function ipInIp(levels: number): Uint8Array {
    const out = new Uint8Array(20 * levels + 8);
    udp.encodeUdp({ srcPort: 9, dstPort: 9, checksum: 0 }, out, 20 * levels, 0, 0, 0);
    for (let k = levels - 1; k >= 0; k--) {
      const fields = {
        version: 4,
        dscp: 0,
        ecn: 0,
        identification: k,
        flags: 0,
        fragmentOffset: 0,
        ttl: 64,
        protocol: k === levels - 1 ? 17 : 4,
        src: 0x0a000001 + k,
        dst: 0x0a000002 + k,
        options: new Uint8Array(0),
      };
      expect(ipv4.encodeIpv4(fields, out, 20 * k, out.length - 20 * (k + 1))).toBe(20);
    }
    return out;
  }

  it('starts at any root: a raw IP frame (LINKTYPE_RAW) from FrameLayer.ipv4', () => {
    const d = new FrameDecoder();
    const f = ipInIp(2);
    expect(d.decodeFrom(FrameLayer.ipv4, f)).toBeNull();
    expect(d.layers).toBe(FrameLayer.ipv4);
    expect(d.ipv4.identification).toBe(0);
    expect(d.inner?.layers).toBe(FrameLayer.ipv4 | FrameLayer.udp);
    expect(d.inner?.ipv4.src).toBe(0x0a000002);
    expect(collect(d, d.error)).toEqual(referenceDecode(f, 0, f.length, ALL, 'ipv4'));
  });

  it('stops a tunnel past FRAME_MAX_DEPTH with E_TOO_DEEP, never recursing further', () => {
    const d = new FrameDecoder();
    // Up to FRAME_MAX_DEPTH tunnels decode; one more stops at the last tunnel's payload.
    const ok = ipInIp(FRAME_MAX_DEPTH + 1);
    expect(d.decodeFrom(FrameLayer.ipv4, ok)).toBeNull();
    const deep = ipInIp(FRAME_MAX_DEPTH + 2);
    const err = d.decodeFrom(FrameLayer.ipv4, deep);
    expect(err).toEqual({
      code: 'E_TOO_DEEP',
      layer: 'ipv4',
      field: 'payload',
      offset: 20 * (FRAME_MAX_DEPTH + 1),
    });
    let levels = 0;
    for (let l: Decoder | null = d; l !== null; l = l.inner) {
      expect(l.error).toBe(err);
      levels++;
    }
    expect(levels).toBe(FRAME_MAX_DEPTH + 1);
    expect(collect(d, err)).toEqual(referenceDecode(deep, 0, deep.length, ALL, 'ipv4'));
    // A shallower decoder stops sooner.
    const shallow = new FrameDecoder(ALL, 1);
    expect(shallow.decodeFrom(FrameLayer.ipv4, ok)?.code).toBe('E_TOO_DEEP');
    expect(shallow.inner?.inner).toBeNull();
  });

  it('rejects impossible windows with the ethernet error instead of throwing', () => {
    const d = new FrameDecoder();
    const bytes = new Uint8Array(64);
    for (const [at, n] of [
      [-1, 20],
      [60, 20],
      [0, 65],
      [0, 10],
    ]) {
      const err = d.decode(bytes, at, n);
      expect(err?.layer).toBe('ethernet');
      expect(err?.code).toBe('E_TRUNCATED');
      expect(d.layers).toBe(0);
    }
  });
});
