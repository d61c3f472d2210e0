/**
 * Congestion window arithmetic, in bytes. The loss-recovery machinery (duplicate ACK counting,
 * NewReno partial ACKs, the SACK pipe) lives in tcp.ts; these objects only decide how cwnd and
 * ssthresh move: on ACKs outside recovery, on entering recovery, on leaving it, and on an RTO.
 */
export interface CongestionControl {
  readonly name: 'newreno' | 'cubic';
  cwnd: number;
  ssthresh: number;
  /** `acked` new bytes were acknowledged outside loss recovery. */
  onAck(acked: number, mss: number, now: number, srtt: number): void;
  /** Loss detected by duplicate ACKs / SACK: sets ssthresh (the caller then sets cwnd). */
  onCongestion(flight: number, mss: number, now: number): void;
  /** Recovery ended with a full ACK. */
  onRecoveryExit(flight: number, mss: number): void;
  /** The retransmission timer expired: ssthresh from the flight, cwnd to the loss window. */
  onRto(flight: number, mss: number, now: number): void;
}

/** Initial window, RFC 6928: min(10*MSS, max(2*MSS, 14600)). */
export function initialWindow(mss: number): number {
  return Math.min(10 * mss, Math.max(2 * mss, 14600));
}

/**
 * Slow start growth with appropriate byte counting (RFC 3465): at most `limit` segments per ACK
 * (L = 2 by default, as RFC 5681 allows). Without a limit (Linux grows by everything an ACK
 * covers) growth stops at ssthresh, so a stretch ACK cannot overshoot it.
 */
function slowStart(
  cc: { cwnd: number; ssthresh: number },
  acked: number,
  mss: number,
  limit: number,
): void {
  if (limit === Infinity) cc.cwnd = Math.max(cc.cwnd, Math.min(cc.cwnd + acked, cc.ssthresh));
  else cc.cwnd += Math.min(acked, limit * mss);
}

/** RFC 5681 congestion control with RFC 6582 NewReno recovery. */
export class NewReno implements CongestionControl {
  readonly name = 'newreno' as const;
  cwnd: number;
  ssthresh = 0x7fffffff;
  /** Bytes acked since cwnd last grew in congestion avoidance (RFC 5681 §3.1 byte counting). */
  private bytesAcked = 0;

  /** `abcLimit`: most segments one ACK grows cwnd by in slow start (RFC 3465's L). */
  constructor(
    mss: number,
    readonly abcLimit = 2,
  ) {
    this.cwnd = initialWindow(mss);
  }

  onAck(acked: number, mss: number): void {
    if (this.cwnd < this.ssthresh) {
      slowStart(this, acked, mss, this.abcLimit);
      return;
    }
    this.bytesAcked += acked;
    if (this.bytesAcked >= this.cwnd) {
      this.bytesAcked -= this.cwnd;
      this.cwnd += mss;
    }
  }

  onCongestion(flight: number, mss: number): void {
    this.ssthresh = Math.max(flight >>> 1, 2 * mss);
    this.bytesAcked = 0;
  }

  onRecoveryExit(flight: number, mss: number): void {
    // RFC 6582 §3.2 step 3, option 1: deflate to min(ssthresh, FlightSize + SMSS).
    this.cwnd = Math.max(mss, Math.min(this.ssthresh, flight + mss));
  }

  onRto(flight: number, mss: number): void {
    this.ssthresh = Math.max(flight >>> 1, 2 * mss);
    this.cwnd = mss;
    this.bytesAcked = 0;
  }
}

/** CUBIC, RFC 9438, in bytes; constants C = 0.4 and beta = 0.7 as the RFC recommends. */
export class Cubic implements CongestionControl {
  readonly name = 'cubic' as const;
  static readonly C = 0.4;
  static readonly BETA = 0.7;
  /** alpha_cubic = 3 (1 - beta) / (1 + beta) for the Reno-friendly estimate (RFC 9438 §4.3). */
  static readonly ALPHA = (3 * (1 - Cubic.BETA)) / (1 + Cubic.BETA);

  cwnd: number;
  ssthresh = 0x7fffffff;
  /** W_max in bytes: the window just before the last reduction. */
  wMax = 0;
  /** W_max before that, for fast convergence (RFC 9438 §4.7). */
  private wLastMax = 0;
  /** Start of the current congestion-avoidance epoch in ms, or -1 before it starts. */
  private epochStart = -1;
  /** K in seconds. */
  private k = 0;
  /** Reno-friendly window estimate W_est in bytes. */
  private wEst = 0;

  /** `abcLimit`: most segments one ACK grows cwnd by in slow start (RFC 3465's L). */
  constructor(
    mss: number,
    readonly abcLimit = 2,
  ) {
    this.cwnd = initialWindow(mss);
  }

  onAck(acked: number, mss: number, now: number, srtt: number): void {
    if (this.cwnd < this.ssthresh) {
      slowStart(this, acked, mss, this.abcLimit);
      return;
    }
    if (this.epochStart < 0) {
      this.epochStart = now;
      if (this.wMax < this.cwnd) {
        this.k = 0;
        this.wMax = this.cwnd;
      } else {
        this.k = Math.cbrt((this.wMax - this.cwnd) / mss / Cubic.C);
      }
      this.wEst = this.cwnd;
    }
    // Target window one RTT ahead (RFC 9438 §4.2), in segments, converted to bytes.
    const t = (now - this.epochStart + srtt) / 1000;
    const wCubic = Cubic.C * (t - this.k) ** 3 * mss + this.wMax;
    const target = Math.min(Math.max(wCubic, this.cwnd), 1.5 * this.cwnd);
    this.wEst += (Cubic.ALPHA * mss * acked) / this.cwnd;
    if (wCubic < this.wEst) {
      // Reno-friendly region: grow like Reno would.
      this.cwnd = Math.max(this.cwnd, Math.floor(this.wEst));
    } else {
      this.cwnd += Math.floor(((target - this.cwnd) * acked) / this.cwnd);
    }
  }

  onCongestion(flight: number, mss: number): void {
    this.epochStart = -1;
    const w = this.cwnd;
    this.wMax = w < this.wLastMax ? (w * (1 + Cubic.BETA)) / 2 : w;
    this.wLastMax = w;
    this.ssthresh = Math.max(Math.floor(Math.min(w, flight) * Cubic.BETA), 2 * mss);
  }

  onRecoveryExit(_flight: number, mss: number): void {
    this.cwnd = Math.max(mss, this.ssthresh);
  }

  onRto(flight: number, mss: number): void {
    this.onCongestion(flight, mss);
    this.cwnd = mss;
  }
}

export function makeCongestionControl(
  kind: 'newreno' | 'cubic',
  mss: number,
  abcLimit = 2,
): CongestionControl {
  return kind === 'cubic' ? new Cubic(mss, abcLimit) : new NewReno(mss, abcLimit);
}
