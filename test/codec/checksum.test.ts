/**
 * The Internet checksum against a plain reference: every offset, length, alignment and initial
 * sum, over plain arrays, Node's pooled Buffers (non-zero byteOffset, many arrays over one
 * ArrayBuffer), SharedArrayBuffers and a buffer that grows, so the word loop's view cache, head,
 * tail and parity are checked against the byte-by-byte definition.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  WIDE_FROM,
  copySummed,
  internetChecksum,
  internetChecksumFrom,
  onesComplementSum,
} from '../../src/codec/checksum.js';

/** RFC 1071 as written: big-endian 16-bit words, an odd last byte padded, end-around carry. */
function referenceSum(bytes: Uint8Array, offset: number, length: number, initial = 0): number {
  let s = initial;
  for (let i = 0; i < length; i++) {
    // Past the array's end a byte reads as zero, as the byte loops read it.
    const b = bytes[offset + i] ?? 0;
    s += (i & 1) === 0 ? b * 256 : b;
  }
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

/** Region lengths around both sides of WIDE_FROM and up to a jumbo frame. */
const lengths = fc.oneof(
  fc.integer({ min: 0, max: WIDE_FROM + 8 }),
  fc.integer({ min: WIDE_FROM - 8, max: 2000 }),
  fc.integer({ min: 2000, max: 9100 }),
);
const initials = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 0x1fffe }),
  fc.integer({ min: 0, max: 0x7fffffff }),
);

/** A region inside an array that itself starts `byteOffset` bytes into its ArrayBuffer. */
const regions = fc
  .record({
    byteOffset: fc.integer({ min: 0, max: 7 }),
    before: fc.integer({ min: 0, max: 7 }),
    length: lengths,
    after: fc.integer({ min: 0, max: 5 }),
    seed: fc.integer({ min: 0, max: 0xffff }),
    fill: fc.constantFrom('random', 'ones', 'zeros'),
  })
  .map((r) => {
    const size = r.byteOffset + r.before + r.length + r.after;
    const bytes = new Uint8Array(new ArrayBuffer(size), r.byteOffset, size - r.byteOffset);
    let x = r.seed * 2654435761 + 1;
    for (let i = 0; i < bytes.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[i] = r.fill === 'ones' ? 0xff : r.fill === 'zeros' ? 0 : x >>> 24;
    }
    return { bytes, offset: r.before, length: r.length };
  });

describe('Internet checksum against the reference', () => {
  it('onesComplementSum and internetChecksum, any offset, length, alignment and initial', () => {
    fc.assert(
      fc.property(regions, initials, ({ bytes, offset, length }, initial) => {
        const want = referenceSum(bytes, offset, length, initial);
        expect(onesComplementSum(bytes, offset, length, initial)).toBe(want);
        expect(internetChecksum(bytes, offset, length, initial)).toBe(~want & 0xffff);
      }),
      { numRuns: 2000 },
    );
  });

  it('pooled Buffers: many arrays over one ArrayBuffer, rewritten between sums', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ length: lengths, fill: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.integer({ min: 0, max: 3 }),
        (specs, offset) => {
          // allocUnsafe below 4 KiB slices Node's shared pool: byteOffset is rarely 0 and
          // consecutive Buffers share an ArrayBuffer (and the sum's word view).
          const bufs = specs.map((s) => {
            const b = Buffer.allocUnsafe(s.length + offset);
            for (let i = 0; i < b.length; i++) b[i] = (s.fill + i * 31) & 0xff;
            return b;
          });
          for (let round = 0; round < 2; round++) {
            for (const b of bufs) {
              const want = referenceSum(b, offset, b.length - offset);
              expect(onesComplementSum(b, offset, b.length - offset)).toBe(want);
              expect(internetChecksum(b, offset, b.length - offset)).toBe(~want & 0xffff);
              // The next round sums other contents through the same (cached) arrays.
              if (b.length > offset) b[offset + ((b.length - offset) >> 1)] ^= 0x5a;
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('internetChecksumFrom: the rest of a message after a prefix summed by the caller', () => {
    fc.assert(
      fc.property(regions, fc.nat(), ({ bytes, offset, length }, cut) => {
        const from = length === 0 ? 0 : cut % (length + 1);
        const initial = referenceSum(bytes, offset, from);
        const want = ~referenceSum(bytes, offset, length) & 0xffff;
        expect(internetChecksumFrom(bytes, offset + from, length - from, initial, from)).toBe(want);
      }),
      { numRuns: 1000 },
    );
  });

  it('copySummed: copies the region and returns its sum, swapped at an odd distance', () => {
    fc.assert(
      fc.property(regions, fc.integer({ min: 0, max: 5 }), ({ bytes, offset, length }, at) => {
        const src = bytes.subarray(offset, offset + length);
        const out = new Uint8Array(at + length + 3);
        for (const from of [0, 1, 6, 7]) {
          out.fill(0);
          const got = copySummed(src, out, at, from);
          const sum = referenceSum(src, 0, length);
          expect(got).toBe((from & 1) === 0 ? sum : swap16(sum));
          expect(Buffer.from(out.buffer, at, length).equals(src)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('SharedArrayBuffer regions', () => {
    fc.assert(
      fc.property(regions, ({ bytes, offset, length }) => {
        const shared = new Uint8Array(new SharedArrayBuffer(bytes.length + 3), 3, bytes.length);
        shared.set(bytes);
        expect(onesComplementSum(shared, offset, length)).toBe(referenceSum(bytes, offset, length));
      }),
      { numRuns: 300 },
    );
  });

  it('more words than one float64 accumulator holds exactly', () => {
    // 40 MiB: one block of all its words would pass 2**53 in each accumulator.
    const ones = new Uint8Array((40 << 20) + 4).fill(0xff).subarray(1);
    expect(onesComplementSum(ones, 0, ones.length - 1)).toBe(0xffff);
    // The odd last byte adds 0xff00 to the all-ones words.
    expect(onesComplementSum(ones, 0, ones.length)).toBe(0xff00);
    const big = ones;
    let x = 1;
    for (let i = 0; i < big.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      big[i] = (x >>> 24) | 0x80;
    }
    expect(onesComplementSum(big, 0, big.length)).toBe(referenceSum(big, 0, big.length));
    expect(onesComplementSum(big, 3, big.length - 3, 0x12345)).toBe(
      referenceSum(big, 3, big.length - 3, 0x12345),
    );
  });

  it('a resizable ArrayBuffer that grows after it was summed', () => {
    const Resizable = ArrayBuffer as unknown as new (
      n: number,
      o: { maxByteLength: number },
    ) => ArrayBuffer & { resize(n: number): void };
    const buffer = new Resizable(256, { maxByteLength: 8192 });
    const bytes = new Uint8Array(buffer);
    bytes.fill(0x11);
    expect(onesComplementSum(bytes, 0, 256)).toBe(referenceSum(bytes, 0, 256));
    buffer.resize(6000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 13) & 0xff;
    expect(bytes.length).toBe(6000);
    expect(onesComplementSum(bytes, 2, 5995)).toBe(referenceSum(bytes, 2, 5995));
  });

  it('reads past the array as zeros, not the rest of its buffer, and survives a detached buffer', () => {
    const pool = new Uint8Array(4096).fill(0x77);
    const bytes = pool.subarray(100, 400);
    expect(onesComplementSum(bytes, 10, 1000)).toBe(referenceSum(bytes, 10, 1000));
    expect(onesComplementSum(bytes, 10, 1000)).toBe(onesComplementSum(bytes, 10, 290));
    const lone = new Uint8Array(1024).fill(3);
    expect(onesComplementSum(lone, 0, 1024)).toBe(referenceSum(lone, 0, 1024));
    structuredClone(lone.buffer, { transfer: [lone.buffer] });
    expect(lone.length).toBe(0);
    expect(onesComplementSum(lone, 0, 1024)).toBe(0);
  });
});
