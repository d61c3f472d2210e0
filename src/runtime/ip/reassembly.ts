/**
 * Fragment reassembly as both IP versions do it (RFC 791 section 3.2, RFC 8200 section 4.5, RFC
 * 815's idea of tracking what is still missing); the IPv4 and IPv6 fronts (ipv4/reassembly.ts,
 * ipv6/reassembly.ts) own the key, find their datagram in `datagrams` with their own compares,
 * check their version's rules, and hand each fragment to a FragmentTable.
 *
 * Each datagram keeps its fragments as they arrived and a small head buffer of `headerRoom`
 * bytes for the first fragment's header, so it costs what was received, not what its offsets
 * claim (a lone fragment at offset 64,000 holds one 2 KiB slot, not 64 KiB). Fragment data goes
 * into slots of a slab that grows in 128 KiB chunks up to `maxBytes` and is kept, so a stack
 * that never sees a fragment holds no slab and a flood allocates nothing per fragment once the
 * chunks exist; one larger than a slot (from a jumbo-frame link) gets its own copy, charged
 * its length.
 * When the last hole fills, one buffer of header room + payload is built and the fragments
 * copied in once, and the datagram is handed up contiguous, header included. Received byte
 * ranges are kept as a sorted list of disjoint intervals:
 * - a fragment entirely inside what was already received is a duplicate: ignored;
 * - a fragment that partially overlaps received data discards the whole datagram, as Linux does
 *   since the FragmentSmack fixes (overlaps are only ever produced by attacks or broken senders);
 *   with `keepDiscarded` the datagram stays as a bufferless marker until it would have timed
 *   out, so the front can drop its remaining fragments too (RFC 5722);
 * - a datagram not finished `timeoutMs` after its first fragment is discarded;
 * - all datagrams together hold at most `maxBytes` (fragment data, plus a per-fragment and a
 *   per-datagram overhead for the objects) and at most `maxDatagrams` are held. Going over
 *   `maxBytes` evicts down to `lowBytes`, as Linux's ipfrag_high_thresh / ipfrag_low_thresh
 *   (4 MB / 3 MB) do, so a flood pays one eviction run per quarter of the table instead of one
 *   eviction per fragment (a source over its share is brought down by the same ratio); one
 *   source at
 *   most `maxBytesPerSource` of it, so a flood from one host evicts its own datagrams and not
 *   others' (Linux bounds by memory alone; per-source fairness is ours). Making room evicts the
 *   source's oldest datagram when that source is over its share, else the oldest of all.
 */
import { copyBytes } from '../../util/bytes.js';
import type { ReassemblyCounters } from '../stats.js';

export interface ReassemblyOptions {
  /** Per-datagram lifetime from its first fragment (ms). */
  timeoutMs?: number;
  /** Total buffer bytes held by incomplete datagrams (Linux: ipfrag_high_thresh). */
  maxBytes?: number;
  /**
   * What eviction brings the total down to once `maxBytes` would be exceeded (Linux:
   * ipfrag_low_thresh); default three quarters of `maxBytes`.
   */
  lowBytes?: number;
  /** Datagrams held at once (incomplete ones and discard markers). */
  maxDatagrams?: number;
  /** Bytes one source may hold (default a quarter of maxBytes). */
  maxBytesPerSource?: number;
}

/**
 * A front's options with its defaults filled in; the per-source share (a quarter) and the low
 * threshold (three quarters) follow `maxBytes` unless given.
 */
export function reassemblyOptions(
  defaults: Required<Omit<ReassemblyOptions, 'maxBytesPerSource' | 'lowBytes'>>,
  options: ReassemblyOptions,
): Required<ReassemblyOptions> {
  const o = { ...defaults, ...options };
  return {
    ...o,
    maxBytesPerSource: options.maxBytesPerSource ?? Math.ceil(o.maxBytes / 4),
    lowBytes: Math.min(o.maxBytes, options.lowBytes ?? Math.floor((o.maxBytes * 3) / 4)),
  };
}

/** What a fragment costs beyond its data: its record and the copy's object (an estimate). */
const FRAGMENT_OVERHEAD = 64;
/** What a datagram costs beyond its fragments: its record, ranges and head buffer's object. */
const DATAGRAM_OVERHEAD = 128;

/** Bytes of a slab slot: one fragment from a 1500-byte-MTU link, with room to spare. */
const SLOT_SIZE = 2048;
/** Slots per slab chunk (128 KiB): the slab grows by this much when every slot is in use. */
const CHUNK_SHIFT = 6;
const CHUNK_SLOTS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SLOTS - 1;

/** One received fragment's data, as it arrived: a slab slot, or (jumbo) a copy of its own. */
export interface StoredFragment {
  start: number;
  length: number;
  /** Slot index in the table's slab, or -1 when `copy` holds the data. */
  slot: number;
  copy: Uint8Array | null;
}

/** The buffer of a datagram not admitted yet, or discarded. */
export const NO_BUFFER = new Uint8Array(0);

/** What the table keeps per datagram; a front adds its key fields. */
export interface FragmentedDatagram {
  /**
   * `headerRoom` bytes for the header (the front may keep more of its own there); once
   * complete, or handed to `expired`, followed by the payload (as far as it is contiguous).
   */
  buffer: Uint8Array;
  /** The fragments received, in arrival order. */
  fragments: StoredFragment[];
  /** Bytes this datagram counts against the bounds. */
  held: number;
  /** Whom the datagram counts against for `maxBytesPerSource` (the front's key for its source). */
  source: number | string;
  /** Length of the first fragment's header once it arrived, else 0. */
  headerLength: number;
  /** Payload length, known once the last fragment (more-fragments clear) arrived; -1 before. */
  totalLength: number;
  /** Received payload intervals, flattened [start0, end0, start1, end1, ...], sorted, disjoint. */
  ranges: number[];
  expiresAt: number;
  /** Discarded for an overlap: no buffer, kept only until `expiresAt` to drop its fragments. */
  discarded: boolean;
}

/** accept(): the fragment was stored and the datagram still misses data. */
export const FRAGMENT_STORED = 0;
/** accept(): the fragment completed the datagram, now out of the table with its buffer intact. */
export const DATAGRAM_COMPLETE = 1;
/** accept(): the fragment was not stored (duplicate, or its datagram was discarded: counted). */
export const FRAGMENT_DROPPED = 2;
export type FragmentResult =
  typeof FRAGMENT_STORED | typeof DATAGRAM_COMPLETE | typeof FRAGMENT_DROPPED;

export interface FragmentTableConfig<D extends FragmentedDatagram> {
  options: Required<ReassemblyOptions>;
  /** Bytes in front of the payload: the longest header kept, plus whatever else the front stores. */
  headerRoom: number;
  /** Keep datagrams discarded for an overlap as markers until they expire. */
  keepDiscarded: boolean;
  /**
   * A datagram whose first fragment had arrived timed out; it is already out of the table and
   * its buffer intact (not called for datagrams missing their first fragment, nor markers).
   */
  expired: (d: D) => void;
}

export class FragmentTable<D extends FragmentedDatagram> {
  /** Oldest first (insertion order), so eviction takes from the front. */
  readonly datagrams: D[] = [];
  readonly headerRoom: number;
  private readonly options: Required<ReassemblyOptions>;
  private readonly keepDiscarded: boolean;
  private readonly expired: (d: D) => void;
  private bytesHeld = 0;
  private markers = 0;
  private readonly perSource = new Map<number | string, number>();
  private readonly maxPerSource: number;
  /** A source over its share is brought down to this (the table's low/high ratio). */
  private readonly lowPerSource: number;
  /** Fragment data slots in chunks of CHUNK_SLOTS, and the free ones (a stack of indices). */
  private readonly chunks: Uint8Array[] = [];
  private readonly maxSlots: number;
  private readonly freeSlots: Int32Array;
  private freeCount = 0;

  constructor(
    private readonly counters: ReassemblyCounters,
    private readonly wake: (at: number) => void,
    config: FragmentTableConfig<D>,
  ) {
    this.options = config.options;
    this.maxPerSource = config.options.maxBytesPerSource;
    const { lowBytes, maxBytes } = config.options;
    this.lowPerSource = Math.floor((this.maxPerSource * lowBytes) / maxBytes);
    this.maxSlots = Math.max(1, Math.floor(config.options.maxBytes / SLOT_SIZE));
    this.freeSlots = new Int32Array(this.maxSlots);
    this.headerRoom = config.headerRoom;
    this.keepDiscarded = config.keepDiscarded;
    this.expired = config.expired;
  }

  /** Bytes currently held by incomplete datagrams. */
  get memory(): number {
    return this.bytesHeld;
  }

  /** Bytes of slab allocated so far (it grows under load and is kept). */
  get slabBytes(): number {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n;
  }

  /** Datagrams being reassembled (not counting discard markers). */
  get incomplete(): number {
    return this.datagrams.length - this.markers;
  }

  /** Datagrams discarded for an overlap whose remaining fragments are still being dropped. */
  get discarded(): number {
    return this.markers;
  }

  /**
   * Takes in a datagram that has received nothing yet (with its `source` set), evicting to stay
   * within the bounds. False (counted) when even alone it would not fit.
   */
  admit(d: D, now: number): boolean {
    const cost = this.headerRoom + DATAGRAM_OVERHEAD;
    if (!this.makeRoom(cost, d.source, null)) return false;
    if (this.datagrams.length >= this.options.maxDatagrams) {
      const oldest = this.datagrams[0];
      // A marker holds no datagram: forgetting it early is not a loss worth counting.
      if (!oldest.discarded) this.counters.drops.reassemblyMemory++;
      this.remove(oldest);
    }
    d.buffer = new Uint8Array(this.headerRoom);
    d.fragments = [];
    d.held = 0;
    d.expiresAt = now + this.options.timeoutMs;
    this.datagrams.push(d);
    this.charge(d, cost);
    this.wake(d.expiresAt);
    return true;
  }

  /**
   * Stores payload [start, end) of `d` from `bytes[payloadOffset, ...)`, and when `start` is 0
   * the header `bytes[headerOffset, +headerLength)` (at most `headerRoom` bytes) in front of it.
   */
  accept(
    d: D,
    moreFragments: boolean,
    start: number,
    end: number,
    bytes: Uint8Array,
    headerOffset: number,
    headerLength: number,
    payloadOffset: number,
  ): FragmentResult {
    const drops = this.counters.drops;
    const ranges = d.ranges;
    const total = d.totalLength;
    if (total >= 0 && (end > total || (!moreFragments && end !== total))) {
      // Past the end a last fragment set, or a second, different end.
      drops.fragInvalid++;
      this.remove(d);
      return FRAGMENT_DROPPED;
    }
    if (!moreFragments) {
      if (ranges.length > 0 && ranges[ranges.length - 1] > end) {
        drops.fragInvalid++;
        this.remove(d);
        return FRAGMENT_DROPPED;
      }
      d.totalLength = end;
    }
    const overlap = classify(ranges, start, end);
    if (overlap === COVERED) {
      drops.fragDuplicate++;
      return FRAGMENT_DROPPED;
    }
    if (overlap === PARTIAL) {
      drops.fragOverlap++;
      if (this.keepDiscarded) this.mark(d);
      else this.remove(d);
      return FRAGMENT_DROPPED;
    }
    const length = end - start;
    // A slotted fragment costs its slot: the slab is the memory it really takes.
    const inSlot = length <= SLOT_SIZE;
    const cost = (inSlot ? SLOT_SIZE : length) + FRAGMENT_OVERHEAD;
    if (!this.makeRoom(cost, d.source, d) || (inSlot && !this.slotFree(d))) {
      this.remove(d);
      return FRAGMENT_DROPPED;
    }
    let slot = -1;
    let copy: Uint8Array | null = null;
    if (inSlot) {
      slot = this.freeSlots[--this.freeCount];
      copyBytes(bytes, payloadOffset, this.chunkOf(slot), offsetIn(slot), length);
    } else {
      copy = new Uint8Array(length);
      copyBytes(bytes, payloadOffset, copy, 0, length);
    }
    d.fragments.push({ start, length, slot, copy });
    this.charge(d, cost);
    const room = this.headerRoom;
    if (start === 0) {
      d.headerLength = headerLength;
      copyBytes(bytes, headerOffset, d.buffer, room - headerLength, headerLength);
    }
    insertRange(ranges, start, end);
    if (
      d.totalLength < 0 ||
      ranges.length !== 2 ||
      ranges[0] !== 0 ||
      ranges[1] !== d.totalLength
    ) {
      return FRAGMENT_STORED;
    }
    // Complete (the interval [0, total) implies the first fragment, hence its header, arrived).
    this.assemble(d, d.totalLength);
    this.remove(d);
    this.counters.reassembled++;
    return DATAGRAM_COMPLETE;
  }

  /**
   * Builds `d.buffer` as header room + payload [0, upTo) from its fragments (they cover it,
   * disjoint), keeping what the head buffer held; the fragments are released.
   */
  private assemble(d: D, upTo: number): void {
    const room = this.headerRoom;
    const out = new Uint8Array(room + upTo);
    copyBytes(d.buffer, 0, out, 0, room);
    for (const f of d.fragments) {
      if (f.start >= upTo) continue;
      const n = Math.min(f.length, upTo - f.start);
      if (f.copy !== null) copyBytes(f.copy, 0, out, room + f.start, n);
      else copyBytes(this.chunkOf(f.slot), offsetIn(f.slot), out, room + f.start, n);
    }
    d.buffer = out;
    this.freeFragments(d);
  }

  /** Returns `d`'s slots to the slab. */
  private freeFragments(d: D): void {
    for (const f of d.fragments) if (f.slot >= 0) this.freeSlots[this.freeCount++] = f.slot;
    d.fragments = [];
  }

  private chunkOf(slot: number): Uint8Array {
    return this.chunks[slot >> CHUNK_SHIFT];
  }

  /** Adds a chunk's slots to the free stack, if the slab may still grow. */
  private grow(): boolean {
    const first = this.chunks.length * CHUNK_SLOTS;
    const count = Math.min(CHUNK_SLOTS, this.maxSlots - first);
    if (count <= 0) return false;
    this.chunks.push(new Uint8Array(count * SLOT_SIZE));
    for (let i = count - 1; i >= 0; i--) this.freeSlots[this.freeCount++] = first + i;
    return true;
  }

  /**
   * A slot for a fragment of `d`: the slab grows while it may, then the oldest other datagram
   * is evicted (the byte bound usually frees slots first; tiny fragments can use them up sooner).
   */
  private slotFree(keep: D): boolean {
    const list = this.datagrams;
    if (this.freeCount === 0) this.grow();
    while (this.freeCount === 0) {
      let i = 0;
      while (i < list.length && (list[i] === keep || list[i].fragments.length === 0)) i++;
      if (i === list.length) return false;
      this.counters.drops.reassemblyMemory++;
      this.remove(list[i]);
    }
    return true;
  }

  /** Drops `d` (a front's own checks found it can never complete correctly). */
  discard(d: D): void {
    this.remove(d);
  }

  /** Discards datagrams whose time is up. */
  tick(now: number): void {
    let next = Infinity;
    const list = this.datagrams;
    for (let i = 0; i < list.length;) {
      const d = list[i];
      if (d.expiresAt <= now) {
        // The first interval starts at 0 when the first fragment arrived: that much is quoted.
        const quoted = !d.discarded && d.headerLength > 0;
        if (quoted) this.assemble(d, d.ranges[1]);
        this.remove(d);
        if (!d.discarded) {
          this.counters.drops.reassemblyTimeout++;
          if (quoted) this.expired(d);
        }
        continue;
      }
      if (d.expiresAt < next) next = d.expiresAt;
      i++;
    }
    if (next !== Infinity) this.wake(next);
  }

  clear(): void {
    for (const d of this.datagrams) this.freeFragments(d);
    this.datagrams.length = 0;
    this.bytesHeld = 0;
    this.markers = 0;
    this.perSource.clear();
  }

  /** Bytes `source` holds now. */
  heldBy(source: number | string): number {
    return this.perSource.get(source) ?? 0;
  }

  private charge(d: D, bytes: number): void {
    d.held += bytes;
    this.bytesHeld += bytes;
    this.perSource.set(d.source, (this.perSource.get(d.source) ?? 0) + bytes);
  }

  /**
   * Evicts until `extra` more bytes fit for `source` (never evicting `keep`): that source's own
   * oldest datagrams while it is over its share, then the oldest of all while the table is over
   * its bound. False (counted) when they cannot fit even so.
   */
  private makeRoom(extra: number, source: number | string, keep: D | null): boolean {
    const max = this.options.maxBytes;
    const kept = keep === null ? 0 : keep.held;
    if (extra + kept > Math.min(max, this.maxPerSource)) {
      this.counters.drops.reassemblyMemory++;
      return false;
    }
    const list = this.datagrams;
    if (this.heldBy(source) + extra > this.maxPerSource) {
      const sourceTarget = Math.max(this.lowPerSource, kept + extra);
      while (this.heldBy(source) + extra > sourceTarget) {
        // The source holds more than `keep`: some other datagram of its own holds bytes.
        let i = 0;
        while (list[i] === keep || list[i].discarded || list[i].source !== source) i++;
        this.counters.drops.reassemblyMemory++;
        this.remove(list[i]);
      }
    }
    if (this.bytesHeld + extra <= max) return true;
    // Over the high threshold: down to the low one (never below what `keep` itself needs).
    const target = Math.max(this.options.lowBytes, kept + extra);
    while (this.bytesHeld + extra > target) {
      let i = 0;
      while (list[i] === keep || list[i].discarded) i++;
      this.counters.drops.reassemblyMemory++;
      this.remove(list[i]);
    }
    return true;
  }

  /** Frees `d`'s fragments and keeps it as a marker until it expires. */
  private mark(d: D): void {
    this.release(d);
    this.freeFragments(d);
    d.buffer = NO_BUFFER;
    d.ranges.length = 0;
    d.headerLength = 0;
    d.discarded = true;
    this.markers++;
  }

  private release(d: D): void {
    this.bytesHeld -= d.held;
    const left = (this.perSource.get(d.source) ?? 0) - d.held;
    if (left > 0) this.perSource.set(d.source, left);
    else this.perSource.delete(d.source);
    d.held = 0;
  }

  private remove(d: D): void {
    const list = this.datagrams;
    const i = list.indexOf(d);
    if (i < 0) return;
    for (let j = i + 1; j < list.length; j++) list[j - 1] = list[j];
    list.length--;
    this.release(d);
    if (d.discarded) this.markers--;
    // (A completed or expiring datagram's fragments were already copied out by assemble().)
    this.freeFragments(d);
  }
}

function offsetIn(slot: number): number {
  return (slot & CHUNK_MASK) * SLOT_SIZE;
}

const DISJOINT = 0;
const COVERED = 1;
const PARTIAL = 2;

function classify(ranges: number[], start: number, end: number): number {
  for (let i = 0; i < ranges.length; i += 2) {
    const s = ranges[i];
    const e = ranges[i + 1];
    if (end <= s) break;
    if (start >= e) continue;
    return start >= s && end <= e ? COVERED : PARTIAL;
  }
  return DISJOINT;
}

/**
 * Inserts [start, end) (disjoint from every interval) and merges touching neighbours, in place
 * (splice would allocate the array of what it removes).
 */
function insertRange(ranges: number[], start: number, end: number): void {
  const n = ranges.length;
  let i = 0;
  while (i < n && ranges[i] < start) i += 2;
  const joinsPrevious = i > 0 && ranges[i - 1] === start;
  const joinsNext = i < n && ranges[i] === end;
  if (joinsPrevious && joinsNext) {
    ranges[i - 1] = ranges[i + 1];
    for (let j = i + 2; j < n; j++) ranges[j - 2] = ranges[j];
    ranges.length = n - 2;
  } else if (joinsPrevious) {
    ranges[i - 1] = end;
  } else if (joinsNext) {
    ranges[i] = start;
  } else {
    ranges.push(0, 0);
    for (let j = n - 1; j >= i; j--) ranges[j + 2] = ranges[j];
    ranges[i] = start;
    ranges[i + 1] = end;
  }
}
