/**
 * UDP (RFC 768, RFC 1122 section 4.1): a port table, checksum verify/fill, ICMP port unreachable
 * for closed ports, and sockets with a node:dgram-like API (see socket.ts).
 *
 * Two ways in: the socket's 'message' event (copies the payload into a Buffer, like dgram), or a
 * zero-copy `UdpDatagramReceiver` installed with `socket.setReceiver()`, which gets a reused
 * delivery record pointing into the frame for hot paths (echo servers, DNS/DHCP parsers).
 */
import { icmp, ipv4, udp } from '../../generated/index.js';
import {
  IPV4_SEND_HEADROOM,
  SendStatus,
  type Ipv4Delivery,
  type Ipv4Sender,
  type TransportReceiver,
} from '../layers.js';
import { createUdpStats, type UdpStats } from '../stats.js';
import type { Ipv4ErrorReporter } from '../ipv4/ipv4.js';
import { copyBytes } from '../ethernet/bytes.js';
import { UdpSocket } from './socket.js';
import type { UdpDelivery } from './types.js';

const UDP = ipv4.IpProtocol.UDP;
const UDP_HEADER_LENGTH = udp.UDP_FIXED_SIZE;
/** Headroom a caller of `sendInPlace` leaves in front of its payload. */
export const UDP_SEND_HEADROOM = IPV4_SEND_HEADROOM + UDP_HEADER_LENGTH;
/** Largest payload: 65535 - IPv4 header - UDP header. */
export const UDP_MAX_PAYLOAD = 65535 - ipv4.IPV4_FIXED_SIZE - UDP_HEADER_LENGTH;
const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;

/** What UDP needs from IPv4: sending, plus telling broadcast destinations apart. */
export interface UdpIpv4 extends Ipv4Sender {
  isBroadcast(dst: number): boolean;
  /** Sends to `to.src` (see Ipv4Layer.sendBack). */
  sendBack(
    to: { readonly src: number },
    protocol: number,
    buf: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
  ): SendStatus;
}

export class UdpLayer implements TransportReceiver {
  readonly stats: UdpStats = createUdpStats();
  private readonly sockets = new Map<number, UdpSocket>();
  private readonly view = new udp.UdpView();
  private readonly delivery: UdpDelivery = {
    src: 0,
    srcPort: 0,
    dst: 0,
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
  private readonly tx = new Uint8Array(UDP_SEND_HEADROOM + UDP_MAX_PAYLOAD);
  private nextEphemeral = 0;

  constructor(
    readonly ip: UdpIpv4,
    private readonly errors: Ipv4ErrorReporter | null,
  ) {}

  /** A new unbound socket, like `dgram.createSocket('udp4')`. */
  createSocket(): UdpSocket {
    return new UdpSocket(this);
  }

  receive(d: Ipv4Delivery): void {
    const stats = this.stats;
    stats.rxDatagrams++;
    const v = this.view;
    const err = v.wrap(d.bytes, d.offset, d.length);
    if (err !== null) {
      if (err.code === 'E_TRUNCATED') stats.drops.truncated++;
      else stats.drops.badLength++;
      return;
    }
    // The addresses go in as their int32 bit patterns: an unsigned one above 2^31 passed to a
    // call would be a heap number, allocated per datagram.
    if (!v.checksumValidWith(d.src | 0, d.dst | 0)) {
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
    u.src = d.src;
    u.srcPort = v.srcPort;
    u.dst = d.dst;
    u.dstPort = dstPort;
    u.toBroadcast = d.toBroadcast;
    u.checksum = v.checksum;
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
    if (!this.fitsInPlace(payloadOffset, length)) return SendStatus.Dropped;
    const h = this.header;
    h.srcPort = srcPort;
    h.dstPort = dstPort;
    h.checksum = checksum >= 0 ? checksum : undefined;
    const headerOffset = payloadOffset - UDP_HEADER_LENGTH;
    const from = src !== 0 ? src : this.ip.address;
    udp.encodeUdp(h, buf, headerOffset, length, from | 0, dst | 0);
    const status = this.ip.send(dst, UDP, buf, headerOffset, UDP_HEADER_LENGTH + length, src);
    return this.counted(status);
  }

  /**
   * Answers a received datagram `to` (to its sender's address and port) from `srcPort`, with the
   * payload already at `payloadOffset` in `buf` as for `sendInPlace`. Reads the addresses from
   * the record, so no call boxes them: the zero-allocation path for servers. `checksum >= 0` is
   * written as is (see `sendInPlace`).
   */
  replyInPlace(
    srcPort: number,
    to: UdpDelivery,
    buf: Uint8Array,
    payloadOffset: number,
    length: number,
    checksum = -1,
  ): SendStatus {
    if (!this.fitsInPlace(payloadOffset, length)) return SendStatus.Dropped;
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

  /** An in-place payload can be sent: not too long, headroom for the headers (else counted). */
  private fitsInPlace(payloadOffset: number, length: number): boolean {
    if (length <= UDP_MAX_PAYLOAD && payloadOffset >= UDP_SEND_HEADROOM) return true;
    this.stats.drops.tooBig++;
    return false;
  }

  /** Counts what IPv4 did with a datagram handed to it, and passes the status on. */
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

  /** Whether a socket holds `port`. */
  isBound(port: number): boolean {
    return this.sockets.has(port);
  }

  /** Claims `port` (0 = an ephemeral one) for `socket`; returns the port, or -1 when taken. */
  bindPort(socket: UdpSocket, port: number): number {
    if (port === 0) {
      for (let i = 0; i < EPHEMERAL_COUNT; i++) {
        const candidate = EPHEMERAL_FIRST + ((this.nextEphemeral + i) % EPHEMERAL_COUNT);
        if (!this.sockets.has(candidate)) {
          this.nextEphemeral = (this.nextEphemeral + i + 1) % EPHEMERAL_COUNT;
          this.sockets.set(candidate, socket);
          return candidate;
        }
      }
      return -1;
    }
    if (this.sockets.has(port)) return -1;
    this.sockets.set(port, socket);
    return port;
  }

  unbindPort(socket: UdpSocket, port: number): void {
    if (this.sockets.get(port) === socket) this.sockets.delete(port);
  }

  /** Closes every socket (stack shutdown). */
  close(): void {
    for (const socket of [...this.sockets.values()]) socket.close();
  }
}
