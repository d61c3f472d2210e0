/**
 * `endian(be, le)`, run as generated code from test/codegen/specs/endian.pkt: one view, encoder
 * and decoder per message, the byte order given at wrap() and encode time; a field at a computed
 * offset in that order too; the setters write in the order the view was wrapped in. Round trips in
 * both orders and hostile input.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanCompiled, compileTestSpec, testModel } from './compile.js';
import { hostileProperty, type AnyView } from './hostile.js';

interface WordFields {
  kind: number;
  size?: number;
  stamp: number;
  data: Uint8Array;
  trailer: number;
}
interface WordView extends AnyView {
  wrap(
    b: Uint8Array,
    o?: number,
    l?: number,
    le?: boolean,
  ): { code: string; layer: string; field: string; offset: number } | null;
  littleEndian: boolean;
  kind: number;
  size: number;
  stamp: number;
  trailer: number;
  setStamp(v: number): void;
}
interface Mod {
  WordView: new () => WordView;
  encodeWord(f: WordFields, out: Uint8Array, offset: number, littleEndian?: boolean): number;
  decodeWord(b: Uint8Array, o?: number, l?: number, le?: boolean): WordFields | { code: string };
  decodeWordPrefix(
    b: Uint8Array,
    o: number,
    l: number,
    last?: string,
    le?: boolean,
  ): Record<string, number>;
}

let mod: Mod;
beforeAll(async () => {
  mod = (await compileTestSpec('endian')) as unknown as Mod;
});
afterAll(cleanCompiled);

const sample: WordFields = {
  kind: 7,
  stamp: 0x01020304,
  data: Uint8Array.from([0xaa, 0xbb]),
  trailer: 0x0506,
};

function encode(f: WordFields, le: boolean): Uint8Array {
  const out = new Uint8Array(64);
  const n = mod.encodeWord(f, out, 0, le);
  expect(n).toBeGreaterThan(0);
  return out.slice(0, n);
}

describe('endian(be, le) in the model', () => {
  it('is one message whose u16 and u32 fields take the order at run time', () => {
    const [m] = testModel('endian').messages;
    expect([m.name, m.eitherOrder]).toEqual(['Word', true]);
    expect(m.fields.map((f) => [f.name, f.kind === 'scalar' && f.anyOrder === true])).toEqual([
      ['kind', false],
      ['size', true],
      ['stamp', true],
    ]);
  });
});

describe('endian(be, le) in generated code', () => {
  it('writes and reads each order, the placed field too', () => {
    expect([...encode(sample, false)]).toEqual([7, 0, 11, 1, 2, 3, 4, 0xaa, 0xbb, 5, 6]);
    expect([...encode(sample, true)]).toEqual([7, 11, 0, 4, 3, 2, 1, 0xaa, 0xbb, 6, 5]);
    const v = new mod.WordView();
    for (const le of [false, true]) {
      expect(v.wrap(encode(sample, le), 0, 11, le)).toBeNull();
      expect([v.littleEndian, v.size, v.stamp, v.trailer]).toEqual([le, 11, 0x01020304, 0x0506]);
      expect(mod.decodeWord(encode(sample, le), 0, 11, le)).toEqual({ ...sample, size: 11 });
      expect(mod.decodeWordPrefix(encode(sample, le), 0, 5, '', le)).toEqual({ kind: 7, size: 11 });
    }
    // The other order reads a size of 0x0b00: past the bytes.
    expect(v.wrap(encode(sample, true), 0, 11, false)).toMatchObject({ code: 'E_TRUNCATED' });
  });

  it('setters write in the order the view was wrapped in', () => {
    const bytes = encode(sample, true);
    const v = new mod.WordView();
    expect(v.wrap(bytes, 0, bytes.length, true)).toBeNull();
    v.setStamp(0x0a0b0c0d);
    expect([...bytes.subarray(3, 7)]).toEqual([0x0d, 0x0c, 0x0b, 0x0a]);
    expect(mod.decodeWord(bytes, 0, bytes.length, true)).toMatchObject({ stamp: 0x0a0b0c0d });
  });

  const words = fc.record({
    kind: fc.integer({ min: 0, max: 255 }),
    stamp: fc.integer({ min: 0, max: 0xffffffff }),
    data: fc.uint8Array({ maxLength: 8 }),
    trailer: fc.integer({ min: 0, max: 0xffff }),
  });

  it('round-trips in both orders, byte for byte', () => {
    fc.assert(
      fc.property(words, fc.boolean(), (f, le) => {
        const bytes = encode(f, le);
        const back = mod.decodeWord(bytes, 0, bytes.length, le) as WordFields;
        expect(back).toEqual({ ...f, size: 9 + f.data.length });
        expect(encode(back, le)).toEqual(bytes);
      }),
      { seed: 4114, numRuns: 200 },
    );
  });

  it('never throws nor reads out of bounds on truncated or bit-flipped input, in either order', () => {
    for (const le of [false, true]) {
      const samples = fc.sample(words, { seed: 4115, numRuns: 20 }).map((f) => encode(f, le));
      hostileProperty(
        () => {
          const v = new mod.WordView();
          const wrap = v.wrap.bind(v);
          v.wrap = (b, o = 0, l = b.length - o) => wrap(b, o, l, le);
          return v;
        },
        samples,
        4116,
      );
    }
  });
});
