import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ACK, FIN, RST, SYN, newSegment, type Segment } from '../../src/fsm/segment.js';
import { TcpEvent, TcpState, stateName, type TcpConfig } from '../../src/fsm/tcp.js';
import { Net, pattern, rng } from './harness.js';

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function st(n: Net): [string, string] {
  return [stateName(n.a.state), stateName(n.b.state)];
}

describe('handshake and options', () => {
  it('negotiates MSS, window scale, SACK and timestamps', () => {
    const n = new Net({ mss: 1460 }, { mss: 1400 });
    n.handshake();
    expect(st(n)).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    const syn = n.log[0];
    expect(syn.flags).toBe(SYN);
    expect(syn.mss).toBe(1460);
    expect(syn.windowScale).toBe(3); // 256 KiB >> 3 fits 16 bits
    expect(syn.sackPermitted).toBe(true);
    expect(syn.hasTimestamps).toBe(true);
    const synAck = n.log[1];
    expect(synAck.flags).toBe(SYN | ACK);
    expect(synAck.ack).toBe(1001);
    expect(n.a.effMss).toBe(1400 - 12);
    expect(n.b.effMss).toBe(1400 - 12);
    expect(n.a.sndShift).toBe(3);
    expect(n.a.tsEnabled && n.a.sackEnabled).toBe(true);
    expect(n.hostA.events).toEqual([TcpEvent.Established]);
    expect(n.hostB.events).toEqual([TcpEvent.Established]);
  });

  it('echoes only the options the peer offered and uses 536 without an MSS option', () => {
    const n = new Net({ timestamps: false, sack: false, windowScale: false }, {});
    n.handshake();
    const synAck = n.log[1];
    expect(synAck.windowScale).toBe(-1);
    expect(synAck.sackPermitted).toBe(false);
    expect(synAck.hasTimestamps).toBe(false);
    expect(n.b.tsEnabled || n.b.sackEnabled || n.b.sndShift > 0).toBe(false);
    // A SYN without MSS means 536 (RFC 9293 §3.7.1).
    const m = new Net();
    m.b.listen(9);
    const syn = newSegment();
    syn.seq = 77;
    syn.flags = SYN;
    syn.window = 1000;
    m.inject('b', syn);
    expect(m.b.state).toBe(TcpState.SYN_RECEIVED);
    expect(m.b.effMss).toBe(536);
  });

  it('handles simultaneous open', () => {
    const n = new Net();
    n.a.connect(100, 0);
    n.b.connect(900, 0);
    n.run(1000);
    expect(st(n)).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    expect(n.hostA.events).toEqual([TcpEvent.Established]);
    n.transfer('a', pattern(5000));
    expect(sha(n.hostB.data())).toBe(sha(pattern(5000)));
  });

  it('reports ECONNREFUSED on RST to our SYN and ignores an unacceptable RST', () => {
    const n = new Net();
    n.a.connect(100, 0);
    const rst = newSegment();
    rst.flags = RST | ACK;
    rst.ack = 5; // does not acknowledge our SYN: drop (and no RST back to a RST)
    n.inject('a', rst);
    expect(n.a.state).toBe(TcpState.SYN_SENT);
    rst.ack = 101;
    n.inject('a', rst);
    expect(n.a.state).toBe(TcpState.CLOSED);
    expect(n.hostA.events).toEqual([TcpEvent.Refused]);
  });

  it('LISTEN answers a stray ACK with RST and ignores RST', () => {
    const n = new Net();
    n.b.listen(1);
    const ack = newSegment();
    ack.flags = ACK;
    ack.seq = 10;
    ack.ack = 777;
    n.inject('b', ack);
    const r = n.log.at(-1)!;
    expect(r.flags).toBe(RST);
    expect(r.seq).toBe(777);
    ack.flags = RST;
    const count = n.log.length;
    n.inject('b', ack);
    expect(n.log.length).toBe(count);
    expect(n.b.state).toBe(TcpState.LISTEN);
  });

  it('retransmits the SYN with exponential backoff and gives up with ETIMEDOUT', () => {
    const n = new Net();
    n.filter = () => 'drop';
    n.a.connect(1, 0);
    n.run(122_999);
    expect(n.a.state).toBe(TcpState.SYN_SENT);
    n.run(2);
    const syns = n.sentBy('a').filter((s) => s.flags & SYN);
    expect(syns.map((s) => s.time)).toEqual([0, 1000, 3000, 7000, 15000, 31000, 63000]);
    expect(n.a.state).toBe(TcpState.CLOSED);
    expect(n.hostA.events).toEqual([TcpEvent.TimedOut]);
    // The seventh wait would be 64 s but the RTO is capped at 60 s: gives up at 123 s.
    expect(n.a.state).toBe(TcpState.CLOSED);
  });

  it('resends the SYN-ACK when the SYN is retransmitted', () => {
    const n = new Net();
    let dropped = false;
    n.filter = (s) => {
      if (s.from === 'b' && s.flags === (SYN | ACK) && !dropped) {
        dropped = true;
        return 'drop';
      }
      return 'pass';
    };
    n.handshake();
    n.run(5000);
    expect(st(n)).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    // After a lost SYN-ACK the initial window is one segment (RFC 5681 §3.1)? Only on the side
    // that retransmitted its SYN.
    expect(n.a.cc.cwnd).toBe(n.a.effMss);
  });
});

describe('data transfer', () => {
  it('moves data both ways without loss and closes through every state', () => {
    const n = new Net();
    n.handshake();
    const d1 = pattern(300_000, 1);
    const d2 = pattern(200_000, 2);
    n.transfer('a', d1);
    n.transfer('b', d2);
    expect(sha(n.hostB.data())).toBe(sha(d1));
    expect(sha(n.hostA.data())).toBe(sha(d2));
    // Half-close: a ends, b keeps sending.
    n.a.close(n.now);
    expect(n.a.state).toBe(TcpState.FIN_WAIT_1);
    n.run(100);
    expect(st(n)).toEqual(['FIN-WAIT-2', 'CLOSE-WAIT']);
    expect(n.hostB.events).toContain(TcpEvent.RemoteFin);
    const d3 = pattern(50_000, 3);
    n.transfer('b', d3);
    expect(n.hostA.data().length).toBe(d2.length + d3.length);
    n.b.close(n.now);
    expect(n.b.state).toBe(TcpState.LAST_ACK);
    n.run(100);
    expect(st(n)).toEqual(['TIME-WAIT', 'CLOSED']);
    expect(n.hostB.events.at(-1)).toBe(TcpEvent.Closed);
    expect(n.hostA.events.at(-1)).toBe(TcpEvent.Closed);
    n.run(59_000);
    expect(n.a.state).toBe(TcpState.TIME_WAIT);
    n.run(2_000);
    expect(n.a.state).toBe(TcpState.CLOSED);
    expect(n.a.counters.retransmits + n.b.counters.retransmits).toBe(0);
  });

  it('simultaneous close goes through CLOSING to TIME-WAIT on both sides', () => {
    const n = new Net();
    n.handshake();
    n.a.close(n.now);
    n.b.close(n.now);
    expect(st(n)).toEqual(['FIN-WAIT-1', 'FIN-WAIT-1']);
    n.run(15);
    expect(st(n)).toEqual(['CLOSING', 'CLOSING']);
    n.run(100);
    expect(st(n)).toEqual(['TIME-WAIT', 'TIME-WAIT']);
  });

  it('crosses the 2^32 sequence wrap-around', () => {
    const n = new Net();
    n.handshake(0xffffffff - 50_000, 0xfffffff0);
    const d = pattern(400_000, 4);
    n.transfer('a', d);
    n.transfer('b', d);
    expect(sha(n.hostB.data())).toBe(sha(d));
    expect(sha(n.hostA.data())).toBe(sha(d));
    expect(n.a.sndUna).toBeLessThan(1_000_000); // wrapped
  });

  for (const [name, cfg] of [
    ['NewReno + SACK + timestamps', {}],
    ['NewReno without SACK or timestamps', { sack: false, timestamps: false }],
    ['CUBIC + SACK', { congestion: 'cubic' as const }],
  ] as const) {
    it(`survives 10% random loss both ways (${name})`, () => {
      for (const seed of [1, 2, 3]) {
        const n = new Net(cfg);
        const r = rng(seed);
        n.handshake();
        n.filter = () => (r() < 0.1 ? 'drop' : 'pass');
        const d = pattern(200_000, seed);
        n.transfer('a', d);
        expect(sha(n.hostB.data())).toBe(sha(d));
        n.transfer('b', d);
        expect(sha(n.hostA.data())).toBe(sha(d));
        n.a.close(n.now);
        n.b.close(n.now);
        n.run(200_000);
        expect(n.a.state).toBe(TcpState.CLOSED);
        expect(n.b.state).toBe(TcpState.CLOSED);
      }
    });
  }

  it('survives 20% loss, duplication and reordering both ways (several seeds)', () => {
    for (const seed of [11, 12, 13, 14]) {
      const n = new Net(seed % 2 === 0 ? { congestion: 'cubic' } : {});
      const r = rng(seed);
      n.handshake();
      n.filter = () => {
        const x = r();
        return x < 0.2 ? 'drop' : x < 0.25 ? 'dup' : 'pass';
      };
      n.jitter = () => (r() < 0.1 ? r() * 30 : 0);
      const d = pattern(150_000, seed);
      n.transfer('a', d);
      n.transfer('b', d);
      expect(sha(n.hostB.data())).toBe(sha(d));
      expect(sha(n.hostA.data())).toBe(sha(d));
    }
  });

  it('fast retransmit recovers a single loss without a timeout (NewReno, no SACK)', () => {
    const n = new Net({ sack: false });
    n.handshake();
    let dropped = false;
    n.filter = (s) => {
      if (s.from === 'a' && s.payload.length > 0 && s.seq === 1001 + 20 * n.a.effMss && !dropped) {
        dropped = true;
        return 'drop';
      }
      return 'pass';
    };
    const d = pattern(150_000, 5);
    n.transfer('a', d);
    expect(dropped).toBe(true);
    expect(sha(n.hostB.data())).toBe(sha(d));
    expect(n.a.counters.fastRetransmits).toBe(1);
    expect(n.a.counters.timeouts).toBe(0);
    expect(n.a.counters.retransmits).toBe(1);
  });

  it('with SACK retransmits only the holes of a multi-loss window', () => {
    const n = new Net();
    n.handshake();
    const mss = n.a.effMss;
    const lost = new Set([1001 + 30 * mss, 1001 + 33 * mss, 1001 + 36 * mss]);
    n.filter = (s) => {
      if (s.from === 'a' && s.payload.length > 0 && lost.has(s.seq)) {
        lost.delete(s.seq);
        return 'drop';
      }
      return 'pass';
    };
    const d = pattern(200_000, 6);
    n.transfer('a', d);
    expect(sha(n.hostB.data())).toBe(sha(d));
    expect(lost.size).toBe(0);
    expect(n.a.counters.timeouts).toBe(0);
    expect(n.a.counters.retransmits).toBe(3);
    // The receiver advertised SACK blocks while the holes were open.
    expect(n.sentBy('b').some((s) => s.sackCount >= 2)).toBe(true);
  });
});

describe('SACK recovery window (RFC 6675, RFC 6937)', () => {
  /** One loss in a large window; records cwnd and whether the segment was new at each send. */
  function singleLoss(config: Partial<TcpConfig>): {
    entry: number;
    ssthresh: number;
    newInRecovery: number;
  } {
    const n = new Net(config);
    n.handshake();
    const mss = n.a.effMss;
    let dropped = false;
    let entry = -1;
    let ssthresh = -1;
    let maxAtEntry = 0;
    let newInRecovery = 0;
    n.filter = (s) => {
      if (s.from !== 'a' || s.payload.length === 0) return 'pass';
      if (n.a.inRecovery && entry < 0) {
        entry = n.a.cc.cwnd;
        ssthresh = n.a.cc.ssthresh;
        maxAtEntry = n.a.sndMax;
      } else if (n.a.inRecovery && ((s.seq - maxAtEntry) | 0) >= 0) {
        newInRecovery++;
      }
      if (s.seq === 1001 + 40 * mss && !dropped) {
        dropped = true;
        return 'drop';
      }
      return 'pass';
    };
    const d = pattern(300_000, 9);
    n.transfer('a', d);
    expect(sha(n.hostB.data())).toBe(sha(d));
    expect(n.a.counters.fastRetransmits).toBe(1);
    expect(n.a.counters.timeouts).toBe(0);
    return { entry, ssthresh, newInRecovery };
  }

  it('by default (RFC 6675) sets cwnd to ssthresh on entry, and sends new data once the pipe, not SND.NXT - SND.UNA, is below it', () => {
    const r = singleLoss({});
    expect(r.entry).toBe(r.ssthresh);
    expect(r.newInRecovery).toBeGreaterThan(0);
  });

  it('with PRR lowers cwnd towards ssthresh in step with delivery instead of at once', () => {
    const r = singleLoss({ prr: true });
    // Entering recovery the pipe is nearly the whole flight: PRR keeps cwnd just above it.
    expect(r.entry).toBeGreaterThan(r.ssthresh);
    expect(r.newInRecovery).toBeGreaterThan(0);
  });
});

describe('restart after idle (RFC 5681 §4.1)', () => {
  /** Grows cwnd with a bulk transfer, idles `idleMs`, then counts the first burst's segments. */
  function burstAfterIdle(slowStartAfterIdle: boolean, idleMs: number) {
    const n = new Net({ slowStartAfterIdle });
    n.handshake();
    n.transfer('a', pattern(300_000));
    const grown = n.a.cc.cwnd;
    n.run(idleMs);
    const before = n.sentBy('a').length;
    const at = n.now;
    n.a.send(pattern(200_000), 0, 200_000, n.now);
    const burst = n
      .sentBy('a')
      .slice(before)
      .filter((s) => s.time === at && s.dataLength > 0);
    return { grown, burst: burst.length, cwnd: n.a.cc.cwnd, conn: n.a };
  }

  it('falls back to the initial window after more than an RTO without sending', () => {
    const r = burstAfterIdle(true, 5000);
    expect(r.grown).toBeGreaterThan(20 * r.conn.effMss);
    expect(r.burst).toBe(10);
    expect(r.conn.counters.idleRestarts).toBe(1);
    // ssthresh keeps 3/4 of what cwnd had reached, so slow start climbs back there.
    expect(r.conn.cc.ssthresh).toBeGreaterThanOrEqual(Math.floor((3 * r.grown) / 4));
  });

  it('keeps cwnd after an idle period shorter than the RTO, or with the option off', () => {
    const short = burstAfterIdle(true, 100);
    expect(short.burst).toBeGreaterThan(20);
    expect(short.conn.counters.idleRestarts).toBe(0);
    const off = burstAfterIdle(false, 5000);
    expect(off.burst).toBeGreaterThan(20);
  });
});

describe('retransmission timer (RFC 6298)', () => {
  it('backs off exponentially, capped at 60 s, and gives up with ETIMEDOUT', () => {
    const n = new Net({ dataRetries: 10, sack: false }); // no SACK: no tail loss probe either
    n.handshake();
    n.run(1000); // a few RTT samples: RTO settles at its 200 ms floor
    n.filter = (s) => (s.from === 'a' ? 'drop' : 'pass');
    n.a.send(pattern(100), 0, 100, n.now);
    n.run(2_000_000);
    const tx = n.sentBy('a').filter((s) => s.payload.length > 0);
    const gaps = tx.slice(1).map((s, i) => s.time - tx[i].time);
    expect(gaps[0]).toBe(200);
    for (let i = 1; i < gaps.length; i++) {
      expect(gaps[i]).toBe(Math.min(60_000, gaps[i - 1] * 2));
    }
    expect(gaps.at(-1)).toBe(60_000);
    expect(tx.length).toBe(11);
    expect(n.hostA.events.at(-1)).toBe(TcpEvent.TimedOut);
    expect(n.sentBy('a').at(-1)!.flags & RST).toBeTruthy();
  });

  it('repairs a lost tail with a loss probe and SACK recovery instead of a timeout', () => {
    const n = new Net();
    n.handshake();
    n.transfer('a', pattern(20_000));
    n.run(1000);
    const mss = n.a.effMss;
    const last = (n.a.sndMax + 2 * mss) >>> 0;
    let dropped = false;
    n.filter = (s) => {
      if (s.from === 'a' && s.seq === last && s.payload.length > 0 && !dropped) {
        dropped = true;
        return 'drop';
      }
      return 'pass';
    };
    const t0 = n.now;
    n.a.send(pattern(3 * mss), 0, 3 * mss, n.now);
    n.run(1000);
    expect(n.hostB.receivedBytes).toBe(20_000 + 3 * mss);
    expect(n.a.counters.tailProbes).toBe(1);
    expect(n.a.counters.timeouts).toBe(0);
    const probe = n.sentBy('a').filter((s) => s.seq === last && s.time >= t0)[1];
    expect(probe.time - t0).toBeLessThan(200); // well before the 200 ms minimum RTO
  });

  it('takes RTT samples from timestamps and keeps the RTO at its 200 ms floor on a fast path', () => {
    const n = new Net();
    n.latency = 50;
    n.handshake();
    n.transfer('a', pattern(50_000));
    expect(n.a.rto.srtt).toBeGreaterThanOrEqual(100);
    expect(n.a.rto.srtt).toBeLessThan(200);
    expect(n.a.rto.rto).toBeGreaterThanOrEqual(200);
  });
});

describe('RFC 5961 blind attacks', () => {
  function established(): Net {
    const n = new Net();
    n.handshake();
    n.transfer('a', pattern(10_000));
    n.transfer('b', pattern(10_000));
    return n;
  }
  function forged(n: Net, flags: number, seqOffset: number, data = 0): Segment {
    const s = newSegment();
    s.flags = flags;
    s.seq = (n.b.sndMax + seqOffset) >>> 0; // as if from b, toward a
    s.ack = n.a.sndMax;
    s.window = 1000;
    if (data > 0) {
      s.data = new Uint8Array(data).fill(0x41);
      s.dataLength = data;
    }
    return s;
  }

  it('an in-window RST that is not exact draws a challenge ACK; an exact one resets', () => {
    const n = established();
    const before = n.log.length;
    n.inject('a', forged(n, RST, 1000));
    expect(n.a.state).toBe(TcpState.ESTABLISHED);
    expect(n.log.length).toBe(before + 1);
    expect(n.log.at(-1)!.flags).toBe(ACK);
    expect(n.a.counters.challengeAcks).toBe(1);
    // Out of window: silently dropped.
    n.inject('a', forged(n, RST, 10_000_000));
    expect(n.log.length).toBe(before + 1);
    n.inject('a', forged(n, RST, 0));
    expect(n.a.state).toBe(TcpState.CLOSED);
    expect(n.hostA.events.at(-1)).toBe(TcpEvent.Reset);
  });

  it('a SYN in ESTABLISHED draws a challenge ACK and changes nothing', () => {
    const n = established();
    n.inject('a', forged(n, SYN, 5));
    n.inject('a', forged(n, SYN, -5_000_000));
    expect(n.a.state).toBe(TcpState.ESTABLISHED);
    expect(n.a.counters.challengeAcks).toBe(2);
  });

  it('challenge ACKs are rate-limited per second', () => {
    const n = established();
    for (let i = 0; i < 50; i++) n.inject('a', forged(n, SYN, 5));
    expect(n.a.counters.challengeAcks).toBe(10);
    expect(n.a.counters.challengeAcksSuppressed).toBe(40);
    n.run(1001);
    n.inject('a', forged(n, SYN, 5));
    expect(n.a.counters.challengeAcks).toBe(11);
  });

  it('blind data outside the window or with an unacceptable ACK is not delivered', () => {
    const n = established();
    const got = n.hostA.receivedBytes;
    n.inject('a', forged(n, ACK, 5_000_000, 100)); // beyond the window
    n.inject('a', forged(n, ACK, -5_000_000, 100)); // far in the past
    const badAck = forged(n, ACK, 0, 100);
    badAck.ack = (n.a.sndMax + 100_000) >>> 0; // acknowledges data never sent
    n.inject('a', badAck);
    const oldAck = forged(n, ACK, 0, 100);
    oldAck.ack = (n.a.sndUna - 3_000_000) >>> 0; // older than MAX.SND.WND
    n.inject('a', oldAck);
    expect(n.hostA.receivedBytes).toBe(got);
    expect(n.a.state).toBe(TcpState.ESTABLISHED);
    n.transfer('b', pattern(1000));
    expect(n.hostA.receivedBytes).toBe(got + 1000);
  });

  it('an ACK of unsent data draws an ACK (RFC 5961 §5.2), or nothing when ackUnsentAck is off', () => {
    for (const ackUnsentAck of [true, false]) {
      const n = new Net({ ackUnsentAck });
      n.handshake();
      n.transfer('a', pattern(10_000));
      const before = n.log.length;
      const bad = forged(n, ACK, 0);
      bad.ack = (n.a.sndMax + 9999) >>> 0;
      n.inject('a', bad);
      expect(n.log.length).toBe(before + (ackUnsentAck ? 1 : 0));
      expect(n.a.counters.challengeAcks).toBe(ackUnsentAck ? 1 : 0);
      expect(n.a.state).toBe(TcpState.ESTABLISHED);
    }
  });

  it('PAWS drops a segment with an old timestamp', () => {
    const n = established();
    const s = forged(n, ACK, 0, 100);
    s.hasTimestamps = true;
    s.tsVal = 1; // far older than TS.Recent
    const got = n.hostA.receivedBytes;
    n.inject('a', s);
    expect(n.hostA.receivedBytes).toBe(got);
    expect(n.a.counters.pawsDrops).toBe(1);
  });

  it('PAWS trusts TS.Recent through 24 days of idleness, and not after (RFC 7323 §5.5)', () => {
    const day = 24 * 3600 * 1000;
    for (const [idle, dropped] of [
      [2 * 3600 * 1000, true],
      [23 * day, true],
      [25 * day, false],
    ] as const) {
      const n = established();
      n.run(idle);
      const s = forged(n, ACK, 0, 100);
      s.hasTimestamps = true;
      s.tsVal = 1; // older than TS.Recent
      const got = n.hostA.receivedBytes;
      n.inject('a', s);
      expect(n.a.counters.pawsDrops).toBe(dropped ? 1 : 0);
      expect(n.hostA.receivedBytes).toBe(got + (dropped ? 0 : 100));
    }
  });
});

describe('flow control', () => {
  it('stops at a zero window, probes with backoff, and resumes when the reader consumes', () => {
    const n = new Net({ rcvBuf: 16_384 });
    n.handshake();
    n.hostB.autoConsume = false;
    const d = pattern(100_000, 7);
    let off = n.a.send(d, 0, d.length, n.now);
    n.run(60_000);
    expect(n.a.sndWnd).toBe(0);
    const inFlight = n.hostB.receivedBytes;
    expect(inFlight).toBeGreaterThanOrEqual(16_384);
    expect(inFlight).toBeLessThan(16_384 + 1024);
    // Zero-window probes: SEG.SEQ = SND.UNA - 1, no data, growing intervals.
    const probes = n
      .sentBy('a')
      .filter((s) => s.payload.length === 0 && s.seq === (n.a.sndUna - 1) >>> 0);
    expect(probes.length).toBeGreaterThanOrEqual(4);
    const gaps = probes.slice(1).map((p, i) => p.time - probes[i].time);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1]);
    expect(n.a.state).toBe(TcpState.ESTABLISHED);
    // The reader takes everything: a window update restarts the flow.
    n.hostB.autoConsume = true;
    n.b.consumed(n.hostB.receivedBytes, n.now);
    while (off < d.length) {
      n.run(100);
      off += n.a.send(d, off, d.length - off, n.now);
    }
    n.run(120_000);
    expect(sha(n.hostB.data())).toBe(sha(d));
  });

  it('delays the ACK of a lone segment and ACKs every second full segment at once', () => {
    const n = new Net();
    n.handshake();
    n.transfer('b', pattern(10)); // b's first segment carries its full scaled window
    n.run(500);
    n.a.send(pattern(100), 0, 100, n.now);
    const t0 = n.now;
    n.run(500);
    const acks = n.sentBy('b').filter((s) => s.time > t0 && s.payload.length === 0);
    expect(acks.length).toBe(1);
    expect(acks[0].time - t0).toBe(10 + 40);
    // Two full segments: the second is acknowledged immediately.
    const full = 2 * n.a.effMss;
    const t1 = n.now;
    n.a.send(pattern(full), 0, full, n.now);
    n.run(500);
    const acks2 = n.sentBy('b').filter((s) => s.time > t1 && s.payload.length === 0);
    expect(acks2[0].time - t1).toBe(10);
  });

  it('with cwndLimitedGrowth, an application-limited flight does not grow cwnd', () => {
    const grown = (limited: boolean): number => {
      const n = new Net({ cwndLimitedGrowth: limited });
      n.handshake();
      const start = n.a.cc.cwnd;
      // Four segments at a time, well under the initial window of ten.
      for (let i = 0; i < 5; i++) {
        const d = pattern(4 * n.a.effMss, i);
        n.a.send(d, 0, d.length, n.now);
        n.run(500);
      }
      return (n.a.cc.cwnd - start) / n.a.effMss;
    };
    expect(grown(false)).toBeGreaterThan(0);
    expect(grown(true)).toBe(0);
  });

  it('with quickAcks, ACKs the first lone segments at once, then delays again', () => {
    const n = new Net({}, { quickAcks: 2 });
    n.handshake();
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = n.now;
      n.a.send(pattern(100), 0, 100, n.now);
      n.run(500);
      const ack = n.sentBy('b').find((s) => s.time > t0 && s.payload.length === 0);
      delays.push((ack?.time ?? Infinity) - t0);
    }
    expect(delays).toEqual([10, 10, 10 + 40]);
  });

  it('Nagle holds small writes while data is unacknowledged; noDelay sends them', () => {
    const n = new Net();
    n.handshake();
    for (let i = 0; i < 5; i++) n.a.send(pattern(10), 0, 10, n.now);
    expect(n.sentBy('a').filter((s) => s.payload.length > 0).length).toBe(1);
    n.run(200);
    expect(n.hostB.receivedBytes).toBe(50);
    const m = new Net();
    m.handshake();
    m.a.setNoDelay(true, m.now);
    for (let i = 0; i < 5; i++) m.a.send(pattern(10), 0, 10, m.now);
    expect(m.sentBy('a').filter((s) => s.payload.length > 0).length).toBe(5);
  });
});

describe('keepalive', () => {
  it('probes an idle peer, and times out when it stops answering', () => {
    const n = new Net({ keepInterval: 1000, keepCount: 3 });
    n.handshake();
    n.a.setKeepAlive(true, 5000, n.now);
    n.run(20_000);
    const probes = n.sentBy('a').filter((s) => s.seq === (n.a.sndUna - 1) >>> 0);
    expect(probes.length).toBeGreaterThanOrEqual(3);
    expect(n.a.state).toBe(TcpState.ESTABLISHED);
    n.filter = () => 'drop';
    n.run(30_000);
    expect(n.a.state).toBe(TcpState.CLOSED);
    expect(n.hostA.events.at(-1)).toBe(TcpEvent.TimedOut);
  });
});

describe('TIME-WAIT', () => {
  it('re-ACKs a retransmitted FIN, restarts 2*MSL, ignores RST (RFC 1337)', () => {
    const n = new Net({ msl: 1000 });
    n.handshake();
    n.a.close(n.now);
    n.run(100);
    n.filter = (s) => (s.from === 'a' ? 'drop' : 'pass'); // a's last ACK is lost
    n.b.close(n.now);
    n.run(100);
    expect(st(n)).toEqual(['TIME-WAIT', 'LAST-ACK']);
    n.filter = () => 'pass';
    n.run(1500); // b retransmits its FIN; a re-ACKs and restarts its timer
    expect(n.b.state).toBe(TcpState.CLOSED);
    expect(n.a.state).toBe(TcpState.TIME_WAIT);
    const rst = newSegment();
    rst.flags = RST;
    rst.seq = n.a.rcvNxt;
    n.inject('a', rst);
    expect(n.a.state).toBe(TcpState.TIME_WAIT);
    n.run(2100);
    expect(n.a.state).toBe(TcpState.CLOSED);
  });

  it('accepts a new SYN for reuse only with a higher sequence number or timestamp', () => {
    const n = new Net();
    n.handshake();
    n.a.close(n.now);
    n.run(100);
    n.b.close(n.now);
    n.run(100);
    expect(n.a.state).toBe(TcpState.TIME_WAIT);
    const syn = newSegment();
    syn.flags = SYN;
    syn.seq = (n.a.rcvNxt + 1000) >>> 0;
    expect(n.a.acceptsReuse(syn)).toBe(true);
    syn.hasTimestamps = true;
    syn.tsVal = 0;
    expect(n.a.acceptsReuse(syn)).toBe(false); // timestamps decide when both use them
    syn.hasTimestamps = false;
    syn.seq = (n.a.rcvNxt - 1000) >>> 0;
    expect(n.a.acceptsReuse(syn)).toBe(false);
  });
});

describe('abort and orphans', () => {
  it('abort sends RST|ACK at SND.NXT, acknowledging RCV.NXT, and the peer reports ECONNRESET', () => {
    const n = new Net();
    n.handshake(1000, 5000);
    n.a.abort(n.now);
    const rst = n.log.at(-1)!;
    expect(rst.from).toBe('a');
    expect(rst.flags).toBe(RST | ACK);
    expect(rst.seq).toBe(1001);
    expect(rst.ack).toBe(5001);
    expect(n.a.tsEnabled).toBe(true);
    expect(rst.hasTimestamps).toBe(true);
    n.run(100);
    expect(n.b.state).toBe(TcpState.CLOSED);
    expect(n.hostB.events.at(-1)).toBe(TcpEvent.Reset);
  });

  it('an orphaned FIN-WAIT-2 times out', () => {
    const n = new Net({ finWait2Timeout: 5000 });
    n.handshake();
    n.a.close(n.now);
    n.a.orphan(n.now);
    n.run(100);
    expect(n.a.state).toBe(TcpState.FIN_WAIT_2);
    n.run(6000);
    expect(n.a.state).toBe(TcpState.CLOSED);
  });

  it('FIN from the peer arriving out of order is held until the hole fills', () => {
    const n = new Net();
    n.handshake();
    let held: Segment | undefined;
    n.filter = (s) => {
      if (s.from === 'a' && s.payload.length > 0 && !held) {
        held = s;
        return 'drop';
      }
      return 'pass';
    };
    n.a.setNoDelay(true, n.now);
    n.a.send(pattern(100), 0, 100, n.now);
    n.a.send(pattern(100), 0, 100, n.now);
    n.a.close(n.now);
    n.run(15); // the second segment and the FIN arrived, the first is missing
    expect(n.b.state).toBe(TcpState.ESTABLISHED); // FIN queued behind the hole
    expect(n.hostB.receivedBytes).toBe(0);
    n.run(2000);
    expect(n.b.state).toBe(TcpState.CLOSE_WAIT);
    expect(n.hostB.receivedBytes).toBe(200);
  });
});

describe('remaining transitions', () => {
  it('SYN-RECEIVED (passive) + RST → CLOSED; LISTEN and SYN-SENT close → CLOSED', () => {
    const n = new Net();
    n.b.listen(9);
    const syn = newSegment();
    syn.flags = SYN;
    syn.seq = 500;
    syn.window = 1000;
    n.inject('b', syn);
    expect(n.b.state).toBe(TcpState.SYN_RECEIVED);
    const rst = newSegment();
    rst.flags = RST;
    rst.seq = 501;
    n.inject('b', rst);
    expect(n.b.state).toBe(TcpState.CLOSED);
    const m = new Net();
    m.b.listen(1);
    m.b.close(0);
    expect(m.b.state).toBe(TcpState.CLOSED);
    m.a.connect(1, 0);
    m.a.close(0);
    expect(m.a.state).toBe(TcpState.CLOSED);
    expect(m.hostA.events).toEqual([TcpEvent.Closed]);
  });

  it('FIN-WAIT-1 → TIME-WAIT when the peer acknowledges our FIN and sends its own at once', () => {
    const n = new Net();
    n.handshake();
    n.a.close(n.now);
    const fin = n.log.at(-1)!;
    expect(fin.flags & FIN).toBeTruthy();
    // b answers FIN+ACK in one segment (as if it closed in the same instant, after receiving).
    const reply = newSegment();
    reply.flags = FIN | ACK;
    reply.seq = n.b.sndMax;
    reply.ack = (fin.seq + 1) >>> 0;
    reply.window = 1000;
    reply.hasTimestamps = true;
    reply.tsVal = (n.log.filter((s) => s.from === 'b').at(-1)!.tsVal + 1) >>> 0;
    n.inject('a', reply);
    expect(n.a.state).toBe(TcpState.TIME_WAIT);
  });

  it('a CLOSE-WAIT peer that closes goes LAST-ACK → CLOSED when its FIN is acknowledged', () => {
    const n = new Net();
    n.handshake();
    n.a.close(n.now);
    n.run(100);
    expect(n.b.state).toBe(TcpState.CLOSE_WAIT);
    n.b.send(pattern(5000), 0, 5000, n.now); // half-close: b may still send
    n.b.close(n.now);
    expect(n.b.state).toBe(TcpState.LAST_ACK);
    n.run(200);
    expect(n.b.state).toBe(TcpState.CLOSED);
    expect(n.hostA.receivedBytes).toBe(5000);
  });
});

describe('ACK coalescing through TcpHost.deferAck', () => {
  it('holds the every-second-segment ACK until flushAck, but never past 16 segments', () => {
    const n = new Net();
    n.handshake();
    n.transfer('b', pattern(10)); // b advertised its full window
    n.run(500);
    let deferred = 0;
    (n.hostB as unknown as { deferAck: () => boolean }).deferAck = () => {
      deferred++;
      return true;
    };
    const mss = n.a.effMss;
    const t0 = n.now;
    n.a.send(pattern(8 * mss), 0, 8 * mss, n.now); // IW: all 8 at once, arriving together
    n.run(11);
    const acks = (): number =>
      n.sentBy('b').filter((s) => s.time > t0 && s.payload.length === 0).length;
    expect(n.hostB.receivedBytes).toBe(8 * mss);
    expect(acks()).toBe(0);
    expect(deferred).toBe(1);
    n.b.flushAck(n.now);
    expect(acks()).toBe(1);
    expect(n.log.at(-1)!.ack).toBe(n.b.rcvNxt);
    // A long batch still gets an ACK every 16 segments.
    n.run(100);
    const t1 = n.now;
    n.a.cc.cwnd = 100 * mss; // let 40 segments leave in one burst
    n.a.send(pattern(40 * mss), 0, 40 * mss, n.now);
    n.run(11);
    const mid = n.sentBy('b').filter((s) => s.time > t1 && s.payload.length === 0);
    expect(mid.length).toBe(2); // at 16 and 32 segments
    expect(mid[0].ack).toBe((n.a.iss + 1 + 8 * mss + 16 * mss) >>> 0);
    n.b.flushAck(n.now);
    n.run(2000);
    expect(n.hostB.receivedBytes).toBe(48 * mss);
  });
});

describe('zero receive window', () => {
  it('still takes the ACK from a data segment it cannot accept (RFC 9293 special allowance)', () => {
    const n = new Net({ rcvBuf: 8192 });
    n.handshake();
    n.hostA.autoConsume = false;
    n.transfer('b', pattern(8192)); // fills a's receive buffer: a's window is now zero
    n.run(100);
    expect(n.b.sndWnd).toBe(0);
    n.filter = (s) => (s.from === 'b' ? 'drop' : 'pass'); // b's own ACKs never arrive
    n.a.setNoDelay(true, n.now);
    n.a.send(pattern(1000), 0, 1000, n.now);
    n.run(5);
    const una = n.a.sndUna;
    const s = newSegment();
    s.flags = ACK;
    s.seq = n.a.rcvNxt;
    s.ack = n.a.sndMax; // acknowledges a's 1000 bytes
    s.window = 1000;
    s.data = new Uint8Array(100);
    s.dataLength = 100; // data a has no room for
    s.hasTimestamps = true;
    s.tsVal = (n.log.filter((x) => x.from === 'b').at(-1)!.tsVal + 1) >>> 0;
    const got = n.hostA.receivedBytes;
    n.inject('a', s);
    expect(n.hostA.receivedBytes).toBe(got);
    expect(n.a.sndUna).toBe((una + 1000) >>> 0);
  });
});
