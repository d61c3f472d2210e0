import type { Clock, TimerHandle } from '../clock/clock.js';
import type { FrameReceiver, Link, LinkStats } from './link.js';
import { ETHERNET_HEADER_LENGTH } from '../ethernet/ethernet.js';

export interface MemoryLinkPairOptions {
  /** Largest Ethernet payload; frames up to mtu + 14 bytes are carried (default 1500). */
  mtu?: number;
  macA: number;
  macB: number;
  /**
   * When given, delivery is a 0 ms timer on this clock, so a VirtualClock decides when frames
   * arrive. Without it delivery happens on `setImmediate`, which (unlike a microtask) lets I/O
   * and timers run between two ping-ponging stacks.
   */
  clock?: Clock;
  /** Frames each direction may hold before `send` drops (default 1024). */
  queueFrames?: number;
}

export interface MemoryLinkStats extends LinkStats {
  /** Frames dropped on send because the direction's queue was full (also in txDropped). */
  txQueueFull: number;
  /** Frames dropped on send because they were longer than mtu + 14 or shorter than 14. */
  txBadLength: number;
  /** Frames that arrived while no receiver was set (dropped). */
  rxNoReceiver: number;
  /** Delivery batches (receiver.batchEnd calls). */
  rxBatches: number;
}

/**
 * One direction of the pair: a ring of preallocated fixed-size slots, so sending copies into
 * memory owned by the link and nothing is allocated per frame.
 */
class FrameQueue {
  readonly slots: Uint8Array;
  readonly lengths: Int32Array;
  head = 0;
  count = 0;

  constructor(
    readonly capacity: number,
    readonly slotSize: number,
  ) {
    this.slots = new Uint8Array(capacity * slotSize);
    this.lengths = new Int32Array(capacity);
  }

  push(bytes: Uint8Array, offset: number, length: number): boolean {
    if (this.count === this.capacity) return false;
    const index = (this.head + this.count) % this.capacity;
    this.slots.set(bytes.subarray(offset, offset + length), index * this.slotSize);
    this.lengths[index] = length;
    this.count++;
    return true;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }
}

export class MemoryLink implements Link {
  peer!: MemoryLink;
  private receiver: FrameReceiver | undefined;
  private closed = false;
  /** Frames on their way TO this end. */
  private readonly inbound: FrameQueue;
  private scheduled = false;
  private timer: TimerHandle | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly counters: MemoryLinkStats = {
    rxFrames: 0,
    rxBytes: 0,
    txFrames: 0,
    txBytes: 0,
    txDropped: 0,
    txQueueFull: 0,
    txBadLength: 0,
    rxNoReceiver: 0,
    rxBatches: 0,
  };
  private readonly deliverBound = (): void => this.deliver();

  constructor(
    readonly mac: number,
    readonly mtu: number,
    queueFrames: number,
    private readonly clock: Clock | undefined,
  ) {
    this.inbound = new FrameQueue(queueFrames, mtu + ETHERNET_HEADER_LENGTH);
  }

  send(bytes: Uint8Array, offset: number, length: number): boolean {
    const c = this.counters;
    if (this.closed || this.peer.closed) {
      c.txDropped++;
      return false;
    }
    if (
      length < ETHERNET_HEADER_LENGTH ||
      length > this.mtu + ETHERNET_HEADER_LENGTH ||
      offset < 0 ||
      offset + length > bytes.length
    ) {
      c.txBadLength++;
      c.txDropped++;
      return false;
    }
    if (!this.peer.inbound.push(bytes, offset, length)) {
      c.txQueueFull++;
      c.txDropped++;
      return false;
    }
    c.txFrames++;
    c.txBytes += length;
    this.peer.scheduleDelivery();
    return true;
  }

  setReceiver(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }

  stats(): MemoryLinkStats {
    return { ...this.counters };
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.timer?.cancel();
      if (this.immediate !== undefined) clearImmediate(this.immediate);
      this.scheduled = false;
      this.inbound.clear();
    }
    return Promise.resolve();
  }

  private scheduleDelivery(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.clock !== undefined) this.timer = this.clock.setTimer(0, this.deliverBound);
    else this.immediate = setImmediate(this.deliverBound);
  }

  /**
   * Hands over the frames queued when the batch starts; frames sent during the callbacks wait
   * for the next batch, so two stacks answering each other cannot loop inside one delivery.
   */
  private deliver(): void {
    this.scheduled = false;
    this.timer = undefined;
    this.immediate = undefined;
    const q = this.inbound;
    let n = q.count;
    if (n === 0 || this.closed) return;
    const c = this.counters;
    const receiver = this.receiver;
    while (n-- > 0) {
      const index = q.head;
      const length = q.lengths[index];
      if (receiver === undefined) {
        c.rxNoReceiver++;
      } else {
        c.rxFrames++;
        c.rxBytes += length;
        receiver.receive(q.slots, index * q.slotSize, length);
        // close() inside the callback cleared the queue: stop here.
        if (this.closed) return;
      }
      // The slot is released only after the callback, so a send made from inside it cannot
      // overwrite the bytes being read.
      q.head = (q.head + 1) % q.capacity;
      q.count--;
    }
    if (receiver !== undefined) {
      c.rxBatches++;
      receiver.batchEnd();
    }
  }
}

/** Two Links wired back to back: what one sends, the other receives, asynchronously in batches. */
export function createMemoryLinkPair(options: MemoryLinkPairOptions): [MemoryLink, MemoryLink] {
  const mtu = options.mtu ?? 1500;
  const queueFrames = options.queueFrames ?? 1024;
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)
    throw new RangeError(`bad MTU ${mtu} (68..65535)`);
  if (!Number.isInteger(queueFrames) || queueFrames < 1)
    throw new RangeError(`bad queue size ${queueFrames}`);
  const a = new MemoryLink(options.macA, mtu, queueFrames, options.clock);
  const b = new MemoryLink(options.macB, mtu, queueFrames, options.clock);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
