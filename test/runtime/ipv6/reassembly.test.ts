import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipv6frag } from '../../../src/generated/index.js';
import { Ipv6Reassembler, MAX_UNFRAGMENTABLE } from '../../../src/runtime/ipv6/reassembly.js';
import { ICMPV6_MAX_QUOTE } from '../../../src/runtime/layers.js';
import type { ReassemblyOptions } from '../../../src/runtime/ip/reassembly.js';
import { createIpv6ReassemblyCounters } from '../../../src/runtime/stats.js';

const UDP = 17;
const FRAGMENT_HEADER = ipv6frag.IPV6FRAGMENT_FIXED_SIZE;

function bytesOf(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function address(last: number): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = 0xfe;
  a[1] = 0x80;
  a[15] = last;
  return a;
}

/** What one original packet is fragmented from. */
interface Original {
  src: Uint8Array;
  dst: Uint8Array;
  id: number;
  nextHeader: number;
  /** The unfragmentable part (opaque to the reassembler). */
  header: Uint8Array;
  data: Uint8Array;
}

function original(dataLength: number, seed = 1, over: Partial<Original> = {}): Original {
  return {
    src: address(1),
    dst: address(2),
    id: 0x1234_5678,
    nextHeader: UDP,
    header: bytesOf(40, seed + 100),
    data: bytesOf(dataLength, seed),
    ...over,
  };
}

/** One fragment packet, laid out with some bytes in front so offsets are not all 0. */
interface Fragment {
  o: Original;
  bytes: Uint8Array;
  packetOffset: number;
  headerLength: number;
  offset: number;
  length: number;
  more: boolean;
  nextHeader: number;
}

/**
 * Fragment [offset, offset + length) of `o`. Fragments past the first carry a different
 * unfragmentable part and next header than the first, so the result shows whose was kept.
 */
function fragment(o: Original, offset: number, length: number, more: boolean): Fragment {
  const header = offset === 0 ? o.header : bytesOf(48, offset);
  const nextHeader = offset === 0 ? o.nextHeader : 59;
  const packetOffset = 3;
  const bytes = new Uint8Array(packetOffset + header.length + FRAGMENT_HEADER + length);
  bytes.set(header, packetOffset);
  const written = ipv6frag.encodeIpv6Fragment(
    {
      nextHeader,
      reserved: 0,
      fragmentOffset: offset / 8,
      reserved2: 0,
      more: more ? 1 : 0,
      identification: o.id,
    },
    bytes,
    packetOffset + header.length,
  );
  expect(written).toBe(FRAGMENT_HEADER);
  bytes.set(
    o.data.subarray(offset, offset + length),
    packetOffset + header.length + FRAGMENT_HEADER,
  );
  return {
    o,
    bytes,
    packetOffset,
    headerLength: header.length,
    offset,
    length,
    more,
    nextHeader,
  };
}

/** Splits `o` at the given cut points (multiples of 8, ascending, inside the data). */
function fragmentAt(o: Original, cuts: number[]): Fragment[] {
  const bounds = [0, ...cuts, o.data.length];
  const out: Fragment[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    out.push(fragment(o, bounds[i], bounds[i + 1] - bounds[i], i + 2 < bounds.length));
  }
  return out;
}

function fragmentBy(o: Original, size: number): Fragment[] {
  const cuts: number[] = [];
  for (let at = size; at < o.data.length; at += size) cuts.push(at);
  return fragmentAt(o, cuts);
}

function make(options: ReassemblyOptions = {}) {
  const counters = createIpv6ReassemblyCounters();
  const wakes: number[] = [];
  const r = new Ipv6Reassembler(counters, (at) => wakes.push(at), options);
  const quotes: Uint8Array[] = [];
  r.timeoutListener = {
    reassemblyTimedOut: (bytes, offset, length) => {
      expect(offset + length).toBeLessThanOrEqual(bytes.length);
      quotes.push(bytes.slice(offset, offset + length));
    },
  };
  return { r, counters, wakes, quotes };
}

function feed(r: Ipv6Reassembler, f: Fragment, now = 0) {
  const o = f.o;
  return r.input(
    o.src,
    0,
    o.dst,
    0,
    o.id,
    f.more,
    f.offset,
    f.nextHeader,
    f.bytes,
    f.packetOffset,
    f.headerLength,
    f.packetOffset + f.headerLength + FRAGMENT_HEADER,
    f.length,
    now,
  );
}

/** The reassembled packet as bytes: unfragmentable part then payload. */
function packetOf(out: NonNullable<ReturnType<Ipv6Reassembler['input']>>): Uint8Array {
  return out.bytes.slice(out.packetOffset, out.packetOffset + out.headerLength + out.payloadLength);
}

function expectWhole(out: ReturnType<Ipv6Reassembler['input']>, o: Original): void {
  expect(out).not.toBeNull();
  if (out === null) return;
  expect(out.headerLength).toBe(o.header.length);
  expect(out.nextHeader).toBe(o.nextHeader);
  expect(out.payloadLength).toBe(o.data.length);
  const want = new Uint8Array(o.header.length + o.data.length);
  want.set(o.header);
  want.set(o.data, o.header.length);
  expect(packetOf(out)).toEqual(want);
}

/** Random cut points for `length` bytes: multiples of 8, strictly inside. */
const cutsFor = (length: number) =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, Math.ceil(length / 8) - 1) }), {
      maxLength: 20,
    })
    .map((units) =>
      units
        .map((u) => u * 8)
        .filter((c) => c < length)
        .sort((a, b) => a - b),
    );

describe('IPv6 reassembly', () => {
  it('reassembles in order, out of order, with the first fragment last', () => {
    const o = original(3000, 2, { header: bytesOf(40 + 16, 5) });
    for (const order of [
      [0, 1, 2, 3],
      [2, 0, 3, 1],
      [3, 2, 1, 0],
    ]) {
      const { r, counters } = make();
      const f = fragmentBy(o, 800);
      for (const i of order.slice(0, -1)) expect(feed(r, f[i])).toBeNull();
      expectWhole(feed(r, f[order[order.length - 1]]), o);
      expect(counters.reassembled).toBe(1);
      expect(r.memory).toBe(0);
      expect(r.incomplete).toBe(0);
    }
  });

  it('reassembles any permutation of any fragmentation, with exact duplicates ignored', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 9000 }).chain((length) =>
          fc.record({
            length: fc.constant(length),
            cuts: cutsFor(length),
            seed: fc.integer({ min: 1, max: 1000 }),
            headerExtra: fc.integer({ min: 0, max: 16 }),
            perm: fc.array(fc.nat(), { minLength: 21, maxLength: 21 }),
            dups: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
          }),
        ),
        ({ length, cuts, seed, headerExtra, perm, dups }) => {
          const o = original(length, seed, { header: bytesOf(40 + 8 * headerExtra, seed) });
          const frags = fragmentAt(o, cuts);
          // A permutation from the random keys, then duplicates of earlier entries placed before
          // the last (so the last arrival is the one that completes).
          const order = frags
            .map((f, i) => ({ f, k: perm[i] }))
            .sort((a, b) => a.k - b.k)
            .map((e) => e.f);
          let duplicates = 0;
          if (order.length > 1) {
            for (const [a, b] of dups) {
              const from = a % (order.length - 1);
              const at = from + 1 + (b % (order.length - 1 - from));
              order.splice(at, 0, order[from]);
              duplicates++;
            }
          }
          const { r, counters } = make();
          for (let i = 0; i + 1 < order.length; i++) expect(feed(r, order[i])).toBeNull();
          expectWhole(feed(r, order[order.length - 1]), o);
          expect(counters.drops.fragDuplicate).toBe(duplicates);
          expect(counters.reassembled).toBe(1);
          expect(r.memory).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('discards the packet on an overlap and drops its later fragments until it times out', () => {
    const { r, counters, quotes } = make({ timeoutMs: 1000 });
    const o = original(2400, 3);
    const f = fragmentBy(o, 800);
    expect(feed(r, f[0], 0)).toBeNull();
    // [400, 1200) overlaps [0, 800) partially.
    expect(feed(r, fragment(o, 400, 800, true), 10)).toBeNull();
    expect(counters.drops.fragOverlap).toBe(1);
    expect(r.memory).toBe(0);
    expect(r.incomplete).toBe(0);
    expect(r.discarded).toBe(1);
    // The rest, and even a clean resend, do not complete it.
    for (const g of f) expect(feed(r, g, 20)).toBeNull();
    expect(counters.drops.fragAfterOverlap).toBe(3);
    expect(counters.reassembled).toBe(0);
    // The marker goes when the packet would have timed out: no timeout counted, nothing quoted.
    r.tick(999);
    expect(r.discarded).toBe(1);
    r.tick(1000);
    expect(r.discarded).toBe(0);
    expect(counters.drops.reassemblyTimeout).toBe(0);
    expect(quotes).toHaveLength(0);
    // After that the same key reassembles afresh.
    for (const g of f.slice(0, -1)) expect(feed(r, g, 1001)).toBeNull();
    expectWhole(feed(r, f[f.length - 1], 1001), o);
  });

  it('keeps other packets when one is discarded for an overlap', () => {
    const { r, counters } = make();
    const a = original(1600, 4, { id: 1 });
    const b = original(1600, 5, { id: 2 });
    const fa = fragmentBy(a, 800);
    const fb = fragmentBy(b, 800);
    feed(r, fa[0]);
    feed(r, fb[0]);
    feed(r, fragment(a, 8, 800, true));
    expect(counters.drops.fragOverlap).toBe(1);
    expectWhole(feed(r, fb[1]), b);
  });

  it('gives up an overlap marker first-in-first-out for a datagram slot, uncounted', () => {
    const { r, counters } = make({ maxDatagrams: 2 });
    const a = original(1600, 90, { id: 1 });
    feed(r, fragmentBy(a, 800)[0]);
    feed(r, fragment(a, 8, 800, true));
    expect(r.discarded).toBe(1);
    feed(r, fragmentBy(original(1600, 91, { id: 2 }), 800)[0]);
    feed(r, fragmentBy(original(1600, 92, { id: 3 }), 800)[0]);
    expect(r.discarded).toBe(0);
    expect(r.incomplete).toBe(2);
    expect(counters.drops.reassemblyMemory).toBe(0);
    // Forgotten: a fragment of `a` now starts a new packet (evicting the oldest, counted).
    feed(r, fragmentBy(a, 800)[1]);
    expect(counters.drops.fragAfterOverlap).toBe(0);
    expect(counters.drops.reassemblyMemory).toBe(1);
  });

  it('drops a packet whose last fragments disagree on its end', () => {
    const { r, counters } = make();
    const o = original(2400, 6);
    const f = fragmentBy(o, 800);
    feed(r, f[2]);
    feed(r, fragment(o, 800, 800, false));
    expect(counters.drops.fragInvalid).toBe(1);
    expect(r.incomplete).toBe(0);
    expect(r.memory).toBe(0);
  });

  it('times out, quoting the offset-0 fragment only when it arrived', () => {
    const { r, counters, quotes, wakes } = make();
    const o = original(3000, 7, { header: bytesOf(56, 8) });
    const f = fragmentBy(o, 800);
    feed(r, f[0], 0);
    feed(r, f[1], 5);
    feed(r, f[3], 6);
    const other = original(3000, 9, { id: 99 });
    feed(r, fragmentBy(other, 800)[1], 100);
    expect(wakes).toContain(60_000);
    r.tick(59_999);
    expect(r.incomplete).toBe(2);
    r.tick(60_000);
    expect(r.incomplete).toBe(1);
    expect(quotes).toHaveLength(1);
    // The offset-0 fragment's packet: its header, its Fragment header, then data from offset 0
    // as far as received contiguously (fragments 0 and 1: 1600 bytes), cut to the quote limit.
    const first = f[0].bytes.subarray(f[0].packetOffset);
    const want = new Uint8Array(56 + FRAGMENT_HEADER + 1600);
    want.set(first.subarray(0, 56 + FRAGMENT_HEADER));
    want.set(o.data.subarray(0, 1600), 56 + FRAGMENT_HEADER);
    expect(quotes[0]).toEqual(want.subarray(0, ICMPV6_MAX_QUOTE));
    expect(ICMPV6_MAX_QUOTE).toBe(1280 - 40 - 8);
    r.tick(60_100);
    expect(r.incomplete).toBe(0);
    expect(quotes).toHaveLength(1);
    expect(counters.drops.reassemblyTimeout).toBe(2);
  });

  it('quotes a short first fragment whole', () => {
    const { r, quotes } = make({ timeoutMs: 10 });
    const o = original(400, 10);
    const f = fragmentBy(o, 200);
    feed(r, f[0]);
    r.tick(10);
    expect(quotes).toHaveLength(1);
    expect(quotes[0]).toEqual(f[0].bytes.subarray(f[0].packetOffset));
  });

  it('keeps (src, dst, id) keys apart', () => {
    const { r } = make();
    const base = original(2400, 11);
    const sameIdOtherSrc = original(2400, 12, { src: address(3) });
    const sameIdOtherDst = original(2400, 13, { dst: address(4) });
    const otherId = original(2400, 14, { id: base.id + 1 });
    const all = [base, sameIdOtherSrc, sameIdOtherDst, otherId];
    const frags = all.map((o) => fragmentBy(o, 800));
    // Interleaved: every packet's fragment i before any packet's fragment i + 1, last ones last.
    for (let i = 0; i < 2; i++) for (const f of frags) expect(feed(r, f[i])).toBeNull();
    expect(r.incomplete).toBe(4);
    frags.forEach((f, k) => expectWhole(feed(r, f[2]), all[k]));
  });

  it('reads the identification as 32 bits, signed or unsigned', () => {
    const { r } = make();
    const o = original(1600, 15, { id: 0xffff_fffe });
    const f = fragmentBy(o, 800);
    feed(r, f[0]);
    const last = f[1];
    const out = r.input(
      o.src,
      0,
      o.dst,
      0,
      -2,
      last.more,
      last.offset,
      last.nextHeader,
      last.bytes,
      last.packetOffset,
      last.headerLength,
      last.packetOffset + last.headerLength + FRAGMENT_HEADER,
      last.length,
      0,
    );
    expectWhole(out, o);
  });

  it('evicts the oldest packet when too many are in progress', () => {
    const { r, counters } = make({ maxDatagrams: 2 });
    const os = [1, 2, 3].map((id) => original(1600, 20 + id, { id }));
    const fs = os.map((o) => fragmentBy(o, 800));
    for (const f of fs) feed(r, f[0]);
    expect(r.incomplete).toBe(2);
    expect(counters.drops.reassemblyMemory).toBe(1);
    // The oldest is gone: its last fragment starts a new packet instead of completing.
    expect(feed(r, fs[0][1])).toBeNull();
    // That evicted the next oldest; the newest still completes.
    expect(counters.drops.reassemblyMemory).toBe(2);
    expectWhole(feed(r, fs[2][1]), os[2]);
  });

  it('evicts the oldest packets to stay under the memory bound, refuses one that alone exceeds it', () => {
    const one = (() => {
      const { r } = make();
      feed(r, fragmentBy(original(1600, 30), 800)[0]);
      return r.memory;
    })();
    // One source here: its share is the whole table (the per-source bound is tested below).
    const { r, counters } = make({ maxBytes: 3 * one, maxBytesPerSource: 3 * one });
    const os = [1, 2, 3, 4, 5].map((id) => original(1600, 30 + id, { id }));
    const fs = os.map((o) => fragmentBy(o, 800));
    for (const f of fs) {
      feed(r, f[0]);
      expect(r.memory).toBeLessThanOrEqual(3 * one);
    }
    expect(r.incomplete).toBe(3);
    expect(counters.drops.reassemblyMemory).toBe(2);
    expectWhole(feed(r, fs[4][1]), os[4]);
    // A packet whose buffer would have to outgrow the bound is discarded.
    const big = original(20_000, 40, { id: 77 });
    const small = make({ maxBytes: one + 1000, maxBytesPerSource: one + 1000 });
    const fb = fragmentBy(big, 1000);
    expect(feed(small.r, fb[0])).toBeNull();
    expect(feed(small.r, fb[fb.length - 1])).toBeNull();
    expect(small.r.memory).toBe(0);
    expect(small.counters.drops.reassemblyMemory).toBe(1);
  });

  it('charges a fragment what arrived, not what its offset claims', () => {
    const { r } = make();
    const o = original(65000, 60);
    const fs = fragmentBy(o, 1448);
    // The last fragment alone, at offset ~64,000: about its own 1,448 bytes are held.
    feed(r, fs[fs.length - 1]);
    expect(r.memory).toBeGreaterThan(fs[fs.length - 1].length);
    expect(r.memory).toBeLessThan(4096);
    for (const f of fs.slice(0, -1)) feed(r, f);
    expect(r.memory).toBe(0);
  });

  it("keeps one source's flood from evicting another source's packets", () => {
    const other = address(1);
    other[7] = 9; // another /64
    const { r, counters } = make({ maxBytes: 64 * 1024, maxBytesPerSource: 16 * 1024 });
    const theirs = original(3000, 61, { src: other, id: 5 });
    const [first, second] = fragmentBy(theirs, 1500);
    feed(r, first);
    for (let id = 100; id < 200; id++) feed(r, fragmentBy(original(3000, id, { id }), 1500)[0]);
    expect(counters.drops.reassemblyMemory).toBeGreaterThan(80);
    expect(r.memory).toBeLessThanOrEqual(16 * 1024 + 4096);
    expectWhole(feed(r, second), theirs);
  });

  it('stays within its bounds under a flood of random fragments', () => {
    const os = Array.from({ length: 12 }, (_, k) =>
      original(65535, 50, { id: k >> 1, src: address(k & 1) }),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.integer({ min: 0, max: 11 }),
            offset: fc.oneof(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 8191 })),
            units: fc.integer({ min: 0, max: 200 }),
            tail: fc.integer({ min: 0, max: 7 }),
            more: fc.boolean(),
            dt: fc.integer({ min: 0, max: 3000 }),
          }),
          { maxLength: 300 },
        ),
        (flood) => {
          const maxBytes = 100_000;
          const maxDatagrams = 6;
          const { r } = make({ maxBytes, maxDatagrams, timeoutMs: 20_000 });
          let now = 0;
          for (const x of flood) {
            now += x.dt;
            const offset = x.offset * 8;
            // The caller's rules: M set means a multiple of 8; offset + length <= 65535.
            const length = Math.min(x.units * 8 + (x.more ? 0 : x.tail), 65535 - offset);
            if (length % 8 !== 0 && x.more) continue;
            if (offset === 0 && !x.more) continue; // atomic: not reassembled
            feed(r, fragment(os[x.key], offset, length, x.more), now);
            expect(r.memory).toBeLessThanOrEqual(maxBytes);
            expect(r.incomplete + r.discarded).toBeLessThanOrEqual(maxDatagrams);
            if (x.dt > 1000) r.tick(now);
          }
          r.tick(now + 20_000);
          expect(r.memory).toBe(0);
          expect(r.incomplete + r.discarded).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('drops a packet whose reassembled Payload Length would exceed 65535', () => {
    // 24 bytes of extension headers leave 65535 - 24 for the fragmentable part.
    const limit = 65535 - 24;
    const o = original(limit + 8, 60, { header: bytesOf(64, 61) });
    const { r, counters } = make();
    // The last fragment first (no header known yet: stored), then the first: too long.
    const tail = fragment(o, 65528 - 24, limit + 8 - (65528 - 24), false);
    expect(feed(r, tail)).toBeNull();
    expect(r.incomplete).toBe(1);
    expect(feed(r, fragment(o, 0, 1280, true))).toBeNull();
    expect(counters.drops.fragInvalid).toBe(1);
    expect(r.incomplete).toBe(0);
    // Exactly at the limit it completes.
    const fits = original(limit, 62, { header: bytesOf(64, 63) });
    const { r: r2 } = make();
    const frags = fragmentBy(fits, 1448);
    for (const g of frags.slice(0, -1)) expect(feed(r2, g)).toBeNull();
    expectWhole(feed(r2, frags[frags.length - 1]), fits);
  });

  it('drops a first fragment whose unfragmentable part is longer than the room kept', () => {
    const { r, counters } = make();
    const o = original(1600, 70, { header: bytesOf(MAX_UNFRAGMENTABLE + 8, 71) });
    const f = fragmentBy(o, 800);
    expect(feed(r, f[0])).toBeNull();
    expect(counters.drops.fragHeaderTooLong).toBe(1);
    expect(feed(r, f[1])).toBeNull();
    expect(counters.reassembled).toBe(0);
    // The longest kept works.
    const fits = original(1600, 72, { header: bytesOf(MAX_UNFRAGMENTABLE, 73), id: 5 });
    const g = fragmentBy(fits, 800);
    feed(r, g[1]);
    expectWhole(feed(r, g[0]), fits);
  });

  it('drops an empty fragment with M set without disturbing its packet', () => {
    const { r, counters } = make();
    const o = original(1600, 80);
    const f = fragmentBy(o, 800);
    feed(r, f[0]);
    expect(feed(r, fragment(o, 800, 0, true))).toBeNull();
    expect(counters.drops.fragInvalid).toBe(1);
    expectWhole(feed(r, f[1]), o);
  });
});
