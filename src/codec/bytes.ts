/**
 * Big-endian (and little-endian) integer loads the generated getters call. Each one is tiny on
 * purpose: V8 inlines functions this small eagerly, without charging them to the caller's
 * inlining budget, so a getter like `u16(this.bytes, this.offset + 2)` costs the same as the
 * hand-written index arithmetic while keeping the generated code short.
 */

// Every load is a tiny function: V8 inlines a function of at most 27 bytes of bytecode even
// where it has no call counts (the case inside getters), so these cost nothing once inlined; a
// 32-bit value above 2**31 is a double, which is only boxed when it crosses a call that was not
// inlined. The wide loads are composed of smaller ones to stay under that size, and they call
// each other through these unexported names: inside a module, an exported binding costs a
// longer bytecode to load than a local one, which would push u32 over the limit.

function be16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function be16x16(b: Uint8Array, o: number): number {
  return be16(b, o) * 0x10000;
}

function be16x32(b: Uint8Array, o: number): number {
  return be16(b, o) * 0x100000000;
}

function be24(b: Uint8Array, o: number): number {
  return (b[o] << 16) | be16(b, o + 1);
}

function be32(b: Uint8Array, o: number): number {
  return be16x16(b, o) + be16(b, o + 2);
}

function be48(b: Uint8Array, o: number): number {
  return be16x32(b, o) + be32(b, o + 2);
}

function le16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function le16x16(b: Uint8Array, o: number): number {
  return le16(b, o) * 0x10000;
}

function le32(b: Uint8Array, o: number): number {
  return le16x16(b, o + 2) + le16(b, o);
}

/** Unsigned 16-bit big-endian. */
export const u16: (b: Uint8Array, o: number) => number = be16;
/** Unsigned 24-bit big-endian. */
export const u24: (b: Uint8Array, o: number) => number = be24;
/** Unsigned 32-bit big-endian. */
export const u32: (b: Uint8Array, o: number) => number = be32;
/** A MAC address (48 bits) as `hi16 * 2**32 + lo32`. */
export const u48: (b: Uint8Array, o: number) => number = be48;
/** Unsigned 16-bit little-endian. */
export const u16le: (b: Uint8Array, o: number) => number = le16;
/** Unsigned 32-bit little-endian. */
export const u32le: (b: Uint8Array, o: number) => number = le32;

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
