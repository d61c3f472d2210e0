/**
 * The receiving side on crafted segments (RFC 9293 §3.10.7.4): a segment reaching past the
 * window is trimmed to it, one overlapping what already arrived delivers only the new bytes, data
 * after the peer's FIN is not delivered; and the window after the reader drains a full buffer:
 * no update for reads smaller than the receiver SWS threshold (§3.8.6.2.2), one update once the
 * reader frees the buffer.
 */
import { describe, expect, it } from 'vitest';
import { ACK, FIN, newSegment, type Segment } from '../../src/fsm/segment.js';
import { TcpState } from '../../src/fsm/tcp.js';
import { Net, pattern } from './harness.js';

/** A data segment from a to b at offset `off` of `data` (seq relative to a's first data byte). */
function dataSeg(net: Net, data: Uint8Array, off: number, len: number, flags = ACK): Segment {
  const seg = newSegment();
  seg.seq = (1001 + off) >>> 0;
  seg.ack = net.b.sndNxt;
  seg.flags = flags;
  seg.window = 1000;
  seg.data = data;
  seg.dataOffset = off;
  seg.dataLength = len;
  return seg;
}

function quietPair(rcvBuf: number): Net {
  const net = new Net(
    { windowScale: false, timestamps: false },
    { windowScale: false, timestamps: false, rcvBuf },
  );
  net.handshake();
  // From here on, only injected segments reach b.
  net.filter = (s) => (s.from === 'a' ? 'drop' : 'pass');
  net.hostB.autoConsume = false;
  return net;
}

describe('receiving crafted segments (RFC 9293 §3.10.7.4)', () => {
  it('trims a segment reaching past the window to the window', () => {
    const net = quietPair(4000);
    const data = pattern(6000, 2);
    net.inject('b', dataSeg(net, data, 0, 6000));
    expect(net.hostB.receivedBytes).toBe(4000);
    expect(Buffer.compare(net.hostB.data(), data.subarray(0, 4000))).toBe(0);
    net.run(100); // one segment: its ACK may wait for the delayed-ACK timer
    const ack = net.sentBy('b').at(-1)!;
    expect(ack.ack).toBe(1001 + 4000);
    expect(ack.window).toBe(0);
  });

  it('delivers only the new bytes of a segment overlapping what arrived', () => {
    const net = quietPair(65_535);
    const data = pattern(3000, 4);
    net.inject('b', dataSeg(net, data, 0, 1000));
    net.inject('b', dataSeg(net, data, 500, 1500)); // 500..1000 again, then 1000..2000
    net.inject('b', dataSeg(net, data, 0, 2000)); // nothing new
    expect(net.hostB.receivedBytes).toBe(2000);
    expect(Buffer.compare(net.hostB.data(), data.subarray(0, 2000))).toBe(0);
    // Out of order, then filled from below with an overlap on both sides.
    net.inject('b', dataSeg(net, data, 2500, 500));
    net.inject('b', dataSeg(net, data, 1800, 1000));
    expect(Buffer.compare(net.hostB.data(), data)).toBe(0);
    expect(net.sentBy('b').at(-1)!.ack).toBe(1001 + 3000);
  });

  it('takes nothing after the FIN it has received', () => {
    const net = quietPair(65_535);
    const data = pattern(2000, 5);
    net.inject('b', dataSeg(net, data, 0, 1000, ACK | FIN));
    expect(net.b.state).toBe(TcpState.CLOSE_WAIT);
    const ack = net.sentBy('b').at(-1)!;
    expect(ack.ack).toBe(1001 + 1000 + 1);
    net.inject('b', dataSeg(net, data, 1001, 500));
    expect(net.hostB.receivedBytes).toBe(1000);
    expect(net.sentBy('b').at(-1)!.ack).toBe(1001 + 1000 + 1);
  });
});

describe('reopening a closed window (RFC 9293 §3.8.6.2.2)', () => {
  it('no window update for reads below the SWS threshold, one when the reader frees the buffer', () => {
    const rcvBuf = 16 * 1024;
    const net = new Net({ windowScale: false }, { windowScale: false, rcvBuf });
    net.handshake();
    net.hostB.autoConsume = false;
    net.a.send(pattern(100_000), 0, 100_000, net.now);
    net.run(1000);
    expect(net.a.sndWnd).toBe(0);
    const mss = net.b.effMss;
    const held = net.hostB.receivedBytes;
    let before = net.sentBy('b').length;
    // Reads adding up to less than min(MSS, buffer/2): the window stays shut.
    for (let i = 0; i < 4; i++) {
      net.b.consumed(Math.floor((mss - 1) / 4), net.now);
      net.run(5);
    }
    // Not even an ACK repeating the zero window (answers to a's window probes aside).
    const probeAnswers = new Set(net.sentBy('a').map((s) => s.time + net.latency));
    const small = net
      .sentBy('b')
      .slice(before)
      .filter((s) => !probeAnswers.has(s.time));
    expect(small).toEqual([]);
    // Reading everything: an update at once, opening the whole buffer less what is unread.
    before = net.sentBy('b').length;
    net.b.consumed(held, net.now);
    const update = net.sentBy('b').slice(before);
    expect(update.length).toBe(1);
    expect(update[0].window).toBe(rcvBuf);
    net.hostB.autoConsume = true;
    net.run(60_000);
    expect(net.hostB.receivedBytes).toBe(100_000);
  });
});
