/**
 * Edges of the FSM's parts that the model properties rarely reach: the out-of-order queue at
 * sequence number 0 (a valid number, not "none"), filled exactly to its byte bound, asked for
 * no blocks, holding only a FIN, and cleared; a fresh or cleared Segment carries no options;
 * SYN and FIN each take one sequence number; a key makes ISNs and cookies reproducible across
 * instances (a restarted listener still validates its cookies); CUBIC's fast convergence only
 * when a loss comes strictly below the last W_max (RFC 9438 §4.7).
 */
import { describe, expect, it } from 'vitest';
import { Cubic } from '../../src/fsm/congestion.js';
import { IsnGenerator } from '../../src/fsm/isn.js';
import { ReorderQueue } from '../../src/fsm/reorder.js';
import { ACK, FIN, SYN, clearSegment, newSegment, segmentLength } from '../../src/fsm/segment.js';
import { SynCookies } from '../../src/fsm/syncookie.js';

describe('out-of-order queue edges', () => {
  const data = new Uint8Array(100).map((_, i) => i);
  it('the most recent segment at sequence number 0 is the first SACK block', () => {
    const q = new ReorderQueue(1 << 20, 100);
    q.insert(0xffffff00, data, 0, 10);
    q.insert(0, data, 0, 10); // most recent, at seq 0
    const out: number[] = [];
    expect(q.sackBlocks(out, 2)).toBe(2);
    expect(out.slice(0, 4)).toEqual([0, 10, 0xffffff00, 0xffffff0a]);
  });
  it('takes a segment that fills it exactly to its byte bound', () => {
    const q = new ReorderQueue(20, 100);
    expect(q.insert(10, data, 0, 10)).toBe(10);
    expect(q.insert(30, data, 0, 10)).toBe(10);
    expect(q.bytes).toBe(20);
    expect(q.insert(50, data, 0, 1)).toBe(0);
  });
  it('reports no blocks when asked for none', () => {
    const q = new ReorderQueue(1000, 100);
    q.insert(10, data, 0, 10);
    expect(q.sackBlocks([], 0)).toBe(0);
  });
  it('is not empty while it holds a FIN, and clear() forgets data, FIN and the latest block', () => {
    const q = new ReorderQueue(1000, 100);
    expect(q.empty).toBe(true);
    q.finSeq = 500;
    expect(q.empty).toBe(false);
    q.insert(10, data, 0, 10);
    q.insert(1, data, 0, 5);
    q.clear();
    expect([q.empty, q.bytes, q.size, q.finSeq]).toEqual([true, 0, 0, -1]);
    expect(q.sackBlocks([], 4)).toBe(0);
    // After clear, the first block is the latest insert, not the one remembered before it.
    q.insert(100, data, 0, 5);
    q.insert(1, data, 0, 0);
    q.insert(200, data, 0, 5);
    const out: number[] = [];
    q.sackBlocks(out, 2);
    expect(out.slice(0, 2)).toEqual([200, 205]);
    // A drain that delivers nothing keeps everything.
    expect(q.drain(50, () => expect.unreachable())).toBe(50);
    expect(q.bytes).toBe(10);
  });
});

describe('segments', () => {
  it('a new or cleared segment carries no options and no payload', () => {
    const fresh = newSegment();
    const used = newSegment();
    Object.assign(used, {
      seq: 1,
      ack: 2,
      flags: SYN | ACK,
      window: 3,
      mss: 1460,
      windowScale: 7,
      sackPermitted: true,
      hasTimestamps: true,
      tsVal: 4,
      tsEcr: 5,
      sackCount: 2,
      data: new Uint8Array(9),
      dataOffset: 1,
      dataLength: 8,
    });
    clearSegment(used);
    for (const s of [fresh, used]) {
      expect([s.mss, s.windowScale, s.sackPermitted, s.hasTimestamps, s.sackCount]).toEqual([
        -1,
        -1,
        false,
        false,
        0,
      ]);
      expect([s.seq, s.ack, s.flags, s.window, s.tsVal, s.tsEcr]).toEqual([0, 0, 0, 0, 0, 0]);
      expect([s.dataOffset, s.dataLength, s.data.length]).toEqual([0, 0, 0]);
    }
    expect(fresh.sackBlocks.length).toBe(8); // room for MAX_SACK_BLOCKS pairs
  });
  it('SYN and FIN each occupy one sequence number (RFC 9293 §3.4)', () => {
    const s = newSegment();
    s.dataLength = 10;
    expect(segmentLength(s)).toBe(10);
    s.flags = SYN;
    expect(segmentLength(s)).toBe(11);
    s.flags = SYN | FIN;
    expect(segmentLength(s)).toBe(12);
    s.flags = FIN | ACK;
    expect(segmentLength(s)).toBe(11);
  });
});

describe('keys', () => {
  it('the same key gives the same ISNs and cookies in another instance', () => {
    const key = new Uint8Array(16).fill(42);
    expect(new IsnGenerator(key).isn(1, 2, 3, 4, 5)).toBe(new IsnGenerator(key).isn(1, 2, 3, 4, 5));
    const cookie = new SynCookies(key).make(1, 80, 2, 5555, 9, 1460, 0);
    expect(new SynCookies(key).check(1, 80, 2, 5555, 9, cookie, 0)).toBe(1460);
  });
});

describe('CUBIC fast convergence (RFC 9438 §4.7)', () => {
  it('a loss at the same window as the last one keeps W_max at that window', () => {
    const cc = new Cubic(1000);
    cc.cwnd = 80_000;
    cc.onCongestion(80_000, 1000);
    cc.cwnd = 80_000;
    cc.onCongestion(80_000, 1000);
    expect(cc.wMax).toBe(80_000);
  });
});
