/**
 * A seeded fault injector: a Link middleware that drops, duplicates, reorders, delays, corrupts
 * and rate-limits frames, each configurable per direction. This kernel has no `tc netem`, so
 * every loss test uses this instead. Decisions come from a small PRNG seeded by the caller, and
 * all waiting goes through the Clock, so under the VirtualClock a run replays exactly from its seed.
 *
 * Injected faults look like wire loss to the sender: `send` still returns true for a frame the
 * injector drops (only the inner link's own refusals return false).
 */
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { FrameReceiver, Link, LinkStats } from './link.js';
import { ETHERNET_HEADER_LENGTH } from '../ethernet/ethernet.js';
import { copyBytes } from '../../util/bytes.js';
import { virtio } from '../../generated/index.js';
import { GsoSegmenter } from './gso.js';
import { FrameMeta, GSO_MAX_FRAME, type LinkOffloads } from './offload.js';

/** Checksum states a corrupted frame loses: its receiver must verify it, as after the wire. */
const TRUSTED = virtio.VirtioNetFlags.NeedsCsum | virtio.VirtioNetFlags.DataValid;

/** Where a pipe hands frames on (with the facts of an offloaded one, else null). */
type PipeOut = (
  bytes: Uint8Array,
  offset: number,
  length: number,
  meta: FrameMeta | null,
) => boolean;

export interface DirectionFaults {
  /** Probability (0..1) that a frame is lost. */
  drop?: number;
  /** Probability that a frame is delivered twice. */
  duplicate?: number;
  /** Probability that a frame is held back `reorderMs` so later frames overtake it. */
  reorder?: number;
  /** How long a reordered frame is held (default 1 ms). */
  reorderMs?: number;
  /** Fixed extra latency in ms. */
  delayMs?: number;
  /** Uniform random extra latency in [0, jitterMs) ms (can reorder frames, as on a real path). */
  jitterMs?: number;
  /** Probability that a frame has bits flipped. */
  corrupt?: number;
  /** Bits flipped in a corrupted frame (default 1). */
  corruptBits?: number;
  /** Rate limit in bytes per second (token bucket; frames above the rate wait, FIFO). */
  rateBytesPerSecond?: number;
  /** Bucket depth in bytes: how much may pass at once after idling (default one full frame). */
  burstBytes?: number;
  /** Most bytes waiting for the rate limiter; beyond that frames are dropped (default 64 KiB). */
  rateQueueBytes?: number;
  /** Frames held at once for delay/reorder/rate (default 1024); beyond that they are dropped. */
  maxHeldFrames?: number;
}

export interface FaultOptions {
  seed: number;
  clock: Clock;
  /** Faults on frames the stack sends (towards the inner link). */
  tx?: DirectionFaults;
  /** Faults on frames the inner link receives (towards the stack). */
  rx?: DirectionFaults;
}

export interface FaultCounters {
  /** Frames handed on (duplicates included). */
  passed: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  /** Frames that waited for delay, jitter, reorder or the rate limiter. */
  held: number;
  /** Frames dropped because the rate limiter's backlog was full. */
  rateDropped: number;
  /** Frames dropped because maxHeldFrames were already held. */
  heldOverflow: number;
  /** Held frames discarded by close(). */
  discardedAtClose: number;
  /** tx only: frames the inner link refused when a held frame was finally sent. */
  innerRefused: number;
}

export interface FaultLinkStats extends LinkStats {
  faults: { tx: FaultCounters; rx: FaultCounters };
}

/** xoshiro128** (Blackman & Vigna), seeded through splitmix32: small, fast, reproducible. */
export class Xoshiro128 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function checkProbability(name: string, p: number | undefined): number {
  const v = p ?? 0;
  if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be a probability in 0..1, got ${p}`);
  return v;
}

function checkNonNegative(name: string, v: number | undefined, fallback: number): number {
  const x = v ?? fallback;
  if (!(x >= 0) || !Number.isFinite(x))
    throw new RangeError(`${name} must be a finite number >= 0, got ${v}`);
  return x;
}

const newCounters = (): FaultCounters => ({
  passed: 0,
  dropped: 0,
  duplicated: 0,
  reordered: 0,
  corrupted: 0,
  held: 0,
  rateDropped: 0,
  heldOverflow: 0,
  discardedAtClose: 0,
  innerRefused: 0,
});

/**
 * One direction's pipeline: drop → corrupt → duplicate → rate limit → delay/jitter/reorder →
 * out. Frames that need no waiting go straight out; the others are copied into a pool of slots
 * (made for an MTU-sized frame, grown once for a super-frame) with their offload facts, and
 * released, in due-time order, by one clock timer. A super-frame is one frame here: dropping
 * it drops every segment it stands for, as losing it before the kernel cut it would.
 */
class FaultPipe {
  readonly counters = newCounters();
  private readonly rng: Xoshiro128;
  private readonly drop: number;
  private readonly duplicate: number;
  private readonly reorder: number;
  private readonly reorderMs: number;
  private readonly delayMs: number;
  private readonly jitterMs: number;
  private readonly corrupt: number;
  private readonly corruptBits: number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly rateQueue: number;
  private tokens: number;
  private lastRefill: number;
  /** Whether any fault can make a frame wait. */
  private readonly mayHold: boolean;

  private readonly scratch: Uint8Array;
  private readonly scratchMeta = new FrameMeta();
  private readonly pool: Uint8Array[] = [];
  private readonly metas: FrameMeta[] = [];
  private readonly lengths: Int32Array;
  private readonly due: Float64Array;
  private readonly order: Float64Array;
  private readonly freeSlots: Int32Array;
  private freeCount: number;
  /** Min-heap of slot numbers by (due, order). */
  private readonly heap: Int32Array;
  private heapSize = 0;
  private seq = 0;
  private timer: TimerHandle | undefined;
  private timerDue = Infinity;
  private readonly onTimer = (): void => this.release();
  private closed = false;

  constructor(
    private readonly clock: Clock,
    seed: number,
    /** The largest frame (a super-frame with offloads), and the largest plain one. */
    maxFrame: number,
    mtuFrame: number,
    f: DirectionFaults,
    /** Hands a frame on; returns false if the next hop refused it. */
    private readonly out: PipeOut,
    /** Called after a group of held frames was released (rx: the receiver's batchEnd). */
    private readonly afterRelease: () => void,
  ) {
    this.rng = new Xoshiro128(seed);
    this.drop = checkProbability('drop', f.drop);
    this.duplicate = checkProbability('duplicate', f.duplicate);
    this.reorder = checkProbability('reorder', f.reorder);
    this.corrupt = checkProbability('corrupt', f.corrupt);
    this.reorderMs = checkNonNegative('reorderMs', f.reorderMs, 1);
    this.delayMs = checkNonNegative('delayMs', f.delayMs, 0);
    this.jitterMs = checkNonNegative('jitterMs', f.jitterMs, 0);
    this.corruptBits = Math.max(1, Math.floor(checkNonNegative('corruptBits', f.corruptBits, 1)));
    this.rate = checkNonNegative('rateBytesPerSecond', f.rateBytesPerSecond, 0);
    this.burst = checkNonNegative('burstBytes', f.burstBytes, maxFrame);
    this.rateQueue = checkNonNegative('rateQueueBytes', f.rateQueueBytes, 64 * 1024);
    const held = Math.floor(checkNonNegative('maxHeldFrames', f.maxHeldFrames, 1024));
    this.tokens = this.burst;
    this.lastRefill = clock.now();
    this.mayHold = this.reorder > 0 || this.delayMs > 0 || this.jitterMs > 0 || this.rate > 0;

    this.scratch = new Uint8Array(maxFrame);
    const slots = this.mayHold ? Math.max(1, held) : 0;
    const slotSize = Math.min(maxFrame, mtuFrame);
    for (let i = 0; i < slots; i++) {
      this.pool.push(new Uint8Array(slotSize));
      this.metas.push(new FrameMeta());
    }
    this.lengths = new Int32Array(slots);
    this.due = new Float64Array(slots);
    this.order = new Float64Array(slots);
    this.heap = new Int32Array(slots);
    this.freeSlots = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.freeSlots[i] = slots - 1 - i;
    this.freeCount = slots;
  }

  input(bytes: Uint8Array, offset: number, length: number, meta: FrameMeta | null): void {
    const c = this.counters;
    const rng = this.rng;
    if (this.closed) return;
    if (this.drop > 0 && rng.next() < this.drop) {
      c.dropped++;
      return;
    }
    if (this.corrupt > 0 && rng.next() < this.corrupt && length > 0) {
      // Corrupt a copy: the caller's buffer (the stack's, or the inner link's) stays intact.
      const s = this.scratch;
      s.set(bytes.subarray(offset, offset + length), 0);
      for (let i = 0; i < this.corruptBits; i++) {
        const bit = rng.nextUint32() % (length * 8);
        s[bit >>> 3] ^= 1 << (bit & 7);
      }
      bytes = s;
      offset = 0;
      c.corrupted++;
      if (meta !== null) {
        this.scratchMeta.copyFrom(meta);
        this.scratchMeta.flags &= ~TRUSTED;
        meta = this.scratchMeta;
      }
    }
    let copies = 1;
    if (this.duplicate > 0 && rng.next() < this.duplicate) {
      copies = 2;
      c.duplicated++;
    }
    for (let k = 0; k < copies; k++) this.schedule(bytes, offset, length, meta);
  }

  private schedule(
    bytes: Uint8Array,
    offset: number,
    length: number,
    meta: FrameMeta | null,
  ): void {
    const c = this.counters;
    if (!this.mayHold) {
      this.emit(bytes, offset, length, meta);
      return;
    }
    const now = this.clock.now();
    let at = now;
    if (this.rate > 0) {
      // Token bucket with a FIFO backlog: tokens below zero are bytes waiting for the link.
      this.tokens = Math.min(
        this.burst,
        this.tokens + ((now - this.lastRefill) * this.rate) / 1000,
      );
      this.lastRefill = now;
      if (this.tokens - length < -this.rateQueue) {
        c.rateDropped++;
        return;
      }
      this.tokens -= length;
      if (this.tokens < 0) at += (-this.tokens * 1000) / this.rate;
    }
    at += this.delayMs;
    if (this.jitterMs > 0) at += this.rng.next() * this.jitterMs;
    if (this.reorder > 0 && this.rng.next() < this.reorder) {
      at += this.reorderMs;
      c.reordered++;
    }
    // Due now and nothing held is due before it (FIFO among equals): no need to wait.
    if (at <= now && (this.heapSize === 0 || this.due[this.heap[0]] > at)) {
      this.emit(bytes, offset, length, meta);
      return;
    }
    if (this.freeCount === 0) {
      c.heldOverflow++;
      return;
    }
    const slot = this.freeSlots[--this.freeCount];
    if (this.pool[slot].length < length) this.pool[slot] = new Uint8Array(GSO_MAX_FRAME);
    copyBytes(bytes, offset, this.pool[slot], 0, length);
    const m = this.metas[slot];
    if (meta === null) m.clear();
    else m.copyFrom(meta);
    m.bytes = meta === null ? null : this.pool[slot];
    this.lengths[slot] = length;
    this.due[slot] = at;
    this.order[slot] = this.seq++;
    this.heapPush(slot);
    c.held++;
    this.arm();
  }

  private emit(bytes: Uint8Array, offset: number, length: number, meta: FrameMeta | null): void {
    this.counters.passed++;
    if (!this.out(bytes, offset, length, meta)) this.counters.innerRefused++;
  }

  private arm(): void {
    const first = this.due[this.heap[0]];
    if (this.timer !== undefined && this.timerDue <= first) return;
    this.timer?.cancel();
    this.timerDue = first;
    this.timer = this.clock.setTimer(first - this.clock.now(), this.onTimer);
  }

  private release(): void {
    this.timer = undefined;
    this.timerDue = Infinity;
    if (this.closed) return;
    const now = this.clock.now();
    let released = 0;
    while (this.heapSize > 0 && this.due[this.heap[0]] <= now) {
      const slot = this.heapPop();
      // The slot is freed only after `out` returns, so nothing overwrites the bytes meanwhile.
      const m = this.metas[slot];
      this.emit(this.pool[slot], 0, this.lengths[slot], m.bytes === null ? null : m);
      this.freeSlots[this.freeCount++] = slot;
      released++;
      if (this.closed) return;
    }
    if (released > 0) this.afterRelease();
    if (this.heapSize > 0) this.arm();
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.counters.discardedAtClose += this.heapSize;
    this.heapSize = 0;
  }

  private before(x: number, y: number): boolean {
    const dx = this.due[x];
    const dy = this.due[y];
    return dx < dy || (dx === dy && this.order[x] < this.order[y]);
  }

  private heapPush(slot: number): void {
    const h = this.heap;
    let i = this.heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(slot, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = slot;
  }

  private heapPop(): number {
    const h = this.heap;
    const top = h[0];
    const last = h[--this.heapSize];
    const n = this.heapSize;
    let i = 0;
    while (n > 0) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.before(h[right], h[left]) ? right : left;
      if (!this.before(h[child], last)) break;
      h[i] = h[child];
      i = child;
    }
    if (n > 0) h[i] = last;
    return top;
  }
}

/** Wraps a Link with seeded faults in each direction. */
export class FaultLink implements Link, FrameReceiver {
  readonly mac: number;
  readonly mtu: number;
  /** The inner link's; offloaded frames keep their facts through every fault. */
  readonly offloads: LinkOffloads | undefined;
  readonly rxMeta: FrameMeta | undefined;
  readonly txMeta: FrameMeta | undefined;
  private readonly maxFrame: number;
  private receiver: FrameReceiver | undefined;
  private readonly txPipe: FaultPipe;
  private readonly rxPipe: FaultPipe;

  constructor(
    private readonly inner: Link,
    options: FaultOptions,
  ) {
    this.mac = inner.mac;
    this.mtu = inner.mtu;
    this.offloads = inner.offloads;
    const rxInner = inner.rxMeta;
    const txInner = inner.txMeta;
    this.rxMeta = rxInner === undefined ? undefined : new FrameMeta();
    this.txMeta = txInner === undefined ? undefined : new FrameMeta();
    const mtuFrame = inner.mtu + ETHERNET_HEADER_LENGTH;
    const tso = inner.offloads !== undefined && (inner.offloads.tso4 || inner.offloads.tso6);
    const maxFrame = tso ? Math.max(GSO_MAX_FRAME, mtuFrame) : mtuFrame;
    this.maxFrame = maxFrame;
    // Separate PRNG streams per direction: traffic one way never shifts the other way's faults.
    const seed = options.seed >>> 0;
    this.txPipe = new FaultPipe(
      options.clock,
      seed ^ 0x7478,
      maxFrame,
      mtuFrame,
      options.tx ?? {},
      (b, o, l, m) => {
        if (m === null || txInner === undefined) return inner.send(b, o, l);
        txInner.copyFrom(m);
        txInner.bytes = b;
        const sent = inner.send(b, o, l);
        txInner.clear();
        return sent;
      },
      () => {},
    );
    this.rxPipe = new FaultPipe(
      options.clock,
      seed ^ 0x72780000,
      maxFrame,
      mtuFrame,
      options.rx ?? {},
      (b, o, l, m) => {
        const rx = this.rxMeta;
        if (m === null || rx === undefined) {
          this.receiver?.receive(b, o, l);
          return true;
        }
        rx.copyFrom(m);
        rx.bytes = b;
        this.receiver?.receive(b, o, l);
        rx.clear();
        return true;
      },
      () => this.receiver?.batchEnd(),
    );
    inner.setReceiver(this);
  }

  send(bytes: Uint8Array, offset: number, length: number): boolean {
    const tx = this.txMeta;
    const meta = tx !== undefined && tx.bytes === bytes && GsoSegmenter.needed(tx) ? tx : null;
    const max =
      meta !== null && meta.gsoType !== virtio.VirtioGsoType.None
        ? this.maxFrame
        : this.mtu + ETHERNET_HEADER_LENGTH;
    if (
      length > max ||
      length < ETHERNET_HEADER_LENGTH ||
      offset < 0 ||
      offset + length > bytes.length
    )
      return this.inner.send(bytes, offset, length); // let the inner link refuse and count it
    const refusedBefore = this.txPipe.counters.innerRefused;
    this.txPipe.input(bytes, offset, length, meta);
    if (tx !== undefined) tx.bytes = null;
    // A frame sent straight through and refused by the inner link is a real local drop.
    return this.txPipe.counters.innerRefused === refusedBefore;
  }

  setReceiver(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }

  receive(bytes: Uint8Array, offset: number, length: number): void {
    const m = this.inner.rxMeta;
    this.rxPipe.input(bytes, offset, length, m !== undefined && m.bytes === bytes ? m : null);
  }

  batchEnd(): void {
    this.receiver?.batchEnd();
  }

  stats(): FaultLinkStats {
    return {
      ...this.inner.stats(),
      faults: { tx: { ...this.txPipe.counters }, rx: { ...this.rxPipe.counters } },
    };
  }

  async close(): Promise<void> {
    this.txPipe.close();
    this.rxPipe.close();
    await this.inner.close();
  }
}

/** Wraps `link` with seeded, clock-driven faults (see DirectionFaults). */
export function injectFaults(link: Link, options: FaultOptions): FaultLink {
  return new FaultLink(link, options);
}
