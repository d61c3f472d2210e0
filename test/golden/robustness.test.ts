/**
 * The decode path never throws: every fixture frame, cut at random places and with random bit
 * flips, goes through CaptureDecoder, frameToJSON and frameToText without an exception, and a
 * failure is always a typed error naming one of our layers.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaptureDecoder } from '../../src/decode/capture.js';
import { frameToJSON } from '../../src/decode/json.js';
import { frameToText } from '../../src/decode/text.js';
import { openCapture } from '../../src/pcap/reader.js';
import { DEPTH } from './compare.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

const frames: Uint8Array[] = [];
for (const dir of [join(FIXTURES, 'pcap'), join(FIXTURES, 'next', 'pcap')]) {
  for (const f of readdirSync(dir).sort()) {
    for (const r of openCapture(readFileSync(join(dir, f)))) frames.push(r.bytes.slice());
  }
}

describe('decode path on damaged frames', () => {
  const d = new CaptureDecoder();

  it('never throws, and errors are typed', () => {
    const damaged = fc
      .tuple(
        fc.nat(frames.length - 1),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.nat(7)), { maxLength: 4 }),
      )
      .map(([i, cut, flips]) => {
        const src = frames[i];
        const b = src.slice(0, cut % (src.length + 1));
        for (const [at, bit] of flips) if (b.length > 0) b[at % b.length] ^= 1 << bit;
        return { b, origLen: src.length };
      });
    fc.assert(
      fc.property(damaged, ({ b: bytes, origLen }) => {
        // the original length says a cut frame was cut by the capture (snap length)
        const ok = d.decode(bytes, 1, origLen);
        const json = frameToJSON(d, 1);
        JSON.stringify(json);
        frameToText(d, { tsSec: 0, tsNanos: 0 }, origLen);
        expect(ok).toBe(json.error === null);
        if (json.error !== null) {
          expect(DEPTH[json.error.layer]).toBeDefined();
          expect(json.error.offset).toBeGreaterThanOrEqual(0);
          expect(json.error.offset).toBeLessThanOrEqual(bytes.length);
        }
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it('decodes every intact fixture frame without throwing', () => {
    for (const b of frames) {
      d.decode(b, 1);
      JSON.stringify(frameToJSON(d, 1));
      frameToText(d, { tsSec: 0, tsNanos: 0 }, b.length);
    }
  });
});
