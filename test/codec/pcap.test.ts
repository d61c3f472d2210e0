/**
 * specs/pcap.pkt, declared once in both byte orders (`endian(be, le)`: one view per message,
 * the order given to wrap() and the encoders): the views
 * walk every fixture capture exactly as the test helper's independent hand-written reader does,
 * every message round-trips in both orders, the two orders are the same fields byte-swapped, and
 * random, truncated or bit-flipped bytes never throw.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecodeError, isDecodeError } from '../../src/codec/errors.js';
import { pcap } from '../../src/generated/index.js';
import { fixturePcaps, readPcapFrames } from './helpers.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

describe('pcap spec: classic pcap in both byte orders', () => {
  it('walks every fixture capture like the hand-written reader', () => {
    let files = 0;
    for (const path of fixturePcaps()) {
      const bytes = new Uint8Array(readFileSync(path));
      const le = new pcap.PcapFileView();
      const be = new pcap.PcapFileView();
      const errLe = le.wrap(bytes, 0, bytes.length, true);
      const errBe = be.wrap(bytes, 0, bytes.length, false);
      if (errLe !== null && errBe !== null) {
        // pcapng: neither order reads a pcap magic.
        expect(errLe.field, path).toBe('magic');
        expect(errBe.field, path).toBe('magic');
        continue;
      }
      // Exactly one order reads the magic right.
      expect(errLe === null ? errBe?.field : errLe.field, path).toBe('magic');
      const file = errLe === null ? le : be;
      expect(file.versionMajor).toBe(2);
      expect(pcap.nameOfLinkType(file.linkTypeWord & 0xffff)).toBe('Ethernet');
      const record = new pcap.PcapRecordView();
      const frames: Uint8Array[] = [];
      for (let at = 24; at < bytes.length;) {
        if (record.wrap(bytes, at, bytes.length - at, errLe === null) !== null) break;
        frames.push(bytes.slice(record.payloadOffset, record.payloadOffset + record.payloadLength));
        expect(record.origLen).toBeGreaterThanOrEqual(record.inclLen);
        at = record.payloadOffset + record.payloadLength;
      }
      expect(frames, path).toEqual(readPcapFrames(path));
      files++;
    }
    expect(files).toBeGreaterThan(10);
  });

  it('refuses a record whose length runs past the file, and wrapPartial() cuts it', () => {
    const bytes = Uint8Array.from([1, 0, 0, 0, 2, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 0, 9, 9]);
    const r = new pcap.PcapRecordView();
    expect(r.wrap(bytes, 0, bytes.length, true)).toMatchObject({
      code: 'E_TRUNCATED',
      field: 'payload',
      offset: 16,
    });
    expect(r.wrapPartial(bytes, 0, bytes.length, true)).toBeNull();
    expect([r.inclLen, r.payloadLength, r.payloadTruncated]).toEqual([100, 2, true]);
  });

  it('refuses a captured length above MAXIMUM_SNAPLEN at inclLen', () => {
    const out = new Uint8Array(16);
    pcap.encodePcapRecord({ tsSec: 0, tsFraction: 0, inclLen: 262145, origLen: 0 }, out, 0, 0);
    expect(new pcap.PcapRecordView().wrap(out)).toMatchObject({
      code: 'E_BAD_LENGTH',
      field: 'inclLen',
      offset: 8,
    });
  });
});

/** A pcapng block's fixed head (type, total length) plus a body of whole 32-bit words. */
type Wrap = (b: Uint8Array, o?: number, l?: number, le?: boolean) => DecodeError | null;

/** `View` reading in one byte order: its wrap() passes `le` on (the tables below are per order). */
function ordered<V extends { wrap: Wrap }>(View: new () => V, le: boolean): new () => V {
  return class {
    constructor() {
      const v = new View();
      const wrap = v.wrap.bind(v);
      v.wrap = (b, o = 0, l = b.length - o) => wrap(b, o, l, le);
      return v;
    }
  } as unknown as new () => V;
}

const block = (type: number, body: number[]): pcap.PcapngBlockFields & { body: Uint8Array } => ({
  type,
  totalLength: 12 + body.length,
  body: Uint8Array.from(body),
  trailingLength: 12 + body.length,
});

describe('pcap spec: pcapng blocks in both byte orders', () => {
  const orders = [true, false].map((le) => ({
    name: le ? 'le' : 'be',
    block: ordered(pcap.PcapngBlockView, le),
    encodeBlock: (f: pcap.PcapngBlockFields, out: Uint8Array, at: number) =>
      pcap.encodePcapngBlock(f, out, at, le),
    decodeBlock: (b: Uint8Array) => pcap.decodePcapngBlock(b, 0, b.length, le),
    encodeOption: (f: pcap.PcapngOptionFields, out: Uint8Array, at: number) =>
      pcap.encodePcapngOption(f, out, at, le),
    option: ordered(pcap.PcapngOptionView, le),
    encodeEpb: (f: pcap.PcapngEnhancedPacketFields, out: Uint8Array, at: number) =>
      pcap.encodePcapngEnhancedPacket(f, out, at, le),
    epb: ordered(pcap.PcapngEnhancedPacketView, le),
    shb: ordered(pcap.PcapngSectionHeaderView, le),
    other: ordered(pcap.PcapngSectionHeaderView, !le),
    encodeShb: (f: pcap.PcapngSectionHeaderFields, out: Uint8Array, at: number) =>
      pcap.encodePcapngSectionHeader(f, out, at, le),
  }));

  for (const o of orders) {
    it(`${o.name}: blocks round-trip, with the trailing length after the body`, () => {
      fc.assert(
        fc.property(u32, fc.uint8Array({ maxLength: 40 }), (type, raw) => {
          const body = raw.subarray(0, raw.length & ~3);
          const f = block(type, [...body]);
          const out = new Uint8Array(f.totalLength);
          expect(o.encodeBlock(f, out, 0)).toBe(f.totalLength);
          const got = o.decodeBlock(out);
          expect(isDecodeError(got)).toBe(false);
          expect(got).toEqual({ ...f, body: Uint8Array.from(body) });
          const v = new o.block();
          expect(v.wrap(out)).toBeNull();
          expect([v.trailingLength, v.trailingLengthOffset]).toEqual([
            f.totalLength,
            f.totalLength - 4,
          ]);
        }),
        { numRuns: 200 },
      );
    });

    it(`${o.name}: a total length that is not a multiple of 4 or below 12 is E_BAD_LENGTH`, () => {
      for (const totalLength of [0, 8, 13, 18]) {
        const out = new Uint8Array(24);
        new DataView(out.buffer).setUint32(4, totalLength, o.name === 'le');
        expect(new o.block().wrap(out), `${totalLength}`).toMatchObject({
          code: 'E_BAD_LENGTH',
          field: 'totalLength',
        });
      }
    });

    it(`${o.name}: options are padded to 32 bits and step by messageLength`, () => {
      fc.assert(
        fc.property(u16, fc.uint8Array({ maxLength: 13 }), (code, value) => {
          const out = new Uint8Array(4 + 16);
          const n = o.encodeOption(
            { code, value, padding: new Uint8Array((4 - (value.length % 4)) % 4) },
            out,
            0,
          );
          expect(n).toBe(4 + Math.ceil(value.length / 4) * 4);
          const v = new o.option();
          expect(v.wrap(out, 0, n)).toBeNull();
          expect([v.code, v.length, v.messageLength]).toEqual([code, value.length, n]);
          expect(out.subarray(v.valueOffset, v.valueOffset + v.valueLength)).toEqual(value);
        }),
        { numRuns: 200 },
      );
    });

    it(`${o.name}: an enhanced packet's captured length must fit its block`, () => {
      const f = {
        type: pcap.PcapngBlockType.EnhancedPacket,
        totalLength: 32 + 4,
        interfaceId: 0,
        timestampHigh: 1,
        timestampLow: 2,
        capturedLength: 4,
        originalLength: 60,
        data: Uint8Array.from([1, 2, 3, 4]),
        trailer: Uint8Array.from([0, 0, 0, 36]),
      };
      const out = new Uint8Array(36);
      expect(o.encodeEpb(f, out, 0)).toBe(36);
      const v = new o.epb();
      expect(v.wrap(out)).toBeNull();
      expect(out.subarray(v.dataOffset, v.dataOffset + v.dataLength)).toEqual(f.data);
      expect(o.encodeEpb({ ...f, capturedLength: 5 }, out, 0)).toBe(36);
      expect(v.wrap(out)).toMatchObject({ code: 'E_TRUNCATED', field: 'capturedLength' });
    });

    it(`${o.name}: the section header reads its byte-order magic only in its own order`, () => {
      const out = new Uint8Array(28);
      const f = {
        type: pcap.PcapngBlockType.SectionHeader,
        totalLength: 28,
        byteOrderMagic: 0x1a2b3c4d,
        versionMajor: 1,
        versionMinor: 0,
        sectionLength: new Uint8Array(8).fill(0xff),
      };
      expect(o.encodeShb(f, out, 0)).toBe(24);
      expect(new o.shb().wrap(out)).toBeNull();
      expect(new o.other().wrap(out)).toMatchObject({
        code: 'E_BAD_VALUE',
        field: 'byteOrderMagic',
      });
    });
  }

  it('never throws on random bytes at any offset, in any view of either order', () => {
    interface AnyView {
      wrap(b: Uint8Array, o?: number, l?: number, le?: boolean): unknown;
      toJSON(): unknown;
      describe(): string;
      messageLength: number;
    }
    const views = (Object.values(pcap) as unknown[])
      .filter((x): x is new () => AnyView => typeof x === 'function' && x.name.endsWith('View'))
      .map((V) => new V());
    // Ten messages in either order, and the block type alone (little-endian only).
    expect(views.length).toBe(11);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(8), (bytes, at) => {
        for (const [view, le] of views.flatMap((v) => [[v, false] as const, [v, true] as const])) {
          const offset = Math.min(at, bytes.length);
          if (view.wrap(bytes, offset, bytes.length - offset, le) === null) {
            JSON.stringify(view.toJSON());
            view.describe();
            expect(view.messageLength).toBeLessThanOrEqual(bytes.length - offset);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
