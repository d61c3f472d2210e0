import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair } from '../../src/runtime/link/memory.js';
import {
  injectFaults,
  Xoshiro128,
  type DirectionFaults,
  type FaultLink,
} from '../../src/runtime/link/faults.js';
import type { FrameReceiver } from '../../src/runtime/link/link.js';

interface Arrival {
  seq: number;
  at: number;
  bytes: number[];
}

/** a (wrapped with faults) → b; frames carry a 16-bit sequence number at bytes 14..15. */
function setup(tx: DirectionFaults, seed = 42, rx: DirectionFaults = {}) {
  const clock = new VirtualClock();
  const [a, b] = createMemoryLinkPair({ macA: 1, macB: 2, clock, queueFrames: 100_000 });
  const faulty = injectFaults(a, { seed, clock, tx, rx });
  const arrivals: Arrival[] = [];
  const sink: FrameReceiver = {
    receive(bytes, o, len) {
      arrivals.push({
        seq: (bytes[o + 14] << 8) | bytes[o + 15],
        at: clock.now(),
        bytes: Array.from(bytes.subarray(o, o + len)),
      });
    },
    batchEnd() {},
  };
  b.setReceiver(sink);
  return { clock, faulty, b, arrivals };
}

function frame(seq: number, length = 100): Uint8Array {
  const f = new Uint8Array(length);
  f.fill(0x5a);
  f[14] = seq >> 8;
  f[15] = seq & 0xff;
  return f;
}

function sendAll(faulty: FaultLink, n: number, length = 100): void {
  let refused = 0;
  for (let i = 0; i < n; i++) if (!faulty.send(frame(i, length), 0, length)) refused++;
  expect(refused).toBe(0); // injected faults look like wire loss: send still says yes
}

describe('Xoshiro128', () => {
  it('is reproducible from a seed and differs between seeds', () => {
    const a = new Xoshiro128(1);
    const b = new Xoshiro128(1);
    const c = new Xoshiro128(2);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(sa);
    const r = new Xoshiro128(3);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = r.next();
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
    }
    expect(outside).toBe(0);
    expect(sum / 10_000).toBeGreaterThan(0.48);
    expect(sum / 10_000).toBeLessThan(0.52);
  });
});

describe('fault injector', () => {
  it('passes everything through unchanged and synchronously with no faults', () => {
    const { clock, faulty, arrivals } = setup({});
    sendAll(faulty, 10);
    clock.advance(0);
    expect(arrivals.map((a) => a.seq)).toEqual([...Array(10).keys()]);
    expect(faulty.stats().faults.tx).toMatchObject({ passed: 10, dropped: 0, held: 0 });
  });

  it('drops about the configured share, and the same seed drops the same frames', () => {
    const run = (seed: number) => {
      const { clock, faulty, arrivals } = setup({ drop: 0.2 }, seed);
      sendAll(faulty, 2000);
      clock.advance(0);
      return { seqs: arrivals.map((a) => a.seq), stats: faulty.stats().faults.tx };
    };
    const first = run(7);
    const again = run(7);
    const other = run(8);
    expect(again.seqs).toEqual(first.seqs);
    expect(other.seqs).not.toEqual(first.seqs);
    expect(first.stats.dropped + first.seqs.length).toBe(2000);
    expect(first.stats.dropped).toBeGreaterThan(320);
    expect(first.stats.dropped).toBeLessThan(480);
  });

  it('duplicates frames', () => {
    const { clock, faulty, arrivals } = setup({ duplicate: 0.5 });
    sendAll(faulty, 200);
    clock.advance(0);
    const dup = faulty.stats().faults.tx.duplicated;
    expect(dup).toBeGreaterThan(60);
    expect(arrivals).toHaveLength(200 + dup);
    expect(new Set(arrivals.map((a) => a.seq)).size).toBe(200);
  });

  it('delays by a fixed latency plus jitter, on the virtual clock', () => {
    const { clock, faulty, arrivals } = setup({ delayMs: 10, jitterMs: 5 });
    sendAll(faulty, 50);
    clock.advance(9.99);
    expect(arrivals).toHaveLength(0);
    clock.advance(20);
    expect(arrivals).toHaveLength(50);
    for (const a of arrivals) {
      expect(a.at).toBeGreaterThanOrEqual(10);
      expect(a.at).toBeLessThan(15);
    }
    // Arrivals come out in time order (jitter may reorder sequence numbers, as on a real path).
    for (let i = 1; i < arrivals.length; i++)
      expect(arrivals[i].at).toBeGreaterThanOrEqual(arrivals[i - 1].at);
  });

  it('reorders: held frames are overtaken, none lost', () => {
    const { clock, faulty, arrivals } = setup({ reorder: 0.2, reorderMs: 2 });
    for (let i = 0; i < 100; i++) {
      faulty.send(frame(i), 0, 100);
      clock.advance(0.5);
    }
    clock.advance(10);
    const seqs = arrivals.map((a) => a.seq);
    expect(seqs).toHaveLength(100);
    expect([...seqs].sort((x, y) => x - y)).toEqual([...Array(100).keys()]);
    expect(seqs).not.toEqual([...Array(100).keys()]);
    expect(faulty.stats().faults.tx.reordered).toBeGreaterThan(5);
  });

  it('corrupts a copy with the configured number of bit flips', () => {
    const { clock, faulty, arrivals } = setup({ corrupt: 1, corruptBits: 3 });
    const original = frame(1);
    const kept = Array.from(original);
    faulty.send(original, 0, 100);
    clock.advance(0);
    expect(Array.from(original)).toEqual(kept);
    let flipped = 0;
    arrivals[0].bytes.forEach((byte, i) => {
      let x = byte ^ kept[i];
      while (x) {
        flipped += x & 1;
        x >>= 1;
      }
    });
    // Three flips, unless two hit the same bit and cancel (then one).
    expect([1, 3]).toContain(flipped);
    expect(faulty.stats().faults.tx.corrupted).toBe(1);
  });

  it('limits the rate with a token bucket and drops beyond the backlog', () => {
    // 100 kB/s, 1000-byte frames: after the 1514-byte burst (one full frame), one frame per 10 ms.
    const { clock, faulty, arrivals } = setup({
      rateBytesPerSecond: 100_000,
      rateQueueBytes: 20_000,
    });
    sendAll(faulty, 30, 1000);
    const st = faulty.stats().faults.tx;
    expect(st.rateDropped).toBe(9); // the 1514-byte burst (one full frame) + 20000 bytes of backlog hold 21 frames
    clock.advance(1000);
    expect(arrivals).toHaveLength(21);
    expect(arrivals[0].at).toBe(0);
    expect(arrivals[1].at).toBeCloseTo((2000 - 1514) / 100, 6);
    expect(arrivals[20].at).toBeCloseTo((21 * 1000 - 1514) / 100, 6);
    expect(arrivals.map((a) => a.seq)).toEqual([...Array(21).keys()]);
  });

  it('applies faults per direction: rx faults leave tx alone', async () => {
    const clock = new VirtualClock();
    const [a, b] = createMemoryLinkPair({ macA: 1, macB: 2, clock });
    const faulty = injectFaults(a, { seed: 1, clock, rx: { drop: 1 } });
    let atA = 0;
    let atB = 0;
    let batches = 0;
    faulty.setReceiver({ receive: () => atA++, batchEnd: () => batches++ });
    b.setReceiver({ receive: () => atB++, batchEnd: () => {} });
    faulty.send(frame(1), 0, 100);
    b.send(frame(2), 0, 100);
    clock.advance(0);
    expect([atA, atB]).toEqual([0, 1]);
    expect(batches).toBe(1);
    expect(faulty.stats().faults.rx.dropped).toBe(1);
    await faulty.close();
  });

  it('holds a bounded number of frames and discards held frames on close', async () => {
    const { clock, faulty, arrivals } = setup({ delayMs: 5, maxHeldFrames: 4 });
    sendAll(faulty, 6);
    expect(faulty.stats().faults.tx).toMatchObject({ held: 4, heldOverflow: 2 });
    await faulty.close();
    clock.advance(10);
    expect(arrivals).toHaveLength(0);
    expect(faulty.stats().faults.tx.discardedAtClose).toBe(4);
  });

  it('rejects nonsense settings', () => {
    expect(() => setup({ drop: 1.5 })).toThrow(RangeError);
    expect(() => setup({ delayMs: -1 })).toThrow(RangeError);
    expect(() => setup({ rateBytesPerSecond: Infinity })).toThrow(RangeError);
  });

  it('replays a whole mixed-fault run exactly from its seed', () => {
    const run = () => {
      const { clock, faulty, arrivals } = setup(
        {
          drop: 0.05,
          duplicate: 0.05,
          reorder: 0.1,
          jitterMs: 3,
          corrupt: 0.05,
          rateBytesPerSecond: 1_000_000,
        },
        99,
      );
      for (let i = 0; i < 300; i++) {
        faulty.send(frame(i), 0, 100);
        clock.advance(0.05);
      }
      clock.advance(100);
      return arrivals;
    };
    expect(run()).toEqual(run());
  });
});
