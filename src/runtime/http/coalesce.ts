/**
 * node:http writes a response as several chunks (status line + headers, then the body) between
 * `socket.cork()` and an uncork on the next tick, expecting the socket to take them in one
 * `writev` — one segment on the kernel's TCP. Our TcpSocket has no `_writev`, so each chunk is
 * its own segment: two frames per small response instead of one, and the second can wait for
 * the peer's ACK. This gives a socket a `_writev` that hands TCP the chunks as one buffer.
 * (Reported in /work/notes/bugs.md; harmless once TcpSocket implements `_writev` itself.)
 */
import type { Duplex } from 'node:stream';

type WriteCallback = (error?: Error | null) => void;
type Chunk = { chunk: unknown; encoding: BufferEncoding };

export function coalesceWrites(socket: Duplex): void {
  if (Object.prototype.hasOwnProperty.call(Object.getPrototypeOf(socket), '_writev')) return;
  socket._writev = function writev(this: Duplex, chunks: Chunk[], callback: WriteCallback): void {
    const buffers = chunks.map(({ chunk, encoding }) =>
      Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, encoding),
    );
    // Node itself passes 'buffer' as the encoding of Buffer chunks (not a BufferEncoding name).
    this._write(Buffer.concat(buffers), 'buffer' as BufferEncoding, callback);
  };
}
