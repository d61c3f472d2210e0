/**
 * The configuration's two sets of choices, seen through what a connection does: the defaults
 * are the RFCs' (RFC 5961 §5.2's ACK of unsent data, RFC 3465 byte counting whether or not the
 * flight fills cwnd, NewReno, RFC 8985's probe timeout), and LINUX_TCP_PROFILE is Linux's
 * (silence, cwnd-limited growth by what is newly delivered, CUBIC, tcp_schedule_loss_probe).
 */
import { describe, expect, it } from 'vitest';
import { ACK, newSegment } from '../../src/fsm/segment.js';
import {
  DEFAULT_TCP_CONFIG,
  LINUX_TCP_PROFILE,
  TcpState,
  windowShiftFor,
  type TcpConfig,
} from '../../src/fsm/tcp.js';
import { Net, pattern, type SentSegment } from './harness.js';

describe("the RFCs' defaults and Linux's profile", () => {
  it('an ACK of unsent data draws an ACK by default (RFC 5961 §5.2), nothing in the Linux profile', () => {
    const answers = (config: Partial<TcpConfig>): number => {
      const n = new Net(config);
      n.handshake();
      n.transfer('a', pattern(10_000));
      n.run(1000);
      const before = n.sentBy('a').length;
      const bad = newSegment();
      bad.flags = ACK;
      bad.seq = n.b.sndMax;
      bad.ack = (n.a.sndMax + 9999) >>> 0;
      bad.window = 1000;
      n.inject('a', bad);
      expect(n.a.state).toBe(TcpState.ESTABLISHED);
      return n.sentBy('a').length - before;
    };
    expect(answers({})).toBe(1);
    expect(answers(LINUX_TCP_PROFILE)).toBe(0);
  });

  it('an application-limited flight grows cwnd by default, not in the Linux profile (RFC 7661)', () => {
    const grown = (config: Partial<TcpConfig>): number => {
      const n = new Net(config);
      n.handshake();
      const start = n.a.cc.cwnd;
      // Two segments at a time, far under the initial window of ten.
      for (let i = 0; i < 5; i++) {
        const d = pattern(2 * n.a.effMss, i);
        n.a.send(d, 0, d.length, n.now);
        n.run(100); // less than the RTO: not idle (RFC 5681 §4.1)
      }
      return (n.a.cc.cwnd - start) / n.a.effMss;
    };
    expect(grown({})).toBe(10);
    expect(grown(LINUX_TCP_PROFILE)).toBe(0);
  });

  /**
   * Six segments; the first arrives after the second and third (which draw two SACKed
   * duplicate ACKs, too few for recovery), then the rest. Returns cwnd's growth in segments.
   */
  function reorderedGrowth(config: Partial<TcpConfig>): number {
    const n = new Net(config);
    n.handshake();
    const start = n.a.cc.cwnd;
    const held: SentSegment[] = [];
    let k = 0;
    n.filter = (s) => {
      if (s.from !== 'a' || s.payload.length === 0) return 'pass';
      k++;
      if (k === 2 || k === 3) return 'pass';
      held.push(s);
      return 'drop';
    };
    const d = pattern(6 * n.a.effMss);
    n.a.send(d, 0, d.length, n.now);
    n.run(n.latency);
    expect(n.sentBy('b').filter((s) => s.sackCount > 0).length).toBe(2);
    n.filter = () => 'pass';
    for (const s of held) n.inject('b', s);
    n.run(500);
    expect(n.hostB.receivedBytes).toBe(d.length);
    expect(n.a.counters.retransmits).toBe(0);
    return (n.a.cc.cwnd - start) / n.a.effMss;
  }

  it('counts the bytes a cumulative ACK covers by default (RFC 3465), SACKed data once in the Linux profile', () => {
    // The ACK of segments 1-3 grows cwnd by L = 2 segments, the ACKs of 4-5 and 6 by 2 and 1.
    expect(reorderedGrowth({})).toBe(5);
    // Counting what each ACK newly delivers, that ACK delivers one segment (2 and 3 were SACKed).
    expect(reorderedGrowth({ deliveredGrowth: true })).toBe(4);
    expect(reorderedGrowth(LINUX_TCP_PROFILE)).toBeLessThan(
      reorderedGrowth({ ...LINUX_TCP_PROFILE, deliveredGrowth: false }),
    );
  });

  it('runs NewReno by default and CUBIC in the Linux profile (TCP_CONGESTION)', () => {
    const rfc = new Net();
    rfc.handshake();
    expect(rfc.a.congestion).toBe('newreno');
    expect(rfc.a.cc.name).toBe('newreno');
    const linux = new Net(LINUX_TCP_PROFILE);
    linux.handshake();
    expect(linux.a.congestion).toBe('cubic');
    expect(linux.a.cc.name).toBe('cubic');
  });

  it('times the loss probe by RFC 8985 by default (the rule is named in the config)', () => {
    // Only 'linux' changes the arithmetic, so the default's name is what a caller sees of it.
    expect(DEFAULT_TCP_CONFIG.lossProbe).toBe('rfc8985');
    expect(LINUX_TCP_PROFILE.lossProbe).toBe('linux');
  });
});

describe('window scale for a receive buffer (RFC 7323 §2.3)', () => {
  it('is 0 for a buffer a 16-bit window expresses, however small or negative', () => {
    expect(windowShiftFor(0)).toBe(0);
    expect(windowShiftFor(-1)).toBe(0);
    expect(windowShiftFor(-(2 ** 31))).toBe(0);
    expect(windowShiftFor(0xffff)).toBe(0);
    expect(windowShiftFor(0x10000)).toBe(1);
    expect(windowShiftFor(0x1fffe)).toBe(1); // 0xffff << 1 is exactly the buffer
    expect(windowShiftFor(2 ** 31)).toBe(14);
  });
});
