/**
 * `/bytes/N`: N bytes of a fixed pattern, streamed with backpressure from one preallocated
 * buffer, for throughput tests and demos (like httpbin's /bytes, but deterministic, so a
 * client can check what it got: byte i is `i % 251`).
 */
import type http from 'node:http';
import { Readable } from 'node:stream';
import { sendText } from './serve.js';

const CHUNK = 64 * 1024;
// 251 is prime, so the pattern does not line up with power-of-two chunk or segment sizes.
const PERIOD = 251;
const PATTERN = Buffer.alloc(CHUNK + PERIOD);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = i % PERIOD;

/** The byte at position `i` of every /bytes body. */
export function patternByte(i: number): number {
  return i % PERIOD;
}

/** A Readable of `length` pattern bytes. Chunks are views of a shared buffer (not copies). */
export function patternStream(length: number): Readable {
  let sent = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (sent >= length) {
        this.push(null);
        return;
      }
      const n = Math.min(CHUNK, length - sent);
      const start = sent % PERIOD;
      sent += n;
      this.push(PATTERN.subarray(start, start + n));
    },
  });
}

/** Answers `/bytes/N` requests; N above `maxBytes` gets 413. */
export function sendPatternBytes(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  text: string,
  maxBytes: number,
): void {
  if (!/^\d{1,15}$/.test(text)) {
    sendText(res, 400, 'bytes: give a decimal length, e.g. /bytes/1000000\n');
    return;
  }
  const length = Number(text);
  if (length > maxBytes) {
    sendText(res, 413, `bytes: at most ${maxBytes}\n`);
    return;
  }
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': length,
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const body = patternStream(length);
  body.pipe(res);
  // A client that goes away must not leave the generator running.
  res.once('close', () => body.destroy());
}
