/**
 * Messages inside messages, run as generated code from test/codegen/specs/nested.pkt: a nested
 * message field (one inner view the outer view owns), arrays of messages of their own sizes
 * bounded by a count and by a byte length (a cursor re-pointing one item view), the inner
 * message's failures reported by the outer view, round trips and hostile input.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanCompiled, compileTestSpec, testModel } from './compile.js';
import { hostileProperty, type AnyView } from './hostile.js';

interface Point {
  x: number;
  y: number;
}
interface RecordFields {
  kind: number;
  numValues?: number;
  values: number[];
  at: Point;
}
interface ShapeFields {
  numRecords?: number;
  extraBytes: number;
  origin: Point;
  records: RecordFields[];
  extras: RecordFields[];
  last: number;
}
interface RecordView {
  kind: number;
  valuesCount: number;
  values(i: number): number;
  at: { x: number; y: number };
  offset: number;
  messageLength: number;
}
interface RecordCursor {
  item: RecordView;
  next(): boolean;
}
interface ShapeView extends AnyView {
  origin: { x: number; y: number; offset: number };
  recordsCount: number;
  records(): RecordCursor;
  extrasCount: number;
  extras(): RecordCursor;
  last: number;
  toJSON(): Record<string, unknown>;
  error: { code: string; field: string; offset: number; layer: string };
}
interface Mod {
  ShapeView: new () => ShapeView;
  encodeShape(f: ShapeFields, out: Uint8Array, offset: number): number;
  decodeShape(b: Uint8Array, o?: number, l?: number): ShapeFields | { code: string };
  shapeHeaderLength?: unknown;
  recordItemsLength(items: RecordFields[]): number;
}

let mod: Mod;
beforeAll(async () => {
  mod = (await compileTestSpec('nested')) as unknown as Mod;
});
afterAll(cleanCompiled);

const u16 = fc.integer({ min: 0, max: 0xfffe });
const point: fc.Arbitrary<Point> = fc.record({ x: u16, y: u16 });
const record: fc.Arbitrary<RecordFields> = fc.record({
  kind: fc.integer({ min: 0, max: 255 }),
  values: fc.array(u16, { maxLength: 4 }),
  at: point,
});
const shape: fc.Arbitrary<ShapeFields> = fc
  .record({
    origin: point,
    records: fc.array(record, { maxLength: 4 }),
    extras: fc.array(record, { maxLength: 3 }),
    last: fc.integer({ min: 0, max: 255 }),
  })
  .map((f) => ({ ...f, extraBytes: mod.recordItemsLength(f.extras) }));

function encode(f: ShapeFields): Uint8Array {
  const out = new Uint8Array(512);
  const n = mod.encodeShape(f, out, 0);
  expect(n).toBeGreaterThan(0);
  return out.slice(0, n);
}

const sample: ShapeFields = {
  extraBytes: 8,
  origin: { x: 1, y: 2 },
  records: [
    { kind: 7, values: [10, 11], at: { x: 3, y: 4 } },
    { kind: 8, values: [], at: { x: 5, y: 6 } },
  ],
  extras: [{ kind: 9, values: [12], at: { x: 7, y: 8 } }],
  last: 0x42,
};

describe('nested messages in the model', () => {
  it('makes a nested field and an array of messages walked parts', () => {
    const m = testModel('nested').messages.find((x) => x.name === 'Shape');
    expect(m?.regions.map((r) => [r.name, r.construct.kind, r.length])).toEqual([
      ['origin', 'message', 'walk'],
      ['records', 'array', 'walk'],
      ['extras', 'array', { kind: 'field', name: 'extraBytes' }],
      ['last', 'field', { kind: 'num', value: 1 }],
    ]);
    expect(m?.regions[1].construct).toMatchObject({
      array: { message: 'Record', itemSize: 0 },
      count: { kind: 'field', name: 'numRecords' },
    });
  });
});

describe('nested messages in generated code', () => {
  it('reads the nested message and walks the records without allocating views', () => {
    const bytes = encode(sample);
    expect(bytes.length).toBe(2 + 4 + (2 + 4 + 4) + (2 + 4) + 8 + 1);
    const v = new mod.ShapeView();
    expect(v.wrap(bytes)).toBeNull();
    expect([v.origin.x, v.origin.y, v.origin.offset]).toEqual([1, 2, 2]);
    expect(v.origin).toBe(v.origin);
    expect([v.recordsCount, v.extrasCount, v.last]).toEqual([2, 1, 0x42]);
    const c = v.records();
    const seen: Array<[number, number[], number]> = [];
    let item: RecordView | null = null;
    while (c.next()) {
      item ??= c.item;
      expect(c.item).toBe(item);
      seen.push([
        c.item.kind,
        Array.from({ length: c.item.valuesCount }, (_, i) => c.item.values(i)),
        c.item.at.y,
      ]);
    }
    expect(seen).toEqual([
      [7, [10, 11], 4],
      [8, [], 6],
    ]);
    expect(v.records()).toBe(c);
    expect(v.toJSON()).toEqual({
      origin: { x: 1, y: 2 },
      numRecords: 2,
      extraBytes: 8,
      records: [
        { kind: 7, numValues: 2, values: [10, 11], at: { x: 3, y: 4 } },
        { kind: 8, numValues: 0, values: [], at: { x: 5, y: 6 } },
      ],
      extras: [{ kind: 9, numValues: 1, values: [12], at: { x: 7, y: 8 } }],
      last: 0x42,
    });
    expect(v.describe()).toBe('2 records');
  });

  it("reports the inner message's failure at its field", () => {
    const bytes = encode(sample);
    // The second record's point x = 0xffff fails its assert.
    const at = 6 + 10 + 2;
    bytes[at] = 0xff;
    bytes[at + 1] = 0xff;
    const v = new mod.ShapeView();
    expect(v.wrap(bytes)).not.toBeNull();
    expect({ ...v.error }).toEqual({
      code: 'E_BAD_VALUE',
      layer: 'nested',
      field: 'x',
      offset: at,
    });
    expect(v.recordsCount).toBe(0);
    // A record past the bytes is E_TRUNCATED; the byte length must end on a record.
    const ok = encode(sample);
    expect(v.wrap(ok, 0, 12)).not.toBeNull();
    expect(v.error.code).toBe('E_TRUNCATED');
    const short = encode({ ...sample, extraBytes: 7 });
    expect(v.wrap(short)).not.toBeNull();
    expect(v.error).toMatchObject({ code: 'E_TRUNCATED', field: 'y' });
  });

  it('round-trips any shape, byte for byte', () => {
    fc.assert(
      fc.property(shape, (f) => {
        const bytes = encode(f);
        const back = mod.decodeShape(bytes) as ShapeFields;
        expect(back.origin).toEqual(f.origin);
        expect(back.records.map((r) => [r.kind, r.values, r.at])).toEqual(
          f.records.map((r) => [r.kind, r.values, r.at]),
        );
        expect(back.extras.length).toBe(f.extras.length);
        expect(encode(back)).toEqual(bytes);
      }),
      { seed: 3376, numRuns: 200 },
    );
  });

  it('never throws nor reads out of bounds on truncated or bit-flipped input', () => {
    const samples = fc.sample(shape, { seed: 1112, numRuns: 30 }).map(encode);
    hostileProperty(
      () => new mod.ShapeView(),
      samples,
      2236,
      (view) => {
        const v = view as ShapeView;
        for (const c of [v.records(), v.extras()]) {
          while (c.next()) {
            c.item.values(0);
            c.item.values(-1);
          }
        }
      },
    );
  });
});
