import { randomBytes } from 'node:crypto';
import { TUPLE_SCRATCH_BYTES, keyedHash32, type TupleAddress } from './isn.js';

/**
 * SYN cookies for when the listen queue of half-open connections is full: the SYN-ACK's ISN
 * encodes what we must remember, and the connection is built only when the final ACK proves the
 * peer received it (ack - 1 is a cookie we made for this 4-tuple and the peer's ISN, recently).
 *
 * Layout of the 32-bit cookie: [31..27] time slot (64 s slots, mod 32) | [26..24] MSS index |
 * [23..0] keyed hash of (4-tuple, peer ISN, time slot, MSS index). A forged ACK passes with
 * probability 2^-24 per guess. Cookies are valid for the slot they were made in and the one
 * after it (64-128 s).
 */
export const COOKIE_MSS_TABLE = [536, 1220, 1360, 1400, 1440, 1452, 1460, 8960] as const;
const SLOT_MS = 64_000;

export class SynCookies {
  private readonly key: Buffer;
  private readonly scratch = Buffer.alloc(TUPLE_SCRATCH_BYTES);

  constructor(key?: Uint8Array) {
    this.key = key !== undefined ? Buffer.from(key) : randomBytes(16);
  }

  /** Largest table MSS not above `mss` (the index encoded in the cookie). */
  static mssIndex(mss: number): number {
    let idx = 0;
    for (let i = 0; i < COOKIE_MSS_TABLE.length; i++) if (COOKIE_MSS_TABLE[i] <= mss) idx = i;
    return idx;
  }

  make(
    localIp: TupleAddress,
    localPort: number,
    remoteIp: TupleAddress,
    remotePort: number,
    peerIsn: number,
    mss: number,
    nowMs: number,
  ): number {
    const slot = Math.floor(nowMs / SLOT_MS) & 0x1f;
    const idx = SynCookies.mssIndex(mss);
    const h = this.hash(localIp, localPort, remoteIp, remotePort, peerIsn, slot, idx);
    return ((slot << 27) | (idx << 24) | h) >>> 0;
  }

  /**
   * Checks a cookie returned in an ACK (`cookie` = SEG.ACK - 1, `peerIsn` = SEG.SEQ - 1).
   * Returns the MSS it encodes, or -1 when it is not valid.
   */
  check(
    localIp: TupleAddress,
    localPort: number,
    remoteIp: TupleAddress,
    remotePort: number,
    peerIsn: number,
    cookie: number,
    nowMs: number,
  ): number {
    const slot = (cookie >>> 27) & 0x1f;
    const idx = (cookie >>> 24) & 0x7;
    const current = Math.floor(nowMs / SLOT_MS) & 0x1f;
    const age = (current - slot) & 0x1f;
    if (age > 1) return -1;
    const h = this.hash(localIp, localPort, remoteIp, remotePort, peerIsn, slot, idx);
    if (h !== (cookie & 0xffffff)) return -1;
    return COOKIE_MSS_TABLE[idx];
  }

  private hash(
    localIp: TupleAddress,
    localPort: number,
    remoteIp: TupleAddress,
    remotePort: number,
    peerIsn: number,
    slot: number,
    idx: number,
  ): number {
    const slotAndMss = (slot << 3) | idx;
    const scratch = this.scratch;
    return (
      keyedHash32(
        this.key,
        scratch,
        localIp,
        localPort,
        remoteIp,
        remotePort,
        peerIsn,
        slotAndMss,
      ) & 0xffffff
    );
  }
}
