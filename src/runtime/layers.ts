/**
 * The seams between the IPv4 layer and the transports above it (ICMP, UDP, TCP). A layer knows
 * the one below it (to send) and is called by it through a table filled at start-up; no layer
 * imports one above it.
 */
import { type FrameDecoder, FrameLayer } from '../generated/frame.js';
import { icmpv6, ipv6 } from '../generated/index.js';

/**
 * The layers the receive path's FrameDecoder decodes in its one pass over a frame (see
 * EthernetLayer): the hot ones. The rest (ARP, VLAN, IPv6 extension headers, ICMPv6, DHCP, DNS,
 * tunnels) are left to the layer that handles them, which wraps its own view.
 */
export const RECEIVE_LAYERS =
  FrameLayer.ethernet |
  FrameLayer.ipv4 |
  FrameLayer.ipv6 |
  FrameLayer.tcp |
  FrameLayer.udp |
  FrameLayer.icmp;

/**
 * True when `frame` decoded `layer` (a FrameLayer bit) as exactly the `length` bytes at
 * `offset` in `bytes`: a transport then uses the decoder's view instead of wrapping its own.
 * False for a payload the decoder did not see as such (a reassembled datagram, one after IPv6
 * extension headers, a frame it stopped in): the transport decodes that one itself.
 */
export function decodedAs(
  frame: FrameDecoder,
  layer: number,
  view: { readonly bytes: Uint8Array; readonly offset: number; readonly byteLength: number },
  bytes: Uint8Array,
  offset: number,
  length: number,
): boolean {
  return (
    (frame.layers & layer) !== 0 &&
    view.bytes === bytes &&
    view.offset === offset &&
    view.byteLength === length
  );
}

/** One IPv4 datagram addressed to us, handed up after validation (and reassembly). */
export interface Ipv4Delivery {
  /** Source and destination addresses as unsigned 32-bit numbers. */
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  /** True when `dst` was a broadcast (limited or directed) or multicast address, not ours. */
  toBroadcast: boolean;
  /** The IP payload: `length` bytes at `offset` in `bytes` (valid only during the call). */
  bytes: Uint8Array;
  offset: number;
  length: number;
  /** The whole IP datagram (header included) for ICMP errors that must quote it. */
  datagramOffset: number;
  datagramLength: number;
  /**
   * The decoder of the frame this datagram came in (its views valid during the call), or null
   * (reassembled): the transport's header may be decoded there already (see decodedAs).
   */
  frame: FrameDecoder | null;
}

/** A transport registered with IPv4 for one protocol number. The delivery object is reused. */
export interface TransportReceiver {
  receive(delivery: Ipv4Delivery): void;
}

/** Outcome of handing a datagram to IPv4. */
export const SendStatus = {
  /** Written to the link (or fragments of it were). */
  Sent: 0,
  /** Waiting for ARP resolution; it goes out (or is counted as dropped) later. */
  Queued: 1,
  /** Dropped: no route, link refused, ARP queue full, oversized with DF... (counted in stats). */
  Dropped: 2,
} as const;
export type SendStatus = (typeof SendStatus)[keyof typeof SendStatus];

/**
 * How a transport sends. The transport writes its header and payload into `buf` starting at
 * `payloadOffset` and leaves at least `IPV4_SEND_HEADROOM` bytes free in front of it, where IPv4
 * and Ethernet write their headers in place (no copy on the common path).
 */
export const IPV4_SEND_HEADROOM = 14 + 20;

export interface Ipv4Sender {
  /** Our address (0 until configured, e.g. before DHCP completes). */
  readonly address: number;
  /** Largest transport segment that fits one unfragmented datagram (link MTU - 20). */
  readonly maxPayload: number;
  send(
    dst: number,
    protocol: number,
    buf: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
    /** Source address override (0 = our address; DHCP sends from 0.0.0.0 before it has one). */
    src?: number,
  ): SendStatus;
}

/** One IPv6 packet addressed to us, handed up after its extension headers (and reassembly). */
export interface Ipv6Delivery {
  /** Source and destination, copied (16 bytes each; the record and arrays are reused). */
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  /** The upper-layer protocol (the last next header). */
  nextHeader: number;
  hopLimit: number;
  /** True when `dst` was a multicast group rather than one of our addresses. */
  toMulticast: boolean;
  /** The upper-layer payload: `length` bytes at `offset` in `bytes` (valid only during the call). */
  bytes: Uint8Array;
  offset: number;
  length: number;
  /** The whole packet from its IPv6 header, for ICMPv6 errors that quote it. */
  packetOffset: number;
  packetLength: number;
  /** As Ipv4Delivery.frame: the frame's decoder, or null. */
  frame: FrameDecoder | null;
}

/** A delivery record with room for both addresses, for a layer to reuse for every packet. */
export function createIpv6Delivery(): Ipv6Delivery {
  return {
    src: new Uint8Array(16),
    dst: new Uint8Array(16),
    nextHeader: 0,
    hopLimit: 0,
    toMulticast: false,
    bytes: new Uint8Array(0),
    offset: 0,
    length: 0,
    packetOffset: 0,
    packetLength: 0,
    frame: null,
  };
}

/**
 * How a transport sends over IPv6 (see Ipv6Layer.send): like Ipv4Sender, the transport writes
 * at `payloadOffset` with `IPV6_SEND_HEADROOM` free bytes before it. `src` null: the layer picks
 * our source address for `dst` (RFC 6724); a transport whose checksum covers the source passes
 * the one `selectSource` gave it.
 */
export interface Ipv6Sender {
  send(
    dst: Uint8Array,
    dstOffset: number,
    nextHeader: number,
    buf: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
    src?: Uint8Array | null,
  ): SendStatus;
  /** Our source address for `dst` (RFC 6724), written into `out`; false when none is usable. */
  selectSource(dst: Uint8Array, dstOffset: number, out: Uint8Array): boolean;
}

/** A transport registered with IPv6 for one next-header value. */
export interface Ipv6TransportReceiver {
  receive(delivery: Ipv6Delivery): void;
}

/** RFC 8200 §5: every IPv6 link carries 1280 bytes; no path MTU is taken below it. */
export const IPV6_MIN_MTU = 1280;

/**
 * Bytes of an invoking packet an ICMPv6 error quotes at most, so that the error fits the
 * minimum MTU (RFC 4443 §2.4(c)): 1280 less the IPv6 header and the error's own 8 bytes.
 */
export const ICMPV6_MAX_QUOTE = IPV6_MIN_MTU - ipv6.IPV6_FIXED_SIZE - icmpv6.ICMPV6ERROR_FIXED_SIZE;

/** Headroom a transport leaves in front of its segment for the IPv6 and Ethernet headers. */
export const IPV6_SEND_HEADROOM = 14 + 40;
