/**
 * What the three-way handshake settles, as the peer sees it: the initial window after a lost
 * SYN (RFC 5681 §3.1, RFC 6928 §2), the RTT sample the handshake gives without
 * timestamps and Karn's rule for a retransmitted SYN (RFC 6298 §3), the unscaled SYN window
 * (RFC 7323 §2.2), a window-scale shift above 14 read as 14 (RFC 7323 §2.3), and timestamp
 * echoes in the SYN and SYN-ACK (RFC 7323 §3.2).
 */
import { describe, expect, it } from 'vitest';
import { ACK, SYN, newSegment } from '../../src/fsm/segment.js';
import { TcpState } from '../../src/fsm/tcp.js';
import { Net, pattern } from './harness.js';

/** Data segments a sends in its first burst after the handshake (nothing acked yet). */
function firstFlight(net: Net): number {
  const start = net.log.length;
  net.a.send(pattern(50_000), 0, 50_000, net.now);
  return net.log.slice(start).filter((s) => s.from === 'a' && s.dataLength > 0).length;
}

describe('handshake (RFC 9293 §3.5)', () => {
  it('the initial window is 10 segments, or 1 after the SYN was lost (RFC 5681 §3.1)', () => {
    const clean = new Net();
    clean.handshake();
    expect(firstFlight(clean)).toBe(10);

    const lostSyn = new Net();
    let drop = true;
    lostSyn.filter = (s) => (s.flags === SYN && drop ? ((drop = false), 'drop') : 'pass');
    lostSyn.handshake();
    lostSyn.run(5000);
    expect(lostSyn.a.state).toBe(TcpState.ESTABLISHED);
    expect(firstFlight(lostSyn)).toBe(1);
  });

  it('without timestamps, times the SYN exchange, but not a retransmitted SYN (Karn)', () => {
    const net = new Net({ timestamps: false });
    net.latency = 40;
    net.handshake();
    expect(net.a.rto.hasSample).toBe(true);
    expect(net.a.rto.srtt).toBe(80);

    const retried = new Net({ timestamps: false });
    retried.latency = 40;
    let drop = true;
    retried.filter = (s) => (s.flags === SYN && drop ? ((drop = false), 'drop') : 'pass');
    retried.handshake();
    retried.run(5000);
    expect(retried.a.state).toBe(TcpState.ESTABLISHED);
    // The SYN-ACK answers the second SYN but could be read as answering the first: no sample,
    // so the RTO stays the backed-off initial one until data is timed.
    expect(retried.a.rto.hasSample).toBe(false);
  });

  it('a SYN offers min(65535, the receive buffer) unscaled, whatever the shift', () => {
    const big = new Net({ rcvBuf: 1 << 20 });
    big.handshake();
    const syn = big.sentBy('a')[0];
    expect(syn.window).toBe(0xffff);
    expect(syn.windowScale).toBe(5);
    const small = new Net({ rcvBuf: 8000 });
    small.handshake();
    expect(small.sentBy('a')[0].window).toBe(8000);
    expect(small.sentBy('b')[0].window).toBe(8000);
  });

  it('reads a window-scale shift above 14 as 14', () => {
    const net = new Net();
    net.b.listen(5000);
    const syn = newSegment();
    syn.seq = 777;
    syn.flags = SYN;
    syn.window = 1000;
    syn.mss = 1460;
    syn.windowScale = 15;
    net.inject('b', syn);
    expect(net.b.state).toBe(TcpState.SYN_RECEIVED);
    const ack = newSegment();
    ack.seq = 778;
    ack.ack = 5001;
    ack.flags = ACK;
    ack.window = 3;
    net.inject('b', ack);
    expect(net.b.state).toBe(TcpState.ESTABLISHED);
    expect(net.b.sndWnd).toBe(3 << 14);
  });

  it('the SYN carries TSecr 0 and the SYN-ACK echoes the SYN TSval', () => {
    const net = new Net();
    net.now = 12_345;
    net.handshake();
    const [syn] = net.sentBy('a');
    const [synAck] = net.sentBy('b');
    expect(syn.hasTimestamps).toBe(true);
    expect(syn.tsEcr).toBe(0);
    expect(synAck.tsEcr).toBe(syn.tsVal);
    const ack = net.sentBy('a')[1];
    expect(ack.tsEcr).toBe(synAck.tsVal);
  });
});

describe('SYN-SENT and SYN-RECEIVED on unexpected segments (RFC 9293 §3.10.7.3, §3.10.7.4)', () => {
  function synSent(): Net {
    const net = new Net();
    net.filter = () => 'drop'; // b stays silent: every segment a gets is injected
    net.a.connect(1000, net.now);
    return net;
  }
  function seg(flags: number, seq: number, ack: number, dataLength = 0) {
    const s = newSegment();
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.window = 2000;
    if (dataLength > 0) {
      s.data = pattern(dataLength, 3);
      s.dataLength = dataLength;
    }
    return s;
  }

  it('answers a SYN-ACK acknowledging something we never sent with <SEQ=SEG.ACK><CTL=RST>', () => {
    for (const ack of [1000, 1002, 999]) {
      const net = synSent();
      net.inject('a', seg(SYN | ACK, 7000, ack));
      expect(net.a.state).toBe(TcpState.SYN_SENT);
      const rst = net.sentBy('a').at(-1)!;
      expect([rst.flags, rst.seq]).toEqual([0x04, ack]);
    }
  });
  it('ignores a RST whose ACK is unacceptable and a RST without ACK', () => {
    const net = synSent();
    net.inject('a', seg(0x04 | ACK, 0, 5));
    net.inject('a', seg(0x04, 0, 0));
    expect(net.a.state).toBe(TcpState.SYN_SENT);
    expect(net.sentBy('a').length).toBe(1);
  });
  it('takes data that rides on the SYN-ACK, and ACKs the SYN and data at once', () => {
    const net = synSent();
    net.inject('a', seg(SYN | ACK, 7000, 1001, 300));
    expect(net.a.state).toBe(TcpState.ESTABLISHED);
    expect(net.hostA.receivedBytes).toBe(300);
    const ack = net.sentBy('a').at(-1)!;
    expect([ack.flags, ack.seq, ack.ack]).toEqual([ACK, 1001, 7001 + 300]);
  });
  it('the peer may fill our SYN window at once: data up to it is taken, beyond it trimmed', () => {
    const net = new Net({ rcvBuf: 1000 });
    net.filter = () => 'drop';
    net.a.connect(1000, net.now);
    net.inject('a', seg(SYN | ACK, 7000, 1001, 1500));
    expect(net.hostA.receivedBytes).toBe(1000);
  });
  it('SYN-RECEIVED resets an ACK outside (SND.UNA, SND.NXT] and stays', () => {
    const net = new Net();
    net.filter = () => 'drop';
    net.b.listen(5000);
    net.inject('b', seg(SYN, 7000, 0));
    expect(net.b.state).toBe(TcpState.SYN_RECEIVED);
    for (const ack of [5000, 5002]) {
      net.inject('b', seg(ACK, 7001, ack));
      expect(net.b.state).toBe(TcpState.SYN_RECEIVED);
      const rst = net.sentBy('b').at(-1)!;
      expect([rst.flags, rst.seq]).toEqual([0x04, ack]);
    }
    net.inject('b', seg(ACK, 7001, 5001));
    expect(net.b.state).toBe(TcpState.ESTABLISHED);
  });
});
