/**
 * ISNs (RFC 6528: ISN = M + F(4-tuple, secret), M a 4 µs clock) and SYN cookies (RFC 4987 §3.6:
 * the listener keeps no state, the cookie carries a time slot and an MSS index under a keyed
 * hash of the connection). Every part of the tuple must feed the hash, for both families, and a
 * cookie must not be reusable with another MSS or slot than the one it was made with.
 */
import { describe, expect, it } from 'vitest';
import { IsnGenerator } from '../../src/fsm/isn.js';
import { COOKIE_MSS_TABLE, SynCookies } from '../../src/fsm/syncookie.js';

const KEY = new Uint8Array(16).map((_, i) => i * 17);
const V6A = new Uint8Array(16).map((_, i) => 0x20 + i);
const V6B = new Uint8Array(16).map((_, i) => 0x40 + i);
const SLOT = 64_000;

describe('ISN generator (RFC 6528)', () => {
  const g = new IsnGenerator(KEY);
  it('every field of the 4-tuple and both address families change F', () => {
    const base = g.isn(0x0a000001, 80, 0x0a000002, 5555, 0);
    const others = [
      g.isn(0x0a000003, 80, 0x0a000002, 5555, 0),
      g.isn(0x0a000001, 81, 0x0a000002, 5555, 0),
      g.isn(0x0a000001, 80, 0x0a000004, 5555, 0),
      g.isn(0x0a000001, 80, 0x0a000002, 5556, 0),
      g.isn(0x0a000002, 5555, 0x0a000001, 80, 0), // the reverse direction
    ];
    expect(new Set([base, ...others]).size).toBe(6);
    const v6 = g.isn(V6A, 80, V6B, 5555, 0);
    expect(g.isn(V6A, 80, V6B, 5555, 0)).toBe(v6);
    const b2 = V6B.slice();
    b2[15] ^= 1;
    const a2 = V6A.slice();
    a2[0] ^= 0x80;
    expect(new Set([v6, g.isn(V6A, 80, b2, 5555, 0), g.isn(a2, 80, V6B, 5555, 0)]).size).toBe(3);
    expect(() => g.isn(V6A, 80, 0x0a000002, 5555, 0)).toThrow(TypeError);
    expect(() => g.isn(0x0a000001, 80, V6B, 5555, 0)).toThrow(TypeError);
  });
  it('M advances one per 4 µs, wrapping modulo 2^32', () => {
    const at0 = g.isn(1, 2, 3, 4, 0);
    expect(g.isn(1, 2, 3, 4, 1000)).toBe((at0 + 250_000) >>> 0);
    expect(g.isn(1, 2, 3, 4, 0.004)).toBe((at0 + 1) >>> 0);
    const period = 2 ** 32 / 250; // ms for M to wrap
    expect(g.isn(1, 2, 3, 4, period)).toBe(at0);
  });
  it('a timestamp offset per tuple (RFC 7323 §7.1), not the ISN offset and stable', () => {
    const off = g.timestampOffset(1, 2, 3, 4);
    expect(g.timestampOffset(1, 2, 3, 4)).toBe(off);
    expect(g.timestampOffset(1, 2, 3, 5)).not.toBe(off);
    expect(off).not.toBe(g.isn(1, 2, 3, 4, 0));
    expect(new IsnGenerator().timestampOffset(1, 2, 3, 4)).not.toBe(off);
  });
});

describe('SYN cookies (RFC 4987 §3.6)', () => {
  const c = new SynCookies(KEY);
  it('encode the largest table MSS not above the offered one', () => {
    for (const mss of COOKIE_MSS_TABLE) {
      const cookie = c.make(1, 80, 2, 5555, 99, mss, 0);
      expect(c.check(1, 80, 2, 5555, 99, cookie, 0)).toBe(mss);
    }
    const check = (mss: number): number =>
      c.check(1, 80, 2, 5555, 99, c.make(1, 80, 2, 5555, 99, mss, 0), 0);
    expect(check(1459)).toBe(1452);
    expect(check(1461)).toBe(1460);
    expect(check(9000)).toBe(8960);
    expect(check(100)).toBe(536);
    expect(SynCookies.mssIndex(1400)).toBe(3);
  });
  it('are valid in their 64 s slot and the next, across the 5-bit slot counter wrap', () => {
    const t = 31 * SLOT + 5;
    const cookie = c.make(1, 80, 2, 5555, 99, 1460, t);
    expect(c.check(1, 80, 2, 5555, 99, cookie, t)).toBe(1460);
    expect(c.check(1, 80, 2, 5555, 99, cookie, 32 * SLOT + 1)).toBe(1460); // slot 0 now
    expect(c.check(1, 80, 2, 5555, 99, cookie, 33 * SLOT + 1)).toBe(-1);
    expect(c.check(1, 80, 2, 5555, 99, cookie, 30 * SLOT)).toBe(-1); // from the future
  });
  it('bind every tuple field, the peer ISN, both families, and their own slot and MSS bits', () => {
    const cookie = c.make(1, 80, 2, 5555, 99, 1460, 0);
    expect(c.check(3, 80, 2, 5555, 99, cookie, 0)).toBe(-1);
    expect(c.check(1, 81, 2, 5555, 99, cookie, 0)).toBe(-1);
    expect(c.check(1, 80, 4, 5555, 99, cookie, 0)).toBe(-1);
    expect(c.check(1, 80, 2, 5556, 99, cookie, 0)).toBe(-1);
    expect(c.check(1, 80, 2, 5555, 98, cookie, 0)).toBe(-1);
    // Claiming another MSS or a fresher slot with the same hash fails.
    for (let idx = 0; idx < 8; idx++) {
      const forged = ((cookie & ~(7 << 24)) | (idx << 24)) >>> 0;
      expect(c.check(1, 80, 2, 5555, 99, forged, 0)).toBe(forged === cookie ? 1460 : -1);
    }
    const fresher = ((cookie & 0x07ffffff) | (1 << 27)) >>> 0;
    expect(c.check(1, 80, 2, 5555, 99, fresher, SLOT)).toBe(-1);
    for (let bit = 0; bit < 24; bit++)
      expect(c.check(1, 80, 2, 5555, 99, (cookie ^ (1 << bit)) >>> 0, 0)).toBe(-1);
    const v6 = c.make(V6A, 443, V6B, 6000, 7, 1220, 0);
    expect(c.check(V6A, 443, V6B, 6000, 7, v6, 0)).toBe(1220);
    expect(c.check(V6B, 443, V6A, 6000, 7, v6, 0)).toBe(-1);
    expect(new SynCookies(new Uint8Array(16)).check(1, 80, 2, 5555, 99, cookie, 0)).toBe(-1);
    expect(new SynCookies().check(1, 80, 2, 5555, 99, cookie, 0)).toBe(-1);
  });
});
