/**
 * Loss recovery as the wire shows it: NewReno partial ACKs (RFC 6582 §3.2), limited transmit
 * (RFC 3042), early retransmit with few segments out (RFC 5827), the loss window after a timeout
 * and slow start from it (RFC 5681 §3.1), go-back-N skipping SACKed data after a timeout
 * (RFC 6675 §5.1), ssthresh from the flight (RFC 5681 eq. 4) and the window recovery leaves.
 */
import { describe, expect, it } from 'vitest';
import { ACK, newSegment } from '../../src/fsm/segment.js';
import type { TcpConfig } from '../../src/fsm/tcp.js';
import { Net, pattern, type SentSegment } from './harness.js';

const MSS = 1460;
const ISS = 1001; // harness: a's ISS 1000, first data byte at 1001

/** Drops a's first transmission of the segments starting at the given segment indexes. */
function dropFirst(net: Net, indexes: number[]): Set<number> {
  const mss = net.a.effMss;
  const lost = new Set(indexes.map((i) => (ISS + i * mss) >>> 0));
  net.filter = (s: SentSegment) => {
    if (s.from === 'a' && s.dataLength > 0 && lost.has(s.seq)) {
      lost.delete(s.seq);
      return 'drop';
    }
    return 'pass';
  };
  return lost;
}

function transferWith(config: Partial<TcpConfig>, drop: number[], bytes = 200 * MSS): Net {
  const net = new Net(config);
  net.handshake();
  const lost = dropFirst(net, drop);
  const data = pattern(bytes, 11);
  net.transfer('a', data);
  expect(lost.size).toBe(0);
  expect(Buffer.compare(net.hostB.data(), data)).toBe(0);
  return net;
}

const resends = (net: Net): SentSegment[] =>
  net
    .sentBy('a')
    .filter((s) => s.dataLength > 0)
    .filter((s, i, all) => all.findIndex((o) => o.seq === s.seq) < i);

describe('NewReno without SACK (RFC 6582)', () => {
  it('repairs two losses of one window with one fast retransmit and a partial-ACK resend', () => {
    const net = transferWith({ sack: false }, [30, 34]);
    expect(net.a.counters.timeouts).toBe(0);
    expect(net.a.counters.fastRetransmits).toBe(1);
    const mss = net.a.effMss;
    expect(resends(net).map((s) => s.seq)).toEqual([ISS + 30 * mss, ISS + 34 * mss]);
  });
  it('repairs three losses of one window without a timeout, each hole resent once', () => {
    const net = transferWith({ sack: false, timestamps: false }, [40, 43, 47]);
    expect(net.a.counters.timeouts).toBe(0);
    expect(net.a.counters.fastRetransmits).toBe(1);
    expect(resends(net).map((s) => s.seq)).toEqual([40, 43, 47].map((i) => ISS + i * MSS));
  });
  it('leaves recovery with cwnd = min(ssthresh, FlightSize + SMSS), ssthresh half the flight', () => {
    const net = new Net({ sack: false });
    net.handshake();
    dropFirst(net, [40]);
    const mss = net.a.effMss;
    const data = pattern(60 * MSS, 3);
    net.a.send(data, 0, data.length, net.now);
    // The flight when the duplicate ACK that starts recovery arrives, and when the full ACK
    // that ends it does (before what that ACK lets the sender send).
    let flightAtLoss = -1;
    let flightAtExit = -1;
    let cwndAtExit = -1;
    const input = net.a.input.bind(net.a);
    net.a.input = (seg, now) => {
      const flight = net.a.sndMax - net.a.sndUna;
      const sndMax = net.a.sndMax;
      const was = net.a.inRecovery;
      input(seg, now);
      if (!was && net.a.inRecovery) flightAtLoss = flight;
      if (was && !net.a.inRecovery) {
        flightAtExit = sndMax - seg.ack;
        cwndAtExit = net.a.cc.cwnd;
      }
    };
    net.run(10_000);
    expect(flightAtLoss).toBeGreaterThan(10 * mss);
    expect(net.a.cc.ssthresh).toBe(Math.max(2 * mss, flightAtLoss >>> 1));
    expect(flightAtExit).toBeGreaterThanOrEqual(0);
    expect(cwndAtExit).toBe(Math.max(mss, Math.min(net.a.cc.ssthresh, flightAtExit + mss)));
    expect(net.a.counters.timeouts).toBe(0);
  });
});

describe('limited transmit (RFC 3042) and early retransmit (RFC 5827)', () => {
  it('sends one new segment on each of the first two duplicate ACKs', () => {
    // A 4-segment window: the loss of the first leaves too few segments for three duplicates
    // unless each of the first two sends one more.
    const net = new Net({ sack: false, timestamps: false }, { sack: false, timestamps: false });
    net.handshake();
    net.run(2000);
    net.a.cc.cwnd = 4 * MSS;
    net.a.cc.ssthresh = 4 * MSS;
    dropFirst(net, [0]);
    const data = pattern(20 * MSS, 5);
    net.a.send(data, 0, data.length, net.now);
    net.run(150); // less than the 200 ms minimum RTO
    expect(net.a.counters.timeouts).toBe(0);
    expect(net.a.counters.fastRetransmits).toBe(1);
    const firstTx = net.sentBy('a').filter((s) => s.dataLength > 0);
    // Segments 0..3 by cwnd, 4 and 5 by limited transmit, then the fast retransmit of 0.
    expect(firstTx.slice(0, 7).map((s) => (s.seq - ISS) / MSS)).toEqual([0, 1, 2, 3, 4, 5, 0]);
  });
  it('with SACK and fewer than four segments out, one SACKed segment triggers the resend', () => {
    const net = new Net();
    net.handshake();
    net.run(2000); // RTT samples: the RTO sits at its 200 ms floor
    dropFirst(net, [0]);
    const data = pattern(3 * MSS, 6);
    const t0 = net.now;
    net.a.send(data, 0, data.length, net.now);
    net.run(5000);
    expect(Buffer.compare(net.hostB.data(), data)).toBe(0);
    expect(net.a.counters.timeouts).toBe(0);
    const resend = resends(net)[0];
    expect(resend.seq).toBe(ISS);
    // One round trip (20 ms), not the 200 ms RTO or a 2*SRTT probe after the last segment.
    expect(resend.time - t0).toBeLessThanOrEqual(25);
  });
});

describe('after a retransmission timeout (RFC 5681 §3.1, RFC 6298 §5)', () => {
  it('resends one segment, then slow-starts from the loss window with ssthresh half the flight', () => {
    const net = new Net({ sack: false }, { sack: false });
    net.handshake();
    net.run(2000);
    const data = pattern(100 * MSS, 8);
    net.a.send(data, 0, data.length, net.now);
    net.run(5); // the initial window is on the wire
    const flight = net.a.sndMax - net.a.sndUna;
    expect(flight).toBe(10 * net.a.effMss);
    net.filter = (s) => (s.from === 'b' ? 'drop' : 'pass'); // every ACK of the window lost
    net.run(1000, () => net.a.counters.timeouts > 0);
    const rtoAt = net.now;
    net.filter = () => 'pass';
    expect(net.a.cc.ssthresh).toBe(flight >>> 1);
    net.run(200);
    const after = net.sentBy('a').filter((s) => s.time >= rtoAt && s.dataLength > 0);
    // One segment at the timeout (cwnd = 1 MSS); its ACK covers the whole window (it all
    // arrived), and slow start with appropriate byte counting's L = 2 sends 1 + 2 for it.
    expect(after[0].seq).toBe(ISS);
    expect(after[0].time).toBe(rtoAt);
    const burst = after.filter((s) => s.time === after[1].time);
    expect(after[1].time).toBeGreaterThan(rtoAt);
    expect(burst.map((s) => s.seq)).toEqual([10, 11, 12].map((i) => ISS + i * net.a.effMss));
  });
  it('with SACK, the go-back-N resend skips what the peer SACKed', () => {
    const net = new Net();
    net.handshake();
    net.run(2000);
    const data = pattern(10 * MSS, 9);
    // Lose segments 2 and 6 twice: SACK recovery resends them once, those resends are lost
    // too, and with nothing sent after them only the retransmission timer can repair the holes.
    const mss = net.a.effMss;
    const drops = new Map([2, 6].map((i) => [(ISS + i * mss) >>> 0, 0]));
    net.filter = (s) => {
      const n = s.from === 'a' && s.dataLength > 0 ? drops.get(s.seq) : undefined;
      if (n === undefined || n >= 2) return 'pass';
      drops.set(s.seq, n + 1);
      return 'drop';
    };
    net.a.send(data, 0, data.length, net.now);
    net.run(5000);
    expect([...drops.values()]).toEqual([2, 2]);
    expect(net.a.counters.timeouts).toBe(1);
    expect(Buffer.compare(net.hostB.data(), data)).toBe(0);
    const again = resends(net).map((s) => (s.seq - ISS) / net.a.effMss);
    // The others arrived and were SACKed: after the timeout only the holes are sent again.
    expect(again.sort()).toEqual([2, 2, 6, 6]);
  });
});

describe('SACK recovery (RFC 6675, RFC 8985, RFC 6937)', () => {
  it('detects a lost retransmission from later SACKs and resends it without a timeout', () => {
    const net = new Net();
    net.handshake();
    const mss = net.a.effMss;
    const hole = (ISS + 40 * mss) >>> 0;
    let drops = 0;
    net.filter = (s) =>
      s.from === 'a' && s.seq === hole && s.dataLength > 0 && drops++ < 2 ? 'drop' : 'pass';
    const data = pattern(300 * MSS, 12);
    net.transfer('a', data);
    expect(Buffer.compare(net.hostB.data(), data)).toBe(0);
    expect(drops).toBe(3);
    expect(net.a.counters.timeouts).toBe(0);
    expect(net.a.counters.lostRetransmits).toBeGreaterThanOrEqual(1);
    expect(resends(net).map((s) => s.seq)).toEqual([hole, hole]);
  });

  it('with PRR, each ACK in recovery releases at most what it delivered plus one segment', () => {
    const net = new Net({ prr: true });
    net.handshake();
    const mss = net.a.effMss;
    dropFirst(net, [60, 61, 62, 63, 64, 70]);
    let worst = 0;
    let acksInRecovery = 0;
    const input = net.a.input.bind(net.a);
    net.a.input = (seg, now) => {
      const was = net.a.inRecovery;
      const una = net.a.sndUna;
      const sacked = net.a.scoreboard.sackedBytes;
      const sent = net.sentBy('a').length;
      input(seg, now);
      if (!was || !net.a.inRecovery) return;
      acksInRecovery++;
      const delivered = net.a.sndUna - una + net.a.scoreboard.sackedBytes - sacked;
      const out = net.sentBy('a').length - sent;
      worst = Math.max(worst, out - Math.ceil(delivered / mss));
    };
    const data = pattern(400 * MSS, 13);
    net.transfer('a', data);
    expect(Buffer.compare(net.hostB.data(), data)).toBe(0);
    expect(acksInRecovery).toBeGreaterThan(10);
    expect(worst).toBeLessThanOrEqual(1);
    expect(net.a.counters.timeouts).toBe(0);
  });
});

describe('what counts as a duplicate ACK (RFC 5681 §2)', () => {
  /** a has 10 segments out, none acknowledged; every segment between the two is dropped. */
  function outstanding(config: Partial<TcpConfig>): Net {
    const net = new Net(config, config);
    net.handshake();
    net.run(1000);
    net.filter = () => 'drop';
    net.a.send(pattern(10 * MSS, 14), 0, 10 * MSS, net.now);
    return net;
  }
  function ackTo(net: Net, window: number, dataLength = 0, seqOff = 0): void {
    const seg = newSegment();
    seg.seq = (net.b.sndNxt + seqOff) >>> 0;
    seg.ack = net.a.sndUna;
    seg.flags = ACK;
    seg.window = window;
    if (dataLength > 0) {
      seg.data = new Uint8Array(dataLength);
      seg.dataLength = dataLength;
    }
    net.inject('a', seg);
  }
  const cfg = { sack: false, timestamps: false, windowScale: false };

  it('three ACKs of SND.UNA with the same window and no data start fast retransmit', () => {
    const net = outstanding(cfg);
    const w = net.sentBy('b').at(-1)!.window;
    for (let i = 0; i < 3; i++) ackTo(net, w);
    expect(net.a.counters.fastRetransmits).toBe(1);
  });
  it('window updates are not duplicates', () => {
    const net = outstanding(cfg);
    const w = net.sentBy('b').at(-1)!.window;
    for (let i = 1; i <= 3; i++) ackTo(net, w - 100 * i);
    expect(net.a.counters.fastRetransmits).toBe(0);
    expect(net.a.counters.dupAcksIn).toBe(0);
  });
  it('segments carrying data are not duplicates', () => {
    const net = outstanding(cfg);
    const w = net.sentBy('b').at(-1)!.window;
    for (let i = 0; i < 3; i++) ackTo(net, w, 100, 100 * i);
    expect(net.hostA.receivedBytes).toBe(300);
    expect(net.a.counters.fastRetransmits).toBe(0);
  });
});
