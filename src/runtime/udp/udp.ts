/**
 * UDP (RFC 768, RFC 1122 section 4.1) over IPv4 and IPv6 (RFC 8200 §8.1): port tables, checksum
 * verify/fill, ICMP or ICMPv6 port unreachable for closed ports, and sockets with a
 * node:dgram-like API (see socket.ts).
 *
 * Each family has its own port table. A socket created without a type (or 'udp6' without
 * ipv6Only) holds its port in both, so it takes datagrams of either family, like a Linux
 * dual-stack socket; a 'udp4' or ipv6Only socket holds one table's port only.
 *
 * Two ways in: the socket's 'message' event (copies the payload into a Buffer, like dgram), or a
 * zero-copy `UdpDatagramReceiver` installed with `socket.setReceiver()`, which gets a reused
 * delivery record pointing into the frame for hot paths (echo servers, DNS/DHCP parsers).
 */
import { type FrameDecoder, FrameLayer } from '../../generated/frame.js';
import { icmp, icmpv6, ipv4, ipv6, udp } from '../../generated/index.js';
import {
  decodedAs,
  IPV4_SEND_HEADROOM,
  IPV6_SEND_HEADROOM,
  SendStatus,
  type Ipv4Delivery,
  type Ipv4Sender,
  type Ipv6Delivery,
  type Ipv6Sender,
  type Ipv6TransportReceiver,
  type TransportReceiver,
} from '../layers.js';
import { createUdpStats, type UdpStats } from '../stats.js';
import type { Ipv4ErrorReporter } from '../ipv4/ipv4.js';
import { copyBytes } from '../../util/bytes.js';
import { UdpSocket } from './socket.js';
import type { UdpDelivery, UdpIcmpError, UdpSocketOptions, UdpSocketType } from './types.js';
import type { IcmpErrorReceiver } from '../icmp/icmp.js';
import type { Icmpv6ErrorReport } from '../ipv6/icmpv6.js';
import { icmpVerdict, icmpv6Verdict, type IcmpVerdict } from '../tcp/icmp-errors.js';
import { FrameMeta } from '../link/offload.js';

const UDP = ipv4.IpProtocol.UDP;
const UDP_HEADER_LENGTH = udp.UDP_FIXED_SIZE;
const IPV4_HEADROOM = IPV4_SEND_HEADROOM + UDP_HEADER_LENGTH;
const IPV6_HEADROOM = IPV6_SEND_HEADROOM + UDP_HEADER_LENGTH;
/** Headroom a caller of `sendInPlace` leaves in front of its payload (enough for either family). */
export const UDP_SEND_HEADROOM = Math.max(IPV4_HEADROOM, IPV6_HEADROOM);
/** Largest payload over IPv4: 65535 - IPv4 header - UDP header. */
export const UDP_MAX_PAYLOAD = 65535 - ipv4.IPV4_FIXED_SIZE - UDP_HEADER_LENGTH;
/** Largest payload over IPv6: the IPv6 payload length (65535, no jumbograms) - UDP header. */
export const UDP_IPV6_MAX_PAYLOAD = 65535 - UDP_HEADER_LENGTH;
const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;

/** What UDP needs from IPv4: sending, plus telling broadcast destinations apart. */
export interface UdpIpv4 extends Ipv4Sender {
  isBroadcast(dst: number): boolean;
  /** Our source address towards `dst` (127.0.0.1 towards 127.0.0.0/8); the checksum covers it. */
  sourceFor(dst: number): number;
  /** Sends to `to.src` (see Ipv4Layer.sendBack). */
  sendBack(
    to: { readonly src: number },
    protocol: number,
    buf: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
  ): SendStatus;
}

/** What UDP needs from IPv6 (see Ipv6Layer): sending, nothing more. */
export type UdpIpv6 = Ipv6Sender;

/** ICMPv6 port unreachable for datagrams to closed ports (see Icmpv6Layer). */
export interface UdpIpv6ErrorReporter {
  destinationUnreachable(code: number, d: Ipv6Delivery): void;
}

export class UdpLayer implements TransportReceiver, IcmpErrorReceiver {
  readonly stats: UdpStats = createUdpStats();
  /** IPv6, once `attachIpv6` has been called (the stack does when IPv6 is enabled). */
  ip6: UdpIpv6 | null = null;
  /** What IPv6 registers for next header UDP (a transport has one `receive` per family). */
  readonly ipv6Receiver: Ipv6TransportReceiver = { receive: (d) => this.receive6(d) };
  private errors6: UdpIpv6ErrorReporter | null = null;
  private readonly sockets = new Map<number, UdpSocket>();
  private readonly sockets6 = new Map<number, UdpSocket>();
  private readonly view = new udp.UdpView();
  /** The facts the link gave about the frame being received (set by the stack). */
  rxMeta: FrameMeta = new FrameMeta();
  private readonly delivery: UdpDelivery = {
    family: 'IPv4',
    src: 0,
    dst: 0,
    src6: new Uint8Array(16),
    dst6: new Uint8Array(16),
    srcPort: 0,
    dstPort: 0,
    toBroadcast: false,
    checksum: 0,
    bytes: new Uint8Array(0),
    offset: 0,
    length: 0,
  };
  private readonly header: udp.UdpFields = {
    srcPort: 0,
    dstPort: 0,
    length: undefined,
    checksum: undefined,
  };
  /** Scratch for `sendDatagram`, which copies the caller's payload behind the headroom. */
  private readonly tx = new Uint8Array(UDP_SEND_HEADROOM + UDP_IPV6_MAX_PAYLOAD);
  /** Our source address for an IPv6 send, picked per datagram (RFC 6724). */
  private readonly src6 = new Uint8Array(16);
  private nextEphemeral = 0;
  /** The datagram an ICMP error quotes, and the record sockets hear about it in. */
  private readonly quote4 = new ipv4.Ipv4View();
  private readonly quote6 = new ipv6.Ipv6View();
  private readonly quoteUdp = new udp.UdpView();
  private readonly icmpReport: UdpIcmpError = {
    family: 'IPv4',
    type: 0,
    code: 0,
    errno: '',
    fatal: false,
    dst: 0,
    dst6: new Uint8Array(16),
    port: 0,
  };

  constructor(
    readonly ip: UdpIpv4,
    private readonly errors: Ipv4ErrorReporter | null,
  ) {}

  /** Sends and receives over IPv6 too; register `ipv6Receiver` with it for next header UDP. */
  attachIpv6(ip6: UdpIpv6, errors: UdpIpv6ErrorReporter | null): void {
    this.ip6 = ip6;
    this.errors6 = errors;
  }

  /**
   * A new unbound socket, like `dgram.createSocket(type, options)`: without a type (or 'udp6'
   * without `ipv6Only`) it takes both families, 'udp4' IPv4 only, ipv6Only IPv6 only.
   */
  createSocket(type?: UdpSocketType, options: UdpSocketOptions = {}): UdpSocket {
    return new UdpSocket(this, type !== 'udp6' || options.ipv6Only !== true, type !== 'udp4');
  }

  /**
   * The datagram's header: the frame decoder's view when it decoded these bytes as UDP, else
   * `this.view` wrapped over them; null (counted) when they are not a UDP header.
   */
  private datagramView(
    frame: FrameDecoder | null,
    bytes: Uint8Array,
    offset: number,
    length: number,
  ): udp.UdpView | null {
    if (frame !== null && decodedAs(frame, FrameLayer.udp, frame.udp, bytes, offset, length))
      return frame.udp;
    const v = this.view;
    const err = v.wrap(bytes, offset, length);
    if (err === null) return v;
    if (err.code === 'E_TRUNCATED') this.stats.drops.truncated++;
    else this.stats.drops.badLength++;
    return null;
  }

  receive(d: Ipv4Delivery): void {
    const stats = this.stats;
    stats.rxDatagrams++;
    const v = this.datagramView(d.frame, d.bytes, d.offset, d.length);
    if (v === null) return;
    // The addresses go in as their int32 bit patterns: an unsigned one above 2^31 passed to a
    // call would be a heap number, allocated per datagram.
    // A checksum the link vouches for (verified, or partial: never left this host) is not summed.
    if (!this.rxMeta.checksumTrusted(d.bytes) && !v.checksumValidWith(d.src | 0, d.dst | 0)) {
      stats.drops.badChecksum++;
      return;
    }
    const dstPort = v.dstPort;
    const socket = this.sockets.get(dstPort);
    if (socket === undefined) {
      stats.drops.noSocket++;
      // RFC 1122 4.1.3.1: port unreachable; ICMP skips broadcasts itself.
      this.errors?.destinationUnreachable(icmp.IcmpUnreachableCode.Port, d);
      return;
    }
    const u = this.delivery;
    u.family = 'IPv4';
    u.src = d.src;
    u.srcPort = v.srcPort;
    u.dst = d.dst;
    u.dstPort = dstPort;
    u.toBroadcast = d.toBroadcast;
    // A partial checksum (the link's NeedsCsum) is no checksum to reuse.
    u.checksum = this.rxMeta.checksumPartial(d.bytes) ? 0 : v.checksum;
    u.bytes = d.bytes;
    u.offset = v.payloadOffset;
    u.length = v.payloadLength;
    socket.deliver(u);
  }

  /** A datagram from IPv6: checksum over the IPv6 pseudo-header, which may not be omitted. */
  private receive6(d: Ipv6Delivery): void {
    const stats = this.stats;
    stats.rxDatagrams++;
    const v = this.datagramView(d.frame, d.bytes, d.offset, d.length);
    if (v === null) return;
    // The generated check fails a stored 0 over IPv6 (RFC 8200 §8.1); counted apart from a
    // wrong checksum since it is a sender that omits it rather than corruption.
    if (!this.rxMeta.checksumTrusted(d.bytes) && !v.checksumValidWithIpv6(d.src, 0, d.dst, 0)) {
      if (v.checksum === 0) stats.drops.zeroChecksum++;
      else stats.drops.badChecksum++;
      return;
    }
    const dstPort = v.dstPort;
    const socket = this.sockets6.get(dstPort);
    if (socket === undefined) {
      stats.drops.noSocket++;
      // RFC 4443 §3.1 code 4; ICMPv6 sends none about a datagram sent to a group (§2.4 e.3).
      this.errors6?.destinationUnreachable(icmpv6.Icmpv6UnreachableCode.Port, d);
      return;
    }
    const u = this.delivery;
    u.family = 'IPv6';
    u.src = 0;
    u.dst = 0;
    u.src6 = d.src;
    u.dst6 = d.dst;
    u.srcPort = v.srcPort;
    u.dstPort = dstPort;
    u.toBroadcast = d.toMulticast;
    // A partial checksum (the link's NeedsCsum) is no checksum to reuse.
    u.checksum = this.rxMeta.checksumPartial(d.bytes) ? 0 : v.checksum;
    u.bytes = d.bytes;
    u.offset = v.payloadOffset;
    u.length = v.payloadLength;
    socket.deliver(u);
  }

  /**
   * Sends `length` bytes already sitting at `payloadOffset` in `buf`, with at least
   * `UDP_SEND_HEADROOM` free bytes before them: the UDP header (checksum filled in) and the
   * lower headers are written in place. No copy, no allocation. `checksum` (when >= 0) is
   * written as is instead of being computed: an echo of a verified datagram with addresses and
   * ports swapped has the same checksum, since the one's-complement sum does not depend on order.
   */
  sendInPlace(
    srcPort: number,
    dst: number,
    dstPort: number,
    buf: Uint8Array,
    payloadOffset: number,
    length: number,
    src = 0,
    checksum = -1,
  ): SendStatus {
    if (!this.fitsInPlace(payloadOffset, length, IPV4_HEADROOM, UDP_MAX_PAYLOAD))
      return SendStatus.Dropped;
    const h = this.header;
    h.srcPort = srcPort;
    h.dstPort = dstPort;
    h.checksum = checksum >= 0 ? checksum : undefined;
    const headerOffset = payloadOffset - UDP_HEADER_LENGTH;
    const from = src !== 0 ? src : this.ip.sourceFor(dst);
    udp.encodeUdp(h, buf, headerOffset, length, from | 0, dst | 0);
    const status = this.ip.send(dst, UDP, buf, headerOffset, UDP_HEADER_LENGTH + length, src);
    return this.counted(status);
  }

  /**
   * `sendInPlace` over IPv6, to the 16 bytes at `dst[dstOffset]` from the source address IPv6
   * picks for it (RFC 6724). Dropped (and counted) without IPv6 or a usable source address.
   */
  sendInPlace6(
    srcPort: number,
    dst: Uint8Array,
    dstOffset: number,
    dstPort: number,
    buf: Uint8Array,
    payloadOffset: number,
    length: number,
    checksum = -1,
  ): SendStatus {
    const ip6 = this.ip6;
    if (!this.fitsInPlace(payloadOffset, length, IPV6_HEADROOM, UDP_IPV6_MAX_PAYLOAD))
      return SendStatus.Dropped;
    const src = this.src6;
    if (ip6 === null || !ip6.selectSource(dst, dstOffset, src)) {
      this.stats.drops.sendFailed++;
      return SendStatus.Dropped;
    }
    const h = this.header;
    h.srcPort = srcPort;
    h.dstPort = dstPort;
    h.checksum = checksum >= 0 ? checksum : undefined;
    const headerOffset = payloadOffset - UDP_HEADER_LENGTH;
    udp.encodeUdpIpv6(h, buf, headerOffset, length, src, 0, dst, dstOffset);
    const total = UDP_HEADER_LENGTH + length;
    return this.counted(ip6.send(dst, dstOffset, UDP, buf, headerOffset, total, src));
  }

  /**
   * Answers a received datagram `to` (to its sender's address and port, over its family) from
   * `srcPort`, with the payload already at `payloadOffset` in `buf` as for `sendInPlace`. Reads
   * the addresses from the record, so no call boxes them: the zero-allocation path for servers.
   * `checksum >= 0` is written as is (see `sendInPlace`).
   */
  replyInPlace(
    srcPort: number,
    to: UdpDelivery,
    buf: Uint8Array,
    payloadOffset: number,
    length: number,
    checksum = -1,
  ): SendStatus {
    if (to.family === 'IPv6')
      return this.replyInPlace6(srcPort, to, buf, payloadOffset, length, checksum);
    if (!this.fitsInPlace(payloadOffset, length, IPV4_HEADROOM, UDP_MAX_PAYLOAD))
      return SendStatus.Dropped;
    const h = this.header;
    h.srcPort = srcPort;
    h.dstPort = to.srcPort;
    h.checksum = checksum >= 0 ? checksum : undefined;
    const headerOffset = payloadOffset - UDP_HEADER_LENGTH;
    const total = UDP_HEADER_LENGTH + length;
    // Our reply goes from the address the datagram came to, back to its sender; the addresses
    // as int32 bit patterns, which no call boxes.
    udp.encodeUdp(h, buf, headerOffset, length, to.dst | 0, to.src | 0);
    const status = this.ip.sendBack(to, UDP, buf, headerOffset, total);
    return this.counted(status);
  }

  private replyInPlace6(
    srcPort: number,
    to: UdpDelivery,
    buf: Uint8Array,
    payloadOffset: number,
    length: number,
    checksum: number,
  ): SendStatus {
    const ip6 = this.ip6;
    if (!this.fitsInPlace(payloadOffset, length, IPV6_HEADROOM, UDP_IPV6_MAX_PAYLOAD))
      return SendStatus.Dropped;
    if (ip6 === null) {
      this.stats.drops.sendFailed++;
      return SendStatus.Dropped;
    }
    // From the address the datagram came to; a group is no source (RFC 4291 §2.7), so an answer
    // to one goes from the address IPv6 picks, and its checksum must be computed anew.
    let src = to.dst6;
    if (to.toBroadcast) {
      src = this.src6;
      if (!ip6.selectSource(to.src6, 0, src)) {
        this.stats.drops.sendFailed++;
        return SendStatus.Dropped;
      }
      checksum = -1;
    }
    const h = this.header;
    h.srcPort = srcPort;
    h.dstPort = to.srcPort;
    h.checksum = checksum >= 0 ? checksum : undefined;
    const headerOffset = payloadOffset - UDP_HEADER_LENGTH;
    udp.encodeUdpIpv6(h, buf, headerOffset, length, src, 0, to.src6, 0);
    const total = UDP_HEADER_LENGTH + length;
    return this.counted(ip6.send(to.src6, 0, UDP, buf, headerOffset, total, src));
  }

  /** An in-place payload can be sent: not too long, headroom for the headers (else counted). */
  private fitsInPlace(
    payloadOffset: number,
    length: number,
    headroom: number,
    maxPayload: number,
  ): boolean {
    if (length <= maxPayload && payloadOffset >= headroom) return true;
    this.stats.drops.tooBig++;
    return false;
  }

  /** Counts what the network layer did with a datagram handed to it, and passes the status on. */
  private counted(status: SendStatus): SendStatus {
    if (status === SendStatus.Dropped) this.stats.drops.sendFailed++;
    else this.stats.txDatagrams++;
    return status;
  }

  /** Copies `bytes[offset, +length)` into a scratch buffer with headroom and sends it. */
  sendDatagram(
    srcPort: number,
    dst: number,
    dstPort: number,
    bytes: Uint8Array,
    offset: number,
    length: number,
    src = 0,
  ): SendStatus {
    if (length > UDP_MAX_PAYLOAD) {
      this.stats.drops.tooBig++;
      return SendStatus.Dropped;
    }
    copyBytes(bytes, offset, this.tx, UDP_SEND_HEADROOM, length);
    return this.sendInPlace(srcPort, dst, dstPort, this.tx, UDP_SEND_HEADROOM, length, src);
  }

  /** `sendDatagram` over IPv6, to the 16 bytes at `dst[dstOffset]`. */
  sendDatagram6(
    srcPort: number,
    dst: Uint8Array,
    dstOffset: number,
    dstPort: number,
    bytes: Uint8Array,
    offset: number,
    length: number,
  ): SendStatus {
    if (length > UDP_IPV6_MAX_PAYLOAD) {
      this.stats.drops.tooBig++;
      return SendStatus.Dropped;
    }
    copyBytes(bytes, offset, this.tx, UDP_SEND_HEADROOM, length);
    return this.sendInPlace6(srcPort, dst, dstOffset, dstPort, this.tx, UDP_SEND_HEADROOM, length);
  }

  /**
   * An ICMP error quoting a datagram we sent (IPv4 header, then at least the 8 bytes of UDP
   * header, RFC 792): told to the socket that sent it, by its source port.
   */
  icmpError(
    type: number,
    code: number,
    _from: number,
    bytes: Uint8Array,
    quoteOffset: number,
    quoteLength: number,
  ): void {
    const q = this.quote4;
    const u = this.quoteUdp;
    if (q.wrapPartial(bytes, quoteOffset, quoteLength) !== null || q.protocol !== UDP) return;
    if (u.wrapPartial(bytes, q.payloadOffset, quoteOffset + quoteLength - q.payloadOffset) !== null)
      return;
    const socket = this.sockets.get(u.srcPort);
    if (socket?.icmpListener == null) return;
    const r = this.report('IPv4', type, code, icmpVerdict(type, code));
    if (r === null) return;
    r.dst = q.dst >>> 0;
    r.port = u.dstPort;
    socket.icmpListener(r);
  }

  /** An ICMPv6 error quoting a packet we sent: IPv6 header, then UDP (we add no extensions). */
  readonly icmpv6Error = (report: Icmpv6ErrorReport): void => {
    const q = this.quote6;
    const u = this.quoteUdp;
    if (q.wrapPartial(report.bytes, report.quoteOffset, report.quoteLength) !== null) return;
    if (q.nextHeader !== UDP) return;
    const end = report.quoteOffset + report.quoteLength;
    if (u.wrapPartial(report.bytes, q.payloadOffset, end - q.payloadOffset) !== null) return;
    const socket = this.sockets6.get(u.srcPort);
    if (socket?.icmpListener == null) return;
    const r = this.report(
      'IPv6',
      report.type,
      report.code,
      icmpv6Verdict(report.type, report.code),
    );
    if (r === null) return;
    r.dst = 0;
    copyBytes(report.bytes, q.dstOffset, r.dst6, 0, 16);
    r.port = u.dstPort;
    socket.icmpListener(r);
  };

  private report(
    family: 'IPv4' | 'IPv6',
    type: number,
    code: number,
    verdict: IcmpVerdict | null,
  ): UdpIcmpError | null {
    if (verdict === null) return null;
    const r = this.icmpReport;
    r.family = family;
    r.type = type;
    r.code = code;
    r.errno = verdict.code;
    r.fatal = verdict.fatal;
    return r;
  }

  /** Whether a socket holds `port` in either family's table. */
  isBound(port: number): boolean {
    return this.sockets.has(port) || this.sockets6.has(port);
  }

  /**
   * Claims `port` (0 = an ephemeral one) for `socket` in the IPv4 table (`v4`), the IPv6 one
   * (`v6`) or both; returns the port, or -1 when taken in one of them.
   */
  bindPort(socket: UdpSocket, port: number, v4 = true, v6 = true): number {
    if (port === 0) {
      for (let i = 0; i < EPHEMERAL_COUNT; i++) {
        const candidate = EPHEMERAL_FIRST + ((this.nextEphemeral + i) % EPHEMERAL_COUNT);
        if (this.isFree(candidate, v4, v6)) {
          this.nextEphemeral = (this.nextEphemeral + i + 1) % EPHEMERAL_COUNT;
          this.claim(socket, candidate, v4, v6);
          return candidate;
        }
      }
      return -1;
    }
    if (!this.isFree(port, v4, v6)) return -1;
    this.claim(socket, port, v4, v6);
    return port;
  }

  private isFree(port: number, v4: boolean, v6: boolean): boolean {
    return !(v4 && this.sockets.has(port)) && !(v6 && this.sockets6.has(port));
  }

  private claim(socket: UdpSocket, port: number, v4: boolean, v6: boolean): void {
    if (v4) this.sockets.set(port, socket);
    if (v6) this.sockets6.set(port, socket);
  }

  unbindPort(socket: UdpSocket, port: number): void {
    if (this.sockets.get(port) === socket) this.sockets.delete(port);
    if (this.sockets6.get(port) === socket) this.sockets6.delete(port);
  }

  /** Closes every socket (stack shutdown). */
  close(): void {
    for (const socket of new Set([...this.sockets.values(), ...this.sockets6.values()]))
      socket.close();
  }
}
