/**
 * Tiny standard services on our TCP, for `pktstack run` and tests against other stacks:
 * echo (RFC 862) returns every byte, discard (RFC 863) drops them (counting and hashing).
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
  /** SHA-256 (hex) of everything received, set when the peer finished sending. */
  sha256: string | null;
}

/** Discards input; `onSession` hears about each connection when the peer has sent its FIN. */
export function startDiscardServer(
  tcp: TcpLayer,
  port = 9,
  onSession?: (session: DiscardSession) => void,
): TcpServer {
  return tcp.listen(port, (socket: TcpSocket) => {
    const session: DiscardSession = {
      remote: `${socket.remoteAddress}:${socket.remotePort}`,
      bytes: 0,
      sha256: null,
    };
    const hash: Hash | null = onSession ? createHash('sha256') : null;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      session.bytes += chunk.length;
      hash?.update(chunk);
    });
    socket.on('end', () => {
      session.sha256 = hash?.digest('hex') ?? null;
      onSession?.(session);
      socket.end();
    });
  });
}
