/**
 * A connection as the packetdrill interpreter's POSIX-style system calls see it: received bytes
 * are kept here (not pushed into the Node stream), so `read` returns exact counts, the window
 * closes while the script does not read, and errors wait for the call that reports them.
 * The TCP layer creates these through its `socketFactory`.
 */
import type { TcpConnection } from '../fsm/tcp.js';
import {
  TcpSocket,
  type SocketBackend,
  type TcpErrorCode,
  type TcpSocketInit,
} from '../runtime/tcp/socket.js';

export class DrillSocket extends TcpSocket {
  readonly drillBackend: SocketBackend;
  /** Received bytes not yet read. */
  unreadBytes = 0;
  private readonly chunks: Buffer[] = [];
  remoteFinished = false;
  connected: boolean;
  closedByStack = false;
  /** The failure, until a call reports it (SO_ERROR, read, write, connect). */
  error: TcpErrorCode | null = null;
  /** Set once any error happened (ECONNRESET stays visible to later writes as EPIPE). */
  failed = false;

  constructor(init: TcpSocketInit) {
    super(init);
    this.drillBackend = init.backend;
    this.connected = !init.connecting;
    // The layer reads readableLength to learn how much the reader still holds (the window).
    Object.defineProperty(this, 'readableLength', { get: () => this.unreadBytes });
  }

  /** The state machine behind this socket (the layer's backend holds it). */
  get connection(): TcpConnection | null {
    const conn = (this.drillBackend as unknown as { conn?: TcpConnection }).conn;
    return conn ?? null;
  }

  override onConnected(): void {
    this.connected = true;
  }

  override onData(chunk: Buffer): void {
    if (this.remoteFinished) return;
    this.chunks.push(chunk);
    this.unreadBytes += chunk.length;
  }

  override onRemoteEnd(): void {
    this.remoteFinished = true;
  }

  override onSendSpace(): void {}

  override onClosed(): void {
    this.remoteFinished = true;
    this.closedByStack = true;
  }

  override onError(code: TcpErrorCode): void {
    this.error = code;
    this.failed = true;
    this.closedByStack = true;
  }

  /** Takes up to `n` unread bytes; tells the connection the window may open. */
  consume(n: number): number {
    let left = Math.min(n, this.unreadBytes);
    const taken = left;
    while (left > 0) {
      const c = this.chunks[0];
      if (c.length <= left) {
        this.chunks.shift();
        left -= c.length;
      } else {
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    this.unreadBytes -= taken;
    if (taken > 0) this.drillBackend.readerBuffered(this.unreadBytes);
    return taken;
  }
}
