/**
 * `stack.net`: node:net over the stack. `createServer`, `connect` / `createConnection` in
 * node:net's call forms, `Server` and `Socket` with its events, properties and errors, so code
 * written for node:net runs on the stack by swapping the import. Host names go through the
 * stack's resolver (`stack.dns.lookup`, or a `lookup` option in dns.lookup's shape).
 *
 * Where node:net leaves a choice to the OS this does what Linux does: listen(0) takes a port
 * from 32768..60999, connect's local port likewise, destroy() sends FIN unless unread data is
 * discarded (then RST).
 */
import { EventEmitter } from 'node:events';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { parseIpv4 } from '../../codec/address.js';
import type { LookupAddress, LookupOptions } from '../dns/resolver.js';
import type { Stack } from '../stack.js';
import type { TcpServer } from '../tcp/layer.js';
import { TcpSocket, TcpSocketError, type OnReadOptions, type TcpErrorCode } from '../tcp/socket.js';

/** dns.lookup's shape, for the `lookup` option. */
export type NetLookupFunction = (
  hostname: string,
  options: { family?: number; hints?: number; all?: boolean },
  callback: (
    err: NodeJS.ErrnoException | null,
    address: string | LookupAddress[],
    family?: number,
  ) => void,
) => void;

export interface NetSocketOptions {
  /** Keep the writable side open after the peer's FIN (default false: end it too). */
  allowHalfOpen?: boolean;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  /**
   * As node:net's: received bytes go to this buffer and callback instead of 'data' (see
   * OnReadOptions). Taken by `new Socket(options)` and `net.connect(options)`; a later
   * `socket.connect(options)` does not change it.
   */
  onread?: OnReadOptions;
}

export interface NetConnectOptions extends NetSocketOptions {
  port: number | string;
  /** An address or a name (resolved through the stack); default 'localhost', as node:net. */
  host?: string;
  /** Our address to connect from: must be one of ours (or unspecified). */
  localAddress?: string;
  localPort?: number;
  /** The address family a name resolves to: 0 (either), 4 or 6. */
  family?: number;
  hints?: number;
  lookup?: NetLookupFunction;
  /** Idle timeout in ms: as socket.setTimeout (emits 'timeout', does not close). */
  timeout?: number;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  /** IPC sockets do not exist on the stack: given, connect throws. */
  path?: string;
}

export interface NetServerOptions {
  allowHalfOpen?: boolean;
  /** Accepted sockets start paused (no 'data' until resumed). */
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

export interface NetListenOptions {
  port?: number | string;
  /** An address or a name; none: every address of both families ('::', or '0.0.0.0'). */
  host?: string;
  backlog?: number;
  ipv6Only?: boolean;
  exclusive?: boolean;
  path?: string;
}

export interface NetAddressInfo {
  address: string;
  family: string;
  port: number;
}

type ConnectListener = () => void;

/** Node's internal errors carry their code in the message too: "RangeError [CODE]: ...". */
function nodeError<E extends Error>(make: (m: string) => E, code: string, message: string): E {
  const err = make(message) as E & { code: string };
  err.code = code;
  return err;
}

/** Node's validatePort: an integer (or integer text) in 0..65535. */
function validatePort(port: unknown, name: string): number {
  const n = typeof port === 'string' && port.trim() !== '' ? Number(port) : port;
  if (
    (typeof port !== 'number' && typeof port !== 'string') ||
    typeof n !== 'number' ||
    !Number.isInteger(n) ||
    n < 0 ||
    n > 0xffff
  ) {
    throw nodeError(
      (m) => new RangeError(m),
      'ERR_SOCKET_BAD_PORT',
      `${name} should be >= 0 and < 65536. Received ${typeof port} (${String(port)}).`,
    );
  }
  return n;
}

/** A port given as a number or as text of digits (node:net's `toNumber`), else false. */
function asPort(value: unknown): number | false {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return false;
}

/** node:net's normalizeArgs for connect: (options[, cb]) | (port[, host][, cb]) | (path[, cb]). */
function connectArgs(args: unknown[]): [NetConnectOptions, ConnectListener | undefined] {
  const last = args[args.length - 1];
  const cb = typeof last === 'function' ? (last as ConnectListener) : undefined;
  const first = args[0];
  if (first !== null && typeof first === 'object') return [first as NetConnectOptions, cb];
  if (typeof first === 'string' && asPort(first) === false) {
    return [{ path: first, port: 0 }, cb];
  }
  const options: NetConnectOptions = { port: first as number };
  if (typeof args[1] === 'string') options.host = args[1];
  return [options, cb];
}

function errorFrom(
  error: unknown,
  syscall: 'connect' | 'bind' | 'listen',
  address: string,
  port: number,
): Error {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return new TcpSocketError(code as TcpErrorCode, syscall, address, port);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** A node:net Socket on the stack: `new stack.net.Socket().connect(...)`, or from `connect`. */
export class NetSocket extends TcpSocket {
  constructor(
    private readonly net: StackNet,
    options: NetSocketOptions = {},
  ) {
    super({ clock: net.stack.clock, ...options });
  }

  /** Opens the connection; the forms of `net.connect` (a socket connects once). */
  connect(options: NetConnectOptions, connectListener?: ConnectListener): this;
  connect(port: number | string, host?: string, connectListener?: ConnectListener): this;
  connect(port: number | string, connectListener?: ConnectListener): this;
  connect(...args: unknown[]): this {
    const [options, cb] = connectArgs(args);
    if (options.path !== undefined) {
      throw nodeError(
        (m) => new TypeError(m),
        'ERR_INVALID_ARG_VALUE',
        `stack.net: IPC paths (${options.path}) are not supported; give a port`,
      );
    }
    if (options.port === undefined) {
      throw nodeError(
        (m) => new TypeError(m),
        'ERR_MISSING_ARGS',
        'The "options" or "port" or "path" argument must be specified',
      );
    }
    const port = validatePort(options.port, 'Port');
    if (options.localPort !== undefined) validatePort(options.localPort, 'options.localPort');
    if (this.connecting || !this.pending || this.destroyed) {
      throw nodeError(
        (m) => new Error(m),
        'ERR_SOCKET_CONNECTION_ALREADY_STARTED',
        'stack.net: this socket already connected or is connecting',
      );
    }
    if (cb) this.once('connect', cb);
    this.connecting = true;
    if (options.timeout !== undefined && options.timeout > 0) this.setTimeout(options.timeout);
    if (options.noDelay === true) this.setNoDelay(true);
    if (options.keepAlive === true) this.setKeepAlive(true, options.keepAliveInitialDelay ?? 0);
    const host = options.host ?? 'localhost';
    if (isIP(host) !== 0) {
      // As node:net, the connection starts on the next tick: destroy() right after connect()
      // sends nothing.
      process.nextTick(() => this.open(host, port, options));
      return this;
    }
    const lookup: NetLookupFunction =
      options.lookup ??
      ((name, opts, callback) => this.net.stack.dns.lookup(name, opts as LookupOptions, callback));
    const family = options.family ?? 0;
    lookup(host, { family, hints: options.hints }, (err, address, fam) => {
      const one = typeof address === 'string' ? address : address[0]?.address;
      this.emit('lookup', err, one, fam ?? null, host);
      if (this.destroyed) return;
      if (err !== null || one === undefined) {
        this.destroy(err ?? new Error(`lookup ${host}: no address`));
        return;
      }
      this.open(one, port, options);
    });
    return this;
  }

  private open(address: string, port: number, options: NetConnectOptions): void {
    if (this.destroyed) return;
    const local = options.localAddress;
    if (local !== undefined && !this.net.isLocal(local)) {
      this.destroy(new TcpSocketError('EADDRNOTAVAIL', 'bind', local, options.localPort ?? 0));
      return;
    }
    try {
      this.net.stack.tcp.connect({
        host: address,
        port,
        localPort: options.localPort,
        socket: this,
      });
    } catch (error) {
      const syscall = options.localPort !== undefined ? 'bind' : 'connect';
      this.destroy(errorFrom(error, syscall, address, port));
    }
  }
}

/** A node:net Server on the stack. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface below
export class NetServer extends EventEmitter {
  /** Refuse connections beyond this many (node:net: they are closed, and 'drop' emitted). */
  maxConnections: number | undefined = undefined;
  private port: TcpServer | null = null;
  private bound: NetAddressInfo | null = null;
  private readonly connections = new Set<TcpSocket>();
  private readonly options: NetServerOptions;

  constructor(
    private readonly net: StackNet,
    options: NetServerOptions = {},
    connectionListener?: (socket: TcpSocket) => void,
  ) {
    super();
    this.options = options;
    if (connectionListener) this.on('connection', connectionListener);
  }

  get listening(): boolean {
    return this.port !== null;
  }

  /**
   * node:net's forms: listen(port?, host?, backlog?, cb?), listen({port, host, backlog,
   * ipv6Only}, cb); port 0 or none picks a free one. 'listening' follows on the next tick;
   * failures (EADDRINUSE, EADDRNOTAVAIL) are emitted as 'error', not thrown.
   */
  listen(options: NetListenOptions, listeningListener?: () => void): this;
  listen(
    port?: number | string,
    host?: string,
    backlog?: number,
    listeningListener?: () => void,
  ): this;
  listen(port: number | string, host: string, listeningListener?: () => void): this;
  listen(port: number | string, backlog: number, listeningListener?: () => void): this;
  listen(port: number | string, listeningListener?: () => void): this;
  listen(listeningListener?: () => void): this;
  listen(...args: unknown[]): this {
    const last = args[args.length - 1];
    const cb = typeof last === 'function' ? (last as () => void) : undefined;
    let options: NetListenOptions;
    const first = args[0];
    if (first !== null && typeof first === 'object') options = first as NetListenOptions;
    else if (typeof first === 'string' && asPort(first) === false) options = { path: first };
    else {
      options = typeof first === 'function' || first === undefined ? {} : { port: first as number };
      if (typeof args[1] === 'string') options.host = args[1];
    }
    if (options.path !== undefined) {
      throw nodeError(
        (m) => new TypeError(m),
        'ERR_INVALID_ARG_VALUE',
        `stack.net: IPC paths (${options.path}) are not supported; give a port`,
      );
    }
    const port = options.port === undefined ? 0 : validatePort(options.port, 'options.port');
    if (this.port !== null) {
      throw nodeError(
        (m) => new Error(m),
        'ERR_SERVER_ALREADY_LISTEN',
        'Listen method has been called more than once without closing.',
      );
    }
    if (cb) this.once('listening', cb);
    const host = options.host;
    if (host === undefined) {
      this.bind(host, port, options);
      return this;
    }
    // A host, even an address, goes through dns.lookup in node:net, which answers an address
    // on the next tick: `listening` is false until then.
    if (isIP(host) !== 0) {
      process.nextTick(() => this.bind(host, port, options));
      return this;
    }
    this.net.stack.dns.lookup(host, {}, (err, address) => {
      const one = typeof address === 'string' ? address : address[0]?.address;
      if (err !== null || one === undefined) {
        this.emit('error', err ?? new Error(`lookup ${host}: no address`));
        return;
      }
      this.bind(one, port, options);
    });
    return this;
  }

  private bind(host: string | undefined, port: number, options: NetListenOptions): void {
    const tcp = this.net.stack.tcp;
    // No host: every address, both families when IPv6 is on (Node's '::'), else '0.0.0.0'.
    const any = this.net.stack.ipv6 !== null ? '::' : '0.0.0.0';
    const address = host ?? any;
    if (!this.net.isLocal(address)) {
      const err = new TcpSocketError('EADDRNOTAVAIL', 'listen', address, port);
      process.nextTick(() => this.emit('error', err));
      return;
    }
    try {
      this.port = tcp.listen(port, (socket) => this.accept(socket), {
        host: address,
        ipv6Only: options.ipv6Only,
        allowHalfOpen: this.options.allowHalfOpen,
        noDelay: this.options.noDelay,
      });
    } catch (error) {
      const err = errorFrom(error, 'listen', address, port);
      process.nextTick(() => this.emit('error', err));
      return;
    }
    this.bound = { address, family: address.includes(':') ? 'IPv6' : 'IPv4', port: this.port.port };
    process.nextTick(() => {
      if (this.port !== null) this.emit('listening');
    });
  }

  private accept(socket: TcpSocket): void {
    if (this.maxConnections !== undefined && this.connections.size >= this.maxConnections) {
      this.emit('drop', {
        localAddress: socket.localAddress,
        localPort: socket.localPort,
        localFamily: socket.remoteFamily,
        remoteAddress: socket.remoteAddress,
        remotePort: socket.remotePort,
        remoteFamily: socket.remoteFamily,
      });
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    // As node:net, the connection stops counting when it is destroyed, before its 'close'.
    socket.onDestroy = () => {
      this.connections.delete(socket);
      this.emitCloseIfDrained();
    };
    if (this.options.keepAlive === true)
      socket.setKeepAlive(true, this.options.keepAliveInitialDelay ?? 0);
    if (this.options.pauseOnConnect === true) socket.pause();
    this.emit('connection', socket);
  }

  /** The bound address; null when not listening (also after close). */
  address(): NetAddressInfo | null {
    return this.port === null ? null : { ...(this.bound as NetAddressInfo) };
  }

  /**
   * Stops accepting; 'close' (and `callback`) follow once every connection has ended. Not
   * listening: `callback` gets ERR_SERVER_NOT_RUNNING, as node:net.
   */
  close(callback?: (err?: Error) => void): this {
    if (callback) {
      if (this.port === null) {
        this.once('close', () =>
          callback(
            nodeError((m) => new Error(m), 'ERR_SERVER_NOT_RUNNING', 'Server is not running.'),
          ),
        );
      } else this.once('close', () => callback());
    }
    if (this.port !== null) {
      this.port.close();
      this.port = null;
    }
    this.emitCloseIfDrained();
    return this;
  }

  getConnections(callback: (err: Error | null, count: number) => void): this {
    const n = this.connections.size;
    process.nextTick(() => callback(null, n));
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.port === null) return;
    await new Promise<void>((resolve) => this.close(() => resolve()));
  }

  private emitCloseIfDrained(): void {
    if (this.port !== null || this.connections.size > 0) return;
    process.nextTick(() => this.emit('close'));
  }
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- overloads only: EventEmitter implements them
export interface NetServer {
  on(event: 'connection', listener: (socket: TcpSocket) => void): this;
  on(event: 'listening' | 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'drop', listener: (data: Record<string, unknown>) => void): this;
  once(event: 'connection', listener: (socket: TcpSocket) => void): this;
  once(event: 'listening' | 'close', listener: () => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(event: 'drop', listener: (data: Record<string, unknown>) => void): this;
}

/** `stack.net`: node:net's functions bound to one stack. */
export class StackNet {
  /** `new stack.net.Socket(options)`, then `.connect(...)`. */
  readonly Socket: new (options?: NetSocketOptions) => NetSocket;
  /** `new stack.net.Server(options, listener)`. */
  readonly Server: new (
    options?: NetServerOptions,
    connectionListener?: (socket: TcpSocket) => void,
  ) => NetServer;
  readonly isIP = isIP;
  readonly isIPv4 = isIPv4;
  readonly isIPv6 = isIPv6;

  constructor(readonly stack: Stack) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the classes close over it
    const net = this;
    this.Socket = class extends NetSocket {
      constructor(options?: NetSocketOptions) {
        super(net, options);
      }

      /** Every TCP socket, accepted ones included, as `instanceof net.Socket` in node:net. */
      static override [Symbol.hasInstance](value: unknown): boolean {
        return value instanceof TcpSocket;
      }
    };
    this.Server = class extends NetServer {
      constructor(options?: NetServerOptions, listener?: (socket: TcpSocket) => void) {
        super(net, options, listener);
      }
    };
  }

  createServer(connectionListener?: (socket: TcpSocket) => void): NetServer;
  createServer(
    options?: NetServerOptions,
    connectionListener?: (socket: TcpSocket) => void,
  ): NetServer;
  createServer(
    a?: NetServerOptions | ((socket: TcpSocket) => void),
    b?: (socket: TcpSocket) => void,
  ): NetServer {
    if (typeof a === 'function') return new NetServer(this, {}, a);
    return new NetServer(this, a ?? {}, b);
  }

  connect(options: NetConnectOptions, connectListener?: ConnectListener): NetSocket;
  connect(port: number | string, host?: string, connectListener?: ConnectListener): NetSocket;
  connect(port: number | string, connectListener?: ConnectListener): NetSocket;
  connect(...args: unknown[]): NetSocket {
    const [options] = connectArgs(args);
    const socket = new this.Socket({
      allowHalfOpen: options.allowHalfOpen,
      readableHighWaterMark: options.readableHighWaterMark,
      writableHighWaterMark: options.writableHighWaterMark,
      onread: options.onread,
    });
    return (socket.connect as (...a: unknown[]) => NetSocket)(...args);
  }

  /** The same as `connect`, as in node:net. */
  createConnection(options: NetConnectOptions, connectListener?: ConnectListener): NetSocket;
  createConnection(
    port: number | string,
    host?: string,
    connectListener?: ConnectListener,
  ): NetSocket;
  createConnection(port: number | string, connectListener?: ConnectListener): NetSocket;
  createConnection(...args: unknown[]): NetSocket {
    return (this.connect as (...a: unknown[]) => NetSocket)(...args);
  }

  /** @internal Is `address` one this stack may bind: unspecified, loopback or one of ours. */
  isLocal(address: string): boolean {
    if (address === '0.0.0.0' || address === '::') return true;
    if (address.includes(':')) return this.stack.ipv6 !== null;
    const a = parseIpv4(address);
    return a >>> 24 === 127 || a === this.stack.address;
  }
}
