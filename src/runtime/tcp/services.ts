/**
 * Tiny standard services on our TCP, for `pktstack run` and tests against other stacks:
 * echo (RFC 862) returns every byte, discard (RFC 863) drops them (counting, hashing if asked).
 */
import { createHash, type Hash } from 'node:crypto';
import type { TcpLayer, TcpServer } from './layer.js';
import type { TcpSocket } from './socket.js';

export function startEchoServer(tcp: TcpLayer, port = 7): TcpServer {
  return tcp.listen(port, (socket) => {
    socket.on('error', () => undefined); // a peer's reset ends the session, nothing more
    socket.pipe(socket);
  });
}

export interface DiscardSession {
  remote: string;
  bytes: number;
  /** SHA-256 (hex) of everything received, set when the peer finished sending; null unhashed. */
  sha256: string | null;
}

export interface DiscardOptions {
  /** Hears about each connection when the peer has sent its FIN. */
  onSession?: (session: DiscardSession) => void;
  /**
   * Hash what arrives (SHA-256, for tests that check the bytes); by default only when someone
   * listens for sessions. Off, a session costs no per-byte work at all.
   */
  sha256?: boolean;
}

/** What each connection reads into: a 64 KiB window of node:net's `onread`, reused. */
const DISCARD_READ_BYTES = 64 * 1024;

/**
 * Discards input (RFC 863). Reads with `onread` into one buffer per connection, so discarding
 * allocates nothing per segment (a 'data' reader would own a new chunk per receive batch).
 */
export function startDiscardServer(
  tcp: TcpLayer,
  port = 9,
  options: DiscardOptions | ((session: DiscardSession) => void) = {},
): TcpServer {
  const { onSession, sha256 = onSession !== undefined } =
    typeof options === 'function' ? { onSession: options } : options;
  // The layer asks for a connection's reader just before it emits that connection.
  let next: { session: DiscardSession; hash: Hash | null } | null = null;
  return tcp.listen(
    port,
    (socket: TcpSocket) => {
      const reader = next;
      next = null;
      if (reader === null) throw new Error('discard: a connection without its onread reader');
      const { session, hash } = reader;
      session.remote = `${socket.remoteAddress}:${socket.remotePort}`;
      socket.on('error', () => undefined); // a peer's reset ends the session, nothing more
      socket.on('end', () => {
        session.sha256 = hash?.digest('hex') ?? null;
        onSession?.(session);
        socket.end();
      });
    },
    {
      onread: () => {
        const buffer = new Uint8Array(DISCARD_READ_BYTES);
        const reader = {
          session: { remote: '', bytes: 0, sha256: null },
          hash: sha256 ? createHash('sha256') : null,
        };
        next = reader;
        return {
          buffer,
          callback: (n: number) => {
            reader.session.bytes += n;
            reader.hash?.update(buffer.subarray(0, n));
          },
        };
      },
    },
  );
}
