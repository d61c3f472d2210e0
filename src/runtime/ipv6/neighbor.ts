/**
 * The neighbor cache of Neighbor Discovery (RFC 4861 §7.3): Neighbor Unreachability Detection
 * with the five states, sans-IO. Solicitations go out through a `NeighborProber` (the ND layer
 * encodes them); packets waiting for a resolution leave through a `ResolvedSender`.
 *
 *   INCOMPLETE --NA--> REACHABLE --ReachableTime--> STALE --send--> DELAY --5 s--> PROBE
 *        \__ MAX_MULTICAST_SOLICIT unanswered: gone        PROBE: MAX_UNICAST_SOLICIT unanswered: gone
 *   any state --solicited NA / upper-layer confirmation--> REACHABLE
 *
 * Bounded: at most `cacheSize` entries (a STALE one, else the oldest, is evicted; INCOMPLETE
 * entries count against `maxIncomplete` too), `queuePerNeighbor` packets per unresolved
 * neighbor and `queueBytes` in all. The packet that starts a resolution is always queued
 * (unless the byte bound refuses it); later ones past the bounds are refused and counted.
 */
import { copyIpv6 } from '../../codec/address.js';
import { SendStatus } from '../layers.js';
import { ETHERNET_HEADER_LENGTH, type MacHolder } from '../ethernet/ethernet.js';
import { copyBytes } from '../../util/bytes.js';
import type { ResolvedSender } from '../arp/arp.js';
import type { FrameMeta } from '../link/offload.js';
import { AddressTable } from './address.js';

export const NudState = {
  Incomplete: 'INCOMPLETE',
  Reachable: 'REACHABLE',
  Stale: 'STALE',
  Delay: 'DELAY',
  Probe: 'PROBE',
} as const;
export type NudState = (typeof NudState)[keyof typeof NudState];

export interface NeighborOptions {
  /** BaseReachableTime (ms, RFC 4861 §10: 30 s); an RA's reachable time replaces it. */
  reachableTimeMs?: number;
  /** RetransTimer (ms, 1 s) between solicitations; an RA's retrans timer replaces it. */
  retransTimerMs?: number;
  /** DELAY_FIRST_PROBE_TIME (ms, 5 s). */
  delayFirstProbeMs?: number;
  /** MAX_MULTICAST_SOLICIT (3). */
  maxMulticastSolicit?: number;
  /** MAX_UNICAST_SOLICIT (3). */
  maxUnicastSolicit?: number;
  cacheSize?: number;
  /** Entries being resolved at once. */
  maxIncomplete?: number;
  queuePerNeighbor?: number;
  queueBytes?: number;
  /** Uniform [0, 1) source for ReachableTime's jitter (tests pass a seeded one). */
  random?: () => number;
}

const DEFAULTS: Required<NeighborOptions> = {
  reachableTimeMs: 30_000,
  retransTimerMs: 1_000,
  delayFirstProbeMs: 5_000,
  maxMulticastSolicit: 3,
  maxUnicastSolicit: 3,
  cacheSize: 256,
  maxIncomplete: 64,
  queuePerNeighbor: 16,
  queueBytes: 256 * 1024,
  random: Math.random,
};

/** Sends the Neighbor Solicitations the cache decides on. */
export interface NeighborProber {
  /** A solicitation for `target`: to its solicited-node group (`mac` null) or unicast. */
  solicit(target: Uint8Array, mac: MacHolder | null): void;
}

export interface NeighborCounters {
  solicitationsSent: number;
  resolved: number;
  unreachable: number;
  queueDrops: number;
  evicted: number;
}

interface QueuedPacket {
  bytes: Uint8Array;
  offset: number;
  length: number;
  /** What the link is to be told with it (see ResolvedSender), or null. */
  meta: FrameMeta | null;
}

export interface Neighbor {
  readonly address: Uint8Array;
  state: NudState;
  /** The link-layer address (valid once not INCOMPLETE). */
  readonly link: MacHolder;
  isRouter: boolean;
  /** Solicitations sent in the current INCOMPLETE or PROBE episode. */
  probes: number;
  /** When the current state's timer fires (Infinity: none, as in STALE). */
  deadline: number;
  queue: QueuedPacket[];
  queuedBytes: number;
  createdAt: number;
  /** The change listener has heard of this entry's current state. */
  reported: boolean;
}

/** A neighbor as `entries()` lists it. */
export interface NeighborSnapshot {
  address: Uint8Array;
  state: NudState;
  mac: number;
  isRouter: boolean;
}

/** Told when a neighbor is found unreachable (the default router list drops it). */
export type UnreachableListener = (address: Uint8Array) => void;

/**
 * Told of every change of a neighbor's state (and when it leaves the cache: state null), for
 * logs and events. `n` is the live entry: read it during the call only.
 */
export type NeighborChangeListener = (n: Readonly<Neighbor>, state: NudState | null) => void;

export class NeighborCache {
  readonly counters: NeighborCounters = {
    solicitationsSent: 0,
    resolved: 0,
    unreachable: 0,
    queueDrops: 0,
    evicted: 0,
  };
  private readonly o: Required<NeighborOptions>;
  private readonly table = new AddressTable<Neighbor>();
  private incomplete = 0;
  private queued = 0;
  private baseReachable: number;
  private reachable: number;
  private sender: ResolvedSender | null = null;
  unreachableListener: UnreachableListener | null = null;
  /**
   * Told of each queued packet dropped because its neighbor never answered solicitations
   * (valid during the call): the stack reports it to its sender as address unreachable, as
   * Linux does (ndisc_error_report -> ip6_link_failure).
   */
  unresolvedListener: ((bytes: Uint8Array, offset: number, length: number) => void) | null = null;
  changeListener: NeighborChangeListener | null = null;

  private prober: NeighborProber | null = null;

  constructor(
    private readonly wake: (at: number) => void,
    options: NeighborOptions = {},
  ) {
    this.o = { ...DEFAULTS, ...options };
    this.baseReachable = this.o.reachableTimeMs;
    this.reachable = this.jitter();
  }

  /** Who sends the solicitations (the ND layer, set once it exists). */
  setProber(prober: NeighborProber): void {
    this.prober = prober;
  }

  setResolvedSender(sender: ResolvedSender): void {
    this.sender = sender;
  }

  get size(): number {
    return this.table.size;
  }

  get queuedBytes(): number {
    return this.queued;
  }

  /** ReachableTime now in force (the base times a factor in [0.5, 1.5), RFC 4861 §6.3.2). */
  get reachableTime(): number {
    return this.reachable;
  }

  get retransTimer(): number {
    return this.o.retransTimerMs;
  }

  /** An RA's reachable time and retrans timer (0 = unspecified, keep ours). */
  setTimers(reachableTimeMs: number, retransTimerMs: number): void {
    if (reachableTimeMs > 0 && reachableTimeMs !== this.baseReachable) {
      this.baseReachable = reachableTimeMs;
      this.reachable = this.jitter();
    }
    if (retransTimerMs > 0) this.o.retransTimerMs = retransTimerMs;
  }

  get(address: Uint8Array, off = 0): Neighbor | undefined {
    return this.table.get(address, off);
  }

  /**
   * The link address to send to `address` now, or null (then `enqueue`). Sending to a STALE
   * neighbor starts the DELAY timer (§7.3.3).
   */
  entryFor(address: Uint8Array, off: number, now: number): MacHolder | null {
    const n = this.table.get(address, off);
    if (n === undefined || n.state === NudState.Incomplete) return null;
    if (n.state === NudState.Stale) {
      this.setState(n, NudState.Delay);
      n.deadline = now + this.o.delayFirstProbeMs;
      this.wake(n.deadline);
    }
    return n.link;
  }

  /**
   * Queues a packet (copied) for `address`, starting its resolution when none is running.
   * `meta`, the link's facts for it (kept with the copy, so a super-frame leaves as one), or null.
   */
  enqueue(
    address: Uint8Array,
    off: number,
    bytes: Uint8Array,
    offset: number,
    length: number,
    now: number,
    meta: FrameMeta | null = null,
  ): SendStatus {
    let n = this.table.get(address, off);
    if (n === undefined) {
      if (this.incomplete >= this.o.maxIncomplete) {
        this.counters.queueDrops++;
        return SendStatus.Dropped;
      }
      n = this.insert(address, off, now);
      this.setState(n, NudState.Incomplete);
      this.incomplete++;
      n.probes = 1;
      n.deadline = now + this.o.retransTimerMs;
      this.counters.solicitationsSent++;
      this.prober?.solicit(n.address, null);
      this.wake(n.deadline);
    } else if (n.state !== NudState.Incomplete) {
      // Resolved meanwhile (e.g. from inside a receive): nothing to wait for.
      return this.sender !== null &&
        this.sender.sendResolved(n.link.mac, bytes, offset, length, meta)
        ? SendStatus.Sent
        : SendStatus.Dropped;
    }
    if (n.queue.length >= this.o.queuePerNeighbor || this.queued + length > this.o.queueBytes) {
      this.counters.queueDrops++;
      return SendStatus.Dropped;
    }
    // Kept with Ethernet headroom in front, as ResolvedSender expects.
    const copy = new Uint8Array(ETHERNET_HEADER_LENGTH + length);
    copyBytes(bytes, offset, copy, ETHERNET_HEADER_LENGTH, length);
    n.queue.push({
      bytes: copy,
      offset: ETHERNET_HEADER_LENGTH,
      length,
      meta: meta === null ? null : meta.detached(),
    });
    n.queuedBytes += length;
    this.queued += length;
    return SendStatus.Queued;
  }

  /**
   * A Neighbor Advertisement for `target` (RFC 4861 §7.2.5). `mac` is its Target Link-Layer
   * Address option, or -1 when it had none.
   */
  advertisement(
    target: Uint8Array,
    off: number,
    mac: number,
    solicited: boolean,
    override: boolean,
    router: boolean,
    now: number,
  ): void {
    const n = this.table.get(target, off);
    if (n === undefined) return;
    const wasRouter = n.isRouter;
    if (n.state === NudState.Incomplete) {
      if (mac < 0) return;
      n.link.mac = mac;
      n.isRouter = router;
      this.incomplete--;
      this.counters.resolved++;
      if (solicited) this.makeReachable(n, now);
      else this.makeStale(n);
      this.flush(n);
      return;
    }
    const changed = mac >= 0 && mac !== n.link.mac;
    if (!override && changed) {
      // Someone else's claim: keep ours, but a REACHABLE entry is now doubtful.
      if (n.state === NudState.Reachable) this.makeStale(n);
      return;
    }
    if (override || !changed) {
      if (mac >= 0) n.link.mac = mac;
      if (solicited) this.makeReachable(n, now);
      else if (changed) this.makeStale(n);
      n.isRouter = router;
    }
    if (wasRouter && !n.isRouter) this.unreachableListener?.(n.address);
  }

  /**
   * A link-layer address learnt from a solicitation, router solicitation/advertisement or
   * redirect (§7.2.3, §6.3.4): create a STALE entry, or make an entry STALE when it changed.
   */
  learn(address: Uint8Array, off: number, mac: number, now: number, isRouter = false): void {
    let n = this.table.get(address, off);
    if (n === undefined) {
      n = this.insert(address, off, now);
      n.link.mac = mac;
      n.isRouter = isRouter;
      this.makeStale(n);
      return;
    }
    if (isRouter) n.isRouter = true;
    if (n.state === NudState.Incomplete) {
      n.link.mac = mac;
      this.incomplete--;
      this.counters.resolved++;
      this.makeStale(n);
      this.flush(n);
    } else if (mac !== n.link.mac) {
      n.link.mac = mac;
      this.makeStale(n);
    }
  }

  /** Forward progress seen by an upper layer (a TCP ACK for new data, §7.3.1). */
  confirm(address: Uint8Array, off: number, now: number): void {
    const n = this.table.get(address, off);
    if (n !== undefined && n.state !== NudState.Incomplete) this.makeReachable(n, now);
  }

  tick(now: number): void {
    let next = Infinity;
    for (const n of [...this.table.values()]) {
      if (n.deadline <= now) this.expire(n, now);
      if (this.table.get(n.address, 0) === n && n.deadline < next) next = n.deadline;
    }
    if (next < Infinity) this.wake(next);
  }

  /** Forgets a neighbor; its queued packets are dropped (counted). */
  remove(address: Uint8Array, off = 0): void {
    const n = this.table.get(address, off);
    if (n !== undefined) this.drop(n);
  }

  clear(): void {
    for (const n of [...this.table.values()]) this.drop(n);
  }

  entries(): NeighborSnapshot[] {
    return [...this.table.values()].map((n) => ({
      address: n.address.slice(),
      state: n.state,
      mac: n.link.mac,
      isRouter: n.isRouter,
    }));
  }

  private expire(n: Neighbor, now: number): void {
    switch (n.state) {
      case NudState.Incomplete:
        if (n.probes >= this.o.maxMulticastSolicit) {
          this.counters.unreachable++;
          const queue = n.queue;
          this.drop(n);
          const listener = this.unresolvedListener;
          if (listener !== null) for (const p of queue) listener(p.bytes, p.offset, p.length);
          return;
        }
        n.probes++;
        n.deadline = now + this.o.retransTimerMs;
        this.counters.solicitationsSent++;
        this.prober?.solicit(n.address, null);
        return;
      case NudState.Reachable:
        this.makeStale(n);
        return;
      case NudState.Delay:
        this.setState(n, NudState.Probe);
        n.probes = 0;
        this.probe(n, now);
        return;
      case NudState.Probe:
        this.probe(n, now);
        return;
      default:
        n.deadline = Infinity;
    }
  }

  /** PROBE: a unicast solicitation, or the neighbor is gone after MAX_UNICAST_SOLICIT. */
  private probe(n: Neighbor, now: number): void {
    if (n.probes >= this.o.maxUnicastSolicit) {
      this.counters.unreachable++;
      const address = n.address;
      this.drop(n);
      this.unreachableListener?.(address);
      return;
    }
    n.probes++;
    n.deadline = now + this.o.retransTimerMs;
    this.counters.solicitationsSent++;
    this.prober?.solicit(n.address, n.link);
  }

  private setState(n: Neighbor, state: NudState): void {
    if (n.state === state && n.reported) return;
    n.state = state;
    n.reported = true;
    this.changeListener?.(n, state);
  }

  private makeReachable(n: Neighbor, now: number): void {
    this.setState(n, NudState.Reachable);
    n.probes = 0;
    n.deadline = now + this.reachable;
    this.wake(n.deadline);
  }

  private makeStale(n: Neighbor): void {
    this.setState(n, NudState.Stale);
    n.probes = 0;
    n.deadline = Infinity;
  }

  private insert(address: Uint8Array, off: number, now: number): Neighbor {
    if (this.table.size >= this.o.cacheSize) this.evictOne();
    const copy = new Uint8Array(16);
    copyIpv6(address, off, copy, 0);
    const n: Neighbor = {
      address: copy,
      state: NudState.Stale,
      link: { mac: 0xffffffffffff },
      isRouter: false,
      probes: 0,
      deadline: Infinity,
      queue: [],
      queuedBytes: 0,
      createdAt: now,
      reported: false,
    };
    this.table.set(n);
    return n;
  }

  /** Makes room: a STALE entry first (least useful), else the oldest. */
  private evictOne(): void {
    let victim: Neighbor | null = null;
    for (const n of this.table.values()) {
      if (victim === null) victim = n;
      const stale = n.state === NudState.Stale;
      const victimStale = victim.state === NudState.Stale;
      if ((stale && !victimStale) || (stale === victimStale && n.createdAt < victim.createdAt)) {
        victim = n;
      }
    }
    if (victim !== null) {
      this.counters.evicted++;
      this.drop(victim);
    }
  }

  private drop(n: Neighbor): void {
    if (n.state === NudState.Incomplete) this.incomplete--;
    this.counters.queueDrops += n.queue.length;
    this.queued -= n.queuedBytes;
    n.queue = [];
    n.queuedBytes = 0;
    this.table.delete(n.address, 0);
    if (n.reported) this.changeListener?.(n, null);
  }

  private flush(n: Neighbor): void {
    const queue = n.queue;
    n.queue = [];
    this.queued -= n.queuedBytes;
    n.queuedBytes = 0;
    for (const p of queue) {
      if (
        this.sender === null ||
        !this.sender.sendResolved(n.link.mac, p.bytes, p.offset, p.length, p.meta)
      ) {
        this.counters.queueDrops++;
      }
    }
  }

  private jitter(): number {
    return Math.floor(this.baseReachable * (0.5 + this.o.random()));
  }
}
