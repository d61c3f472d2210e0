/**
 * ICMP for a host (RFC 792, RFC 1122 section 3.2.2): answers echo requests, sends destination
 * unreachable (protocol/port) and time exceeded (reassembly), rate-limited by a token bucket, and
 * hands received error messages to the transport they quote.
 *
 * Echo replies copy the request into a preallocated buffer and rewrite its type and code through
 * the view, which updates the checksum for them (RFC 1624); nothing is allocated. Echo requests to a broadcast address are ignored by default,
 * as Linux does (net.ipv4.icmp_echo_ignore_broadcasts = 1).
 */
import { FrameLayer } from '../../generated/frame.js';
import { icmp, ipv4 } from '../../generated/index.js';
import {
  decodedAs,
  IPV4_SEND_HEADROOM,
  SendStatus,
  type Ipv4Delivery,
  type Ipv4Sender,
  type TransportReceiver,
} from '../layers.js';
import { createIcmpStats, type IcmpStats } from '../stats.js';
import { TokenBucket } from '../rate-limit.js';
import { copyBytes } from '../../util/bytes.js';
import type { TimeSource } from '../arp/arp.js';
import { plateauBelow, type Ipv4ErrorReporter } from '../ipv4/ipv4.js';
import type { ReassemblyTimeoutListener } from '../ipv4/reassembly.js';

const { IcmpType } = icmp;
const ICMP = ipv4.IpProtocol.ICMP;
const ICMP_HEADER_LENGTH = icmp.ICMP_FIXED_SIZE;
/** RFC 1812 4.3.2.3: an error quotes as much of the datagram as keeps the whole within 576 bytes. */
const MAX_QUOTE = 576 - ipv4.IPV4_FIXED_SIZE - ICMP_HEADER_LENGTH;
const MAX_IP_PAYLOAD = 65535 - ipv4.IPV4_FIXED_SIZE;

export interface IcmpOptions {
  /** Answer echo requests sent to a broadcast address (default false, like Linux). */
  echoBroadcast?: boolean;
  /** Error messages per second on average (token refill rate). Linux: 1000/s global. */
  errorRatePerSecond?: number;
  /** Error messages that may go out in one burst. Linux: 50. */
  errorBurst?: number;
}

/** A received echo reply (the ping client listens); the record is valid only during the call. */
export interface IcmpEchoReply {
  src: number;
  identifier: number;
  sequence: number;
  ttl: number;
  bytes: Uint8Array;
  dataOffset: number;
  dataLength: number;
}

/** A transport told about ICMP errors that quote one of its datagrams. */
export interface IcmpErrorReceiver {
  /**
   * `bytes[quoteOffset, +quoteLength)` is the quoted datagram (IPv4 header first) — valid only
   * during the call. `from` is the address of the node that reported the error.
   */
  icmpError(
    type: number,
    code: number,
    from: number,
    bytes: Uint8Array,
    quoteOffset: number,
    quoteLength: number,
    /** For "fragmentation needed": the path MTU now held for the quoted destination. */
    mtu?: number,
  ): void;
}

/**
 * What ICMP needs from IPv4: sending, answering a datagram's sender without boxing, and the
 * path MTU table that "fragmentation needed" lowers (RFC 1191).
 */
export interface IcmpIpv4 extends Ipv4Sender {
  lowerPathMtu(dst: number, mtu: number, now: number): void;
  pathMtu(dst: number): number;
  sendBack(
    to: { readonly src: number },
    protocol: number,
    buf: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
  ): SendStatus;
}

export class IcmpLayer implements TransportReceiver, Ipv4ErrorReporter, ReassemblyTimeoutListener {
  readonly stats: IcmpStats = createIcmpStats();
  private readonly view = new icmp.IcmpView();
  /** The reply being written in `tx`, and the ICMP message a delivery carries (see isAboutError). */
  private readonly replyView = new icmp.IcmpView();
  private readonly deliveredView = new icmp.IcmpView();
  /** The datagram an error quotes (its header and the first bytes after it). */
  private readonly quoteView = new ipv4.Ipv4View();
  private readonly unreachableView = new icmp.IcmpUnreachableView();
  /** An error message's header; the quote after it is the checksummed payload. */
  private readonly errorHeader: icmp.IcmpFields = {
    type: 0,
    code: 0,
    checksum: undefined,
    identifier: 0,
    sequence: 0,
  };
  private readonly tx = new Uint8Array(IPV4_SEND_HEADROOM + MAX_IP_PAYLOAD);
  /** Echo replies go here (the ping client); null: they are counted as unhandled. */
  echoListener: ((reply: IcmpEchoReply) => void) | null = null;
  private readonly errorReceivers: Array<IcmpErrorReceiver | null> =
    new Array<IcmpErrorReceiver | null>(256).fill(null);
  private readonly echoBroadcast: boolean;
  private readonly errorTokens: TokenBucket;

  constructor(
    private readonly ip: IcmpIpv4,
    private readonly time: TimeSource,
    options: IcmpOptions = {},
  ) {
    this.echoBroadcast = options.echoBroadcast ?? false;
    this.errorTokens = new TokenBucket(
      options.errorRatePerSecond ?? 1000,
      options.errorBurst ?? 50,
    );
  }

  /** Sends ICMP errors quoting `protocol` datagrams to `receiver` (TCP, UDP). */
  registerErrorReceiver(protocol: number, receiver: IcmpErrorReceiver | null): void {
    this.errorReceivers[protocol & 0xff] = receiver;
  }

  receive(d: Ipv4Delivery): void {
    const stats = this.stats;
    stats.rxMessages++;
    const f = d.frame;
    let v = this.view;
    if (f !== null && decodedAs(f, FrameLayer.icmp, f.icmp, d.bytes, d.offset, d.length)) {
      v = f.icmp;
    } else if (v.wrap(d.bytes, d.offset, d.length) !== null) {
      stats.drops.truncated++;
      return;
    }
    if (!v.checksumValid) {
      stats.drops.badChecksum++;
      return;
    }
    const type = v.type;
    if (type === IcmpType.Echo) {
      stats.echoRequests++;
      if (d.toBroadcast && !this.echoBroadcast) {
        stats.drops.broadcastEcho++;
        return;
      }
      this.echoReply(d);
      return;
    }
    if (type === IcmpType.EchoReply && this.echoListener !== null) {
      this.echoListener({
        src: d.src,
        identifier: v.identifier,
        sequence: v.sequence,
        ttl: d.ttl,
        bytes: d.bytes,
        dataOffset: v.payloadOffset,
        dataLength: v.payloadLength,
      });
      return;
    }
    if (isErrorType(type)) {
      stats.errorsReceived++;
      this.dispatchError(type, v.code, d);
      return;
    }
    stats.drops.unhandledType++;
  }

  /** Sends an echo request (the ping client); the reply comes to `echoListener`. */
  sendEchoRequest(dst: number, identifier: number, sequence: number, data: Uint8Array): SendStatus {
    if (data.length > MAX_IP_PAYLOAD - ICMP_HEADER_LENGTH) return SendStatus.Dropped;
    const start = IPV4_SEND_HEADROOM;
    copyBytes(data, 0, this.tx, start + ICMP_HEADER_LENGTH, data.length);
    const h = this.errorHeader;
    h.type = IcmpType.Echo;
    h.code = 0;
    h.identifier = identifier & 0xffff;
    h.sequence = sequence & 0xffff;
    const length = icmp.encodeIcmp(h, this.tx, start, data.length) + data.length;
    h.identifier = 0;
    h.sequence = 0;
    return this.ip.send(dst, ICMP, this.tx, start, length);
  }

  /**
   * An error about one of our own datagrams raised here rather than received (ARP gave up on
   * its next hop): the transport it quotes hears it as if it had come back from the network.
   */
  localError(type: number, code: number, bytes: Uint8Array, offset: number, length: number): void {
    const quoted = this.quoteView;
    if (quoted.wrapPartial(bytes, offset, length) !== null) return;
    this.errorReceivers[quoted.protocol]?.icmpError(
      type,
      code,
      this.ip.address,
      bytes,
      offset,
      length,
    );
  }

  destinationUnreachable(code: number, d: Ipv4Delivery): void {
    // RFC 1122 3.2.2: never about broadcasts, never about an ICMP error message itself.
    if (d.toBroadcast || d.src === 0) return;
    if (d.protocol === ICMP && this.isAboutError(d)) return;
    if (
      this.sendError(
        IcmpType.DestinationUnreachable,
        code,
        d.src,
        d.bytes,
        d.datagramOffset,
        d.datagramLength,
      )
    ) {
      this.stats.unreachableSent++;
    }
  }

  reassemblyTimedOut(
    bytes: Uint8Array,
    datagramOffset: number,
    quotedLength: number,
    src: number,
  ): void {
    // Fragment reassembly time exceeded (RFC 792), only when fragment zero arrived.
    const code = icmp.IcmpTimeExceededCode.FragmentReassembly;
    if (this.sendError(IcmpType.TimeExceeded, code, src, bytes, datagramOffset, quotedLength)) {
      this.stats.timeExceededSent++;
    }
  }

  private echoReply(d: Ipv4Delivery): void {
    const tx = this.tx;
    const start = IPV4_SEND_HEADROOM;
    const length = d.length;
    copyBytes(d.bytes, d.offset, tx, start, length);
    // Same identifier, sequence and data; new type and code (RFC 792). The checksum was verified,
    // so the view updates it for the changed fields instead of summing the message again.
    const reply = this.replyView;
    reply.wrap(tx, start, length);
    reply.setTypeUpdatingChecksum(IcmpType.EchoReply);
    reply.setCodeUpdatingChecksum(0);
    if (this.ip.sendBack(d, ICMP, tx, start, length) === SendStatus.Dropped) {
      this.stats.drops.sendFailed++;
    } else {
      this.stats.echoReplies++;
    }
  }

  private sendError(
    type: number,
    code: number,
    dst: number,
    bytes: Uint8Array,
    quoteOffset: number,
    quoteLength: number,
  ): boolean {
    if (this.ip.address === 0) return false;
    if (!this.errorTokens.take(this.time.now())) {
      this.stats.drops.rateLimited++;
      return false;
    }
    const quote = Math.min(quoteLength, MAX_QUOTE);
    const tx = this.tx;
    const start = IPV4_SEND_HEADROOM;
    // The quote goes first: the checksum the encoder fills covers it. The second word is unused
    // (0) in the errors we send.
    copyBytes(bytes, quoteOffset, tx, start + ICMP_HEADER_LENGTH, quote);
    const h = this.errorHeader;
    h.type = type;
    h.code = code;
    const length = icmp.encodeIcmp(h, tx, start, quote) + quote;
    return this.ip.send(dst, ICMP, tx, start, length) !== SendStatus.Dropped;
  }

  private dispatchError(type: number, code: number, d: Ipv4Delivery): void {
    const quoteOffset = d.offset + ICMP_HEADER_LENGTH;
    const quoteLength = d.length - ICMP_HEADER_LENGTH;
    // The quote must hold an IPv4 header to name the transport (its data is cut to 8 bytes).
    const quoted = this.quoteView;
    if (quoted.wrapPartial(d.bytes, quoteOffset, quoteLength) !== null) {
      this.stats.drops.truncated++;
      return;
    }
    let mtu = 0;
    if (
      type === IcmpType.DestinationUnreachable &&
      code === icmp.IcmpUnreachableCode.FragmentationNeeded
    ) {
      mtu = this.fragmentationNeeded(d);
      if (mtu < 0) return;
    }
    this.errorReceivers[quoted.protocol]?.icmpError(
      type,
      code,
      d.src,
      d.bytes,
      quoteOffset,
      quoteLength,
      mtu,
    );
  }

  /**
   * RFC 1191 §6.1: a router could not forward a datagram of ours with DF set; its path MTU is
   * the next-hop MTU the message gives, or (from a router older than RFC 1191, which gives 0)
   * the plateau below the quoted datagram's length. Returns the path MTU now held, or -1 when
   * the error is not about a datagram we sent.
   */
  private fragmentationNeeded(d: Ipv4Delivery): number {
    const quoted = this.quoteView;
    const v = this.unreachableView;
    if (
      v.wrap(d.bytes, d.offset, d.length) !== null ||
      quoted.src >>> 0 !== this.ip.address >>> 0
    ) {
      this.stats.drops.badFragmentationNeeded++;
      return -1;
    }
    const reported = v.nextHopMtu;
    const mtu =
      reported >= 68 && reported < quoted.totalLength ? reported : plateauBelow(quoted.totalLength);
    this.stats.fragmentationNeededReceived++;
    this.ip.lowerPathMtu(quoted.dst, mtu, this.time.now());
    return this.ip.pathMtu(quoted.dst);
  }

  /** True when the delivered datagram is itself an ICMP error message (never answered). */
  private isAboutError(d: Ipv4Delivery): boolean {
    const v = this.deliveredView;
    return v.wrap(d.bytes, d.offset, d.length) === null && isErrorType(v.type);
  }
}

function isErrorType(type: number): boolean {
  return (
    type === IcmpType.DestinationUnreachable ||
    type === IcmpType.TimeExceeded ||
    type === IcmpType.ParameterProblem ||
    type === IcmpType.SourceQuench
  );
}
