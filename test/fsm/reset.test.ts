/**
 * Resets by state (RFC 9293 §3.10.7.4 with RFC 5961 §3.2): an RST outside the window is dropped
 * without an answer (RCV.NXT - 1 included), TIME-WAIT ignores resets (RFC 1337), LISTEN
 * ignores them and stays listening.
 */
import { describe, expect, it } from 'vitest';
import { ACK, RST, newSegment } from '../../src/fsm/segment.js';
import { TcpState } from '../../src/fsm/tcp.js';
import { Net } from './harness.js';

function rstAt(net: Net, seq: number): void {
  const s = newSegment();
  s.flags = RST;
  s.seq = seq >>> 0;
  net.inject('a', s);
}

describe('resets by state', () => {
  it('an RST just below the window is dropped without an answer', () => {
    const net = new Net();
    net.handshake();
    const before = net.log.length;
    rstAt(net, net.a.rcvNxt - 1);
    expect(net.a.state).toBe(TcpState.ESTABLISHED);
    expect(net.log.length).toBe(before);
    expect(net.a.counters.challengeAcks).toBe(0);
  });

  it('TIME-WAIT ignores an RST at RCV.NXT (RFC 1337)', () => {
    const net = new Net();
    net.handshake();
    net.a.close(net.now);
    net.run(100);
    net.b.close(net.now);
    net.run(100);
    expect(net.a.state).toBe(TcpState.TIME_WAIT);
    rstAt(net, net.a.rcvNxt);
    expect(net.a.state).toBe(TcpState.TIME_WAIT);
  });

  it('LISTEN ignores a reset and stays listening', () => {
    const net = new Net();
    net.b.listen(5000);
    const s = newSegment();
    s.flags = RST | ACK;
    s.seq = 1;
    s.ack = 2;
    net.inject('b', s);
    expect(net.b.state).toBe(TcpState.LISTEN);
    expect(net.sentBy('b')).toEqual([]);
  });
});
