/**
 * A TCP connection as a `node:stream` Duplex that behaves like `net.Socket`: `write`/`end`/
 * `destroy`, backpressure (writes complete only when the connection's send buffer took the
 * bytes; the receive window closes while the reader does not read), events 'connect', 'ready',
 * 'data', 'end', 'close' (with `hadError`), 'timeout', 'error' with ECONNREFUSED / ECONNRESET /
 * ETIMEDOUT, and `remoteAddress`, `remotePort`, `setNoDelay`, `setKeepAlive`, `setTimeout`.
 *
 * A socket may exist before its connection (`stack.net.connect` to a host name resolves it
 * first): writes, `setNoDelay` and `setKeepAlive` wait until the layer attaches one.
 */
import { Duplex } from 'node:stream';
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { TcpConnection } from '../../fsm/tcp.js';

/**
 * node:net's `onread`: received bytes are copied into `buffer` (or into what the function
 * returns, asked again after each callback) and `callback(bytes, buffer)` is called instead of
 * the stream's 'data'; returning false pauses the socket until resume(). The bytes are the
 * application's to read only until the callback returns: the next ones overwrite them. That is
 * what makes a bulk receive free of garbage; 'data' chunks are never rewritten (rx-slab.ts).
 */
export interface OnReadOptions {
  buffer: Uint8Array | (() => Uint8Array);
  callback: (bytes: number, buffer: Uint8Array) => boolean | void;
}

/** What a socket asks of the TCP layer for its connection. */
export interface SocketBackend {
  readonly clock: Clock;
  /** Queues bytes; returns how many the send buffer accepted. */
  send(bytes: Uint8Array, offset: number, length: number): number;
  /** Half-close: FIN after the queued data. */
  end(): void;
  /** Socket destroyed: abort (RST) or orphan the connection (FIN, then linger). */
  release(abort: boolean): void;
  /** The reader holds `buffered` bytes not yet read (the rest was consumed). */
  readerBuffered(buffered: number): void;
  /** An `onread` socket was resumed: data held while it was paused may go on. */
  readerResumed(): void;
  /** Bytes delivered to the socket and not yet reported consumed. */
  readonly unread: number;
  setNoDelay(noDelay: boolean): void;
  setKeepAlive(enable: boolean, initialDelayMs: number): void;
  /** Runs `apply` on the connection (options Node's API lacks), then re-arms its timers. */
  configure(apply: (conn: TcpConnection, now: number) => void): void;
}

export type TcpErrorCode =
  | 'ECONNREFUSED'
  | 'ECONNRESET'
  | 'ETIMEDOUT'
  | 'EPIPE'
  | 'EHOSTUNREACH'
  | 'ENETUNREACH'
  | 'EHOSTDOWN'
  | 'ENONET'
  | 'ENOPROTOOPT'
  | 'EOPNOTSUPP'
  | 'EACCES'
  | 'EPROTO'
  | 'ECONNABORTED'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EAFNOSUPPORT';

/** Linux's errno values, negated as libuv reports them. */
const ERRNO: Record<TcpErrorCode, number> = {
  ECONNREFUSED: -111,
  ECONNRESET: -104,
  ETIMEDOUT: -110,
  EPIPE: -32,
  EHOSTUNREACH: -113,
  ENETUNREACH: -101,
  EHOSTDOWN: -112,
  ENONET: -64,
  ENOPROTOOPT: -92,
  EOPNOTSUPP: -95,
  EACCES: -13,
  EPROTO: -71,
  ECONNABORTED: -103,
  EADDRINUSE: -98,
  EADDRNOTAVAIL: -99,
  EAFNOSUPPORT: -97,
};

/** strerror(3) text, which Node puts in the messages of listen and bind errors. */
const STRERROR: Partial<Record<TcpErrorCode, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EAFNOSUPPORT: 'address family not supported',
};

/** An error shaped like Node's system errors (`code`, `errno`, `syscall`, `address`, `port`). */
export class TcpSocketError extends Error {
  readonly errno: number;
  constructor(
    readonly code: TcpErrorCode,
    readonly syscall: 'connect' | 'read' | 'write' | 'listen' | 'bind',
    readonly address: string,
    readonly port: number,
  ) {
    // As Node: "connect ECONNREFUSED 10.0.0.2:80", "listen EADDRINUSE: address already in use
    // 10.0.0.2:80" (libuv's text after the code for errors of listen and bind).
    const text = syscall === 'listen' || syscall === 'bind' ? STRERROR[code] : undefined;
    super(`${syscall} ${code}${text === undefined ? '' : `: ${text}`} ${address}:${port}`);
    this.name = 'Error';
    this.errno = ERRNO[code];
  }
}

/** What a socket is made with before it has a connection. */
export interface TcpSocketOptions {
  clock: Clock;
  onread?: OnReadOptions;
  allowHalfOpen?: boolean;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
}

export interface TcpSocketInit {
  backend: SocketBackend;
  family: 'IPv4' | 'IPv6';
  /** Addresses as text ("10.0.0.1", "fd00::1"), as node:net reports them. */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** True for sockets from `connect` (false for accepted ones, which start connected). */
  connecting: boolean;
  allowHalfOpen?: boolean;
  onread?: OnReadOptions;
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
}

interface PendingWrite {
  chunk: Uint8Array;
  offset: number;
  callback: (error?: Error | null) => void;
}

/** The listeners of net.Socket's events, typed as @types/node types them for node:net. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- overloads only: EventEmitter implements them
export interface TcpSocket {
  on(event: 'close', listener: (hadError: boolean) => void): this;
  on(
    event: 'connect' | 'ready' | 'end' | 'drain' | 'timeout' | 'finish',
    listener: () => void,
  ): this;
  on(event: 'data', listener: (data: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(
    event: 'lookup',
    listener: (err: Error | null, address: string, family: number | null, host: string) => void,
  ): this;
  on(event: string | symbol, listener: (...args: never[]) => void): this;
  once(event: 'close', listener: (hadError: boolean) => void): this;
  once(
    event: 'connect' | 'ready' | 'end' | 'drain' | 'timeout' | 'finish',
    listener: () => void,
  ): this;
  once(event: 'data', listener: (data: Buffer) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(
    event: 'lookup',
    listener: (err: Error | null, address: string, family: number | null, host: string) => void,
  ): this;
  once(event: string | symbol, listener: (...args: never[]) => void): this;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class TcpSocket extends Duplex {
  /** The peer and our end (undefined until the socket has a connection, as in node:net). */
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  remoteFamily: 'IPv4' | 'IPv6' | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;
  /** True from `connect` until 'connect' (node:net). */
  connecting: boolean;
  bytesRead = 0;
  bytesWritten = 0;
  /** @internal Told when the socket is destroyed (its server's connection count). */
  onDestroy: (() => void) | null = null;
  private backend: SocketBackend | null = null;
  private readonly clock: Clock;
  private pendingWrite: PendingWrite | null = null;
  private remoteEnded = false;
  private released = false;
  private idleMs = 0;
  private idleTimer: TimerHandle | null = null;
  private lastActivity = 0;
  private connectError: TcpErrorCode | null = null;
  /** setNoDelay / setKeepAlive called before the connection existed. */
  private wantNoDelay: boolean | null = null;
  private wantKeepAlive: [boolean, number] | null = null;
  /** `onread`: the callback, and the buffer the layer copies into (see directBuffer). */
  private readonly onread: OnReadOptions | null;
  private readBuffer: Uint8Array | null = null;
  private readPaused = false;

  constructor(init: TcpSocketInit | TcpSocketOptions) {
    super({
      allowHalfOpen: init.allowHalfOpen ?? false,
      readableHighWaterMark: init.readableHighWaterMark,
      writableHighWaterMark: init.writableHighWaterMark,
      decodeStrings: true,
      // 'close' is emitted by _destroy with net.Socket's `hadError` argument.
      emitClose: false,
    });
    this.connecting = false;
    this.onread = init.onread ?? null;
    if (this.onread !== null) this.readBuffer = this.nextReadBuffer();
    if ('backend' in init) {
      this.clock = init.backend.clock;
      this.attach(init);
    } else {
      this.clock = init.clock;
    }
    this.lastActivity = this.clock.now();
  }

  /**
   * @internal The layer gives the socket its connection (at once for accepted sockets and
   * `stack.tcp.connect`; after the lookup for `stack.net.connect` to a name).
   */
  attach(init: TcpSocketInit): void {
    this.backend = init.backend;
    this.remoteFamily = init.family;
    this.remoteAddress = init.remoteAddress;
    this.remotePort = init.remotePort;
    this.localAddress = init.localAddress;
    this.localPort = init.localPort;
    this.connecting = init.connecting;
  }

  /** True until the socket is connected (node:net: no connection yet, or still connecting). */
  get pending(): boolean {
    return this.backend === null || this.connecting;
  }

  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.destroyed) return 'closed';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  /** Our end, as net.Socket's `address()` ({} before there is a connection). */
  address(): { address: string; family: string; port: number } | Record<string, never> {
    if (this.localAddress === undefined || this.remoteFamily === undefined) return {};
    return {
      address: this.localAddress,
      family: this.remoteFamily,
      port: this.localPort ?? 0,
    };
  }

  setNoDelay(noDelay = true): this {
    if (this.backend === null) this.wantNoDelay = noDelay;
    else if (!this.released) this.backend.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    if (this.backend === null) this.wantKeepAlive = [enable, initialDelay];
    else if (!this.released) this.backend.setKeepAlive(enable, initialDelay);
    return this;
  }

  /**
   * Emits 'timeout' once after `ms` without activity (sending, receiving, connecting), and
   * again only after the next activity and another idle `ms`, as net.Socket does; it does not
   * close the socket. 0 disables.
   */
  setTimeout(ms: number, callback?: () => void): this {
    if (callback) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this.idleMs = ms;
    this.idleTimer?.cancel();
    this.idleTimer = null;
    if (ms > 0) {
      this.lastActivity = this.clock.now();
      this.armIdle(ms);
    }
    return this;
  }

  get timeout(): number | undefined {
    return this.idleMs > 0 ? this.idleMs : undefined;
  }

  /** Sends RST and destroys the socket (net.Socket.resetAndDestroy). */
  resetAndDestroy(): this {
    this.release(true);
    this.destroy();
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  // ------------------------------------------------------------------ stream internals

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.touch();
    if (this.backend === null) {
      this.pendingWrite = { chunk, offset: 0, callback };
      return;
    }
    const n = this.backend.send(chunk, 0, chunk.length);
    this.bytesWritten += n;
    if (n === chunk.length) callback();
    else this.pendingWrite = { chunk, offset: n, callback };
  }

  override _final(callback: (error?: Error | null) => void): void {
    // net.Socket semantics: end() during the handshake sends the FIN once connected (the RFC's
    // CLOSE in SYN-SENT would discard the queued data instead).
    if (this.connecting || this.backend === null) {
      this.once('connect', () => {
        this.backend?.end();
        callback();
      });
      return;
    }
    this.backend.end();
    callback();
  }

  override _read(): void {
    if (!this.released) this.backend?.readerBuffered(this.readableLength);
  }

  /**
   * Reports what the read took. The stream calls _read before it takes data from its buffer,
   * and not again while that _read has had no push, so a reader that empties the buffer would
   * otherwise leave its last chunk's bytes counted unread (a chunk as large as the window closes
   * it for good).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Readable.read's own type
  override read(size?: number): any {
    const chunk: unknown = super.read(size);
    if (chunk !== null && !this.released) this.backend?.readerBuffered(this.readableLength);
    return chunk;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.idleTimer?.cancel();
    this.idleTimer = null;
    this.connecting = false;
    // As Linux's close(): RST only when received data is discarded unread (RFC 2525 §2.17),
    // otherwise FIN and let the connection linger; destroy(err) is no reason to reset (Node's
    // peer sees a FIN too).
    this.release(this.readableLength > 0 && this.connectError === null);
    const p = this.pendingWrite;
    this.pendingWrite = null;
    p?.callback(
      error ?? new TcpSocketError('EPIPE', 'write', this.remoteAddress ?? '', this.remotePort ?? 0),
    );
    callback(error);
    const told = this.onDestroy;
    this.onDestroy = null;
    told?.();
    // After the 'error' that callback(error) queued, as net.Socket.
    process.nextTick(() => this.emit('close', error !== null));
  }

  private release(abort: boolean): void {
    if (this.released || this.backend === null) return;
    this.released = true;
    this.backend.release(abort);
  }

  // ------------------------------------------------------------------ called by the TCP layer

  /** @internal The handshake completed. */
  onConnected(): void {
    if (!this.connecting) return;
    this.connecting = false;
    const backend = this.backend;
    // What was asked before the connection existed (net.Socket applies it on connect too).
    if (backend !== null && this.wantNoDelay !== null) backend.setNoDelay(this.wantNoDelay);
    if (backend !== null && this.wantKeepAlive !== null)
      backend.setKeepAlive(...this.wantKeepAlive);
    // Writes made before there was a connection.
    this.onSendSpace();
    this.touch();
    this.emit('connect');
    this.emit('ready');
  }

  /** @internal Received data goes to the `onread` callback, not to the stream. */
  get direct(): boolean {
    return this.onread !== null;
  }

  /**
   * @internal The `onread` buffer the layer may copy received bytes into now: null for a stream
   * socket, or while paused.
   */
  directBuffer(): Uint8Array | null {
    return this.readPaused || this.destroyed ? null : this.readBuffer;
  }

  /** @internal `bytes` bytes were copied into directBuffer(): the `onread` callback. */
  onDirectData(bytes: number): void {
    const onread = this.onread;
    const buffer = this.readBuffer;
    if (onread === null || buffer === null || this.destroyed || this.remoteEnded) return;
    this.bytesRead += bytes;
    this.touch();
    if (onread.callback.call(this, bytes, buffer) === false) this.readPaused = true;
    if (typeof onread.buffer === 'function') this.readBuffer = this.nextReadBuffer();
  }

  override pause(): this {
    if (this.onread !== null) this.readPaused = true;
    return super.pause();
  }

  override resume(): this {
    super.resume();
    if (this.onread !== null && this.readPaused) {
      this.readPaused = false;
      if (!this.released) this.backend?.readerResumed();
    }
    return this;
  }

  private nextReadBuffer(): Uint8Array | null {
    const b = this.onread?.buffer;
    const buffer = typeof b === 'function' ? b() : b;
    return buffer instanceof Uint8Array && buffer.length > 0 ? buffer : null;
  }

  /** @internal In-order data (already copied). */
  onData(chunk: Buffer): void {
    if (this.destroyed || this.remoteEnded) return;
    this.bytesRead += chunk.length;
    this.touch();
    this.push(chunk);
  }

  /** @internal The peer sent FIN. */
  onRemoteEnd(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    if (this.destroyed) return;
    this.push(null);
    // As net.Socket: with nothing left unread, 'end' is emitted even if nobody is reading, so a
    // socket whose peer ended (and that ended too) is destroyed.
    this.read(0);
  }

  /** @internal Send-buffer space opened: continue a blocked write. */
  onSendSpace(): void {
    const p = this.pendingWrite;
    if (p === null || this.backend === null || this.released) return;
    const n = this.backend.send(p.chunk, p.offset, p.chunk.length - p.offset);
    this.bytesWritten += n;
    p.offset += n;
    if (p.offset === p.chunk.length) {
      this.pendingWrite = null;
      p.callback();
    }
  }

  /** @internal The connection finished gracefully. */
  onClosed(): void {
    if (!this.remoteEnded) this.onRemoteEnd();
    // Not destroyed here: the stream does that (autoDestroy) once the reader has seen 'end' and
    // the writer 'finish', as net.Socket. Destroying now would close the socket under a reader
    // still holding data (stream.finished: "Premature close").
  }

  /** @internal The connection failed. */
  onError(code: TcpErrorCode): void {
    if (this.destroyed) return;
    if (this.connecting) this.connectError = code;
    const syscall = this.connecting ? 'connect' : 'read';
    this.destroy(new TcpSocketError(code, syscall, this.remoteAddress ?? '', this.remotePort ?? 0));
  }

  private touch(): void {
    if (this.idleMs === 0) return;
    this.lastActivity = this.clock.now();
    // The idle period after a 'timeout' starts with this activity.
    if (this.idleTimer === null && !this.destroyed) this.armIdle(this.idleMs);
  }

  private armIdle(delay: number): void {
    this.idleTimer = this.clock.setTimer(delay, () => {
      this.idleTimer = null;
      if (this.destroyed || this.idleMs === 0) return;
      const idle = this.clock.now() - this.lastActivity;
      if (idle >= this.idleMs) this.emit('timeout');
      else this.armIdle(this.idleMs - idle);
    });
  }
}
