/**
 * Copying bytes between buffers without allocating. `target.set(source.subarray(a, b))` creates
 * a typed-array object per call, which on a per-frame path is exactly the garbage the stack must
 * not make. A plain byte loop allocates nothing but costs about 0.75 ns per byte here, so
 * larger copies whose two ends share their alignment modulo 4 move 32-bit words through Int32
 * views over the underlying ArrayBuffers; the views are cached per buffer, so steady traffic
 * through the same link and send buffers creates none.
 */

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
  if (source.buffer === target.buffer) {
    // Same memory (possibly overlapping): copyWithin has memmove semantics and allocates nothing.
    const delta = source.byteOffset - target.byteOffset;
    target.copyWithin(targetOffset, sourceOffset + delta, sourceOffset + delta + length);
    return;
  }
  let s = source.byteOffset + sourceOffset;
  let t = target.byteOffset + targetOffset;
  let i = 0;
  if (length >= WORD_COPY_MIN && (s & 3) === (t & 3)) {
    // Bytes up to the first word boundary, then words, then the tail below.
    const head = (4 - (s & 3)) & 3;
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
    const words = (length - head) >>> 2;
    const sw = s >>> 2;
    const tw = t >>> 2;
    // A resizable ArrayBuffer may have grown since its view was cached: refresh it then.
    if (sw + words > cachedSourceWords.length) cachedSourceWords = wordsOf(sourceBuffer);
    if (tw + words > cachedTargetWords.length) cachedTargetWords = wordsOf(targetBuffer);
    const from = cachedSourceWords;
    const to = cachedTargetWords;
    for (let w = 0; w < words; w++) to[tw + w] = from[sw + w];
    i = head + words * 4;
  }
  for (; i < length; i++) target[targetOffset + i] = source[sourceOffset + i];
}
