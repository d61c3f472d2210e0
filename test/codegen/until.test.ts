/**
 * `array(T, until COND)` and `dispatch peek(T)`, run as generated code from
 * test/codegen/specs/until.pkt: an array that ends at the first item meeting a condition (the
 * item included), found by walking the items in place; a stack without its last item is
 * E_TRUNCATED at the array; the encoder refuses items that would not decode as given; the
 * dispatch value read from the payload's first bits (-1 when the payload is shorter). Round
 * trips and hostile input.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanCompiled, compileTestSpec, testModel } from './compile.js';
import { hostileProperty, type AnyView } from './hostile.js';

interface Entry {
  value: number;
  last: number;
  ttl: number;
}
interface StackFields {
  kind: number;
  entries: Entry[];
  name: number[];
  tail: number;
}
interface StackView extends AnyView {
  kind: number;
  entriesCount: number;
  entriesValue(i: number): number;
  entriesLast(i: number): number;
  entriesTtl(i: number): number;
  nameCount: number;
  name(i: number): number;
  tail: number;
  payloadOffset: number;
  payloadLength: number;
  payloadPeek: number;
  toJSON(): Record<string, unknown>;
  error: { code: string; field: string; offset: number };
}
interface Mod {
  StackView: new () => StackView;
  encodeStack(f: StackFields, out: Uint8Array, offset: number): number;
  decodeStack(b: Uint8Array, o?: number, l?: number): StackFields | { code: string };
  payloadKind(v: StackView): string | null;
}

let mod: Mod;
beforeAll(async () => {
  mod = (await compileTestSpec('until')) as unknown as Mod;
});
afterAll(cleanCompiled);

const entry = (last: number): fc.Arbitrary<Entry> =>
  fc.record({
    value: fc.integer({ min: 0, max: 0x7fff }),
    last: fc.constant(last),
    ttl: fc.integer({ min: 0, max: 255 }),
  });
const stacks: fc.Arbitrary<StackFields> = fc.record({
  kind: fc.integer({ min: 0, max: 255 }),
  entries: fc
    .tuple(fc.array(entry(0), { maxLength: 4 }), entry(1))
    .map(([more, bottom]) => [...more, bottom]),
  name: fc.array(fc.integer({ min: 1, max: 255 }), { maxLength: 6 }).map((chars) => [...chars, 0]),
  tail: fc.integer({ min: 0, max: 0xffff }),
});

function encode(f: StackFields, payload: number[] = []): Uint8Array {
  const out = new Uint8Array(256);
  const n = mod.encodeStack(f, out, 0);
  expect(n).toBeGreaterThan(0);
  out.set(payload, n);
  return out.slice(0, n + payload.length);
}

const sample: StackFields = {
  kind: 1,
  entries: [
    { value: 100, last: 0, ttl: 64 },
    { value: 0x7fff, last: 1, ttl: 1 },
  ],
  name: [0x61, 0x62, 0],
  tail: 0xbeef,
};

describe('until arrays and peek dispatch in the model', () => {
  it('walks an until array and keeps its condition over the item fields', () => {
    const m = testModel('until').messages[0];
    const entries = m.regions.find((r) => r.name === 'entries');
    expect(entries?.length).toBe('walk');
    expect(entries?.construct).toMatchObject({
      kind: 'array',
      array: { itemSize: 3, scalarItem: false },
      count: null,
      until: {
        kind: 'bin',
        op: '==',
        left: { kind: 'field', name: 'last' },
        right: { kind: 'num', value: 1 },
      },
    });
    expect(m.dispatch).toMatchObject({ fields: ['payloadPeek'], peek: { bitWidth: 4 } });
  });
});

describe('until arrays in generated code', () => {
  it('ends each array at the first item meeting its condition, that item included', () => {
    const bytes = encode(sample, [0x45, 0]);
    const v = new mod.StackView();
    expect(v.wrap(bytes)).toBeNull();
    expect([v.entriesCount, v.entriesValue(0), v.entriesTtl(0), v.entriesLast(1)]).toEqual([
      2, 100, 64, 1,
    ]);
    expect([v.entriesValue(1), v.entriesValue(2), v.entriesValue(-1)]).toEqual([0x7fff, 0, 0]);
    expect([v.nameCount, v.name(0), v.name(2)]).toEqual([3, 0x61, 0]);
    expect(v.tail).toBe(0xbeef);
    expect([v.payloadOffset, v.payloadLength]).toEqual([bytes.length - 2, 2]);
    expect(v.toJSON()).toEqual({
      kind: 1,
      entries: sample.entries,
      name: [0x61, 0x62, 0],
      tail: 0xbeef,
      payloadLength: 2,
    });
  });

  it('an array whose last item is cut, or that never meets its condition, is E_TRUNCATED at it', () => {
    const bytes = encode(sample);
    const v = new mod.StackView();
    // Cut inside the bottom entry.
    expect(v.wrap(bytes, 0, 5)).not.toBeNull();
    expect({ ...v.error }).toMatchObject({ code: 'E_TRUNCATED', field: 'entries', offset: 1 });
    // No entry with last == 1: the walk reaches the end of the bytes.
    const flat = bytes.slice();
    flat[5] &= 0xfe;
    expect(v.wrap(flat)).not.toBeNull();
    expect({ ...v.error }).toMatchObject({ code: 'E_TRUNCATED', field: 'entries', offset: 1 });
    // A string without its NUL.
    expect(v.wrap(bytes, 0, 9)).not.toBeNull();
    expect({ ...v.error }).toMatchObject({ code: 'E_TRUNCATED', field: 'name', offset: 7 });
  });

  it('the encoder refuses items that would not decode as given', () => {
    const out = new Uint8Array(64);
    const bad = (f: Partial<StackFields>): number => mod.encodeStack({ ...sample, ...f }, out, 0);
    expect(bad({ entries: [] })).toBe(-1);
    expect(bad({ entries: [{ value: 1, last: 0, ttl: 1 }] })).toBe(-1);
    expect(
      bad({
        entries: [
          { value: 1, last: 1, ttl: 1 },
          { value: 2, last: 1, ttl: 1 },
        ],
      }),
    ).toBe(-1);
    expect(bad({ name: [0x61] })).toBe(-1);
    expect(bad({})).toBe(12);
  });

  it('round-trips any stack, byte for byte', () => {
    fc.assert(
      fc.property(stacks, (f) => {
        const bytes = encode(f);
        const back = mod.decodeStack(bytes) as StackFields;
        expect(back).toEqual(f);
        expect(encode(back)).toEqual(bytes);
      }),
      { seed: 3032, numRuns: 300 },
    );
  });

  it('never throws nor reads out of bounds on truncated or bit-flipped input', () => {
    const samples = fc.sample(stacks, { seed: 3033, numRuns: 30 }).map((f) => encode(f, [0x60]));
    hostileProperty(
      () => new mod.StackView(),
      samples,
      3034,
      (view) => {
        const v = view as StackView;
        for (const i of [-1, 0, 1, v.entriesCount, 1.5]) {
          v.entriesValue(i);
          v.entriesLast(i);
          v.entriesTtl(i);
          v.name(i);
        }
        mod.payloadKind(v);
      },
    );
  });
});

describe('peek dispatch in generated code', () => {
  it("dispatches on the payload's first bits, under the dispatch condition", () => {
    const v = new mod.StackView();
    const kinds = [0x45, 0x60, 0x10].map((first) => {
      expect(v.wrap(encode(sample, [first]))).toBeNull();
      return [v.payloadPeek, mod.payloadKind(v)];
    });
    expect(kinds).toEqual([
      [4, 'ipv4'],
      [6, 'ipv6'],
      [1, null],
    ]);
    // No payload byte to peek at: -1, which no case names.
    expect(v.wrap(encode(sample))).toBeNull();
    expect([v.payloadPeek, mod.payloadKind(v)]).toEqual([-1, null]);
    // The condition (kind != 0) does not hold.
    expect(v.wrap(encode({ ...sample, kind: 0 }, [0x45]))).toBeNull();
    expect(mod.payloadKind(v)).toBeNull();
  });
});
