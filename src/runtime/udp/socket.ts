/**
 * A UDP socket with node:dgram's shape: `bind`, `send`, `on('message')`, `close`, `address`,
 * `setBroadcast`. Differences, on purpose: `bind` completes synchronously (there is no kernel to
 * ask) and throws a `UdpSocketError` when the port is taken; `send` also returns the SendStatus
 * (queued behind ARP or ND, sent, dropped) so callers can see back-pressure without a callback.
 *
 * One socket serves both families (see `UdpLayer.createSocket`): `send` takes IPv4 or IPv6
 * address text ("10.0.0.1", "fd00::1"), and rinfo says which family a datagram came over. The
 * stack has one link, so scoped text ("fe80::1%tap0") is refused rather than half understood:
 * send to "fe80::1", which can only mean that link.
 */
import { EventEmitter } from 'node:events';
import { formatIpv4, parseIpv4, writeIpv6 } from '../../codec/address.js';
import { SendStatus } from '../layers.js';
import { ipv6Text } from '../ipv6/address.js';
import type { UdpLayer } from './udp.js';
import { UDP_IPV6_MAX_PAYLOAD, UDP_MAX_PAYLOAD } from './udp.js';
import {
  UdpSocketError,
  type UdpAddressInfo,
  type UdpDatagramReceiver,
  type UdpDelivery,
  type UdpIcmpError,
  type UdpRemoteInfo,
} from './types.js';

export interface UdpSocketEvents {
  message: [msg: Buffer, rinfo: UdpRemoteInfo];
  listening: [];
  close: [];
  error: [err: Error];
}

export type UdpSendCallback = (error: Error | null, bytes: number) => void;

const encoder = new TextEncoder();

export class UdpSocket extends EventEmitter<UdpSocketEvents> {
  private port = 0;
  private closed = false;
  private broadcast = false;
  private receiver: UdpDatagramReceiver | null = null;
  /**
   * Told of ICMP errors about datagrams this socket sent (port unreachable...), all of them:
   * which ones a user sees is the caller's rule (node:dgram's, see dgram.ts: hard errors on a
   * connected socket only, as Linux without IP_RECVERR).
   */
  icmpListener: ((error: UdpIcmpError) => void) | null = null;
  /** The IPv6 destination of the `send` being made, parsed from its text. */
  private readonly dst6 = new Uint8Array(16);

  constructor(
    private readonly layer: UdpLayer,
    /** Takes and sends IPv4 datagrams. */
    readonly ipv4: boolean = true,
    /** Takes and sends IPv6 datagrams. */
    readonly ipv6: boolean = true,
  ) {
    super();
  }

  /** Binds to `port` (0 or omitted: an ephemeral port 49152-65535). */
  bind(port = 0, callback?: () => void): this {
    if (this.closed) throw new UdpSocketError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'socket is closed');
    if (this.port !== 0)
      throw new UdpSocketError('ERR_SOCKET_ALREADY_BOUND', `already bound to ${this.port}`);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UdpSocketError('EINVAL', `bad port ${port}`);
    }
    const bound = this.layer.bindPort(this, port, this.ipv4, this.ipv6);
    if (bound < 0) {
      throw new UdpSocketError(
        'EADDRINUSE',
        port === 0 ? 'no ephemeral port left' : `port ${port} is in use`,
      );
    }
    this.port = bound;
    this.emit('listening');
    callback?.();
    return this;
  }

  address(): UdpAddressInfo {
    if (this.port === 0)
      throw new UdpSocketError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'socket is not bound');
    // Like node's, a socket that takes IPv6 reports the wildcard '::' it is bound to.
    if (this.ipv6 && (this.layer.ip6 !== null || !this.ipv4))
      return { address: '::', family: 'IPv6', port: this.port };
    return { address: formatIpv4(this.layer.ip.address), family: 'IPv4', port: this.port };
  }

  /** Allows sending to broadcast addresses (off by default, as with SO_BROADCAST). */
  setBroadcast(flag: boolean): void {
    this.broadcast = flag;
  }

  /**
   * The zero-copy receive hook: while set, datagrams go to `receiver` (a reused record pointing
   * into the frame) instead of being copied into 'message' events. Pass null to go back.
   */
  setReceiver(receiver: UdpDatagramReceiver | null): void {
    this.receiver = receiver;
  }

  /**
   * Sends `msg` to `address:port`, binding an ephemeral port first when unbound. `address` is
   * IPv4 text or number, or IPv6 text (told apart by a ':'). Errors (bad address, a family the
   * socket or stack lacks, broadcast without setBroadcast, too big, closed) go to the callback,
   * or are thrown when there is none. `src` overrides our IPv4 source address (DHCP sends from
   * 0.0.0.0).
   */
  send(
    msg: Uint8Array | string,
    port: number,
    address: string | number,
    callback?: UdpSendCallback,
    src = 0,
  ): SendStatus {
    const bytes = typeof msg === 'string' ? encoder.encode(msg) : msg;
    const error = this.checkSend(bytes.length, port, address);
    if (error !== null) {
      if (callback === undefined) throw error;
      callback(error, 0);
      return SendStatus.Dropped;
    }
    if (this.port === 0) this.bind(0);
    let status: SendStatus;
    if (typeof address === 'string' && address.includes(':')) {
      // checkSend parsed the address into dst6.
      status = this.layer.sendDatagram6(this.port, this.dst6, 0, port, bytes, 0, bytes.length);
    } else {
      const dst = typeof address === 'number' ? address >>> 0 : parseIpv4(address);
      status = this.layer.sendDatagram(this.port, dst, port, bytes, 0, bytes.length, src);
    }
    if (callback !== undefined) {
      if (status === SendStatus.Dropped) {
        callback(
          new UdpSocketError('ENETUNREACH', `cannot send to ${String(address)} (see stack stats)`),
          0,
        );
      } else {
        callback(null, bytes.length);
      }
    }
    return status;
  }

  /**
   * Zero-copy send: the payload already sits at `payloadOffset` in `buf`, with
   * `UDP_SEND_HEADROOM` free bytes in front of it for the headers. The socket must be bound.
   */
  sendInPlace(
    buf: Uint8Array,
    payloadOffset: number,
    length: number,
    dst: number,
    dstPort: number,
    checksum = -1,
  ): SendStatus {
    if (this.port === 0 || this.closed || !this.ipv4) return SendStatus.Dropped;
    return this.layer.sendInPlace(this.port, dst, dstPort, buf, payloadOffset, length, 0, checksum);
  }

  /** `sendInPlace` to the IPv6 address in the 16 bytes at `dst[dstOffset]`. */
  sendInPlace6(
    buf: Uint8Array,
    payloadOffset: number,
    length: number,
    dst: Uint8Array,
    dstOffset: number,
    dstPort: number,
    checksum = -1,
  ): SendStatus {
    if (this.port === 0 || this.closed || !this.ipv6) return SendStatus.Dropped;
    return this.layer.sendInPlace6(
      this.port,
      dst,
      dstOffset,
      dstPort,
      buf,
      payloadOffset,
      length,
      checksum,
    );
  }

  /**
   * Zero-copy, zero-allocation answer to a datagram received through `setReceiver`: to its
   * sender, payload at `payloadOffset` in `buf` with `UDP_SEND_HEADROOM` free in front.
   */
  replyInPlace(
    to: UdpDelivery,
    buf: Uint8Array,
    payloadOffset: number,
    length: number,
    checksum = -1,
  ): SendStatus {
    if (this.port === 0 || this.closed) return SendStatus.Dropped;
    return this.layer.replyInPlace(this.port, to, buf, payloadOffset, length, checksum);
  }

  /** Releases the port; later sends fail, 'close' is emitted once. */
  close(callback?: () => void): void {
    if (this.closed) return;
    this.closed = true;
    if (this.port !== 0) this.layer.unbindPort(this, this.port);
    this.receiver = null;
    this.emit('close');
    callback?.();
  }

  /** Called by the UDP layer for each datagram to our port. */
  deliver(d: UdpDelivery): void {
    const receiver = this.receiver;
    if (receiver !== null) {
      receiver.receive(d);
      return;
    }
    if (this.listenerCount('message') === 0) return;
    const msg = Buffer.from(d.bytes.subarray(d.offset, d.offset + d.length));
    this.emit('message', msg, {
      address: d.family === 'IPv6' ? ipv6Text(d.src6) : formatIpv4(d.src),
      family: d.family,
      port: d.srcPort,
      size: d.length,
    });
  }

  private checkSend(length: number, port: number, address: string | number): UdpSocketError | null {
    if (this.closed) return new UdpSocketError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'socket is closed');
    if (!Number.isInteger(port) || port <= 0 || port > 65535)
      return new UdpSocketError('EINVAL', `bad port ${port}`);
    if (typeof address === 'string' && address.includes(':'))
      return this.checkSend6(length, address);
    if (!this.ipv4)
      return new UdpSocketError('EAFNOSUPPORT', 'an ipv6Only socket sends over IPv6 only');
    const dst = typeof address === 'number' ? address >>> 0 : parseIpv4(address);
    if (dst < 0) return new UdpSocketError('EINVAL', `bad IPv4 address ${String(address)}`);
    if (length > UDP_MAX_PAYLOAD)
      return new UdpSocketError('EMSGSIZE', `${length} bytes > ${UDP_MAX_PAYLOAD}`);
    if (this.layer.ip.isBroadcast(dst) && !this.broadcast) {
      return new UdpSocketError(
        'EACCES',
        'sending to a broadcast address needs setBroadcast(true)',
      );
    }
    return null;
  }

  /** The IPv6 checks; leaves the parsed destination in `dst6`. */
  private checkSend6(length: number, address: string): UdpSocketError | null {
    if (!this.ipv6) return new UdpSocketError('EAFNOSUPPORT', 'a udp4 socket sends over IPv4 only');
    if (this.layer.ip6 === null)
      return new UdpSocketError('EAFNOSUPPORT', 'IPv6 is not enabled on this stack');
    if (address.includes('%')) {
      return new UdpSocketError(
        'EINVAL',
        `${address}: scope ids are not supported (the stack has one link; leave out the %zone)`,
      );
    }
    if (!writeIpv6(this.dst6, 0, address))
      return new UdpSocketError('EINVAL', `bad IPv6 address ${address}`);
    if (length > UDP_IPV6_MAX_PAYLOAD)
      return new UdpSocketError('EMSGSIZE', `${length} bytes > ${UDP_IPV6_MAX_PAYLOAD}`);
    return null;
  }
}
