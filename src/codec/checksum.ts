/**
 * The Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words.
 * Sums are kept in small-integer range by folding every 16 KiB, so the loop stays on V8's SMI path.
 */

const FOLD_EVERY = 16384;

/**
 * Longest region shortSum() takes: 32766 words of at most 0xffff, an odd last byte and an
 * initial sum of at most 0x1fffe (two folded sums, e.g. a header's and pseudoHeaderSum()) stay
 * below 2**31, so one loop without intermediate folds keeps small integers. Every header and
 * every IP datagram fits; only larger buffers take the chunked loop.
 */
const SHORT = 65532;
/** Largest initial sum shortSum() takes. */
const SHORT_INITIAL = 0x1fffe;

/** onesComplementSum() for at most SHORT bytes and SHORT_INITIAL: one loop, two folds. */
function shortSum(bytes: Uint8Array, offset: number, length: number, initial: number): number {
  let sum = initial;
  const end = offset + length;
  let i = offset;
  // Four words per iteration (headers are multiples of 4 bytes), then the odd words and byte.
  for (; i + 7 < end; i += 8) {
    sum +=
      ((bytes[i] << 8) | bytes[i + 1]) +
      ((bytes[i + 2] << 8) | bytes[i + 3]) +
      ((bytes[i + 4] << 8) | bytes[i + 5]) +
      ((bytes[i + 6] << 8) | bytes[i + 7]);
  }
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum & 0xffff) + (sum >>> 16);
}

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
  if (length <= SHORT && initial <= SHORT_INITIAL) return shortSum(bytes, offset, length, initial);
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
  // Headers and datagrams go straight to the one-loop sum (one call less on the hot path).
  if (length <= SHORT && initial <= SHORT_INITIAL)
    return ~shortSum(bytes, offset, length, initial) & 0xffff;
  return ~onesComplementSum(bytes, offset, length, initial) & 0xffff;
}

/**
 * internetChecksum() of the rest of a checksummed message whose first `from` bytes the caller
 * has summed into `initial` already (an encoder that summed its header while writing it). At an
 * odd `from` the rest's bytes pair up the other way: the sum of byte-swapped words is the
 * byte-swapped sum (RFC 1071 §2(B)), so the rest's sum is swapped before `initial` is added.
 */
export function internetChecksumFrom(
  bytes: Uint8Array,
  offset: number,
  length: number,
  initial: number,
  from: number,
): number {
  if (length === 0) {
    // A header without payload (a TCP ACK or SYN) has nothing left to read.
    let sum = (initial & 0xffff) + (initial >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
    return ~sum & 0xffff;
  }
  if ((from & 1) === 0) return internetChecksum(bytes, offset, length, initial);
  const rest = onesComplementSum(bytes, offset, length);
  let sum = initial + (((rest & 0xff) << 8) | (rest >>> 8));
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Copies `src` to `out[at]` and returns the one's-complement sum of its bytes as 16-bit words,
 * folded to 16 bits (not complemented): what an encoder adds to its checksum for a byte region
 * it copies, while the bytes are at hand, instead of reading them back from `out`. `from` is the
 * region's distance from the start of the checksummed bytes; at an odd one the sum is
 * byte-swapped (see internetChecksumFrom).
 */
export function copySummed(src: Uint8Array, out: Uint8Array, at: number, from: number): number {
  const n = src.length;
  let sum = 0;
  if (n > 64) {
    out.set(src, at);
    sum = onesComplementSum(src, 0, n);
  } else {
    let i = 0;
    // Four bytes per iteration: option lists are multiples of 4 bytes.
    for (; i + 3 < n; i += 4) {
      const b0 = src[i];
      const b1 = src[i + 1];
      const b2 = src[i + 2];
      const b3 = src[i + 3];
      out[at + i] = b0;
      out[at + i + 1] = b1;
      out[at + i + 2] = b2;
      out[at + i + 3] = b3;
      sum += ((b0 << 8) | b1) + ((b2 << 8) | b3);
    }
    for (; i < n; i++) {
      out[at + i] = src[i];
      sum += (i & 1) === 0 ? src[i] << 8 : src[i];
    }
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return (from & 1) === 0 ? sum : ((sum & 0xff) << 8) | (sum >>> 8);
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

/**
 * Sum of the IPv6 pseudo-header (RFC 8200 §8.1) for an upper-layer checksum, folded to 16 bits:
 * the 16-byte source and destination addresses at `src[srcOff]` and `dst[dstOff]` (usually both
 * in the IPv6 header; with a routing header the destination is the final one, with a Home
 * Address option the source is the home address), the 32-bit upper-layer length and the next
 * header value. Reads the addresses in place (no allocation); the caller keeps both in bounds.
 */
export function ipv6PseudoHeaderSum(
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  nextHeader: number,
  length: number,
): number {
  let sum = (nextHeader & 0xff) + (length >>> 16) + (length & 0xffff);
  for (let i = 0; i < 16; i += 2) {
    sum +=
      ((src[srcOff + i] << 8) | src[srcOff + i + 1]) +
      ((dst[dstOff + i] << 8) | dst[dstOff + i + 1]);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
