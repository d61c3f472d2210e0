/**
 * The send buffer against a model (an array of the bytes held) with writes on both sides of
 * COPY_BELOW: long ones are referenced, short ones copied into own blocks. Ranges copied out
 * cross chunk and block boundaries, acknowledgements cut chunks anywhere, and the capacity
 * changes under it; a dropped chunk is no longer referenced.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COPY_BELOW, SendBuffer } from '../../src/fsm/sendbuffer.js';

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 7) & 0xff);
}

describe('SendBuffer', () => {
  it('holds exactly what was pushed, whatever the write sizes, drops and ranges (model)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 * 1024 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('push' as const),
              len: fc.oneof(
                fc.integer({ min: 0, max: 300 }),
                fc.integer({ min: COPY_BELOW - 2, max: COPY_BELOW + 2 }),
                fc.integer({ min: 0, max: 20_000 }),
              ),
              at: fc.nat(),
            }),
            fc.record({ kind: fc.constant('drop' as const), n: fc.nat(25_000) }),
            fc.record({
              kind: fc.constant('resize' as const),
              cap: fc.integer({ min: 0, max: 70_000 }),
            }),
            fc.record({
              kind: fc.constant('copy' as const),
              x: fc.nat(),
              y: fc.nat(),
              z: fc.nat(3),
            }),
          ),
          { maxLength: 60 },
        ),
        (capacity, blockSize, ops) => {
          const b = new SendBuffer(capacity, blockSize);
          let limit = capacity;
          const ref: number[] = [];
          // Each push gets a buffer of its own, as an application writing a fresh Buffer.
          let seed = 0;
          for (const op of ops) {
            if (op.kind === 'push') {
              const src = pattern(op.len + 8, ++seed);
              const off = op.at % 8;
              const len = Math.min(op.len, src.length - off);
              const take = Math.max(0, Math.min(len, limit - ref.length));
              expect(b.push(src, off, len)).toBe(take);
              ref.push(...src.subarray(off, off + take));
            } else if (op.kind === 'drop') {
              b.drop(op.n);
              ref.splice(0, op.n);
            } else if (op.kind === 'resize') {
              b.resize(op.cap);
              limit = Math.max(1, op.cap);
            } else {
              const off = ref.length === 0 ? 0 : op.x % (ref.length + 1);
              const len = ref.length === 0 ? 0 : op.y % (ref.length - off + 1);
              const out = new Uint8Array(len + 2 + op.z);
              b.copy(off, len, out, 1 + op.z);
              expect([...out.subarray(1 + op.z, 1 + op.z + len)]).toEqual(
                ref.slice(off, off + len),
              );
              expect([out[op.z], out[len + 1 + op.z]]).toEqual([0, 0]);
            }
            expect(b.length).toBe(ref.length);
            expect(b.free).toBe(Math.max(0, limit - ref.length));
            if (ref.length === 0) expect(b.chunks).toBe(0);
          }
          // Segmentation order: the whole buffer in MSS-sized pieces, then from the start again
          // (a retransmission), each read back exactly.
          for (const mss of [1448, 536]) {
            for (let off = 0; off < ref.length; off += mss) {
              const len = Math.min(mss, ref.length - off);
              const out = new Uint8Array(len);
              b.copy(off, len, out, 0);
              expect([...out]).toEqual(ref.slice(off, off + len));
            }
          }
          b.drop(ref.length);
          expect(b.chunks).toBe(0);
        },
      ),
      { seed: 4242, numRuns: 300 },
    );
  });

  it('references long writes and copies short ones', () => {
    const b = new SendBuffer(1 << 20);
    const long = new Uint8Array(COPY_BELOW).fill(1);
    const short = new Uint8Array(COPY_BELOW - 1).fill(2);
    b.push(long, 0, long.length);
    b.push(short, 0, short.length);
    // What the documented contract forbids, done here to show which bytes are whose.
    long[0] = 9;
    short[0] = 9;
    const out = new Uint8Array(2);
    b.copy(0, 1, out, 0);
    b.copy(COPY_BELOW, 1, out, 1);
    expect([...out]).toEqual([9, 2]);
    expect(b.chunks).toBe(2);
    b.drop(COPY_BELOW);
    expect(b.chunks).toBe(1);
  });

  it('extends one chunk with consecutive short writes and reuses an acknowledged block', () => {
    const b = new SendBuffer(1 << 20, 1024);
    for (let i = 0; i < 10; i++) b.push(pattern(100, i), 0, 100);
    expect(b.chunks).toBe(1);
    b.push(pattern(500, 1), 0, 500); // fills the block, the rest opens a second one
    expect(b.chunks).toBe(2);
    b.drop(b.length);
    expect(b.chunks).toBe(0);
    b.push(pattern(10, 3), 0, 10);
    const out = new Uint8Array(10);
    b.copy(0, 10, out, 0);
    expect(out).toEqual(pattern(10, 3));
  });

  it('keeps a block while a later chunk of it is held (short, long, short writes)', () => {
    const b = new SendBuffer(1 << 20, 1024);
    b.push(pattern(100, 1), 0, 100);
    b.push(pattern(COPY_BELOW, 2), 0, COPY_BELOW);
    b.push(pattern(200, 3), 0, 200); // a second chunk in the same block
    b.drop(100); // the first chunk goes; the block still holds the third
    b.push(pattern(300, 4), 0, 300);
    const out = new Uint8Array(200);
    b.copy(COPY_BELOW, 200, out, 0);
    expect(out).toEqual(pattern(200, 3));
    const tail = new Uint8Array(300);
    b.copy(COPY_BELOW + 200, 300, tail, 0);
    expect(tail).toEqual(pattern(300, 4));
  });
});
