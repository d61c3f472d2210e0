import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalName,
  readName,
  writeName,
  wireNameLength,
} from '../../../src/runtime/dns/name.js';

describe('DNS names', () => {
  it('canonicalises and rejects names', () => {
    expect(canonicalName('WWW.Example.COM.')).toBe('www.example.com');
    expect(canonicalName('a')).toBe('a');
    expect(canonicalName('')).toBeNull();
    expect(canonicalName('.')).toBeNull();
    expect(canonicalName('a..b')).toBeNull();
    expect(canonicalName('x'.repeat(63))).not.toBeNull();
    expect(canonicalName('x'.repeat(64))).toBeNull();
    expect(canonicalName(`${'x'.repeat(63)}.`.repeat(3) + 'x'.repeat(61))).not.toBeNull(); // 255 on the wire
    expect(canonicalName(`${'x'.repeat(63)}.`.repeat(3) + 'x'.repeat(62))).toBeNull(); // 256
    expect(canonicalName('tab\there')).toBeNull();
    expect(canonicalName('ünï.test')).toBeNull();
  });

  it('writes and reads back names', () => {
    const out = new Uint8Array(300);
    const end = writeName('www.example.com', out, 3);
    expect(end - 3).toBe(wireNameLength('www.example.com'));
    expect([...out.subarray(3, end)]).toEqual([
      3, 119, 119, 119, 7, 101, 120, 97, 109, 112, 108, 101, 3, 99, 111, 109, 0,
    ]);
    expect(readName(out, end, 3)).toEqual({ name: 'www.example.com', end });
  });

  it('follows backward compression pointers and reports where the record continues', () => {
    // "b.a" at 0, then "c" + pointer to 0 at 5.
    const m = Uint8Array.from([1, 98, 1, 97, 0, 1, 99, 0xc0, 0, 0xff]);
    expect(readName(m, m.length, 5)).toEqual({ name: 'c.b.a', end: 9 });
    expect(readName(m, m.length, 7)).toEqual({ name: 'b.a', end: 9 });
  });

  it('rejects loops, forward pointers, oversize names and truncation', () => {
    expect(readName(Uint8Array.from([0xc0, 0]), 2, 0)).toBe('E_POINTER_LOOP'); // self
    expect(readName(Uint8Array.from([1, 97, 0xc0, 0]), 4, 0)).toBe('E_POINTER_LOOP'); // back to its own run
    expect(readName(Uint8Array.from([0xc0, 2, 0]), 3, 0)).toBe('E_POINTER_LOOP'); // forward
    // Two names pointing at each other: 0 → 4 is forward, 4 → 0 then 0 → 4 again.
    const pair = Uint8Array.from([1, 97, 0xc0, 4, 1, 98, 0xc0, 0]);
    expect(readName(pair, pair.length, 4)).toBe('E_POINTER_LOOP');
    const long: number[] = [];
    for (let i = 0; i < 5; i++) long.push(60, ...new Array<number>(60).fill(120));
    long.push(0);
    expect(readName(Uint8Array.from(long), long.length, 0)).toBe('E_BAD_NAME');
    expect(readName(Uint8Array.from([3, 97, 98]), 3, 0)).toBe('E_TRUNCATED');
    expect(readName(Uint8Array.from([0xc0]), 1, 0)).toBe('E_TRUNCATED');
    expect(readName(Uint8Array.from([0x40, 0]), 2, 0)).toBe('E_BAD_NAME');
    // Only `length` bytes count, even if the array is longer.
    expect(readName(Uint8Array.from([1, 97, 0]), 2, 0)).toBe('E_TRUNCATED');
  });

  it('escapes odd bytes instead of letting them alias dots', () => {
    const m = Uint8Array.from([3, 97, 46, 98, 0]);
    expect(readName(m, m.length, 0)).toEqual({ name: 'a\\046b', end: 5 });
  });

  it('never throws or reads out of bounds on random input (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(600), (bytes, at) => {
        const r = readName(bytes, bytes.length, Math.min(at, bytes.length));
        if (typeof r !== 'string') {
          expect(r.end).toBeLessThanOrEqual(bytes.length);
          expect(r.name.length).toBeLessThanOrEqual(255 * 4);
        }
      }),
      { numRuns: 2000, seed: 3 },
    );
  });
});
