/**
 * ARP for IPv4 over Ethernet (RFC 826), sans-IO: frames go out through the Ethernet layer, time
 * comes from `time.now()` and deadlines are announced through `wake(at)`; the stack calls `tick`.
 *
 * - Cache with a lifetime and a size cap. An entry that was used since it was learnt is refreshed
 *   with a unicast request when it expires instead of being dropped, so a busy flow never stalls.
 * - Resolution with retries. Datagrams waiting for it are copied into a bounded queue (per target
 *   and in total). The datagram that triggers a resolution is always queued; later ones past the
 *   bound are refused and counted, never silently lost.
 * - Replies to requests for our address; gratuitous ARP when our address changes.
 * - Address conflicts (RFC 5227 §2.4): another host claiming our address is defended with one
 *   gratuitous ARP, then not again within 10 s (DEFEND_INTERVAL); each conflict is counted and
 *   told to `conflictListener`, defended or not. We keep the address: a static or leased one is
 *   the configuration's to give up.
 * - Neighbour changes go to `neighborListener`: new entries, and a MAC replaced by a reply or
 *   request from the same address (taken at once, as Linux does: ARP has no authentication,
 *   and refusing would break failover).
 * - Table updates follow RFC 826's merge rule: refresh a sender we already know; add a sender only
 *   when the packet is addressed to us.
 */
import { arp, ethernet as ethernetSpec } from '../../generated/index.js';
import { SendStatus } from '../layers.js';
import type { FrameMeta } from '../link/offload.js';
import { createArpStats, type ArpStats } from '../stats.js';
import {
  BROADCAST_MAC,
  ETHERNET_HEADER_LENGTH,
  isGroupMac,
  type EthernetLayer,
  type MacHolder,
  type EthernetReceiver,
} from '../ethernet/ethernet.js';

const { EtherType } = ethernetSpec;
const ARP_LENGTH = arp.ARP_FIXED_SIZE;
/** RFC 5227 §1.1 DEFEND_INTERVAL: at most one defence of our address this often. */
const DEFEND_INTERVAL_MS = 10_000;

/** Another host claimed our address (RFC 5227 §2.4). */
export interface ArpConflict {
  address: number;
  mac: number;
  /** Whether we answered with a gratuitous ARP (at most once per DEFEND_INTERVAL). */
  defended: boolean;
}

/** A neighbour learnt, or its MAC changed (`previous` the old one; -1 for a new entry). */
export interface ArpNeighborChange {
  address: number;
  mac: number;
  previous: number;
}

export interface ArpOptions {
  /** How long a learnt entry is trusted (ms). Linux's reachable time is 15-45 s. */
  cacheTimeoutMs?: number;
  /** Most entries kept; the one closest to expiry is evicted to make room. */
  cacheSize?: number;
  /** Delay between requests for one target (ms). */
  retryIntervalMs?: number;
  /** Requests sent for one target before its queued datagrams are dropped. */
  maxRequests?: number;
  /** Datagrams queued per unresolved target. */
  queuePerTarget?: number;
  /** Bytes queued across all unresolved targets. */
  queueBytes?: number;
  /** Targets being resolved at once. */
  maxPending?: number;
}

const DEFAULTS: Required<ArpOptions> = {
  cacheTimeoutMs: 60_000,
  cacheSize: 256,
  retryIntervalMs: 1_000,
  maxRequests: 3,
  queuePerTarget: 16,
  queueBytes: 256 * 1024,
  maxPending: 64,
};

/** Receives datagrams that waited for a resolution, once the MAC is known. */
export interface ResolvedSender {
  /**
   * The datagram is at `offset` (with `ETHERNET_HEADER_LENGTH` bytes of headroom before it) in a
   * buffer the ARP layer no longer needs. `meta`: the link's facts it was sent with (a TCP
   * super-frame's GSO type and size, its partial checksum), null for a plain datagram; its
   * `bytes` is not set, the copy being another buffer than the one first sent.
   */
  sendResolved(
    mac: number,
    bytes: Uint8Array,
    offset: number,
    length: number,
    meta: FrameMeta | null,
  ): boolean;
}

/** Something that learns the current time without scheduling anything (a Clock fits). */
export interface TimeSource {
  now(): number;
}

interface CacheEntry {
  mac: number;
  expiresAt: number;
  /** Looked up since it was last confirmed: worth refreshing rather than forgetting. */
  used: boolean;
  /** A refresh request is out; the entry goes at `expiresAt` unless a reply confirms it. */
  refreshing: boolean;
}

/** A copy of a waiting datagram, with Ethernet headroom in front. */
interface QueuedDatagram {
  bytes: Uint8Array;
  /** What the link is to be told with it (see ResolvedSender), or null. */
  meta: FrameMeta | null;
}

interface Pending {
  requestsSent: number;
  nextRequestAt: number;
  packets: QueuedDatagram[];
}

export class ArpLayer implements EthernetReceiver {
  readonly stats: ArpStats = createArpStats();
  private readonly options: Required<ArpOptions>;
  // Both maps are keyed by `ip | 0`: as a signed 32-bit integer every address is a small integer
  // in V8 (an unsigned one above 2^31, like 192.168.x.x, would be a heap number, boxed for
  // every Map call). `key >>> 0` turns a key back into the address.
  private readonly cache = new Map<number, CacheEntry>();
  private readonly pending = new Map<number, Pending>();
  private queued = 0;
  private address = 0;
  private defendedAt = -Infinity;
  conflictListener: ((conflict: ArpConflict) => void) | null = null;
  neighborListener: ((change: ArpNeighborChange) => void) | null = null;
  /**
   * Told of each queued datagram dropped because its target never answered (the datagram at
   * `offset` in `bytes`, valid during the call): the stack reports it to its sender as a host
   * unreachable, as Linux does (arp_error_report -> ipv4_link_failure).
   */
  unresolvedListener: ((bytes: Uint8Array, offset: number, length: number) => void) | null = null;
  private resolvedSender: ResolvedSender | null = null;
  private readonly view = new arp.ArpView();
  private readonly tx = new Uint8Array(ETHERNET_HEADER_LENGTH + ARP_LENGTH);
  private readonly fields: arp.ArpFields = {
    htype: arp.ArpHardware.Ethernet,
    ptype: EtherType.IPv4,
    hlen: 6,
    plen: 4,
    op: arp.ArpOp.Request,
    sha: 0,
    spa: 0,
    tha: 0,
    tpa: 0,
  };

  constructor(
    private readonly ethernet: EthernetLayer,
    private readonly time: TimeSource,
    private readonly wake: (at: number) => void,
    options: ArpOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.fields.sha = ethernet.mac;
  }

  /** Where queued datagrams go once resolved (the IPv4 layer). */
  setResolvedSender(sender: ResolvedSender): void {
    this.resolvedSender = sender;
  }

  /** Our protocol address changed: announce it with a gratuitous ARP (skipped for 0.0.0.0). */
  setAddress(address: number): void {
    const changed = address !== this.address;
    this.address = address;
    if (changed && address !== 0) this.announce();
  }

  /** Broadcasts a gratuitous ARP request (spa = tpa = our address) so neighbours update. */
  announce(): void {
    if (this.address === 0) return;
    this.sendArp(arp.ArpOp.Request, BROADCAST_MAC, 0, this.address);
    this.stats.gratuitousSent++;
  }

  /** The MAC for `ip`, or -1 when unknown (nothing is sent; see `enqueue`). */
  lookup(ip: number): number {
    const entry = this.cache.get(ip | 0);
    if (entry === undefined) return -1;
    entry.used = true;
    return entry.mac;
  }

  /**
   * The cache entry for `ip` (its `mac` field), or null: the allocation-free form of `lookup`
   * for per-datagram paths. The entry object stays valid while it is cached.
   */
  entryFor(ip: number): MacHolder | null {
    const entry = this.cache.get(ip | 0);
    if (entry === undefined) return null;
    entry.used = true;
    return entry;
  }

  /**
   * Keeps a copy of a datagram for `ip` until it resolves, starting the resolution if needed.
   * `bytes[offset, offset+length)` is the IPv4 datagram; `meta`, the link's facts for it (kept
   * with the copy, so a super-frame leaves as one), or null.
   */
  enqueue(
    ip: number,
    bytes: Uint8Array,
    offset: number,
    length: number,
    meta: FrameMeta | null = null,
  ): SendStatus {
    const o = this.options;
    let p = this.pending.get(ip | 0);
    if (p === undefined) {
      if (this.pending.size >= o.maxPending) {
        this.stats.drops.tooManyPending++;
        return SendStatus.Dropped;
      }
      p = { requestsSent: 0, nextRequestAt: 0, packets: [] };
      this.pending.set(ip | 0, p);
      // The first datagram is always kept (bounded by one datagram per pending target).
      this.keep(p, bytes, offset, length, meta);
      this.request(ip, p);
      return SendStatus.Queued;
    }
    if (p.packets.length >= o.queuePerTarget || this.queued + length > o.queueBytes) {
      this.stats.drops.queueFull++;
      return SendStatus.Dropped;
    }
    this.keep(p, bytes, offset, length, meta);
    return SendStatus.Queued;
  }

  receive(bytes: Uint8Array, offset: number, length: number, srcMac: number): void {
    this.stats.rxPackets++;
    const v = this.view;
    if (v.wrap(bytes, offset, length) !== null) {
      this.stats.drops.truncated++;
      return;
    }
    const op = v.op;
    if (
      v.htype !== arp.ArpHardware.Ethernet ||
      v.ptype !== EtherType.IPv4 ||
      v.hlen !== 6 ||
      v.plen !== 4 ||
      (op !== arp.ArpOp.Request && op !== arp.ArpOp.Reply)
    ) {
      this.stats.drops.unsupported++;
      return;
    }
    const sha = v.sha;
    const spa = v.spa;
    const tpa = v.tpa;
    const now = this.time.now();
    if (spa === this.address && spa !== 0 && sha !== this.ethernet.mac && !isGroupMac(sha)) {
      this.conflict(sha, now);
      return;
    }
    if (isGroupMac(sha) || (spa === this.address && spa !== 0) || sha === this.ethernet.mac) {
      // A group MAC, or our own frame looped back: never learn it.
      this.stats.drops.bogusSender++;
      return;
    }
    // RFC 826 merge: a sender already in the table is refreshed whatever the packet's target.
    let merged = false;
    if (spa !== 0) {
      const entry = this.cache.get(spa | 0);
      if (entry !== undefined) {
        this.confirm(entry, sha, now, spa);
        merged = true;
      }
    }
    if (tpa !== this.address || this.address === 0) {
      if (merged) this.flushPending(spa, sha);
      return;
    }
    if (!merged && spa !== 0) this.insert(spa, sha, now);
    if (op === arp.ArpOp.Request) {
      // An ARP probe (spa 0, RFC 5227) gets its answer too, so the prober sees the conflict.
      this.sendArp(arp.ArpOp.Reply, srcMac, sha, spa);
      this.stats.repliesSent++;
    } else {
      this.stats.repliesReceived++;
    }
    if (spa !== 0) this.flushPending(spa, sha);
  }

  /** Expires cache entries, refreshes used ones, retries or gives up pending resolutions. */
  tick(now: number): void {
    const o = this.options;
    let next = Infinity;
    for (const [key, entry] of this.cache) {
      if (entry.expiresAt <= now) {
        if (entry.used && !entry.refreshing) {
          // Still in use: ask the neighbour directly and keep using the entry meanwhile.
          entry.refreshing = true;
          entry.used = false;
          entry.expiresAt = now + o.retryIntervalMs * o.maxRequests;
          this.sendArp(arp.ArpOp.Request, entry.mac, 0, key >>> 0);
          this.stats.requestsSent++;
        } else {
          this.cache.delete(key);
          continue;
        }
      }
      if (entry.expiresAt < next) next = entry.expiresAt;
    }
    for (const [key, p] of this.pending) {
      if (p.nextRequestAt <= now) {
        if (p.requestsSent >= o.maxRequests) {
          this.dropPending(key >>> 0, p);
          const listener = this.unresolvedListener;
          if (listener !== null) {
            for (const { bytes } of p.packets)
              listener(bytes, ETHERNET_HEADER_LENGTH, bytes.length - ETHERNET_HEADER_LENGTH);
          }
          continue;
        }
        this.request(key >>> 0, p);
      }
      if (p.nextRequestAt < next) next = p.nextRequestAt;
    }
    this.stats.cacheEntries = this.cache.size;
    if (next !== Infinity) this.wake(next);
  }

  /** Forgets everything (used on close and when the address changes network). */
  clear(): void {
    for (const [key, p] of this.pending) this.dropPending(key >>> 0, p);
    this.cache.clear();
    this.stats.cacheEntries = 0;
  }

  /** Entries in the cache now. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /** Cache contents for display and tests: [ip, mac] pairs. */
  entries(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (const [key, entry] of this.cache) out.push([key >>> 0, entry.mac]);
    return out;
  }

  /** Bytes of datagrams waiting for a resolution, all targets. */
  get queuedBytes(): number {
    return this.queued;
  }

  /** Targets with datagrams waiting, and how many each. */
  pendingCount(ip: number): number {
    return this.pending.get(ip | 0)?.packets.length ?? 0;
  }

  private keep(
    p: Pending,
    bytes: Uint8Array,
    offset: number,
    length: number,
    meta: FrameMeta | null,
  ): void {
    const copy = new Uint8Array(ETHERNET_HEADER_LENGTH + length);
    copy.set(bytes.subarray(offset, offset + length), ETHERNET_HEADER_LENGTH);
    p.packets.push({ bytes: copy, meta: meta === null ? null : meta.detached() });
    this.queued += length;
  }

  private request(ip: number, p: Pending): void {
    this.sendArp(arp.ArpOp.Request, BROADCAST_MAC, 0, ip);
    this.stats.requestsSent++;
    p.requestsSent++;
    p.nextRequestAt = this.time.now() + this.options.retryIntervalMs;
    this.wake(p.nextRequestAt);
  }

  private dropPending(ip: number, p: Pending): void {
    this.stats.drops.unresolved += p.packets.length;
    for (const { bytes } of p.packets) this.queued -= bytes.length - ETHERNET_HEADER_LENGTH;
    this.pending.delete(ip | 0);
  }

  private flushPending(ip: number, mac: number): void {
    const p = this.pending.get(ip | 0);
    if (p === undefined) return;
    this.pending.delete(ip | 0);
    for (const { bytes, meta } of p.packets) {
      const length = bytes.length - ETHERNET_HEADER_LENGTH;
      this.queued -= length;
      if (
        this.resolvedSender?.sendResolved(mac, bytes, ETHERNET_HEADER_LENGTH, length, meta) === true
      ) {
        this.stats.queuedSent++;
      }
    }
  }

  /** RFC 5227 §2.4 (b): defend once, then not again within DEFEND_INTERVAL. */
  private conflict(mac: number, now: number): void {
    this.stats.conflicts++;
    const defended = now - this.defendedAt >= DEFEND_INTERVAL_MS;
    if (defended) {
      this.defendedAt = now;
      this.announce();
    }
    this.conflictListener?.({ address: this.address, mac, defended });
  }

  private confirm(entry: CacheEntry, mac: number, now: number, ip: number): void {
    if (entry.mac !== mac) {
      this.stats.macChanges++;
      this.neighborListener?.({ address: ip >>> 0, mac, previous: entry.mac });
    }
    entry.mac = mac;
    entry.expiresAt = now + this.options.cacheTimeoutMs;
    entry.refreshing = false;
    entry.used = false;
  }

  private insert(ip: number, mac: number, now: number): void {
    if (this.cache.size >= this.options.cacheSize) this.evictOne();
    const expiresAt = now + this.options.cacheTimeoutMs;
    const entry: CacheEntry = { mac: BROADCAST_MAC, expiresAt, used: false, refreshing: false };
    entry.mac = mac; // (created as a double field first, see EthernetLayer.header)
    this.cache.set(ip | 0, entry);
    this.stats.cacheEntries = this.cache.size;
    this.neighborListener?.({ address: ip >>> 0, mac, previous: -1 });
    this.wake(expiresAt);
  }

  private evictOne(): void {
    let victim: number | undefined;
    let soonest = Infinity;
    for (const [key, entry] of this.cache) {
      if (entry.expiresAt < soonest) {
        soonest = entry.expiresAt;
        victim = key;
      }
    }
    if (victim !== undefined) this.cache.delete(victim);
  }

  private sendArp(op: number, dstMac: number, tha: number, tpa: number): void {
    const f = this.fields;
    f.op = op;
    f.spa = this.address;
    f.tha = tha;
    f.tpa = tpa;
    arp.encodeArp(f, this.tx, ETHERNET_HEADER_LENGTH);
    this.ethernet.send(dstMac, EtherType.ARP, this.tx, 0, ARP_LENGTH);
  }
}
