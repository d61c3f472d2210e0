/**
 * Ethernet II demux/mux. Frames addressed to our MAC or to broadcast go to the layer registered
 * for their EtherType; everything else is counted and dropped. A received frame is decoded once,
 * by the generated FrameDecoder, through its hot layers (RECEIVE_LAYERS): the layers above use
 * its views rather than wrapping their own. On send, the header is written in place in front of
 * the payload the upper layer prepared, so no frame is copied.
 */
import { FrameDecoder, FrameLayer } from '../../generated/frame.js';
import { ethernet } from '../../generated/index.js';
import { RECEIVE_LAYERS } from '../layers.js';
import type { FrameReceiver } from '../link/link.js';
import { createEthernetStats, type EthernetStats } from '../stats.js';

/** Bytes of the Ethernet header in front of every payload (specs/ethernet.pkt). */
export const ETHERNET_HEADER_LENGTH = ethernet.ETHERNET_FIXED_SIZE;
export const BROADCAST_MAC = 0xffffffffffff;
/** 2**40: dividing a 48-bit MAC number by it leaves the first octet (holding the group bit). */
const FIRST_OCTET_DIVISOR = 0x10000000000;

/** Where finished frames go: the Link (or anything that captures frames in tests). */
export interface FrameSink {
  send(bytes: Uint8Array, offset: number, length: number): boolean;
}

/** A layer above Ethernet (ARP, IPv4), registered for one EtherType. */
export interface EthernetReceiver {
  /**
   * One payload, valid only during the call. `linkBroadcast` is true when the frame was sent to
   * the broadcast MAC rather than to ours. `srcMac` is the sender's MAC for every EtherType but
   * IPv4 and IPv6, where it is 0: a 48-bit MAC is a heap number in V8, and passing one through
   * this (polymorphic, not inlined) call would allocate per datagram. Receivers that need it
   * read `EthernetLayer.sourceMac` during the call. `frame` is the decoder that decoded the
   * frame (its views are valid during the call): IPv4 and IPv6 take their headers from it.
   */
  receive(
    bytes: Uint8Array,
    offset: number,
    length: number,
    srcMac: number,
    linkBroadcast: boolean,
    frame: FrameDecoder,
  ): void;
}

/** True for broadcast and multicast MACs (the I/G bit of the first octet). */
export function isGroupMac(mac: number): boolean {
  return (Math.floor(mac / FIRST_OCTET_DIVISOR) & 1) === 1;
}

/** A MAC held in an object field, so hot paths can pass it around without boxing a double. */
export interface MacHolder {
  mac: number;
}

export class EthernetLayer implements FrameReceiver {
  readonly stats: EthernetStats = createEthernetStats();
  /** The one decoder of every received frame; no tunnels followed (depth 0). */
  private readonly frame = new FrameDecoder(RECEIVE_LAYERS, 0);
  /** Two slots cover IPv4 and ARP; a linear scan beats a Map lookup at this size. */
  private readonly types: number[] = [];
  private readonly receivers: EthernetReceiver[] = [];
  private readonly batchListeners: Array<() => void> = [];
  /** Multicast MACs we joined (IPv6 groups), as [hi16, lo32 int32] pairs, with use counts. */
  private readonly groupHi: number[] = [];
  private readonly groupLo: number[] = [];
  private readonly groupUsers: number[] = [];
  /** Our MAC split for allocation-free comparison: top 16 bits, low 32 bits as a signed int32. */
  private readonly macHi: number;
  private readonly macLo: number;
  // Initialised with a non-small-integer so V8 gives the fields a double representation from
  // the start (written in place afterwards, never reboxed).
  private readonly header: ethernet.EthernetFields = {
    dst: BROADCAST_MAC,
    src: BROADCAST_MAC,
    etherType: 0,
  };

  constructor(
    readonly mac: number,
    private readonly sink: FrameSink,
  ) {
    this.header.src = mac;
    this.macHi = Math.floor(mac / 0x100000000);
    this.macLo = (mac % 0x100000000) | 0;
  }

  /** Sends payloads of `etherType` to `receiver` (a later call for the same type replaces it). */
  register(etherType: number, receiver: EthernetReceiver): void {
    const i = this.types.indexOf(etherType);
    if (i >= 0) {
      this.receivers[i] = receiver;
    } else {
      this.types.push(etherType);
      this.receivers.push(receiver);
    }
  }

  /** Called after each received batch, so upper layers can flush coalesced work once per batch. */
  onBatchEnd(listener: () => void): void {
    this.batchListeners.push(listener);
  }

  receive(bytes: Uint8Array, offset: number, length: number): void {
    this.stats.rxFrames++;
    const frame = this.frame;
    frame.decode(bytes, offset, length);
    // Only a frame shorter than its header fails Ethernet; what fails above it is the business
    // of the layer it goes to, which counts it.
    if ((frame.layers & FrameLayer.ethernet) === 0) {
      this.stats.drops.truncated++;
      return;
    }
    const view = frame.ethernet;
    // The destination MAC is compared as two small integers (first 2 bytes, last 4 as a signed
    // int32) rather than through the view's 48-bit getter: a 48-bit number is a heap number in
    // V8, allocated per frame whenever the getter is not inlined.
    const hi = view.dstHi;
    const lo = view.dstLoBits;
    let linkBroadcast = false;
    if (hi !== this.macHi || lo !== this.macLo) {
      if (hi === 0xffff && lo === -1) {
        linkBroadcast = true;
      } else if (!this.joined(hi, lo)) {
        this.stats.drops.notForUs++;
        return;
      }
    }
    const etherType = view.etherType;
    const types = this.types;
    for (let i = 0; i < types.length; i++) {
      if (types[i] === etherType) {
        if (etherType === ethernet.EtherType.IPv4 || etherType === ethernet.EtherType.IPv6) {
          this.receivers[i].receive(
            bytes,
            view.payloadOffset,
            view.payloadLength,
            0,
            linkBroadcast,
            frame,
          );
        } else {
          this.receivers[i].receive(
            bytes,
            view.payloadOffset,
            view.payloadLength,
            view.src,
            linkBroadcast,
            frame,
          );
        }
        return;
      }
    }
    this.stats.drops.unknownEtherType++;
  }

  /** Accepts frames sent to the multicast MAC `mac` (counted: one leave per join). */
  joinMulticast(mac: number): void {
    const hi = Math.floor(mac / 0x100000000);
    const lo = (mac % 0x100000000) | 0;
    for (let i = 0; i < this.groupHi.length; i++) {
      if (this.groupHi[i] === hi && this.groupLo[i] === lo) {
        this.groupUsers[i]++;
        return;
      }
    }
    this.groupHi.push(hi);
    this.groupLo.push(lo);
    this.groupUsers.push(1);
  }

  leaveMulticast(mac: number): void {
    const hi = Math.floor(mac / 0x100000000);
    const lo = (mac % 0x100000000) | 0;
    for (let i = 0; i < this.groupHi.length; i++) {
      if (this.groupHi[i] === hi && this.groupLo[i] === lo) {
        if (--this.groupUsers[i] === 0) {
          this.groupHi.splice(i, 1);
          this.groupLo.splice(i, 1);
          this.groupUsers.splice(i, 1);
        }
        return;
      }
    }
  }

  private joined(hi: number, lo: number): boolean {
    const his = this.groupHi;
    for (let i = 0; i < his.length; i++) if (his[i] === hi && this.groupLo[i] === lo) return true;
    return false;
  }

  /** The source MAC of the frame being delivered (valid only during a receiver's call). */
  get sourceMac(): number {
    return this.frame.ethernet.src;
  }

  batchEnd(): void {
    const listeners = this.batchListeners;
    for (let i = 0; i < listeners.length; i++) listeners[i]();
  }

  /**
   * Sends `payloadLength` bytes found at `offset + 14` in `bytes`, writing the Ethernet header
   * into the 14 bytes at `offset` (the caller left that headroom). Returns false when the link
   * refused the frame (counted).
   */
  send(
    dstMac: number,
    etherType: number,
    bytes: Uint8Array,
    offset: number,
    payloadLength: number,
  ): boolean {
    const header = this.header;
    header.dst = dstMac;
    return this.emit(header, etherType, bytes, offset, payloadLength);
  }

  /** `send` with the destination MAC read from a holder: no double crosses a call boundary. */
  sendTo(
    dst: MacHolder,
    etherType: number,
    bytes: Uint8Array,
    offset: number,
    payloadLength: number,
  ): boolean {
    const header = this.header;
    header.dst = dst.mac;
    return this.emit(header, etherType, bytes, offset, payloadLength);
  }

  private emit(
    header: ethernet.EthernetFields,
    etherType: number,
    bytes: Uint8Array,
    offset: number,
    payloadLength: number,
  ): boolean {
    header.etherType = etherType;
    ethernet.encodeEthernet(header, bytes, offset);
    if (!this.sink.send(bytes, offset, ETHERNET_HEADER_LENGTH + payloadLength)) {
      this.stats.drops.linkRefused++;
      return false;
    }
    this.stats.txFrames++;
    return true;
  }
}
