/**
 * Retransmission timeout estimator, RFC 6298: SRTT/RTTVAR smoothing (alpha 1/8, beta 1/4),
 * RTO = SRTT + max(G, 4 * RTTVAR) clamped to [min, max], exponential backoff on expiry.
 * Karn's rule (no samples from retransmitted segments unless timestamps disambiguate them) is
 * the caller's job: it decides which samples to feed in.
 */
export interface RtoConfig {
  /** Lower bound (RFC 6298 says 1 s; Linux and most stacks use 200 ms). */
  minRto: number;
  /** Upper bound (RFC 6298 allows >= 60 s). */
  maxRto: number;
  /** RTO before the first sample (RFC 6298 §2.1: 1 s). */
  initialRto: number;
  /** Clock granularity G in ms. */
  granularity: number;
}

export const DEFAULT_RTO_CONFIG: RtoConfig = {
  minRto: 200,
  maxRto: 60_000,
  initialRto: 1000,
  granularity: 1,
};

export class RtoEstimator {
  srtt = 0;
  rttvar = 0;
  /** Whether a sample has been taken (SRTT/RTTVAR valid). */
  hasSample = false;
  /** Number of consecutive doublings applied since the last reset. */
  backoff = 0;
  private base: number;

  constructor(private readonly config: RtoConfig = DEFAULT_RTO_CONFIG) {
    this.base = config.initialRto;
  }

  /** Feeds one round-trip measurement in ms (RFC 6298 §2.2/2.3). */
  sample(rtt: number): void {
    // Stryker disable next-line EqualityOperator: at rtt == 0 both arms give 0
    const r = rtt < 0 ? 0 : rtt;
    if (!this.hasSample) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.hasSample = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.base = this.srtt + Math.max(this.config.granularity, 4 * this.rttvar);
  }

  /** The timeout to arm now: base clamped, times 2^backoff, clamped again (RFC 6298 §5.5). */
  get rto(): number {
    const c = this.config;
    const base = Math.min(c.maxRto, Math.max(c.minRto, this.base));
    return Math.min(c.maxRto, base * 2 ** this.backoff);
  }

  /** The timer expired: double the timeout (bounded by maxRto through `rto`). */
  backOff(): void {
    if (this.config.minRto * 2 ** this.backoff < this.config.maxRto) this.backoff++;
  }

  /** New data was acknowledged: collapse the backoff. */
  resetBackoff(): void {
    this.backoff = 0;
  }
}
