import { createHmac, randomBytes } from 'node:crypto';

/**
 * Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), where M is a 4-microsecond timer and F a keyed hash (HMAC-SHA-256 here, truncated
 * to 32 bits). One hash per connection, never per segment.
 */
export class IsnGenerator {
  private readonly key: Buffer;
  private readonly tuple = Buffer.alloc(20);

  /** `key` makes ISNs reproducible (tests); by default a random 16-byte secret. */
  constructor(key?: Uint8Array) {
    this.key = key !== undefined ? Buffer.from(key) : randomBytes(16);
  }

  isn(
    localIp: number,
    localPort: number,
    remoteIp: number,
    remotePort: number,
    nowMs: number,
  ): number {
    const f = keyedHash32(this.key, this.tuple, localIp, localPort, remoteIp, remotePort, 0);
    const m = Math.floor(nowMs * 250); // 4 µs ticks
    return (m + f) >>> 0;
  }

  /** Per-4-tuple timestamp offset (RFC 7323 §7.1): random-looking, stable for the tuple. */
  timestampOffset(
    localIp: number,
    localPort: number,
    remoteIp: number,
    remotePort: number,
  ): number {
    return keyedHash32(this.key, this.tuple, localIp, localPort, remoteIp, remotePort, 0x5453);
  }
}

/** HMAC-SHA-256 of the 4-tuple and two extra words, first 32 bits. `scratch`: 20 bytes, reused. */
export function keyedHash32(
  key: Buffer,
  scratch: Buffer,
  localIp: number,
  localPort: number,
  remoteIp: number,
  remotePort: number,
  extra: number,
  extra2 = 0,
): number {
  scratch.writeUInt32BE(localIp >>> 0, 0);
  scratch.writeUInt32BE(remoteIp >>> 0, 4);
  scratch.writeUInt16BE(localPort & 0xffff, 8);
  scratch.writeUInt16BE(remotePort & 0xffff, 10);
  scratch.writeUInt32BE(extra >>> 0, 12);
  scratch.writeUInt32BE(extra2 >>> 0, 16);
  return createHmac('sha256', key).update(scratch).digest().readUInt32BE(0);
}
