import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cubic, NewReno, initialWindow } from '../../src/fsm/congestion.js';
import { IsnGenerator } from '../../src/fsm/isn.js';
import { ReorderQueue } from '../../src/fsm/reorder.js';
import { RtoEstimator } from '../../src/fsm/rto.js';
import { SackScoreboard } from '../../src/fsm/sack.js';
import { ACK, RST, SYN, newSegment, resetFor } from '../../src/fsm/segment.js';
import { SendBuffer } from '../../src/fsm/sendbuffer.js';
import { seqAdd, seqGt, seqInWindow, seqLt, seqMax } from '../../src/fsm/seq.js';
import { SynCookies } from '../../src/fsm/syncookie.js';
import { windowShiftFor } from '../../src/fsm/tcp.js';

describe('sequence arithmetic', () => {
  it('orders across the wrap-around', () => {
    expect(seqLt(0xfffffff0, 0x10)).toBe(true);
    expect(seqGt(0x10, 0xfffffff0)).toBe(true);
    expect(seqAdd(0xffffffff, 2)).toBe(1);
    expect(seqAdd(0, -1)).toBe(0xffffffff);
    expect(seqMax(0xfffffff0, 5)).toBe(5);
    expect(seqInWindow(2, 0xfffffffe, 10)).toBe(true);
    expect(seqInWindow(10, 0xfffffffe, 10)).toBe(false);
  });
  it('a < a + n for every a and 0 < n < 2^31', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 1, max: 0x7fffffff }),
        (a, n) => {
          expect(seqLt(a, seqAdd(a, n))).toBe(true);
          expect(seqGt(seqAdd(a, n), a)).toBe(true);
        },
      ),
    );
  });
});

describe('RTO estimator (RFC 6298)', () => {
  it('starts at 1 s, follows SRTT + 4 RTTVAR, clamps and backs off', () => {
    const r = new RtoEstimator();
    expect(r.rto).toBe(1000);
    r.sample(100);
    expect(r.srtt).toBe(100);
    expect(r.rttvar).toBe(50);
    expect(r.rto).toBe(300);
    r.sample(100);
    expect(r.rttvar).toBe(37.5);
    expect(r.rto).toBe(250);
    for (let i = 0; i < 50; i++) r.sample(10);
    expect(r.rto).toBe(200); // floor
    r.backOff();
    expect(r.rto).toBe(400);
    for (let i = 0; i < 20; i++) r.backOff();
    expect(r.rto).toBe(60_000); // ceiling
    r.resetBackoff();
    expect(r.rto).toBe(200);
  });
});

describe('congestion control', () => {
  it('IW follows RFC 6928', () => {
    expect(initialWindow(1460)).toBe(14600);
    expect(initialWindow(536)).toBe(5360);
    expect(initialWindow(9000)).toBe(18000);
  });
  it('NewReno: slow start, congestion avoidance, halving, loss window', () => {
    const cc = new NewReno(1000);
    cc.onAck(1000, 1000);
    expect(cc.cwnd).toBe(11_000);
    cc.onCongestion(20_000, 1000);
    expect(cc.ssthresh).toBe(10_000);
    cc.onRecoveryExit(50_000, 1000);
    expect(cc.cwnd).toBe(10_000);
    for (let i = 0; i < 10; i++) cc.onAck(1000, 1000);
    expect(cc.cwnd).toBe(11_000); // one MSS per window in CA
    cc.onRto(8000, 1000);
    expect(cc.cwnd).toBe(1000);
    expect(cc.ssthresh).toBe(4000);
  });
  it('slow start grows by at most L = 2 segments per ACK, or by all acked up to ssthresh', () => {
    const l2 = new NewReno(1000);
    l2.onAck(4000, 1000);
    expect(l2.cwnd).toBe(12_000);
    const linux = new Cubic(1000, Infinity);
    linux.ssthresh = 20_000;
    linux.onAck(4000, 1000, 0, 0);
    expect(linux.cwnd).toBe(14_000);
    linux.onAck(10_000, 1000, 0, 0);
    expect(linux.cwnd).toBe(20_000);
  });
  it('CUBIC: multiplicative decrease by 0.7 and concave regrowth toward W_max', () => {
    const cc = new Cubic(1000);
    cc.cwnd = 100_000;
    cc.ssthresh = 50_000;
    cc.onCongestion(100_000, 1000);
    expect(cc.ssthresh).toBe(70_000);
    cc.onRecoveryExit(0, 1000);
    expect(cc.cwnd).toBe(70_000);
    let t = 0;
    const srtt = 500; // long enough that CUBIC, not the Reno-friendly estimate, leads
    const trace: number[] = [];
    for (let i = 0; i < 40; i++) {
      t += srtt;
      cc.onAck(cc.cwnd, 1000, t, srtt); // one window per RTT
      trace.push(cc.cwnd);
    }
    // K = cbrt(30 / 0.4) ≈ 4.2 s: near W_max around then, above it later.
    const atK = trace[Math.round(4217 / srtt)];
    expect(Math.abs(atK - 100_000)).toBeLessThan(8000);
    expect(trace.at(-1)!).toBeGreaterThan(100_000);
  });
});

describe('SACK scoreboard', () => {
  it('merges, clips to (una, sndMax], advances, and finds holes', () => {
    const sb = new SackScoreboard(4);
    expect(sb.add(200, 300, 100, 1000)).toBe(true);
    expect(sb.add(400, 500, 100, 1000)).toBe(true);
    expect(sb.add(250, 300, 100, 1000)).toBe(false); // nothing new
    expect(sb.add(300, 400, 100, 1000)).toBe(true); // bridges both
    expect(sb.count).toBe(1);
    expect(sb.sackedBytes).toBe(300);
    expect(sb.add(50, 150, 100, 1000)).toBe(true); // clipped at una
    expect(sb.rangeStart(0)).toBe(100);
    expect(sb.skipSacked(100)).toBe(150);
    expect(sb.nextSackedStart(150, 1000)).toBe(200);
    expect(sb.sackedIn(100, 250)).toBe(100);
    sb.advance(220);
    expect(sb.sackedBytes).toBe(280);
    expect(sb.highest).toBe(500);
    expect(sb.covers(220, 500)).toBe(true);
  });
  it('forgets the highest range when full, never corrupting the sum', () => {
    const sb = new SackScoreboard(2);
    sb.add(10, 20, 0, 1000);
    sb.add(30, 40, 0, 1000);
    sb.add(50, 60, 0, 1000); // highest: dropped
    expect(sb.count).toBe(2);
    sb.add(0, 5, 0, 1000); // lower than all: evicts the highest
    expect(sb.count).toBe(2);
    expect(sb.sackedBytes).toBe(15);
  });
  it('works across the wrap-around', () => {
    const sb = new SackScoreboard();
    const una = 0xffffff00;
    sb.add(0xffffff80, 0x80, una, 0x1000);
    expect(sb.sackedBytes).toBe(0x100);
    sb.advance(0x10);
    expect(sb.sackedBytes).toBe(0x70);
  });
});

describe('reorder queue', () => {
  it('trims overlaps, drains in order, and reports SACK blocks (latest first)', () => {
    const q = new ReorderQueue(1 << 20, 100);
    const data = new Uint8Array(100).map((_, i) => i);
    expect(q.insert(50, data, 50, 10)).toBe(10); // [50,60)
    expect(q.insert(70, data, 70, 10)).toBe(10); // [70,80)
    expect(q.insert(55, data, 55, 20)).toBe(10); // only [60,70) is new
    expect(q.insert(90, data, 90, 5)).toBe(5);
    const blocks: number[] = [];
    expect(q.sackBlocks(blocks, 4)).toBe(2);
    expect(blocks.slice(0, 4)).toEqual([90, 95, 50, 80]);
    const got: number[] = [];
    const nxt = q.drain(52, (b, o, l) => got.push(...b.subarray(o, o + l)));
    expect(nxt).toBe(80);
    expect(got).toEqual(Array.from({ length: 28 }, (_, i) => i + 52));
    expect(q.bytes).toBe(5);
  });
  it('is bounded in bytes and chunks', () => {
    const q = new ReorderQueue(15, 100);
    const d = new Uint8Array(100);
    expect(q.insert(10, d, 0, 10)).toBe(10);
    expect(q.insert(30, d, 0, 10)).toBe(0);
    const r = new ReorderQueue(1000, 1);
    r.insert(10, d, 0, 1);
    expect(r.insert(30, d, 0, 1)).toBe(0);
  });
});

describe('send buffer', () => {
  it('wraps, grows to its cap and copies any range', () => {
    const b = new SendBuffer(64, 8);
    const src = new Uint8Array(100).map((_, i) => i);
    expect(b.push(src, 0, 6)).toBe(6);
    b.drop(4);
    expect(b.push(src, 6, 10)).toBe(10); // grows, wraps
    const out = new Uint8Array(12);
    b.copy(0, 12, out, 0);
    expect([...out]).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(b.push(src, 16, 100 - 16)).toBe(64 - 12);
    expect(b.free).toBe(0);
    expect(() => b.copy(60, 10, out, 0)).toThrow(RangeError);
  });
});

describe('ISN and SYN cookies', () => {
  it('ISNs differ per 4-tuple, advance with the clock, and are keyed', () => {
    const key = new Uint8Array(16).fill(7);
    const g = new IsnGenerator(key);
    const a = g.isn(1, 2, 3, 4, 0);
    expect(g.isn(1, 2, 3, 4, 0)).toBe(a);
    expect(g.isn(1, 2, 3, 5, 0)).not.toBe(a);
    expect(g.isn(1, 2, 3, 4, 1)).toBe((a + 250) >>> 0); // 4 µs ticks
    expect(new IsnGenerator(new Uint8Array(16).fill(8)).isn(1, 2, 3, 4, 0)).not.toBe(a);
  });
  it('cookies validate for the same tuple within two slots, and nothing else', () => {
    const c = new SynCookies(new Uint8Array(16).fill(1));
    const cookie = c.make(1, 80, 2, 5555, 1234, 1460, 1000);
    expect(c.check(1, 80, 2, 5555, 1234, cookie, 1000)).toBe(1460);
    expect(c.check(1, 80, 2, 5555, 1234, cookie, 100_000)).toBe(1460);
    expect(c.check(1, 80, 2, 5555, 1234, cookie, 200_000)).toBe(-1); // expired
    expect(c.check(1, 80, 2, 5556, 1234, cookie, 1000)).toBe(-1);
    expect(c.check(1, 80, 2, 5555, 1235, cookie, 1000)).toBe(-1);
    expect(c.check(1, 80, 2, 5555, 1234, cookie ^ 1, 1000)).toBe(-1);
    expect(c.check(1, 80, 2, 5555, 1234, c.make(1, 80, 2, 5555, 1234, 1000, 0), 0)).toBe(536);
  });
});

describe('segments', () => {
  it('builds the RFC 9293 reset for a stray segment', () => {
    const seg = newSegment();
    const out = newSegment();
    seg.flags = ACK;
    seg.ack = 99;
    expect(resetFor(seg, out)).toBe(true);
    expect([out.seq, out.flags]).toEqual([99, RST]);
    seg.flags = SYN;
    seg.seq = 0xffffffff;
    resetFor(seg, out);
    expect([out.seq, out.ack, out.flags]).toEqual([0, 0, RST | ACK]);
    seg.flags = RST;
    expect(resetFor(seg, out)).toBe(false);
  });
  it('window shift covers the buffer', () => {
    expect(windowShiftFor(65535)).toBe(0);
    expect(windowShiftFor(65536)).toBe(1);
    expect(windowShiftFor(1 << 30)).toBe(14);
  });
});
