/**
 * FrameDecoder (src/generated/frame.ts, generated from the specs' dispatch) against a reference
 * walk that wraps one fresh view per layer and dispatches with the generated payloadKind(): on
 * every fixture frame and on hostile variants of them, both must decode the same layers to the
 * same fields and fail at the same layer with the same error. decode() must never throw or read
 * outside its window, whatever it is given.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodeError } from '../../src/codec/errors.js';
import {
  arp,
  dhcp,
  dns,
  ethernet,
  frame,
  icmp,
  ipv4,
  tcp,
  udp,
  vlan,
} from '../../src/generated/index.js';
import { fixturePcaps, readPcapFrames, watched } from './helpers.js';

const { FrameDecoder, FrameLayer } = frame;
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

/** The layer-by-layer decode FrameDecoder must equal. */
function referenceDecode(bytes: Uint8Array, offset: number, length: number, wanted: number) {
  const views = {
    ethernet: new ethernet.EthernetView(),
    vlan: new vlan.VlanView(),
    arp: new arp.ArpView(),
    ipv4: new ipv4.Ipv4View(),
    icmp: new icmp.IcmpView(),
    tcp: new tcp.TcpView(),
    udp: new udp.UdpView(),
    dhcp: new dhcp.DhcpView(),
    dns: new dns.DnsView(),
  } satisfies Record<LayerName, View>;
  let layers = 0;
  const done = (error: DecodeError | null): Outcome => {
    const shown: Partial<Record<LayerName, unknown>> = {};
    for (const name of LAYER_NAMES) {
      if ((layers & FrameLayer[name]) !== 0) shown[name] = show(views[name]);
    }
    return { layers, error: error === null ? null : { ...error }, shown };
  };
  const step = (name: LayerName, at: number, n: number): DecodeError | null => {
    const err = views[name].wrap(bytes, at, n);
    if (err === null) layers |= FrameLayer[name];
    return err;
  };
  const wants = (name: LayerName): boolean => (wanted & FrameLayer[name]) !== 0;

  let err = step('ethernet', offset, length);
  if (err !== null) return done(err);
  let next: string | null = ethernet.payloadKind(views.ethernet);
  let at = views.ethernet.payloadOffset;
  let n = views.ethernet.payloadLength;
  while (next === 'vlan' && wants('vlan')) {
    err = step('vlan', at, n);
    if (err !== null) return done(err);
    next = vlan.payloadKind(views.vlan);
    at = views.vlan.payloadOffset;
    n = views.vlan.payloadLength;
  }
  if (next === 'arp' && wants('arp')) return done(step('arp', at, n));
  if (next !== 'ipv4' || !wants('ipv4')) return done(null);
  err = step('ipv4', at, n);
  if (err !== null) return done(err);
  const ip = views.ipv4;
  const transport = ipv4.payloadKind(ip);
  if (transport === null || !wants(transport)) return done(null);
  err = step(transport, ip.payloadOffset, ip.payloadLength);
  if (err !== null || transport !== 'udp') return done(err);
  const app = udp.payloadKind(views.udp);
  if (app === null || !wants(app)) return done(null);
  return done(step(app, views.udp.payloadOffset, views.udp.payloadLength));
}

function frameDecode(
  d: InstanceType<typeof FrameDecoder>,
  bytes: Uint8Array,
  at: number,
  n: number,
) {
  const error = d.decode(bytes, at, n);
  expect(error).toBe(d.error);
  const shown: Partial<Record<LayerName, unknown>> = {};
  for (const name of LAYER_NAMES) {
    if (d.has(FrameLayer[name])) shown[name] = show(d[name] as View);
  }
  return { layers: d.layers, error: error === null ? null : { ...error }, shown };
}

const frames = fixturePcaps().flatMap((path) => readPcapFrames(path));

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
