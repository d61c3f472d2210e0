// The hand-written references for bench:codec's checksum rows.
//
// oldChecksum: internetChecksum() as src/codec/checksum.ts had it before the word loop, copied
// unchanged (its dispatch, shortSum() and the chunked loop for larger regions): the rate the
// generated codecs had, which the word loop is measured against.
//
// byteLoopChecksum: the same byte loop as one function (no dispatch), which V8 inlines into
// the caller's loop. It measures faster than oldChecksum, so it is the stricter comparison.

const FOLD_EVERY = 16384;
const SHORT = 65532;
const SHORT_INITIAL = 0x1fffe;

function shortSum(bytes: Uint8Array, offset: number, length: number, initial: number): number {
  let sum = initial;
  const end = offset + length;
  let i = offset;
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

function oldOnesComplementSum(
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
    const chunkEnd = i + Math.min((end - i) & ~1, FOLD_EVERY);
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

export function oldChecksum(
  bytes: Uint8Array,
  offset: number,
  length: number,
  initial = 0,
): number {
  if (length <= SHORT && initial <= SHORT_INITIAL)
    return ~shortSum(bytes, offset, length, initial) & 0xffff;
  return ~oldOnesComplementSum(bytes, offset, length, initial) & 0xffff;
}

/** oldChecksum() for at most 65532 bytes and an initial sum of at most 0x1fffe, in one function. */
export function byteLoopChecksum(
  bytes: Uint8Array,
  offset: number,
  length: number,
  initial = 0,
): number {
  let sum = initial;
  const end = offset + length;
  let i = offset;
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
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
