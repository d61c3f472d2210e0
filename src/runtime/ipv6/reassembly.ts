/**
 * IPv6 fragment reassembly (RFC 8200 section 4.5, RFC 5722) over the shared FragmentTable
 * (src/runtime/ip/reassembly.ts: intervals, buffers, bounds, timeout).
 *
 * Datagrams are keyed by (source, destination, identification). The unfragmentable part (the
 * IPv6 header and the extension headers before the Fragment header) and the next header come
 * from the fragment with offset 0. Here:
 * - an exact duplicate is ignored (`fragDuplicate`);
 * - a partial overlap discards the datagram (`fragOverlap`) and, as RFC 5722 asks for the
 *   fragments not yet received, leaves a marker without a buffer until the datagram would have
 *   timed out: its later fragments are dropped (`fragAfterOverlap`). A marker takes a datagram
 *   slot (`maxDatagrams`) but no memory; the slot bound evicts markers oldest first like
 *   packets, without counting them (they hold no packet);
 * - a datagram whose reassembled Payload Length (unfragmentable part after the IPv6 header plus
 *   the fragmentable part) would exceed 65535 is discarded (`fragInvalid`), as is one whose last
 *   fragments disagree on its end;
 * - a first fragment whose unfragmentable part is longer than MAX_UNFRAGMENTABLE is dropped
 *   (`fragHeaderTooLong`), and a fragment with M set and no data (`fragInvalid`);
 * - a datagram not finished 60 s after its first fragment is discarded (`reassemblyTimeout`);
 *   when its offset-0 fragment had arrived the timeout listener gets that fragment back, for
 *   ICMPv6 Time Exceeded code 1.
 *
 * Checked by the caller before input(), because they answer with ICMPv6 or skip reassembly:
 * a fragment with M set carries a multiple of 8 bytes and offset + length is at most 65535
 * (RFC 8200 section 4.5, Parameter Problem code 0); an atomic fragment (offset 0, M clear) is
 * delivered without reassembly (RFC 6946); a first fragment holds the whole header chain up to
 * the upper-layer header (RFC 7112, Parameter Problem code 3).
 */
import { ipv6, ipv6frag } from '../../generated/index.js';
import { copyBytes } from '../../util/bytes.js';
import {
  DATAGRAM_COMPLETE,
  FRAGMENT_DROPPED,
  FragmentTable,
  reassemblyOptions,
  NO_BUFFER,
  type FragmentedDatagram,
  type ReassemblyOptions,
} from '../ip/reassembly.js';
import type { Ipv6ReassemblyCounters } from '../stats.js';
import { ICMPV6_MAX_QUOTE } from '../layers.js';
import { prefix64Key } from './address.js';

const DEFAULTS = {
  /** RFC 8200 section 4.5: 60 seconds. */
  timeoutMs: 60_000,
  maxBytes: 1024 * 1024,
  maxDatagrams: 64,
};

const IPV6_HEADER_LENGTH = ipv6.IPV6_FIXED_SIZE;

const FRAGMENT_HEADER_LENGTH = ipv6frag.IPV6FRAGMENT_FIXED_SIZE;
/** The IPv6 header's Payload Length is 16 bits. */
const MAX_PAYLOAD_LENGTH = 65535;
/** The longest unfragmentable part kept: the IPv6 header and 1 KiB of extension headers. */
export const MAX_UNFRAGMENTABLE = IPV6_HEADER_LENGTH + 1024;
/**
 * Buffer layout: the offset-0 fragment's Fragment header (for the timeout quote), then room for
 * the unfragmentable part right in front of the payload.
 */
const HEADER_ROOM = FRAGMENT_HEADER_LENGTH + MAX_UNFRAGMENTABLE;
const ADDRESS_LENGTH = 16;

interface Datagram extends FragmentedDatagram {
  id: number;
  /** Source then destination address. */
  addresses: Uint8Array;
  /** The offset-0 fragment's Fragment header's next header, once it arrived. */
  nextHeader: number;
}

/** Where a finished packet is, valid until the next call into the reassembler. */
export interface Ipv6Reassembled {
  bytes: Uint8Array;
  /**
   * Offset of the unfragmentable part, as the offset-0 fragment carried it: its Payload Length
   * and the Next Header that named the Fragment header are not rewritten (the caller knows where
   * that field is, and rewrites it if it hands the packet on). `headerLength` later the payload.
   */
  packetOffset: number;
  /** Length of the unfragmentable part (the IPv6 header and extension headers before the Fragment header). */
  headerLength: number;
  /** The offset-0 fragment's Fragment header's next header: what the payload starts with. */
  nextHeader: number;
  /** Length of the reassembled fragmentable part. */
  payloadLength: number;
}

/** Told about packets given up on a timeout, so ICMPv6 can send Time Exceeded code 1. */
export interface Ipv6ReassemblyTimeoutListener {
  /**
   * `bytes[packetOffset, +quotedLength)` is the offset-0 fragment as received (the
   * unfragmentable part, its Fragment header, then the data received contiguous from offset 0),
   * cut to ICMPV6_MAX_QUOTE bytes; its IPv6 header names the source to tell. Valid during the
   * call only.
   */
  reassemblyTimedOut(bytes: Uint8Array, packetOffset: number, quotedLength: number): void;
}

export class Ipv6Reassembler {
  private readonly table: FragmentTable<Datagram>;
  private readonly result: Ipv6Reassembled = {
    bytes: new Uint8Array(0),
    packetOffset: 0,
    headerLength: 0,
    nextHeader: 0,
    payloadLength: 0,
  };
  private readonly quote = new Uint8Array(ICMPV6_MAX_QUOTE);
  timeoutListener: Ipv6ReassemblyTimeoutListener | null = null;

  constructor(
    private readonly counters: Ipv6ReassemblyCounters,
    wake: (at: number) => void,
    options: ReassemblyOptions = {},
  ) {
    this.table = new FragmentTable<Datagram>(counters, wake, {
      options: reassemblyOptions(DEFAULTS, options),
      headerRoom: HEADER_ROOM,
      keepDiscarded: true,
      expired: (d) => this.expired(d),
    });
  }

  /** Bytes currently held by incomplete packets. */
  get memory(): number {
    return this.table.memory;
  }

  /** Bytes of fragment slab allocated (none until the first fragment; grows under load, kept). */
  get slabBytes(): number {
    return this.table.slabBytes;
  }

  /** Packets being reassembled. */
  get incomplete(): number {
    return this.table.incomplete;
  }

  /** Packets discarded for an overlap whose later fragments are still dropped. */
  get discarded(): number {
    return this.table.discarded;
  }

  /**
   * Adds one fragment. The addresses are read in place, 16 bytes each. `identification` is the
   * Fragment header's 32 bits, as an unsigned or a signed 32-bit number (only the low 32 bits
   * count). The fragment's packet starts at `bytes[packetOffset]` with `unfragmentableLength`
   * bytes (at least the IPv6 header) before its Fragment header; its fragmentable data is
   * `bytes[payloadOffset, +payloadLength)`, `fragmentOffset` bytes (the wire value times 8) into
   * the original. Returns the whole packet when this fragment completed it, else null.
   */
  input(
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    identification: number,
    moreFragments: boolean,
    fragmentOffset: number,
    nextHeader: number,
    bytes: Uint8Array,
    packetOffset: number,
    unfragmentableLength: number,
    payloadOffset: number,
    payloadLength: number,
    now: number,
  ): Ipv6Reassembled | null {
    const drops = this.counters.drops;
    const id = identification >>> 0;
    const start = fragmentOffset;
    const end = start + payloadLength;
    let d = this.find(src, srcOffset, dst, dstOffset, id);
    if (d !== null && d.discarded) {
      drops.fragAfterOverlap++;
      return null;
    }
    if (moreFragments && payloadLength === 0) {
      // Nothing to store, and an empty interval would not merge with its neighbours.
      drops.fragInvalid++;
      return null;
    }
    if (start === 0 && unfragmentableLength > MAX_UNFRAGMENTABLE) {
      drops.fragHeaderTooLong++;
      return null;
    }
    const headerLength =
      d !== null && d.headerLength > 0 ? d.headerLength : start === 0 ? unfragmentableLength : 0;
    if (headerLength > 0 && highestEnd(d, end) > maxFragmentable(headerLength)) {
      drops.fragInvalid++;
      if (d !== null) this.table.discard(d);
      return null;
    }
    if (d === null) {
      const addresses = new Uint8Array(2 * ADDRESS_LENGTH);
      copyBytes(src, srcOffset, addresses, 0, ADDRESS_LENGTH);
      copyBytes(dst, dstOffset, addresses, ADDRESS_LENGTH, ADDRESS_LENGTH);
      d = {
        buffer: NO_BUFFER,
        fragments: [],
        held: 0,
        source: prefix64Key(src, srcOffset),
        headerLength: 0,
        totalLength: -1,
        ranges: [],
        expiresAt: 0,
        discarded: false,
        id,
        addresses,
        nextHeader: 0,
      };
      if (!this.table.admit(d, now)) return null;
    }
    const stored = this.table.accept(
      d,
      moreFragments,
      start,
      end,
      bytes,
      packetOffset,
      unfragmentableLength,
      payloadOffset,
    );
    if (stored === FRAGMENT_DROPPED) return null;
    if (start === 0) {
      d.nextHeader = nextHeader;
      const fragmentHeader = packetOffset + unfragmentableLength;
      copyBytes(bytes, fragmentHeader, d.buffer, 0, FRAGMENT_HEADER_LENGTH);
    }
    if (stored !== DATAGRAM_COMPLETE) return null;
    const out = this.result;
    out.bytes = d.buffer;
    out.packetOffset = HEADER_ROOM - d.headerLength;
    out.headerLength = d.headerLength;
    out.nextHeader = d.nextHeader;
    out.payloadLength = d.totalLength;
    return out;
  }

  /** Discards packets whose time is up. */
  tick(now: number): void {
    this.table.tick(now);
  }

  clear(): void {
    this.table.clear();
  }

  /** The offset-0 fragment back together for the listener: header, Fragment header, data. */
  private expired(d: Datagram): void {
    const listener = this.timeoutListener;
    if (listener === null) return;
    const quote = this.quote;
    const headerLength = d.headerLength;
    copyBytes(d.buffer, HEADER_ROOM - headerLength, quote, 0, headerLength);
    copyBytes(d.buffer, 0, quote, headerLength, FRAGMENT_HEADER_LENGTH);
    const dataOffset = headerLength + FRAGMENT_HEADER_LENGTH;
    // The first interval starts at 0: the offset-0 fragment arrived.
    const data = Math.min(d.ranges[1], ICMPV6_MAX_QUOTE - dataOffset);
    copyBytes(d.buffer, HEADER_ROOM, quote, dataOffset, data);
    listener.reassemblyTimedOut(quote, 0, dataOffset + data);
  }

  private find(
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
    id: number,
  ): Datagram | null {
    const list = this.table.datagrams;
    for (let i = 0; i < list.length; i++) {
      const d = list[i];
      if (d.id === id && sameAddresses(d.addresses, src, srcOffset, dst, dstOffset)) return d;
    }
    return null;
  }
}

/** Fragmentable bytes a packet may carry after an unfragmentable part of `headerLength`. */
function maxFragmentable(headerLength: number): number {
  return MAX_PAYLOAD_LENGTH - (headerLength - IPV6_HEADER_LENGTH);
}

/** The furthest end known for `d`'s payload, this fragment's `end` included. */
function highestEnd(d: Datagram | null, end: number): number {
  if (d === null) return end;
  let top = Math.max(end, d.totalLength);
  const r = d.ranges;
  if (r.length > 0 && r[r.length - 1] > top) top = r[r.length - 1];
  return top;
}

function sameAddresses(
  key: Uint8Array,
  src: Uint8Array,
  srcOffset: number,
  dst: Uint8Array,
  dstOffset: number,
): boolean {
  for (let i = 0; i < ADDRESS_LENGTH; i++) {
    if (key[i] !== src[srcOffset + i] || key[ADDRESS_LENGTH + i] !== dst[dstOffset + i]) {
      return false;
    }
  }
  return true;
}
