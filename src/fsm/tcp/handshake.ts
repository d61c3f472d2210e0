/**
 * Opening a connection: the SYN and SYN-ACK with their options (MSS, RFC 7323 window scale and
 * timestamps, RFC 2018 SACK-permitted) and what the peer's SYN agrees to, SYN and SYN-ACK
 * retransmissions, the LISTEN and SYN-SENT states, simultaneous open (RFC 9293 §3.5 figure 8),
 * the ACK that completes SYN-RECEIVED, and a connection created from a validated SYN cookie.
 * Once ESTABLISHED nothing here runs again; the connection's states are still the
 * connection's, and the handshake moves them through its methods.
 */
import { ACK, FIN, RST, SYN, type Segment } from '../segment.js';
import { seqAdd, seqGt, seqLe, seqLt } from '../seq.js';
import { DEFAULT_PEER_MSS, TcpEvent, TcpState, type TcpConfig } from './config.js';
import type { TcpConnection } from './connection.js';

export class TcpHandshake {
  /** The peer's SYN offered window scaling (so a SYN-ACK must carry ours). */
  private peerOfferedScale = false;

  constructor(
    private readonly config: TcpConfig,
    private readonly conn: TcpConnection,
  ) {}

  /**
   * Builds a SYN-RECEIVED connection from the ACK that completed a SYN-cookie handshake, then
   * processes that ACK (see `TcpConnection.acceptCookie`).
   */
  acceptCookie(
    seg: Segment,
    iss: number,
    peerMss: number,
    now: number,
    options: { windowScale: number; sackPermitted: boolean } | undefined,
  ): void {
    const conn = this.conn;
    const rcv = conn.rcv;
    const snd = conn.snd;
    // The stateless SYN-ACK offered min(64 KiB, buffer), unscaled.
    rcv.synReceived(seqAdd(seg.seq, -1), 0);
    rcv.synAckSent(Math.min(0xffff, this.config.rcvBuf));
    snd.statelessSynAckSent(peerMss);
    const c = this.config;
    if (options !== undefined && seg.hasTimestamps && c.timestamps) {
      conn.tsEnabled = true;
      rcv.takeTimestamp(seg.tsVal, now);
      conn.sackEnabled = c.sack && options.sackPermitted;
      if (c.windowScale && options.windowScale >= 0) {
        snd.shift = Math.min(14, options.windowScale);
        rcv.shift = rcv.offeredShift;
      }
    }
    conn.computeMss();
    conn.lastRecv = now;
    conn.state = TcpState.SYN_RECEIVED;
  }

  /** LISTEN (RFC 9293 §3.10.7.2): a SYN moves to SYN-RECEIVED and draws our SYN-ACK. */
  inputListen(seg: Segment, now: number): void {
    const conn = this.conn;
    const f = seg.flags;
    if (f & RST) return;
    if (f & ACK) {
      conn.sendReset(seg.ack);
      return;
    }
    if (!(f & SYN)) return;
    conn.rcv.synReceived(seg.seq, 0);
    this.negotiate(seg, now);
    conn.snd.takeWindow(seg, seg.window, conn.snd.iss); // never scaled in a SYN (RFC 7323 §2.2)
    conn.lastRecv = now;
    conn.state = TcpState.SYN_RECEIVED;
    this.sendSyn(now, true);
  }

  /** SYN-SENT (RFC 9293 §3.10.7.3): the peer's SYN-ACK, its SYN alone, or a refusal. */
  inputSynSent(seg: Segment, now: number): void {
    const conn = this.conn;
    const snd = conn.snd;
    const f = seg.flags;
    let ackOk = false;
    if (f & ACK) {
      if (seqLe(seg.ack, snd.iss) || seqGt(seg.ack, snd.max)) {
        if (!(f & RST)) conn.sendReset(seg.ack);
        return;
      }
      ackOk = true;
    }
    if (f & RST) {
      if (ackOk) conn.finish(TcpEvent.Refused);
      return;
    }
    if (!(f & SYN)) return;
    // Our SYN offered an unscaled window; the peer may send that much right away.
    conn.rcv.synReceived(seg.seq, Math.min(0xffff, this.config.rcvBuf));
    this.negotiate(seg, now);
    conn.lastRecv = now;
    if (ackOk) {
      snd.takeWindow(seg, seg.window, seg.ack);
      snd.synRtt(seg, now, true);
      snd.synAcked(seg.ack);
      conn.establish(now);
      conn.rcv.ackNow = true;
      if (seg.dataLength > 0 || f & FIN) conn.processText(seg, now);
      conn.output(now);
    } else {
      // Simultaneous open (RFC 9293 §3.5 figure 8): SYN-RECEIVED, answer SYN-ACK.
      conn.state = TcpState.SYN_RECEIVED;
      snd.takeWindow(seg, seg.window, snd.wl2);
      this.sendSyn(now, true);
    }
  }

  /**
   * SYN-RECEIVED, before the acceptability test: a SYN or SYN-ACK that repeats the peer's SYN.
   * Returns true when the segment was handled here.
   */
  synReceivedRepeat(seg: Segment, now: number): boolean {
    const conn = this.conn;
    const snd = conn.snd;
    const f = seg.flags;
    if (seg.seq !== conn.rcv.irs || !(f & SYN) || f & RST) return false;
    // A retransmitted SYN means our SYN-ACK was lost: resend it at once.
    if (!(f & ACK)) {
      this.sendSyn(now, true);
      return true;
    }
    // Simultaneous open (RFC 9293 figure 8): the peer's SYN-ACK repeats the SYN we already
    // took, so the acceptability test would reject it; only its ACK matters.
    if (conn.passive) return false;
    if (!(seqLt(snd.una, seg.ack) && seqLe(seg.ack, snd.max))) {
      conn.sendReset(seg.ack);
      return true;
    }
    snd.synAcked(seg.ack);
    snd.takeWindow(seg, seg.window << snd.shift, seg.ack);
    conn.establish(now);
    conn.rcv.ackNow = true;
    conn.output(now);
    return true;
  }

  /**
   * SYN-RECEIVED: an acceptable segment with ACK. An ACK of our SYN-ACK establishes the
   * connection (its ACK is then processed as any other); any other draws a reset, and false.
   */
  synReceivedAck(seg: Segment, now: number): boolean {
    const conn = this.conn;
    const snd = conn.snd;
    if (!(seqLt(snd.una, seg.ack) && seqLe(seg.ack, snd.max))) {
      conn.sendReset(seg.ack);
      return false;
    }
    snd.synRtt(seg, now, false);
    snd.takeWindow(seg, seg.window << snd.shift, seg.ack);
    conn.establish(now);
    return true;
  }

  /**
   * The retransmission timer fired in SYN-SENT or SYN-RECEIVED: resend the SYN (SYN-ACK), or
   * give up after TCP_SYNCNT (synAckRetries) tries or the user timeout.
   */
  onTimeout(now: number): void {
    const conn = this.conn;
    const synSent = conn.state === TcpState.SYN_SENT;
    const limit = synSent ? conn.synRetries : this.config.synAckRetries;
    if (conn.snd.retries >= limit || conn.snd.userTimedOut(now)) {
      conn.finish(conn.passive ? TcpEvent.Closed : TcpEvent.TimedOut);
      return;
    }
    conn.snd.synRetransmit();
    this.sendSyn(now, !synSent);
  }

  /** Our SYN (active open) or SYN-ACK (`withAck`) with the options to offer or echo. */
  sendSyn(now: number, withAck: boolean): void {
    const conn = this.conn;
    const rcv = conn.rcv;
    const c = this.config;
    const seg = conn.outgoing();
    seg.seq = conn.snd.iss;
    seg.flags = SYN | (withAck ? ACK : 0);
    seg.ack = withAck ? rcv.nxt : 0;
    seg.window = Math.min(0xffff, c.rcvBuf); // never scaled in a SYN
    seg.mss = c.mss;
    // In a SYN-ACK only options the peer offered are echoed (RFC 7323, RFC 2018).
    if (c.windowScale && (!withAck || this.peerOfferedScale)) {
      seg.windowScale = rcv.offeredShift;
    }
    if (c.sack && (!withAck || conn.sackEnabled)) seg.sackPermitted = true;
    if (c.timestamps && (!withAck || conn.tsEnabled)) {
      seg.hasTimestamps = true;
      seg.tsVal = conn.tsNow(now);
      seg.tsEcr = withAck && conn.tsEnabled ? rcv.tsRecent : 0;
    }
    if (withAck) rcv.synAckSent(seg.window);
    conn.snd.synSent(now);
    conn.emit(seg);
  }

  /** Options from the peer's SYN or SYN-ACK (RFC 7323, RFC 2018, MSS). */
  private negotiate(seg: Segment, now: number): void {
    const conn = this.conn;
    const c = this.config;
    conn.snd.peerMss = seg.mss > 0 ? seg.mss : DEFAULT_PEER_MSS;
    this.peerOfferedScale = seg.windowScale >= 0;
    if (c.windowScale && seg.windowScale >= 0) {
      conn.snd.shift = Math.min(14, seg.windowScale);
      conn.rcv.shift = conn.rcv.offeredShift;
    } else {
      conn.snd.shift = 0;
      conn.rcv.shift = 0;
    }
    conn.sackEnabled = c.sack && seg.sackPermitted;
    conn.tsEnabled = c.timestamps && seg.hasTimestamps;
    if (conn.tsEnabled) conn.rcv.takeTimestamp(seg.tsVal, now);
    conn.computeMss();
  }
}
