/**
 * Received data belongs to the application once handed over (rx-slab.ts): no Buffer a 'data'
 * listener or read() returned may change afterwards, whatever arrives later, and the stream is
 * byte-exact through loss, reordering, duplication and retransmission, with readers that keep
 * every chunk, read in odd sizes, pause and resume. Seeded fast-check properties on the memory
 * link and the virtual clock.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/runtime/clock/clock.js';
import { copyBytes } from '../../../src/util/bytes.js';
import { RxSlab, type RxRun } from '../../../src/runtime/tcp/rx-slab.js';
import type { TcpSocket } from '../../../src/runtime/tcp/index.js';
import { IP_B, makePair, randomBytes, runUntil } from './helpers.js';

describe('RxSlab', () => {
  it('never rewrites a byte it handed out; each run reads back exactly what was appended', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            run: fc.nat(3),
            length: fc.integer({ min: 0, max: 40 }),
            close: fc.boolean(),
          }),
          { maxLength: 200 },
        ),
        (steps) => {
          // A tiny slab (64 bytes, runs of at most 16) so replacement and own buffers happen.
          const slab = new RxSlab(copyBytes, 64, 16);
          const runs: RxRun[] = [0, 1, 2, 3].map(() => ({ rxSlab: null, rxStart: 0, rxEnd: 0 }));
          const out: Buffer[][] = [[], [], [], []];
          const sent: number[][] = [[], [], [], []];
          const handed: Array<{ view: Buffer; copy: Buffer }> = [];
          let next = 0;
          const frame = new Uint8Array(64);
          for (const s of steps) {
            // The source is overwritten after every append, as a link's receive buffer is.
            for (let i = 0; i < s.length; i++) frame[8 + i] = (next + i) & 0xff;
            for (let i = 0; i < s.length; i++) sent[s.run].push((next + i) & 0xff);
            next += s.length;
            const before = out[s.run].length;
            slab.append(runs[s.run], frame, 8, s.length, out[s.run]);
            frame.fill(0xee);
            if (s.close) slab.close(runs[s.run], out[s.run]);
            for (const view of out[s.run].slice(before))
              handed.push({ view, copy: Buffer.from(view) });
          }
          for (let r = 0; r < 4; r++) slab.close(runs[r], out[r]);
          for (const h of handed) expect(h.view.equals(h.copy)).toBe(true);
          for (let r = 0; r < 4; r++) {
            expect([...Buffer.concat(out[r])]).toEqual(sent[r]);
            for (const b of out[r]) expect(b.length).toBeGreaterThan(0);
          }
        },
      ),
      { seed: 13, numRuns: 300 },
    );
  });
});

type Reader = 'keep' | 'read' | 'pause' | 'onread';

/** Reads `s` the way `mode` says, keeping every Buffer the stream returned. */
function readAll(
  s: TcpSocket,
  mode: Reader,
  sizes: number[],
  pauses: number[],
  clock: Clock,
): { chunks: Buffer[]; copies: Buffer[]; ended: () => boolean } {
  const chunks: Buffer[] = [];
  const copies: Buffer[] = [];
  let ended = false;
  const take = (d: Buffer) => {
    chunks.push(d);
    copies.push(Buffer.from(d));
  };
  s.on('end', () => (ended = true));
  if (mode === 'read') {
    // Paused mode: read() in sizes that cut across segments, or everything buffered.
    let i = 0;
    s.on('readable', () => {
      for (;;) {
        const n = sizes[i++ % sizes.length];
        const d = (n === 0 ? s.read() : (s.read(n) ?? s.read())) as Buffer | null;
        if (d === null) break;
        take(d);
      }
    });
  } else {
    let i = 0;
    s.on('data', (d: Buffer) => {
      take(d);
      // Flowing, now and then paused for a while (the window closes, then reopens).
      const ms = mode === 'pause' ? pauses[i++ % pauses.length] : 0;
      if (ms > 0) {
        s.pause();
        // A virtual-clock timer: runUntil does not jump past it, as it may past a chain of
        // setImmediate calls.
        clock.setTimer(ms, () => s.resume());
      }
    });
  }
  return { chunks, copies, ended: () => ended };
}

/**
 * An `onread` reader: buffers of the given sizes (static for the first size, else one per call),
 * the bytes copied out in the callback (they are only valid during it), and now and then a
 * pause, by returning false, resumed some virtual milliseconds later.
 */
function onreadReader(sizes: number[], pauses: number[], p: { clock: Clock }) {
  // At least 16 bytes and a pause every 37th callback at most: a bounded virtual time in all.
  const size = (i: number) => 16 + sizes[i % sizes.length] * 3;
  const shared = new Uint8Array(size(0));
  let i = 0;
  let socket: TcpSocket | null = null;
  const chunks: Buffer[] = [];
  let ended = false;
  let dataEvents = 0;
  let paused = false;
  const onread = () => ({
    buffer: sizes.length === 1 ? shared : () => new Uint8Array(size(++i)),
    callback: (n: number, buf: Uint8Array) => {
      // Nothing while paused (node:net: returning false stops reading until resume()).
      expect(paused).toBe(false);
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThanOrEqual(buf.length);
      chunks.push(Buffer.from(buf.subarray(0, n)));
      // Scribbled over once read: the layer must not read it back.
      buf.fill(0xa5, 0, n);
      const ms = i++ % 37 === 1 ? pauses[i % pauses.length] : 0;
      if (ms === 0) return true;
      p.clock.setTimer(ms, () => {
        paused = false;
        socket?.resume();
      });
      paused = true;
      return false;
    },
  });
  return {
    onread,
    attach(s: TcpSocket) {
      socket = s;
      s.on('data', () => dataEvents++);
      s.on('end', () => (ended = true));
      return {
        chunks,
        copies: chunks,
        ended: () => {
          expect(dataEvents).toBe(0);
          return ended;
        },
      };
    },
  };
}

describe('received data through a faulty link', () => {
  it('reaches every kind of reader byte-exact, and no chunk changes after it was handed out', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          mss: fc.integer({ min: 200, max: 1460 }),
          rcvBuf: fc.constantFrom(4096, 16 * 1024, 64 * 1024, 256 * 1024),
          loss: fc.constantFrom(0, 0.02, 0.08),
          reorder: fc.constantFrom(0, 0.05),
          duplicate: fc.constantFrom(0, 0.03),
          length: fc.integer({ min: 4, max: 300_000 }),
          writes: fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }),
          reader: fc.constantFrom<Reader>('keep', 'read', 'pause', 'onread'),
          sizes: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 6 }),
          pauses: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 6 }),
          both: fc.boolean(),
        }),
        async (c) => {
          const p = makePair(
            c.seed,
            { loss: c.loss, reorder: c.reorder, duplicate: c.duplicate, delay: 1 },
            { mss: c.mss, rcvBuf: c.rcvBuf },
          );
          const data = randomBytes(c.length, c.seed);
          const back = randomBytes(c.both ? (c.length >> 1) + 4 : 0, c.seed + 1);
          let got: ReturnType<typeof readAll> | null = null;
          const direct = c.reader === 'onread' ? onreadReader(c.sizes, c.pauses, p) : null;
          p.tcpB.listen(
            9,
            (s) => {
              got = direct?.attach(s) ?? readAll(s, c.reader, c.sizes, c.pauses, p.clock);
              // Data the other way at the same time: ACKs carry data, segments cross.
              s.end(back);
            },
            direct === null ? {} : { onread: direct.onread },
          );
          const client = p.tcpA.connect({ host: IP_B, port: 9 });
          const echoed: Buffer[] = [];
          client.on('data', (d: Buffer) => echoed.push(d));
          for (let at = 0, i = 0; at < data.length; i++) {
            const n = Math.min(c.writes[i % c.writes.length], data.length - at);
            client.write(data.subarray(at, at + n));
            at += n;
          }
          client.end();
          await runUntil(p.clock, () => got !== null && got.ended(), 3_600_000);
          const r = got as ReturnType<typeof readAll> | null;
          expect(r?.ended()).toBe(true);
          const all = Buffer.concat(r!.chunks);
          expect(all.length).toBe(data.length);
          expect(all.equals(data)).toBe(true);
          // Every Buffer still holds what it held when it was handed out.
          r!.chunks.forEach((b, i) => expect(b.equals(r!.copies[i])).toBe(true));
          await runUntil(p.clock, () => Buffer.concat(echoed).length >= back.length, 600_000);
          expect(Buffer.concat(echoed).equals(back)).toBe(true);
        },
      ),
      { seed: 1313, numRuns: 40 },
    );
  }, 120_000);
});
