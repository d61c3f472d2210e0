/**
 * Half-close and its timers: FIN-WAIT-2 waits for the peer's FIN as long as the application may
 * still read (RFC 9293 §3.10.4: the connection stays half-open), and only an orphaned one (the
 * application gave up on it, as Linux's tcp_fin_timeout) ends after finWait2Timeout, counted
 * from when it was orphaned; TIME-WAIT lasts 2 * MSL.
 */
import { describe, expect, it } from 'vitest';
import { TcpEvent, TcpState } from '../../src/fsm/tcp.js';
import { Net, pattern } from './harness.js';

function finWait2(): Net {
  const net = new Net({ finWait2Timeout: 5000, msl: 2000 });
  net.handshake();
  net.a.close(net.now);
  net.run(100);
  expect(net.a.state).toBe(TcpState.FIN_WAIT_2);
  return net;
}

describe('half-close', () => {
  it('FIN-WAIT-2 of a live socket waits for the peer, and still reads what it sends', () => {
    const net = finWait2();
    net.run(600_000);
    expect(net.a.state).toBe(TcpState.FIN_WAIT_2);
    net.b.send(pattern(1000), 0, 1000, net.now);
    net.run(100);
    expect(net.hostA.receivedBytes).toBe(1000);
    net.b.close(net.now);
    net.run(100, () => net.a.state === TcpState.TIME_WAIT);
    expect(net.a.state).toBe(TcpState.TIME_WAIT);
    net.run(3999); // 2 * MSL = 4000 ms from the FIN
    expect(net.a.state).toBe(TcpState.TIME_WAIT);
    net.run(2);
    expect(net.a.state).toBe(TcpState.CLOSED);
  });

  it('an orphaned FIN-WAIT-2 ends finWait2Timeout after it was orphaned', () => {
    const net = finWait2();
    net.run(10_000);
    const at = net.now;
    net.a.orphan(net.now);
    net.run(4999);
    expect(net.a.state).toBe(TcpState.FIN_WAIT_2);
    net.run(2);
    expect(net.a.state).toBe(TcpState.CLOSED);
    expect(net.now - at).toBeLessThanOrEqual(5001);
    expect(net.hostA.events).toContain(TcpEvent.Closed);
  });
});
