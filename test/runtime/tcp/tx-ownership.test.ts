/**
 * The send buffer holds references to what the application wrote (src/fsm/sendbuffer.ts): the
 * stream must still be byte-exact through loss, reordering and duplication, when every write is
 * a fresh Buffer, when writes are many small buffers (copied) mixed with long ones (referenced),
 * and when they are strings (encoded once). Segments and retransmissions cut across write
 * boundaries anywhere (MSS, send buffer and write sizes vary); partial ACKs drop part of a
 * chunk. Each case copies with the JavaScript loops or, where the addon is built, with its
 * memmove (as a stack on a TAP does). Seeded fast-check properties on the memory link and the
 * virtual clock.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadNativeCopy, tapAddon } from '../../../src/runtime/link/native.js';
import { useNativeCopy } from '../../../src/util/bytes.js';
import { IP_B, makePair, randomBytes, runUntil } from './helpers.js';

/** The addon's memmove for the long copies, as on a TAP (where it is built). */
const hasNativeCopy = loadNativeCopy();
useNativeCopy(null);

type Writes = 'fresh' | 'small' | 'mixed' | 'latin1';

describe('sent data through a faulty link', () => {
  it('arrives byte-exact however the application writes it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          mss: fc.integer({ min: 200, max: 1460 }),
          sndBuf: fc.constantFrom(4096, 16 * 1024, 64 * 1024, 256 * 1024),
          loss: fc.constantFrom(0, 0.02, 0.08),
          reorder: fc.constantFrom(0, 0.05),
          duplicate: fc.constantFrom(0, 0.03),
          length: fc.integer({ min: 4, max: 200_000 }),
          writes: fc.constantFrom<Writes>('fresh', 'small', 'mixed', 'latin1'),
          sizes: fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 6 }),
          native: fc.boolean(),
        }),
        async (c) => {
          useNativeCopy(c.native && hasNativeCopy ? tapAddon().copy : null);
          const p = makePair(
            c.seed,
            { loss: c.loss, reorder: c.reorder, duplicate: c.duplicate, delay: 1 },
            { mss: c.mss, sndBuf: c.sndBuf },
          );
          const data = randomBytes(c.length, c.seed);
          const got: Buffer[] = [];
          let ended = false;
          p.tcpB.listen(9, (s) => {
            s.on('data', (d: Buffer) => got.push(Buffer.from(d)));
            s.on('end', () => {
              ended = true;
              s.end();
            });
          });
          const client = p.tcpA.connect({ host: IP_B, port: 9 });
          let written = 0;
          for (let at = 0, i = 0; at < data.length; i++) {
            const size = c.sizes[i % c.sizes.length];
            // small: every write under the copy threshold; mixed: every third one short.
            const n = Math.min(
              c.writes === 'small' || (c.writes === 'mixed' && i % 3 === 0)
                ? 1 + (size % 700)
                : size,
              data.length - at,
            );
            const piece = data.subarray(at, at + n);
            if (c.writes === 'latin1') client.write(piece.toString('latin1'), 'latin1');
            else client.write(Buffer.from(piece)); // a fresh Buffer per write, never touched again
            written += n;
            at += n;
          }
          client.end();
          await runUntil(p.clock, () => ended, 3_600_000);
          expect(ended).toBe(true);
          const all = Buffer.concat(got);
          expect(all.length).toBe(written);
          expect(all.equals(data)).toBe(true);
          await runUntil(p.clock, () => client.bytesWritten === data.length, 60_000);
          expect(client.bytesWritten).toBe(data.length);
          useNativeCopy(null);
        },
      ),
      { seed: 1717, numRuns: 40 },
    );
  }, 180_000);
});
