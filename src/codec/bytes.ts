/** The byte copy the generated encoders use for variable-length byte fields. */

/**
 * Copies `src` into `out` at `at`. A plain loop: for the few dozen bytes of an option list it
 * is several times faster than `out.set()`, which goes through a runtime call.
 */
export function copyBytes(src: Uint8Array, out: Uint8Array, at: number): void {
  const n = src.length;
  if (n > 64) {
    out.set(src, at);
    return;
  }
  let i = 0;
  // Four bytes per iteration: option lists are multiples of 4 bytes.
  for (; i + 3 < n; i += 4) {
    out[at + i] = src[i];
    out[at + i + 1] = src[i + 1];
    out[at + i + 2] = src[i + 2];
    out[at + i + 3] = src[i + 3];
  }
  for (; i < n; i++) out[at + i] = src[i];
}
