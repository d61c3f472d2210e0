/**
 * Timestamps on crafted segments (RFC 7323): TS.Recent moves only for a segment at or below
 * Last.ACK.sent (§4.3), so an out-of-order segment's TSval is not echoed; never backwards; not
 * from a segment that acknowledges data never sent (Appendix D); PAWS drops an old timestamp
 * and answers with an ACK (§5.3), but a reset is judged by its sequence number alone.
 */
import { describe, expect, it } from 'vitest';
import { ACK, RST, newSegment, type Segment } from '../../src/fsm/segment.js';
import { TcpEvent, TcpState } from '../../src/fsm/tcp.js';
import { Net, pattern } from './harness.js';

/** b established with timestamps; only injected segments reach b from now on. */
function quiet(): { net: Net; tsVal: number } {
  const net = new Net();
  net.handshake();
  net.filter = (s) => (s.from === 'a' ? 'drop' : 'pass');
  const tsVal = net.sentBy('a').at(-1)!.tsVal;
  return { net, tsVal };
}

function seg(net: Net, off: number, len: number, tsVal: number, flags = ACK): Segment {
  const s = newSegment();
  s.seq = (1001 + off) >>> 0;
  s.ack = net.b.sndNxt;
  s.flags = flags;
  s.window = 1000;
  s.hasTimestamps = true;
  s.tsVal = tsVal;
  s.tsEcr = 1;
  if (len > 0) {
    s.data = pattern(len, off);
    s.dataLength = len;
  }
  return s;
}

describe('TS.Recent (RFC 7323 §4.3)', () => {
  it('an out-of-order segment is acknowledged echoing the last in-order TSval, not its own', () => {
    const { net, tsVal } = quiet();
    net.inject('b', seg(net, 0, 100, tsVal + 10));
    net.run(100);
    expect(net.sentBy('b').at(-1)!.tsEcr).toBe(tsVal + 10);
    net.inject('b', seg(net, 1000, 100, tsVal + 20)); // beyond a hole
    const dup = net.sentBy('b').at(-1)!;
    expect(dup.ack).toBe(1001 + 100);
    expect(dup.tsEcr).toBe(tsVal + 10);
    net.inject('b', seg(net, 100, 900, tsVal + 30)); // fills the hole
    expect(net.sentBy('b').at(-1)!.tsEcr).toBe(tsVal + 30);
  });
  it('never moves back, and not for a segment acknowledging unsent data', () => {
    const { net, tsVal } = quiet();
    net.inject('b', seg(net, 0, 100, tsVal + 50));
    net.run(100);
    const bad = seg(net, 100, 100, tsVal + 500);
    bad.ack = (net.b.sndMax + 1000) >>> 0;
    net.inject('b', bad);
    net.inject('b', seg(net, 100, 0, tsVal + 60));
    net.run(100);
    net.b.send(pattern(10), 0, 10, net.now);
    expect(net.sentBy('b').at(-1)!.tsEcr).toBe(tsVal + 60);
  });
});

describe('PAWS (RFC 7323 §5)', () => {
  it('drops a segment with an older TSval and answers with an ACK', () => {
    const { net, tsVal } = quiet();
    net.inject('b', seg(net, 0, 100, tsVal + 100));
    net.run(100);
    const before = net.sentBy('b').length;
    net.inject('b', seg(net, 100, 100, tsVal + 99));
    expect(net.hostB.receivedBytes).toBe(100);
    expect(net.b.counters.pawsDrops).toBe(1);
    const ack = net.sentBy('b').slice(before);
    expect(ack.length).toBe(1);
    expect(ack[0].ack).toBe(1001 + 100);
    // An equal TSval is not older: taken.
    net.inject('b', seg(net, 100, 100, tsVal + 100));
    expect(net.hostB.receivedBytes).toBe(200);
  });
  it('judges a reset by its sequence number, whatever its timestamp', () => {
    const { net, tsVal } = quiet();
    net.inject('b', seg(net, 0, 100, tsVal + 100));
    net.inject('b', seg(net, 100, 0, 1, RST));
    expect(net.b.state).toBe(TcpState.CLOSED);
    expect(net.hostB.events.at(-1)).toBe(TcpEvent.Reset);
  });
});
