/**
 * The state machine's data structures against plain reference models: sequence arithmetic
 * against BigInt modulo 2^32, the SACK scoreboard (RFC 6675 §3) and the out-of-order queue's
 * SACK blocks (RFC 2018 §4) against a set of byte offsets, the send buffer against an array.
 * Random operation sequences start anywhere in sequence space, so the 2^32 wrap-around is
 * crossed in most runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReorderQueue } from '../../src/fsm/reorder.js';
import { SackScoreboard } from '../../src/fsm/sack.js';
import { SendBuffer } from '../../src/fsm/sendbuffer.js';
import {
  seqAdd,
  seqDiff,
  seqGe,
  seqGt,
  seqInWindow,
  seqLe,
  seqLt,
  seqMax,
  seqMin,
} from '../../src/fsm/seq.js';
import { pattern } from './harness.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** A distance that orders correctly: |d| < 2^31. */
const dist = fc.integer({ min: -0x7fffffff, max: 0x7fffffff });

describe('sequence arithmetic (RFC 9293 §3.4) against modular reference', () => {
  it('orders b = a + d by the sign of d, whatever a is', () => {
    fc.assert(
      fc.property(u32, dist, (a, d) => {
        const b = Number((BigInt(a) + BigInt(d)) & 0xffffffffn);
        expect(seqAdd(a, d)).toBe(b);
        expect(seqDiff(b, a)).toBe(d);
        expect(seqLt(a, b)).toBe(d > 0);
        expect(seqLe(a, b)).toBe(d >= 0);
        expect(seqGt(a, b)).toBe(d < 0);
        expect(seqGe(a, b)).toBe(d <= 0);
        expect(seqMax(a, b)).toBe(d >= 0 ? b : a);
        expect(seqMin(a, b)).toBe(d >= 0 ? a : b);
      }),
    );
  });
  it('seqInWindow(x, lo, lo + size) holds exactly for the size numbers from lo on', () => {
    fc.assert(
      fc.property(
        u32,
        fc.integer({ min: 1, max: 0x3fffffff }),
        fc.integer({ min: -0x3fffffff, max: 0x3fffffff }),
        (lo, size, off) => {
          const hi = seqAdd(lo, size);
          expect(seqInWindow(seqAdd(lo, off), lo, hi)).toBe(off >= 0 && off < size);
          expect(seqInWindow(lo, lo, hi)).toBe(true);
          expect(seqInWindow(seqAdd(lo, -1), lo, hi)).toBe(false);
          expect(seqInWindow(seqAdd(hi, -1), lo, hi)).toBe(true);
          expect(seqInWindow(hi, lo, hi)).toBe(false);
        },
      ),
    );
  });
});

/** Maximal runs [l, r) of consecutive offsets in a set, ascending. */
function runs(set: Set<number>): Array<[number, number]> {
  const sorted = [...set].sort((x, y) => x - y);
  const out: Array<[number, number]> = [];
  for (const o of sorted) {
    const last = out.at(-1);
    if (last !== undefined && last[1] === o) last[1] = o + 1;
    else out.push([o, o + 1]);
  }
  return out;
}

const sackOps = fc.array(
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('add' as const),
        left: fc.integer({ min: -50, max: 700 }),
        len: fc.integer({ min: -5, max: 120 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('advance' as const),
        by: fc.integer({ min: 0, max: 120 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('send' as const),
        n: fc.integer({ min: 1, max: 200 }),
      }),
    },
  ),
  { maxLength: 40 },
);

describe('SACK scoreboard (RFC 6675 §3) against a set of SACKed offsets', () => {
  it('holds exactly the reported bytes within (SND.UNA, SND.MAX], merged, and answers queries', () => {
    fc.assert(
      fc.property(
        u32,
        sackOps,
        fc.array(fc.integer({ min: -20, max: 900 }), { minLength: 4, maxLength: 4 }),
        (base, ops, probes) => {
          const sb = new SackScoreboard(64);
          const ref = new Set<number>();
          let una = 0;
          let sndMax = 500;
          const at = (o: number): number => seqAdd(base, o);
          for (const op of ops) {
            if (op.kind === 'add') {
              let grew = false;
              for (let o = Math.max(op.left, una); o < Math.min(op.left + op.len, sndMax); o++) {
                if (!ref.has(o)) grew = true;
                ref.add(o);
              }
              expect(sb.add(at(op.left), at(op.left + op.len), at(una), at(sndMax))).toBe(grew);
            } else if (op.kind === 'advance') {
              una = Math.min(sndMax, una + op.by);
              for (const o of [...ref]) if (o < una) ref.delete(o);
              sb.advance(at(una));
            } else sndMax += op.n;

            const want = runs(ref);
            expect(sb.count).toBe(want.length);
            expect(sb.sackedBytes).toBe(ref.size);
            for (let i = 0; i < want.length; i++) {
              expect([sb.rangeStart(i), sb.rangeEnd(i)]).toEqual([at(want[i][0]), at(want[i][1])]);
            }
            if (want.length > 0) expect(sb.highest).toBe(at(want.at(-1)![1]));
            for (const p of probes) {
              let skip = p;
              while (ref.has(skip)) skip++;
              expect(sb.skipSacked(at(p))).toBe(at(skip));
              const next = want.find(([l]) => l > p);
              const limit = p + 300;
              expect(sb.nextSackedStart(at(p), at(limit))).toBe(
                at(next === undefined ? limit : Math.min(next[0], limit)),
              );
              let inRange = 0;
              for (let o = p; o < p + 150; o++) if (ref.has(o)) inRange++;
              expect(sb.sackedIn(at(p), at(p + 150))).toBe(inRange);
              expect(sb.covers(at(p), at(p + 10))).toBe(skip >= p + 10);
            }
          }
        },
      ),
    );
  });

  it('when full keeps the lowest ranges, a subset of what was reported, with a true byte count', () => {
    fc.assert(
      fc.property(u32, sackOps, (base, ops) => {
        const sb = new SackScoreboard(3);
        const ref = new Set<number>();
        let una = 0;
        let sndMax = 500;
        const at = (o: number): number => seqAdd(base, o);
        for (const op of ops) {
          if (op.kind === 'add') {
            for (let o = Math.max(op.left, una); o < Math.min(op.left + op.len, sndMax); o++)
              ref.add(o);
            sb.add(at(op.left), at(op.left + op.len), at(una), at(sndMax));
          } else if (op.kind === 'advance') {
            una = Math.min(sndMax, una + op.by);
            for (const o of [...ref]) if (o < una) ref.delete(o);
            sb.advance(at(una));
          } else sndMax += op.n;
          expect(sb.count).toBeLessThanOrEqual(3);
          let sum = 0;
          let prevEnd = -Infinity;
          for (let i = 0; i < sb.count; i++) {
            const l = seqDiff(sb.rangeStart(i), base);
            const r = seqDiff(sb.rangeEnd(i), base);
            expect(l).toBeGreaterThan(prevEnd); // sorted, disjoint, not touching
            expect(r).toBeGreaterThan(l);
            for (let o = l; o < r; o++) expect(ref.has(o)).toBe(true);
            sum += r - l;
            prevEnd = r;
          }
          expect(sb.sackedBytes).toBe(sum);
        }
      }),
    );
  });

  it('a block below everything held evicts the highest range when the table is full', () => {
    const sb = new SackScoreboard(2);
    expect(sb.add(30, 40, 0, 1000)).toBe(true);
    expect(sb.add(50, 60, 0, 1000)).toBe(true);
    expect(sb.add(70, 80, 0, 1000)).toBe(false); // would be highest: forgotten
    expect(sb.add(10, 20, 0, 1000)).toBe(true);
    expect([sb.rangeStart(0), sb.rangeEnd(0), sb.rangeStart(1), sb.rangeEnd(1)]).toEqual([
      10, 20, 30, 40,
    ]);
    expect(sb.sackedBytes).toBe(20);
    expect(sb.add(40, 50, 0, 1000)).toBe(true); // joins [30,40) to what is left of the table
    expect(sb.sackedBytes).toBe(30);
    sb.clear();
    expect([sb.count, sb.sackedBytes]).toEqual([0, 0]);
    expect(sb.skipSacked(35)).toBe(35);
  });
});

describe('out-of-order queue against a set of held offsets', () => {
  it('stores each byte once, drains in order with the right bytes, and reports RFC 2018 blocks', () => {
    const data = pattern(4096, 7);
    fc.assert(
      fc.property(
        u32,
        fc.array(
          fc.oneof(
            {
              weight: 4,
              arbitrary: fc.record({
                kind: fc.constant('ooo' as const),
                gap: fc.integer({ min: 1, max: 300 }),
                len: fc.integer({ min: 1, max: 80 }),
              }),
            },
            {
              weight: 1,
              arbitrary: fc.record({
                kind: fc.constant('inorder' as const),
                len: fc.integer({ min: 1, max: 120 }),
              }),
            },
          ),
          { maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 4 }),
        (base, ops, maxBlocks) => {
          const q = new ReorderQueue(1 << 20, 1000);
          const ref = new Set<number>();
          let nxt = 0;
          /** Offset inside the segment that last stored new bytes, until a drain. */
          let latest = -1;
          const at = (o: number): number => seqAdd(base, o);
          for (const op of ops) {
            if (op.kind === 'ooo') {
              const start = nxt + op.gap;
              const end = Math.min(start + op.len, data.length);
              if (end <= start) continue;
              let fresh = 0;
              for (let o = start; o < end; o++)
                if (!ref.has(o)) {
                  ref.add(o);
                  fresh++;
                }
              expect(q.insert(at(start), data, start, end - start)).toBe(fresh);
              if (fresh > 0) latest = start;
            } else {
              // The segment at RCV.NXT is delivered by the state machine itself; then the queue.
              nxt = Math.min(nxt + op.len, data.length);
              const got: number[] = [];
              const after = q.drain(at(nxt), (b, o, l) => got.push(...b.subarray(o, o + l)));
              let want = nxt;
              while (ref.has(want)) want++;
              expect(after).toBe(at(want));
              expect(got).toEqual([...data.subarray(nxt, want)]);
              for (const o of [...ref]) if (o < want) ref.delete(o);
              if (latest < want) latest = -1;
              nxt = want;
            }
            expect(q.bytes).toBe(ref.size);
            const want = runs(ref);
            const out: number[] = [];
            const n = q.sackBlocks(out, maxBlocks);
            expect(n).toBe(Math.min(maxBlocks, want.length));
            const blocks = Array.from({ length: n }, (_, i) => [out[2 * i], out[2 * i + 1]]);
            const asOffsets = blocks.map(([l, r]) => [seqDiff(l, base), seqDiff(r, base)]);
            let rest = asOffsets;
            if (latest >= 0 && n > 0) {
              // RFC 2018 §4: the first block holds the segment that triggered this ACK.
              const first = want.find(([l, r]) => l <= latest && latest < r);
              expect(asOffsets[0]).toEqual(first);
              rest = asOffsets.slice(1);
              expect(rest).toEqual(want.filter((b) => b !== first).slice(0, n - 1));
            } else {
              expect(rest).toEqual(want.slice(0, n));
            }
          }
        },
      ),
    );
  });

  it('never holds more than its byte and chunk bounds, and what it holds is what arrived', () => {
    const data = pattern(4096, 9);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            start: fc.integer({ min: 1, max: 3000 }),
            len: fc.integer({ min: 1, max: 200 }),
          }),
          {
            maxLength: 30,
          },
        ),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 6 }),
        (segs, maxBytes, maxChunks) => {
          const q = new ReorderQueue(maxBytes, maxChunks);
          let held = 0;
          for (const s of segs) {
            held += q.insert(s.start, data, s.start, s.len);
            expect(q.bytes).toBe(held);
            expect(q.bytes).toBeLessThanOrEqual(maxBytes);
            expect(q.size).toBeLessThanOrEqual(maxChunks);
          }
          const out: number[] = [];
          const n = q.sackBlocks(out, 8);
          let sum = 0;
          for (let i = 0; i < n; i++) sum += out[2 * i + 1] - out[2 * i];
          expect(sum).toBe(held);
          // Everything from 0 is deliverable once the gap below each block fills; check content.
          const got: number[] = [];
          let nxt = 0;
          const blocks = Array.from({ length: n }, (_, i) => [out[2 * i], out[2 * i + 1]]).sort(
            (x, y) => x[0] - y[0],
          );
          for (const [l] of blocks) {
            nxt = q.drain(l, (b, o, len) => got.push(...b.subarray(o, o + len)));
            expect(got).toEqual([...data.subarray(l, nxt)]);
            got.length = 0;
          }
          expect(q.bytes).toBe(0);
          expect(q.empty).toBe(true);
        },
      ),
    );
  });
});

describe('send buffer against an array of unacknowledged bytes', () => {
  it('takes what fits, drops from the front, and copies any held range', () => {
    const data = pattern(1 << 16, 3);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 64 }),
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('push' as const),
              len: fc.integer({ min: 0, max: 300 }),
            }),
            fc.record({ kind: fc.constant('drop' as const), n: fc.integer({ min: 0, max: 300 }) }),
            fc.record({
              kind: fc.constant('resize' as const),
              cap: fc.integer({ min: 0, max: 700 }),
            }),
          ),
          { maxLength: 40 },
        ),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 3, maxLength: 3 }),
        (capacity, initial, ops, ranges) => {
          const b = new SendBuffer(capacity, initial);
          let limit = capacity;
          const ref: number[] = [];
          let written = 0;
          for (const op of ops) {
            if (op.kind === 'push') {
              const take = Math.max(0, Math.min(op.len, limit - ref.length));
              expect(b.push(data, written, op.len)).toBe(take);
              ref.push(...data.subarray(written, written + take));
              written += take;
            } else if (op.kind === 'drop') {
              b.drop(op.n);
              ref.splice(0, op.n);
            } else {
              b.resize(op.cap);
              limit = Math.max(1, op.cap);
            }
            expect(b.length).toBe(ref.length);
            expect(b.capacity).toBe(limit);
            expect(b.free).toBe(Math.max(0, limit - ref.length));
            for (const [x, y] of ranges) {
              const off = ref.length === 0 ? 0 : x % (ref.length + 1);
              const len = ref.length === 0 ? 0 : y % (ref.length - off + 1);
              const out = new Uint8Array(len + 2);
              b.copy(off, len, out, 1);
              expect([...out.subarray(1, 1 + len)]).toEqual(ref.slice(off, off + len));
              expect([out[0], out[len + 1]]).toEqual([0, 0]);
            }
            expect(() => b.copy(0, ref.length + 1, new Uint8Array(ref.length + 1), 0)).toThrow(
              RangeError,
            );
            expect(() => b.copy(-1, 1, new Uint8Array(1), 0)).toThrow(RangeError);
            expect(() => b.copy(0, -1, new Uint8Array(1), 0)).toThrow(RangeError);
          }
        },
      ),
    );
  });
});
