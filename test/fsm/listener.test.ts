import { describe, expect, it } from 'vitest';
import { IsnGenerator } from '../../src/fsm/isn.js';
import { ACK, FIN, RST, SYN, newSegment, type Segment } from '../../src/fsm/segment.js';
import { seqAdd } from '../../src/fsm/seq.js';
import { SynCookies } from '../../src/fsm/syncookie.js';
import {
  DEFAULT_TCP_CONFIG,
  ListenAction,
  TcpListener,
  windowShiftFor,
  type TcpConfig,
} from '../../src/fsm/tcp.js';

const key = new Uint8Array(16).fill(7);
const ends = { local: 0x0a000001, remote: 0x0a000002 };
const config: TcpConfig = { ...DEFAULT_TCP_CONFIG };

function listener(backlog = 2, peerBacklog = 2): TcpListener {
  return new TcpListener(backlog, peerBacklog, new SynCookies(key), new IsnGenerator(key));
}

function syn(seq: number, withTs: boolean): Segment {
  const s = newSegment();
  s.flags = SYN;
  s.seq = seq;
  s.mss = 1430;
  s.windowScale = 9;
  s.sackPermitted = true;
  if (withTs) {
    s.hasTimestamps = true;
    s.tsVal = 12345;
  }
  return s;
}

function input(l: TcpListener, seg: Segment, peerFull = false, peerHalfOpen = 0, now = 1000) {
  const reply = newSegment();
  const action = l.input(seg, config, ends, 40000, 80, peerFull, peerHalfOpen, now, reply);
  return { action, reply };
}

describe('TcpListener (LISTEN, the half-open queue, SYN cookies)', () => {
  it('ignores RST and bare segments, resets SYN-ACKs, drops SYN+FIN', () => {
    const l = listener();
    const seg = newSegment();
    seg.flags = RST;
    expect(input(l, seg).action).toBe(ListenAction.Ignore);
    seg.flags = 0;
    expect(input(l, seg).action).toBe(ListenAction.Ignore);
    seg.flags = SYN | ACK;
    expect(input(l, seg).action).toBe(ListenAction.Reset);
    seg.flags = SYN | FIN;
    expect(input(l, seg).action).toBe(ListenAction.SynFin);
  });

  it('opens while the queue and the peer have room, then answers with cookies', () => {
    const l = listener(2, 1);
    expect(input(l, syn(100, false)).action).toBe(ListenAction.Open);
    expect(input(l, syn(100, false), true).action).toBe(ListenAction.PeerLimit);
    expect(input(l, syn(100, false), false, 1).action).toBe(ListenAction.Cookie);
    l.halfOpen = 2;
    const { action, reply } = input(l, syn(100, false));
    expect(action).toBe(ListenAction.Cookie);
    expect(reply.flags).toBe(SYN | ACK);
    expect(reply.ack).toBe(101);
    expect(reply.mss).toBe(config.mss);
    // Without timestamps a cookie cannot keep window scale or SACK: neither is offered.
    expect(reply.hasTimestamps).toBe(false);
    expect(reply.windowScale).toBe(-1);
    expect(reply.sackPermitted).toBe(false);
  });

  it("accepts the ACK that returns its cookie, with the peer's MSS and options", () => {
    const l = listener(0);
    const { action, reply } = input(l, syn(5000, true));
    expect(action).toBe(ListenAction.Cookie);
    expect(reply.hasTimestamps).toBe(true);
    expect(reply.tsEcr).toBe(12345);
    expect(reply.windowScale).toBe(windowShiftFor(config.rcvBuf));
    expect(reply.sackPermitted).toBe(true);

    const ack = newSegment();
    ack.flags = ACK;
    ack.seq = 5001;
    ack.ack = seqAdd(reply.seq, 1);
    ack.hasTimestamps = true;
    ack.tsEcr = reply.tsVal;
    expect(input(l, ack, false, 0, 1500).action).toBe(ListenAction.CookieOpen);
    expect(l.cookieIss).toBe(reply.seq);
    expect(l.cookieMss).toBe(1400); // the largest table MSS not above the peer's 1430
    expect(l.cookieOptions()).toEqual({ windowScale: 9, sackPermitted: true });

    // The peer's share full: not opened (the runtime resets it).
    expect(input(l, ack, true, 0, 1500).action).toBe(ListenAction.PeerLimit);
    // A cookie for another ISN of the peer's, or one too old, does not check.
    ack.seq = 6001;
    expect(input(l, ack, false, 0, 1500).action).toBe(ListenAction.BadCookie);
    ack.seq = 5001;
    expect(input(l, ack, false, 0, 1000 + 10 * 60_000).action).toBe(ListenAction.BadCookie);
    // Without timestamps there are no options to give.
    ack.hasTimestamps = false;
    expect(input(l, ack, false, 0, 1500).action).toBe(ListenAction.CookieOpen);
    expect(l.cookieOptions()).toBeUndefined();
  });
});
