import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadNativeCopy, tapAddon } from '../../src/runtime/link/native.js';
import { copyBytes, NATIVE_COPY_MIN, useNativeCopy } from '../../src/util/bytes.js';

function filled(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

describe('copyBytes', () => {
  it('copies exactly [offset, offset+length) for every alignment and size, nothing more', () => {
    const src = filled(6000, 1);
    for (const so of [0, 1, 2, 3, 5, 8]) {
      for (const to of [0, 1, 2, 3, 6, 8]) {
        for (const len of [0, 1, 3, 63, 64, 65, 100, 1472, 4001]) {
          const dst = new Uint8Array(6000);
          copyBytes(src, so, dst, to, len);
          expect(dst.subarray(to, to + len)).toEqual(src.subarray(so, so + len));
          expect(dst.subarray(0, to).every((b) => b === 0)).toBe(true);
          expect(dst.subarray(to + len).every((b) => b === 0)).toBe(true);
        }
      }
    }
  });

  it('handles views at odd byte offsets of their buffer and overlapping copies in one buffer', () => {
    const base = filled(5000, 2);
    const view = base.subarray(3, 4003);
    const dst = new Uint8Array(5000).subarray(1);
    copyBytes(view, 5, dst, 9, 2000);
    expect(dst.subarray(9, 2009)).toEqual(base.subarray(8, 2008));
    const same = filled(300, 3);
    const expected = same.slice();
    expected.copyWithin(10, 0, 200);
    copyBytes(same, 0, same, 10, 200);
    expect(same).toEqual(expected);
  });

  it('follows a resizable buffer that grew after its view was cached', () => {
    const Resizable = ArrayBuffer as unknown as new (
      n: number,
      o: { maxByteLength: number },
    ) => ArrayBuffer & {
      resize(n: number): void;
    };
    const buffer = new Resizable(256, { maxByteLength: 8192 });
    const src = new Uint8Array(buffer);
    src.set(filled(256, 4));
    const dst = new Uint8Array(8192);
    copyBytes(src, 0, dst, 0, 128);
    buffer.resize(8192);
    const grown = new Uint8Array(buffer);
    grown.set(filled(8192, 5));
    copyBytes(grown, 4000, dst, 0, 4000);
    expect(dst.subarray(0, 4000)).toEqual(grown.subarray(4000, 8000));
  });

  it("makes no view per copy when misaligned data ends in its buffer's last word", () => {
    // A frame whose payload runs to the end of its own buffer (a 64-byte TCP payload at byte
    // 54): the word after the last is outside the buffer, which must not look like growth.
    const frame = filled(118, 6);
    const dst = new Uint8Array(4096);
    const Real = globalThis.Int32Array;
    let views = 0;
    globalThis.Int32Array = class extends Real {
      constructor(...args: ConstructorParameters<typeof Int32Array>) {
        super(...args);
        views++;
      }
    } as Int32ArrayConstructor;
    try {
      for (let k = 0; k < 10; k++) copyBytes(frame, 54, dst, k * 64, 64);
    } finally {
      globalThis.Int32Array = Real;
    }
    expect(views).toBeLessThanOrEqual(2); // the two buffers' first views
    for (let k = 0; k < 10; k++) {
      expect(dst.subarray(k * 64, k * 64 + 64)).toEqual(frame.subarray(54, 118));
    }
  });

  it('copies any range between buffers of any size, up to their last byte (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 1, max: 700 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (sourceSize, targetSize, a, b, c) => {
          // Sizes that are not multiples of 4 put the last bytes outside the word views.
          const src = filled(sourceSize, sourceSize);
          const length = a % (Math.min(sourceSize, targetSize) + 1);
          const so = b % (sourceSize - length + 1);
          const to = c % (targetSize - length + 1);
          const dst = new Uint8Array(targetSize);
          copyBytes(src, so, dst, to, length);
          const expected = new Uint8Array(targetSize);
          expected.set(src.subarray(so, so + length), to);
          expect(dst).toEqual(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('with the addon loaded, long copies go to its memmove, with the same result', () => {
    // The addon is built by `npm ci` (and by the landing script); without it this case is moot.
    if (!loadNativeCopy()) return;
    try {
      const calls: number[] = [];
      const native = tapAddon().copy;
      useNativeCopy((s, so, t, to, n) => {
        calls.push(n);
        return native(s, so, t, to, n);
      });
      const src = filled(6000, 7);
      for (const so of [0, 1, 3, 5990 - NATIVE_COPY_MIN]) {
        for (const to of [0, 2, 7]) {
          for (const len of [NATIVE_COPY_MIN - 1, NATIVE_COPY_MIN, 1500, 4000]) {
            if (so + len > src.length) continue;
            const dst = new Uint8Array(6000);
            copyBytes(src, so, dst, to, len);
            const expected = new Uint8Array(6000);
            expected.set(src.subarray(so, so + len), to);
            expect(dst).toEqual(expected);
          }
        }
      }
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((n) => n >= NATIVE_COPY_MIN)).toBe(true);
      // Overlapping ranges of one buffer: memmove semantics, as copyWithin.
      const same = filled(2000, 8);
      const want = same.slice();
      want.copyWithin(3, 0, 1500);
      copyBytes(same, 0, same, 3, 1500);
      expect(same).toEqual(want);
      // A range outside either view copies nothing.
      expect(native(src, 5999, new Uint8Array(10), 0, 2)).toBe(false);
    } finally {
      useNativeCopy(null);
    }
  });
});
