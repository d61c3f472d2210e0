/**
 * A TCP connection as a `node:stream` Duplex that behaves like `net.Socket`: `write`/`end`/
 * `destroy`, backpressure (writes complete only when the connection's send buffer took the
 * bytes; the receive window closes while the reader does not read), events 'connect', 'ready',
 * 'data', 'end', 'close', 'timeout', 'error' with ECONNREFUSED / ECONNRESET / ETIMEDOUT, and
 * `remoteAddress`, `remotePort`, `setNoDelay`, `setKeepAlive`, `setTimeout`.
 */
import { Duplex } from 'node:stream';
import type { Clock, TimerHandle } from '../clock/clock.js';

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
  /** Bytes delivered to the socket and not yet reported consumed. */
  readonly unread: number;
  setNoDelay(noDelay: boolean): void;
  setKeepAlive(enable: boolean, initialDelayMs: number): void;
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
  | 'ECONNABORTED';

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
};

/** An error shaped like Node's system errors (`code`, `errno`, `syscall`, `address`, `port`). */
export class TcpSocketError extends Error {
  readonly errno: number;
  constructor(
    readonly code: TcpErrorCode,
    readonly syscall: 'connect' | 'read' | 'write',
    readonly address: string,
    readonly port: number,
  ) {
    super(`${syscall} ${code} ${address}:${port}`);
    this.name = 'Error';
    this.errno = ERRNO[code];
  }
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
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
}

interface PendingWrite {
  chunk: Uint8Array;
  offset: number;
  callback: (error?: Error | null) => void;
}

export class TcpSocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: 'IPv4' | 'IPv6';
  readonly localAddress: string;
  readonly localPort: number;
  connecting: boolean;
  bytesRead = 0;
  bytesWritten = 0;
  private readonly backend: SocketBackend;
  private pending: PendingWrite | null = null;
  private remoteEnded = false;
  private idleMs = 0;
  private idleTimer: TimerHandle | null = null;
  private lastActivity = 0;
  private connectError: TcpErrorCode | null = null;

  constructor(init: TcpSocketInit) {
    super({
      allowHalfOpen: init.allowHalfOpen ?? false,
      readableHighWaterMark: init.readableHighWaterMark,
      writableHighWaterMark: init.writableHighWaterMark,
      decodeStrings: true,
    });
    this.backend = init.backend;
    this.remoteFamily = init.family;
    this.remoteAddress = init.remoteAddress;
    this.remotePort = init.remotePort;
    this.localAddress = init.localAddress;
    this.localPort = init.localPort;
    this.connecting = init.connecting;
    this.lastActivity = this.backend.clock.now();
  }

  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.destroyed) return 'closed';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  address(): { address: string; family: string; port: number } {
    return { address: this.localAddress, family: this.remoteFamily, port: this.localPort };
  }

  setNoDelay(noDelay = true): this {
    this.backend.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable = false, initialDelay = 0): this {
    this.backend.setKeepAlive(enable, initialDelay);
    return this;
  }

  /** Emits 'timeout' after `ms` without activity (like net.Socket; it does not close). 0 disables. */
  setTimeout(ms: number, callback?: () => void): this {
    if (callback) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this.idleMs = ms;
    this.idleTimer?.cancel();
    this.idleTimer = null;
    if (ms > 0) {
      this.lastActivity = this.backend.clock.now();
      this.armIdle(ms);
    }
    return this;
  }

  get timeout(): number | undefined {
    return this.idleMs > 0 ? this.idleMs : undefined;
  }

  /** Sends RST and destroys the socket (net.Socket.resetAndDestroy). */
  resetAndDestroy(): this {
    this.backend.release(true);
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
    const n = this.backend.send(chunk, 0, chunk.length);
    this.bytesWritten += n;
    if (n === chunk.length) callback();
    else this.pending = { chunk, offset: n, callback };
  }

  override _final(callback: (error?: Error | null) => void): void {
    // net.Socket semantics: end() during the handshake sends the FIN once connected (the RFC's
    // CLOSE in SYN-SENT would discard the queued data instead).
    if (this.connecting) {
      this.once('connect', () => {
        this.backend.end();
        callback();
      });
      return;
    }
    this.backend.end();
    callback();
  }

  override _read(): void {
    this.backend.readerBuffered(this.readableLength);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.idleTimer?.cancel();
    this.idleTimer = null;
    // Unread data or an error: RST (RFC 2525 §2.17); otherwise FIN and let the connection linger.
    this.backend.release((error !== null || this.readableLength > 0) && this.connectError === null);
    const p = this.pending;
    this.pending = null;
    p?.callback(error ?? new TcpSocketError('EPIPE', 'write', this.remoteAddress, this.remotePort));
    callback(error);
  }

  // ------------------------------------------------------------------ called by the TCP layer

  /** @internal The handshake completed. */
  onConnected(): void {
    if (!this.connecting) return;
    this.connecting = false;
    this.touch();
    this.emit('connect');
    this.emit('ready');
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
    if (!this.destroyed) this.push(null);
  }

  /** @internal Send-buffer space opened: continue a blocked write. */
  onSendSpace(): void {
    const p = this.pending;
    if (p === null) return;
    const n = this.backend.send(p.chunk, p.offset, p.chunk.length - p.offset);
    this.bytesWritten += n;
    p.offset += n;
    if (p.offset === p.chunk.length) {
      this.pending = null;
      p.callback();
    }
  }

  /** @internal The connection finished gracefully. */
  onClosed(): void {
    if (!this.remoteEnded) this.onRemoteEnd();
    // Both directions are done at the TCP level: nothing more can be written.
    if (!this.destroyed && this.writableFinished) this.destroy();
  }

  /** @internal The connection failed. */
  onError(code: TcpErrorCode): void {
    if (this.destroyed) return;
    if (this.connecting) this.connectError = code;
    const syscall = this.connecting ? 'connect' : 'read';
    this.destroy(new TcpSocketError(code, syscall, this.remoteAddress, this.remotePort));
  }

  private touch(): void {
    if (this.idleMs > 0) this.lastActivity = this.backend.clock.now();
  }

  private armIdle(delay: number): void {
    this.idleTimer = this.backend.clock.setTimer(delay, () => {
      this.idleTimer = null;
      if (this.destroyed || this.idleMs === 0) return;
      const idle = this.backend.clock.now() - this.lastActivity;
      if (idle >= this.idleMs) {
        this.emit('timeout');
        this.lastActivity = this.backend.clock.now();
        this.armIdle(this.idleMs);
      } else {
        this.armIdle(this.idleMs - idle);
      }
    });
  }
}
