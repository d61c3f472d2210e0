/**
 * `array(T, bound)` in a message, run as generated code from test/codegen/specs/arrays.pkt:
 * items of every fixed-size scalar type and an inline group, bounded by count(), a byte length
 * or rest; indexed access without allocation, count and length fields derived on encode, errors
 * at the array, round trips and hostile input.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanCompiled, compileTestSpec, testModel } from './compile.js';
import { hostileProperty, type AnyView } from './hostile.js';

interface Pair {
  a: number;
  b: number;
  c: number;
  d: number;
}
interface ListsFields {
  numV4?: number;
  v6Bytes?: number;
  numMacs?: number;
  numWords?: number;
  v4: number[];
  v6: string[];
  macs: number[];
  words: number[];
  tail: number;
  pairs: Pair[];
}
interface ListsView extends AnyView {
  v4Count: number;
  v4(i: number): number;
  v4Bits(i: number): number;
  v6Count: number;
  v6ItemOffset(i: number): number;
  v6Word(i: number, k: number): number;
  v6Equals(i: number, other: Uint8Array, otherOffset: number): boolean;
  copyV6(i: number, out: Uint8Array, outOffset: number): boolean;
  macsCount: number;
  macs(i: number): number;
  wordsCount: number;
  words(i: number): number;
  wordsBits(i: number): number;
  tail: number;
  pairsCount: number;
  pairsA(i: number): number;
  pairsB(i: number): number;
  pairsC(i: number): number;
  pairsD(i: number): number;
  toJSON(): Record<string, unknown>;
  error: { code: string; field: string; offset: number };
}
interface Mod {
  ListsView: new () => ListsView;
  encodeLists(f: ListsFields, out: Uint8Array, offset: number): number;
  decodeLists(b: Uint8Array, o?: number, l?: number): ListsFields | { code: string };
}

let mod: Mod;
beforeAll(async () => {
  mod = (await compileTestSpec('arrays')) as unknown as Mod;
});
afterAll(cleanCompiled);

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ipv6Text = fc.ipV6().map((s) => s);
const lists: fc.Arbitrary<ListsFields> = fc.record({
  v4: fc.array(u32, { maxLength: 5 }),
  v6: fc.array(ipv6Text, { maxLength: 3 }),
  macs: fc.array(fc.integer({ min: 0, max: 2 ** 48 - 1 }), { maxLength: 3 }),
  words: fc.array(u32, { maxLength: 4 }),
  tail: fc.integer({ min: 0, max: 0xffff }),
  pairs: fc.array(
    fc.record({
      a: fc.integer({ min: 0, max: 0xffff }),
      b: fc.integer({ min: 0, max: 15 }),
      c: fc.integer({ min: 0, max: 15 }),
      d: fc.integer({ min: 0, max: 255 }),
    }),
    { maxLength: 3 },
  ),
});

function encode(f: ListsFields): Uint8Array {
  const out = new Uint8Array(256);
  const n = mod.encodeLists(f, out, 0);
  expect(n).toBeGreaterThan(0);
  return out.slice(0, n);
}

const sample: ListsFields = {
  v4: [0xc0000201, 0x0a000001],
  v6: ['2001:db8::1'],
  macs: [0x02005e102030],
  words: [0xffffffff],
  tail: 0xbeef,
  pairs: [{ a: 1, b: 2, c: 3, d: 4 }],
};

describe('arrays in the model', () => {
  it('sizes a count-bounded array by count * item size and keeps the count', () => {
    const m = testModel('arrays').messages[0];
    const v4 = m.regions.find((r) => r.name === 'v4');
    expect(v4?.length).toEqual({
      kind: 'bin',
      op: '*',
      left: { kind: 'field', name: 'numV4' },
      right: { kind: 'num', value: 4 },
    });
    expect(v4?.construct).toMatchObject({
      kind: 'array',
      array: { itemSize: 4, scalarItem: true, message: null },
      count: { kind: 'field', name: 'numV4' },
    });
    const pairs = m.regions.find((r) => r.name === 'pairs');
    expect(pairs?.length).toBe('rest');
    expect(pairs?.construct).toMatchObject({ array: { itemSize: 4, scalarItem: false } });
  });
});

describe('arrays in generated code', () => {
  it('derives the count and length fields and reads items in place', () => {
    const bytes = encode(sample);
    // counts: 2 v4, 16 bytes of v6, 1 mac, 1 word
    expect([...bytes.subarray(0, 5)]).toEqual([2, 16, 1, 0, 1]);
    const v = new mod.ListsView();
    expect(v.wrap(bytes)).toBeNull();
    expect([v.v4Count, v.v4(0), v.v4(1), v.v4(2), v.v4Bits(0)]).toEqual([
      2,
      0xc0000201,
      0x0a000001,
      0,
      0xc0000201 | 0,
    ]);
    expect([v.v6Count, v.v6ItemOffset(0), v.v6ItemOffset(1)]).toEqual([1, 13, -1]);
    expect([v.v6Word(0, 0), v.v6Word(0, 3)]).toEqual([0x20010db8, 1]);
    const copy = new Uint8Array(16);
    expect(v.copyV6(0, copy, 0)).toBe(true);
    expect(v.v6Equals(0, copy, 0)).toBe(true);
    expect(v.copyV6(1, copy, 0)).toBe(false);
    expect([v.macsCount, v.macs(0), v.wordsCount, v.words(0), v.wordsBits(0)]).toEqual([
      1, 0x02005e102030, 1, 0xffffffff, -1,
    ]);
    expect(v.tail).toBe(0xbeef);
    expect([v.pairsCount, v.pairsA(0), v.pairsB(0), v.pairsC(0), v.pairsD(0)]).toEqual([
      1, 1, 2, 3, 4,
    ]);
    expect(v.toJSON()).toEqual({
      numV4: 2,
      v6Bytes: 16,
      numMacs: 1,
      numWords: 1,
      v4: ['192.0.2.1', '10.0.0.1'],
      v6: ['2001:db8::1'],
      macs: ['02:00:5e:10:20:30'],
      words: [0xffffffff],
      tail: 0xbeef,
      pairs: [{ a: 1, b: 2, c: 3, d: 4 }],
    });
  });

  it('a byte length that is not a whole number of items is E_BAD_LENGTH at the array', () => {
    const bytes = encode(sample);
    bytes[1] = 15;
    const v = new mod.ListsView();
    expect(v.wrap(bytes)).not.toBeNull();
    expect({ ...v.error }).toMatchObject({ code: 'E_BAD_LENGTH', field: 'v6', offset: 13 });
    // The rest-bounded group: 4-byte items.
    const ok = encode(sample);
    const v2 = new mod.ListsView();
    expect(v2.wrap(ok, 0, ok.length - 1)).not.toBeNull();
    expect({ ...v2.error }).toMatchObject({ code: 'E_BAD_LENGTH', field: 'pairs' });
  });

  it('a count past the bytes is E_TRUNCATED at the array', () => {
    const bytes = encode(sample);
    bytes[0] = 200;
    const v = new mod.ListsView();
    expect(v.wrap(bytes)).not.toBeNull();
    expect({ ...v.error }).toMatchObject({ code: 'E_TRUNCATED', field: 'v4', offset: 5 });
  });

  it('round-trips any arrays, byte for byte', () => {
    fc.assert(
      fc.property(lists, (f) => {
        const bytes = encode(f);
        const back = mod.decodeLists(bytes) as ListsFields;
        expect(back.v4).toEqual(f.v4);
        expect(back.macs).toEqual(f.macs);
        expect(back.words).toEqual(f.words);
        expect(back.pairs).toEqual(f.pairs);
        expect(back.v6.length).toBe(f.v6.length);
        expect(encode(back)).toEqual(bytes);
      }),
      { seed: 4291, numRuns: 300 },
    );
  });

  it('never throws nor reads out of bounds on truncated or bit-flipped input', () => {
    const samples = fc.sample(lists, { seed: 3376, numRuns: 30 }).map(encode);
    hostileProperty(
      () => new mod.ListsView(),
      samples,
      3377,
      (view) => {
        const v = view as ListsView;
        for (const i of [-1, 0, 1, v.v4Count, 1.5]) {
          v.v4(i);
          v.v4Bits(i);
          v.v6ItemOffset(i);
          v.v6Word(i, 0);
          v.v6Word(i, 4);
          v.v6Equals(i, new Uint8Array(16), 0);
          v.copyV6(i, new Uint8Array(16), 0);
          v.macs(i);
          v.words(i);
          v.pairsA(i);
          v.pairsD(i);
        }
      },
    );
  });
});
