/**
 * IPv4 fragment reassembly (RFC 791 section 3.2) over the shared FragmentTable
 * (src/runtime/ip/reassembly.ts: intervals, buffers, bounds, timeout).
 *
 * Datagrams are keyed by (src, dst, protocol, identification), all numbers. IPv4's own rules
 * checked here: every fragment but the last carries a nonzero multiple of 8 bytes, and nothing
 * ends past the largest datagram (the "ping of death"); either discards the datagram. A partial
 * overlap discards the datagram and a later fragment of it starts a new one.
 */
import {
  DATAGRAM_COMPLETE,
  FragmentTable,
  reassemblyOptions,
  NO_BUFFER,
  type FragmentedDatagram,
  type ReassemblyOptions,
} from '../ip/reassembly.js';
import type { Ipv4Stats } from '../stats.js';

export type { ReassemblyOptions } from '../ip/reassembly.js';

const DEFAULTS = {
  /** Linux's ipfrag_time. */
  timeoutMs: 30_000,
  maxBytes: 1024 * 1024,
  maxDatagrams: 64,
};

/** Room for the longest IPv4 header (ihl 15) in front of the payload. */
export const HEADER_ROOM = 60;
const MAX_DATAGRAM = 65535;

interface Datagram extends FragmentedDatagram {
  src: number;
  dst: number;
  protocol: number;
  id: number;
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
  private readonly table: FragmentTable<Datagram>;
  private readonly result: Reassembled = {
    bytes: new Uint8Array(0),
    datagramOffset: 0,
    headerLength: 0,
    payloadLength: 0,
  };
  timeoutListener: ReassemblyTimeoutListener | null = null;

  constructor(
    private readonly stats: Ipv4Stats,
    wake: (at: number) => void,
    options: ReassemblyOptions = {},
  ) {
    this.table = new FragmentTable<Datagram>(stats, wake, {
      options: reassemblyOptions(DEFAULTS, options),
      headerRoom: HEADER_ROOM,
      keepDiscarded: false,
      expired: (d) => this.expired(d),
    });
  }

  /** Bytes currently held by incomplete datagrams. */
  get memory(): number {
    return this.table.memory;
  }

  /** Bytes of fragment slab allocated (none until the first fragment; grows under load, kept). */
  get slabBytes(): number {
    return this.table.slabBytes;
  }

  get incomplete(): number {
    return this.table.incomplete;
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
    const start = fragmentOffset;
    const end = start + payloadLength;
    if (
      end + headerLength > MAX_DATAGRAM ||
      (moreFragments && (payloadLength === 0 || (payloadLength & 7) !== 0))
    ) {
      this.stats.drops.fragInvalid++;
      const d = this.find(src, dst, protocol, id);
      if (d !== null) this.table.discard(d);
      return null;
    }
    let d = this.find(src, dst, protocol, id);
    if (d === null) {
      d = {
        buffer: NO_BUFFER,
        fragments: [],
        held: 0,
        source: src,
        headerLength: 0,
        totalLength: -1,
        ranges: [],
        expiresAt: 0,
        discarded: false,
        src,
        dst,
        protocol,
        id,
      };
      if (!this.table.admit(d, now)) return null;
    }
    const stored = this.table.accept(
      d,
      moreFragments,
      start,
      end,
      bytes,
      headerOffset,
      headerLength,
      payloadOffset,
    );
    if (stored !== DATAGRAM_COMPLETE) return null;
    const out = this.result;
    out.bytes = d.buffer;
    out.datagramOffset = HEADER_ROOM - d.headerLength;
    out.headerLength = d.headerLength;
    out.payloadLength = d.totalLength;
    return out;
  }

  /** Discards datagrams whose time is up. */
  tick(now: number): void {
    this.table.tick(now);
  }

  clear(): void {
    this.table.clear();
  }

  private expired(d: Datagram): void {
    if (this.timeoutListener === null) return;
    // Quote the header and the first 8 payload bytes (present: the first fragment arrived).
    const quoted = d.headerLength + Math.min(8, d.ranges[1]);
    this.timeoutListener.reassemblyTimedOut(d.buffer, HEADER_ROOM - d.headerLength, quoted, d.src);
  }

  private find(src: number, dst: number, protocol: number, id: number): Datagram | null {
    const list = this.table.datagrams;
    for (let i = 0; i < list.length; i++) {
      const d = list[i];
      if (d.id === id && d.src === src && d.dst === dst && d.protocol === protocol) return d;
    }
    return null;
  }
}
