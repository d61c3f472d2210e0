/**
 * A listening port, sans-IO: what becomes of a segment that no connection matches (RFC 9293
 * §3.10.7.2, LISTEN), the queue of half-open (SYN-RECEIVED) connections it bounds, and the SYN
 * cookies that answer statelessly past it (a SYN flood then costs no state): the cookie SYN-ACK
 * is built here, and the ACK that returns one is checked here. The runtime demultiplexes, keeps
 * the connection table and its per-peer shares, and does what the verdict says.
 */
import { IsnGenerator, type TupleAddress } from '../isn.js';
import { ACK, FIN, RST, SYN, type Segment } from '../segment.js';
import { seqAdd } from '../seq.js';
import { SynCookies } from '../syncookie.js';
import { DEFAULT_PEER_MSS, windowShiftFor, type TcpConfig } from './config.js';

/** What to do with a segment the listener was given (`TcpListener.input`). */
export const ListenAction = {
  /** Nothing: an RST, or a segment with neither SYN nor ACK. */
  Ignore: 0,
  /** Answer with a reset (<SEQ=SEG.ACK><CTL=RST>): an ACK that opens nothing. */
  Reset: 1,
  /** SYN+FIN: dropped (Linux drops it in LISTEN; scanners use it to fingerprint). */
  SynFin: 2,
  /** The peer holds its share of connections already: dropped (a cookie ACK is also reset). */
  PeerLimit: 3,
  /** An ACK whose cookie does not check: dropped, and reset. */
  BadCookie: 4,
  /** The queue (or the peer's part of it) is full: `reply` holds the cookie SYN-ACK to send. */
  Cookie: 5,
  /** A SYN with room in the queue: open a connection (`listen`, then this SYN as its input). */
  Open: 6,
  /**
   * An ACK with a valid cookie: build the connection with `acceptCookie(seg, cookieIss,
   * cookieMss, now, cookieOptions())`.
   */
  CookieOpen: 7,
} as const;
export type ListenAction = (typeof ListenAction)[keyof typeof ListenAction];

/** The addresses of a segment as the keyed hashes read them. */
export interface ListenEndpoints {
  readonly local: TupleAddress;
  readonly remote: TupleAddress;
}

/** Bit of a SYN-cookie SYN-ACK's timestamp that says the peer offered SACK. */
const COOKIE_SACK_BIT = 0x10;
/** The low bits of that timestamp that keep the peer's window scale (15: none). */
const COOKIE_WS_MASK = 0xf;

export class TcpListener {
  /** Half-open (SYN-RECEIVED) connections in the queue right now. */
  halfOpen = 0;
  /** From the last CookieOpen verdict: our ISN and the MSS the cookie encodes. */
  cookieIss = 0;
  cookieMss = 0;
  private cookieWindowScale = -1;
  private cookieSack = false;
  private cookieHasOptions = false;
  private readonly options = { windowScale: -1, sackPermitted: false };

  /**
   * `backlog`: half-open connections before SYN cookies take over; `peerBacklog`: the same for
   * one peer's SYNs. `cookies` and `isn` are the runtime's keyed hashes (shared by listeners).
   */
  constructor(
    private readonly backlog: number,
    private readonly peerBacklog: number,
    private readonly cookies: SynCookies,
    private readonly isn: IsnGenerator,
  ) {}

  /**
   * A segment for this port that no connection matches. `peerFull`: the peer holds its share of
   * the table; `peerHalfOpen`: its half-open connections. `config`: the family's TCP config.
   */
  input(
    seg: Segment,
    config: TcpConfig,
    a: ListenEndpoints,
    remotePort: number,
    localPort: number,
    peerFull: boolean,
    peerHalfOpen: number,
    now: number,
    reply: Segment,
  ): ListenAction {
    const f = seg.flags;
    if (f & RST) return ListenAction.Ignore;
    if (f & ACK) {
      if (f & SYN) return ListenAction.Reset;
      return this.cookieAck(seg, a, remotePort, localPort, peerFull, now);
    }
    if (!(f & SYN)) return ListenAction.Ignore;
    if (f & FIN) return ListenAction.SynFin;
    if (peerFull) return ListenAction.PeerLimit;
    // Past the backlog, or the peer's share of it: answer without keeping state.
    if (this.halfOpen >= this.backlog || peerHalfOpen >= this.peerBacklog) {
      this.cookieSynAck(seg, config, a, remotePort, localPort, now, reply);
      return ListenAction.Cookie;
    }
    return ListenAction.Open;
  }

  /** The peer's window scale and SACK-permitted kept in a cookie's timestamp, if it had one. */
  cookieOptions(): { windowScale: number; sackPermitted: boolean } | undefined {
    if (!this.cookieHasOptions) return undefined;
    this.options.windowScale = this.cookieWindowScale;
    this.options.sackPermitted = this.cookieSack;
    return this.options;
  }

  /** An ACK that may return a cookie (SEG.ACK - 1 our ISN, SEG.SEQ - 1 the peer's). */
  private cookieAck(
    seg: Segment,
    a: ListenEndpoints,
    remotePort: number,
    localPort: number,
    peerFull: boolean,
    now: number,
  ): ListenAction {
    const iss = seqAdd(seg.ack, -1);
    const peerIsn = seqAdd(seg.seq, -1);
    const mss = this.cookies.check(a.local, localPort, a.remote, remotePort, peerIsn, iss, now);
    if (mss < 0) return ListenAction.BadCookie;
    if (peerFull) return ListenAction.PeerLimit;
    this.cookieIss = iss;
    this.cookieMss = mss;
    this.cookieHasOptions = seg.hasTimestamps;
    if (seg.hasTimestamps) {
      const ws = seg.tsEcr & COOKIE_WS_MASK;
      this.cookieWindowScale = ws === COOKIE_WS_MASK ? -1 : ws;
      this.cookieSack = (seg.tsEcr & COOKIE_SACK_BIT) !== 0;
    }
    return ListenAction.CookieOpen;
  }

  /** The stateless SYN-ACK: the ISN is a cookie, only MSS is offered (options ride in TSval). */
  private cookieSynAck(
    seg: Segment,
    c: TcpConfig,
    a: ListenEndpoints,
    remotePort: number,
    localPort: number,
    now: number,
    r: Segment,
  ): void {
    const peerMss = seg.mss > 0 ? seg.mss : DEFAULT_PEER_MSS;
    const cookie = this.cookies.make(
      a.local,
      localPort,
      a.remote,
      remotePort,
      seg.seq,
      peerMss,
      now,
    );
    r.seq = cookie;
    r.ack = seqAdd(seg.seq, 1);
    r.flags = SYN | ACK;
    r.window = Math.min(0xffff, c.rcvBuf);
    r.mss = c.mss;
    r.windowScale = -1;
    r.sackPermitted = false;
    r.hasTimestamps = false;
    r.sackCount = 0;
    r.dataLength = 0;
    if (c.timestamps && seg.hasTimestamps) {
      // Like Linux: the low 6 bits of our timestamp keep the peer's window scale (15 = none)
      // and SACK-permitted; the final ACK echoes them in TSecr.
      const ws =
        c.windowScale && seg.windowScale >= 0 ? Math.min(14, seg.windowScale) : COOKIE_WS_MASK;
      const sack = c.sack && seg.sackPermitted ? COOKIE_SACK_BIT : 0;
      const ts =
        (Math.floor(now) + this.isn.timestampOffset(a.local, localPort, a.remote, remotePort)) >>>
        0;
      r.hasTimestamps = true;
      r.tsVal = (ts - (ts & 0x3f) + ws + sack) >>> 0;
      r.tsEcr = seg.tsVal;
      r.sackPermitted = sack !== 0;
      if (ws !== COOKIE_WS_MASK) r.windowScale = windowShiftFor(c.rcvBuf);
    }
  }
}
