/**
 * The u64 and ipv6 field types and the byte-array formats, run as generated code from
 * test/codegen/specs/types.pkt: views without boxing (uint32 halves, address words, compare,
 * copy), the value form (bigint, RFC 5952 text), formats in toJSON/describe, round trips and
 * hostile input.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIpv6 } from '../../src/codec/address.js';
import { cleanCompiled, compileTestSpec, testModel } from './compile.js';
import { hostileProperty, type AnyView } from './hostile.js';

interface WideFields {
  kind: number;
  pad: number;
  flags: number;
  hwaddr: Uint8Array;
  v4: Uint8Array;
  raw: Uint8Array;
  stamp: bigint;
  src: string;
  dst: string;
  prefix: Uint8Array;
}

interface WideView extends AnyView {
  offset: number;
  stampHi: number;
  stampLo: number;
  stampBigInt(): bigint;
  srcOffset: number;
  dstOffset: number;
  srcWord0: number;
  srcWord3: number;
  srcInt0: number;
  srcEquals(b: Uint8Array, o: number): boolean;
  copySrc(out: Uint8Array, o: number): boolean;
  toJSON(): Record<string, unknown>;
  setStampHalves(hi: number, lo: number): void;
  setSrc(from: Uint8Array, fromOffset: number): boolean;
}

interface Mod {
  WideView: new () => WideView;
  encodeWide(f: WideFields, out: Uint8Array, offset: number): number;
  decodeWide(b: Uint8Array, o?: number, l?: number): WideFields | { code: string };
  WIDE_FIXED_SIZE: number;
}

let mod: Mod;
beforeAll(async () => {
  mod = (await compileTestSpec('types')) as unknown as Mod;
});
afterAll(cleanCompiled);

const bytesOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const v6text = bytesOf(16).map((b) => formatIpv6(b, 0));
const fields: fc.Arbitrary<WideFields> = fc.record({
  kind: fc.integer({ min: 0, max: 255 }),
  pad: fc.integer({ min: 0, max: 15 }),
  flags: fc.integer({ min: 0, max: 15 }),
  hwaddr: bytesOf(6),
  v4: bytesOf(4),
  raw: bytesOf(3),
  stamp: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  src: v6text,
  dst: v6text,
  prefix: bytesOf(16),
});

describe('u64 and ipv6 in the model', () => {
  it('places them at their bit offsets with their widths', () => {
    const m = testModel('types').messages[0];
    const at = (name: string) => {
      const f = m.fields.find((x) => x.name === name);
      return f?.kind === 'scalar' ? [f.type, f.bitOffset, f.bitWidth] : f?.kind;
    };
    expect(at('stamp')).toEqual(['u64', 120, 64]);
    expect(at('src')).toEqual(['ipv6', 184, 128]);
    expect(at('dst')).toEqual(['ipv6', 312, 128]);
    expect(m.fixedSize).toBe(71);
    const formats = m.fields.flatMap((f) => (f.kind === 'bytes' ? [[f.name, f.format]] : []));
    expect(formats).toEqual([
      ['hwaddr', { name: 'mac' }],
      ['v4', { name: 'ipv4' }],
      ['raw', { name: 'hex' }],
      ['prefix', { name: 'ipv6' }],
    ]);
  });
});

describe('u64 and ipv6 in generated code', () => {
  const known: WideFields = {
    kind: 7,
    pad: 0,
    flags: 9,
    hwaddr: Uint8Array.of(0x02, 0x00, 0x5e, 0x10, 0x20, 0x30),
    v4: Uint8Array.of(192, 0, 2, 1),
    raw: Uint8Array.of(0xde, 0xad, 0x01),
    stamp: 0xfedcba9876543210n,
    src: '2001:db8::1',
    dst: '::ffff:198.51.100.7',
    prefix: Uint8Array.of(0xfe, 0x80, ...new Array<number>(13).fill(0), 1),
  };

  it('reads u64 as uint32 halves and ipv6 as words, compares and copies without allocating', () => {
    const out = new Uint8Array(80);
    expect(mod.encodeWide(known, out, 3)).toBe(71);
    const v = new mod.WideView();
    expect(v.wrap(out, 3, 71)).toBeNull();
    expect(v.stampHi).toBe(0xfedcba98);
    expect(v.stampLo).toBe(0x76543210);
    expect(v.stampBigInt()).toBe(0xfedcba9876543210n);
    expect(v.srcOffset).toBe(3 + 23);
    expect(v.srcWord0).toBe(0x20010db8);
    expect(v.srcInt0).toBe(0x20010db8 | 0);
    expect(v.srcWord3).toBe(1);
    const copy = new Uint8Array(20);
    expect(v.copySrc(copy, 2)).toBe(true);
    expect(v.srcEquals(copy, 2)).toBe(true);
    expect(v.srcEquals(copy, 3)).toBe(false);
    expect(v.srcEquals(copy, 10)).toBe(false); // out of bounds: false, not a read past the end
    expect(v.copySrc(copy, 5)).toBe(false);
    expect(formatIpv6(copy, 2)).toBe('2001:db8::1');
  });

  it('sets u64 from halves and ipv6 from bytes in place', () => {
    const out = new Uint8Array(80);
    mod.encodeWide(known, out, 3);
    const v = new mod.WideView();
    v.wrap(out, 3, 71);
    v.setStampHalves(0x80000001, -2);
    expect(v.stampHi).toBe(0x80000001);
    expect(v.stampLo).toBe(0xfffffffe);
    const addr = new Uint8Array(18);
    addr.set([0xfe, 0x80], 2);
    addr[17] = 9;
    expect(v.setSrc(addr, 2)).toBe(true);
    expect(v.setSrc(addr, 3)).toBe(false);
    expect(v.srcWord0).toBe(0xfe800000);
    const back = mod.decodeWide(out, 3, 71) as WideFields;
    expect(back.stamp).toBe(0x80000001fffffffen);
    expect(back.src).toBe('fe80::9');
    expect(back.dst).toBe(known.dst);
  });

  it('shows formats, u64 in decimal and RFC 5952 addresses in toJSON and describe', () => {
    const out = new Uint8Array(71);
    mod.encodeWide(known, out, 0);
    const v = new mod.WideView();
    v.wrap(out);
    expect(v.toJSON()).toEqual({
      kind: 7,
      flags: 9,
      hwaddr: '02:00:5e:10:20:30',
      v4: '192.0.2.1',
      raw: 'dead01',
      stamp: '18364758544493064720',
      src: '2001:db8::1',
      dst: '::ffff:198.51.100.7',
      prefix: 'fe80::1',
    });
    expect(v.describe()).toBe(
      '2001:db8::1 > ::ffff:198.51.100.7 at 18364758544493064720 via 02:00:5e:10:20:30 192.0.2.1',
    );
  });

  it('refuses address text that does not parse (-1), like a short buffer', () => {
    const out = new Uint8Array(71);
    expect(mod.encodeWide({ ...known, src: '2001:db8::1::2' }, out, 0)).toBe(-1);
    expect(mod.encodeWide(known, out.subarray(0, 70), 0)).toBe(-1);
  });

  it('round-trips any value (encode, decode, encode gives the same bytes)', () => {
    fc.assert(
      fc.property(fields, (f) => {
        const out = new Uint8Array(71);
        expect(mod.encodeWide(f, out, 0)).toBe(71);
        const back = mod.decodeWide(out) as WideFields;
        expect(back).toEqual(f);
        const again = new Uint8Array(71);
        mod.encodeWide(back, again, 0);
        expect(again).toEqual(out);
      }),
      { seed: 5952, numRuns: 200 },
    );
  });

  it('never throws nor reads out of bounds on truncated or bit-flipped input', () => {
    const samples = fc.sample(fields, { seed: 64, numRuns: 20 }).map((f) => {
      const out = new Uint8Array(71);
      mod.encodeWide(f, out, 0);
      return out;
    });
    hostileProperty(
      () => new mod.WideView(),
      samples,
      128,
      (view) => {
        const v = view as WideView;
        v.srcEquals(new Uint8Array(16), 0);
        v.copySrc(new Uint8Array(16), 0);
        v.stampBigInt();
      },
    );
  });
});
