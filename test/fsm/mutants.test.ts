/**
 * Behaviour that planted bugs once got past the suite: receiver and sender silly-window
 * avoidance (RFC 9293 §3.8.6.2), the peer's window scale, and Karn's rule. Each test here was
 * checked against its planted bug and fails with it.
 */
import { describe, expect, it } from 'vitest';
import { Net, pattern, rng } from './harness.js';

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

describe("Karn's rule (RFC 6298 §3) without timestamps", () => {
  // One-way latency 50 ms: a clean sample is at most the 100 ms RTT plus the 40 ms delayed ACK.
  // A sample taken across a retransmission (fast retransmit, a NewReno partial ACK's resend, a
  // SACK hole) is at least one RTT longer.
  for (const sack of [true, false]) {
    it(`takes no RTT sample across a retransmission, 12 seeds of 3% loss (sack ${sack})`, () => {
      let fastRetransmits = 0;
      let sampled = 0;
      const worst: Array<{ seed: number; rtt: number }> = [];
      for (let seed = 1; seed <= 12; seed++) {
        const net = new Net({ timestamps: false, sack });
        net.latency = 50;
        net.handshake();
        const samples: number[] = [];
        const estimator = net.a.rto;
        const sample = estimator.sample.bind(estimator);
        estimator.sample = (rtt: number): void => {
          samples.push(rtt);
          sample(rtt);
        };
        const lose = rng(seed);
        net.filter = (s) => (s.from === 'a' && s.dataLength > 0 && lose() < 0.03 ? 'drop' : 'pass');
        const data = pattern(300 * MSS, seed);
        net.transfer('a', data);
        expect(Buffer.from(data).equals(net.hostB.data())).toBe(true);
        fastRetransmits += net.a.counters.fastRetransmits;
        sampled += samples.length;
        worst.push({ seed, rtt: Math.max(...samples) });
      }
      expect(worst.filter((w) => w.rtt > 2 * 50 + 40)).toEqual([]);
      expect(fastRetransmits).toBeGreaterThan(12);
      expect(sampled).toBeGreaterThan(60);
    });
  }
});

describe('sender SWS avoidance (RFC 9293 §3.8.6.2.1)', () => {
  it('sends no window-limited partial segment while data is in flight, even with noDelay', () => {
    // b offers 2.5 segments and reads at once: after two full segments, half a segment of
    // window is left, which must wait for an ACK rather than go out as a runt.
    const rcvBuf = Math.floor(2.5 * MSS);
    const net = new Net({ windowScale: false }, { windowScale: false, rcvBuf });
    net.handshake();
    net.a.setNoDelay(true, net.now);
    const data = pattern(200 * MSS);
    net.transfer('a', data);
    expect(Buffer.from(data).equals(net.hostB.data())).toBe(true);
    const sizes = net
      .sentBy('a')
      .filter((s) => s.dataLength > 0)
      .map((s) => s.dataLength);
    expect(sizes.length).toBeGreaterThan(200);
    // Full is the MSS less the timestamp option. The last segment carries what is left; every
    // other one is full.
    const full = Math.max(...sizes);
    expect(full).toBeGreaterThan(MSS - 40);
    expect(sizes.slice(0, -1).filter((n) => n < full)).toEqual([]);
  });
});
