/**
 * `message M = Base with { ... }`, run as generated code from test/codegen/specs/derived.pkt:
 * the derived message is Base with the named field, asserts, payload and describe in their
 * place; it dispatches with Base's table (payloadKind() takes either view); Base itself is
 * unchanged. Round trips and hostile input.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanCompiled, compileTestSpec, testModel } from './compile.js';
import { hostileProperty, type AnyView } from './hostile.js';

interface TlvFields {
  kind: number;
  flags: number;
  version: number;
  length?: number;
}
interface TlvView extends AnyView {
  kind: number;
  flags: number;
  version: number;
  length: number;
  payloadOffset: number;
  payloadLength: number;
  toJSON(): Record<string, unknown>;
  error: { code: string; field: string; offset: number };
}
type Encode = (f: TlvFields, out: Uint8Array, offset: number, payloadLength: number) => number;
interface Mod {
  TlvView: new () => TlvView;
  UnboundedView: new () => TlvView;
  Unbounded2View: new () => TlvView;
  encodeTlv: Encode;
  encodeUnbounded: (f: TlvFields & { length: number }, out: Uint8Array, offset: number) => number;
  decodeUnbounded(b: Uint8Array, o?: number, l?: number): TlvFields | { code: string };
  payloadKind(v: TlvView): string | null;
}

let mod: Mod;
beforeAll(async () => {
  mod = (await compileTestSpec('derived')) as unknown as Mod;
});
afterAll(cleanCompiled);

const frame = (bytes: number[]): Uint8Array => Uint8Array.from(bytes);

describe('a message declared as another, in the model', () => {
  it("is Base's members with the named ones in their place, in Base's order", () => {
    const [base, derived, again] = testModel('derived').messages;
    expect(derived.derivedFrom).toBe('Tlv');
    expect(again.derivedFrom).toBe('Unbounded');
    expect(derived.fields).toEqual(
      base.fields.map((f) => (f.name === 'length' ? { ...f, derive: null } : f)),
    );
    // Both asserts at `length` give way to the one replacement, where the first stood.
    expect(
      derived.steps.map((s) => (s.kind === 'assert' ? `${s.field} ${s.code}` : s.region)),
    ).toEqual(['version E_BAD_VALUE', 'length E_BAD_VALUE', 'payload']);
    expect(derived.regions[0].length).toBe('rest');
    expect(derived.dispatch).toEqual(base.dispatch);
    expect(derived.json).toEqual(base.json);
    expect(again.regions[0].length).toBe('rest');
  });
});

describe('a message declared as another, in generated code', () => {
  it('keeps the base strict and reads the changes in the derived view', () => {
    const zero = frame([1, 0x01, 0, 0, 0xaa, 0xbb, 0xcc]);
    const base = new mod.TlvView();
    expect(base.wrap(zero)).not.toBeNull();
    expect({ ...base.error }).toMatchObject({ code: 'E_BAD_LENGTH', field: 'length', offset: 2 });
    const v = new mod.UnboundedView();
    expect(v.wrap(zero)).toBeNull();
    expect([v.payloadOffset, v.payloadLength]).toEqual([4, 3]);
    expect(v.describe()).toBe('kind 1 length 0');
    expect(v.toJSON()).toEqual({ kind: 1, flags: 0, version: 1, length: 0, payloadLength: 3 });
    expect(v.wrap(frame([1, 0x01, 0, 5, 0xaa]))).not.toBeNull();
    expect({ ...v.error }).toMatchObject({ code: 'E_BAD_VALUE', field: 'length', offset: 2 });
    expect(base.wrap(frame([1, 0x01, 0, 5, 0xaa, 0xbb]))).toBeNull();
    expect(base.payloadLength).toBe(1);
    const v2 = new mod.Unbounded2View();
    expect(v2.wrap(zero)).not.toBeNull();
    expect({ ...v2.error }).toMatchObject({ code: 'E_BAD_VALUE', field: 'version' });
    expect(v2.wrap(frame([1, 0x02, 0, 0]))).toBeNull();
  });

  it("dispatches with the base's table, for either view", () => {
    const v = new mod.UnboundedView();
    const base = new mod.TlvView();
    expect(v.wrap(frame([2, 0x01, 0, 0, 9]))).toBeNull();
    expect(base.wrap(frame([2, 0x01, 0, 5, 9]))).toBeNull();
    expect([mod.payloadKind(v), mod.payloadKind(base)]).toEqual(['b', 'b']);
    expect(v.wrap(frame([2, 0x11, 0, 0, 9]))).toBeNull();
    expect(mod.payloadKind(v)).toBeNull();
  });

  const fields = fc.record({
    kind: fc.integer({ min: 0, max: 255 }),
    flags: fc.integer({ min: 0, max: 15 }),
    version: fc.constant(1),
    length: fc.constant(0),
  });
  const payloads = fc.uint8Array({ maxLength: 12 });
  const encode = (f: TlvFields & { length: number }, payload: Uint8Array): Uint8Array => {
    const out = new Uint8Array(64);
    const n = mod.encodeUnbounded(f, out, 0);
    expect(n).toBe(4);
    out.set(payload, n);
    return out.slice(0, n + payload.length);
  };

  it('round-trips the derived message, byte for byte', () => {
    fc.assert(
      fc.property(fields, payloads, (f, p) => {
        const bytes = encode(f, p);
        expect(mod.decodeUnbounded(bytes)).toEqual(f);
        const v = new mod.UnboundedView();
        expect(v.wrap(bytes)).toBeNull();
        expect(v.payloadLength).toBe(p.length);
      }),
      { seed: 1201, numRuns: 200 },
    );
  });

  it('never throws nor reads out of bounds on truncated or bit-flipped input', () => {
    const samples = fc
      .sample(fc.tuple(fields, payloads), { seed: 1202, numRuns: 30 })
      .map(([f, p]) => encode(f, p));
    for (const make of [() => new mod.UnboundedView(), () => new mod.TlvView()])
      hostileProperty(make, samples, 1203, (view) => mod.payloadKind(view as TlvView));
  });
});
