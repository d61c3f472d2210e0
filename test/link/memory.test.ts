import { describe, expect, it } from 'vitest';
import { TimerStormError, VirtualClock } from '../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair } from '../../src/runtime/link/memory.js';
import type { FrameReceiver } from '../../src/runtime/link/link.js';

/** Collects copies of received frames and marks batch boundaries. */
function collector(): FrameReceiver & { frames: number[][]; batches: number[] } {
  const frames: number[][] = [];
  const batches: number[] = [];
  return {
    frames,
    batches,
    receive(bytes, offset, length) {
      frames.push(Array.from(bytes.subarray(offset, offset + length)));
    },
    batchEnd() {
      batches.push(frames.length);
    },
  };
}

function frame(tag: number, length = 60): Uint8Array {
  const f = new Uint8Array(length);
  f.fill(tag);
  return f;
}

describe('memory link pair', () => {
  it('delivers frames in order, in one batch, only when the virtual clock runs', () => {
    const clock = new VirtualClock();
    const [a, b] = createMemoryLinkPair({ macA: 0x020000000001, macB: 0x020000000002, clock });
    const rx = collector();
    b.setReceiver(rx);
    expect(a.mac).toBe(0x020000000001);
    expect(b.mtu).toBe(1500);
    expect(a.send(frame(1), 0, 60)).toBe(true);
    expect(a.send(frame(2), 0, 60)).toBe(true);
    expect(rx.frames).toHaveLength(0);
    clock.advance(0);
    expect(rx.frames.map((f) => f[0])).toEqual([1, 2]);
    expect(rx.batches).toEqual([2]);
    expect(a.stats()).toMatchObject({ txFrames: 2, txBytes: 120, txDropped: 0 });
    expect(b.stats()).toMatchObject({ rxFrames: 2, rxBytes: 120, rxBatches: 1 });
  });

  it('copies on send so the sender may reuse its buffer', () => {
    const clock = new VirtualClock();
    const [a, b] = createMemoryLinkPair({ macA: 1, macB: 2, clock });
    const rx = collector();
    b.setReceiver(rx);
    const buf = frame(7, 100);
    a.send(buf, 20, 64);
    buf.fill(9);
    clock.advance(0);
    expect(rx.frames[0]).toEqual(new Array(64).fill(7));
  });

  it('drops and counts frames beyond the queue bound and frames of bad length', () => {
    const clock = new VirtualClock();
    const [a, b] = createMemoryLinkPair({ macA: 1, macB: 2, clock, mtu: 100, queueFrames: 3 });
    const rx = collector();
    b.setReceiver(rx);
    const results = [1, 2, 3, 4].map((t) => a.send(frame(t), 0, 60));
    expect(results).toEqual([true, true, true, false]);
    expect(a.send(frame(5, 115), 0, 115)).toBe(false);
    expect(a.send(frame(5, 13), 0, 13)).toBe(false);
    expect(a.send(frame(5, 20), 10, 20)).toBe(false);
    expect(a.send(frame(5, 114), 0, 114)).toBe(false); // queue still full
    expect(a.stats()).toMatchObject({ txFrames: 3, txDropped: 5, txQueueFull: 2, txBadLength: 3 });
    clock.advance(0);
    expect(rx.frames.map((f) => f[0])).toEqual([1, 2, 3]);
    expect(a.send(frame(6, 114), 0, 114)).toBe(true);
    clock.advance(0);
    expect(rx.frames).toHaveLength(4);
  });

  it('puts frames sent during a delivery into the next batch (no re-entrant loop)', () => {
    const clock = new VirtualClock({ maxTimersPerRun: 10_000 });
    const [a, b] = createMemoryLinkPair({ macA: 1, macB: 2, clock });
    let bounces = 0;
    // Each side echoes what it gets: a ping-pong that would never end if delivery were synchronous.
    const echo = (link: typeof a): FrameReceiver => ({
      receive(bytes, offset, length) {
        bounces++;
        link.send(bytes, offset, length);
      },
      batchEnd() {},
    });
    a.setReceiver(echo(a));
    b.setReceiver(echo(b));
    a.send(frame(1), 0, 60);
    // Each hop is its own 0 ms delivery timer: one step of the clock moves the frame one hop.
    for (let hop = 1; hop <= 5; hop++) {
      expect(clock.fireNext()).toBe(true);
      expect(bounces).toBe(hop);
    }
    // An endless echo at 0 ms is endless in virtual time too: the clock reports it, not hangs.
    expect(() => clock.advance(0)).toThrow(TimerStormError);
  });

  it('counts frames arriving with no receiver and stops after close', async () => {
    const clock = new VirtualClock();
    const [a, b] = createMemoryLinkPair({ macA: 1, macB: 2, clock });
    a.send(frame(1), 0, 60);
    clock.advance(0);
    expect(b.stats().rxNoReceiver).toBe(1);
    const rx = collector();
    b.setReceiver(rx);
    a.send(frame(2), 0, 60);
    await b.close();
    clock.advance(0);
    expect(rx.frames).toHaveLength(0);
    expect(a.send(frame(3), 0, 60)).toBe(false);
    expect(b.send(frame(3), 0, 60)).toBe(false);
    await b.close();
  });

  it('delivers on setImmediate without a clock', async () => {
    const [a, b] = createMemoryLinkPair({ macA: 1, macB: 2 });
    const rx = collector();
    b.setReceiver(rx);
    a.send(frame(4), 0, 60);
    expect(rx.frames).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(rx.frames).toHaveLength(1);
    await a.close();
    await b.close();
  });

  it('rejects a bad MTU', () => {
    expect(() => createMemoryLinkPair({ macA: 1, macB: 2, mtu: 10 })).toThrow(RangeError);
  });
});
