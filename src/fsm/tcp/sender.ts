/**
 * The sending half of a connection: the send sequence space (RFC 9293 §3.3.1) over the send
 * buffer, what goes out when (windows, Nagle, sender SWS avoidance, the restart window after
 * idle), the retransmission timer with RFC 6298's estimator and the user timeout, congestion
 * control (NewReno or CUBIC, PRR), the SACK scoreboard and RFC 6675 recovery, RFC 8985's tail
 * loss probe and lost-retransmission detection, zero-window probes, and path MTU changes with
 * RFC 4821's black-hole search. The connection feeds it ACKs and timer expiries and asks it to
 * send; states are the connection's business.
 */
import { initialWindow, makeCongestionControl, type CongestionControl } from '../congestion.js';
import { RtoEstimator } from '../rto.js';
import { SackScoreboard } from '../sack.js';
import { ACK, FIN, MAX_SACK_BLOCKS, PSH, type Segment } from '../segment.js';
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
  type TcpConfig,
  type TcpHost,
} from './config.js';
import type { TcpConnection } from './connection.js';

export class TcpSender {
  // --- send sequence space ---
  iss = 0;
  una = 0;
  /** SND.NXT: next sequence number to send (moves back to SND.UNA on a retransmission timeout). */
  nxt = 0;
  /** SND.MAX: highest sequence number sent + 1. */
  max = 0;
  /** The peer's window in bytes (already scaled). */
  wnd = 0;
  wl1 = 0;
  wl2 = 0;
  /** Largest window the peer ever offered (RFC 5961's MAX.SND.WND, sender SWS avoidance). */
  maxWnd = 0;
  /** The peer's window scale (Snd.Wind.Shift). */
  shift = 0;
  /** Sequence number of the first byte held in the send buffer. */
  private bufSeq = 0;
  readonly buffer: SendBuffer;
  /** The user closed the sending side: FIN goes after the buffered data, at `finSeq`. */
  finQueued = false;
  finSeq = 0;
  finSent = false;
  /** The most recent new segment was a FIN without data (what a tail loss probe repeats). */
  private finAlone = false;

  // --- segment size ---
  /** Payload bytes per segment we send (peer MSS, our MTU, minus the timestamp option). */
  mss: number;
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

  // --- retransmission and congestion ---
  readonly rto: RtoEstimator;
  cc: CongestionControl;
  private rttTiming = false;
  private rttSeq = 0;
  private rttStart = 0;
  /** Our timestamp when the last retransmission timeout fired (see sampleTs). */
  private tsRtoFloor = 0;
  private tsRtoFloorSet = false;
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
  /** Largest flight in the current window, and where that window ends (cwndLimitedGrowth). */
  private maxFlight = 0;
  private flightWindowEnd = 0;
  /** Since when the oldest unacknowledged data or SYN has been waiting; NONE when nothing is. */
  private unackedSince = NONE;
  /** When data (new or resent) last left; the idle restart counts from here. */
  private lastDataSent = -Infinity;
  private persistBackoff = 0;
  private persistProbes = 0;

  // --- timer deadlines (ms, NONE when unarmed) ---
  rtxDeadline = NONE;
  /** Tail loss probe timeout (RFC 8985), earlier than the RTO while a tail may be lost. */
  probeDeadline = NONE;
  persistDeadline = NONE;

  constructor(
    private readonly config: TcpConfig,
    private readonly host: TcpHost,
    private readonly conn: TcpConnection,
  ) {
    this.buffer = new SendBuffer(config.sndBuf);
    this.rto = new RtoEstimator(config.rto);
    this.mss = Math.min(DEFAULT_PEER_MSS, config.mss);
    this.cc = makeCongestionControl(config.congestion, this.mss, config.abcLimit);
  }

  /** The send sequence space starts at ISS (nothing sent yet). */
  init(iss: number): void {
    this.iss = iss >>> 0;
    this.una = this.iss;
    this.nxt = this.max = this.iss;
    this.bufSeq = seqAdd(this.iss, 1);
    this.recoverSeq = this.iss;
    this.highRxt = this.iss;
  }

  /** Sets the MSS from the peer's, ours and the path's, less the timestamp option's bytes. */
  computeMss(): void {
    const opt = this.conn.tsEnabled ? TS_OPTION_BYTES : 0;
    this.mss = Math.max(64, Math.min(this.peerMss, this.config.mss, this.pathMss) - opt);
  }

  /** Queues application data; returns the bytes accepted. */
  push(src: Uint8Array, off: number, len: number): number {
    return this.buffer.push(src, off, len);
  }

  /** Copies `len` bytes of send data starting at sequence number `seq` into `out[off..]`. */
  copyPayload(seq: number, len: number, out: Uint8Array, off: number): void {
    this.buffer.copy(seqDiff(seq, this.bufSeq), len, out, off);
  }

  /** Nothing is unacknowledged and nothing waits to be sent. */
  get idle(): boolean {
    return this.una === this.max && this.buffer.length === 0;
  }

  /** Our FIN was sent and acknowledged. */
  get finAcked(): boolean {
    return this.finSent && seqGt(this.una, this.finSeq);
  }

  /**
   * Our SYN (or SYN-ACK) left: SND.NXT and SND.MAX are past it, its round trip is timed unless
   * it is a retransmission (Karn) or timestamps will time it, and the retransmission timer runs.
   */
  synSent(now: number): void {
    if (this.retries === 0 && !this.conn.tsEnabled) {
      this.rttTiming = true;
      this.rttSeq = seqAdd(this.iss, 1);
      this.rttStart = now;
    }
    this.nxt = this.max = seqAdd(this.iss, 1);
    if (this.unackedSince === NONE) this.unackedSince = now;
    this.rtxDeadline = this.rtxAt(now);
  }

  /**
   * A SYN-cookie handshake: our SYN-ACK left without state (nothing to time or retransmit), the
   * cookie kept the peer's MSS.
   */
  statelessSynAckSent(peerMss: number): void {
    this.nxt = this.max = seqAdd(this.iss, 1);
    this.peerMss = peerMss;
  }

  /** The peer's window from `seg` (scaled as given), remembering where it came from. */
  takeWindow(seg: Segment, window: number, wl2: number): void {
    this.wnd = window;
    if (window > this.maxWnd) this.maxWnd = window;
    this.wl1 = seg.seq;
    this.wl2 = wl2;
  }

  /**
   * The handshake's round trip: from the SYN's timing (no timestamps), or, with `echo`, from
   * the timestamp the peer's SYN-ACK echoes.
   */
  synRtt(seg: Segment, now: number, echo: boolean): void {
    if (this.rttTiming && !this.conn.tsEnabled) this.rto.sample(now - this.rttStart);
    else if (echo && this.conn.tsEnabled && seg.hasTimestamps && seg.tsEcr !== 0)
      this.sampleTs(seg, now);
    this.rttTiming = false;
  }

  /** The peer acknowledged our SYN with `ack` (the ACK is not processed further). */
  synAcked(ack: number): void {
    this.una = ack;
    this.rttTiming = false;
    this.rtxDeadline = NONE;
  }

  /** A retransmission of the SYN: backed-off timer, no timing (Karn). */
  synRetransmit(): void {
    this.retries++;
    this.rto.backOff();
    this.rttTiming = false;
    this.conn.counters.retransmits++;
  }

  /**
   * The handshake completed: congestion control starts afresh with the controller the user
   * chose (RFC 5681 §3.1: an initial window of one segment after a lost SYN).
   */
  established(): void {
    this.unackedSince = NONE;
    this.cc = makeCongestionControl(this.conn.congestion, this.mss, this.config.abcLimit);
    if (this.retries > 0) this.cc.cwnd = this.mss;
    this.retries = 0;
    this.rto.resetBackoff();
    this.recoverSeq = this.una;
    this.highRxt = this.una;
  }

  /** Switches the congestion controller, keeping cwnd and ssthresh (see TcpConnection). */
  setCongestion(kind: TcpConfig['congestion']): void {
    if (this.cc.name === kind) return;
    const { cwnd, ssthresh } = this.cc;
    this.cc = makeCongestionControl(kind, this.mss, this.config.abcLimit);
    this.cc.cwnd = cwnd;
    this.cc.ssthresh = ssthresh;
  }

  /** The user timeout changed: a running retransmission timer is clamped to it. */
  userTimeoutChanged(now: number): void {
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
    const before = this.mss;
    this.computeMss();
    if (this.mss >= before || !this.conn.isSynchronized() || this.una === this.max) return;
    this.conn.counters.pathMtuRetransmits++;
    this.nxt = this.una;
    this.highRxt = this.una;
    this.rttTiming = false;
    this.conn.output(now);
  }

  /**
   * The retransmission timer fired in a synchronized state: go back N. Returns false when the
   * retries (or the user timeout) ran out: the connection then gives up.
   */
  onRetransmitTimeout(now: number): boolean {
    if (this.una === this.max) return true;
    if (this.retries >= this.config.dataRetries || this.userTimedOut(now)) return false;
    this.retries++;
    this.rto.backOff();
    this.probeDeadline = NONE;
    if (this.mtuProbing && seqLt(this.una, this.mtuProbeEnd)) this.mtuProbeLost();
    this.blackholeCheck();
    this.limitedTransmit = 0;
    this.tsRtoFloor = this.conn.tsNow(now);
    this.tsRtoFloorSet = true;
    const flight = seqDiff(this.max, this.una);
    this.cc.onRto(flight, this.mss, now);
    this.inRecovery = false;
    this.dupAcks = 0;
    this.recoverSeq = this.max;
    this.rttTiming = false;
    // Go back N (RFC 5681 §3.1/RFC 6298 §5.4): resend from SND.UNA; SACKed ranges are skipped.
    // After a second timeout in a row the scoreboard is distrusted (the peer may have reneged).
    if (this.retries >= 2) this.scoreboard.clear();
    this.nxt = this.una;
    this.highRxt = this.una;
    this.conn.output(now, true);
    if (this.rtxDeadline === NONE) this.rtxDeadline = this.rtxAt(now);
    return true;
  }

  /**
   * The persist timer fired: send if the window opened, else a zero-window probe with backoff.
   * Returns false when unanswered probes (or the user timeout since `lastRecv`) ran out.
   */
  onPersistTimeout(now: number, lastRecv: number): boolean {
    if (!this.conn.canSendData()) return true;
    if (this.wnd > 0) {
      this.persistBackoff = 0;
      this.conn.output(now);
      return true;
    }
    const userTimeout = this.conn.userTimeout;
    if (
      this.persistProbes >= this.config.dataRetries ||
      (userTimeout > 0 && now - lastRecv >= userTimeout)
    ) {
      return false;
    }
    this.persistProbes++;
    // A zero-window probe: an old sequence number makes the peer answer with its window.
    this.conn.sendProbe(now);
    this.persistBackoff++;
    this.persistDeadline = now + this.persistInterval();
    return true;
  }

  /**
   * The ACK field of an acceptable segment (RFC 9293 §3.10.7.4 fifth step) once the
   * connection found SEG.ACK acceptable: SACK blocks, new data acknowledged or a duplicate,
   * and the window update.
   */
  onAck(seg: Segment, now: number): void {
    const ack = seg.ack;
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
    if (this.conn.sackEnabled && seg.sackCount > 0) {
      for (let i = 0; i < seg.sackCount; i++) {
        if (
          this.scoreboard.add(
            seg.sackBlocks[2 * i],
            seg.sackBlocks[2 * i + 1],
            seqMax(ack, this.una),
            this.max,
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
      ack === this.una &&
      this.scoreboard.count > 0 &&
      (seqGe(this.scoreboard.highest, seqAdd(this.rtxMark, this.mss)) ||
        (laterBefore >= 0 && this.scoreboard.sackedIn(laterFrom, this.highRxt) > laterBefore))
    ) {
      this.rtxMarkValid = false;
      this.highRxt = this.una;
      this.conn.counters.lostRetransmits++;
    }

    const window = seg.window << this.shift;
    if (seqGt(ack, this.una)) {
      this.onNewAck(seg, ack, now);
    } else if (
      ack === this.una &&
      this.una !== this.max &&
      ((seg.dataLength === 0 && !(seg.flags & FIN) && window === this.wnd) || newSack)
    ) {
      this.onDupAck(now);
    }

    // Window update (RFC 9293: only from segments not older than the last update).
    if (
      seqLe(this.una, ack) &&
      (seqLt(this.wl1, seg.seq) || (this.wl1 === seg.seq && seqLe(this.wl2, ack)))
    ) {
      const opened = this.wnd === 0 && window > 0;
      this.wnd = window;
      this.wl1 = seg.seq;
      this.wl2 = ack;
      if (window > this.maxWnd) this.maxWnd = window;
      if (opened) {
        this.persistDeadline = NONE;
        this.persistBackoff = 0;
      }
    }
    this.persistProbes = 0;
  }

  /**
   * Sends what the windows allow: SACK-recovery retransmissions, new (or, after a timeout,
   * resent) data and the FIN; returns the segments sent. `oneSegment` limits it to a single
   * segment (the retransmission after a timeout).
   */
  output(now: number, oneSegment: boolean): number {
    let sent = 0;
    if (this.inRecovery && this.conn.sackEnabled) sent = this.sackRecoveryOutput(now);
    else {
      while (this.sendNextSegment(now)) {
        sent++;
        if (oneSegment) break;
      }
    }
    // RFC 8985 §7.2: (re)start the loss probe timer after sending.
    if (sent > 0 && !this.inRecovery && !oneSegment) this.armProbe(now);
    // Arm the persist timer when a zero window blocks queued data and nothing is in flight.
    if (
      this.wnd === 0 &&
      this.una === this.max &&
      this.rtxDeadline === NONE &&
      this.persistDeadline === NONE &&
      (seqLt(this.nxt, this.dataEnd()) || (this.finQueued && !this.finSent))
    ) {
      this.persistDeadline = now + this.persistInterval();
    }
    return sent;
  }

  /** Every sender timer stops (TIME-WAIT, CLOSED). */
  stopTimers(): void {
    this.rtxDeadline = NONE;
    this.probeDeadline = NONE;
    this.persistDeadline = NONE;
  }

  /** The connection closed. */
  clear(): void {
    this.stopTimers();
    this.scoreboard.clear();
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
    const current = this.mss + (this.conn.tsEnabled ? TS_OPTION_BYTES : 0);
    if (current <= BLACKHOLE_MIN_MSS) return;
    if (this.mtuSearchHigh === 0) this.mtuCeiling = this.mtuSearchHigh = current;
    this.mtuProbing = false;
    this.pathMss = Math.max(BLACKHOLE_MIN_MSS, Math.min(ceiling, current >>> 1));
    this.mtuSearchLow = this.pathMss;
    this.computeMss();
    this.conn.counters.blackholeMssDrops++;
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
    if (now < this.mtuProbeAt || seqLt(nxt, this.max) || this.conn.rcv.heldChunks > 0) return 0;
    if (this.conn.state !== TcpState.ESTABLISHED && this.conn.state !== TcpState.CLOSE_WAIT)
      return 0;
    if (this.mtuSearchHigh - this.mtuSearchLow < MTU_PROBE_THRESHOLD) {
      // The search is over: try the first ceiling again after an interval (the path may heal).
      this.mtuSearchHigh = this.mtuCeiling;
      this.mtuProbeAt = now + MTU_REPROBE_INTERVAL;
      return 0;
    }
    const probeMss = (this.mtuSearchLow + this.mtuSearchHigh + 1) >>> 1;
    const len = probeMss - (this.conn.tsEnabled ? TS_OPTION_BYTES : 0);
    if (len <= this.mss || avail < len || usable < len) return 0;
    this.mtuProbing = true;
    this.mtuProbeSeq = nxt;
    this.mtuProbeEnd = seqAdd(nxt, len);
    this.mtuProbeMss = probeMss;
    this.conn.counters.mtuProbes++;
    return len;
  }

  /** The probe was acknowledged: segments of its size pass. */
  private mtuProbeAcked(): void {
    this.mtuProbing = false;
    this.mtuSearchLow = this.mtuProbeMss;
    this.pathMss = this.mtuProbeMss;
    this.computeMss();
    this.conn.counters.mtuProbesAcked++;
  }

  /** The probe's start is being resent (timeout or fast retransmit): its size does not pass. */
  private mtuProbeLost(): void {
    this.mtuProbing = false;
    this.mtuSearchHigh = this.mtuProbeMss - 1;
  }

  private persistInterval(): number {
    const base = Math.max(this.rto.rto, this.config.rto.minRto);
    return Math.min(this.config.rto.maxRto, base * 2 ** Math.min(this.persistBackoff, 16));
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
    if (flight > this.maxFlight || seqGe(this.una, this.flightWindowEnd)) {
      this.maxFlight = flight;
      this.flightWindowEnd = this.max;
    }
    const cwnd = this.cc.cwnd;
    return cwnd < this.cc.ssthresh ? cwnd < 2 * this.maxFlight : this.maxFlight + mss > cwnd;
  }

  private onNewAck(seg: Segment, ack: number, now: number): void {
    const dataAcked = Math.min(Math.max(0, seqDiff(ack, this.bufSeq)), this.buffer.length);
    if (dataAcked > 0) {
      this.buffer.drop(dataAcked);
      this.bufSeq = seqAdd(this.bufSeq, dataAcked);
    }
    const flightBefore = seqDiff(this.max, this.una);
    const mayGrow = this.cwndLimited(flightBefore, this.mss);
    const unaBefore = this.una;
    this.una = ack;
    if (this.mtuProbing && seqGe(ack, this.mtuProbeEnd)) this.mtuProbeAcked();
    if (seqLt(this.nxt, ack)) this.nxt = ack;
    if (seqLt(this.highRxt, ack)) this.highRxt = ack;
    this.scoreboard.advance(ack);
    // What this ACK newly delivers, acknowledged or SACKed (data SACKed before counts once).
    const delivered = seqDiff(ack, unaBefore) + this.scoreboard.sackedBytes - this.sackedBefore;

    // RTT sample: timestamps when negotiated (valid even for retransmissions), else Karn timing.
    if (this.conn.tsEnabled) {
      if (seg.hasTimestamps && seg.tsEcr !== 0) this.sampleTs(seg, now);
    } else if (this.rttTiming && seqGe(ack, this.rttSeq)) {
      this.rto.sample(now - this.rttStart);
      this.rttTiming = false;
    }
    this.rto.resetBackoff();
    this.retries = 0;

    const mss = this.mss;
    if (this.inRecovery) {
      if (seqGe(ack, this.recoverSeq)) {
        this.inRecovery = false;
        this.cc.onRecoveryExit(seqDiff(this.max, this.una), mss);
      } else if (this.conn.sackEnabled) {
        if (this.config.prr) this.prrReduce(delivered, true);
      } else {
        // NewReno partial ACK (RFC 6582 §3.2 step 5): resend the next hole, deflate.
        this.retransmitAt(this.una, now);
        this.cc.cwnd = Math.max(mss, this.cc.cwnd - dataAcked) + (dataAcked >= mss ? mss : 0);
        this.rtxDeadline = this.rtxAt(now);
      }
    } else if (dataAcked > 0 && mayGrow) {
      // Without SACK, each duplicate ACK stood for one delivered segment (Linux's Reno "sacks").
      const grow = !this.config.deliveredGrowth
        ? dataAcked
        : this.conn.sackEnabled
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
    if (this.rtxMarkValid) this.rtxMark = this.max;
    // Progress: the user timeout counts from here for what is still unacknowledged.
    this.unackedSince = this.una === this.max ? NONE : now;
    this.rtxDeadline = this.una === this.max ? NONE : this.rtxAt(now);
    this.armProbe(now);
    if (dataAcked > 0) this.host.event(this.conn, TcpEvent.SendSpace);
  }

  /**
   * Tail loss probe (RFC 8985 §7.2): with SACK and an RTT estimate, probe after 2*SRTT instead
   * of waiting a full RTO, so a lost tail is repaired by SACK recovery rather than a timeout.
   */
  private armProbe(now: number): void {
    this.probeDeadline = NONE;
    if (
      !this.conn.sackEnabled ||
      this.inRecovery ||
      this.tlpOutstanding ||
      !this.rto.hasSample ||
      this.una === this.max ||
      this.retries > 0
    ) {
      return;
    }
    // A single segment in flight may wait for the peer's delayed ACK.
    const single = seqDiff(this.max, this.una) <= this.mss;
    let pto = 2 * this.rto.srtt;
    if (this.config.lossProbe === 'linux') pto += single ? LINUX_RTO_MIN : LINUX_TIMEOUT_MIN;
    else pto = Math.max(pto + (single ? this.config.delayedAck : 0), 10);
    // Due after the RTO: the probe goes in the RTO's place, as Linux and RFC 8985's drafts do
    // (a probe neither backs off the timer nor collapses cwnd; the RTO re-arms after it).
    this.probeDeadline = Math.min(now + pto, this.rtxDeadline);
  }

  /** The loss probe timer fired: probe with new data, or the last segment again (RFC 8985 §7.3). */
  onProbeTimeout(now: number): void {
    if (!this.conn.canSendData() || this.una === this.max || this.inRecovery) return;
    this.tlpOutstanding = true;
    this.conn.counters.tailProbes++;
    // New data if the peer's window allows (RFC 8985 §7.3), else the last segment again.
    const nxt = this.nxt;
    const avail = seqDiff(this.dataEnd(), nxt);
    if (avail > 0 && nxt === this.max && seqDiff(seqAdd(this.una, this.wnd), nxt) > 0) {
      const len = Math.min(avail, this.segmentRoom(), seqDiff(seqAdd(this.una, this.wnd), nxt));
      const fin = this.finQueued && len === avail;
      this.transmitData(nxt, len, fin, now);
      this.nxt = seqAdd(nxt, len + (fin ? 1 : 0));
      if (seqGt(this.nxt, this.max)) this.max = this.nxt;
    } else if (this.finAlone && this.finSent) {
      // The last segment sent was a bare FIN: that is the one to repeat (RFC 8985 §7.3).
      this.retransmitAt(this.finSeq, now, 0);
    } else {
      // The last segment actually sent (never beyond SND.MAX: unsent data is not "retransmitted").
      const end = seqMin(this.max, this.dataEnd());
      const start = seqMax(this.una, seqAdd(end, -this.mss));
      this.retransmitAt(start, now, seqDiff(end, start));
    }
    this.rtxDeadline = this.rtxAt(now);
  }

  private onDupAck(now: number): void {
    this.conn.counters.dupAcksIn++;
    this.dupAcks++;
    const mss = this.mss;
    if (!this.inRecovery) {
      const sb = this.scoreboard;
      const flight = seqDiff(this.max, this.una);
      // DupThresh 3 (RFC 5681), or SACKed data beyond it (RFC 6675); with fewer than four
      // segments out, or once a tail loss probe drew SACK information, a single SACKed segment
      // is enough (early retransmit, RFC 5827 §3.1; RACK-TLP, RFC 8985): otherwise only a
      // timeout would repair it.
      const lost =
        this.dupAcks >= 3 ||
        (this.conn.sackEnabled &&
          (sb.sackedBytes > 2 * mss ||
            (sb.sackedBytes > 0 && (this.tlpOutstanding || flight < 4 * mss))));
      // RFC 6582 §3.2 step 1: no new recovery for duplicates of data sent before the last one.
      if (lost && seqGe(this.una, this.recoverSeq)) this.enterRecovery(now);
      else if (this.dupAcks <= 2) this.limitedTransmit = this.dupAcks * mss; // RFC 3042
    } else if (!this.conn.sackEnabled) {
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
    const mss = this.mss;
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
    if (this.mtuProbing && seqGe(this.una, this.mtuProbeSeq)) this.mtuProbeLost();
    const mss = this.mss;
    const flight = seqDiff(this.max, this.una);
    const priorCwnd = this.cc.cwnd;
    this.cc.onCongestion(flight, mss, now);
    this.inRecovery = true;
    this.recoverSeq = this.max;
    this.rttTiming = false;
    this.limitedTransmit = 0;
    this.probeDeadline = NONE;
    this.conn.counters.fastRetransmits++;
    if (this.conn.sackEnabled) {
      this.highRxt = this.una;
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
      const end = this.scoreboard.nextSackedStart(this.una, this.max);
      const len = Math.min(seqDiff(end, this.una), mss);
      if (len > 0) {
        this.retransmitAt(this.una, now, len);
        this.highRxt = seqAdd(this.una, len);
        this.rtxMark = this.max;
        this.rtxMarkValid = true;
      }
    } else {
      this.retransmitAt(this.una, now);
      this.cc.cwnd = this.cc.ssthresh + 3 * mss;
    }
    this.rtxDeadline = this.rtxAt(now);
  }

  private dataEnd(): number {
    return seqAdd(this.bufSeq, this.buffer.length);
  }

  /** Sends one segment at SND.NXT if the windows, Nagle and SWS avoidance allow. */
  private sendNextSegment(now: number): boolean {
    if (this.conn.sackEnabled && seqLt(this.nxt, this.max)) {
      this.nxt = this.scoreboard.skipSacked(this.nxt);
    }
    const nxt = this.nxt;
    const avail = Math.max(0, seqDiff(this.dataEnd(), nxt));
    const finPending = this.finQueued && seqLe(nxt, this.finSeq);
    if (avail === 0 && !finPending) return false;
    if (this.max === this.una && avail > 0) this.restartAfterIdle(now);
    const flight = seqDiff(nxt, this.una);
    const cwnd = this.inRecovery ? this.cc.cwnd : this.cc.cwnd + this.limitedTransmit;
    // In SACK recovery the caller already checked cwnd against the pipe (RFC 6675 §5 step C):
    // data SACKed or lost no longer counts, so only the peer's window limits new data here.
    const usable =
      this.inRecovery && this.conn.sackEnabled
        ? seqDiff(seqAdd(this.una, this.wnd), nxt)
        : Math.min(this.wnd, cwnd) - flight;
    const room = this.segmentRoom();
    // With TSO, new data goes in segments of many MSS (one pass through the stack and the
    // link for up to 64 KiB); `room` stays the MSS for Nagle and the segment size on the wire.
    const tso = this.config.tsoMaxPayload;
    const big = tso > room ? tso - (tso % room) : room;
    // Outside an RFC 4821 search (nearly always) this costs one compare, not a call.
    const probe = this.mtuSearchHigh === 0 ? 0 : this.maybeMtuProbe(nxt, avail, usable, now);
    if (probe > 0) {
      this.transmitData(nxt, probe, false, now);
      this.nxt = seqAdd(nxt, probe);
      this.max = this.nxt;
      return true;
    }
    let len = Math.min(avail, big);
    if (this.conn.sackEnabled && seqLt(nxt, this.max)) len = this.holeSegment(nxt, len);
    let fin = finPending && len === avail;
    if (len > usable) {
      if (usable <= 0) return false;
      // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a window-limited partial segment goes out
      // only when nothing is in flight or it is at least half the largest window offered.
      if (flight > 0 && usable < this.maxWnd >>> 1) return false;
      len = usable;
      fin = false;
    }
    // A segment of several MSS is cut on the wire into whole ones: keep the tail for later
    // (with the next ACK it may fill a whole MSS), unless it is the end of the data.
    if (len > room && len < avail) {
      len -= len % room;
      fin = false;
    }
    if (len === 0 && !fin) return false;
    // Nagle (RFC 896/RFC 1122 §4.2.3.4): one small new segment in flight at a time.
    if (len < room && !fin && !this.conn.noDelay && flight > 0 && seqGe(nxt, this.max)) {
      return false;
    }
    this.transmitData(nxt, len, fin, now);
    this.nxt = seqAdd(nxt, len + (fin ? 1 : 0));
    if (seqGt(this.nxt, this.max)) this.max = this.nxt;
    return true;
  }

  /** RFC 6675 §5: while cwnd - pipe allows, resend lost holes first, then new data. */
  private sackRecoveryOutput(now: number): number {
    const sb = this.scoreboard;
    const mss = this.mss;
    let sent = 0;
    for (let guard = 0; guard < 1024; guard++) {
      if (this.cc.cwnd - this.pipe() < mss) break;
      const from = seqMax(this.highRxt, this.una);
      const hole = sb.skipSacked(from);
      if (sb.count > 0 && seqLt(hole, sb.highest)) {
        const len = this.holeSegment(hole, mss);
        this.retransmitAt(hole, now, len);
        this.highRxt = seqAdd(hole, len);
        if (hole === this.una) {
          this.rtxMark = this.max;
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
    const end = this.scoreboard.nextSackedStart(this.una, this.max);
    return seqMin(end, seqAdd(this.una, this.mss));
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
    const end = sb.nextSackedStart(seq, this.max);
    const len = Math.min(seqDiff(end, seq), max);
    if (len === max || end === this.max) return len;
    const blockEnd = sb.skipSacked(end);
    return blockEnd === this.max && seqDiff(blockEnd, seq) <= max ? seqDiff(blockEnd, seq) : len;
  }

  /**
   * RFC 6675 SetPipe, simplified: everything above the highest SACKed byte is in flight;
   * unSACKed bytes below it count as lost unless already retransmitted (below HighRxt).
   */
  private pipe(): number {
    const sb = this.scoreboard;
    if (sb.count === 0) return seqDiff(this.nxt, this.una);
    const high = sb.highest;
    let pipe = Math.max(0, seqDiff(this.nxt, high));
    if (seqGt(this.highRxt, this.una)) {
      const rxEnd = seqLt(this.highRxt, high) ? this.highRxt : high;
      pipe += seqDiff(rxEnd, this.una) - sb.sackedIn(this.una, rxEnd);
    }
    return pipe;
  }

  /** Resends up to one MSS (or `len`) of data at `seq` (< SND.MAX) without moving SND.NXT. */
  private retransmitAt(seq: number, now: number, len = this.mss): void {
    // Only what was sent before: never past SND.MAX.
    const avail = Math.max(0, seqDiff(seqMin(this.dataEnd(), this.max), seq));
    const n = Math.min(len, avail, this.segmentRoom());
    const fin = this.finSent && seqAdd(seq, n) === this.finSeq && n === avail;
    if (n === 0 && !fin) return;
    this.transmitData(seq, n, fin, now);
  }

  private transmitData(seq: number, len: number, fin: boolean, now: number): void {
    const retransmit = seqLt(seq, this.max);
    if (this.inRecovery) this.prrOut++;
    if (retransmit) {
      this.conn.counters.retransmits++;
      if (this.rttTiming && seqLe(seq, this.rttSeq)) this.rttTiming = false; // Karn
    } else if (!this.rttTiming && !this.conn.tsEnabled && len > 0) {
      this.rttTiming = true;
      this.rttSeq = seqAdd(seq, len);
      this.rttStart = now;
    }
    const seg = this.conn.outgoing();
    seg.seq = seq;
    seg.ack = this.conn.rcv.nxt;
    seg.flags = ACK | (fin ? FIN : 0);
    if (len > 0 && seqAdd(seq, len) === this.dataEnd()) seg.flags |= PSH;
    seg.dataLength = len;
    // Larger than one segment on the wire: the link cuts it into pieces of this size (TSO).
    const piece = this.segmentRoom();
    seg.gsoSize = len > piece ? piece : 0;
    if (fin) this.finSent = true;
    if (!retransmit) this.finAlone = fin && len === 0;
    this.conn.fillAck(seg, now);
    if (len > 0) this.lastDataSent = now;
    if (this.unackedSince === NONE) this.unackedSince = now;
    if (this.rtxDeadline === NONE) this.rtxDeadline = this.rtxAt(now);
    this.persistDeadline = NONE;
    this.conn.emit(seg);
  }

  /**
   * Payload a data segment sent now may carry: the MSS less the SACK option it will hold while
   * out-of-order data waits (RFC 2018 §3: the option counts against the segment, or it would
   * exceed what the path carries; Linux's tcp_current_mss does the same). Each queued chunk is
   * at most one block, so the bound is safe without building the blocks.
   */
  private segmentRoom(): number {
    if (!this.conn.sackEnabled || this.conn.rcv.heldChunks === 0) return this.mss;
    const blocks = Math.min(this.conn.rcv.heldChunks, this.conn.tsEnabled ? 3 : MAX_SACK_BLOCKS);
    return Math.max(1, this.mss - (SACK_OPTION_BASE + 8 * blocks));
  }

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
    const restart = Math.min(initialWindow(this.mss), cc.cwnd);
    if (cc.cwnd <= restart) return;
    cc.ssthresh = Math.max(cc.ssthresh, (3 * cc.cwnd) >>> 2);
    let cwnd = cc.cwnd;
    for (let n = Math.floor(idle / rto); n > 0 && cwnd > restart; n--) cwnd = Math.floor(cwnd / 2);
    cc.cwnd = Math.max(cwnd, restart);
    this.conn.counters.idleRestarts++;
  }

  /** When the retransmission timer armed now fires: after the RTO, never past the user timeout. */
  private rtxAt(now: number): number {
    const at = now + this.rto.rto;
    if (this.conn.userTimeout === 0 || this.unackedSince === NONE) return at;
    return Math.max(now, Math.min(at, this.unackedSince + this.conn.userTimeout));
  }

  /** The user timeout has run out for what is waiting to be acknowledged. */
  userTimedOut(now: number): boolean {
    return (
      this.conn.userTimeout > 0 &&
      this.unackedSince !== NONE &&
      now - this.unackedSince >= this.conn.userTimeout
    );
  }

  private sampleTs(seg: Segment, now: number): void {
    // An echo older than the last timeout's retransmission is the original transmission's
    // timestamp reflected by a duplicate: it would inflate the RTT by the whole stall.
    if (this.tsRtoFloorSet && seqLt(seg.tsEcr, this.tsRtoFloor)) return;
    const rtt = seqDiff(this.conn.tsNow(now), seg.tsEcr);
    if (rtt >= 0) this.rto.sample(rtt);
  }

  queueFin(): void {
    if (this.finQueued) return;
    this.finQueued = true;
    this.finSeq = this.dataEnd();
  }
}
