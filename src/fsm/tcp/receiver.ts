/**
 * The receiving half of a connection: the receive sequence space (RFC 9293 §3.3.1), segment
 * acceptability, TS.Recent and PAWS (RFC 7323), reassembly of out-of-order data with its SACK
 * blocks (RFC 2018), the window we offer with receiver SWS avoidance (RFC 9293 §3.8.6.2.2) and
 * when an ACK is owed (delayed ACK, RFC 5681 §4.2; quick-ACK at the start; coalescing per
 * receive batch). It decides nothing about states: the connection asks it about a segment and
 * acts on the answer (a FIN in order, an ACK owed).
 */
import { ReorderQueue } from '../reorder.js';
import { FIN, MAX_SACK_BLOCKS, SYN, type Segment } from '../segment.js';
import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax } from '../seq.js';
import {
  MAX_STRETCH_SEGMENTS,
  NONE,
  PAWS_IDLE_MS,
  windowShiftFor,
  type TcpConfig,
  type TcpHost,
} from './config.js';
import type { TcpConnection } from './connection.js';

export class TcpReceiver {
  /** IRS: the peer's initial sequence number. */
  irs = 0;
  /** RCV.NXT. */
  nxt = 0;
  /** Right edge of the window we last advertised (never moved left: no window shrinking). */
  adv = 0;
  /** Bytes delivered to the application and not yet consumed by it. */
  unread = 0;
  /** The peer's FIN is in (RCV.NXT is past it). */
  finSeen = false;
  /** Our window scale (Rcv.Wind.Shift), 0 until the peer agrees to scaling. */
  shift = 0;
  /** The scale our SYN offers (from the receive buffer). */
  readonly offeredShift: number;

  // --- RFC 7323 ---
  tsRecent = 0;
  tsRecentSet = false;
  private tsRecentAge = 0;
  /** Last.ACK.sent: RCV.NXT in the last segment we sent with ACK. */
  lastAckSent = 0;

  private readonly reorder: ReorderQueue;

  // --- acknowledgment policy ---
  /** An ACK is owed at once (the next output sends one if nothing else carries it). */
  ackNow = false;
  /** In-order bytes received and not yet acknowledged. */
  private ackPending = 0;
  /** Data segments still ACKed at once (config.quickAcks at the start). */
  private quickAcksLeft: number;
  /** The host promised a flushAck() call (ACK coalescing per receive batch). */
  private ackDeferred = false;
  /** Largest segment payload seen from the peer (Linux's rcv_mss): "full-sized". */
  mss: number;
  delackDeadline = NONE;

  private readonly deliverChunk = (bytes: Uint8Array, off: number, len: number): void => {
    this.deliver(bytes, off, len);
  };

  constructor(
    private readonly config: TcpConfig,
    private readonly host: TcpHost,
    private readonly conn: TcpConnection,
  ) {
    this.reorder = new ReorderQueue(config.rcvBuf, config.reorderMaxChunks);
    this.mss = config.mss;
    this.quickAcksLeft = Math.min(16, Math.max(0, config.quickAcks));
    this.offeredShift = config.windowScale ? windowShiftFor(config.rcvBuf) : 0;
  }

  /** The peer's SYN at `irs`: RCV.NXT is just past it; `window` bytes were offered already. */
  synReceived(irs: number, window: number): void {
    this.irs = irs;
    this.nxt = seqAdd(irs, 1);
    this.adv = seqAdd(this.nxt, window);
  }

  /** Our SYN-ACK left, acknowledging the peer's SYN and offering `window` bytes (unscaled). */
  synAckSent(window: number): void {
    this.lastAckSent = this.nxt;
    this.adv = seqMax(this.adv, seqAdd(this.nxt, window));
  }

  /** TS.Recent from the peer's SYN (or the ACK that completes a cookie handshake). */
  takeTimestamp(tsVal: number, now: number): void {
    this.tsRecent = tsVal;
    this.tsRecentSet = true;
    this.tsRecentAge = now;
  }

  /** The window we offered and the peer may still fill: RCV.WND. */
  get window(): number {
    return Math.max(0, seqDiff(this.adv, this.nxt));
  }

  /** Out-of-order chunks held (each one SACK block). */
  get heldChunks(): number {
    return this.reorder.size;
  }

  /** PAWS (RFC 7323 §5.3): a timestamp older than TS.Recent marks an old duplicate. */
  isOldDuplicate(seg: Segment, now: number): boolean {
    return (
      this.conn.tsEnabled &&
      seg.hasTimestamps &&
      this.tsRecentSet &&
      seqLt(seg.tsVal, this.tsRecent) &&
      now - this.tsRecentAge < PAWS_IDLE_MS
    );
  }

  /** Sequence acceptability (RFC 9293 §3.10.7.4, the four cases) of `segLen` octets at `seq`. */
  acceptable(seq: number, segLen: number): boolean {
    const wnd = this.window;
    if (segLen === 0) return wnd === 0 ? seq === this.nxt : this.inWindow(seq, wnd);
    return wnd > 0 && (this.inWindow(seq, wnd) || this.inWindow(seqAdd(seq, segLen - 1), wnd));
  }

  private inWindow(seq: number, wnd: number): boolean {
    const d = seqDiff(seq, this.nxt);
    return d >= 0 && d < wnd;
  }

  /**
   * TS.Recent update (RFC 7323 §4.3): only from segments covering Last.ACK.sent, and not from
   * one whose ACK acknowledges data never sent (`ackBeyond`; RFC 7323 Appendix D updates
   * TS.Recent after the ACK check: a forged segment must not move the value every later ACK
   * echoes).
   */
  updateTimestamp(seg: Segment, ackBeyond: boolean, now: number): void {
    if (!this.conn.tsEnabled || !seg.hasTimestamps || !seqLe(seg.seq, this.lastAckSent)) return;
    if (ackBeyond) return;
    if (!this.tsRecentSet || seqGe(seg.tsVal, this.tsRecent)) this.takeTimestamp(seg.tsVal, now);
  }

  /**
   * Segment text and FIN (RFC 9293 §3.10.7.4, sixth to eighth steps' receive side): in-order
   * data goes to the host, out-of-order data to the reorder queue, and the ACK policy runs.
   * `acceptsData` is false in states where the peer's data is no longer taken. Returns true
   * when the peer's FIN is now in order (the connection then calls `finReceived`).
   */
  segment(seg: Segment, acceptsData: boolean, now: number): boolean {
    let seq = seg.flags & SYN ? seqAdd(seg.seq, 1) : seg.seq;
    let off = seg.dataOffset;
    let len = seg.dataLength;
    let fin = (seg.flags & FIN) !== 0;

    if (len > 0 && acceptsData) {
      const front = seqDiff(this.nxt, seq);
      if (front > 0) {
        const skip = Math.min(front, len);
        seq = seqAdd(seq, skip);
        off += skip;
        len -= skip;
      }
      const over = seqDiff(seqAdd(seq, len), this.adv);
      if (over > 0) {
        len = Math.max(0, len - over);
        fin = false; // the FIN lies beyond the window too
      }
      if (len > 0) {
        // Linux's tcp_measure_rcv_mss: a GSO super-frame counts as segments of its gso_size,
        // so a 64 KiB one does not make every later full-sized segment look small.
        const unit = seg.gsoSize > 0 && seg.gsoSize < len ? seg.gsoSize : len;
        if (unit > this.mss) this.mss = unit;
        if (seq === this.nxt) {
          this.deliver(seg.data, off, len);
          if (this.reorder.size > 0) {
            this.nxt = this.reorder.drain(this.nxt, this.deliverChunk);
            this.ackNow = true; // a hole was filled: tell the sender at once (RFC 5681 §4.2)
          } else if (this.quickAcksLeft > 0) {
            this.quickAcksLeft--;
            this.ackNow = true;
          } else {
            this.ackPending += len;
            if (this.ackPending >= 2 * this.mss) {
              // Every second full segment (RFC 5681 §4.2), or once per receive batch when the
              // host coalesces, but never more than MAX_STRETCH_SEGMENTS segments unacknowledged.
              if (this.ackPending >= MAX_STRETCH_SEGMENTS * this.mss) this.ackNow = true;
              else if (!this.ackDeferred) {
                if (this.host.deferAck?.(this.conn) === true) this.ackDeferred = true;
                else this.ackNow = true;
              }
            }
            if (!this.ackNow && this.delackDeadline === NONE) {
              this.delackDeadline = now + this.config.delayedAck;
            }
          }
        } else {
          const stored = this.reorder.insert(seq, seg.data, off, len);
          if (stored < len && seqGe(seq, this.nxt)) this.conn.counters.reorderDrops++;
          this.ackNow = true; // duplicate ACK with SACK blocks (RFC 5681 §4.2, RFC 2018)
        }
      }
    }

    if (fin && !this.finSeen) {
      const finAt = seqAdd(seq, len);
      if (finAt === this.nxt) return true;
      if (seqGt(finAt, this.nxt)) {
        this.reorder.finSeq = finAt;
        this.ackNow = true;
      }
    }
    return !this.finSeen && this.reorder.finSeq >= 0 && this.reorder.finSeq === this.nxt;
  }

  /** The peer's FIN, in order, is taken: RCV.NXT moves past it and it is ACKed at once. */
  finReceived(): void {
    this.nxt = seqAdd(this.nxt, 1);
    this.finSeen = true;
    this.reorder.finSeq = -1;
    this.ackNow = true;
  }

  private deliver(bytes: Uint8Array, off: number, len: number): void {
    this.nxt = seqAdd(this.nxt, len);
    if (!this.conn.orphaned) this.unread += len;
    this.host.deliver(this.conn, bytes, off, len);
  }

  /**
   * The application consumed `n` delivered bytes. Returns true when that opens the window
   * enough for a window update: the offered window would at least double and grow by two
   * segments (or half the buffer), enough to reopen a closing window without an ACK per read.
   * No update before the connection is synchronized (`synchronized` false) or after the FIN.
   */
  consumed(n: number, synchronized: boolean): boolean {
    this.unread = Math.max(0, this.unread - n);
    if (!synchronized || this.finSeen) return false;
    const space = this.windowSpace();
    const edge = this.window;
    if (space - edge >= Math.min(2 * this.mss, this.config.rcvBuf >>> 1) && space >= 2 * edge) {
      this.ackNow = true;
      return true;
    }
    return false;
  }

  /** The application is gone: what it had not read no longer holds the window shut. */
  orphaned(): void {
    this.unread = 0;
  }

  /** An ACK is owed for data received (delayed, deferred or at once). */
  get ackOwed(): boolean {
    return this.ackPending > 0;
  }

  /** The host's flushAck() came: the deferred ACK, if still owed, may go now. */
  batchEnded(): void {
    this.ackDeferred = false;
  }

  /** Receive buffer space, capped at what the window field can express. */
  windowSpace(): number {
    const space = Math.max(0, this.config.rcvBuf - this.unread);
    return Math.min(space, 0xffff * (1 << this.shift));
  }

  /**
   * The receive side of a segment carrying ACK: the window field (buffer space, never
   * shrinking the right edge, SWS-avoiding), TS.Recent to echo and the SACK blocks; the ACK
   * debt is paid.
   */
  fillAck(seg: Segment): void {
    seg.window = this.advertiseWindow();
    if (this.conn.tsEnabled) seg.tsEcr = this.tsRecent;
    if (this.conn.sackEnabled && this.reorder.size > 0) {
      const max = this.conn.tsEnabled ? 3 : MAX_SACK_BLOCKS;
      seg.sackCount = this.reorder.sackBlocks(seg.sackBlocks, max);
    }
    this.lastAckSent = this.nxt;
    this.ackNow = false;
    this.ackPending = 0;
    this.delackDeadline = NONE;
  }

  private advertiseWindow(): number {
    const space = this.windowSpace();
    const edge = this.window;
    let wnd = space;
    // Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): move the edge only by a useful amount.
    if (wnd - edge < Math.min(this.config.rcvBuf >>> 1, this.mss)) wnd = edge;
    if (wnd < edge) wnd = edge;
    const unit = 1 << this.shift;
    const field = Math.min(0xffff, Math.ceil(wnd / unit));
    const right = seqAdd(this.nxt, field * unit);
    if (seqGt(right, this.adv)) this.adv = right;
    return field;
  }

  /** Whether a new SYN may replace this connection in TIME-WAIT (RFC 6191 / RFC 1122 4.2.2.13). */
  acceptsReuse(seg: Segment): boolean {
    if (this.conn.tsEnabled && seg.hasTimestamps && this.tsRecentSet)
      return seqGt(seg.tsVal, this.tsRecent);
    return seqGt(seg.seq, this.nxt);
  }

  /** The connection closed: held data is dropped and no ACK is owed. */
  clear(): void {
    this.reorder.clear();
    this.delackDeadline = NONE;
  }
}
