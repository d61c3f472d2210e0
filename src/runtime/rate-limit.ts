/**
 * A token bucket on the stack's clock: `burst` tokens at most, refilled at `ratePerSecond`. ICMP
 * and ICMPv6 take one per error they send (RFC 1812 §4.3.2.8, RFC 4443 §2.4(f)).
 */
export class TokenBucket {
  private readonly ratePerMs: number;
  private tokens: number;
  private refilledAt = -Infinity;

  constructor(
    ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.ratePerMs = ratePerSecond / 1000;
    this.tokens = burst;
  }

  /** Takes a token at time `now` (ms); false when the bucket is empty. */
  take(now: number): boolean {
    if (now > this.refilledAt) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) * this.ratePerMs);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
