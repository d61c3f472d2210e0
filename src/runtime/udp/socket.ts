/**
 * A UDP socket with node:dgram's shape: `bind`, `send`, `on('message')`, `close`, `address`,
 * `setBroadcast`. Differences, on purpose: `bind` completes synchronously (there is no kernel to
 * ask) and throws a `UdpSocketError` when the port is taken; `send` also returns the SendStatus
 * (queued behind ARP, sent, dropped) so callers can see back-pressure without a callback.
 */
import { EventEmitter } from 'node:events';
import { formatIpv4, parseIpv4 } from '../../codec/address.js';
import { SendStatus } from '../layers.js';
import type { UdpLayer } from './udp.js';
import { UDP_MAX_PAYLOAD } from './udp.js';
import {
  UdpSocketError,
  type UdpAddressInfo,
  type UdpDatagramReceiver,
  type UdpDelivery,
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

  constructor(private readonly layer: UdpLayer) {
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
    const bound = this.layer.bindPort(this, port);
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
   * Sends `msg` to `address:port`, binding an ephemeral port first when unbound. Errors (bad
   * address, broadcast without setBroadcast, too big, closed) go to the callback, or are thrown
   * when there is none. `src` overrides our source address (DHCP sends from 0.0.0.0).
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
    const dst = typeof address === 'number' ? address >>> 0 : parseIpv4(address);
    const status = this.layer.sendDatagram(this.port, dst, port, bytes, 0, bytes.length, src);
    if (callback !== undefined) {
      if (status === SendStatus.Dropped) {
        callback(
          new UdpSocketError('ENETUNREACH', `cannot send to ${formatIpv4(dst)} (see stack stats)`),
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
    if (this.port === 0 || this.closed) return SendStatus.Dropped;
    return this.layer.sendInPlace(this.port, dst, dstPort, buf, payloadOffset, length, 0, checksum);
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
      address: formatIpv4(d.src),
      family: 'IPv4',
      port: d.srcPort,
      size: d.length,
    });
  }

  private checkSend(length: number, port: number, address: string | number): UdpSocketError | null {
    if (this.closed) return new UdpSocketError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'socket is closed');
    if (!Number.isInteger(port) || port <= 0 || port > 65535)
      return new UdpSocketError('EINVAL', `bad port ${port}`);
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
}
