/**
 * Conditional presence (`field: T if expr`) and fixed fields after a variable part, run as
 * generated code from test/codegen/specs/gre.pkt: GRE's checksum/key/sequence words laid out
 * only when their C/K/S bits say so, presence tests, absent fields reading 0, flags derived from
 * presence on encode, real PPTP GRE frames (Zeek's capture, values from tshark), round trips
 * and hostile input.
 */
import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPcapFrames } from '../codec/helpers.js';
import { cleanCompiled, compileTestSpec, testModel } from './compile.js';
import { hostileProperty, type AnyView } from './hostile.js';

interface GreFields {
  c?: number;
  reserved0a: number;
  k?: number;
  s?: number;
  reserved0: number;
  version: number;
  protocolType: number;
  checksum?: number;
  reserved1?: number;
  key?: number;
  sequence?: number;
}
interface GreView extends AnyView {
  hasChecksum: boolean;
  hasKey: boolean;
  hasSequence: boolean;
  key: number;
  keyOffset: number;
  sequence: number;
  sequenceOffset: number;
  version: number;
  payloadOffset: number;
  headerLength: number;
  toJSON(): Record<string, unknown>;
  error: { code: string; field: string; offset: number };
}
interface TrailerFields {
  length?: number;
  tagged?: number;
  spare: number;
  blob: Uint8Array;
  crc: number;
  tag?: Uint8Array;
}
interface TrailerView extends AnyView {
  crc: number;
  crcOffset: number;
  hasTag: boolean;
  tagOffset: number;
  tagLength: number;
  messageLength: number;
  error: { code: string; field: string; offset: number };
}
interface Mod {
  GreView: new () => GreView;
  encodeGre(f: GreFields, out: Uint8Array, offset: number): number;
  decodeGre(b: Uint8Array, o?: number, l?: number): GreFields | { code: string };
  TrailerView: new () => TrailerView;
  encodeTrailer(f: TrailerFields, out: Uint8Array, offset: number): number;
  decodeTrailer(b: Uint8Array, o?: number, l?: number): TrailerFields | { code: string };
}

let mod: Mod;
beforeAll(async () => {
  mod = (await compileTestSpec('gre')) as unknown as Mod;
});
afterAll(cleanCompiled);

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const greFields: fc.Arbitrary<GreFields> = fc.record(
  {
    reserved0a: fc.integer({ min: 0, max: 1 }),
    reserved0: fc.integer({ min: 0, max: 0x1ff }),
    version: fc.integer({ min: 0, max: 7 }),
    protocolType: u16,
    checksum: u16,
    reserved1: u16,
    key: u32,
    sequence: u32,
  },
  { requiredKeys: ['reserved0a', 'reserved0', 'version', 'protocolType'] },
);

describe('conditional fields in the model', () => {
  it('makes each conditional word a region sized by its condition, and derives the flags', () => {
    const m = testModel('gre').messages[0];
    expect(m.fixedSize).toBe(4);
    expect(m.regions.map((r) => [r.name, r.construct.kind])).toEqual([
      ['checksum', 'field'],
      ['reserved1', 'field'],
      ['key', 'field'],
      ['sequence', 'field'],
      ['payload', 'payload'],
    ]);
    const key = m.regions[2];
    expect(key.length).toEqual({
      kind: 'cond',
      test: {
        kind: 'bin',
        op: '==',
        left: { kind: 'field', name: 'k' },
        right: { kind: 'num', value: 1 },
      },
      then: { kind: 'num', value: 4 },
      otherwise: { kind: 'num', value: 0 },
    });
    const c = m.fields.find((f) => f.name === 'c');
    expect(c?.kind === 'scalar' ? c.derive : null).toEqual({
      kind: 'cond',
      test: { kind: 'present', names: ['checksum', 'reserved1'] },
      then: { kind: 'num', value: 1 },
      otherwise: { kind: 'num', value: 0 },
    });
  });

  it('places a fixed field after a variable part at a computed offset', () => {
    const m = testModel('gre').messages[1];
    expect(m.regions.map((r) => [r.name, r.construct.kind, r.length])).toEqual([
      ['blob', 'bytes', { kind: 'field', name: 'length' }],
      ['crc', 'field', { kind: 'num', value: 4 }],
      ['tag', 'field', expect.objectContaining({ kind: 'cond' })],
    ]);
  });
});

describe('conditional fields in generated code', () => {
  it('lays out only the words whose bits are set, and says which are there', () => {
    const out = new Uint8Array(32);
    const n = mod.encodeGre(
      { reserved0a: 0, reserved0: 0, version: 0, protocolType: 0x0800, key: 0xdeadbeef },
      out,
      0,
    );
    expect(n).toBe(8);
    expect([...out.subarray(0, 8)]).toEqual([0x20, 0, 0x08, 0, 0xde, 0xad, 0xbe, 0xef]);
    const v = new mod.GreView();
    expect(v.wrap(out, 0, 8)).toBeNull();
    expect([v.hasChecksum, v.hasKey, v.hasSequence]).toEqual([false, true, false]);
    expect(v.key).toBe(0xdeadbeef);
    expect(v.keyOffset).toBe(4);
    // An absent field reads 0 and shows as null; it is undefined in the value form.
    expect(v.sequence).toBe(0);
    expect(v.toJSON()).toMatchObject({
      k: 1,
      s: 0,
      key: 0xdeadbeef,
      sequence: null,
      checksum: null,
    });
    expect(v.payloadOffset).toBe(8);
    const value = mod.decodeGre(out, 0, 8) as GreFields;
    expect(value.sequence).toBeUndefined();
    expect(value.key).toBe(0xdeadbeef);
    expect(v.describe()).toBe('IPv4 key 3735928559 seq null length 0');
  });

  it('the flag wins when given: k = 0 leaves a given key out', () => {
    const out = new Uint8Array(32);
    const n = mod.encodeGre(
      { reserved0a: 0, reserved0: 0, version: 0, protocolType: 1, k: 0, key: 5, s: 1 },
      out,
      0,
    );
    expect(n).toBe(8);
    const v = new mod.GreView();
    v.wrap(out, 0, n);
    expect([v.hasKey, v.hasSequence, v.sequence]).toEqual([false, true, 0]);
  });

  it('a set bit whose word is cut off is E_TRUNCATED at that word', () => {
    const out = new Uint8Array(32);
    const n = mod.encodeGre(
      {
        reserved0a: 0,
        reserved0: 0,
        version: 0,
        protocolType: 1,
        checksum: 1,
        key: 2,
        sequence: 3,
      },
      out,
      0,
    );
    expect(n).toBe(16);
    const v = new mod.GreView();
    expect(v.wrap(out, 0, 14)).not.toBeNull();
    expect({ ...v.error }).toMatchObject({ code: 'E_TRUNCATED', field: 'sequence', offset: 12 });
    expect(v.wrap(out, 0, 9)).not.toBeNull();
    expect({ ...v.error }).toMatchObject({ code: 'E_TRUNCATED', field: 'key', offset: 8 });
  });

  it('decodes real PPTP enhanced GRE frames (K and S set) as tshark does', () => {
    const frames = readPcapFrames(
      join(import.meta.dirname, '..', 'fixtures', 'gre', 'zeek-tunnels-gre-pptp.pcap'),
    );
    const v = new mod.GreView();
    // Ethernet, an 802.1Q tag, IPv6, IPv4 (4in6), then GRE. tshark: gre.flags_and_version
    // 0x3081, key payload length 103, call id 6016, sequence number 430001.
    const at = 14 + 4 + 40 + 20;
    expect(v.wrap(frames[0], at)).toBeNull();
    expect([v.hasChecksum, v.hasKey, v.hasSequence, v.version]).toEqual([false, true, true, 1]);
    expect(v.key).toBe(103 * 65536 + 6016);
    expect(v.sequence).toBe(430001);
    expect(v.headerLength).toBe(12);
    // Re-encoding the value form gives the same header bytes.
    const value = mod.decodeGre(frames[0], at) as GreFields;
    const out = new Uint8Array(16);
    expect(mod.encodeGre(value, out, 0)).toBe(12);
    expect(out.subarray(0, 12)).toEqual(frames[0].subarray(at, at + 12));
  });

  it('round-trips any combination of present words', () => {
    fc.assert(
      fc.property(greFields, (f) => {
        const out = new Uint8Array(20);
        const n = mod.encodeGre(f, out, 0);
        const back = mod.decodeGre(out, 0, n) as GreFields;
        const present = (x: number | undefined, ...others: Array<number | undefined>) =>
          x !== undefined || others.some((o) => o !== undefined);
        expect(back.c).toBe(present(f.checksum, f.reserved1) ? 1 : 0);
        expect(back.k).toBe(f.key !== undefined ? 1 : 0);
        expect(back.key).toBe(f.key);
        expect(back.sequence).toBe(f.sequence);
        const again = new Uint8Array(20);
        expect(mod.encodeGre(back, again, 0)).toBe(n);
        expect(again).toEqual(out);
      }),
      { seed: 2890, numRuns: 300 },
    );
  });

  it('a trailer after a variable part, and an optional tag after it', () => {
    const out = new Uint8Array(32);
    const n = mod.encodeTrailer(
      { spare: 0, blob: Uint8Array.of(1, 2, 3), crc: 0xcafef00d, tag: Uint8Array.of(9, 8) },
      out,
      0,
    );
    expect(n).toBe(2 + 3 + 4 + 2);
    const v = new mod.TrailerView();
    expect(v.wrap(out, 0, n)).toBeNull();
    expect([v.crc, v.crcOffset, v.hasTag, v.tagOffset, v.tagLength]).toEqual([
      0xcafef00d,
      5,
      true,
      9,
      2,
    ]);
    const back = mod.decodeTrailer(out, 0, n) as TrailerFields;
    expect(back.tag).toEqual(Uint8Array.of(9, 8));
    expect(v.wrap(out, 0, 8)).not.toBeNull();
    expect(v.error.field).toBe('crc');
  });

  it('never throws nor reads out of bounds on truncated or bit-flipped input', () => {
    const samples = fc.sample(greFields, { seed: 2784, numRuns: 30 }).map((f) => {
      const out = new Uint8Array(20);
      return out.slice(0, mod.encodeGre(f, out, 0));
    });
    hostileProperty(() => new mod.GreView(), samples, 1701);
    const trailers = fc
      .sample(
        fc.record({
          spare: fc.integer({ min: 0, max: 127 }),
          blob: fc.uint8Array({ maxLength: 12 }),
          crc: u32,
          tag: fc.option(fc.uint8Array({ minLength: 2, maxLength: 2 }), { nil: undefined }),
        }),
        { seed: 1702, numRuns: 30 },
      )
      .map((f) => {
        const out = new Uint8Array(24);
        return out.slice(0, mod.encodeTrailer(f, out, 0));
      });
    hostileProperty(() => new mod.TrailerView() as unknown as AnyView, trailers, 1703);
  });
});
