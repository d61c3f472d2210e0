/**
 * Big-endian integer loads for the hand-written option cursors (src/codec/options.ts), and the
 * byte copy the generated encoders use. The generated views no longer call loaders: wrap()
 * writes each field's byte loads out in line and the getters return stored values.
 */

// Tiny on purpose: V8 inlines a function of at most 27 bytes of bytecode even where it has no
// call counts. u32 calls the 16-bit load through an unexported name: inside a module, an
// exported binding costs a longer bytecode to load than a local one, which would push u32 over
// that limit.

function be16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function be32(b: Uint8Array, o: number): number {
  return be16(b, o) * 0x10000 + be16(b, o + 2);
}

/** Unsigned 16-bit big-endian. */
export const u16: (b: Uint8Array, o: number) => number = be16;
/** Unsigned 32-bit big-endian. */
export const u32: (b: Uint8Array, o: number) => number = be32;

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
