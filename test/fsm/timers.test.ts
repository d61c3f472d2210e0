/**
 * Timers that end or keep a connection: the user timeout (RFC 9293 §3.8.3, RFC 5482's
 * TCP_USER_TIMEOUT as Linux applies it: the retransmission timer never runs past it, and it
 * counts from the last progress), the persist timer (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17: a
 * receiver that keeps answering zero-window probes is never given up on; probe intervals back
 * off from the RTO up to its ceiling), and keepalive under a user timeout.
 */
import { describe, expect, it } from 'vitest';
import { ACK, RST, SYN } from '../../src/fsm/segment.js';
import { TcpEvent, TcpState } from '../../src/fsm/tcp.js';
import { Net, pattern } from './harness.js';

/** Runs until `conn` closes or `limit` ms pass; returns the time it closed (or Infinity). */
function closedAt(net: Net, who: 'a' | 'b', limit: number): number {
  const conn = net[who];
  net.run(limit, () => conn.isClosed());
  return conn.isClosed() ? net.now : Infinity;
}

describe('user timeout (RFC 9293 §3.8.3, RFC 5482)', () => {
  it('gives up on unacknowledged data when the user timeout runs out, not after all retries', () => {
    const net = new Net();
    net.handshake();
    net.a.setUserTimeout(3000, net.now);
    net.filter = () => 'drop';
    const start = net.now;
    net.a.send(pattern(5000), 0, 5000, net.now);
    const at = closedAt(net, 'a', 600_000);
    expect(at - start).toBeGreaterThanOrEqual(3000);
    expect(at - start).toBeLessThanOrEqual(3000 + 1);
    expect(net.hostA.events.at(-1)).toBe(TcpEvent.TimedOut);
    expect(net.sentBy('a').at(-1)!.flags & RST).toBe(RST);
    // Without it, 15 retries take minutes: the same loss leaves the connection open at 3 s.
    const plain = new Net();
    plain.handshake();
    plain.filter = () => 'drop';
    const t0 = plain.now;
    plain.a.send(pattern(5000), 0, 5000, plain.now);
    expect(closedAt(plain, 'a', 600_000) - t0).toBeGreaterThan(100_000);
  });

  it('a retransmission timer already running is clamped to the new user timeout', () => {
    const net = new Net();
    net.handshake();
    net.filter = () => 'drop';
    const start = net.now;
    net.a.send(pattern(5000), 0, 5000, net.now);
    net.run(2500); // backed-off RTOs: the next would fire well after 4 s
    net.a.setUserTimeout(4000, net.now);
    const at = closedAt(net, 'a', 600_000);
    expect(at - start).toBeGreaterThanOrEqual(4000);
    expect(at - start).toBeLessThanOrEqual(4001);
  });

  it('counts from the last acknowledgement that made progress', () => {
    const net = new Net();
    net.handshake();
    net.a.setUserTimeout(3000, net.now);
    const chunk = pattern(64 * 1024);
    // Data flows and is acknowledged for 5 s (longer than the user timeout), then the peer vanishes.
    for (let t = 0; t < 50; t++) {
      net.a.send(chunk, 0, chunk.length, net.now);
      net.run(100);
    }
    expect(net.a.state).toBe(TcpState.ESTABLISHED);
    net.a.send(chunk, 0, chunk.length, net.now);
    net.filter = () => 'drop';
    const cut = net.now;
    const at = closedAt(net, 'a', 600_000);
    // The last progress came within the last 100 ms run before the cut.
    expect(at).toBeGreaterThanOrEqual(cut + 3000 - 100);
    expect(at).toBeLessThanOrEqual(cut + 3001);
    expect(net.hostA.events.at(-1)).toBe(TcpEvent.TimedOut);
  });

  it('bounds the SYN retries too', () => {
    const net = new Net();
    net.filter = () => 'drop';
    net.b.listen(5000);
    net.a.setUserTimeout(2500, net.now);
    net.a.connect(1000, net.now);
    const at = closedAt(net, 'a', 600_000);
    // SYN at 0, 1 s, 3 s: the retry due at 3 s is past the user timeout.
    expect(at).toBeGreaterThanOrEqual(2500);
    expect(at).toBeLessThanOrEqual(3000);
    expect(net.hostA.events.at(-1)).toBe(TcpEvent.TimedOut);
    expect(net.sentBy('a').length).toBeLessThanOrEqual(3);
  });

  it('lets keepalive declare an unanswering peer dead after the user timeout, not the probe count', () => {
    const net = new Net({ keepInterval: 1000, keepCount: 100 });
    net.handshake();
    net.a.setUserTimeout(4500, net.now);
    net.a.setKeepAlive(true, 2000, net.now);
    net.filter = () => 'drop';
    const heard = net.sentBy('b').at(-1)!.time + net.latency;
    const at = closedAt(net, 'a', 600_000);
    // Idle 2 s, then a probe a second; dead at the first probe time 4.5 s after the peer last
    // spoke (with keepCount 100 the count alone would take 100 s).
    expect(at - heard).toBeGreaterThanOrEqual(4500);
    expect(at - heard).toBeLessThanOrEqual(4500 + 1000);
    expect(net.hostA.events.at(-1)).toBe(TcpEvent.TimedOut);
  });
});

/** a fills b's buffer; b never reads. */
function zeroWindow(): Net {
  const net = new Net({ rcvBuf: 16_384 });
  net.handshake();
  net.hostB.autoConsume = false;
  net.a.send(pattern(100_000), 0, 100_000, net.now);
  net.run(1000);
  expect(net.a.sndWnd).toBe(0);
  return net;
}

const probesOf = (net: Net): number[] =>
  net
    .sentBy('a')
    .filter((s) => s.payload.length === 0 && s.seq === (net.a.sndUna - 1) >>> 0)
    .map((s) => s.time);

describe('persist timer (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17)', () => {
  it('never gives up on a receiver that answers its probes; intervals double up to 60 s', () => {
    const net = zeroWindow();
    net.run(30 * 60_000);
    expect(net.a.state).toBe(TcpState.ESTABLISHED);
    const probes = probesOf(net);
    expect(probes.length).toBeGreaterThan(16); // more than dataRetries (15)
    const gaps = probes.slice(1).map((t, i) => t - probes[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(200);
    for (let i = 1; i < gaps.length; i++) {
      expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1]);
      expect(gaps[i]).toBeLessThanOrEqual(Math.max(2 * gaps[i - 1], gaps[i - 1]) + 1);
    }
    expect(Math.max(...gaps)).toBe(60_000);
  });

  it('gives up when the probes go unanswered', () => {
    const net = zeroWindow();
    net.filter = (s) => (s.from === 'b' ? 'drop' : 'pass');
    const cut = net.now;
    const at = closedAt(net, 'a', 3 * 3600_000);
    expect(at).toBeLessThan(Infinity);
    expect(at - cut).toBeGreaterThan(5 * 60_000); // 15 probes, mostly 60 s apart
    expect(net.hostA.events.at(-1)).toBe(TcpEvent.TimedOut);
  });

  it('sends the queued data as soon as the window opens', () => {
    const net = zeroWindow();
    net.run(10_000);
    const before = net.hostB.receivedBytes;
    net.hostB.autoConsume = true;
    net.b.consumed(before, net.now);
    net.run(1000);
    expect(net.hostB.receivedBytes).toBeGreaterThan(before + 8000);
  });
});

describe('keepalive (RFC 1122 §4.2.3.6)', () => {
  const keepProbes = (net: Net): number =>
    net
      .sentBy('a')
      .filter((s) => s.flags === ACK && s.dataLength === 0 && s.seq === (net.a.sndUna - 1) >>> 0)
      .length;

  it('sends no probe while the peer keeps talking, and probes once it has been idle that long', () => {
    const net = new Net({ keepInterval: 1000, keepCount: 3 });
    net.handshake();
    net.a.setKeepAlive(true, 5000, net.now);
    for (let i = 0; i < 20; i++) {
      net.b.send(pattern(10), 0, 10, net.now); // the peer speaks every second
      net.run(1000);
    }
    expect(keepProbes(net)).toBe(0);
    const quiet = net.now;
    net.run(5500);
    const probes = net.sentBy('a').filter((s) => s.time > quiet && s.dataLength === 0);
    expect(probes.length).toBe(1);
    // Idle counts from the peer's last segment (10 ms before `quiet` + its travel).
    expect(probes[0].time - quiet).toBeGreaterThan(3900);
    expect(probes[0].time - quiet).toBeLessThanOrEqual(5000);
    expect(net.a.state).toBe(TcpState.ESTABLISHED);
  });

  it('leaves an unanswered peer with data outstanding to the retransmission timer', () => {
    const net = new Net({ keepInterval: 100, keepCount: 2, dataRetries: 6 });
    net.handshake();
    net.a.setKeepAlive(true, 500, net.now);
    net.filter = () => 'drop';
    net.a.send(pattern(1000), 0, 1000, net.now);
    net.run(5000);
    // Retransmissions, not keepalive probes, while data waits: still trying after 5 s.
    expect(keepProbes(net)).toBe(0);
    expect(net.a.state).toBe(TcpState.ESTABLISHED);
  });

  it('stops probing when turned off', () => {
    const net = new Net({ keepInterval: 1000, keepCount: 3 });
    net.handshake();
    net.a.setKeepAlive(true, 2000, net.now);
    net.a.setKeepAlive(false, 0, net.now);
    net.filter = () => 'drop';
    net.run(60_000);
    expect(keepProbes(net)).toBe(0);
    expect(net.a.state).toBe(TcpState.ESTABLISHED);
  });
});

/** Every deadline of `conn` and how many segments it has sent: what a timer call may change. */
function timerState(net: Net, who: 'a' | 'b'): number[] {
  const c = net[who];
  return [
    c.snd.rtxDeadline,
    c.snd.probeDeadline,
    c.snd.persistDeadline,
    c.rcv.delackDeadline,
    c.keepaliveDeadline,
    c.timeWaitDeadline,
    net.sentBy(who).length,
  ];
}

describe('onTimer: what one call handles', () => {
  it('a call with no deadline due changes nothing (a timer left armed for a cancelled one)', () => {
    // An ACK owed (delayed), data outstanding under keepalive, and a zero-window probe pending.
    const owed = new Net();
    owed.handshake();
    owed.b.send(pattern(100), 0, 100, owed.now);
    owed.run(owed.latency);
    expect(owed.a.rcv.delackDeadline).toBeGreaterThan(owed.now);
    const outstanding = new Net();
    outstanding.handshake();
    outstanding.a.setKeepAlive(true, 200, outstanding.now);
    outstanding.filter = () => 'drop';
    outstanding.a.send(pattern(1000), 0, 1000, outstanding.now);
    outstanding.run(50);
    const shut = zeroWindow();
    expect(shut.a.snd.persistDeadline).toBeGreaterThan(shut.now);
    for (const net of [owed, outstanding, shut]) {
      const before = timerState(net, 'a');
      expect(net.a.nextDeadline()).toBeGreaterThan(net.now);
      net.a.onTimer(net.now);
      expect(timerState(net, 'a')).toEqual(before);
    }
  });

  it('a late call handles every deadline due, so the next one is in the future', () => {
    // Retransmission and keepalive due together (data outstanding, the peer silent).
    const rtx = new Net();
    rtx.handshake();
    rtx.a.setKeepAlive(true, 300, rtx.now);
    rtx.filter = () => 'drop';
    rtx.a.send(pattern(1000), 0, 1000, rtx.now);
    // Persist and keepalive due together (the peer's window shut).
    const shut = zeroWindow();
    shut.a.setKeepAlive(true, 10, shut.now);
    // Keepalive and a delayed ACK due together (the peer's data arrived, ours outstanding).
    const owed = new Net();
    owed.handshake();
    owed.a.setKeepAlive(true, 10, owed.now);
    owed.filter = (s) => (s.from === 'a' ? 'drop' : 'pass');
    owed.a.send(pattern(1000), 0, 1000, owed.now);
    owed.b.send(pattern(100), 0, 100, owed.now);
    owed.run(owed.latency);
    expect(owed.a.rcv.delackDeadline).toBeGreaterThan(owed.now);
    const cases: Array<[Net, number[]]> = [
      [rtx, [rtx.a.snd.rtxDeadline, rtx.a.keepaliveDeadline]],
      [shut, [shut.a.snd.persistDeadline, shut.a.keepaliveDeadline]],
      [owed, [owed.a.keepaliveDeadline, owed.a.rcv.delackDeadline]],
    ];
    for (const [net, due] of cases) {
      const late = Math.max(...due);
      expect(late).toBeLessThan(Infinity);
      expect(late).toBeLessThan(
        net.a.snd.rtxDeadline === due[0] ? Infinity : net.a.snd.rtxDeadline,
      );
      net.a.onTimer(late);
      expect(net.a.nextDeadline()).toBeGreaterThan(late);
    }
  });
});

describe('SYN-ACK retransmission (RFC 9293 §3.8.1, Linux tcp_synack_retries)', () => {
  it('resends the SYN-ACK with backoff, synAckRetries times, then gives the half-open connection up', () => {
    const net = new Net({ synAckRetries: 3 });
    net.b.listen(5000);
    let first = true;
    // Only a's first SYN gets through; none of b's segments do.
    net.filter = (s) => (s.from === 'a' && first ? ((first = false), 'pass') : 'drop');
    net.a.connect(1000, net.now);
    net.run(600_000, () => net.b.isClosed());
    const synAcks = net.sentBy('b');
    expect(synAcks.length).toBe(1 + 3);
    for (const s of synAcks) expect(s.flags).toBe(SYN | ACK);
    const gaps = synAcks.slice(1).map((s, i) => s.time - synAcks[i].time);
    expect(gaps[1]).toBe(2 * gaps[0]);
    expect(gaps[2]).toBe(2 * gaps[1]);
    expect(net.b.state).toBe(TcpState.CLOSED);
    expect(net.hostB.events.at(-1)).toBe(TcpEvent.Closed);
  });
});

describe('keepalive probes and when they give up (RFC 1122 §4.2.3.6, Linux tcp_keepalive_timer)', () => {
  /**
   * a turns keepalive on (the first check `idle` ms later) towards a peer gone silent, with a
   * user timeout of `userTimeout(silentFor)` where silentFor is how long b has been quiet by
   * then; returns the probe times and the close time, from when keepalive was turned on.
   */
  function silentPeer(
    config: { keepInterval: number; keepCount: number },
    idle: number,
    userTimeout: (silentFor: number) => number = () => 0,
  ): { probes: number[]; closed: number; net: Net } {
    const net = new Net(config);
    net.handshake();
    const heard = net.sentBy('b').at(-1)!.time + net.latency;
    const timeout = userTimeout(net.now - heard);
    if (timeout > 0) net.a.setUserTimeout(timeout, net.now);
    const start = net.now;
    net.a.setKeepAlive(true, idle, net.now);
    net.filter = () => 'drop';
    const sentBefore = net.sentBy('a').length;
    const closed = closedAt(net, 'a', 600_000) - start;
    const after = net.sentBy('a').slice(sentBefore);
    const probes = after.filter((s) => !(s.flags & RST)).map((s) => s.time - start);
    return { probes, closed, net };
  }

  it('gives up after keepCount unanswered probes, one interval after the last', () => {
    const { probes, closed, net } = silentPeer({ keepInterval: 1000, keepCount: 3 }, 2000);
    expect(probes).toEqual([2000, 3000, 4000]);
    expect(closed).toBe(5000);
    expect(net.hostA.events.at(-1)).toBe(TcpEvent.TimedOut);
    expect(net.sentBy('a').at(-1)!.flags & RST).toBe(RST);
  });

  it('with a user timeout below the idle time, still sends one probe before giving up', () => {
    const { probes, closed } = silentPeer({ keepInterval: 1000, keepCount: 9 }, 10_000, () => 5000);
    expect(probes).toEqual([10_000]);
    expect(closed).toBe(11_000);
  });

  it('gives up at the probe time the user timeout is reached, not one later', () => {
    // The peer has been silent exactly the user timeout at the second probe's time.
    const { probes, closed } = silentPeer(
      { keepInterval: 1000, keepCount: 100 },
      2000,
      (silentFor) => silentFor + 3000,
    );
    expect(probes).toEqual([2000]);
    expect(closed).toBe(3000);
  });
});
