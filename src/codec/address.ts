/**
 * Addresses are numbers in hot paths: IPv4 as an unsigned 32-bit integer, MAC as a 48-bit
 * integer (`hi16 * 2**32 + lo32`). Strings only appear for humans (toJSON, describe, config).
 */

const TWO_32 = 4294967296;

export function readIpv4(bytes: Uint8Array, off: number): number {
  return (
    ((bytes[off] << 24) | (bytes[off + 1] << 16) | (bytes[off + 2] << 8) | bytes[off + 3]) >>> 0
  );
}

export function writeIpv4(bytes: Uint8Array, off: number, n: number): void {
  bytes[off] = n >>> 24;
  bytes[off + 1] = n >>> 16;
  bytes[off + 2] = n >>> 8;
  bytes[off + 3] = n;
}

export function readMac(bytes: Uint8Array, off: number): number {
  return (
    ((bytes[off] << 8) | bytes[off + 1]) * TWO_32 +
    (((bytes[off + 2] << 24) | (bytes[off + 3] << 16) | (bytes[off + 4] << 8) | bytes[off + 5]) >>>
      0)
  );
}

export function writeMac(bytes: Uint8Array, off: number, n: number): void {
  // Integer halves without Math.floor (n is below 2**48, so the quotient fits an int32);
  // `| 0` keeps the low 32 bits as an int32, whose bytes are those of the uint32.
  const hi = (n / TWO_32) | 0;
  const lo = n | 0;
  bytes[off] = hi >> 8;
  bytes[off + 1] = hi;
  bytes[off + 2] = lo >> 24;
  bytes[off + 3] = lo >> 16;
  bytes[off + 4] = lo >> 8;
  bytes[off + 5] = lo;
}

/** `0x0a000002` → `"10.0.0.2"`. */
export function formatIpv4(n: number): string {
  return `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** `"10.0.0.2"` → `0x0a000002`; -1 when the text is not a dotted quad. */
export function parseIpv4(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (m === null) return -1;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = Number(m[i]);
    if (part > 255) return -1;
    n = n * 256 + part;
  }
  return n;
}

function hex2(b: number): string {
  return (b < 16 ? '0' : '') + b.toString(16);
}

/** `0xaabbccddeeff` → `"aa:bb:cc:dd:ee:ff"`. */
export function formatMac(n: number): string {
  const hi = Math.floor(n / TWO_32) & 0xffff;
  const lo = n >>> 0;
  return [hi >>> 8, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff]
    .map(hex2)
    .join(':');
}

/** `"aa:bb:cc:dd:ee:ff"` (or with `-`) → 48-bit number; -1 when malformed. */
export function parseMac(s: string): number {
  const m =
    /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(
      s,
    );
  if (m === null) return -1;
  let n = 0;
  for (let i = 1; i <= 6; i++) n = n * 256 + parseInt(m[i], 16);
  return n;
}

/** Colon-separated hex of `length` bytes (hardware addresses that are not 6 bytes long). */
export function formatHexColon(bytes: Uint8Array, off: number, length: number): string {
  const parts: string[] = [];
  for (let i = 0; i < length; i++) parts.push(hex2(bytes[off + i]));
  return parts.join(':');
}

/** Plain hex of `length` bytes, for raw values in toJSON(). */
export function formatHex(bytes: Uint8Array, off: number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += hex2(bytes[off + i]);
  return s;
}

/**
 * RFC 5952 text for the 16 bytes at `off` (IPv6 fields, DNS AAAA records): lowercase hex without
 * leading zeros; the longest run of two or more zero groups (the first of equal runs) becomes
 * `::` (a single zero group stays `0`); an IPv4-mapped address (::ffff:0:0/96, RFC 5952 §5) ends
 * in dotted decimal: `::ffff:192.0.2.1`.
 */
export function formatIpv6(bytes: Uint8Array, off: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[off + 2 * i] << 8) | bytes[off + 2 * i + 1]);
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0) {
    if (words[5] === 0xffff) return `::ffff:${formatIpv4(readIpv4(bytes, off + 12))}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return words.map((w) => w.toString(16)).join(':');
  const head = words
    .slice(0, bestStart)
    .map((w) => w.toString(16))
    .join(':');
  const tail = words
    .slice(bestStart + bestLen)
    .map((w) => w.toString(16))
    .join(':');
  return `${head}::${tail}`;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The dotted quad that makes up all of `s` from `i` as a uint32, or -1. */
function dottedQuadAt(s: string, i: number): number {
  let n = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (s.charCodeAt(i) !== 46) return -1;
      i++;
    }
    let v = 0;
    let digits = 0;
    for (let c = s.charCodeAt(i); c >= 48 && c <= 57 && digits < 4; c = s.charCodeAt(i)) {
      v = v * 10 + (c - 48);
      digits++;
      i++;
    }
    if (digits === 0 || digits > 3 || v > 255) return -1;
    n = n * 256 + v;
  }
  return i === s.length ? n : -1;
}

/**
 * Parses IPv6 text (RFC 4291 §2.2: hex groups, one `::`, an optional dotted-quad tail, any
 * case) straight into `out[off..off+16)` without allocating; false when the text is malformed
 * or `out` has no room (the 16 bytes are then unspecified).
 */
export function writeIpv6(out: Uint8Array, off: number, s: string): boolean {
  if (!(off >= 0 && off + 16 <= out.length)) return false;
  const n = s.length;
  let i = 0;
  let w = 0;
  let gap = -1;
  if (n >= 2 && s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    gap = 0;
    i = 2;
  } else if (n === 0 || s.charCodeAt(0) === 58) {
    return false;
  }
  while (i < n) {
    let j = i;
    let v = 0;
    for (let d = hexValue(s.charCodeAt(j)); d >= 0 && j - i < 5; d = hexValue(s.charCodeAt(j))) {
      v = v * 16 + d;
      j++;
    }
    if (s.charCodeAt(j) === 46) {
      // The last 32 bits as a dotted quad (::ffff:192.0.2.1).
      const q = w <= 6 ? dottedQuadAt(s, i) : -1;
      if (q < 0) return false;
      writeIpv4(out, off + 2 * w, q);
      w += 2;
      break;
    }
    if (j === i || j - i > 4 || w >= 8) return false;
    out[off + 2 * w] = v >>> 8;
    out[off + 2 * w + 1] = v;
    w++;
    if (j === n) break;
    if (s.charCodeAt(j) !== 58) return false;
    if (s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return false;
      gap = w;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === n) return false;
    }
  }
  if (gap < 0) return w === 8;
  // `::` stands for one or more zero groups: move the groups after it to the end.
  if (w >= 8) return false;
  const tail = w - gap;
  out.copyWithin(off + 2 * (8 - tail), off + 2 * gap, off + 2 * w);
  out.fill(0, off + 2 * gap, off + 2 * (8 - tail));
  return true;
}

/**
 * An IPv6 address as an encoder takes it: RFC 5952 / RFC 4291 text, or its 16 bytes (what a
 * stack holds, so a hot path sends without formatting or parsing text).
 */
export type Ipv6Value = string | Uint8Array;

/**
 * Writes an address given as text or as 16 bytes into `out[off..off+16)`; false when the text is
 * malformed, the array is not 16 bytes long, or `out` has no room. Allocates nothing.
 */
export function putIpv6(out: Uint8Array, off: number, v: Ipv6Value): boolean {
  if (typeof v === 'string') return writeIpv6(out, off, v);
  if (v.length !== 16 || !(off >= 0 && off + 16 <= out.length)) return false;
  for (let i = 0; i < 16; i++) out[off + i] = v[i];
  return true;
}

/** IPv6 text → 16 bytes (allocates; for config and tests), or null when malformed. */
export function parseIpv6(s: string): Uint8Array | null {
  const out = new Uint8Array(16);
  return writeIpv6(out, 0, s) ? out : null;
}

/** True when the 16 bytes at `a[aOff]` equal those at `b[bOff]` (false if either is short). */
export function ipv6Equals(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  if (!(aOff >= 0 && aOff + 16 <= a.length && bOff >= 0 && bOff + 16 <= b.length)) return false;
  for (let i = 0; i < 16; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** 32-bit word k (0..3, big-endian) of the IPv6 address at `bytes[off]` as uint32; 0 when k is out of range. */
export function ipv6Word(bytes: Uint8Array, off: number, k: number): number {
  if (!(k >= 0 && k < 4)) return 0;
  const o = off + 4 * k;
  return ((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) >>> 0;
}

/** Writes the 16 bytes at `bytes[off]` at `out[outOffset]`; false (nothing written) when they do not fit. */
export function copyIpv6(
  bytes: Uint8Array,
  off: number,
  out: Uint8Array,
  outOffset: number,
): boolean {
  if (!(outOffset >= 0 && outOffset + 16 <= out.length)) return false;
  for (let k = 0; k < 16; k++) out[outOffset + k] = bytes[off + k];
  return true;
}

/**
 * A 64-bit big-endian unsigned value from its two uint32 halves, for toJSON and the value form
 * (allocates a bigint; views expose the halves).
 */
export function u64FromHalves(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * A hardware address of `length` bytes (DHCP chaddr with hlen): a MAC string when it is 6 bytes
 * long, colon hex otherwise. `length` is clamped to the `size` bytes of the field.
 */
export function formatHwAddr(bytes: Uint8Array, off: number, length: number, size: number): string {
  const n = Math.max(0, Math.min(length, size));
  return n === 6 ? formatMac(readMac(bytes, off)) : formatHexColon(bytes, off, n);
}
