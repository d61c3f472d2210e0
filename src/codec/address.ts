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

/** RFC 5952 text for 16 bytes (DNS AAAA records). */
export function formatIpv6(bytes: Uint8Array, off: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[off + 2 * i] << 8) | bytes[off + 2 * i + 1]);
  // Longest run (length >= 2) of zero words becomes "::".
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

/**
 * A hardware address of `length` bytes (DHCP chaddr with hlen): a MAC string when it is 6 bytes
 * long, colon hex otherwise. `length` is clamped to the `size` bytes of the field.
 */
export function formatHwAddr(bytes: Uint8Array, off: number, length: number, size: number): string {
  const n = Math.max(0, Math.min(length, size));
  return n === 6 ? formatMac(readMac(bytes, off)) : formatHexColon(bytes, off, n);
}
