/**
 * The TCP state machine (RFC 9293) for one connection, sans-IO.
 *
 * Inputs are method calls carrying `now` (ms): a received segment (`input`), a user call
 * (`connect`, `listen`, `send`, `close`, `abort`, `consumed`, ...) or the timer (`onTimer`).
 * Outputs go to the `TcpHost` given at construction: segments to transmit, in-order data to
 * deliver, and events. Timers are deadlines held in the state (`nextDeadline()` says when to
 * call `onTimer`), so the runtime arms one clock timer per connection. Nothing here reads a
 * clock, touches a socket or allocates per segment on the in-order path: the state is mutated
 * in place and the outgoing segment record is reused, which is what lets the same code run at
 * line rate in the runtime and step by step in tests.
 *
 * `TcpConnection` is the coordinator: it owns the state, the negotiated options, the user's
 * settings, keepalive, TIME-WAIT and how the connection ends, and runs RFC 9293's segment
 * arrival steps, handing each part to its owner: the opening states to `TcpHandshake`
 * (handshake.ts), sequence acceptability, TS.Recent, reassembly, the window and the ACK
 * policy to `TcpReceiver` (`rcv`, receiver.ts), and SEG.ACK, what to send, retransmission,
 * congestion and probes to `TcpSender` (`snd`, sender.ts). The parts read each other through
 * the connection; none holds a copy of another's state.
 *
 * Implemented: every RFC 9293 state incl. simultaneous open/close and half-close; RFC 5961
 * challenge ACKs (rate-limited) for in-window RST, any SYN and unacceptable ACKs; RFC 6298 RTO
 * with Karn's rule and backoff; RFC 5681/6582 NewReno or RFC 9438 CUBIC with RFC 6928 IW; RFC
 * 7323 window scale, timestamps and PAWS; RFC 2018 SACK (blocks for out-of-order data) and RFC
 * 6675 SACK-based loss recovery; RFC 3042 limited transmit, RFC 5827-style early retransmit for
 * small flights, an RFC 8985 tail loss probe and detection of lost retransmissions; delayed ACK
 * (optionally coalesced per receive batch by the host); Nagle; receiver and sender SWS
 * avoidance; zero-window probes with backoff; keepalive; TIME-WAIT of 2*MSL (RFC 1337: RST
 * ignored there) with RFC 6191 reuse checks. Not implemented: urgent data (URG is ignored),
 * ECN, RFC 7413 Fast Open, and D-SACK.
 */
import type { CongestionControl } from '../congestion.js';
import type { RtoEstimator } from '../rto.js';
import type { SackScoreboard } from '../sack.js';
import { ACK, FIN, RST, SYN, clearSegment, newSegment, type Segment } from '../segment.js';
import type { SendBuffer } from '../sendbuffer.js';
import { seqAdd, seqGt, seqLt } from '../seq.js';
import {
  NONE,
  TS_OPTION_BYTES,
  TcpEvent,
  TcpState,
  stateName,
  type TcpConfig,
  type TcpCounters,
  type TcpHost,
} from './config.js';
import { TcpReceiver } from './receiver.js';
import { TcpSender } from './sender.js';
import { TcpHandshake } from './handshake.js';

export class TcpConnection {
  state: TcpState = TcpState.CLOSED;
  /** True when this connection began with a passive open (LISTEN). */
  passive = false;
  readonly counters: TcpCounters = {
    segmentsIn: 0,
    segmentsOut: 0,
    retransmits: 0,
    fastRetransmits: 0,
    timeouts: 0,
    challengeAcks: 0,
    challengeAcksSuppressed: 0,
    pawsDrops: 0,
    outOfWindow: 0,
    reorderDrops: 0,
    dupAcksIn: 0,
    lostRetransmits: 0,
    tailProbes: 0,
    idleRestarts: 0,
    pathMtuRetransmits: 0,
    blackholeMssDrops: 0,
    mtuProbes: 0,
    mtuProbesAcked: 0,
  };
  /** Free slot for the runtime (its socket object). */
  owner: unknown = undefined;

  // --- negotiated options ---
  tsEnabled = false;
  sackEnabled = false;
  private tsOffset = 0;
  private tsOffsetFixed = false;

  // --- user settings ---
  noDelay = false;
  keepAlive = false;
  keepIdle: number;
  /** Between unanswered keepalive probes (TCP_KEEPINTVL). */
  keepInterval: number;
  /** Unanswered keepalive probes before the connection is dropped (TCP_KEEPCNT). */
  keepCount: number;
  /** SYN retransmissions before an active open fails (TCP_SYNCNT). */
  synRetries: number;
  /** The congestion controller the connection runs once established (TCP_CONGESTION). */
  congestion: TcpConfig['congestion'];
  /**
   * The user timeout (RFC 9293 §3.10.1, RFC 5482; Linux's TCP_USER_TIMEOUT), ms: how long sent
   * data (or a SYN) may stay unacknowledged, or the peer's window stay shut, or keepalive
   * probes go unanswered, before the connection fails with ETIMEDOUT. 0: the retry counts
   * decide, as without it. Retransmission timers never run past it.
   */
  userTimeout = 0;
  private keepProbes = 0;
  /** When an acceptable segment last arrived (keepalive idleness, the persist user timeout). */
  lastRecv = 0;
  /** The application no longer reads: data arriving now is answered with RST. */
  orphaned = false;
  private challengeWindowStart = -Infinity;
  private challengeCount = 0;
  private closedReported = false;

  // --- timer deadlines (ms, NONE when unarmed; the sender and receiver hold their own) ---
  keepaliveDeadline = NONE;
  /** TIME-WAIT expiry, or the orphaned FIN-WAIT-2 timeout. */
  timeWaitDeadline = NONE;

  private readonly out: Segment = newSegment();
  /** The receiving half: receive sequence space, reassembly, window, delayed ACK. */
  readonly rcv: TcpReceiver;
  /** The sending half: send sequence space, retransmission, congestion, SACK, probes. */
  readonly snd: TcpSender;
  /** The opening: SYN options, SYN retries, LISTEN and SYN-SENT, cookie-made connections. */
  private readonly handshake: TcpHandshake;

  constructor(
    readonly config: TcpConfig,
    private readonly host: TcpHost,
    readonly localPort: number,
    readonly remotePort: number,
  ) {
    this.rcv = new TcpReceiver(config, host, this);
    this.snd = new TcpSender(config, host, this);
    this.handshake = new TcpHandshake(config, this);
    this.keepIdle = config.keepIdle;
    this.keepInterval = config.keepInterval;
    this.keepCount = config.keepCount;
    this.synRetries = config.synRetries;
    this.congestion = config.congestion;
  }

  // Read-only views of the parts' state under the names the package has always used.
  get iss(): number {
    return this.snd.iss;
  }
  get sndUna(): number {
    return this.snd.una;
  }
  get sndNxt(): number {
    return this.snd.nxt;
  }
  get sndMax(): number {
    return this.snd.max;
  }
  get sndWnd(): number {
    return this.snd.wnd;
  }
  get sndShift(): number {
    return this.snd.shift;
  }
  get effMss(): number {
    return this.snd.mss;
  }
  get sendBuffer(): SendBuffer {
    return this.snd.buffer;
  }
  get cc(): CongestionControl {
    return this.snd.cc;
  }
  get rto(): RtoEstimator {
    return this.snd.rto;
  }
  get scoreboard(): SackScoreboard {
    return this.snd.scoreboard;
  }
  get inRecovery(): boolean {
    return this.snd.inRecovery;
  }
  get retries(): number {
    return this.snd.retries;
  }
  get rcvNxt(): number {
    return this.rcv.nxt;
  }

  // ===================================================================== user calls

  /** Active open (CLOSED → SYN-SENT): sends SYN with our options. */
  connect(iss: number, now: number): void {
    if (this.state !== TcpState.CLOSED)
      throw new Error(`connect in state ${stateName(this.state)}`);
    this.initSendSpace(iss);
    this.lastRecv = now;
    this.state = TcpState.SYN_SENT;
    this.handshake.sendSyn(now, false);
  }

  /** Passive open (CLOSED → LISTEN); `iss` is used for the SYN-ACK when a SYN arrives. */
  listen(iss: number): void {
    if (this.state !== TcpState.CLOSED) throw new Error(`listen in state ${stateName(this.state)}`);
    this.initSendSpace(iss);
    this.passive = true;
    this.state = TcpState.LISTEN;
  }

  /**
   * Builds an ESTABLISHED connection from the ACK that completed a SYN-cookie handshake
   * (`iss` = SEG.ACK - 1, `peerMss` decoded from the cookie). `options`, when the handshake
   * carried timestamps, are the peer's window scale (-1: none) and SACK-permitted that the
   * runtime kept in our SYN-ACK's timestamp; the ACK itself is then processed normally.
   */
  acceptCookie(
    seg: Segment,
    iss: number,
    peerMss: number,
    now: number,
    options?: { windowScale: number; sackPermitted: boolean },
  ): void {
    if (this.state !== TcpState.CLOSED) throw new Error('acceptCookie on a used connection');
    this.initSendSpace(iss);
    this.passive = true;
    this.handshake.acceptCookie(seg, iss, peerMss, now, options);
    this.input(seg, now);
  }

  /** Queues application data; returns the bytes accepted (less than `len` when the buffer is full). */
  send(src: Uint8Array, off: number, len: number, now: number): number {
    if (this.snd.finQueued) return 0;
    const s = this.state;
    if (
      s !== TcpState.ESTABLISHED &&
      s !== TcpState.CLOSE_WAIT &&
      s !== TcpState.SYN_SENT &&
      s !== TcpState.SYN_RECEIVED
    ) {
      return 0;
    }
    const n = this.snd.push(src, off, len);
    if (n > 0 && (s === TcpState.ESTABLISHED || s === TcpState.CLOSE_WAIT)) this.output(now);
    return n;
  }

  /** Bytes that may still be queued with `send`. */
  get sendSpace(): number {
    return this.snd.finQueued ? 0 : this.snd.buffer.free;
  }

  /** Bytes written but not yet acknowledged. */
  get sendQueued(): number {
    return this.snd.buffer.length;
  }

  /** Closes our sending side: FIN after the queued data (half-close; reading goes on). */
  close(now: number): void {
    switch (this.state) {
      case TcpState.LISTEN:
      case TcpState.SYN_SENT:
        this.finish(TcpEvent.Closed);
        return;
      case TcpState.SYN_RECEIVED:
        this.snd.queueFin(); // sent once ESTABLISHED (RFC 9293 §3.10.4 allows queueing)
        return;
      case TcpState.ESTABLISHED:
        this.snd.queueFin();
        this.state = TcpState.FIN_WAIT_1;
        this.output(now);
        return;
      case TcpState.CLOSE_WAIT:
        this.snd.queueFin();
        this.state = TcpState.LAST_ACK;
        this.output(now);
        return;
      default:
        return; // already closing
    }
  }

  /** Aborts: RST to the peer in synchronized states, then CLOSED (RFC 9293 ABORT call). */
  abort(now: number): void {
    const s = this.state;
    // An embryonic connection resets as RFC 9293's ABORT says, <SEQ=SND.NXT><CTL=RST>: the peer
    // has not acknowledged our SYN, so there is no exchange an ACK would speak for.
    if (s === TcpState.SYN_RECEIVED) this.sendReset(this.snd.max);
    else if (
      s === TcpState.ESTABLISHED ||
      s === TcpState.FIN_WAIT_1 ||
      s === TcpState.FIN_WAIT_2 ||
      s === TcpState.CLOSE_WAIT
    ) {
      this.sendAbortReset(now);
    }
    this.finish(TcpEvent.Closed);
  }

  /**
   * The application will not read any more (its socket was destroyed): from now on delivered
   * data counts as consumed, and an orphaned FIN-WAIT-2 times out.
   */
  orphan(now: number): void {
    this.orphaned = true;
    this.rcv.orphaned();
    if (this.state === TcpState.FIN_WAIT_2)
      this.timeWaitDeadline = now + this.config.finWait2Timeout;
  }

  /** The application consumed `n` delivered bytes: the window may open (window update). */
  consumed(n: number, now: number): void {
    if (this.rcv.consumed(n, this.isSynchronized())) this.output(now);
  }

  setNoDelay(noDelay: boolean, now: number): void {
    this.noDelay = noDelay;
    if (noDelay && this.canSendData()) this.output(now);
  }

  setKeepAlive(enable: boolean, idleMs: number, now: number): void {
    this.keepAlive = enable;
    if (idleMs > 0) this.keepIdle = idleMs;
    this.keepProbes = 0;
    this.keepaliveDeadline = enable && this.isSynchronized() ? now + this.keepIdle : NONE;
  }

  /**
   * Switches the congestion controller (TCP_CONGESTION). An established connection keeps its
   * cwnd and ssthresh, as Linux's tcp_reinit_congestion_control does; the new controller's own
   * state (CUBIC's epoch) starts afresh.
   */
  setCongestion(kind: TcpConfig['congestion']): void {
    this.congestion = kind;
    if (this.isSynchronized()) this.snd.setCongestion(kind);
  }

  /** Sets the user timeout (see `userTimeout`); a running retransmission timer is clamped to it. */
  setUserTimeout(ms: number, now: number): void {
    this.userTimeout = Math.max(0, ms);
    this.snd.userTimeoutChanged(now);
  }

  /**
   * Path MTU discovery lowered the largest segment the path carries to `mss` payload-plus-options
   * bytes (see `TcpSender.pathMtuChanged`).
   */
  pathMtuChanged(mss: number, now: number): void {
    this.snd.pathMtuChanged(mss, now);
  }

  /** The receive batch ended: send the ACK deferred through `TcpHost.deferAck`, if still owed. */
  flushAck(now: number): void {
    this.rcv.batchEnded();
    if (this.rcv.ackOwed && this.isSynchronized()) this.sendAck(now);
  }

  /** Earliest armed deadline (Infinity when no timer is needed). */
  nextDeadline(): number {
    return Math.min(
      this.snd.rtxDeadline,
      this.snd.probeDeadline,
      this.snd.persistDeadline,
      this.rcv.delackDeadline,
      this.keepaliveDeadline,
      this.timeWaitDeadline,
    );
  }

  /** Copies `len` bytes of send data starting at sequence number `seq` into `out[off..]`. */
  copyPayload(seq: number, len: number, out: Uint8Array, off: number): void {
    this.snd.copyPayload(seq, len, out, off);
  }

  /** Whether this TIME-WAIT connection may be replaced by a new SYN (RFC 6191 / RFC 1122 4.2.2.13). */
  acceptsReuse(seg: Segment): boolean {
    return this.state === TcpState.TIME_WAIT && this.rcv.acceptsReuse(seg);
  }

  // ===================================================================== timers

  /**
   * Handles every deadline that is due, so nextDeadline() is in the future afterwards; a call
   * with none due (a host's timer left armed for a deadline that went away) does nothing.
   * finish() clears every deadline, so a connection that one handler closes skips the rest.
   */
  onTimer(now: number): void {
    // Set only in FIN-WAIT-2 (an orphan's linger) and TIME-WAIT, and cleared when they end.
    if (this.timeWaitDeadline <= now) {
      this.finish(TcpEvent.Closed);
      return;
    }
    const snd = this.snd;
    if (snd.probeDeadline <= now) {
      snd.probeDeadline = NONE;
      snd.onProbeTimeout(now);
    }
    if (snd.rtxDeadline <= now) {
      snd.rtxDeadline = NONE;
      this.onRetransmitTimeout(now);
    }
    if (snd.persistDeadline <= now) {
      snd.persistDeadline = NONE;
      if (!snd.onPersistTimeout(now, this.lastRecv)) this.timedOut(now);
    }
    if (this.keepaliveDeadline <= now) {
      this.keepaliveDeadline = NONE;
      this.onKeepaliveTimeout(now);
    }
    // Armed only while an ACK is owed in a synchronized state; sending any ACK disarms it.
    if (this.rcv.delackDeadline <= now) {
      this.rcv.delackDeadline = NONE;
      this.sendAck(now);
    }
  }

  private onRetransmitTimeout(now: number): void {
    const s = this.state;
    this.counters.timeouts++;
    if (s === TcpState.SYN_SENT || s === TcpState.SYN_RECEIVED) this.handshake.onTimeout(now);
    else if (this.isSynchronized() && !this.snd.onRetransmitTimeout(now)) this.timedOut(now);
  }

  /** Retransmissions or probes gave up: reset the peer, ETIMEDOUT for the user. */
  private timedOut(now: number): void {
    this.sendAbortReset(now);
    this.finish(TcpEvent.TimedOut);
  }

  /** Armed only while keepalive is on in a synchronized state (setKeepAlive, establish). */
  private onKeepaliveTimeout(now: number): void {
    const idle = now - this.lastRecv;
    if (!this.snd.idle) {
      // Retransmissions handle an unresponsive peer while data is outstanding.
      this.keepaliveDeadline = now + this.keepIdle;
      return;
    }
    // Not idle long enough yet, also while probing when the idle time was raised meanwhile
    // (Linux's tcp_keepalive_timer compares only the idle time).
    if (idle < this.keepIdle) {
      this.keepaliveDeadline = this.lastRecv + this.keepIdle;
      return;
    }
    // With a user timeout, it (not the probe count) says when an unanswered peer is gone.
    if (
      this.userTimeout > 0
        ? this.keepProbes > 0 && idle >= this.userTimeout
        : this.keepProbes >= this.keepCount
    ) {
      this.timedOut(now);
      return;
    }
    this.keepProbes++;
    this.sendProbe(now);
    this.keepaliveDeadline = now + this.keepInterval;
  }

  // ===================================================================== input

  input(seg: Segment, now: number): void {
    this.counters.segmentsIn++;
    switch (this.state) {
      case TcpState.CLOSED:
        return;
      case TcpState.LISTEN:
        this.handshake.inputListen(seg, now);
        return;
      case TcpState.SYN_SENT:
        this.handshake.inputSynSent(seg, now);
        return;
      default:
        this.inputSynchronized(seg, now);
    }
  }

  private inputSynchronized(seg: Segment, now: number): void {
    const f = seg.flags;
    const segLen = seg.dataLength + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0);

    // The peer's SYN again in SYN-RECEIVED: our SYN-ACK was lost, or a simultaneous open.
    if (this.state === TcpState.SYN_RECEIVED && this.handshake.synReceivedRepeat(seg, now)) return;

    // PAWS (RFC 7323 §5.3): a timestamp older than TS.Recent marks an old duplicate.
    if (!(f & RST) && this.rcv.isOldDuplicate(seg, now)) {
      this.counters.pawsDrops++;
      this.sendAck(now);
      return;
    }

    const seq = seg.seq;
    if (!this.rcv.acceptable(seq, segLen)) {
      // After the peer's FIN, a reset one below RCV.NXT resets too: a peer that closed and
      // then resets in reply to our data takes its sequence number from our ACK, which did not
      // cover its FIN yet. It lies just below the window, so it is judged here, as Linux's
      // tcp_validate_incoming does with tcp_reset_check.
      if (f & RST) {
        if (
          seq === seqAdd(this.rcv.nxt, -1) &&
          (this.state === TcpState.CLOSE_WAIT ||
            this.state === TcpState.LAST_ACK ||
            this.state === TcpState.CLOSING)
        ) {
          this.onReset();
        }
        return;
      }
      this.counters.outOfWindow++;
      if (this.state === TcpState.TIME_WAIT && f & FIN && seqAdd(seq, segLen) === this.rcv.nxt) {
        // The peer did not get our last ACK: ACK its FIN again and restart 2*MSL.
        this.timeWaitDeadline = now + 2 * this.config.msl;
        this.sendAck(now);
        return;
      }
      // A zero window still lets ACKs through (RFC 9293: "special allowance" for valid ACKs).
      if (this.rcv.window === 0 && seq === this.rcv.nxt && f & ACK && !(f & SYN)) {
        // The data is dropped (and re-ACKed); the ACK may open our send window, so send too.
        if (this.processAck(seg, now) && !this.isClosed()) {
          this.rcv.ackNow = true;
          this.output(now);
        }
        return;
      }
      // Old duplicates are normal under loss (answer so the peer learns our state); data from
      // beyond the window is suspicious (blind injection), so those answers are rate-limited.
      if (seqLt(seq, this.rcv.nxt) && !(f & SYN)) this.sendAck(now);
      else this.challengeAck(now); // RFC 5961 §4.2: any SYN, in window or not
      return;
    }

    this.lastRecv = now;
    this.keepProbes = 0;
    this.rcv.updateTimestamp(seg, (f & ACK) !== 0 && seqGt(seg.ack, this.snd.max), now);

    // RST (RFC 5961 §3.2): exact match resets, in-window gets a challenge ACK.
    if (f & RST) {
      if (seq !== this.rcv.nxt) {
        this.challengeAck(now);
        return;
      }
      this.onReset();
      return;
    }

    // SYN in a synchronized state (RFC 5961 §4.2): always a challenge ACK.
    if (f & SYN) {
      this.challengeAck(now);
      return;
    }

    if (!(f & ACK)) return;

    if (this.state === TcpState.SYN_RECEIVED && !this.handshake.synReceivedAck(seg, now)) return;

    if (!this.processAck(seg, now)) return;
    if (this.isClosed()) return;

    if (seg.dataLength > 0 || f & FIN) this.processText(seg, now);
    if (this.isClosed()) return;
    this.output(now);
  }

  private onReset(): void {
    switch (this.state) {
      case TcpState.SYN_RECEIVED:
        this.finish(this.passive ? TcpEvent.Closed : TcpEvent.Refused);
        return;
      // CLOSING and LAST-ACK too: RFC 9293 closes them silently, but what we still had to send
      // is lost, so the socket hears of it (as Linux's tcp_reset reports ECONNRESET).
      case TcpState.ESTABLISHED:
      case TcpState.FIN_WAIT_1:
      case TcpState.FIN_WAIT_2:
      case TcpState.CLOSE_WAIT:
      case TcpState.CLOSING:
      case TcpState.LAST_ACK:
        this.finish(TcpEvent.Reset);
        return;
      case TcpState.TIME_WAIT:
        return; // RFC 1337: ignore RST in TIME-WAIT (no assassination)
      default:
        this.finish(TcpEvent.Closed);
    }
  }

  /** The ACK field of an acceptable segment (RFC 9293 §3.10.7.4 fifth step). False = drop. */
  private processAck(seg: Segment, now: number): boolean {
    const ack = seg.ack;
    // RFC 5961 §5.2: acceptable only within [SND.UNA - MAX.SND.WND, SND.NXT].
    if (seqGt(ack, this.snd.max)) {
      if (this.config.ackUnsentAck) this.challengeAck(now);
      return false;
    }
    if (seqLt(ack, seqAdd(this.snd.una, -this.snd.maxWnd))) {
      this.challengeAck(now);
      return false;
    }
    if (this.state === TcpState.TIME_WAIT) return true;
    this.snd.onAck(seg, now);

    // Our FIN acknowledged?
    if (this.snd.finAcked) {
      switch (this.state) {
        case TcpState.FIN_WAIT_1:
          this.state = TcpState.FIN_WAIT_2;
          if (this.orphaned) this.timeWaitDeadline = now + this.config.finWait2Timeout;
          break;
        case TcpState.CLOSING:
          this.enterTimeWait(now);
          return true;
        case TcpState.LAST_ACK:
          this.finish(TcpEvent.Closed);
          return false;
        default:
          break;
      }
    }
    return true;
  }

  /** Segment text and FIN (sixth to eighth steps). */
  processText(seg: Segment, now: number): void {
    const s = this.state;
    const acceptsData =
      s === TcpState.ESTABLISHED || s === TcpState.FIN_WAIT_1 || s === TcpState.FIN_WAIT_2;
    if (seg.dataLength > 0 && acceptsData && this.orphaned) {
      // Nobody will read this: reset in reply to it, <SEQ=SEG.ACK><CTL=RST> as Linux does after
      // close (RFC 9293 §3.10.7.4); the segment passed the ACK check, so SEG.ACK is in window.
      this.sendReset(seg.ack);
      this.finish(TcpEvent.Closed);
      return;
    }
    if (this.rcv.segment(seg, acceptsData, now)) this.processFin(now);
  }

  private processFin(now: number): void {
    this.rcv.finReceived();
    this.host.event(this, TcpEvent.RemoteFin);
    switch (this.state) {
      case TcpState.SYN_RECEIVED:
      case TcpState.ESTABLISHED:
        this.state = TcpState.CLOSE_WAIT;
        break;
      case TcpState.FIN_WAIT_1:
        if (this.snd.finAcked) this.enterTimeWait(now);
        else this.state = TcpState.CLOSING;
        break;
      case TcpState.FIN_WAIT_2:
        this.enterTimeWait(now);
        break;
      default:
        break;
    }
  }

  private enterTimeWait(now: number): void {
    this.state = TcpState.TIME_WAIT;
    this.snd.stopTimers();
    this.keepaliveDeadline = NONE;
    this.timeWaitDeadline = now + 2 * this.config.msl;
    this.rcv.ackNow = true;
    this.reportClosed(TcpEvent.Closed);
  }

  // ===================================================================== output

  /** A method, not a property test, so TypeScript does not narrow `state` across calls. */
  isClosed(): boolean {
    return this.state === TcpState.CLOSED;
  }

  isSynchronized(): boolean {
    return this.state >= TcpState.SYN_RECEIVED;
  }

  canSendData(): boolean {
    const s = this.state;
    return (
      s === TcpState.ESTABLISHED ||
      s === TcpState.CLOSE_WAIT ||
      s === TcpState.FIN_WAIT_1 ||
      s === TcpState.CLOSING ||
      s === TcpState.LAST_ACK
    );
  }

  /**
   * Sends what the windows allow (`TcpSender.output`), and a pure ACK if one is owed and nothing
   * else carried it. `oneSegment` limits the sender to a single segment (the retransmission
   * after a timeout). For the parts: the sender calls it after a timeout or a window change.
   */
  output(now: number, oneSegment = false): void {
    if (this.state === TcpState.TIME_WAIT) {
      if (this.rcv.ackNow) this.sendAck(now);
      return;
    }
    if (!this.canSendData()) {
      if (this.rcv.ackNow && this.isSynchronized()) this.sendAck(now);
      return;
    }
    const sent = this.snd.output(now, oneSegment);
    if (this.rcv.ackNow && sent === 0) this.sendAck(now);
  }

  /** The reused outgoing segment record, cleared (for the sender's data segments). */
  outgoing(): Segment {
    const seg = this.out;
    clearSegment(seg);
    return seg;
  }

  /**
   * Window, timestamps and SACK blocks for any segment carrying ACK; clears the ACK debt (for
   * the sender's data segments too).
   */
  fillAck(seg: Segment, now: number): void {
    if (this.tsEnabled) {
      seg.hasTimestamps = true;
      seg.tsVal = this.tsNow(now);
    }
    this.rcv.fillAck(seg);
  }

  private sendAck(now: number): void {
    const seg = this.out;
    clearSegment(seg);
    // SND.MAX (not a rewound SND.NXT) keeps a pure ACK inside the peer's window.
    seg.seq = this.snd.max;
    seg.ack = this.rcv.nxt;
    seg.flags = ACK;
    this.fillAck(seg, now);
    this.emit(seg);
  }

  /** Keepalive and zero-window probe: SEG.SEQ = SND.UNA - 1 draws an ACK from the peer. */
  sendProbe(now: number): void {
    const seg = this.out;
    clearSegment(seg);
    seg.seq = seqAdd(this.snd.una, -1);
    seg.ack = this.rcv.nxt;
    seg.flags = ACK;
    this.fillAck(seg, now);
    this.emit(seg);
  }

  /** RFC 5961 §7: challenge ACKs, at most `challengeAckLimit` per second. */
  private challengeAck(now: number): void {
    if (now - this.challengeWindowStart >= 1000) {
      this.challengeWindowStart = now;
      this.challengeCount = 0;
    }
    if (this.challengeCount >= this.config.challengeAckLimit) {
      this.counters.challengeAcksSuppressed++;
      return;
    }
    this.challengeCount++;
    this.counters.challengeAcks++;
    this.sendAck(now);
  }

  /**
   * The reset a synchronized connection sends when it gives up on its own (ABORT, close with
   * unread data, timeouts): <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK> with timestamps, which RFC 7323 §3.2
   * says an RST SHOULD carry once negotiated. RFC 9293's ABORT names only SEQ and RST; the ACK
   * is what Linux and the BSDs send, and lets a peer in any state match it against its SND.NXT.
   */
  private sendAbortReset(now: number): void {
    const seg = this.out;
    clearSegment(seg);
    seg.seq = this.snd.max;
    seg.ack = this.rcv.nxt;
    seg.flags = RST | ACK;
    this.fillAck(seg, now);
    this.emit(seg);
  }

  /** <SEQ=seq><CTL=RST>: the reply to an unacceptable segment (RFC 9293 §3.10.7, no ACK). */
  sendReset(seq: number): void {
    const seg = this.out;
    clearSegment(seg);
    seg.seq = seq;
    seg.flags = RST;
    this.emit(seg);
  }

  /** Hands a finished segment to the host (for the sender's data segments too). */
  emit(seg: Segment): void {
    this.counters.segmentsOut++;
    this.host.transmit(this, seg);
  }

  // ===================================================================== helpers

  private initSendSpace(iss: number): void {
    this.snd.init(iss);
    if (!this.tsOffsetFixed) this.tsOffset = Math.imul(this.snd.iss, 0x9e3779b1) >>> 0;
  }

  /**
   * Sets the timestamp clock's offset (RFC 7323 §7.1). The runtime derives it from a keyed hash
   * of the 4-tuple, so timestamps keep increasing across connections of the same 4-tuple, which
   * TIME-WAIT reuse relies on (RFC 6191). Call before connect/listen; the default hashes the ISN.
   */
  setTimestampOffset(offset: number): void {
    this.tsOffsetFixed = true;
    this.tsOffset = offset >>> 0;
  }

  /** Our timestamp clock (RFC 7323 §5.4: 1 ms ticks from a per-connection offset). */
  tsNow(now: number): number {
    return (Math.floor(now) + this.tsOffset) >>> 0;
  }

  /** Segment sizes once the options are known: what we send and what counts as full-sized. */
  computeMss(): void {
    this.snd.computeMss();
    this.rcv.mss = Math.max(64, this.config.mss - (this.tsEnabled ? TS_OPTION_BYTES : 0));
  }

  /** The handshake completed (for the handshake). */
  establish(now: number): void {
    this.state = TcpState.ESTABLISHED;
    this.snd.established();
    this.lastRecv = now;
    if (this.keepAlive) this.keepaliveDeadline = now + this.keepIdle;
    this.host.event(this, TcpEvent.Established);
    if (this.snd.finQueued && this.state === TcpState.ESTABLISHED) {
      this.state = TcpState.FIN_WAIT_1;
    }
  }

  /** Enters CLOSED, clearing every timer, and reports how it ended (once). */
  finish(event: TcpEvent): void {
    this.state = TcpState.CLOSED;
    this.snd.clear();
    this.keepaliveDeadline = NONE;
    this.timeWaitDeadline = NONE;
    this.rcv.clear();
    this.reportClosed(event);
  }

  private reportClosed(event: TcpEvent): void {
    if (this.closedReported) return;
    this.closedReported = true;
    this.host.event(this, event);
  }
}
