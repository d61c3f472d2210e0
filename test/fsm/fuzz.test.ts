import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newSegment } from '../../src/fsm/segment.js';
import { seqLe } from '../../src/fsm/seq.js';
import { TcpState } from '../../src/fsm/tcp.js';
import { Net, pattern } from './harness.js';

const segmentArb = fc.record({
  flags: fc.integer({ min: 0, max: 0x3f }),
  seqMode: fc.constantFrom('near', 'random'),
  seqDelta: fc.integer({ min: -70_000, max: 300_000 }),
  seqRandom: fc.integer({ min: 0, max: 0xffffffff }),
  ackDelta: fc.integer({ min: -70_000, max: 70_000 }),
  window: fc.integer({ min: 0, max: 0xffff }),
  dataLength: fc.integer({ min: 0, max: 3000 }),
  ts: fc.option(
    fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })),
  ),
  sack: fc.array(
    fc.tuple(fc.integer({ min: -5000, max: 100_000 }), fc.integer({ min: 0, max: 5000 })),
    {
      maxLength: 4,
    },
  ),
  advance: fc.integer({ min: 0, max: 3000 }),
});

describe('state machine under hostile input', () => {
  it('never throws and keeps SND.UNA <= SND.NXT <= SND.MAX whatever arrives', () => {
    fc.assert(
      fc.property(fc.array(segmentArb, { minLength: 1, maxLength: 40 }), (segs) => {
        const n = new Net();
        n.handshake();
        n.a.send(pattern(50_000), 0, 50_000, n.now);
        n.run(5);
        for (const g of segs) {
          const s = newSegment();
          s.flags = g.flags;
          s.seq = g.seqMode === 'near' ? (n.a.rcvNxt + g.seqDelta) >>> 0 : g.seqRandom >>> 0;
          s.ack = (n.a.sndUna + g.ackDelta) >>> 0;
          s.window = g.window;
          s.data = new Uint8Array(g.dataLength);
          s.dataLength = g.dataLength;
          if (g.ts) {
            s.hasTimestamps = true;
            s.tsVal = g.ts[0] >>> 0;
            s.tsEcr = g.ts[1] >>> 0;
          }
          s.sackCount = g.sack.length;
          g.sack.forEach(([l, len], i) => {
            s.sackBlocks[2 * i] = (n.a.sndUna + l) >>> 0;
            s.sackBlocks[2 * i + 1] = (n.a.sndUna + l + len) >>> 0;
          });
          n.inject('a', s);
          n.run(g.advance);
          const c = n.a;
          if (c.state !== TcpState.CLOSED) {
            expect(seqLe(c.sndUna, c.sndNxt)).toBe(true);
            expect(seqLe(c.sndNxt, c.sndMax)).toBe(true);
            expect(c.scoreboard.sackedBytes).toBeGreaterThanOrEqual(0);
          }
        }
        n.run(300_000);
      }),
      { numRuns: 150, seed: 42 },
    );
  });
});
