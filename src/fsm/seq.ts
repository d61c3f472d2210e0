/**
 * TCP sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4). Every comparison goes through
 * these helpers: `(a - b) | 0` is the signed 32-bit distance from b to a, which orders two
 * numbers correctly as long as they are less than 2^31 apart, across the wrap-around.
 */

/** a + n, wrapped to an unsigned 32-bit sequence number. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed distance a - b (negative when a is "before" b). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

export function seqMax(a: number, b: number): number {
  // Stryker disable next-line EqualityOperator: at a == b both arms return the same number
  return ((a - b) | 0) >= 0 ? a : b;
}

export function seqMin(a: number, b: number): number {
  // Stryker disable next-line EqualityOperator: at a == b both arms return the same number
  return ((a - b) | 0) <= 0 ? a : b;
}

/** lo <= x < hi in sequence space. */
export function seqInWindow(x: number, lo: number, hi: number): boolean {
  return ((x - lo) | 0) >= 0 && ((x - hi) | 0) < 0;
}
