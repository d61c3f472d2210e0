/**
 * Edges of a connection's life: a lost bare FIN repaired by a tail loss probe (RFC 8985 §7.3:
 * the last segment sent is the one to probe with), a probe that sends new data when there is
 * some, the restart window halving per idle RTO (RFC 5681 §4.1 as Linux's tcp_cwnd_restart),
 * CLOSE in SYN-RECEIVED queueing the FIN until ESTABLISHED (RFC 9293 §3.10.4), and a
 * congestion-control switch keeping cwnd and ssthresh.
 */
import { describe, expect, it } from 'vitest';
import { FIN } from '../../src/fsm/segment.js';
import { TcpState } from '../../src/fsm/tcp.js';
import { Net, pattern } from './harness.js';

describe('tail loss probe (RFC 8985 §7)', () => {
  it('resends a lost bare FIN after about 2 * SRTT, before the RTO', () => {
    const net = new Net();
    net.handshake();
    net.transfer('a', pattern(20_000));
    net.run(500);
    let dropped = false;
    net.filter = (s) => {
      if (s.from === 'a' && (s.flags & FIN) !== 0 && !dropped) {
        dropped = true;
        return 'drop';
      }
      return 'pass';
    };
    const t0 = net.now;
    net.a.close(net.now);
    net.run(5000);
    expect(dropped).toBe(true);
    const fins = net.sentBy('a').filter((s) => (s.flags & FIN) !== 0);
    expect(fins.length).toBe(2);
    expect(fins[1].seq).toBe(fins[0].seq);
    expect(fins[1].dataLength).toBe(0);
    // 2 * SRTT (20 ms) plus the delayed-ACK allowance for a single segment (40 ms): not 200 ms.
    expect(fins[1].time - t0).toBeLessThan(150);
    expect(net.a.counters.tailProbes).toBe(1);
    expect(net.a.counters.timeouts).toBe(0);
    expect(net.a.state).toBe(TcpState.FIN_WAIT_2);
  });

  it('probes with new data when the window allows, not with a resend', () => {
    const net = new Net();
    net.handshake();
    net.transfer('a', pattern(50_000));
    net.run(500);
    // One segment whose ACK is lost, then more data queued behind Nagle's rule.
    let drops = 0;
    net.filter = (s) => (s.from === 'b' && s.dataLength === 0 && drops++ < 1 ? 'drop' : 'pass');
    const data = pattern(100, 3);
    net.a.send(data, 0, 100, net.now);
    net.run(1);
    net.a.send(data, 0, 50, net.now); // held: 100 bytes unacknowledged
    const before = net.sentBy('a').length;
    net.run(400);
    const after = net
      .sentBy('a')
      .slice(before)
      .filter((s) => s.dataLength > 0);
    expect(net.a.counters.tailProbes).toBe(1);
    expect(after[0].dataLength).toBe(50); // the probe carried the new bytes
    expect(net.a.counters.retransmits).toBe(0);
  });
});

describe('restart after idle (RFC 5681 §4.1)', () => {
  it('halves cwnd once per RTO of idleness, down to the initial window', () => {
    const net = new Net();
    net.handshake();
    net.transfer('a', pattern(2_000_000));
    net.run(50); // the last ACKs arrive
    const mss = net.a.effMss;
    const grown = net.a.cc.cwnd;
    expect(grown).toBeGreaterThan(80 * mss);
    const rto = net.a.rto.rto;
    net.run(2.5 * rto - 50);
    net.a.send(pattern(10), 0, 10, net.now);
    expect(net.a.counters.idleRestarts).toBe(1);
    expect(net.a.cc.cwnd).toBe(Math.max(10 * mss, Math.floor(Math.floor(grown / 2) / 2)));
    expect(net.a.cc.ssthresh).toBeGreaterThanOrEqual((3 * grown) >>> 2);
  });
});

describe('close and congestion control switches', () => {
  it('CLOSE in SYN-RECEIVED queues the FIN and sends it once established', () => {
    const net = new Net();
    net.b.listen(5000);
    net.a.connect(1000, net.now);
    net.run(10); // the SYN arrived: b is in SYN-RECEIVED, its SYN-ACK on the way
    expect(net.b.state).toBe(TcpState.SYN_RECEIVED);
    net.b.close(net.now);
    expect(net.sentBy('b').filter((s) => (s.flags & FIN) !== 0)).toEqual([]);
    net.run(1000);
    const fin = net.sentBy('b').find((s) => (s.flags & FIN) !== 0);
    expect(fin?.seq).toBe(5001);
    expect(net.a.state).toBe(TcpState.CLOSE_WAIT);
    expect(net.b.state).toBe(TcpState.FIN_WAIT_2);
  });

  it('switching congestion control keeps cwnd and ssthresh', () => {
    const net = new Net();
    net.handshake();
    net.transfer('a', pattern(300_000));
    const { cwnd, ssthresh } = net.a.cc;
    net.a.setCongestion('cubic');
    expect(net.a.cc.name).toBe('cubic');
    expect([net.a.cc.cwnd, net.a.cc.ssthresh]).toEqual([cwnd, ssthresh]);
    const same = net.a.cc;
    net.a.setCongestion('cubic');
    expect(net.a.cc).toBe(same);
    // Before the handshake only the choice is recorded; the controller is made on ESTABLISHED.
    const early = new Net();
    early.a.setCongestion('cubic');
    early.handshake();
    expect(early.a.cc.name).toBe('cubic');
    expect(early.b.cc.name).toBe('newreno');
  });
});
