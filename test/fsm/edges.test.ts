/**
 * Edges of a connection's life: a lost bare FIN repaired by a tail loss probe (RFC 8985 §7.3:
 * the last segment sent is the one to probe with), a probe that sends new data when there is
 * some, the restart window halving per idle RTO (RFC 5681 §4.1 as Linux's tcp_cwnd_restart),
 * CLOSE in SYN-RECEIVED queueing the FIN until ESTABLISHED (RFC 9293 §3.10.4), and a
 * congestion-control switch keeping cwnd and ssthresh.
 */
import { describe, expect, it } from 'vitest';
import { ACK, FIN } from '../../src/fsm/segment.js';
import { LINUX_TCP_PROFILE, TcpState, type TcpConfig } from '../../src/fsm/tcp.js';
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

describe('ABORT in every state (RFC 9293 §3.10.5)', () => {
  const RST_ = 0x04;
  it('resets synchronized connections, SYN-RECEIVED with <SEQ=SND.NXT><CTL=RST>, others silently', () => {
    const cases: Array<[string, Net, number | null]> = [];
    // FIN-WAIT-1 (FIN unacknowledged), FIN-WAIT-2, CLOSE-WAIT.
    const fw1 = new Net();
    fw1.handshake();
    fw1.filter = () => 'drop';
    fw1.a.close(fw1.now);
    cases.push(['FIN-WAIT-1', fw1, RST_ | ACK]);
    const fw2 = new Net();
    fw2.handshake();
    fw2.a.close(fw2.now);
    fw2.run(100);
    cases.push(['FIN-WAIT-2', fw2, RST_ | ACK]);
    const cw = new Net();
    cw.handshake();
    cw.b.close(cw.now);
    cw.run(100);
    cases.push(['CLOSE-WAIT', cw, RST_ | ACK]);
    const tw = new Net();
    tw.handshake();
    tw.a.close(tw.now);
    tw.run(100);
    tw.b.close(tw.now);
    tw.run(100);
    cases.push(['TIME-WAIT', tw, null]);
    const la = new Net();
    la.handshake();
    la.b.close(la.now);
    la.run(100);
    la.filter = () => 'drop';
    la.a.close(la.now);
    cases.push(['LAST-ACK', la, null]);
    const ss = new Net();
    ss.filter = () => 'drop';
    ss.a.connect(1000, ss.now);
    cases.push(['SYN-SENT', ss, null]);
    const expected = [
      'FIN_WAIT_1',
      'FIN_WAIT_2',
      'CLOSE_WAIT',
      'TIME_WAIT',
      'LAST_ACK',
      'SYN_SENT',
    ];
    cases.forEach(([name, net, flags], i) => {
      expect(TcpState[expected[i] as keyof typeof TcpState], name).toBe(net.a.state);
      const before = net.sentBy('a').length;
      net.a.abort(net.now);
      expect(net.a.state, name).toBe(TcpState.CLOSED);
      const sent = net.sentBy('a').slice(before);
      if (flags === null) expect(sent, name).toEqual([]);
      else {
        expect(sent.length, name).toBe(1);
        expect(sent[0].flags, name).toBe(flags);
        expect(sent[0].seq, name).toBe(net.a.sndMax);
      }
    });
    const sr = new Net();
    sr.filter = (s) => (s.from === 'a' ? 'pass' : 'drop');
    sr.b.listen(5000);
    sr.a.connect(1000, sr.now);
    sr.run(20);
    expect(sr.b.state).toBe(TcpState.SYN_RECEIVED);
    sr.b.abort(sr.now);
    const rst = sr.sentBy('b').at(-1)!;
    expect([rst.flags, rst.seq]).toEqual([RST_, 5001]);
  });

  it('data arriving for an orphaned connection is answered with a reset', () => {
    const net = new Net();
    net.handshake();
    net.b.orphan(net.now);
    net.a.send(pattern(500), 0, 500, net.now);
    net.run(100);
    expect(net.b.state).toBe(TcpState.CLOSED);
    const rst = net.sentBy('b').at(-1)!;
    expect(rst.flags & RST_).toBe(RST_);
    expect(net.a.state).toBe(TcpState.CLOSED);
  });
});

describe('probe timeout (RFC 8985 §7.2)', () => {
  /** SRTT settles at 20 ms; then `segments` go out and every ACK is lost. When is the probe? */
  function probeDelay(segments: number, config: Partial<TcpConfig>): number[] {
    const net = new Net(config);
    net.handshake();
    const two = 2 * net.a.effMss; // acknowledged at once: the samples are the path's RTT
    for (let i = 0; i < 20; i++) {
      net.a.send(pattern(two), 0, two, net.now);
      net.run(100);
    }
    expect(net.a.rto.srtt).toBeCloseTo(20, 0);
    const srtt = net.a.rto.srtt;
    const rto = net.a.rto.rto;
    net.filter = (s) => (s.from === 'b' ? 'drop' : 'pass');
    const len = segments * net.a.effMss;
    const t0 = net.now;
    net.a.send(pattern(len), 0, len, net.now);
    const before = net.a.counters.tailProbes;
    net.run(1000, () => net.a.counters.tailProbes > before);
    expect(net.a.counters.tailProbes).toBe(before + 1);
    const probe = net.sentBy('a').at(-1)!;
    // The probe resends the last segment sent (no new data is waiting).
    expect(probe.seq).toBe((net.a.sndMax - net.a.effMss) >>> 0);
    return [net.now - t0, srtt, rto];
  }

  it('is 2 * SRTT with several segments out, plus the delayed-ACK time with one', () => {
    const [several, srtt] = probeDelay(4, {});
    expect(several).toBeCloseTo(2 * srtt, 0);
    const [one, srtt1] = probeDelay(1, {});
    expect(one).toBeCloseTo(2 * srtt1 + 40, 0);
  });
  it('in the Linux profile adds 2 ms, or 200 ms with one segment out, never after the RTO', () => {
    const [several, srtt] = probeDelay(4, LINUX_TCP_PROFILE);
    expect(several).toBeCloseTo(2 * srtt + 2, 0);
    const [one, srtt1, rto] = probeDelay(1, LINUX_TCP_PROFILE);
    expect(2 * srtt1 + 200).toBeGreaterThan(rto);
    expect(one).toBeCloseTo(rto, 0); // the probe goes out in the RTO's place
  });
});
