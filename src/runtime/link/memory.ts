import type { Clock, TimerHandle } from '../clock/clock.js';
import type { FrameReceiver, Link, LinkStats } from './link.js';
import { ETHERNET_HEADER_LENGTH } from '../ethernet/ethernet.js';
import { copyBytes } from '../../util/bytes.js';
import { virtio } from '../../generated/index.js';
import { GsoSegmenter } from './gso.js';
import {
  FrameMeta,
  GSO_MAX_FRAME,
  NO_OFFLOADS,
  offloadsFromTunFlags,
  type LinkOffloads,
} from './offload.js';

/** What an end of a memory link with `offload` offers: what a TAP takes on this kernel. */
const MEMORY_OFFLOADS: LinkOffloads = offloadsFromTunFlags(
  false,
  virtio.TunOffload.Csum | virtio.TunOffload.Tso4 | virtio.TunOffload.Tso6,
  null,
);

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
  /**
   * End A / end B offers checksum and TCP segmentation offloads (csum, tso4, tso6), as a TAP
   * opened with `offload` does (default false). Such an end may send TCP super-frames up to
   * 64 KiB and partial checksums (through `txMeta`); the other end receives them as they are,
   * with their facts in its `rxMeta`, when it offers offloads too, and otherwise cut into
   * MSS-sized frames with complete checksums (gso.ts), as the kernel would.
   */
  offloadA?: boolean;
  offloadB?: boolean;
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
  /** Super-frames or partial checksums cut or completed for an end without offloads. */
  txSegmented: number;
}

/**
 * One direction of the pair: a ring of slots, each a buffer of its own made up front for an
 * MTU-sized frame and grown (once) when a larger one comes, so a queue that may carry 64 KiB
 * super-frames does not reserve 64 KiB per slot; sending copies into memory owned by the link.
 */
class FrameQueue {
  readonly slots: Uint8Array[] = [];
  readonly lengths: Int32Array;
  readonly metas: FrameMeta[] = [];
  head = 0;
  count = 0;

  constructor(
    readonly capacity: number,
    slotSize: number,
  ) {
    for (let i = 0; i < capacity; i++) {
      this.slots.push(new Uint8Array(slotSize));
      this.metas.push(new FrameMeta());
    }
    this.lengths = new Int32Array(capacity);
  }

  push(bytes: Uint8Array, offset: number, length: number, meta: FrameMeta | null): boolean {
    if (this.count === this.capacity) return false;
    const index = (this.head + this.count) % this.capacity;
    let slot = this.slots[index];
    if (slot.length < length) slot = this.slots[index] = new Uint8Array(GSO_MAX_FRAME);
    copyBytes(bytes, offset, slot, 0, length);
    this.lengths[index] = length;
    const m = this.metas[index];
    if (meta === null) m.clear();
    else m.copyFrom(meta);
    m.bytes = slot;
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
  readonly offloads: LinkOffloads;
  readonly rxMeta: FrameMeta | undefined;
  readonly txMeta: FrameMeta | undefined;
  private receiver: FrameReceiver | undefined;
  private closed = false;
  /** Frames on their way TO this end. */
  private readonly inbound: FrameQueue;
  /** Cuts this end's super-frames for a peer without offloads (made on first need). */
  private segmenter: GsoSegmenter | null = null;
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
    txSegmented: 0,
  };
  private readonly deliverBound = (): void => this.deliver();
  /** Hands one cut segment to the peer (bound once: the segmenter calls it per segment). */
  private readonly pushPlain = (bytes: Uint8Array, offset: number, length: number): boolean =>
    this.pushToPeer(bytes, offset, length, null);

  constructor(
    readonly mac: number,
    readonly mtu: number,
    queueFrames: number,
    private readonly clock: Clock | undefined,
    offload = false,
  ) {
    this.inbound = new FrameQueue(queueFrames, mtu + ETHERNET_HEADER_LENGTH);
    this.offloads = offload ? MEMORY_OFFLOADS : NO_OFFLOADS;
    this.rxMeta = offload ? new FrameMeta() : undefined;
    this.txMeta = offload ? new FrameMeta() : undefined;
  }

  send(bytes: Uint8Array, offset: number, length: number): boolean {
    const c = this.counters;
    const meta = this.txMeta;
    const offloaded = meta !== undefined && meta.bytes === bytes && GsoSegmenter.needed(meta);
    if (meta !== undefined) meta.bytes = null; // taken (or stale): never for another frame
    if (this.closed || this.peer.closed) {
      c.txDropped++;
      return false;
    }
    const max =
      offloaded && meta.gsoType !== virtio.VirtioGsoType.None
        ? GSO_MAX_FRAME
        : this.mtu + ETHERNET_HEADER_LENGTH;
    if (
      length < ETHERNET_HEADER_LENGTH ||
      length > max ||
      offset < 0 ||
      offset + length > bytes.length
    ) {
      c.txBadLength++;
      c.txDropped++;
      return false;
    }
    let sent: boolean;
    if (!offloaded) sent = this.pushToPeer(bytes, offset, length, null);
    else if (this.peer.rxMeta !== undefined) sent = this.pushToPeer(bytes, offset, length, meta);
    else {
      // The peer takes no offloads: it gets what the kernel's GSO would make of the frame.
      this.segmenter ??= new GsoSegmenter(this.peer.mtu + ETHERNET_HEADER_LENGTH);
      c.txSegmented++;
      sent = this.segmenter.segment(bytes, offset, length, meta, this.pushPlain) > 0;
    }
    if (!sent) {
      c.txDropped++;
      return false;
    }
    c.txFrames++;
    c.txBytes += length;
    return true;
  }

  private pushToPeer(
    bytes: Uint8Array,
    offset: number,
    length: number,
    meta: FrameMeta | null,
  ): boolean {
    if (!this.peer.inbound.push(bytes, offset, length, meta)) {
      this.counters.txQueueFull++;
      return false;
    }
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
    const rxMeta = this.rxMeta;
    while (n-- > 0) {
      const index = q.head;
      const length = q.lengths[index];
      if (receiver === undefined) {
        c.rxNoReceiver++;
      } else {
        c.rxFrames++;
        c.rxBytes += length;
        rxMeta?.copyFrom(q.metas[index]);
        receiver.receive(q.slots[index], 0, length);
        rxMeta?.clear();
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
  const a = new MemoryLink(options.macA, mtu, queueFrames, options.clock, options.offloadA);
  const b = new MemoryLink(options.macB, mtu, queueFrames, options.clock, options.offloadB);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
