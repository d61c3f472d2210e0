/**
 * `stack.dgram`: node:dgram's API over the stack's UDP, so code written for node:dgram runs by
 * swapping the import. Built on UdpSocket (socket.ts), with node's call forms and timing:
 * `bind(port, address, cb)` / `bind({port, address})` / `bind()`, `send` with offset and length
 * or a list of buffers (gathered into one datagram), `connect` / `disconnect` /
 * `remoteAddress`; 'listening', 'connect', 'close' and send callbacks come on a later tick,
 * never inside the call; errors are node's (ERR_SOCKET_BAD_PORT and the like thrown at once,
 * system errors with code, errno, syscall, address and port emitted or passed to the callback).
 *
 * As on Linux without IP_RECVERR, ICMP errors reach only a connected socket, and only hard ones
 * (port unreachable is ECONNREFUSED), as an 'error' from 'recvmsg'; an unconnected socket never
 * hears of them. A connected socket takes datagrams from its peer only.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import { formatIpv4, parseIpv4, parseIpv6 } from '../../codec/address.js';
import { ipv6Text, isLoopback } from '../ipv6/address.js';
import type { UdpLayer } from './udp.js';
import type { UdpSocket } from './socket.js';
import { UdpSocketError, type UdpDelivery, type UdpIcmpError } from './types.js';

export type DgramType = 'udp4' | 'udp6';

export interface DgramSocketOptions {
  type: DgramType;
  /** Accepted for node's sake; one socket per port here (see README: differences). */
  reuseAddr?: boolean;
  /** 'udp6' only: IPv6 datagrams only (IPV6_V6ONLY). */
  ipv6Only?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Resolves host names given to send/connect/bind (node:dns.lookup's shape). */
  lookup?: DgramLookup;
}

export type DgramLookup = (
  hostname: string,
  options: { family: 4 | 6 },
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
) => void;

export interface DgramRemoteInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
}

export interface DgramAddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

export type DgramSendCallback = (error: NodeJS.ErrnoException | null, bytes?: number) => void;

/** What `send` takes: a string or bytes, or a list of them sent as one datagram. */
export type DgramMessage =
  string | NodeJS.ArrayBufferView | ReadonlyArray<string | NodeJS.ArrayBufferView>;

/** What a stack gives its dgram module: UDP, our addresses, and a resolver for host names. */
export interface DgramHost {
  readonly udp: UdpLayer;
  /** Whether `address` (IPv4 or IPv6 text) is ours, so a socket may bind to it. */
  isLocalAddress(address: string): boolean;
  /** Whether anything routes to `address` (false: ENETUNREACH). */
  hasRoute(address: string, family: 4 | 6): boolean;
  lookup?: DgramLookup;
}

/** A node-style error with a code (ERR_SOCKET_BAD_PORT...), as node's internal errors. */
function nodeError<E extends Error>(
  Base: new (message: string) => E,
  code: string,
  message: string,
): E & { code: string } {
  const err = new Base(message) as E & { code: string };
  err.code = code;
  Object.defineProperty(err, 'name', { value: Base.name, enumerable: false });
  err.stack = `${Base.name} [${code}]: ${message}`;
  return err;
}

function badPort(port: unknown): RangeError & { code: string } {
  const received =
    port === undefined ? 'undefined' : `type ${typeof port} (${String(port as string)})`;
  return nodeError(
    RangeError,
    'ERR_SOCKET_BAD_PORT',
    `Port should be > 0 and < 65536. Received ${received}.`,
  );
}

/** node's ErrnoException / ExceptionWithHostPort: "send ENETUNREACH 10.0.0.9:53". */
export function systemError(
  code: string,
  syscall: string,
  address?: string,
  port?: number,
): NodeJS.ErrnoException & { address?: string; port?: number } {
  const where = address === undefined ? '' : port ? ` ${address}:${port}` : ` ${address}`;
  const err = new Error(`${syscall} ${code}${where}`) as NodeJS.ErrnoException & {
    address?: string;
    port?: number;
  };
  const errno = (osConstants.errno as Record<string, number | undefined>)[code];
  if (errno !== undefined) err.errno = -errno;
  err.code = code;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port) err.port = port;
  return err;
}

function validPort(port: unknown, allowZero: boolean): number {
  const n =
    typeof port === 'string' && port.trim() !== '' ? Number(port) : (port as number | undefined);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535)
    throw badPort(port);
  return n;
}

function toBuffer(chunk: unknown, what: string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (Buffer.isBuffer(chunk)) return chunk;
  if (ArrayBuffer.isView(chunk))
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw nodeError(
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    `The "${what}" argument must be of type string or an instance of Buffer, TypedArray, or DataView.`,
  );
}

const BIND_UNBOUND = 0;
const BIND_BINDING = 1;
const BIND_BOUND = 2;
/** Linux's default socket buffer (net.core.rmem_default / wmem_default). */
const DEFAULT_BUFFER = 212992;

export interface DgramSocketEvents {
  message: [msg: Buffer, rinfo: DgramRemoteInfo];
  listening: [];
  connect: [];
  close: [];
  error: [err: Error];
}

export class DgramSocket extends EventEmitter<DgramSocketEvents> {
  readonly type: DgramType;
  private inner: UdpSocket | null = null;
  private bindState = BIND_UNBOUND;
  private closed = false;
  /** The address bound to ('0.0.0.0' / '::' for any). */
  private boundAddress = '';
  private remote: DgramAddressInfo | null = null;
  private connecting = false;
  /** Sends made before the bind completed, run once it has. */
  private queue: Array<() => void> = [];
  private recvBufferSize: number;
  private sendBufferSize: number;
  private readonly ipv6Only: boolean;
  private readonly lookupFn: DgramLookup | undefined;

  constructor(
    private readonly host: DgramHost,
    options: DgramSocketOptions,
  ) {
    super();
    if (options.type !== 'udp4' && options.type !== 'udp6') {
      throw nodeError(
        TypeError,
        'ERR_SOCKET_BAD_TYPE',
        'Bad socket type specified. Valid types are: udp4, udp6',
      );
    }
    this.type = options.type;
    this.ipv6Only = options.ipv6Only === true;
    this.recvBufferSize = options.recvBufferSize ?? DEFAULT_BUFFER;
    this.sendBufferSize = options.sendBufferSize ?? DEFAULT_BUFFER;
    this.lookupFn = options.lookup ?? host.lookup;
  }

  // ------------------------------------------------------------------ bind

  bind(
    port?: number | { port?: number; address?: string; exclusive?: boolean },
    ...rest: unknown[]
  ): this;
  bind(...args: unknown[]): this {
    this.healthCheck();
    if (this.bindState !== BIND_UNBOUND)
      throw nodeError(Error, 'ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound');
    let port: unknown = 0;
    let address: unknown;
    let callback: (() => void) | undefined;
    const last = args[args.length - 1];
    if (typeof last === 'function') callback = last as () => void;
    if (args[0] !== null && typeof args[0] === 'object') {
      const o = args[0] as { port?: unknown; address?: unknown };
      port = o.port ?? 0;
      address = o.address;
    } else {
      if (typeof args[0] !== 'function' && args[0] !== undefined) port = args[0];
      if (typeof args[1] !== 'function') address = args[1];
    }
    const p = validPort(port, true);
    if (callback !== undefined) this.once('listening', callback);
    this.bindState = BIND_BINDING;
    const any = this.type === 'udp4' ? '0.0.0.0' : '::';
    const text = typeof address === 'string' && address !== '' ? address : any;
    this.resolve(text, (err, ip) => {
      if (this.closed) return;
      if (err !== null) {
        this.bindState = BIND_UNBOUND;
        this.emit('error', err);
        return;
      }
      const failure = this.bindNow(p, ip);
      if (failure !== null) {
        this.bindState = BIND_UNBOUND;
        this.emit('error', failure);
        return;
      }
      this.bindState = BIND_BOUND;
      this.emit('listening');
      const queued = this.queue;
      this.queue = [];
      for (const run of queued) run();
    });
    return this;
  }

  private bindNow(port: number, address: string): Error | null {
    const wildcard = address === '0.0.0.0' || address === '::';
    if (!wildcard && !this.host.isLocalAddress(address))
      return systemError('EADDRNOTAVAIL', 'bind', address, port);
    const socket =
      this.type === 'udp4'
        ? this.host.udp.createSocket('udp4')
        : this.host.udp.createSocket('udp6', { ipv6Only: this.ipv6Only });
    try {
      socket.bind(port);
    } catch (e) {
      socket.close();
      const code = e instanceof UdpSocketError ? e.code : 'EINVAL';
      return systemError(code, 'bind', address, port);
    }
    this.inner = socket;
    this.boundAddress = address;
    socket.setReceiver({ receive: (d) => this.deliver(d) });
    socket.icmpListener = (e) => this.icmpError(e);
    return null;
  }

  address(): DgramAddressInfo {
    this.healthCheck();
    const inner = this.inner;
    if (inner === null || this.bindState !== BIND_BOUND) throw systemError('EBADF', 'getsockname');
    const port = inner.address().port;
    const family = this.boundAddress.includes(':') ? 'IPv6' : 'IPv4';
    return { address: this.boundAddress, family, port };
  }

  // ------------------------------------------------------------------ connect

  connect(port: number, address?: string | (() => void), callback?: () => void): void {
    const p = validPort(port, false);
    if (typeof address === 'function') {
      callback = address;
      address = undefined;
    }
    if (this.remote !== null || this.connecting)
      throw nodeError(Error, 'ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    this.healthCheck();
    this.connecting = true;
    if (callback !== undefined) this.once('connect', callback);
    if (this.bindState === BIND_UNBOUND) this.bind({ port: 0 });
    const run = (): void => {
      this.resolve(address ?? this.loopback(), (err, ip) => {
        this.connecting = false;
        if (this.closed) return;
        if (err !== null) {
          this.emit('error', err);
          return;
        }
        this.remote = { address: ip, family: ip.includes(':') ? 'IPv6' : 'IPv4', port: p };
        this.emit('connect');
      });
    };
    if (this.bindState === BIND_BOUND) run();
    else this.queue.push(run);
  }

  disconnect(): void {
    this.healthCheck();
    if (this.remote === null)
      throw nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    this.remote = null;
  }

  remoteAddress(): DgramAddressInfo {
    this.healthCheck();
    if (this.remote === null)
      throw nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    return { ...this.remote };
  }

  // ------------------------------------------------------------------ send

  send(msg: DgramMessage, port?: number, address?: string, callback?: DgramSendCallback): void;
  send(msg: DgramMessage, port: number, callback: DgramSendCallback): void;
  send(
    msg: DgramMessage,
    offset: number,
    length: number,
    port?: number,
    address?: string,
    callback?: DgramSendCallback,
  ): void;
  send(msg: DgramMessage, offset: number, length: number, callback: DgramSendCallback): void;
  send(msg: DgramMessage, callback: DgramSendCallback): void;
  send(msg: unknown, ...args: unknown[]): void {
    const offset: unknown = args[0];
    const length: unknown = args[1];
    let port: unknown = args[2];
    let address: unknown = args[3];
    let callback: unknown = args[4];
    // node's argument shuffle (lib/dgram.js Socket.prototype.send).
    let chunks: unknown = msg;
    const connected = this.remote !== null;
    if (!connected) {
      if (address || (port && typeof port !== 'function')) {
        chunks = slice(msg, offset, length);
      } else {
        callback = port;
        port = offset;
        address = length;
      }
    } else {
      if (typeof length === 'number') {
        chunks = slice(msg, offset, length);
        if (typeof port === 'function') {
          callback = port;
          port = null;
        }
      } else {
        callback = offset;
      }
      if (port || address)
        throw nodeError(Error, 'ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    }
    const list = Array.isArray(chunks)
      ? chunks.map((c) => toBuffer(c, 'buffer list arguments'))
      : [toBuffer(chunks, 'buffer')];
    const dstPort = connected ? (this.remote as DgramAddressInfo).port : validPort(port, false);
    let cb = typeof callback === 'function' ? (callback as DgramSendCallback) : undefined;
    if (typeof address === 'function') {
      cb = address as DgramSendCallback;
      address = undefined;
    } else if (address !== undefined && address !== null && typeof address !== 'string') {
      throw nodeError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        `The "address" argument must be of type string. Received ${typeof address}`,
      );
    }
    this.healthCheck();
    if (this.bindState === BIND_UNBOUND) this.bind({ port: 0 });
    const data = list.length === 1 ? list[0] : Buffer.concat(list);
    const go = (): void => {
      if (connected && this.remote === null) return;
      const target = connected
        ? (this.remote as DgramAddressInfo).address
        : typeof address === 'string' && address !== ''
          ? address
          : this.loopback();
      this.resolve(target, (err, ip) => {
        if (err !== null) {
          if (cb !== undefined) cb(err);
          else this.emit('error', err);
          return;
        }
        this.sendNow(data, dstPort, ip, connected, cb);
      });
    };
    if (this.bindState === BIND_BOUND) go();
    else this.queue.push(go);
  }

  private sendNow(
    data: Buffer,
    port: number,
    ip: string,
    connected: boolean,
    cb: DgramSendCallback | undefined,
  ): void {
    const inner = this.inner;
    if (inner === null || this.closed) return;
    const family = ip.includes(':') ? 6 : 4;
    const fail = (code: string): Error =>
      connected ? systemError(code, 'send') : systemError(code, 'send', ip, port);
    let error: Error | null = null;
    // A dual-stack socket sends to an IPv4-mapped address over IPv4.
    const to = family === 6 && ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
    if (!this.host.hasRoute(to, to.includes(':') ? 6 : 4)) {
      error = fail('ENETUNREACH');
    } else {
      inner.send(data, port, to, (e) => {
        const code = (e as UdpSocketError | null)?.code;
        // A drop past the route check (ARP queue full...) is silent, as on Linux.
        if (code !== undefined && code !== 'ENETUNREACH') error = fail(code);
      });
    }
    // Linux queues behind ARP and reports nothing when the neighbour never answers; a drop
    // for lack of room is silent too, as a full qdisc is for UDP.
    if (cb !== undefined) {
      const e = error;
      process.nextTick(() => (e !== null ? cb(e) : cb(null, data.length)));
    }
  }

  // ------------------------------------------------------------------ close and options

  close(callback?: () => void): this {
    if (this.closed) throw nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
    if (typeof callback === 'function') this.once('close', callback);
    this.closed = true;
    this.queue = [];
    this.inner?.close();
    this.inner = null;
    process.nextTick(() => this.emit('close'));
    return this;
  }

  setBroadcast(flag: boolean): void {
    this.healthCheck();
    this.bound().setBroadcast(flag);
  }

  /** Accepted and range-checked as node does; datagrams keep the stack's TTL. */
  setTTL(ttl: number): number {
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw systemError('EINVAL', 'setTTL');
    return ttl;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  getRecvBufferSize(): number {
    this.bound();
    return this.recvBufferSize;
  }

  getSendBufferSize(): number {
    this.bound();
    return this.sendBufferSize;
  }

  setRecvBufferSize(size: number): void {
    this.bound();
    this.recvBufferSize = size;
  }

  setSendBufferSize(size: number): void {
    this.bound();
    this.sendBufferSize = size;
  }

  getSendQueueSize(): number {
    return 0;
  }

  getSendQueueCount(): number {
    return 0;
  }

  // ------------------------------------------------------------------ internals

  private bound(): UdpSocket {
    if (this.inner === null || this.bindState !== BIND_BOUND)
      throw systemError('EBADF', 'uv_recv_buffer_size');
    return this.inner;
  }

  private healthCheck(): void {
    if (this.closed) throw nodeError(Error, 'ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
  }

  private loopback(): string {
    return this.type === 'udp4' ? '127.0.0.1' : '::1';
  }

  /** An address literal as is, a name through the lookup; on a later tick either way. */
  private resolve(
    text: string,
    done: (err: NodeJS.ErrnoException | null, ip: string) => void,
  ): void {
    const family = this.type === 'udp4' ? 4 : 6;
    const literal = isIP(text);
    if (literal !== 0) {
      process.nextTick(() => {
        if (literal !== family && !(family === 6 && !this.ipv6Only && literal === 4))
          done(systemError('EINVAL', 'send', text), '');
        else done(null, text);
      });
      return;
    }
    const lookup = this.lookupFn;
    if (lookup === undefined) {
      process.nextTick(() => done(systemError('ENOTFOUND', 'getaddrinfo', text), ''));
      return;
    }
    lookup(text, { family }, (err, ip) => done(err, ip));
  }

  private deliver(d: UdpDelivery): void {
    const remote = this.remote;
    let address: string;
    let family: 'IPv4' | 'IPv6';
    if (d.family === 'IPv6') {
      address = ipv6Text(d.src6);
      family = 'IPv6';
      if (!this.acceptsDestination6(d.dst6)) return;
    } else {
      const dst = formatIpv4(d.dst);
      if (
        this.boundAddress !== '0.0.0.0' &&
        this.boundAddress !== '::' &&
        dst !== this.boundAddress
      )
        return;
      address = formatIpv4(d.src);
      family = 'IPv4';
      // A dual-stack socket names IPv4 peers as IPv4-mapped addresses, as Linux does.
      if (this.type === 'udp6') {
        address = `::ffff:${address}`;
        family = 'IPv6';
      }
    }
    if (remote !== null && (remote.port !== d.srcPort || !sameAddress(remote.address, address)))
      return;
    if (this.listenerCount('message') === 0) return;
    const msg = Buffer.from(d.bytes.subarray(d.offset, d.offset + d.length));
    this.emit('message', msg, { address, family, port: d.srcPort, size: d.length });
  }

  private acceptsDestination6(dst6: Uint8Array): boolean {
    const b = this.boundAddress;
    if (b === '::' || b === '0.0.0.0') return true;
    const want = parseIpv6(b);
    return want !== null && Buffer.compare(Buffer.from(want), Buffer.from(dst6)) === 0;
  }

  /** Linux's udp_err without IP_RECVERR: a hard error, on a connected socket, about its peer. */
  private icmpError(e: UdpIcmpError): void {
    const remote = this.remote;
    if (remote === null || !e.fatal || e.port !== remote.port) return;
    const to = e.family === 'IPv6' ? ipv6Text(e.dst6) : formatIpv4(e.dst);
    if (!sameAddress(remote.address, to)) return;
    const err = systemError(e.errno, 'recvmsg');
    process.nextTick(() => {
      if (!this.closed) this.emit('error', err);
    });
  }
}

function slice(msg: unknown, offset: unknown, length: unknown): unknown {
  if (typeof msg === 'string') return Buffer.from(msg);
  if (Array.isArray(msg)) return msg;
  const b = toBuffer(msg, 'buffer');
  const start = typeof offset === 'number' ? offset >>> 0 : 0;
  const len = typeof length === 'number' ? length >>> 0 : b.length - start;
  return b.subarray(start, start + len);
}

/** Same address, ignoring the IPv4-mapped spelling and the text form of IPv6. */
function sameAddress(a: string, b: string): boolean {
  const unmap = (s: string): string =>
    s.startsWith('::ffff:') && s.includes('.') ? s.slice(7) : s;
  const x = unmap(a);
  const y = unmap(b);
  if (x === y) return true;
  if (x.includes(':') && y.includes(':')) {
    const p = parseIpv6(x);
    const q = parseIpv6(y);
    return p !== null && q !== null && Buffer.compare(Buffer.from(p), Buffer.from(q)) === 0;
  }
  return false;
}

/** `stack.dgram`: `createSocket` as node:dgram's, and the Socket class. */
export class Dgram {
  readonly Socket = DgramSocket;

  constructor(private readonly host: DgramHost) {}

  createSocket(
    type: DgramType | DgramSocketOptions,
    listener?: (msg: Buffer, rinfo: DgramRemoteInfo) => void,
  ): DgramSocket {
    const options = typeof type === 'string' ? { type } : type;
    const socket = new DgramSocket(this.host, options);
    if (listener !== undefined) socket.on('message', listener);
    return socket;
  }
}

/** The parts of a stack `stack.dgram` uses (see Stack.dgram). */
export interface DgramStack {
  readonly udp: UdpLayer;
  readonly ipv4: { readonly address: number; hasRoute(dst: number): boolean };
  readonly ipv6: {
    readonly ip: {
      findAddress(a: Uint8Array, off: number): unknown;
      hasRoute(dst: Uint8Array, off: number): boolean;
    };
  } | null;
  readonly dns: { lookup: (...args: never[]) => void };
}

/** node:dgram over `stack`: binds to its addresses, routes by its tables, names by its DNS. */
export function createDgram(stack: DgramStack): Dgram {
  return new Dgram({
    udp: stack.udp,
    isLocalAddress(address) {
      if (address.includes(':')) {
        const a = parseIpv6(address);
        if (a === null) return false;
        return isLoopback(a, 0) || (stack.ipv6?.ip.findAddress(a, 0) ?? null) !== null;
      }
      const a = parseIpv4(address);
      return a >= 0 && (a >>> 24 === 127 || (a === stack.ipv4.address && a !== 0));
    },
    hasRoute(address, family) {
      if (family === 4) return stack.ipv4.hasRoute(parseIpv4(address));
      const a = parseIpv6(address);
      return a !== null && stack.ipv6 !== null && stack.ipv6.ip.hasRoute(a, 0);
    },
    lookup: (hostname, options, callback) =>
      (stack.dns.lookup as unknown as DgramLookup)(hostname, options, callback),
  });
}
