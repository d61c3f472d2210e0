/**
 * ICMP for a host (RFC 792, RFC 1122 section 3.2.2): answers echo requests, sends destination
 * unreachable (protocol/port) and time exceeded (reassembly), rate-limited by a token bucket, and
 * hands received error messages to the transport they quote.
 *
 * Echo replies copy the request into a preallocated buffer, change the type and recompute the
 * checksum; nothing is allocated. Echo requests to a broadcast address are ignored by default,
 * as Linux does (net.ipv4.icmp_echo_ignore_broadcasts = 1).
 */
import { icmp } from '../../generated/index.js';
import { internetChecksum } from '../../codec/checksum.js';
import {
  IPV4_SEND_HEADROOM,
  SendStatus,
  type Ipv4Delivery,
  type Ipv4Sender,
  type TransportReceiver,
} from '../layers.js';
import { createIcmpStats, type IcmpStats } from '../stats.js';
import { copyBytes } from '../ethernet/bytes.js';
import type { TimeSource } from '../arp/arp.js';
import type { Ipv4ErrorReporter } from '../ipv4/ipv4.js';
import type { ReassemblyTimeoutListener } from '../ipv4/reassembly.js';

export const ICMP_PROTOCOL = 1;
const TYPE_ECHO_REPLY = 0;
const TYPE_DEST_UNREACHABLE = 3;
const TYPE_ECHO_REQUEST = 8;
const TYPE_TIME_EXCEEDED = 11;
const TYPE_PARAMETER_PROBLEM = 12;
const TYPE_SOURCE_QUENCH = 4;
const ICMP_HEADER_LENGTH = 8;
/** RFC 1812 4.3.2.3: an error quotes as much of the datagram as keeps the whole within 576 bytes. */
const MAX_QUOTE = 576 - 20 - ICMP_HEADER_LENGTH;
const MAX_IP_PAYLOAD = 65535 - 20;

export interface IcmpOptions {
  /** Answer echo requests sent to a broadcast address (default false, like Linux). */
  echoBroadcast?: boolean;
  /** Error messages per second on average (token refill rate). Linux: 1000/s global. */
  errorRatePerSecond?: number;
  /** Error messages that may go out in one burst. Linux: 50. */
  errorBurst?: number;
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
  ): void;
}

/** What ICMP needs from IPv4: sending, and answering a datagram's sender without boxing. */
export interface IcmpIpv4 extends Ipv4Sender {
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
  private readonly tx = new Uint8Array(IPV4_SEND_HEADROOM + MAX_IP_PAYLOAD);
  private readonly errorReceivers: Array<IcmpErrorReceiver | null> =
    new Array<IcmpErrorReceiver | null>(256).fill(null);
  private readonly echoBroadcast: boolean;
  private readonly ratePerMs: number;
  private readonly burst: number;
  private tokens: number;
  private tokensAt = -Infinity;

  constructor(
    private readonly ip: IcmpIpv4,
    private readonly time: TimeSource,
    options: IcmpOptions = {},
  ) {
    this.echoBroadcast = options.echoBroadcast ?? false;
    this.ratePerMs = (options.errorRatePerSecond ?? 1000) / 1000;
    this.burst = options.errorBurst ?? 50;
    this.tokens = this.burst;
  }

  /** Sends ICMP errors quoting `protocol` datagrams to `receiver` (TCP, UDP). */
  registerErrorReceiver(protocol: number, receiver: IcmpErrorReceiver | null): void {
    this.errorReceivers[protocol & 0xff] = receiver;
  }

  receive(d: Ipv4Delivery): void {
    const stats = this.stats;
    stats.rxMessages++;
    const v = this.view;
    if (v.wrap(d.bytes, d.offset, d.length) !== null) {
      stats.drops.truncated++;
      return;
    }
    if (!v.checksumValid) {
      stats.drops.badChecksum++;
      return;
    }
    const type = v.type;
    if (type === TYPE_ECHO_REQUEST) {
      stats.echoRequests++;
      if (d.toBroadcast && !this.echoBroadcast) {
        stats.drops.broadcastEcho++;
        return;
      }
      this.echoReply(d);
      return;
    }
    if (
      type === TYPE_DEST_UNREACHABLE ||
      type === TYPE_TIME_EXCEEDED ||
      type === TYPE_PARAMETER_PROBLEM ||
      type === TYPE_SOURCE_QUENCH
    ) {
      stats.errorsReceived++;
      this.dispatchError(type, v.code, d);
      return;
    }
    stats.drops.unhandledType++;
  }

  destinationUnreachable(code: number, d: Ipv4Delivery): void {
    // RFC 1122 3.2.2: never about broadcasts, never about an ICMP error message itself.
    if (d.toBroadcast || d.src === 0) return;
    if (d.protocol === ICMP_PROTOCOL && d.length > 0 && isErrorType(d.bytes[d.offset])) return;
    if (
      this.sendError(
        TYPE_DEST_UNREACHABLE,
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
    // Code 1: fragment reassembly time exceeded (RFC 792), only when fragment zero arrived.
    if (this.sendError(TYPE_TIME_EXCEEDED, 1, src, bytes, datagramOffset, quotedLength)) {
      this.stats.timeExceededSent++;
    }
  }

  private echoReply(d: Ipv4Delivery): void {
    const tx = this.tx;
    const start = IPV4_SEND_HEADROOM;
    const length = d.length;
    copyBytes(d.bytes, d.offset, tx, start, length);
    // Same identifier, sequence and data; new type and code (RFC 792). The checksum was verified,
    // so it is updated for the one changed word instead of summing the message again
    // (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), here m' = 0).
    const oldWord = (tx[start] << 8) | tx[start + 1];
    const oldSum = (tx[start + 2] << 8) | tx[start + 3];
    let sum = (~oldSum & 0xffff) + (~oldWord & 0xffff);
    sum = (sum & 0xffff) + (sum >>> 16);
    sum = ~((sum & 0xffff) + (sum >>> 16)) & 0xffff;
    tx[start] = TYPE_ECHO_REPLY;
    tx[start + 1] = 0;
    tx[start + 2] = sum >>> 8;
    tx[start + 3] = sum & 0xff;
    if (this.ip.sendBack(d, ICMP_PROTOCOL, tx, start, length) === SendStatus.Dropped) {
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
    if (!this.takeToken()) {
      this.stats.drops.rateLimited++;
      return false;
    }
    const quote = Math.min(quoteLength, MAX_QUOTE);
    const tx = this.tx;
    const start = IPV4_SEND_HEADROOM;
    tx.fill(0, start, start + ICMP_HEADER_LENGTH);
    tx[start] = type;
    tx[start + 1] = code;
    copyBytes(bytes, quoteOffset, tx, start + ICMP_HEADER_LENGTH, quote);
    const length = ICMP_HEADER_LENGTH + quote;
    const sum = internetChecksum(tx, start, length);
    tx[start + 2] = sum >>> 8;
    tx[start + 3] = sum & 0xff;
    return this.ip.send(dst, ICMP_PROTOCOL, tx, start, length) !== SendStatus.Dropped;
  }

  /** Token bucket: refills `ratePerMs` tokens per ms up to `burst`. */
  private takeToken(): boolean {
    const now = this.time.now();
    if (now > this.tokensAt) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.tokensAt) * this.ratePerMs);
      this.tokensAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private dispatchError(type: number, code: number, d: Ipv4Delivery): void {
    const quoteOffset = d.offset + ICMP_HEADER_LENGTH;
    const quoteLength = d.length - ICMP_HEADER_LENGTH;
    // The quote must hold at least an IPv4 header to name the transport.
    if (quoteLength < 20) {
      this.stats.drops.truncated++;
      return;
    }
    const protocol = d.bytes[quoteOffset + 9];
    this.errorReceivers[protocol]?.icmpError(type, code, d.src, d.bytes, quoteOffset, quoteLength);
  }
}

function isErrorType(type: number): boolean {
  return (
    type === TYPE_DEST_UNREACHABLE ||
    type === TYPE_TIME_EXCEEDED ||
    type === TYPE_PARAMETER_PROBLEM ||
    type === TYPE_SOURCE_QUENCH
  );
}
