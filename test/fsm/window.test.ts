/**
 * The send window from the peer's segments (RFC 9293 §3.10.7.4, fifth step): it is taken only
 * from a segment not older than the last one that set it (SND.WL1 < SEG.SEQ, or equal with
 * SND.WL2 =< SEG.ACK), so a reordered old segment cannot shrink or grow it, and never from an
 * ACK below SND.UNA; the peer's window field is scaled by the shift the peer announced
 * (RFC 7323 §2.3).
 */
import { describe, expect, it } from 'vitest';
import { ACK, newSegment } from '../../src/fsm/segment.js';
import { Net, pattern } from './harness.js';

function setup(windowScale: boolean): { net: Net; una: number; seq: number } {
  const net = new Net({ windowScale }, { windowScale, rcvBuf: 1 << 20 });
  net.handshake();
  net.filter = () => 'drop'; // from here on a hears only injected segments
  net.a.send(pattern(8 * 1460), 0, 8 * 1460, net.now);
  return { net, una: net.a.sndUna, seq: net.b.sndNxt };
}

function from(net: Net, seq: number, ack: number, window: number, dataLength = 0): void {
  const s = newSegment();
  s.flags = ACK;
  s.seq = seq >>> 0;
  s.ack = ack >>> 0;
  s.window = window;
  s.hasTimestamps = true;
  s.tsVal = (net.sentBy('b').at(-1)!.tsVal + 1000) >>> 0; // newer than anything b sent
  s.tsEcr = 1;
  if (dataLength > 0) {
    s.data = pattern(dataLength, 9);
    s.dataLength = dataLength;
  }
  net.inject('a', s);
}

describe('send window updates (RFC 9293 §3.10.7.4)', () => {
  it('only a segment not older than the last window update moves the window', () => {
    const { net, una, seq } = setup(false);
    const mss = net.a.effMss;
    from(net, seq, una + mss, 30_000);
    expect(net.a.sndWnd).toBe(30_000);
    from(net, seq, una, 5_000); // an older ACK, reordered: below SND.UNA now
    expect(net.a.sndWnd).toBe(30_000);
    from(net, seq, una + mss, 20_000); // same SEG.SEQ and SEG.ACK: a pure window update
    expect(net.a.sndWnd).toBe(20_000);
    from(net, seq, una + mss, 25_000, 100); // data from the peer at the same SEG.SEQ
    expect(net.a.sndWnd).toBe(25_000);
    from(net, seq + 100, una + 2 * mss, 40_000, 100);
    expect(net.a.sndWnd).toBe(40_000);
    // A reordered older segment (SEG.SEQ below SND.WL1) carrying new bytes too is taken as
    // data, but its window is stale.
    from(net, seq, una + 2 * mss, 1_000, 300);
    expect(net.hostA.receivedBytes).toBe(300);
    expect(net.a.sndWnd).toBe(40_000);
  });

  it("scales the peer's window field by the shift the peer announced", () => {
    const { net, una, seq } = setup(true);
    const shift = net.sentBy('b')[0].windowScale;
    expect(shift).toBe(5);
    from(net, seq, una + net.a.effMss, 1000);
    expect(net.a.sndWnd).toBe(1000 << shift);
  });
});
