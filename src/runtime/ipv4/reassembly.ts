/**
 * IPv4 fragment reassembly (RFC 791 section 3.2, RFC 815's idea of tracking what is still missing).
 *
 * Datagrams are keyed by (src, dst, protocol, identification). Each keeps its payload in one
 * buffer with room in front for the first fragment's header, so a finished datagram is handed up
 * contiguous, header included, without another copy. Received byte ranges are kept as a sorted
 * list of disjoint intervals:
 * - a fragment entirely inside what was already received is a duplicate: ignored;
 * - a fragment that partially overlaps received data discards the whole datagram, as Linux does
 *   since the FragmentSmack fixes (overlaps are only ever produced by attacks or broken senders);
 * - a datagram not finished `timeoutMs` after its first fragment is discarded;
 * - all buffers together stay under `maxBytes`: the oldest datagrams are evicted to make room.
 */
import { copyBytes } from '../ethernet/bytes.js';
import type { Ipv4Stats } from '../stats.js';

export interface ReassemblyOptions {
  /** Per-datagram lifetime from its first fragment (ms); Linux's ipfrag_time is 30 s. */
  timeoutMs?: number;
  /** Total buffer bytes held by incomplete datagrams. */
  maxBytes?: number;
  /** Incomplete datagrams held at once. */
  maxDatagrams?: number;
}

const DEFAULTS: Required<ReassemblyOptions> = {
  timeoutMs: 30_000,
  maxBytes: 1024 * 1024,
  maxDatagrams: 64,
};

/** Room for the longest IPv4 header (ihl 15) in front of the payload. */
export const HEADER_ROOM = 60;
const MAX_DATAGRAM = 65535;
const INITIAL_CAPACITY = 4096;

interface Datagram {
  src: number;
  dst: number;
  protocol: number;
  id: number;
  /** HEADER_ROOM bytes for the header, then the payload. */
  buffer: Uint8Array;
  /** Length of the first fragment's header once it arrived, else 0. */
  headerLength: number;
  /** Payload length, known once the last fragment (MF clear) arrived; -1 before. */
  totalLength: number;
  /** Received payload intervals, flattened [start0, end0, start1, end1, ...], sorted, disjoint. */
  ranges: number[];
  expiresAt: number;
}

/** Where a finished datagram is, valid until the next call into the reassembler. */
export interface Reassembled {
  bytes: Uint8Array;
  /** Offset of the (first fragment's) IPv4 header, then `headerLength` later the payload. */
  datagramOffset: number;
  headerLength: number;
  payloadLength: number;
}

/** Told about datagrams given up on a timeout, so ICMP can send Time Exceeded (RFC 792 code 1). */
export interface ReassemblyTimeoutListener {
  reassemblyTimedOut(
    bytes: Uint8Array,
    datagramOffset: number,
    quotedLength: number,
    src: number,
  ): void;
}

export class Reassembler {
  private readonly options: Required<ReassemblyOptions>;
  /** Oldest first (insertion order), so eviction takes from the front. */
  private readonly datagrams: Datagram[] = [];
  private bytesHeld = 0;
  private readonly result: Reassembled = {
    bytes: new Uint8Array(0),
    datagramOffset: 0,
    headerLength: 0,
    payloadLength: 0,
  };
  timeoutListener: ReassemblyTimeoutListener | null = null;

  constructor(
    private readonly stats: Ipv4Stats,
    private readonly wake: (at: number) => void,
    options: ReassemblyOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Bytes currently held by incomplete datagrams. */
  get memory(): number {
    return this.bytesHeld;
  }

  get incomplete(): number {
    return this.datagrams.length;
  }

  /**
   * Adds one fragment. `bytes[headerOffset, +headerLength)` is its header and
   * `bytes[payloadOffset, +payloadLength)` its data, which starts `fragmentOffset` bytes into the
   * original payload. Returns the whole datagram when this fragment completed it, else null.
   */
  input(
    src: number,
    dst: number,
    protocol: number,
    id: number,
    moreFragments: boolean,
    fragmentOffset: number,
    bytes: Uint8Array,
    headerOffset: number,
    headerLength: number,
    payloadOffset: number,
    payloadLength: number,
    now: number,
  ): Reassembled | null {
    const drops = this.stats.drops;
    const start = fragmentOffset;
    const end = start + payloadLength;
    if (
      end + headerLength > MAX_DATAGRAM ||
      (moreFragments && (payloadLength === 0 || (payloadLength & 7) !== 0))
    ) {
      // RFC 791: every fragment but the last carries a multiple of 8 bytes; nothing may end past
      // the largest datagram (the "ping of death").
      drops.fragInvalid++;
      const d = this.find(src, dst, protocol, id);
      if (d !== null) this.discard(d);
      return null;
    }
    let d = this.find(src, dst, protocol, id);
    if (d === null) {
      d = this.create(src, dst, protocol, id, end, now);
      if (d === null) return null;
    }
    if (
      d.totalLength >= 0 ? end > d.totalLength || (!moreFragments && end !== d.totalLength) : false
    ) {
      drops.fragInvalid++;
      this.discard(d);
      return null;
    }
    if (!moreFragments) {
      const ranges = d.ranges;
      if (ranges.length > 0 && ranges[ranges.length - 1] > end) {
        drops.fragInvalid++;
        this.discard(d);
        return null;
      }
      d.totalLength = end;
    }
    const overlap = this.classify(d.ranges, start, end);
    if (overlap === COVERED) {
      drops.fragDuplicate++;
      return null;
    }
    if (overlap === PARTIAL) {
      drops.fragOverlap++;
      this.discard(d);
      return null;
    }
    if (!this.ensureCapacity(d, end)) return null;
    copyBytes(bytes, payloadOffset, d.buffer, HEADER_ROOM + start, payloadLength);
    if (start === 0) {
      d.headerLength = headerLength;
      copyBytes(bytes, headerOffset, d.buffer, HEADER_ROOM - headerLength, headerLength);
    }
    insertRange(d.ranges, start, end);
    const r = d.ranges;
    if (d.totalLength < 0 || r.length !== 2 || r[0] !== 0 || r[1] !== d.totalLength) return null;
    // Complete (the interval [0, total) implies the first fragment, hence its header, arrived).
    this.remove(d);
    const out = this.result;
    out.bytes = d.buffer;
    out.datagramOffset = HEADER_ROOM - d.headerLength;
    out.headerLength = d.headerLength;
    out.payloadLength = d.totalLength;
    this.stats.reassembled++;
    return out;
  }

  /** Discards datagrams whose time is up. */
  tick(now: number): void {
    let next = Infinity;
    for (let i = 0; i < this.datagrams.length;) {
      const d = this.datagrams[i];
      if (d.expiresAt <= now) {
        this.stats.drops.reassemblyTimeout++;
        this.remove(d);
        if (d.headerLength > 0 && this.timeoutListener !== null) {
          // Quote the header and the first 8 payload bytes (present: the first fragment arrived).
          const quoted = d.headerLength + Math.min(8, d.ranges[1]);
          this.timeoutListener.reassemblyTimedOut(
            d.buffer,
            HEADER_ROOM - d.headerLength,
            quoted,
            d.src,
          );
        }
        continue;
      }
      if (d.expiresAt < next) next = d.expiresAt;
      i++;
    }
    if (next !== Infinity) this.wake(next);
  }

  clear(): void {
    this.datagrams.length = 0;
    this.bytesHeld = 0;
  }

  private find(src: number, dst: number, protocol: number, id: number): Datagram | null {
    const list = this.datagrams;
    for (let i = 0; i < list.length; i++) {
      const d = list[i];
      if (d.id === id && d.src === src && d.dst === dst && d.protocol === protocol) return d;
    }
    return null;
  }

  private create(
    src: number,
    dst: number,
    protocol: number,
    id: number,
    end: number,
    now: number,
  ): Datagram | null {
    const capacity = HEADER_ROOM + Math.max(INITIAL_CAPACITY, roundUp(end));
    if (!this.makeRoom(capacity, null)) return null;
    if (this.datagrams.length >= this.options.maxDatagrams) {
      this.stats.drops.reassemblyMemory++;
      this.remove(this.datagrams[0]);
    }
    const d: Datagram = {
      src,
      dst,
      protocol,
      id,
      buffer: new Uint8Array(capacity),
      headerLength: 0,
      totalLength: -1,
      ranges: [],
      expiresAt: now + this.options.timeoutMs,
    };
    this.datagrams.push(d);
    this.bytesHeld += capacity;
    this.wake(d.expiresAt);
    return d;
  }

  /** Grows `d`'s buffer to hold payload up to `end`, within the memory bound. */
  private ensureCapacity(d: Datagram, end: number): boolean {
    const needed = HEADER_ROOM + end;
    if (needed <= d.buffer.length) return true;
    const capacity = Math.min(HEADER_ROOM + MAX_DATAGRAM, Math.max(needed, d.buffer.length * 2));
    if (!this.makeRoom(capacity - d.buffer.length, d)) {
      this.discard(d);
      return false;
    }
    const grown = new Uint8Array(capacity);
    grown.set(d.buffer);
    this.bytesHeld += capacity - d.buffer.length;
    d.buffer = grown;
    return true;
  }

  /** Evicts the oldest datagrams (never `keep`) until `extra` more bytes fit; false if they cannot. */
  private makeRoom(extra: number, keep: Datagram | null): boolean {
    const max = this.options.maxBytes;
    if (extra > max - (keep === null ? 0 : keep.buffer.length)) {
      this.stats.drops.reassemblyMemory++;
      return false;
    }
    while (this.bytesHeld + extra > max) {
      const oldest = this.datagrams[0] === keep ? this.datagrams[1] : this.datagrams[0];
      this.stats.drops.reassemblyMemory++;
      this.remove(oldest);
    }
    return true;
  }

  private discard(d: Datagram): void {
    this.remove(d);
  }

  private remove(d: Datagram): void {
    const i = this.datagrams.indexOf(d);
    if (i < 0) return;
    this.datagrams.splice(i, 1);
    this.bytesHeld -= d.buffer.length;
  }

  private classify(ranges: number[], start: number, end: number): number {
    for (let i = 0; i < ranges.length; i += 2) {
      const s = ranges[i];
      const e = ranges[i + 1];
      if (end <= s) break;
      if (start >= e) continue;
      return start >= s && end <= e ? COVERED : PARTIAL;
    }
    return DISJOINT;
  }
}

const DISJOINT = 0;
const COVERED = 1;
const PARTIAL = 2;

function roundUp(n: number): number {
  return (n + 1023) & ~1023;
}

/** Inserts [start, end) (disjoint from every interval) and merges touching neighbours. */
function insertRange(ranges: number[], start: number, end: number): void {
  let i = 0;
  while (i < ranges.length && ranges[i] < start) i += 2;
  ranges.splice(i, 0, start, end);
  // Merge with the next interval if they touch, then with the previous one.
  if (i + 2 < ranges.length && ranges[i + 1] === ranges[i + 2]) {
    ranges[i + 1] = ranges[i + 3];
    ranges.splice(i + 2, 2);
  }
  if (i > 0 && ranges[i - 1] === ranges[i]) {
    ranges[i - 1] = ranges[i + 1];
    ranges.splice(i, 2);
  }
}
