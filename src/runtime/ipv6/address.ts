/**
 * IPv6 addresses as the stack holds them: 16-byte arrays, compared and hashed in place so the
 * receive and send paths allocate nothing. Text only at the edges (configuration, events, JSON).
 *
 * - Interface identifiers: modified EUI-64 from the MAC (RFC 4291 appendix A) or stable opaque
 *   identifiers (RFC 7217), which do not expose the MAC and differ per prefix.
 * - Scopes and the multicast groups a node joins (RFC 4291 §2.7, RFC 4861 §7.2.1).
 */
import { createHash } from 'node:crypto';
import { formatIpv6, ipv6Equals, parseIpv6 } from '../../codec/address.js';

export const IPV6_ADDRESS_LENGTH = 16;

/** ff02::1, all nodes on the link. */
export const ALL_NODES = parseIpv6('ff02::1') as Uint8Array;
/** ff02::2, all routers on the link (router solicitations go there). */
export const ALL_ROUTERS = parseIpv6('ff02::2') as Uint8Array;
/** ff02::16, all MLDv2-capable routers (RFC 3810 §5.2.14: reports go there). */
export const ALL_MLDV2_ROUTERS = parseIpv6('ff02::16') as Uint8Array;
/** ::, the unspecified address (the source of DAD probes). */
export const UNSPECIFIED = new Uint8Array(16);

/** Thrown for address text or prefixes the stack cannot use. */
export class Ipv6AddressError extends Error {
  readonly code = 'E_IPV6_ADDRESS';
  constructor(message: string) {
    super(message);
    this.name = 'Ipv6AddressError';
  }
}

/** An address with its prefix length ("fd00::2/64"). */
export interface Ipv6Prefixed {
  address: Uint8Array;
  prefixLength: number;
}

/** "fd00::2/64" (or without "/len": /128) → bytes and prefix length; throws Ipv6AddressError. */
export function parseIpv6Prefixed(text: string): Ipv6Prefixed {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  let prefixLength = 128;
  if (slash >= 0) {
    const len = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(len) || Number(len) > 128) {
      throw new Ipv6AddressError(`"${text}": bad prefix length (0..128)`);
    }
    prefixLength = Number(len);
  }
  const address = parseIpv6(addrText);
  if (address === null) throw new Ipv6AddressError(`"${text}" is not an IPv6 address`);
  return { address, prefixLength };
}

export function ipv6Text(a: Uint8Array, off = 0): string {
  return formatIpv6(a, off);
}

/** True when the first `length` bits of the two addresses agree. */
export function prefixMatches(
  a: Uint8Array,
  aOff: number,
  b: Uint8Array,
  bOff: number,
  length: number,
): boolean {
  const whole = length >> 3;
  for (let i = 0; i < whole; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  const rest = length & 7;
  if (rest === 0) return true;
  const mask = (0xff00 >> rest) & 0xff;
  return ((a[aOff + whole] ^ b[bOff + whole]) & mask) === 0;
}

/** Number of leading bits two addresses share (RFC 6724 rule 8's CommonPrefixLen). */
export function commonPrefixLength(
  a: Uint8Array,
  aOff: number,
  b: Uint8Array,
  bOff: number,
): number {
  for (let i = 0; i < 16; i++) {
    const x = a[aOff + i] ^ b[bOff + i];
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return 128;
}

export function isUnspecified(a: Uint8Array, off = 0): boolean {
  for (let i = 0; i < 16; i++) if (a[off + i] !== 0) return false;
  return true;
}

export function isMulticast(a: Uint8Array, off = 0): boolean {
  return a[off] === 0xff;
}

/** fe80::/10. */
export function isLinkLocal(a: Uint8Array, off = 0): boolean {
  return a[off] === 0xfe && (a[off + 1] & 0xc0) === 0x80;
}

export function isLoopback(a: Uint8Array, off = 0): boolean {
  for (let i = 0; i < 15; i++) if (a[off + i] !== 0) return false;
  return a[off + 15] === 1;
}

/** Multicast scope (RFC 4291 §2.7): 2 is link-local; unicast link-local counts as 2, else 14. */
export function scopeOf(a: Uint8Array, off = 0): number {
  if (isMulticast(a, off)) return a[off + 1] & 0x0f;
  if (isLinkLocal(a, off) || isLoopback(a, off)) return 2;
  return 14;
}

/** ff02::1:ffXX:XXXX for `a` (RFC 4291 §2.7.1), written into `out`. */
export function solicitedNodeInto(a: Uint8Array, off: number, out: Uint8Array): Uint8Array {
  out.fill(0);
  out[0] = 0xff;
  out[1] = 0x02;
  out[11] = 0x01;
  out[12] = 0xff;
  out[13] = a[off + 13];
  out[14] = a[off + 14];
  out[15] = a[off + 15];
  return out;
}

export function solicitedNode(a: Uint8Array, off = 0): Uint8Array {
  return solicitedNodeInto(a, off, new Uint8Array(16));
}

/** The Ethernet MAC of an IPv6 multicast group (RFC 2464 §7): 33:33 and the last 32 bits. */
export function multicastMac(a: Uint8Array, off: number): number {
  const low = ((a[off + 12] << 24) | (a[off + 13] << 16) | (a[off + 14] << 8) | a[off + 15]) >>> 0;
  return 0x3333 * 0x100000000 + low;
}

/** The modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A), into out[8..16). */
export function eui64Into(mac: number, out: Uint8Array): void {
  const hi = Math.floor(mac / 0x1000000);
  const lo = mac % 0x1000000;
  out[8] = ((hi >>> 16) & 0xff) ^ 0x02;
  out[9] = (hi >>> 8) & 0xff;
  out[10] = hi & 0xff;
  out[11] = 0xff;
  out[12] = 0xfe;
  out[13] = (lo >>> 16) & 0xff;
  out[14] = (lo >>> 8) & 0xff;
  out[15] = lo & 0xff;
}

/** fe80::/64 with the MAC's modified EUI-64 identifier. */
export function linkLocalFromMac(mac: number): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 0xfe;
  out[1] = 0x80;
  eui64Into(mac, out);
  return out;
}

/**
 * RFC 7217: the interface identifier F(prefix, interface, network id, DAD counter, secret key),
 * here SHA-256 of those (the RFC's example PRF), its first 64 bits. The same inputs always give
 * the same address; another prefix, or a DAD retry (counter + 1), gives another.
 */
export function stableAddress(
  prefix: Uint8Array,
  prefixLength: number,
  interfaceName: string,
  dadCounter: number,
  secretKey: Uint8Array,
): Uint8Array {
  if (prefixLength > 64)
    throw new Ipv6AddressError(`/${prefixLength}: SLAAC needs a /64 or shorter`);
  const h = createHash('sha256');
  h.update(prefix.subarray(0, 8));
  h.update(interfaceName);
  h.update(Uint8Array.of(dadCounter & 0xff));
  h.update(secretKey);
  const digest = h.digest();
  const out = new Uint8Array(16);
  out.set(prefix.subarray(0, 8), 0);
  for (let i = 8; i < 16; i++) out[i] = digest[i - 8];
  // RFC 7136: the u/g bits carry no meaning any more; no identifier may be reserved (RFC 5453).
  if (out[8] === 0 && out[9] === 0 && out[10] === 0 && out[11] === 0) out[15] ^= 0x01;
  return out;
}

/** The prefix of `a` (its first `length` bits, the rest zero), as a new array. */
export function prefixOf(a: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(16);
  const whole = length >> 3;
  for (let i = 0; i < whole; i++) out[i] = a[i];
  const rest = length & 7;
  if (rest !== 0) out[whole] = a[whole] & ((0xff00 >> rest) & 0xff);
  return out;
}

/**
 * A Map key for the /64 holding the address at `a[off]`: whom per-host limits count against,
 * since one host commonly holds a whole /64 (RFC 4291 §2.5.1) and could spread a flood over it.
 */
export function prefix64Key(a: Uint8Array, off: number): string {
  let key = '';
  for (let i = 0; i < 8; i++) key += String.fromCharCode(a[off + i]);
  return key;
}

/**
 * A 31-bit hash (FNV-1a) of the 16 bytes at `a[off]`, for table buckets; allocation-free. A
 * table that peers can fill passes a random `seed`, so that they cannot choose colliding keys.
 */
export function hashAddress(a: Uint8Array, off: number, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < 16; i++) h = Math.imul(h ^ a[off + i], 0x01000193);
  return h & 0x7fffffff;
}

/**
 * A map from IPv6 address to T whose lookups read the key in place (no string, no copy): a
 * bucket per hash. Iteration order is insertion order within a bucket only.
 */
export class AddressTable<T extends { readonly address: Uint8Array }> {
  private readonly buckets = new Map<number, T[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(a: Uint8Array, off = 0): T | undefined {
    const bucket = this.buckets.get(hashAddress(a, off));
    if (bucket === undefined) return undefined;
    for (let i = 0; i < bucket.length; i++) {
      if (ipv6Equals(bucket[i].address, 0, a, off)) return bucket[i];
    }
    return undefined;
  }

  /** Adds `value` under its own address (replacing an entry with that address). */
  set(value: T): void {
    const h = hashAddress(value.address, 0);
    let bucket = this.buckets.get(h);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(h, bucket);
    }
    for (let i = 0; i < bucket.length; i++) {
      if (ipv6Equals(bucket[i].address, 0, value.address, 0)) {
        bucket[i] = value;
        return;
      }
    }
    bucket.push(value);
    this.count++;
  }

  delete(a: Uint8Array, off = 0): boolean {
    const h = hashAddress(a, off);
    const bucket = this.buckets.get(h);
    if (bucket === undefined) return false;
    for (let i = 0; i < bucket.length; i++) {
      if (ipv6Equals(bucket[i].address, 0, a, off)) {
        bucket.splice(i, 1);
        if (bucket.length === 0) this.buckets.delete(h);
        this.count--;
        return true;
      }
    }
    return false;
  }

  clear(): void {
    this.buckets.clear();
    this.count = 0;
  }

  *values(): IterableIterator<T> {
    for (const bucket of this.buckets.values()) yield* bucket;
  }
}
