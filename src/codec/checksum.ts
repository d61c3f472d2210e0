/**
 * The Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words.
 * Short regions (headers) take a byte loop kept on V8's small-integer path, folding every 16 KiB
 * when long; regions of WIDE_FROM bytes and more (payloads) are read as 32-bit words (wideSum).
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

/**
 * Shortest region wideSum() takes. Headers (20-60 bytes) keep the byte loop: below about 64
 * bytes finding the word view, masking the edge words and folding cost what the words save
 * (bench:codec's checksum rows; measured: the word loop is 0.9x the byte loop at 20 bytes and
 * 1.4x at 64). Above 64 also means a region never lies in a typed array V8 keeps on its own heap
 * (at most 64 bytes), where reading `.buffer` would move the bytes off the heap, an allocation.
 */
export const WIDE_FROM = 65;

/** The word loop reads little-endian words; a big-endian host keeps the byte loop. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Words per block of wideSum(): 2**20 words of at most 2**32 - 1 keep each float64 accumulator
 * below 2**52, where every integer is exact.
 */
const BLOCK_WORDS = 1 << 20;
/** Largest initial sum wideSum() takes: its running sum stays below 2**32, where `>>> 16` folds. */
const WIDE_INITIAL = 0x7fffffff;
/** 2**-32, exact: scales a float64 sum to its bits above 32 without a division. */
const TWO_POW_MINUS_32 = 2.3283064365386963e-10;

/**
 * Word views, a Uint32Array over the whole of each ArrayBuffer summed by wideSum(). Weak, so a
 * view lives as long as its buffer and no longer: one allocation per buffer, none per call.
 */
const VIEWS = new WeakMap<ArrayBufferLike, Uint32Array<ArrayBufferLike>>();
/**
 * The two byte arrays summed last and their views, found by an identity compare (a TAP slab, a
 * transmit buffer): the common case reads neither `.buffer` nor the WeakMap. Two, so a stack
 * alternating between its receive slab and its transmit buffer hits both; they keep at most two
 * arrays (and their buffers) alive until two others replace them.
 */
const NO_WORDS: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
let bytesA: Uint8Array | null = null;
let wordsA = NO_WORDS;
let byteOffsetA = 0;
let bytesB: Uint8Array | null = null;
let wordsB = NO_WORDS;
let byteOffsetB = 0;

/**
 * Makes `bytes` entry A (A moves to B) and returns the word view of its buffer: the one made
 * before, unless `fresh` (it no longer covers the buffer: a resizable buffer that grew).
 */
function rememberWords(bytes: Uint8Array, fresh: boolean): Uint32Array<ArrayBufferLike> {
  const buffer = bytes.buffer;
  let words = fresh ? undefined : VIEWS.get(buffer);
  if (words === undefined) {
    words = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    VIEWS.set(buffer, words);
  }
  if (bytes !== bytesA) {
    bytesB = bytesA;
    wordsB = wordsA;
    byteOffsetB = byteOffsetA;
  }
  bytesA = bytes;
  wordsA = words;
  byteOffsetA = bytes.byteOffset;
  return words;
}

/**
 * onesComplementSum() of a region of at least WIDE_FROM bytes, plus `initial` (≤ WIDE_INITIAL):
 * the aligned little-endian 32-bit words that hold the region, the first and last masked to the
 * region's bytes, added into two float64 accumulators (exact, so carries are folded once per
 * block instead of per word). That sums 16-bit little-endian words paired from even addresses:
 * for a region at an even address its big-endian words byte-swapped, whose sum is the swapped
 * sum (RFC 1071 §2(B)); at an odd address the pairs are the region's own, read big-endian.
 */
function wideSum(bytes: Uint8Array, offset: number, length: number, initial: number): number {
  let words: Uint32Array<ArrayBufferLike>;
  let byteOffset: number;
  if (bytes === bytesA) {
    words = wordsA;
    byteOffset = byteOffsetA;
  } else if (bytes === bytesB) {
    words = wordsB;
    byteOffset = byteOffsetB;
  } else {
    words = rememberWords(bytes, false);
    byteOffset = byteOffsetA;
  }
  // Bytes past the array's end read as zero, as the byte loops read them, not as whatever
  // follows in the buffer.
  if (offset < 0 || offset + length > bytes.length) {
    return chunkedSum(bytes, offset, length, initial);
  }
  const start = byteOffset + offset;
  const stop = start + length;
  let w = start >>> 2;
  // Words w..end-1 hold the region but for its last (stop & 3) bytes, which word `end` holds.
  const end = stop >>> 2;
  const tail = stop & 3;
  if (end > words.length) {
    // The buffer grew (resizable) since its view was made; a detached one has no words.
    if (bytes.buffer.byteLength >>> 2 < end) return chunkedSum(bytes, offset, length, initial);
    words = rememberWords(bytes, true);
  }
  // The first word without the bytes before the region.
  let s0 = (words[w++] & (-1 << ((start & 3) << 3))) >>> 0;
  if (tail !== 0) {
    if (end < words.length) s0 += words[end] & ((1 << (tail << 3)) - 1);
    else {
      // The buffer ends inside that word, so the view stops short of it.
      for (let i = stop - tail; i < stop; i++) {
        s0 += (i & 1) === 0 ? bytes[i - byteOffset] : bytes[i - byteOffset] << 8;
      }
    }
  }
  // `initial` in the words' byte order, folded before the loop (it does not wait for it).
  let sum = (initial & 0xffff) + (initial >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  if ((start & 1) === 0) sum = ((sum & 0xff) << 8) | (sum >>> 8);
  for (;;) {
    const blockEnd = Math.min(end, w + BLOCK_WORDS);
    let s1 = 0;
    for (; w + 15 < blockEnd; w += 16) {
      s0 +=
        words[w] +
        words[w + 1] +
        (words[w + 2] + words[w + 3]) +
        (words[w + 4] + words[w + 5] + (words[w + 6] + words[w + 7]));
      s1 +=
        words[w + 8] +
        words[w + 9] +
        (words[w + 10] + words[w + 11]) +
        (words[w + 12] + words[w + 13] + (words[w + 14] + words[w + 15]));
    }
    // The rest four at a time: one by one, each add would wait for the one before.
    for (; w + 3 < blockEnd; w += 4) s1 += words[w] + words[w + 1] + (words[w + 2] + words[w + 3]);
    for (; w < blockEnd; w++) s0 += words[w];
    // s = hi * 2**32 + lo, and 2**32 ≡ 2**16 ≡ 1 in one's-complement arithmetic.
    const s = s0 + s1;
    const hi = Math.floor(s * TWO_POW_MINUS_32);
    const lo = s - hi * 4294967296;
    sum += (lo >>> 16) + (lo & 0xffff) + hi;
    if (w >= end) break;
    s0 = 0;
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return (start & 1) === 0 ? ((sum & 0xff) << 8) | (sum >>> 8) : sum;
}

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
  if (length >= WIDE_FROM && LITTLE_ENDIAN && initial <= WIDE_INITIAL)
    return wideSum(bytes, offset, length, initial);
  if (length <= SHORT && initial <= SHORT_INITIAL) return shortSum(bytes, offset, length, initial);
  return chunkedSum(bytes, offset, length, initial);
}

/** onesComplementSum() of any region: byte pairs, folded every FOLD_EVERY bytes. */
function chunkedSum(bytes: Uint8Array, offset: number, length: number, initial: number): number {
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
  // Headers go straight to the byte loop, payloads to the word loop (one call less).
  if (length < WIDE_FROM) {
    if (initial <= SHORT_INITIAL) return ~shortSum(bytes, offset, length, initial) & 0xffff;
  } else if (LITTLE_ENDIAN && initial <= WIDE_INITIAL) {
    return ~wideSum(bytes, offset, length, initial) & 0xffff;
  }
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
