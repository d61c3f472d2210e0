/**
 * Big-endian (and little-endian) integer loads the generated getters call. Each one is tiny on
 * purpose: V8 inlines functions this small eagerly, without charging them to the caller's
 * inlining budget, so a getter like `u16(this.bytes, this.offset + 2)` costs the same as the
 * hand-written index arithmetic while keeping the generated code short.
 */

export function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

export function u24(b: Uint8Array, o: number): number {
  return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
}

/** Unsigned: above 2**31 the value is a double, which stays unboxed once inlined. */
export function u32(b: Uint8Array, o: number): number {
  return u16(b, o) * 0x10000 + u16(b, o + 2);
}

/** A MAC address (48 bits) as `hi16 * 2**32 + lo32`. */
export function u48(b: Uint8Array, o: number): number {
  return u16(b, o) * 0x100000000 + u32(b, o + 2);
}

export function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

export function u32le(b: Uint8Array, o: number): number {
  return u16le(b, o + 2) * 0x10000 + u16le(b, o);
}

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
  for (let i = 0; i < n; i++) out[at + i] = src[i];
}
