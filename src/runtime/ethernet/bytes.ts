/**
 * Copying bytes between buffers without allocating. `target.set(source.subarray(a, b))` creates
 * a typed-array object per call, which on a per-frame path is exactly the garbage the stack must
 * not make; a plain loop allocates nothing and V8 compiles it to a tight copy.
 */
export function copyBytes(
  source: Uint8Array,
  sourceOffset: number,
  target: Uint8Array,
  targetOffset: number,
  length: number,
): void {
  if (source === target && targetOffset > sourceOffset) {
    target.copyWithin(targetOffset, sourceOffset, sourceOffset + length);
    return;
  }
  let i = 0;
  // Eight at a time: fewer loop-condition checks for full-size frames.
  for (const end8 = length - 7; i < end8; i += 8) {
    target[targetOffset + i] = source[sourceOffset + i];
    target[targetOffset + i + 1] = source[sourceOffset + i + 1];
    target[targetOffset + i + 2] = source[sourceOffset + i + 2];
    target[targetOffset + i + 3] = source[sourceOffset + i + 3];
    target[targetOffset + i + 4] = source[sourceOffset + i + 4];
    target[targetOffset + i + 5] = source[sourceOffset + i + 5];
    target[targetOffset + i + 6] = source[sourceOffset + i + 6];
    target[targetOffset + i + 7] = source[sourceOffset + i + 7];
  }
  for (; i < length; i++) target[targetOffset + i] = source[sourceOffset + i];
}
