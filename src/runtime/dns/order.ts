/**
 * Destination address selection (RFC 6724 §6): the order `lookup` returns a name's addresses
 * in, as getaddrinfo sorts them. Pure: what we know about our own addresses comes in as
 * `sourceFor` (the source address we would use for a destination, or none) and a policy table.
 *
 * IPv4 destinations and sources are compared in their IPv4-mapped form (::ffff:a.b.c.d), as
 * the RFC does. The rules that apply to a stack like ours:
 *   1. avoid unusable destinations (no source address for them);
 *   2. prefer matching scope (Scope(D) = Scope(Source(D)));
 *   3. avoid deprecated source addresses;
 *   5. prefer matching label (Label(Source(D)) = Label(D));
 *   6. prefer higher precedence;
 *   8. prefer smaller scope;
 *   9. prefer the longest matching prefix (CommonPrefixLen(Source(D), D), up to the source's
 *      prefix length), between destinations of one family;
 *  10. otherwise keep the order they came in (the sort is stable).
 * Rules 4 (home addresses) and 7 (native transport) have nothing to tell apart here.
 */
import { parseIpv6 } from '../../codec/address.js';
import { commonPrefixLength, prefixMatches, scopeOf } from '../ipv6/address.js';

/** One row of the policy table (RFC 6724 §2.1). */
export interface PolicyEntry {
  readonly prefix: Uint8Array;
  readonly prefixLength: number;
  readonly precedence: number;
  readonly label: number;
}

/** The source address we would use for a destination. */
export interface DestinationSource {
  /** 16 bytes; an IPv4 source in its IPv4-mapped form. */
  readonly address: Uint8Array;
  /** The prefix length of that address (for an IPv4 source, 96 + its netmask's length). */
  readonly prefixLength: number;
  readonly deprecated: boolean;
}

/** The addresses and table the rules read: ours, reached through `sourceFor`. */
export interface AddressSelection {
  /** The source for `dst` (16 bytes, IPv4 mapped), or null when we have none for it. */
  sourceFor(dst: Uint8Array): DestinationSource | null;
  /** The policy table to use (DEFAULT_POLICY, maybe with site rows: see withSitePolicy). */
  policy(): readonly PolicyEntry[];
  /**
   * Which families we have an address of beyond loopback and link-local scope (what
   * getaddrinfo's AI_ADDRCONFIG asks).
   */
  configured(): { ipv4: boolean; ipv6: boolean };
}

function row(text: string, prefixLength: number, precedence: number, label: number): PolicyEntry {
  return { prefix: parseIpv6(text) as Uint8Array, prefixLength, precedence, label };
}

/** RFC 6724 §2.1's default policy table. */
export const DEFAULT_POLICY: readonly PolicyEntry[] = Object.freeze([
  row('::1', 128, 50, 0), // loopback
  row('::', 0, 40, 1),
  row('::ffff:0:0', 96, 35, 4), // IPv4-mapped
  row('2002::', 16, 30, 2), // 6to4
  row('2001::', 32, 5, 5), // Teredo
  row('fc00::', 7, 3, 13), // unique local
  row('::', 96, 1, 3), // IPv4-compatible (deprecated)
  row('fec0::', 10, 1, 11), // site-local (deprecated)
  row('3ffe::', 16, 1, 12), // 6bone (returned)
]);

/**
 * RFC 6724 §10.6: a node with a unique local address prefers its own site's ULAs to IPv4 and to
 * global addresses, by a row for each /48 of its ULAs at precedence 45, label 14 ("an
 * implementation might choose to add such a row automatically on a machine with a ULA").
 * ULAs of other sites keep the default's precedence 3.
 */
export function withSitePolicy(
  base: readonly PolicyEntry[],
  ours: readonly Uint8Array[],
): readonly PolicyEntry[] {
  const rows: PolicyEntry[] = [];
  for (const a of ours) {
    if ((a[0] & 0xfe) !== 0xfc) continue;
    if (rows.some((r) => prefixMatches(r.prefix, 0, a, 0, 48))) continue;
    const prefix = new Uint8Array(16);
    prefix.set(a.subarray(0, 6));
    rows.push({ prefix, prefixLength: 48, precedence: 45, label: 14 });
  }
  return rows.length === 0 ? base : [...rows, ...base];
}

/** The longest-prefix row of `table` for `a` (the table's ::/0 row matches everything). */
export function policyOf(a: Uint8Array, table: readonly PolicyEntry[]): PolicyEntry {
  let best: PolicyEntry | null = null;
  for (const r of table) {
    if (prefixMatches(r.prefix, 0, a, 0, r.prefixLength)) {
      if (best === null || r.prefixLength > best.prefixLength) best = r;
    }
  }
  return best ?? { prefix: new Uint8Array(16), prefixLength: 0, precedence: 40, label: 1 };
}

export function isIpv4Mapped(a: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

/** ::ffff:a.b.c.d for the IPv4 address `v4`. */
export function ipv4Mapped(v4: number): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out[12] = v4 >>> 24;
  out[13] = (v4 >>> 16) & 0xff;
  out[14] = (v4 >>> 8) & 0xff;
  out[15] = v4 & 0xff;
  return out;
}

/**
 * The scope of an address for these rules (RFC 6724 §3.1): IPv4 loopback (127/8) and
 * link-local (169.254/16) addresses are link-local (2), other IPv4 addresses global (14);
 * IPv6 addresses by RFC 4291 (scopeOf).
 */
export function selectionScope(a: Uint8Array): number {
  if (isIpv4Mapped(a)) return a[12] === 127 || (a[12] === 169 && a[13] === 254) ? 2 : 14;
  return scopeOf(a, 0);
}

interface Candidate<T> {
  item: T;
  dst: Uint8Array;
  src: DestinationSource | null;
  scope: number;
  policy: PolicyEntry;
  srcScope: number;
  srcLabel: number;
  index: number;
}

/** Negative when `a` goes first, positive when `b` does, 0 when no rule tells them apart. */
function compare<T>(a: Candidate<T>, b: Candidate<T>): number {
  // Rule 1: a destination we have no source for is unusable.
  if ((a.src === null) !== (b.src === null)) return a.src === null ? 1 : -1;
  if (a.src === null || b.src === null) return 0;
  // Rule 2: matching scope.
  const am = a.scope === a.srcScope;
  const bm = b.scope === b.srcScope;
  if (am !== bm) return am ? -1 : 1;
  // Rule 3: avoid deprecated sources.
  if (a.src.deprecated !== b.src.deprecated) return a.src.deprecated ? 1 : -1;
  // Rule 5: matching label.
  const al = a.policy.label === a.srcLabel;
  const bl = b.policy.label === b.srcLabel;
  if (al !== bl) return al ? -1 : 1;
  // Rule 6: higher precedence.
  if (a.policy.precedence !== b.policy.precedence) return b.policy.precedence - a.policy.precedence;
  // Rule 8: smaller scope.
  if (a.scope !== b.scope) return a.scope - b.scope;
  // Rule 9: longest matching prefix, within one family.
  if (isIpv4Mapped(a.dst) === isIpv4Mapped(b.dst)) {
    const ap = Math.min(commonPrefixLength(a.src.address, 0, a.dst, 0), a.src.prefixLength);
    const bp = Math.min(commonPrefixLength(b.src.address, 0, b.dst, 0), b.src.prefixLength);
    if (ap !== bp) return bp - ap;
  }
  return 0;
}

/**
 * `items` in RFC 6724 order. `addressOf` gives each item's address (16 bytes, IPv4 mapped);
 * `selection` what we know about our side. Returns a new array; ties keep their input order.
 */
export function sortDestinations<T>(
  items: readonly T[],
  addressOf: (item: T) => Uint8Array,
  selection: AddressSelection,
): T[] {
  const table = selection.policy();
  const candidates = items.map((item, index): Candidate<T> => {
    const dst = addressOf(item);
    const src = selection.sourceFor(dst);
    return {
      item,
      dst,
      src,
      scope: selectionScope(dst),
      policy: policyOf(dst, table),
      srcScope: src === null ? -1 : selectionScope(src.address),
      srcLabel: src === null ? -1 : policyOf(src.address, table).label,
      index,
    };
  });
  candidates.sort((a, b) => compare(a, b) || a.index - b.index);
  return candidates.map((c) => c.item);
}
