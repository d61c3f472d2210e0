/**
 * specs/pcap.pkt, the spec that uses little-endian fields: its views walk every fixture
 * capture exactly as the test helper's hand-written reader does, and records round-trip.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDecodeError } from '../../src/codec/errors.js';
import { pcap } from '../../src/generated/index.js';
import { fixturePcaps, readPcapFrames } from './helpers.js';

describe('pcap spec (little-endian fields)', () => {
  it('walks every fixture capture like the hand-written reader', () => {
    for (const path of fixturePcaps()) {
      const bytes = new Uint8Array(readFileSync(path));
      const file = new pcap.PcapFileView();
      const err = file.wrap(bytes);
      if (err !== null) {
        // Only byte-swapped (big-endian) files are refused, at the magic.
        expect(err.field, path).toBe('magic');
        continue;
      }
      expect(file.versionMajor).toBe(2);
      expect(pcap.nameOfLinkType(file.linkType)).toBe('Ethernet');
      const record = new pcap.PcapRecordView();
      const frames: Uint8Array[] = [];
      for (let at = 24; at < bytes.length;) {
        if (record.wrap(bytes, at) !== null) break;
        frames.push(bytes.slice(record.payloadOffset, record.payloadOffset + record.payloadLength));
        expect(record.origLen).toBeGreaterThanOrEqual(record.inclLen);
        at = record.payloadOffset + record.payloadLength;
      }
      expect(frames, path).toEqual(readPcapFrames(path));
    }
  });

  it('refuses a record whose length runs past the file, and wrapPartial() cuts it', () => {
    const bytes = Uint8Array.from([1, 0, 0, 0, 2, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 0, 9, 9]);
    const r = new pcap.PcapRecordView();
    expect(r.wrap(bytes)).toMatchObject({ code: 'E_TRUNCATED', field: 'payload', offset: 16 });
    expect(r.wrapPartial(bytes)).toBeNull();
    expect([r.inclLen, r.payloadLength, r.payloadTruncated]).toEqual([100, 2, true]);
  });

  it('decode(encode(x)) = x for records, inclLen derived', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(
        u32,
        u32,
        u32,
        fc.uint8Array({ maxLength: 32 }),
        (tsSec, tsFraction, origLen, data) => {
          const out = new Uint8Array(16 + data.length);
          out.set(data, 16);
          expect(pcap.encodePcapRecord({ tsSec, tsFraction, origLen }, out, 0, data.length)).toBe(
            16,
          );
          const got = pcap.decodePcapRecord(out);
          expect(isDecodeError(got)).toBe(false);
          expect(got).toEqual({ tsSec, tsFraction, inclLen: data.length, origLen });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(4), (bytes, at) => {
        for (const view of [new pcap.PcapFileView(), new pcap.PcapRecordView()]) {
          const offset = Math.min(at, bytes.length);
          if (view.wrap(bytes, offset) === null) {
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
