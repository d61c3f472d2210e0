import { createHmac, randomBytes } from 'node:crypto';

/**
 * Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), where M is a 4-microsecond timer and F a keyed hash (HMAC-SHA-256 here, truncated
 * to 32 bits). One hash per connection, never per segment.
 */
/**
 * An address as the keyed hashes read it: an IPv4 address as an unsigned 32-bit number, or an
 * IPv6 address as its 16 bytes.
 */
export type TupleAddress = number | Uint8Array;

export class IsnGenerator {
  private readonly key: Buffer;
  private readonly tuple = Buffer.alloc(TUPLE_SCRATCH_BYTES);

  /** `key` makes ISNs reproducible (tests); by default a random 16-byte secret. */
  constructor(key?: Uint8Array) {
    this.key = key !== undefined ? Buffer.from(key) : randomBytes(16);
  }

  isn(
    localIp: TupleAddress,
    localPort: number,
    remoteIp: TupleAddress,
    remotePort: number,
    nowMs: number,
  ): number {
    const f = keyedHash32(this.key, this.tuple, localIp, localPort, remoteIp, remotePort, 0);
    const m = Math.floor(nowMs * 250); // 4 µs ticks
    return (m + f) >>> 0;
  }

  /** Per-4-tuple timestamp offset (RFC 7323 §7.1): random-looking, stable for the tuple. */
  timestampOffset(
    localIp: TupleAddress,
    localPort: number,
    remoteIp: TupleAddress,
    remotePort: number,
  ): number {
    return keyedHash32(this.key, this.tuple, localIp, localPort, remoteIp, remotePort, 0x5453);
  }
}

/** Scratch bytes `keyedHash32` needs: two IPv6 addresses, two ports, two extra words. */
export const TUPLE_SCRATCH_BYTES = 16 + 16 + 2 + 2 + 4 + 4;

/**
 * HMAC-SHA-256 of the 4-tuple and two extra words, first 32 bits. `scratch`: at least
 * TUPLE_SCRATCH_BYTES, reused. Both addresses are of one family.
 */
export function keyedHash32(
  key: Buffer,
  scratch: Buffer,
  localIp: TupleAddress,
  localPort: number,
  remoteIp: TupleAddress,
  remotePort: number,
  extra: number,
  extra2 = 0,
): number {
  let pos: number;
  if (typeof localIp === 'number' && typeof remoteIp === 'number') {
    scratch.writeUInt32BE(localIp >>> 0, 0);
    scratch.writeUInt32BE(remoteIp >>> 0, 4);
    pos = 8;
  } else if (typeof localIp !== 'number' && typeof remoteIp !== 'number') {
    scratch.set(localIp.subarray(0, 16), 0);
    scratch.set(remoteIp.subarray(0, 16), 16);
    pos = 32;
  } else {
    throw new TypeError('keyedHash32: the two addresses are of different families');
  }
  scratch.writeUInt16BE(localPort & 0xffff, pos);
  scratch.writeUInt16BE(remotePort & 0xffff, pos + 2);
  scratch.writeUInt32BE(extra >>> 0, pos + 4);
  scratch.writeUInt32BE(extra2 >>> 0, pos + 8);
  return createHmac('sha256', key)
    .update(scratch.subarray(0, pos + 12))
    .digest()
    .readUInt32BE(0);
}
