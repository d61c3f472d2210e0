/**
 * ICMPv6 (RFC 4443): echo both ways, the error messages a host sends (parameter problem,
 * destination unreachable, time exceeded for reassembly) and receives (packet too big lowers
 * the path MTU, RFC 8201; the others go to the transports' listeners), and the demux of
 * Neighbor Discovery and MLD messages to their modules.
 *
 * Errors follow §2.4: never about an ICMPv6 error, nor about a packet from an unspecified or
 * multicast source, nor (but for the two §2.4(e) exceptions) about one sent to a multicast
 * group; each quotes as much of the invoking packet as keeps the error within the minimum MTU;
 * and they are rate limited by a token bucket (§2.4(f)).
 */
import { icmpv6, ipv4 } from '../../generated/index.js';
import {
  IPV6_SEND_HEADROOM,
  SendStatus,
  ICMPV6_MAX_QUOTE,
  createIpv6Delivery,
  type Ipv6Delivery,
  type Ipv6TransportReceiver,
} from '../layers.js';
import { createIcmpv6Stats, type Icmpv6Stats } from '../stats.js';
import type { TimeSource } from '../arp/arp.js';
import { copyBytes } from '../../util/bytes.js';
import { TokenBucket } from '../rate-limit.js';
import { isMulticast, isUnspecified } from './address.js';
import type { Ipv6ErrorReporter, Ipv6Layer } from './ipv6.js';
import type { Ipv6ReassemblyTimeoutListener } from './reassembly.js';

const { Icmpv6Type } = icmpv6;
const MAX_PAYLOAD = 65535;

export interface Icmpv6Options {
  /** Errors allowed per second on average (token refill rate). */
  errorRatePerSecond?: number;
  /** Errors allowed in a burst (bucket size). */
  errorBurst?: number;
  /** Answer echo requests sent to a multicast group (Linux's default: yes). */
  echoMulticast?: boolean;
}

/** A received echo reply (the ping client listens). */
export interface Icmpv6EchoReply {
  src: Uint8Array;
  identifier: number;
  sequence: number;
  hopLimit: number;
  bytes: Uint8Array;
  dataOffset: number;
  dataLength: number;
}

/** A received ICMPv6 error, with where its quoted packet is (transports match their flows). */
export interface Icmpv6ErrorReport {
  type: number;
  code: number;
  /** The MTU (packet too big) or pointer (parameter problem); 0 otherwise. */
  value: number;
  bytes: Uint8Array;
  quoteOffset: number;
  quoteLength: number;
}

/** Neighbor Discovery and MLD messages, after the checksum verified (nd.ts, mld.ts). */
export interface Icmpv6MessageHandler {
  receive(messages: icmpv6.Icmpv6Layouts, d: Ipv6Delivery): void;
}

export class Icmpv6Layer
  implements Ipv6TransportReceiver, Ipv6ErrorReporter, Ipv6ReassemblyTimeoutListener
{
  readonly stats: Icmpv6Stats = createIcmpv6Stats();
  nd: Icmpv6MessageHandler | null = null;
  mld: Icmpv6MessageHandler | null = null;
  echoListener: ((reply: Icmpv6EchoReply) => void) | null = null;
  readonly errorListeners: Array<(report: Icmpv6ErrorReport) => void> = [];
  private readonly o: Required<Icmpv6Options>;
  private readonly messages = new icmpv6.Icmpv6Layouts();
  private readonly quoted = new icmpv6.Icmpv6View();
  private readonly tx = new Uint8Array(IPV6_SEND_HEADROOM + MAX_PAYLOAD);
  private readonly src = new Uint8Array(16);
  private readonly dst = new Uint8Array(16);
  /** The record a reassembly timeout's quote is described in. */
  private readonly timedOut: Ipv6Delivery = createIpv6Delivery();
  private readonly errorTokens: TokenBucket;
  private readonly echo: icmpv6.Icmpv6EchoFields = {
    type: Icmpv6Type.EchoReply,
    code: 0,
    checksum: undefined,
    identifier: 0,
    sequence: 0,
  };

  constructor(
    private readonly ip: Ipv6Layer,
    private readonly time: TimeSource,
    options: Icmpv6Options = {},
  ) {
    this.o = { errorRatePerSecond: 100, errorBurst: 20, echoMulticast: true, ...options };
    this.errorTokens = new TokenBucket(this.o.errorRatePerSecond, this.o.errorBurst);
  }

  receive(d: Ipv6Delivery): void {
    const stats = this.stats;
    stats.rxMessages++;
    const m = this.messages;
    if (m.wrap(d.bytes, d.offset, d.length) !== null) {
      stats.drops.truncated++;
      return;
    }
    if (!m.head.checksumValidWithIpv6(d.src, 0, d.dst, 0)) {
      stats.drops.badChecksum++;
      return;
    }
    switch (m.layout) {
      case 'icmpv6Echo':
        if (m.head.type === Icmpv6Type.EchoRequest) this.answerEcho(m.icmpv6Echo, d);
        else this.deliverEchoReply(m.icmpv6Echo, d);
        return;
      case 'icmpv6PacketTooBig': {
        const v = m.icmpv6PacketTooBig;
        stats.errorsReceived++;
        stats.packetTooBigReceived++;
        this.lowerPathMtu(v.mtu, d.bytes, v.payloadOffset, v.payloadLength);
        this.report(v.type, v.code, v.mtu, d.bytes, v.payloadOffset, v.payloadLength);
        return;
      }
      case 'icmpv6Error': {
        const v = m.icmpv6Error;
        stats.errorsReceived++;
        this.report(v.type, v.code, 0, d.bytes, v.payloadOffset, v.payloadLength);
        return;
      }
      case 'icmpv6ParameterProblem': {
        const v = m.icmpv6ParameterProblem;
        stats.errorsReceived++;
        this.report(v.type, v.code, v.pointer, d.bytes, v.payloadOffset, v.payloadLength);
        return;
      }
      case 'ndRouterSolicitation':
      case 'ndRouterAdvertisement':
      case 'ndNeighborSolicitation':
      case 'ndNeighborAdvertisement':
      case 'ndRedirect':
        stats.ndReceived++;
        if (this.nd !== null) this.nd.receive(m, d);
        return;
      case 'mld':
      case 'mldv2Query':
      case 'mldv2Report':
        if (this.mld !== null) this.mld.receive(m, d);
        return;
      default:
        stats.drops.unhandledType++;
    }
  }

  /** Sends an echo request (the ping client); the reply comes to `echoListener`. */
  sendEchoRequest(
    dst: Uint8Array,
    identifier: number,
    sequence: number,
    data: Uint8Array,
    hopLimit = this.ip.hopLimit,
  ): SendStatus {
    const at = IPV6_SEND_HEADROOM;
    if (data.length > MAX_PAYLOAD - icmpv6.ICMPV6ECHO_FIXED_SIZE) return SendStatus.Dropped;
    if (!this.ip.selectSource(dst, 0, this.src)) return SendStatus.Dropped;
    copyBytes(data, 0, this.tx, at + icmpv6.ICMPV6ECHO_FIXED_SIZE, data.length);
    const e = this.echo;
    e.type = Icmpv6Type.EchoRequest;
    e.identifier = identifier & 0xffff;
    e.sequence = sequence & 0xffff;
    icmpv6.encodeIcmpv6Echo(e, this.tx, at, data.length, this.src, 0, dst, 0);
    return this.ip.send(
      dst,
      0,
      ipv4.IpProtocol.ICMPv6,
      this.tx,
      at,
      icmpv6.ICMPV6ECHO_FIXED_SIZE + data.length,
      this.src,
      hopLimit,
    );
  }

  private answerEcho(v: icmpv6.Icmpv6EchoView, d: Ipv6Delivery): void {
    const stats = this.stats;
    stats.echoRequests++;
    if (d.toMulticast && !this.o.echoMulticast) return;
    // From the address it was sent to; to a group: the source we would use (RFC 4443 §4.2).
    if (d.toMulticast) {
      if (!this.ip.selectSource(d.src, 0, this.src)) {
        stats.drops.sendFailed++;
        return;
      }
    } else {
      this.src.set(d.dst);
    }
    const at = IPV6_SEND_HEADROOM;
    const length = v.payloadLength;
    copyBytes(d.bytes, v.payloadOffset, this.tx, at + icmpv6.ICMPV6ECHO_FIXED_SIZE, length);
    const e = this.echo;
    e.type = Icmpv6Type.EchoReply;
    e.identifier = v.identifier;
    e.sequence = v.sequence;
    icmpv6.encodeIcmpv6Echo(e, this.tx, at, length, this.src, 0, d.src, 0);
    const status = this.ip.send(
      d.src,
      0,
      ipv4.IpProtocol.ICMPv6,
      this.tx,
      at,
      icmpv6.ICMPV6ECHO_FIXED_SIZE + length,
      this.src,
    );
    if (status === SendStatus.Dropped) stats.drops.sendFailed++;
    else stats.echoReplies++;
  }

  private deliverEchoReply(v: icmpv6.Icmpv6EchoView, d: Ipv6Delivery): void {
    if (this.echoListener === null) return;
    this.echoListener({
      src: d.src.slice(),
      identifier: v.identifier,
      sequence: v.sequence,
      hopLimit: d.hopLimit,
      bytes: d.bytes,
      dataOffset: v.payloadOffset,
      dataLength: v.payloadLength,
    });
  }

  /** RFC 8201: the quoted packet's destination gets the lower MTU. */
  private lowerPathMtu(mtu: number, bytes: Uint8Array, offset: number, length: number): void {
    const quoted = this.ip.quotedHeader(bytes, offset, length);
    if (quoted === null) return;
    // Only about packets we sent (from one of our addresses).
    if (this.ip.findAddress(bytes, quoted.srcOffset) === null) return;
    this.ip.lowerPathMtu(bytes, quoted.dstOffset, mtu, this.time.now());
  }

  /**
   * An error about one of our own packets raised here rather than received (Neighbor Discovery
   * gave up on its next hop): the error listeners hear it as if it had come from the network.
   */
  localError(type: number, code: number, bytes: Uint8Array, offset: number, length: number): void {
    this.report(type, code, 0, bytes, offset, length);
  }

  private report(
    type: number,
    code: number,
    value: number,
    bytes: Uint8Array,
    offset: number,
    length: number,
  ): void {
    const listeners = this.errorListeners;
    if (listeners.length === 0) return;
    const report: Icmpv6ErrorReport = {
      type,
      code,
      value,
      bytes,
      quoteOffset: offset,
      quoteLength: length,
    };
    for (const l of listeners) l(report);
  }

  // ---- Errors we send --------------------------------------------------------------------

  parameterProblem(
    code: number,
    pointer: number,
    d: Ipv6Delivery,
    toMulticastAllowed: boolean,
  ): void {
    this.sendError(Icmpv6Type.ParameterProblem, code, pointer, d, toMulticastAllowed);
  }

  /** Destination unreachable (e.g. port unreachable from UDP). */
  destinationUnreachable(code: number, d: Ipv6Delivery): void {
    this.sendError(Icmpv6Type.DestinationUnreachable, code, 0, d, false);
  }

  /** Time exceeded (code 1: fragment reassembly time exceeded) about the quoted packet. */
  timeExceeded(code: number, d: Ipv6Delivery): void {
    this.sendError(Icmpv6Type.TimeExceeded, code, 0, d, false);
  }

  /** RFC 8200 §4.5: a packet not reassembled in time, its first fragment quoted (code 1). */
  reassemblyTimedOut(bytes: Uint8Array, packetOffset: number, quotedLength: number): void {
    const quoted = this.ip.quotedHeader(bytes, packetOffset, quotedLength);
    if (quoted === null) return;
    const d = this.timedOut;
    quoted.copySrc(d.src, 0);
    quoted.copyDst(d.dst, 0);
    d.toMulticast = isMulticast(d.dst, 0);
    d.nextHeader = ipv4.IpProtocol.Fragment;
    d.bytes = bytes;
    d.packetOffset = packetOffset;
    d.packetLength = quotedLength;
    d.offset = packetOffset + quotedLength;
    d.length = 0;
    this.timeExceeded(icmpv6.Icmpv6TimeExceededCode.FragmentReassembly, d);
  }

  private sendError(
    type: number,
    code: number,
    value: number,
    d: Ipv6Delivery,
    toMulticastAllowed: boolean,
  ): void {
    const stats = this.stats;
    if (isUnspecified(d.src, 0) || isMulticast(d.src, 0)) return;
    if (d.toMulticast && !toMulticastAllowed) return;
    if (this.aboutAnError(d)) return;
    if (!this.errorTokens.take(this.time.now())) {
      stats.drops.rateLimited++;
      return;
    }
    // RFC 4443 §2.2: from the address the packet was sent to, when it was one of ours.
    if (d.toMulticast || this.ip.findAddress(d.dst, 0) === null) {
      if (!this.ip.selectSource(d.src, 0, this.src)) {
        stats.drops.sendFailed++;
        return;
      }
    } else {
      this.src.set(d.dst);
    }
    this.dst.set(d.src);
    const at = IPV6_SEND_HEADROOM;
    const quote = Math.min(d.packetLength, ICMPV6_MAX_QUOTE);
    copyBytes(d.bytes, d.packetOffset, this.tx, at + icmpv6.ICMPV6ERROR_FIXED_SIZE, quote);
    let n: number;
    if (type === Icmpv6Type.ParameterProblem) {
      n = icmpv6.encodeIcmpv6ParameterProblem(
        { type, code, checksum: undefined, pointer: value },
        this.tx,
        at,
        quote,
        this.src,
        0,
        this.dst,
        0,
      );
    } else if (type === Icmpv6Type.PacketTooBig) {
      n = icmpv6.encodeIcmpv6PacketTooBig(
        { type, code, checksum: undefined, mtu: value },
        this.tx,
        at,
        quote,
        this.src,
        0,
        this.dst,
        0,
      );
    } else {
      n = icmpv6.encodeIcmpv6Error(
        { type, code, checksum: undefined, unused: 0 },
        this.tx,
        at,
        quote,
        this.src,
        0,
        this.dst,
        0,
      );
    }
    if (n < 0) return;
    const status = this.ip.send(
      this.dst,
      0,
      ipv4.IpProtocol.ICMPv6,
      this.tx,
      at,
      n + quote,
      this.src,
    );
    if (status === SendStatus.Dropped) stats.drops.sendFailed++;
    else stats.errorsSent++;
  }

  /** §2.4(e.1): is the invoking packet itself an ICMPv6 error (or a redirect)? */
  private aboutAnError(d: Ipv6Delivery): boolean {
    if (d.nextHeader !== ipv4.IpProtocol.ICMPv6 || d.length === 0) return false;
    const q = this.quoted;
    if (q.wrap(d.bytes, d.offset, d.length) !== null) return false;
    return q.type < Icmpv6Type.EchoRequest || q.type === Icmpv6Type.Redirect;
  }
}
