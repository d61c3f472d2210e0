/**
 * The Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words.
 * Sums are kept in small-integer range by folding every 16 KiB, so the loop stays on V8's SMI path.
 */

const FOLD_EVERY = 16384;

/**
 * Adds `length` bytes at `offset` to a running one's-complement sum and returns the folded
 * 16-bit sum (not complemented). An odd final byte is padded with zero, as RFC 1071 says.
 */
export function onesComplementSum(
  bytes: Uint8Array,
  offset: number,
  length: number,
  initial = 0,
): number {
  let sum = initial;
  let i = offset;
  const end = offset + length;
  while (end - i >= 2) {
    // At most FOLD_EVERY bytes between folds keeps the running sum below 2**30.
    const chunkEnd = i + Math.min((end - i) & ~1, FOLD_EVERY);
    // Two words per iteration: fewer loop tests on the 20-60 byte headers this mostly sees.
    for (; i + 3 < chunkEnd; i += 4) {
      sum += ((bytes[i] << 8) | bytes[i + 1]) + ((bytes[i + 2] << 8) | bytes[i + 3]);
    }
    if (i < chunkEnd) {
      sum += (bytes[i] << 8) | bytes[i + 1];
      i += 2;
    }
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < end) sum += bytes[i] << 8;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * The checksum to store: complement of the one's-complement sum of the region plus `initial`
 * (e.g. a pseudo-header sum). Over a region that already holds a correct checksum it returns 0.
 */
export function internetChecksum(
  bytes: Uint8Array,
  offset: number,
  length: number,
  initial = 0,
): number {
  return ~onesComplementSum(bytes, offset, length, initial) & 0xffff;
}

/** Sum of the IPv4 pseudo-header (RFC 793 / 768) for a transport checksum, folded to 16 bits. */
export function pseudoHeaderSum(
  src: number,
  dst: number,
  protocol: number,
  length: number,
): number {
  let sum =
    (src >>> 16) +
    (src & 0xffff) +
    (dst >>> 16) +
    (dst & 0xffff) +
    (protocol & 0xff) +
    (length & 0xffff);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
