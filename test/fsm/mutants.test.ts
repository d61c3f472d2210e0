/**
 * Behaviour that planted bugs once got past the suite: receiver silly-window avoidance (RFC 9293 §3.8.6.2.2), and the peer's window scale.
 */
import { describe, expect, it } from 'vitest';
import { Net, pattern } from './harness.js';

const MSS = 1460;

describe('receiver SWS avoidance (RFC 9293 §3.8.6.2.2)', () => {
  it('moves the right edge of its window only by min(MSS, buffer/2) or more', () => {
    const rcvBuf = 8 * MSS;
    const net = new Net({ windowScale: false }, { windowScale: false, rcvBuf });
    net.hostB.autoConsume = false;
    net.handshake();
    const data = pattern(100 * MSS);
    let off = 0;
    let consumed = 0;
    // The application reads 100 bytes every 10 ms: far slower than the sender.
    for (let step = 0; step < 400; step++) {
      if (off < data.length) off += net.a.send(data, off, data.length - off, net.now);
      net.run(10);
      const n = Math.min(100, net.hostB.receivedBytes - consumed);
      if (n > 0) {
        net.b.consumed(n, net.now);
        consumed += n;
      }
    }
    expect(consumed).toBeGreaterThan(20_000);
    const threshold = Math.min(MSS, rcvBuf >>> 1);
    let right: number | undefined;
    const moves: number[] = [];
    for (const s of net.sentBy('b')) {
      if ((s.flags & 0x10) === 0) continue;
      const edge = (s.ack + s.window) >>> 0;
      if (right !== undefined) {
        const moved = (edge - right) | 0;
        if (moved > 0) moves.push(moved);
        if (moved > 0) right = edge;
      } else right = edge;
    }
    expect(moves.length).toBeGreaterThan(5);
    expect(moves.filter((m) => m < threshold)).toEqual([]);
  });
});

describe("the peer's window scale (RFC 7323 §2.3)", () => {
  it("reads the peer's window field shifted by the peer's scale, never its own", () => {
    // b's 1 MiB buffer needs a shift of 5; a's 16 KiB needs none.
    const net = new Net({ rcvBuf: 16 * 1024 }, { rcvBuf: 1 << 20 });
    net.handshake();
    const synAck = net.sentBy('b')[0];
    expect(synAck.windowScale).toBe(5);
    net.a.send(pattern(10), 0, 10, net.now);
    net.run(1000);
    const last = net.sentBy('b').at(-1);
    expect(last).toBeDefined();
    expect(last!.window).toBeLessThan(0x10000);
    expect(net.a.sndWnd).toBe(last!.window << 5);
    expect(net.a.sndWnd).toBeGreaterThan(0xffff);
  });
});
