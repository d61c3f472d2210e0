/**
 * Conditional fields of every type (`field: T if expr`), run as generated code from
 * test/codegen/specs/optional.pkt: u64, ipv6 and mac words and a byte array present by their
 * flag bits, read without boxing, null/undefined when absent, flags derived from presence,
 * round trips and hostile input.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanCompiled, compileTestSpec } from './compile.js';
import { hostileProperty, type AnyView } from './hostile.js';

interface OptionalFields {
  s?: number;
  a?: number;
  h?: number;
  b?: number;
  spare: number;
  stamp?: bigint;
  addr?: string;
  hw?: number;
  blob?: Uint8Array;
  after: number;
}
interface OptionalView extends AnyView {
  hasStamp: boolean;
  hasAddr: boolean;
  hasHw: boolean;
  hasBlob: boolean;
  stampHi: number;
  stampLo: number;
  stampBigInt(): bigint;
  addrOffset: number;
  addrWord3: number;
  addrInt0: number;
  addrEquals(other: Uint8Array, offset: number): boolean;
  copyAddr(out: Uint8Array, offset: number): boolean;
  hw: number;
  hwHi: number;
  hwLoBits: number;
  blobOffset: number;
  after: number;
  afterOffset: number;
  toJSON(): Record<string, unknown>;
  error: { code: string; field: string; offset: number };
}
interface Mod {
  OptionalView: new () => OptionalView;
  encodeOptional(f: OptionalFields, out: Uint8Array, offset: number): number;
  decodeOptional(b: Uint8Array, o?: number, l?: number): OptionalFields | { code: string };
}

let mod: Mod;
beforeAll(async () => {
  mod = (await compileTestSpec('optional')) as unknown as Mod;
});
afterAll(cleanCompiled);

const optional: fc.Arbitrary<OptionalFields> = fc.record(
  {
    spare: fc.integer({ min: 0, max: 15 }),
    stamp: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    addr: fc.ipV6(),
    hw: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
    blob: fc.uint8Array({ minLength: 3, maxLength: 3 }),
    after: fc.integer({ min: 0, max: 0xffff }),
  },
  { requiredKeys: ['spare', 'after'] },
);

function encode(f: OptionalFields): Uint8Array {
  const out = new Uint8Array(64);
  const n = mod.encodeOptional(f, out, 0);
  expect(n).toBeGreaterThan(0);
  return out.slice(0, n);
}

describe('conditional fields of the wide types', () => {
  it('lays out only the fields whose flags are set and reads them without boxing', () => {
    const bytes = encode({
      spare: 0,
      stamp: 0x0102030405060708n,
      hw: 0x02005e102030,
      after: 0xbeef,
    });
    expect(bytes[0]).toBe(0xa0);
    expect(bytes.length).toBe(1 + 8 + 6 + 2);
    const v = new mod.OptionalView();
    expect(v.wrap(bytes)).toBeNull();
    expect([v.hasStamp, v.hasAddr, v.hasHw, v.hasBlob]).toEqual([true, false, true, false]);
    expect([v.stampHi, v.stampLo, v.stampBigInt()]).toEqual([
      0x01020304,
      0x05060708,
      0x0102030405060708n,
    ]);
    expect([v.hw, v.hwHi, v.hwLoBits]).toEqual([0x02005e102030, 0x0200, 0x5e102030]);
    expect([v.addrOffset, v.addrInt0, v.after, v.afterOffset]).toEqual([9, 0, 0xbeef, 15]);
    expect(v.toJSON()).toEqual({
      s: 1,
      a: 0,
      h: 1,
      b: 0,
      stamp: '72623859790382856',
      addr: null,
      hw: '02:00:5e:10:20:30',
      blob: null,
      after: 0xbeef,
    });
    const back = mod.decodeOptional(bytes) as OptionalFields;
    expect(back.addr).toBeUndefined();
    expect(back.stamp).toBe(0x0102030405060708n);
  });

  it('an IPv6 address present by its flag, compared and copied in place', () => {
    const bytes = encode({ spare: 0, addr: '2001:db8::1', after: 1 });
    const v = new mod.OptionalView();
    expect(v.wrap(bytes)).toBeNull();
    expect([v.hasAddr, v.addrOffset, v.addrWord3]).toEqual([true, 1, 1]);
    const copy = new Uint8Array(16);
    expect(v.copyAddr(copy, 0)).toBe(true);
    expect(v.addrEquals(copy, 0)).toBe(true);
    expect(v.toJSON().addr).toBe('2001:db8::1');
    expect(v.wrap(bytes, 0, 10)).not.toBeNull();
    expect(v.error).toMatchObject({ code: 'E_TRUNCATED', field: 'addr', offset: 1 });
  });

  it('round-trips any combination of present fields', () => {
    fc.assert(
      fc.property(optional, (f) => {
        const bytes = encode(f);
        const back = mod.decodeOptional(bytes) as OptionalFields;
        expect(back.s).toBe(f.stamp !== undefined ? 1 : 0);
        expect(back.stamp).toBe(f.stamp);
        expect(back.hw).toBe(f.hw);
        expect(back.blob).toEqual(f.blob);
        expect(back.addr === undefined).toBe(f.addr === undefined);
        expect(encode(back)).toEqual(bytes);
      }),
      { seed: 8200, numRuns: 300 },
    );
  });

  it('never throws nor reads out of bounds on truncated or bit-flipped input', () => {
    const samples = fc.sample(optional, { seed: 4291, numRuns: 30 }).map(encode);
    hostileProperty(
      () => new mod.OptionalView(),
      samples,
      5952,
      (view) => {
        const v = view as OptionalView;
        v.stampBigInt();
        v.addrEquals(new Uint8Array(16), 0);
        v.copyAddr(new Uint8Array(16), 0);
      },
    );
  });
});
