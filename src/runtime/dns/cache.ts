/**
 * The resolver's answer cache: positive answers for their TTL, negative ones (NXDOMAIN,
 * NODATA) for the SOA-derived TTL of RFC 2308, both capped, with a bound on the number of
 * entries (least recently used goes first). Time comes from the caller, in clock ms.
 */
import type { DnsValue } from './message.js';

export type CacheEntry =
  | { kind: 'addresses'; addresses: DnsValue[]; expiresAt: number }
  | { kind: 'negative'; code: 'ENOTFOUND' | 'ENODATA'; expiresAt: number };

export interface DnsCacheOptions {
  /** Most entries kept (default 256). */
  maxEntries?: number;
  /** Longest a positive answer is kept, seconds (default 1 day, RFC 8767's usual cap). */
  maxTtl?: number;
  /** Longest a negative answer is kept, seconds (default 3 h, RFC 2308 §5's suggestion). */
  maxNegativeTtl?: number;
}

export class DnsCache {
  /** Map iteration order is insertion order: re-inserting on use keeps it in LRU order. */
  private readonly entries = new Map<string, CacheEntry>();
  private readonly maxEntries: number;
  private readonly maxTtl: number;
  private readonly maxNegativeTtl: number;

  constructor(options: DnsCacheOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 256);
    this.maxTtl = options.maxTtl ?? 86_400;
    this.maxNegativeTtl = options.maxNegativeTtl ?? 10_800;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The live entry for `key`, or undefined (expired entries are removed on the way). */
  get(key: string, now: number): CacheEntry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.entries.delete(key);
    if (now >= e.expiresAt) return undefined;
    this.entries.set(key, e);
    return e;
  }

  /** Caches addresses for `ttl` seconds (0 or less: not cached). */
  setAddresses(key: string, addresses: DnsValue[], ttl: number, now: number): void {
    if (!(ttl > 0)) return;
    this.put(key, {
      kind: 'addresses',
      addresses,
      expiresAt: now + Math.min(ttl, this.maxTtl) * 1000,
    });
  }

  /** Caches a negative answer for `ttl` seconds (negative or 0: not cached, RFC 2308 §5). */
  setNegative(key: string, code: 'ENOTFOUND' | 'ENODATA', ttl: number, now: number): void {
    if (!(ttl > 0)) return;
    this.put(key, {
      kind: 'negative',
      code,
      expiresAt: now + Math.min(ttl, this.maxNegativeTtl) * 1000,
    });
  }

  clear(): void {
    this.entries.clear();
  }

  private put(key: string, entry: CacheEntry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
