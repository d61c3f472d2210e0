/**
 * Resets by state (RFC 9293 §3.10.7.4 with RFC 5961 §3.2): an RST outside the window is dropped
 * without an answer (RCV.NXT - 1 included), TIME-WAIT ignores resets (RFC 1337), LISTEN
 * ignores them and stays listening; after the peer's FIN an RST one below RCV.NXT resets
 * (Linux's tcp_reset_check: the peer took its sequence number from an ACK that did not cover
 * its FIN yet).
 */
import { describe, expect, it } from 'vitest';
import { ACK, FIN, RST, newSegment } from '../../src/fsm/segment.js';
import { TcpEvent, TcpState } from '../../src/fsm/tcp.js';
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

describe('a reset one below RCV.NXT after the peer FIN (Linux tcp_reset_check)', () => {
  it('resets CLOSE-WAIT, LAST-ACK and CLOSING; not ESTABLISHED or TIME-WAIT', () => {
    const closeWait = new Net();
    closeWait.handshake();
    closeWait.b.close(closeWait.now);
    closeWait.run(100);
    expect(closeWait.a.state).toBe(TcpState.CLOSE_WAIT);
    rstAt(closeWait, closeWait.a.rcvNxt - 1);
    expect(closeWait.a.state).toBe(TcpState.CLOSED);
    expect(closeWait.hostA.events.at(-1)).toBe(TcpEvent.Reset);

    const lastAck = new Net();
    lastAck.handshake();
    lastAck.b.close(lastAck.now);
    lastAck.run(100);
    lastAck.filter = () => 'drop';
    lastAck.a.close(lastAck.now);
    expect(lastAck.a.state).toBe(TcpState.LAST_ACK);
    rstAt(lastAck, lastAck.a.rcvNxt - 1);
    expect(lastAck.a.state).toBe(TcpState.CLOSED);

    const closing = new Net();
    closing.handshake();
    closing.filter = () => 'drop';
    closing.a.close(closing.now);
    const fin = newSegment();
    fin.flags = FIN | ACK;
    fin.seq = closing.a.rcvNxt;
    fin.ack = closing.a.sndUna; // does not cover our FIN
    fin.window = 1000;
    closing.inject('a', fin);
    expect(closing.a.state).toBe(TcpState.CLOSING);
    rstAt(closing, closing.a.rcvNxt - 1);
    expect(closing.a.state).toBe(TcpState.CLOSED);

    const timeWait = new Net();
    timeWait.handshake();
    timeWait.a.close(timeWait.now);
    timeWait.run(100);
    timeWait.b.close(timeWait.now);
    timeWait.run(100);
    expect(timeWait.a.state).toBe(TcpState.TIME_WAIT);
    rstAt(timeWait, timeWait.a.rcvNxt - 1);
    expect(timeWait.a.state).toBe(TcpState.TIME_WAIT);
  });
});
