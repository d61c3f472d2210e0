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
import { initialWindow, makeCongestionControl, type CongestionControl } from '../congestion.js';
import { RtoEstimator } from '../rto.js';
import { SackScoreboard } from '../sack.js';
import {
  ACK,
  FIN,
  MAX_SACK_BLOCKS,
  PSH,
  RST,
  SYN,
  clearSegment,
  newSegment,
  type Segment,
} from '../segment.js';
import { SendBuffer } from '../sendbuffer.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax, seqMin } from '../seq.js';
import {
  BLACKHOLE_MIN_MSS,
  BLACKHOLE_TIMEOUTS,
  DEFAULT_PEER_MSS,
  LINUX_RTO_MIN,
  LINUX_TIMEOUT_MIN,
  MTU_PROBE_THRESHOLD,
  MTU_REPROBE_INTERVAL,
  NONE,
  SACK_OPTION_BASE,
  TS_OPTION_BYTES,
  TcpEvent,
  TcpState,
  stateName,
  type TcpConfig,
  type TcpCounters,
  type TcpHost,
} from './config.js';
import { TcpReceiver } from './receiver.js';

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

  // --- send sequence space (RFC 9293 §3.3.1) ---
  iss = 0;
  sndUna = 0;
  /** Next sequence number to send (moves back to SND.UNA on a retransmission timeout). */
  sndNxt = 0;
  /** Highest sequence number sent + 1. */
  sndMax = 0;
  /** Peer's window in bytes (already scaled). */
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** Largest window the peer ever offered (RFC 5961's MAX.SND.WND, sender SWS avoidance). */
  maxSndWnd = 0;
  /** Sequence number of the first byte held in the send buffer. */
  private sndBufSeq = 0;
  readonly sendBuffer: SendBuffer;
  /** The user closed the sending side: FIN goes after the buffered data, at `finSeq`. */
  finQueued = false;
  finSeq = 0;
  private finSent = false;
  /** The most recent new segment was a FIN without data (what a tail loss probe repeats). */
  private finAlone = false;

  /** RCV.NXT (the receiver's; read-only here). */
  get rcvNxt(): number {
    return this.rcv.nxt;
  }

  // --- negotiated options ---
  /** Payload bytes per segment we send (peer MSS, our MTU, minus the timestamp option). */
  effMss: number;
  peerMss = DEFAULT_PEER_MSS;
  /** Largest segment (header excluded) the path carries, from path MTU discovery. */
  pathMss = Infinity;
  /**
   * RFC 4821 search, started by the black-hole fallback: segments of `mtuSearchLow` (MSS with
   * options, as `pathMss`) are known to pass, `mtuSearchHigh` is the largest that might. 0 = no
   * search. `mtuCeiling` is where the search began, where a re-probe starts again.
   */
  private mtuSearchLow = 0;
  private mtuSearchHigh = 0;
  private mtuCeiling = 0;
  /** The probe in flight (new data [mtuProbeSeq, mtuProbeEnd) sent as one segment). */
  private mtuProbing = false;
  private mtuProbeSeq = 0;
  private mtuProbeEnd = 0;
  private mtuProbeMss = 0;
  /** No probe before this time (set when a search ends). */
  private mtuProbeAt = 0;
  sndShift = 0;
  tsEnabled = false;
  sackEnabled = false;
  private tsOffset = 0;
  private tsOffsetFixed = false;
  /** Our timestamp when the last retransmission timeout fired (see sampleTs). */
  private tsRtoFloor = 0;
  private tsRtoFloorSet = false;

  // --- retransmission and congestion ---
  readonly rto: RtoEstimator;
  cc: CongestionControl;
  private rttTiming = false;
  private rttSeq = 0;
  private rttStart = 0;
  /** Consecutive timeouts (or SYN retransmissions) without progress. */
  retries = 0;
  dupAcks = 0;
  inRecovery = false;
  /** RFC 6582 "recover": the highest sequence sent when recovery (or an RTO) began, + 1. */
  private recoverSeq = 0;
  /** RFC 6675 HighRxt: the highest sequence retransmitted during SACK recovery, + 1. */
  private highRxt = 0;
  /** SND.MAX when the hole at SND.UNA was last retransmitted (lost-retransmission check). */
  private rtxMark = 0;
  private rtxMarkValid = false;
  /** RFC 3042 limited transmit: extra bytes allowed beyond cwnd on the first two dup ACKs. */
  private limitedTransmit = 0;
  /** A tail loss probe (RFC 8985 §7) was sent and not yet answered by new data acknowledged. */
  private tlpOutstanding = false;
  /** RFC 6937 state, in segments: delivered and sent since recovery began, cwnd before it. */
  private prrDelivered = 0;
  private prrOut = 0;
  private prrRecoverFs = 0;
  /** SACKed bytes before the ACK being processed (its delivered data, RFC 6937's DeliveredData). */
  private sackedBefore = 0;
  readonly scoreboard = new SackScoreboard();

  // --- receive-side acknowledgment policy ---
  private ackNow = false;
  private ackPending = 0;
  /** Largest flight in the current window, and where that window ends (cwndLimitedGrowth). */
  private maxFlight = 0;
  private flightWindowEnd = 0;

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
  /** Since when the oldest unacknowledged data or SYN has been waiting; NONE when nothing is. */
  private unackedSince = NONE;
  /** When data (new or resent) last left; the idle restart counts from here. */
  private lastDataSent = -Infinity;
  private keepProbes = 0;
  private lastRecv = 0;
  /** The application no longer reads: data arriving now is answered with RST. */
  orphaned = false;
  private persistBackoff = 0;
  private persistProbes = 0;
  private challengeWindowStart = -Infinity;
  private challengeCount = 0;
  private closedReported = false;

  // --- timer deadlines (ms, Infinity when unarmed) ---
  rtxDeadline = NONE;
  /** Tail loss probe timeout (RFC 8985), earlier than the RTO while a tail may be lost. */
  probeDeadline = NONE;
  persistDeadline = NONE;
  keepaliveDeadline = NONE;
  /** TIME-WAIT expiry, or the orphaned FIN-WAIT-2 timeout. */
  timeWaitDeadline = NONE;

  private readonly out: Segment = newSegment();
  /** The receiving half: receive sequence space, reassembly, window, delayed ACK. */
  readonly rcv: TcpReceiver;

  constructor(
    readonly config: TcpConfig,
    private readonly host: TcpHost,
    readonly localPort: number,
    readonly remotePort: number,
  ) {
    this.sendBuffer = new SendBuffer(config.sndBuf);
    this.rcv = new TcpReceiver(config, host, this);
    this.rto = new RtoEstimator(config.rto);
    this.effMss = Math.min(DEFAULT_PEER_MSS, config.mss);
    this.cc = makeCongestionControl(config.congestion, this.effMss, config.abcLimit);
    this.keepIdle = config.keepIdle;
    this.keepInterval = config.keepInterval;
    this.keepCount = config.keepCount;
    this.synRetries = config.synRetries;
    this.congestion = config.congestion;
  }

  // ===================================================================== user calls

  /** Active open (CLOSED → SYN-SENT): sends SYN with our options. */
  connect(iss: number, now: number): void {
    if (this.state !== TcpState.CLOSED)
      throw new Error(`connect in state ${stateName(this.state)}`);
    this.initSendSpace(iss);
    this.lastRecv = now;
    this.state = TcpState.SYN_SENT;
    this.sendSyn(now, false);
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
    // The stateless SYN-ACK offered min(64 KiB, buffer), unscaled.
    this.rcv.synReceived(seqAdd(seg.seq, -1), Math.min(0xffff, this.config.rcvBuf));
    this.rcv.lastAckSent = seg.seq;
    this.sndNxt = this.sndMax = seqAdd(iss, 1);
    this.peerMss = peerMss;
    const c = this.config;
    if (options !== undefined && seg.hasTimestamps && c.timestamps) {
      this.tsEnabled = true;
      this.rcv.takeTimestamp(seg.tsVal, now);
      this.sackEnabled = c.sack && options.sackPermitted;
      if (c.windowScale && options.windowScale >= 0) {
        this.sndShift = Math.min(14, options.windowScale);
        this.rcv.shift = this.rcv.offeredShift;
      }
    }
    this.computeEffMss();
    this.lastRecv = now;
    this.state = TcpState.SYN_RECEIVED;
    this.input(seg, now);
  }

  /** Queues application data; returns the bytes accepted (less than `len` when the buffer is full). */
  send(src: Uint8Array, off: number, len: number, now: number): number {
    if (this.finQueued) return 0;
    const s = this.state;
    if (
      s !== TcpState.ESTABLISHED &&
      s !== TcpState.CLOSE_WAIT &&
      s !== TcpState.SYN_SENT &&
      s !== TcpState.SYN_RECEIVED
    ) {
      return 0;
    }
    const n = this.sendBuffer.push(src, off, len);
    if (n > 0 && (s === TcpState.ESTABLISHED || s === TcpState.CLOSE_WAIT)) this.output(now);
    return n;
  }

  /** Bytes that may still be queued with `send`. */
  get sendSpace(): number {
    return this.finQueued ? 0 : this.sendBuffer.free;
  }

  /** Bytes written but not yet acknowledged. */
  get sendQueued(): number {
    return this.sendBuffer.length;
  }

  /** Closes our sending side: FIN after the queued data (half-close; reading goes on). */
  close(now: number): void {
    switch (this.state) {
      case TcpState.LISTEN:
      case TcpState.SYN_SENT:
        this.finish(TcpEvent.Closed);
        return;
      case TcpState.SYN_RECEIVED:
        this.queueFin(); // sent once ESTABLISHED (RFC 9293 §3.10.4 allows queueing)
        return;
      case TcpState.ESTABLISHED:
        this.queueFin();
        this.state = TcpState.FIN_WAIT_1;
        this.output(now);
        return;
      case TcpState.CLOSE_WAIT:
        this.queueFin();
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
    if (s === TcpState.SYN_RECEIVED) this.sendReset(this.sndMax);
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
    if (!this.isSynchronized() || this.cc.name === kind) return;
    const { cwnd, ssthresh } = this.cc;
    this.cc = makeCongestionControl(kind, this.effMss, this.config.abcLimit);
    this.cc.cwnd = cwnd;
    this.cc.ssthresh = ssthresh;
  }

  /** Sets the user timeout (see `userTimeout`); a running retransmission timer is clamped to it. */
  setUserTimeout(ms: number, now: number): void {
    this.userTimeout = Math.max(0, ms);
    if (this.rtxDeadline !== NONE) this.rtxDeadline = Math.min(this.rtxDeadline, this.rtxAt(now));
  }

  /**
   * Path MTU discovery (RFC 8201, RFC 1191 §6.4) lowered the largest segment the path carries
   * to `mss` payload-plus-options bytes. Segments in flight that no longer fit were dropped on
   * the way, so the connection resends from SND.UNA at the new size at once, without waiting
   * for a timeout and without treating the loss as congestion. A larger value is ignored: the
   * path MTU only rises through a new connection.
   */
  pathMtuChanged(mss: number, now: number): void {
    if (!(mss < this.pathMss)) return;
    this.pathMss = Math.max(64, mss);
    // A router said what passes: the search, if any, never probes above it.
    if (this.mtuSearchHigh > 0) {
      this.mtuCeiling = Math.min(this.mtuCeiling, this.pathMss);
      this.mtuSearchHigh = Math.min(this.mtuSearchHigh, this.pathMss);
      this.mtuSearchLow = Math.min(this.mtuSearchLow, this.pathMss);
    }
    const before = this.effMss;
    this.computeEffMss();
    if (this.effMss >= before || !this.isSynchronized() || this.sndUna === this.sndMax) return;
    this.counters.pathMtuRetransmits++;
    this.sndNxt = this.sndUna;
    this.highRxt = this.sndUna;
    this.rttTiming = false;
    this.output(now);
  }

  /**
   * RFC 4821 §7.8 in Linux's simple form: repeated timeouts mean the path may drop what is
   * too big without telling us (an ICMP black hole); halve the MSS (see `blackholeMss`). A
   * path that really lost connectivity loses a little throughput; a black hole comes back to
   * life. The drop starts an RFC 4821 search (`maybeMtuProbe`) that climbs back towards what
   * the path really carries, so one outage does not cost the connection its MSS for good.
   */
  private blackholeCheck(): void {
    const ceiling = this.config.blackholeMss;
    if (ceiling <= 0 || this.retries < BLACKHOLE_TIMEOUTS) return;
    const current = this.effMss + (this.tsEnabled ? TS_OPTION_BYTES : 0);
    if (current <= BLACKHOLE_MIN_MSS) return;
    if (this.mtuSearchHigh === 0) this.mtuCeiling = this.mtuSearchHigh = current;
    this.mtuProbing = false;
    this.pathMss = Math.max(BLACKHOLE_MIN_MSS, Math.min(ceiling, current >>> 1));
    this.mtuSearchLow = this.pathMss;
    this.computeEffMss();
    this.counters.blackholeMssDrops++;
  }

  /**
   * RFC 4821 §7.3/§7.5 over new data, as Linux's tcp_mtu_probe: while searching, no probe in
   * flight, not recovering and nothing sent waiting to be resent, one segment of the middle size
   * between what passes and what might goes out when that much data and window are there. Its
   * cumulative ACK raises the MSS (`mtuProbeAcked`); its loss lowers the ceiling
   * (`mtuProbeLost`) and the data is resent at the current MSS like any other. Returns the
   * payload length of the probe to send at `nxt`, or 0.
   */
  private maybeMtuProbe(nxt: number, avail: number, usable: number, now: number): number {
    if (this.mtuSearchHigh === 0) return 0;
    if (this.mtuProbing || this.inRecovery || this.retries > 0) return 0;
    if (now < this.mtuProbeAt || seqLt(nxt, this.sndMax) || this.rcv.heldChunks > 0) return 0;
    if (this.state !== TcpState.ESTABLISHED && this.state !== TcpState.CLOSE_WAIT) return 0;
    if (this.mtuSearchHigh - this.mtuSearchLow < MTU_PROBE_THRESHOLD) {
      // The search is over: try the first ceiling again after an interval (the path may heal).
      this.mtuSearchHigh = this.mtuCeiling;
      this.mtuProbeAt = now + MTU_REPROBE_INTERVAL;
      return 0;
    }
    const probeMss = (this.mtuSearchLow + this.mtuSearchHigh + 1) >>> 1;
    const len = probeMss - (this.tsEnabled ? TS_OPTION_BYTES : 0);
    if (len <= this.effMss || avail < len || usable < len) return 0;
    this.mtuProbing = true;
    this.mtuProbeSeq = nxt;
    this.mtuProbeEnd = seqAdd(nxt, len);
    this.mtuProbeMss = probeMss;
    this.counters.mtuProbes++;
    return len;
  }

  /** The probe was acknowledged: segments of its size pass. */
  private mtuProbeAcked(): void {
    this.mtuProbing = false;
    this.mtuSearchLow = this.mtuProbeMss;
    this.pathMss = this.mtuProbeMss;
    this.computeEffMss();
    this.counters.mtuProbesAcked++;
  }

  /** The probe's start is being resent (timeout or fast retransmit): its size does not pass. */
  private mtuProbeLost(): void {
    this.mtuProbing = false;
    this.mtuSearchHigh = this.mtuProbeMss - 1;
  }

  /** The receive batch ended: send the ACK deferred through `TcpHost.deferAck`, if still owed. */
  flushAck(now: number): void {
    this.rcv.batchEnded();
    if (this.rcv.ackOwed && this.isSynchronized()) this.sendAck(now);
  }

  /** Earliest armed deadline (Infinity when no timer is needed). */
  nextDeadline(): number {
    return Math.min(
      this.rtxDeadline,
      this.probeDeadline,
      this.persistDeadline,
      this.rcv.delackDeadline,
      this.keepaliveDeadline,
      this.timeWaitDeadline,
    );
  }

  /** Copies `len` bytes of send data starting at sequence number `seq` into `out[off..]`. */
  copyPayload(seq: number, len: number, out: Uint8Array, off: number): void {
    this.sendBuffer.copy(seqDiff(seq, this.sndBufSeq), len, out, off);
  }

  /** Whether this TIME-WAIT connection may be replaced by a new SYN (RFC 6191 / RFC 1122 4.2.2.13). */
  acceptsReuse(seg: Segment): boolean {
    return this.state === TcpState.TIME_WAIT && this.rcv.acceptsReuse(seg);
  }

  describe(): string {
    return (
      `${stateName(this.state)} una=${this.sndUna} nxt=${this.sndNxt} max=${this.sndMax} ` +
      `wnd=${this.sndWnd} cwnd=${this.cc.cwnd} ssthresh=${this.cc.ssthresh} rcvNxt=${this.rcv.nxt} ` +
      `rto=${this.rto.rto} queued=${this.sendBuffer.length}`
    );
  }

  // ===================================================================== timers

  onTimer(now: number): void {
    if (this.timeWaitDeadline <= now) {
      this.timeWaitDeadline = NONE;
      if (this.state === TcpState.TIME_WAIT || this.state === TcpState.FIN_WAIT_2) {
        this.finish(TcpEvent.Closed);
        return;
      }
    }
    if (this.probeDeadline <= now) {
      this.probeDeadline = NONE;
      this.sendTailProbe(now);
    }
    if (this.rtxDeadline <= now) {
      this.rtxDeadline = NONE;
      this.onRetransmitTimeout(now);
      if (this.isClosed()) return;
    }
    if (this.persistDeadline <= now) {
      this.persistDeadline = NONE;
      this.onPersistTimeout(now);
      if (this.isClosed()) return;
    }
    if (this.keepaliveDeadline <= now) {
      this.keepaliveDeadline = NONE;
      this.onKeepaliveTimeout(now);
      if (this.isClosed()) return;
    }
    if (this.rcv.delackDeadline <= now) {
      this.rcv.delackDeadline = NONE;
      if (this.rcv.ackOwed && this.isSynchronized()) this.sendAck(now);
    }
  }

  private onRetransmitTimeout(now: number): void {
    const s = this.state;
    this.counters.timeouts++;
    if (s === TcpState.SYN_SENT || s === TcpState.SYN_RECEIVED) {
      const limit = s === TcpState.SYN_SENT ? this.synRetries : this.config.synAckRetries;
      if (this.retries >= limit || this.userTimedOut(now)) {
        this.finish(this.passive ? TcpEvent.Closed : TcpEvent.TimedOut);
        return;
      }
      this.retries++;
      this.rto.backOff();
      this.rttTiming = false;
      this.counters.retransmits++;
      this.sendSyn(now, s === TcpState.SYN_RECEIVED);
      return;
    }
    if (!this.isSynchronized() || this.sndUna === this.sndMax) return;
    if (this.retries >= this.config.dataRetries || this.userTimedOut(now)) {
      this.sendAbortReset(now);
      this.finish(TcpEvent.TimedOut);
      return;
    }
    this.retries++;
    this.rto.backOff();
    this.probeDeadline = NONE;
    if (this.mtuProbing && seqLt(this.sndUna, this.mtuProbeEnd)) this.mtuProbeLost();
    this.blackholeCheck();
    this.limitedTransmit = 0;
    this.tsRtoFloor = this.tsNow(now);
    this.tsRtoFloorSet = true;
    const flight = seqDiff(this.sndMax, this.sndUna);
    this.cc.onRto(flight, this.effMss, now);
    this.inRecovery = false;
    this.dupAcks = 0;
    this.recoverSeq = this.sndMax;
    this.rttTiming = false;
    // Go back N (RFC 5681 §3.1/RFC 6298 §5.4): resend from SND.UNA; SACKed ranges are skipped.
    // After a second timeout in a row the scoreboard is distrusted (the peer may have reneged).
    if (this.retries >= 2) this.scoreboard.clear();
    this.sndNxt = this.sndUna;
    this.highRxt = this.sndUna;
    this.output(now, true);
    if (this.rtxDeadline === NONE) this.rtxDeadline = this.rtxAt(now);
  }

  private onPersistTimeout(now: number): void {
    if (!this.canSendData()) return;
    if (this.sndWnd > 0) {
      this.persistBackoff = 0;
      this.output(now);
      return;
    }
    if (
      this.persistProbes >= this.config.dataRetries ||
      (this.userTimeout > 0 && now - this.lastRecv >= this.userTimeout)
    ) {
      this.sendAbortReset(now);
      this.finish(TcpEvent.TimedOut);
      return;
    }
    this.persistProbes++;
    // A zero-window probe: an old sequence number makes the peer answer with its window.
    this.sendProbe(now);
    this.persistBackoff++;
    this.persistDeadline = now + this.persistInterval();
  }

  private persistInterval(): number {
    const base = Math.max(this.rto.rto, this.config.rto.minRto);
    return Math.min(this.config.rto.maxRto, base * 2 ** Math.min(this.persistBackoff, 16));
  }

  private onKeepaliveTimeout(now: number): void {
    if (!this.keepAlive || !this.isSynchronized()) return;
    const idle = now - this.lastRecv;
    const busy = this.sndUna !== this.sndMax || this.sendBuffer.length > 0;
    if (busy) {
      // Retransmissions handle an unresponsive peer while data is outstanding.
      this.keepaliveDeadline = now + this.keepIdle;
      return;
    }
    if (this.keepProbes === 0 && idle < this.keepIdle) {
      this.keepaliveDeadline = this.lastRecv + this.keepIdle;
      return;
    }
    // With a user timeout, it (not the probe count) says when an unanswered peer is gone.
    if (
      this.userTimeout > 0
        ? this.keepProbes > 0 && idle >= this.userTimeout
        : this.keepProbes >= this.keepCount
    ) {
      this.sendAbortReset(now);
      this.finish(TcpEvent.TimedOut);
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
        this.inputListen(seg, now);
        return;
      case TcpState.SYN_SENT:
        this.inputSynSent(seg, now);
        return;
      default:
        this.inputSynchronized(seg, now);
    }
  }

  private inputListen(seg: Segment, now: number): void {
    const f = seg.flags;
    if (f & RST) return;
    if (f & ACK) {
      this.sendReset(seg.ack);
      return;
    }
    if (!(f & SYN)) return;
    this.rcv.synReceived(seg.seq, 0);
    this.negotiate(seg, now);
    this.sndWnd = seg.window; // never scaled in a SYN (RFC 7323 §2.2)
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = seg.seq;
    this.sndWl2 = this.iss;
    this.lastRecv = now;
    this.state = TcpState.SYN_RECEIVED;
    this.sendSyn(now, true);
  }

  private inputSynSent(seg: Segment, now: number): void {
    const f = seg.flags;
    let ackOk = false;
    if (f & ACK) {
      if (seqLe(seg.ack, this.iss) || seqGt(seg.ack, this.sndMax)) {
        if (!(f & RST)) this.sendReset(seg.ack);
        return;
      }
      ackOk = true;
    }
    if (f & RST) {
      if (ackOk) this.finish(TcpEvent.Refused);
      return;
    }
    if (!(f & SYN)) return;
    // Our SYN offered an unscaled window; the peer may send that much right away.
    this.rcv.synReceived(seg.seq, Math.min(0xffff, this.config.rcvBuf));
    this.negotiate(seg, now);
    this.lastRecv = now;
    if (ackOk) {
      this.sndWnd = seg.window;
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.sndUna = seg.ack;
      if (this.rttTiming && !this.tsEnabled) this.rto.sample(now - this.rttStart);
      else if (this.tsEnabled && seg.hasTimestamps && seg.tsEcr !== 0) this.sampleTs(seg, now);
      this.rttTiming = false;
      this.rtxDeadline = NONE;
      this.establish(now);
      this.rcv.ackNow = true;
      if (seg.dataLength > 0 || f & FIN) this.processText(seg, now);
      this.output(now);
    } else {
      // Simultaneous open (RFC 9293 §3.5 figure 8): SYN-RECEIVED, answer SYN-ACK.
      this.state = TcpState.SYN_RECEIVED;
      this.sndWnd = seg.window;
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seg.seq;
      this.sendSyn(now, true);
    }
  }

  private inputSynchronized(seg: Segment, now: number): void {
    const f = seg.flags;
    const segLen = seg.dataLength + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0);

    // A retransmitted SYN in SYN-RECEIVED means our SYN-ACK was lost: resend it at once.
    if (
      this.state === TcpState.SYN_RECEIVED &&
      f & SYN &&
      !(f & (ACK | RST)) &&
      seg.seq === this.rcv.irs
    ) {
      this.sendSyn(now, true);
      return;
    }

    // Simultaneous open (RFC 9293 figure 8): the peer's SYN-ACK repeats the SYN we already
    // took, so the acceptability test would reject it; only its ACK matters.
    if (
      this.state === TcpState.SYN_RECEIVED &&
      !this.passive &&
      (f & (SYN | ACK | RST)) === (SYN | ACK) &&
      seg.seq === this.rcv.irs
    ) {
      if (!(seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndMax))) {
        this.sendReset(seg.ack);
        return;
      }
      this.sndUna = seg.ack;
      this.sndWnd = seg.window << this.sndShift;
      this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      this.rttTiming = false;
      this.rtxDeadline = NONE;
      this.establish(now);
      this.rcv.ackNow = true;
      this.output(now);
      return;
    }

    // PAWS (RFC 7323 §5.3): a timestamp older than TS.Recent marks an old duplicate.
    if (!(f & RST) && this.rcv.isOldDuplicate(seg, now)) {
      this.counters.pawsDrops++;
      this.sendAck(now);
      return;
    }

    const seq = seg.seq;
    if (!this.rcv.acceptable(seq, segLen)) {
      if (f & RST) return;
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
    this.rcv.updateTimestamp(seg, (f & ACK) !== 0 && seqGt(seg.ack, this.sndMax), now);

    // RST (RFC 5961 §3.2): exact match resets, in-window gets a challenge ACK. After the peer's
    // FIN, a reset one below RCV.NXT resets too: a peer that closed and then resets in reply
    // to our data takes its sequence number from our ACK, which did not cover its FIN yet
    // (Linux's tcp_reset_check accepts the same).
    if (f & RST) {
      const afterFin =
        seq === seqAdd(this.rcv.nxt, -1) &&
        (this.state === TcpState.CLOSE_WAIT ||
          this.state === TcpState.LAST_ACK ||
          this.state === TcpState.CLOSING);
      if (seq !== this.rcv.nxt && !afterFin) {
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

    if (this.state === TcpState.SYN_RECEIVED) {
      if (!(seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndMax))) {
        this.sendReset(seg.ack);
        return;
      }
      if (!this.tsEnabled && this.rttTiming) this.rto.sample(now - this.rttStart);
      this.rttTiming = false;
      this.sndWnd = seg.window << this.sndShift;
      this.maxSndWnd = Math.max(this.maxSndWnd, this.sndWnd);
      this.sndWl1 = seq;
      this.sndWl2 = seg.ack;
      this.establish(now);
    }

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
    if (seqGt(ack, this.sndMax)) {
      if (this.config.ackUnsentAck) this.challengeAck(now);
      return false;
    }
    if (seqLt(ack, seqAdd(this.sndUna, -this.maxSndWnd))) {
      this.challengeAck(now);
      return false;
    }
    if (this.state === TcpState.TIME_WAIT) return true;

    let newSack = false;
    this.sackedBefore = this.scoreboard.sackedBytes;
    // Holes resent after the first hole's resend: [laterFrom, HighRxt). What of them the peer
    // holds before this ACK, to tell whether this ACK reports one of them as arrived.
    const watchLater = this.inRecovery && this.rtxMarkValid && seg.sackCount > 0;
    const laterFrom = watchLater ? this.firstHoleEnd() : 0;
    const laterBefore =
      watchLater && seqLt(laterFrom, this.highRxt)
        ? this.scoreboard.sackedIn(laterFrom, this.highRxt)
        : -1;
    if (this.sackEnabled && seg.sackCount > 0) {
      for (let i = 0; i < seg.sackCount; i++) {
        if (
          this.scoreboard.add(
            seg.sackBlocks[2 * i],
            seg.sackBlocks[2 * i + 1],
            seqMax(ack, this.sndUna),
            this.sndMax,
          )
        ) {
          newSack = true;
        }
      }
    }

    // A retransmission of the first hole is lost when data sent after it arrives first: a full
    // segment of new data sent after it, or a hole resent after it, is SACKed. That is RACK
    // (RFC 8985) in recovery, where its reorder window is 0, told by sequence instead of time:
    // resend the holes again.
    if (
      newSack &&
      this.inRecovery &&
      this.rtxMarkValid &&
      ack === this.sndUna &&
      this.scoreboard.count > 0 &&
      (seqGe(this.scoreboard.highest, seqAdd(this.rtxMark, this.effMss)) ||
        (laterBefore >= 0 && this.scoreboard.sackedIn(laterFrom, this.highRxt) > laterBefore))
    ) {
      this.rtxMarkValid = false;
      this.highRxt = this.sndUna;
      this.counters.lostRetransmits++;
    }

    const window = seg.window << this.sndShift;
    if (seqGt(ack, this.sndUna)) {
      this.onNewAck(seg, ack, now);
    } else if (
      ack === this.sndUna &&
      this.sndUna !== this.sndMax &&
      ((seg.dataLength === 0 && !(seg.flags & FIN) && window === this.sndWnd) || newSack)
    ) {
      this.onDupAck(now);
    }

    // Window update (RFC 9293: only from segments not older than the last update).
    if (
      seqLe(this.sndUna, ack) &&
      (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, ack)))
    ) {
      const opened = this.sndWnd === 0 && window > 0;
      this.sndWnd = window;
      this.sndWl1 = seg.seq;
      this.sndWl2 = ack;
      if (window > this.maxSndWnd) this.maxSndWnd = window;
      if (opened) {
        this.persistDeadline = NONE;
        this.persistBackoff = 0;
      }
    }
    this.persistProbes = 0;

    // Our FIN acknowledged?
    if (this.finSent && seqGt(this.sndUna, this.finSeq)) {
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

  /**
   * Whether an ACK may grow cwnd: always, unless config.cwndLimitedGrowth, where growth needs a
   * flight that used the window (RFC 7661: an application-limited sender does not earn a larger
   * cwnd): in slow start at least half of it, as Linux's tcp_is_cwnd_limited, else all but one
   * segment.
   */
  private cwndLimited(flight: number, mss: number): boolean {
    if (!this.config.cwndLimitedGrowth) return true;
    // The largest flight of the current window (Linux's max_packets_out): a window starts
    // when the data outstanding at the previous start is acknowledged.
    if (flight > this.maxFlight || seqGe(this.sndUna, this.flightWindowEnd)) {
      this.maxFlight = flight;
      this.flightWindowEnd = this.sndMax;
    }
    const cwnd = this.cc.cwnd;
    return cwnd < this.cc.ssthresh ? cwnd < 2 * this.maxFlight : this.maxFlight + mss > cwnd;
  }

  private onNewAck(seg: Segment, ack: number, now: number): void {
    const dataAcked = Math.min(Math.max(0, seqDiff(ack, this.sndBufSeq)), this.sendBuffer.length);
    if (dataAcked > 0) {
      this.sendBuffer.drop(dataAcked);
      this.sndBufSeq = seqAdd(this.sndBufSeq, dataAcked);
    }
    const flightBefore = seqDiff(this.sndMax, this.sndUna);
    const mayGrow = this.cwndLimited(flightBefore, this.effMss);
    const unaBefore = this.sndUna;
    this.sndUna = ack;
    if (this.mtuProbing && seqGe(ack, this.mtuProbeEnd)) this.mtuProbeAcked();
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    if (seqLt(this.highRxt, ack)) this.highRxt = ack;
    this.scoreboard.advance(ack);
    // What this ACK newly delivers, acknowledged or SACKed (data SACKed before counts once).
    const delivered = seqDiff(ack, unaBefore) + this.scoreboard.sackedBytes - this.sackedBefore;

    // RTT sample: timestamps when negotiated (valid even for retransmissions), else Karn timing.
    if (this.tsEnabled) {
      if (seg.hasTimestamps && seg.tsEcr !== 0) this.sampleTs(seg, now);
    } else if (this.rttTiming && seqGe(ack, this.rttSeq)) {
      this.rto.sample(now - this.rttStart);
      this.rttTiming = false;
    }
    this.rto.resetBackoff();
    this.retries = 0;

    const mss = this.effMss;
    if (this.inRecovery) {
      if (seqGe(ack, this.recoverSeq)) {
        this.inRecovery = false;
        this.cc.onRecoveryExit(seqDiff(this.sndMax, this.sndUna), mss);
      } else if (this.sackEnabled) {
        if (this.config.prr) this.prrReduce(delivered, true);
      } else {
        // NewReno partial ACK (RFC 6582 §3.2 step 5): resend the next hole, deflate.
        this.retransmitAt(this.sndUna, now);
        this.cc.cwnd = Math.max(mss, this.cc.cwnd - dataAcked) + (dataAcked >= mss ? mss : 0);
        this.rtxDeadline = this.rtxAt(now);
      }
    } else if (dataAcked > 0 && mayGrow) {
      // Without SACK, each duplicate ACK stood for one delivered segment (Linux's Reno "sacks").
      const grow = !this.config.deliveredGrowth
        ? dataAcked
        : this.sackEnabled
          ? delivered
          : seqDiff(ack, unaBefore) - this.dupAcks * mss;
      if (grow > 0) this.cc.onAck(grow, mss, now, this.rto.srtt);
    }
    this.dupAcks = 0;
    this.limitedTransmit = 0;
    this.tlpOutstanding = false;
    // The mark belonged to the retransmission of the old first hole, which this ACK covers. If
    // the new first hole was resent too, SND.MAX now bounds what was sent before that resend
    // (late, so never a false loss); if not, there is nothing to judge yet.
    this.rtxMarkValid = this.inRecovery && seqGt(this.highRxt, ack);
    if (this.rtxMarkValid) this.rtxMark = this.sndMax;
    // Progress: the user timeout counts from here for what is still unacknowledged.
    this.unackedSince = this.sndUna === this.sndMax ? NONE : now;
    this.rtxDeadline = this.sndUna === this.sndMax ? NONE : this.rtxAt(now);
    this.armProbe(now);
    if (dataAcked > 0) this.host.event(this, TcpEvent.SendSpace);
  }

  /**
   * Tail loss probe (RFC 8985 §7.2): with SACK and an RTT estimate, probe after 2*SRTT instead
   * of waiting a full RTO, so a lost tail is repaired by SACK recovery rather than a timeout.
   */
  private armProbe(now: number): void {
    this.probeDeadline = NONE;
    if (
      !this.sackEnabled ||
      this.inRecovery ||
      this.tlpOutstanding ||
      !this.rto.hasSample ||
      this.sndUna === this.sndMax ||
      this.retries > 0
    ) {
      return;
    }
    // A single segment in flight may wait for the peer's delayed ACK.
    const single = seqDiff(this.sndMax, this.sndUna) <= this.effMss;
    let pto = 2 * this.rto.srtt;
    if (this.config.lossProbe === 'linux') pto += single ? LINUX_RTO_MIN : LINUX_TIMEOUT_MIN;
    else pto = Math.max(pto + (single ? this.config.delayedAck : 0), 10);
    // Due after the RTO: the probe goes in the RTO's place, as Linux and RFC 8985's drafts do
    // (a probe neither backs off the timer nor collapses cwnd; the RTO re-arms after it).
    this.probeDeadline = Math.min(now + pto, this.rtxDeadline);
  }

  private sendTailProbe(now: number): void {
    if (!this.canSendData() || this.sndUna === this.sndMax || this.inRecovery) return;
    this.tlpOutstanding = true;
    this.counters.tailProbes++;
    // New data if the peer's window allows (RFC 8985 §7.3), else the last segment again.
    const nxt = this.sndNxt;
    const avail = seqDiff(this.dataEnd(), nxt);
    if (avail > 0 && nxt === this.sndMax && seqDiff(seqAdd(this.sndUna, this.sndWnd), nxt) > 0) {
      const len = Math.min(
        avail,
        this.segmentRoom(),
        seqDiff(seqAdd(this.sndUna, this.sndWnd), nxt),
      );
      const fin = this.finQueued && len === avail;
      this.transmitData(nxt, len, fin, now);
      this.sndNxt = seqAdd(nxt, len + (fin ? 1 : 0));
      if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
    } else if (this.finAlone && this.finSent) {
      // The last segment sent was a bare FIN: that is the one to repeat (RFC 8985 §7.3).
      this.retransmitAt(this.finSeq, now, 0);
    } else {
      // The last segment actually sent (never beyond SND.MAX: unsent data is not "retransmitted").
      const end = seqMin(this.sndMax, this.dataEnd());
      const start = seqMax(this.sndUna, seqAdd(end, -this.effMss));
      this.retransmitAt(start, now, seqDiff(end, start));
    }
    this.rtxDeadline = this.rtxAt(now);
  }

  private onDupAck(now: number): void {
    this.counters.dupAcksIn++;
    this.dupAcks++;
    const mss = this.effMss;
    if (!this.inRecovery) {
      const sb = this.scoreboard;
      const flight = seqDiff(this.sndMax, this.sndUna);
      // DupThresh 3 (RFC 5681), or SACKed data beyond it (RFC 6675); with fewer than four
      // segments out, or once a tail loss probe drew SACK information, a single SACKed segment
      // is enough (early retransmit, RFC 5827 §3.1; RACK-TLP, RFC 8985): otherwise only a
      // timeout would repair it.
      const lost =
        this.dupAcks >= 3 ||
        (this.sackEnabled &&
          (sb.sackedBytes > 2 * mss ||
            (sb.sackedBytes > 0 && (this.tlpOutstanding || flight < 4 * mss))));
      // RFC 6582 §3.2 step 1: no new recovery for duplicates of data sent before the last one.
      if (lost && seqGe(this.sndUna, this.recoverSeq)) this.enterRecovery(now);
      else if (this.dupAcks <= 2) this.limitedTransmit = this.dupAcks * mss; // RFC 3042
    } else if (!this.sackEnabled) {
      this.cc.cwnd += mss; // NewReno inflation per further duplicate
    } else if (this.config.prr) {
      this.prrReduce(this.scoreboard.sackedBytes - this.sackedBefore, false);
    }
  }

  /**
   * RFC 6937 on one ACK during SACK recovery, as Linux's tcp_cwnd_reduction (in segments, as
   * Linux counts): while the pipe exceeds ssthresh, send in proportion to what was delivered
   * (ssthresh / RecoverFS of it); below ssthresh, slow-start-reduction-bound (PRR-SSRB) back up
   * to it, one segment more than delivered when SND.UNA advanced. The first retransmission
   * always goes out (RFC 6937 §3.1: prr_out 0).
   */
  private prrReduce(deliveredBytes: number, unaAdvanced: boolean): void {
    const mss = this.effMss;
    const delivered = Math.ceil(Math.max(0, deliveredBytes) / mss);
    if (delivered === 0 || this.prrRecoverFs === 0) return;
    this.prrDelivered += delivered;
    const ssthresh = Math.max(2, Math.floor(this.cc.ssthresh / mss));
    const pipe = Math.ceil(this.pipe() / mss);
    const delta = ssthresh - pipe;
    let sndcnt: number;
    if (delta < 0) {
      sndcnt =
        Math.floor((ssthresh * this.prrDelivered + this.prrRecoverFs - 1) / this.prrRecoverFs) -
        this.prrOut;
    } else {
      sndcnt = Math.max(this.prrDelivered - this.prrOut, delivered) + (unaAdvanced ? 1 : 0);
      sndcnt = Math.min(delta, sndcnt);
    }
    sndcnt = Math.max(sndcnt, this.prrOut > 0 ? 0 : 1);
    this.cc.cwnd = (pipe + sndcnt) * mss;
  }

  private enterRecovery(now: number): void {
    if (this.mtuProbing && seqGe(this.sndUna, this.mtuProbeSeq)) this.mtuProbeLost();
    const mss = this.effMss;
    const flight = seqDiff(this.sndMax, this.sndUna);
    const priorCwnd = this.cc.cwnd;
    this.cc.onCongestion(flight, mss, now);
    this.inRecovery = true;
    this.recoverSeq = this.sndMax;
    this.rttTiming = false;
    this.limitedTransmit = 0;
    this.probeDeadline = NONE;
    this.counters.fastRetransmits++;
    if (this.sackEnabled) {
      this.highRxt = this.sndUna;
      if (this.config.prr) {
        // RFC 6937 §3: RecoverFS; Linux uses the cwnd before the reduction (prior_cwnd).
        this.prrDelivered = 0;
        this.prrOut = 0;
        this.prrRecoverFs = Math.max(1, Math.ceil(priorCwnd / mss));
        this.prrReduce(this.scoreboard.sackedBytes - this.sackedBefore, false);
      } else {
        this.cc.cwnd = this.cc.ssthresh;
      }
      // RFC 6675 §5 step 4.3: retransmit the first lost segment now, whatever the pipe says.
      const end = this.scoreboard.nextSackedStart(this.sndUna, this.sndMax);
      const len = Math.min(seqDiff(end, this.sndUna), mss);
      if (len > 0) {
        this.retransmitAt(this.sndUna, now, len);
        this.highRxt = seqAdd(this.sndUna, len);
        this.rtxMark = this.sndMax;
        this.rtxMarkValid = true;
      }
    } else {
      this.retransmitAt(this.sndUna, now);
      this.cc.cwnd = this.cc.ssthresh + 3 * mss;
    }
    this.rtxDeadline = this.rtxAt(now);
  }

  /** Segment text and FIN (sixth to eighth steps). */
  private processText(seg: Segment, now: number): void {
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
        if (this.finSent && seqGt(this.sndUna, this.finSeq)) this.enterTimeWait(now);
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
    this.rtxDeadline = NONE;
    this.probeDeadline = NONE;
    this.persistDeadline = NONE;
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

  private isSynchronized(): boolean {
    return this.state >= TcpState.SYN_RECEIVED;
  }

  private canSendData(): boolean {
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
   * Sends what the windows allow: SACK-recovery retransmissions, new (or, after a timeout,
   * resent) data, the FIN, and a pure ACK if one is owed and nothing else carried it.
   * `oneSegment` limits it to a single segment (the retransmission after a timeout).
   */
  private output(now: number, oneSegment = false): void {
    if (this.state === TcpState.TIME_WAIT) {
      if (this.rcv.ackNow) this.sendAck(now);
      return;
    }
    if (!this.canSendData()) {
      if (this.rcv.ackNow && this.isSynchronized()) this.sendAck(now);
      return;
    }
    let sent = 0;
    if (this.inRecovery && this.sackEnabled) sent = this.sackRecoveryOutput(now);
    else {
      while (this.sendNextSegment(now)) {
        sent++;
        if (oneSegment) break;
      }
    }
    if (this.rcv.ackNow && sent === 0) this.sendAck(now);
    // RFC 8985 §7.2: (re)start the loss probe timer after sending.
    if (sent > 0 && !this.inRecovery && !oneSegment) this.armProbe(now);
    // Arm the persist timer when a zero window blocks queued data and nothing is in flight.
    if (
      this.sndWnd === 0 &&
      this.sndUna === this.sndMax &&
      this.rtxDeadline === NONE &&
      this.persistDeadline === NONE &&
      (seqLt(this.sndNxt, this.dataEnd()) || (this.finQueued && !this.finSent))
    ) {
      this.persistDeadline = now + this.persistInterval();
    }
  }

  private dataEnd(): number {
    return seqAdd(this.sndBufSeq, this.sendBuffer.length);
  }

  /** Sends one segment at SND.NXT if the windows, Nagle and SWS avoidance allow. */
  private sendNextSegment(now: number): boolean {
    if (this.sackEnabled && seqLt(this.sndNxt, this.sndMax)) {
      this.sndNxt = this.scoreboard.skipSacked(this.sndNxt);
    }
    const nxt = this.sndNxt;
    const avail = Math.max(0, seqDiff(this.dataEnd(), nxt));
    const finPending = this.finQueued && seqLe(nxt, this.finSeq);
    if (avail === 0 && !finPending) return false;
    if (this.sndMax === this.sndUna && avail > 0) this.restartAfterIdle(now);
    const flight = seqDiff(nxt, this.sndUna);
    const cwnd = this.inRecovery ? this.cc.cwnd : this.cc.cwnd + this.limitedTransmit;
    // In SACK recovery the caller already checked cwnd against the pipe (RFC 6675 §5 step C):
    // data SACKed or lost no longer counts, so only the peer's window limits new data here.
    const usable =
      this.inRecovery && this.sackEnabled
        ? seqDiff(seqAdd(this.sndUna, this.sndWnd), nxt)
        : Math.min(this.sndWnd, cwnd) - flight;
    const room = this.segmentRoom();
    // Outside an RFC 4821 search (nearly always) this costs one compare, not a call.
    const probe = this.mtuSearchHigh === 0 ? 0 : this.maybeMtuProbe(nxt, avail, usable, now);
    if (probe > 0) {
      this.transmitData(nxt, probe, false, now);
      this.sndNxt = seqAdd(nxt, probe);
      this.sndMax = this.sndNxt;
      return true;
    }
    let len = Math.min(avail, room);
    if (this.sackEnabled && seqLt(nxt, this.sndMax)) len = this.holeSegment(nxt, len);
    let fin = finPending && len === avail;
    if (len > usable) {
      if (usable <= 0) return false;
      // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a window-limited partial segment goes out
      // only when nothing is in flight or it is at least half the largest window offered.
      if (flight > 0 && usable < this.maxSndWnd >>> 1) return false;
      len = usable;
      fin = false;
    }
    if (len === 0 && !fin) return false;
    // Nagle (RFC 896/RFC 1122 §4.2.3.4): one small new segment in flight at a time.
    if (len < room && !fin && !this.noDelay && flight > 0 && seqGe(nxt, this.sndMax)) {
      return false;
    }
    this.transmitData(nxt, len, fin, now);
    this.sndNxt = seqAdd(nxt, len + (fin ? 1 : 0));
    if (seqGt(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
    return true;
  }

  /** RFC 6675 §5: while cwnd - pipe allows, resend lost holes first, then new data. */
  private sackRecoveryOutput(now: number): number {
    const sb = this.scoreboard;
    const mss = this.effMss;
    let sent = 0;
    for (let guard = 0; guard < 1024; guard++) {
      if (this.cc.cwnd - this.pipe() < mss) break;
      const from = seqMax(this.highRxt, this.sndUna);
      const hole = sb.skipSacked(from);
      if (sb.count > 0 && seqLt(hole, sb.highest)) {
        const len = this.holeSegment(hole, mss);
        this.retransmitAt(hole, now, len);
        this.highRxt = seqAdd(hole, len);
        if (hole === this.sndUna) {
          this.rtxMark = this.sndMax;
          this.rtxMarkValid = true;
        }
        sent++;
        continue;
      }
      if (!this.sendNextSegment(now)) break;
      sent++;
    }
    return sent;
  }

  /** End of the first hole's resend: the hole at SND.UNA, up to one MSS. */
  private firstHoleEnd(): number {
    const end = this.scoreboard.nextSackedStart(this.sndUna, this.sndMax);
    return seqMin(end, seqAdd(this.sndUna, this.effMss));
  }

  /**
   * How much of a resend at the hole `seq` to send, at most `max`: up to the next SACKed byte
   * (RFC 6675 NextSeg), except at the tail. When the SACKed bytes after the hole run to
   * SND.MAX and fit in the same segment, the segment goes out whole, SACKed bytes and all
   * (NextSeg asks only that it include the hole): a runt would save those bytes and cost a
   * segment, and it is what a peer that SACKed part of our last segment expects again (Linux
   * resends whole segments).
   */
  private holeSegment(seq: number, max: number): number {
    const sb = this.scoreboard;
    const end = sb.nextSackedStart(seq, this.sndMax);
    const len = Math.min(seqDiff(end, seq), max);
    if (len === max || end === this.sndMax) return len;
    const blockEnd = sb.skipSacked(end);
    return blockEnd === this.sndMax && seqDiff(blockEnd, seq) <= max ? seqDiff(blockEnd, seq) : len;
  }

  /**
   * RFC 6675 SetPipe, simplified: everything above the highest SACKed byte is in flight;
   * unSACKed bytes below it count as lost unless already retransmitted (below HighRxt).
   */
  private pipe(): number {
    const sb = this.scoreboard;
    if (sb.count === 0) return seqDiff(this.sndNxt, this.sndUna);
    const high = sb.highest;
    let pipe = Math.max(0, seqDiff(this.sndNxt, high));
    if (seqGt(this.highRxt, this.sndUna)) {
      const rxEnd = seqLt(this.highRxt, high) ? this.highRxt : high;
      pipe += seqDiff(rxEnd, this.sndUna) - sb.sackedIn(this.sndUna, rxEnd);
    }
    return pipe;
  }

  /** Resends up to one MSS (or `len`) of data at `seq` (< SND.MAX) without moving SND.NXT. */
  private retransmitAt(seq: number, now: number, len = this.effMss): void {
    // Only what was sent before: never past SND.MAX.
    const avail = Math.max(0, seqDiff(seqMin(this.dataEnd(), this.sndMax), seq));
    const n = Math.min(len, avail, this.segmentRoom());
    const fin = this.finSent && seqAdd(seq, n) === this.finSeq && n === avail;
    if (n === 0 && !fin) return;
    this.transmitData(seq, n, fin, now);
  }

  private transmitData(seq: number, len: number, fin: boolean, now: number): void {
    const retransmit = seqLt(seq, this.sndMax);
    if (this.inRecovery) this.prrOut++;
    if (retransmit) {
      this.counters.retransmits++;
      if (this.rttTiming && seqLe(seq, this.rttSeq)) this.rttTiming = false; // Karn
    } else if (!this.rttTiming && !this.tsEnabled && len > 0) {
      this.rttTiming = true;
      this.rttSeq = seqAdd(seq, len);
      this.rttStart = now;
    }
    const seg = this.out;
    clearSegment(seg);
    seg.seq = seq;
    seg.ack = this.rcv.nxt;
    seg.flags = ACK | (fin ? FIN : 0);
    if (len > 0 && seqAdd(seq, len) === this.dataEnd()) seg.flags |= PSH;
    seg.dataLength = len;
    if (fin) this.finSent = true;
    if (!retransmit) this.finAlone = fin && len === 0;
    this.fillAckFields(seg, now);
    if (len > 0) this.lastDataSent = now;
    if (this.unackedSince === NONE) this.unackedSince = now;
    if (this.rtxDeadline === NONE) this.rtxDeadline = this.rtxAt(now);
    this.persistDeadline = NONE;
    this.emit(seg);
  }

  /**
   * Payload a data segment sent now may carry: the MSS less the SACK option it will hold while
   * out-of-order data waits (RFC 2018 §3: the option counts against the segment, or it would
   * exceed what the path carries; Linux's tcp_current_mss does the same). Each queued chunk is
   * at most one block, so the bound is safe without building the blocks.
   */
  private segmentRoom(): number {
    if (!this.sackEnabled || this.rcv.heldChunks === 0) return this.effMss;
    const blocks = Math.min(this.rcv.heldChunks, this.tsEnabled ? 3 : MAX_SACK_BLOCKS);
    return Math.max(1, this.effMss - (SACK_OPTION_BASE + 8 * blocks));
  }

  /** Window, timestamps and SACK blocks for any segment carrying ACK; clears the ACK debt. */
  private fillAckFields(seg: Segment, now: number): void {
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
    seg.seq = this.sndMax;
    seg.ack = this.rcv.nxt;
    seg.flags = ACK;
    this.fillAckFields(seg, now);
    this.emit(seg);
  }

  /** Keepalive and zero-window probe: SEG.SEQ = SND.UNA - 1 draws an ACK from the peer. */
  private sendProbe(now: number): void {
    const seg = this.out;
    clearSegment(seg);
    seg.seq = seqAdd(this.sndUna, -1);
    seg.ack = this.rcv.nxt;
    seg.flags = ACK;
    this.fillAckFields(seg, now);
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

  private sendSyn(now: number, withAck: boolean): void {
    const seg = this.out;
    clearSegment(seg);
    seg.seq = this.iss;
    seg.flags = SYN | (withAck ? ACK : 0);
    seg.ack = withAck ? this.rcv.nxt : 0;
    seg.window = Math.min(0xffff, this.config.rcvBuf); // never scaled in a SYN
    seg.mss = this.config.mss;
    const c = this.config;
    // In a SYN-ACK only options the peer offered are echoed (RFC 7323, RFC 2018).
    if (c.windowScale && (!withAck || this.sndShiftOffered)) {
      seg.windowScale = this.rcv.offeredShift;
    }
    if (c.sack && (!withAck || this.sackEnabled)) seg.sackPermitted = true;
    if (c.timestamps && (!withAck || this.tsEnabled)) {
      seg.hasTimestamps = true;
      seg.tsVal = this.tsNow(now);
      seg.tsEcr = withAck && this.tsEnabled ? this.rcv.tsRecent : 0;
    }
    if (this.retries === 0 && !this.tsEnabled) {
      this.rttTiming = true;
      this.rttSeq = seqAdd(this.iss, 1);
      this.rttStart = now;
    }
    if (withAck) {
      this.rcv.lastAckSent = this.rcv.nxt;
      this.rcv.adv = seqMax(this.rcv.adv, seqAdd(this.rcv.nxt, seg.window));
    }
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    if (this.unackedSince === NONE) this.unackedSince = now;
    this.rtxDeadline = this.rtxAt(now);
    this.emit(seg);
  }

  /** Peer offered window scaling in its SYN (so a SYN-ACK must carry ours). */
  private sndShiftOffered = false;

  /**
   * RFC 5681 §4.1's restart window: data after more than an RTO without sending any finds the
   * ACK clock gone, so cwnd falls back to at most the initial window. Linux halves cwnd for each
   * RTO of idleness down to that window (tcp_cwnd_restart), and keeps 3/4 of the old cwnd in
   * ssthresh, so the connection slow-starts back to where it was.
   */
  private restartAfterIdle(now: number): void {
    const idle = now - this.lastDataSent;
    const rto = this.rto.rto;
    if (!this.config.slowStartAfterIdle || !(idle > rto) || this.inRecovery) return;
    this.lastDataSent = now;
    const cc = this.cc;
    const restart = Math.min(initialWindow(this.effMss), cc.cwnd);
    if (cc.cwnd <= restart) return;
    cc.ssthresh = Math.max(cc.ssthresh, (3 * cc.cwnd) >>> 2);
    let cwnd = cc.cwnd;
    for (let n = Math.floor(idle / rto); n > 0 && cwnd > restart; n--) cwnd = Math.floor(cwnd / 2);
    cc.cwnd = Math.max(cwnd, restart);
    this.counters.idleRestarts++;
  }

  /** When the retransmission timer armed now fires: after the RTO, never past the user timeout. */
  private rtxAt(now: number): number {
    const at = now + this.rto.rto;
    if (this.userTimeout === 0 || this.unackedSince === NONE) return at;
    return Math.max(now, Math.min(at, this.unackedSince + this.userTimeout));
  }

  /** The user timeout has run out for what is waiting to be acknowledged. */
  private userTimedOut(now: number): boolean {
    return (
      this.userTimeout > 0 &&
      this.unackedSince !== NONE &&
      now - this.unackedSince >= this.userTimeout
    );
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
    seg.seq = this.sndMax;
    seg.ack = this.rcv.nxt;
    seg.flags = RST | ACK;
    this.fillAckFields(seg, now);
    this.emit(seg);
  }

  /** <SEQ=seq><CTL=RST>: the reply to an unacceptable segment (RFC 9293 §3.10.7, no ACK). */
  private sendReset(seq: number): void {
    const seg = this.out;
    clearSegment(seg);
    seg.seq = seq;
    seg.flags = RST;
    this.emit(seg);
  }

  private emit(seg: Segment): void {
    this.counters.segmentsOut++;
    this.host.transmit(this, seg);
  }

  // ===================================================================== helpers

  private initSendSpace(iss: number): void {
    this.iss = iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.sndMax = this.iss;
    this.sndBufSeq = seqAdd(this.iss, 1);
    this.recoverSeq = this.iss;
    this.highRxt = this.iss;
    if (!this.tsOffsetFixed) this.tsOffset = Math.imul(this.iss, 0x9e3779b1) >>> 0;
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

  private tsNow(now: number): number {
    return (Math.floor(now) + this.tsOffset) >>> 0;
  }

  private sampleTs(seg: Segment, now: number): void {
    // An echo older than the last timeout's retransmission is the original transmission's
    // timestamp reflected by a duplicate: it would inflate the RTT by the whole stall.
    if (this.tsRtoFloorSet && seqLt(seg.tsEcr, this.tsRtoFloor)) return;
    const rtt = seqDiff(this.tsNow(now), seg.tsEcr);
    if (rtt >= 0) this.rto.sample(rtt);
  }

  /** Options from the peer's SYN or SYN-ACK (RFC 7323, RFC 2018, MSS). */
  private negotiate(seg: Segment, now: number): void {
    const c = this.config;
    this.peerMss = seg.mss > 0 ? seg.mss : DEFAULT_PEER_MSS;
    this.sndShiftOffered = seg.windowScale >= 0;
    if (c.windowScale && seg.windowScale >= 0) {
      this.sndShift = Math.min(14, seg.windowScale);
      this.rcv.shift = this.rcv.offeredShift;
    } else {
      this.sndShift = 0;
      this.rcv.shift = 0;
    }
    this.sackEnabled = c.sack && seg.sackPermitted;
    this.tsEnabled = c.timestamps && seg.hasTimestamps;
    if (this.tsEnabled) this.rcv.takeTimestamp(seg.tsVal, now);
    this.computeEffMss();
  }

  private computeEffMss(): void {
    const opt = this.tsEnabled ? TS_OPTION_BYTES : 0;
    this.effMss = Math.max(64, Math.min(this.peerMss, this.config.mss, this.pathMss) - opt);
    this.rcv.mss = Math.max(64, this.config.mss - opt);
  }

  private establish(now: number): void {
    this.state = TcpState.ESTABLISHED;
    this.unackedSince = NONE;
    this.cc = makeCongestionControl(this.congestion, this.effMss, this.config.abcLimit);
    if (this.retries > 0) this.cc.cwnd = this.effMss; // RFC 5681 §3.1: IW 1 after a lost SYN
    this.retries = 0;
    this.rto.resetBackoff();
    this.recoverSeq = this.sndUna;
    this.highRxt = this.sndUna;
    this.lastRecv = now;
    if (this.keepAlive) this.keepaliveDeadline = now + this.keepIdle;
    this.host.event(this, TcpEvent.Established);
    if (this.finQueued && this.state === TcpState.ESTABLISHED) this.state = TcpState.FIN_WAIT_1;
  }

  private queueFin(): void {
    if (this.finQueued) return;
    this.finQueued = true;
    this.finSeq = this.dataEnd();
  }

  /** Enters CLOSED, clearing every timer, and reports how it ended (once). */
  private finish(event: TcpEvent): void {
    this.state = TcpState.CLOSED;
    this.rtxDeadline = NONE;
    this.probeDeadline = NONE;
    this.persistDeadline = NONE;
    this.keepaliveDeadline = NONE;
    this.timeWaitDeadline = NONE;
    this.rcv.clear();
    this.scoreboard.clear();
    this.reportClosed(event);
  }

  private reportClosed(event: TcpEvent): void {
    if (this.closedReported) return;
    this.closedReported = true;
    this.host.event(this, event);
  }
}
