import { describe, expect, it } from 'vitest';
import { copyBytes } from '../../../src/runtime/ethernet/bytes.js';

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
});
