/**
 * Copying bytes between buffers without allocating. `target.set(source.subarray(a, b))` creates
 * a typed-array object per call, which on a per-frame path is exactly the garbage the stack must
 * not make. A plain byte loop allocates nothing but costs about 0.75 ns per byte here, so
 * larger copies move 32-bit words through Int32 views over the underlying ArrayBuffers; the
 * views are cached per buffer, so steady traffic through the same link and send buffers creates
 * none. When the two ends are not aligned alike (a TCP payload at byte 54 or 66 of a frame, a
 * send buffer's data at a multiple of 4), each target word is put together from two source
 * words with shifts: the word loop still runs, where a byte loop would cost about 4 times more.
 * Used by src/fsm (the send buffer) and src/runtime alike, so it lives below both.
 *
 * Even so a word loop costs several times a memcpy (1448 bytes: ~550-950 ns against ~30 here),
 * so when the TAP addon is loaded (src/runtime/link/native.ts) copies of NATIVE_COPY_MIN bytes
 * or more go to its `copy` (memmove, ~250 ns a call with the N-API overhead, nothing allocated).
 */

/** A range copy with copyBytes' arguments; the native one returns false for a bad range. */
export type RangeCopy = (
  source: Uint8Array,
  sourceOffset: number,
  target: Uint8Array,
  targetOffset: number,
  length: number,
) => unknown;

/** From this many bytes the native copy's call overhead is less than the word loop. */
export const NATIVE_COPY_MIN = 512;

let nativeCopy: RangeCopy | null = null;

/** Sends long copies to `copy` (null: back to the loops). Set once the addon is loaded. */
export function useNativeCopy(copy: RangeCopy | null): void {
  nativeCopy = copy;
}

/** Word copies assemble bytes in little-endian order; elsewhere only the byte loop runs. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Below this many bytes the byte loop wins over aligning and word copying. */
const WORD_COPY_MIN = 64;

let cachedSourceBuffer: ArrayBufferLike | null = null;
let cachedSourceWords: Int32Array<ArrayBufferLike> = new Int32Array(0);
let cachedTargetBuffer: ArrayBufferLike | null = null;
let cachedTargetWords: Int32Array<ArrayBufferLike> = new Int32Array(0);

function wordsOf(buffer: ArrayBufferLike): Int32Array<ArrayBufferLike> {
  return new Int32Array(buffer, 0, buffer.byteLength >>> 2);
}

export function copyBytes(
  source: Uint8Array,
  sourceOffset: number,
  target: Uint8Array,
  targetOffset: number,
  length: number,
): void {
  if (length >= NATIVE_COPY_MIN && nativeCopy !== null) {
    nativeCopy(source, sourceOffset, target, targetOffset, length);
    return;
  }
  if (source.buffer === target.buffer) {
    // Same memory (possibly overlapping): copyWithin has memmove semantics and allocates nothing.
    const delta = source.byteOffset - target.byteOffset;
    target.copyWithin(targetOffset, sourceOffset + delta, sourceOffset + delta + length);
    return;
  }
  let s = source.byteOffset + sourceOffset;
  let t = target.byteOffset + targetOffset;
  let i = 0;
  if (length >= WORD_COPY_MIN && LITTLE_ENDIAN) {
    // Bytes up to the target's first word boundary, then words, then the tail below.
    const head = (4 - (t & 3)) & 3;
    for (; i < head; i++) target[targetOffset + i] = source[sourceOffset + i];
    s += head;
    t += head;
    const sourceBuffer = source.buffer;
    if (sourceBuffer !== cachedSourceBuffer) {
      cachedSourceBuffer = sourceBuffer;
      cachedSourceWords = wordsOf(sourceBuffer);
    }
    const targetBuffer = target.buffer;
    if (targetBuffer !== cachedTargetBuffer) {
      cachedTargetBuffer = targetBuffer;
      cachedTargetWords = wordsOf(targetBuffer);
    }
    let words = (length - head) >>> 2;
    const sw = s >>> 2;
    const tw = t >>> 2;
    const shift = (s & 3) * 8;
    // A resizable ArrayBuffer may have grown since its view was cached: refresh it then, and
    // only then (a view is made per call otherwise). A misaligned copy also reads the source
    // word after its last (bytes of it), which must be inside the view: when the data ends in
    // its buffer's last word, fewer words, and the tail loop does the rest.
    const reach = shift === 0 ? words : words + 1;
    if (
      sw + reach > cachedSourceWords.length &&
      cachedSourceWords.length < sourceBuffer.byteLength >>> 2
    ) {
      cachedSourceWords = wordsOf(sourceBuffer);
    }
    if (tw + words > cachedTargetWords.length) cachedTargetWords = wordsOf(targetBuffer);
    const from = cachedSourceWords;
    const to = cachedTargetWords;
    if (shift === 0) {
      for (let w = 0; w < words; w++) to[tw + w] = from[sw + w];
    } else {
      if (sw + words + 1 > from.length) words = Math.max(0, from.length - sw - 1);
      const back = 32 - shift;
      let low = from[sw];
      for (let w = 0; w < words; w++) {
        const high = from[sw + w + 1];
        to[tw + w] = (low >>> shift) | (high << back);
        low = high;
      }
    }
    i = head + words * 4;
  }
  for (; i < length; i++) target[targetOffset + i] = source[sourceOffset + i];
}
