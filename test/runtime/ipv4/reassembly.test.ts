import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADER_ROOM, Reassembler } from '../../../src/runtime/ipv4/reassembly.js';
import { createIpv4Stats } from '../../../src/runtime/stats.js';

/** The IPv4 front over the shared table, driven directly (the stack tests drive it by frames). */
describe('IPv4 Reassembler', () => {
  function bytesOf(length: number, seed: number): Uint8Array {
    const out = new Uint8Array(length);
    let x = seed;
    for (let i = 0; i < length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      out[i] = x >>> 24;
    }
    return out;
  }

  it('reassembles any permutation of any fragmentation, duplicates ignored', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 6000 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 749 }), { maxLength: 16 }),
        fc.array(fc.nat(), { minLength: 17, maxLength: 17 }),
        fc.nat({ max: 10 }),
        (length, units, keys, ihlExtra) => {
          const data = bytesOf(length, length);
          const header = bytesOf(20 + 4 * ihlExtra, 7);
          const cuts = units
            .map((u) => u * 8)
            .filter((c) => c < length)
            .sort((a, b) => a - b);
          const bounds = [0, ...cuts, length];
          const frags = bounds.slice(0, -1).map((start, i) => ({
            start,
            end: bounds[i + 1],
            more: i + 2 < bounds.length,
            key: keys[i],
          }));
          frags.sort((a, b) => a.key - b.key);
          // Every fragment but the last once more, before the last.
          const order = [...frags.slice(0, -1), ...frags.slice(0, -1), frags[frags.length - 1]];
          const stats = createIpv4Stats();
          const r = new Reassembler(stats, () => {});
          const packet = new Uint8Array(header.length + length);
          packet.set(header);
          packet.set(data, header.length);
          let out = null;
          for (const f of order) {
            expect(out).toBeNull();
            out = r.input(
              0x0a000001,
              0x0a000002,
              17,
              42,
              f.more,
              f.start,
              packet,
              0,
              header.length,
              header.length + f.start,
              f.end - f.start,
              0,
            );
          }
          expect(out).not.toBeNull();
          if (out === null) return;
          expect(out.datagramOffset).toBe(HEADER_ROOM - header.length);
          expect(out.headerLength).toBe(header.length);
          expect(out.payloadLength).toBe(length);
          expect(out.bytes.subarray(out.datagramOffset, HEADER_ROOM + length)).toEqual(packet);
          expect(stats.drops.fragDuplicate).toBe(frags.length - 1);
          expect(stats.reassembled).toBe(1);
          expect(r.memory).toBe(0);
          expect(r.incomplete).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('forgets a datagram discarded for an overlap: its later fragments start a new one', () => {
    const stats = createIpv4Stats();
    const r = new Reassembler(stats, () => {});
    const packet = bytesOf(20 + 2400, 3);
    const input = (start: number, end: number, more: boolean) =>
      r.input(1, 2, 17, 9, more, start, packet, 0, 20, 20 + start, end - start, 0);
    input(0, 800, true);
    input(400, 1200, true);
    expect(stats.drops.fragOverlap).toBe(1);
    expect(r.incomplete).toBe(0);
    input(800, 1600, true);
    expect(r.incomplete).toBe(1);
  });

  it('allocates no slab until a fragment arrives, then grows it in chunks up to maxBytes', () => {
    const stats = createIpv4Stats();
    const r = new Reassembler(stats, () => {}, { maxBytes: 1024 * 1024, maxDatagrams: 1000 });
    expect(r.slabBytes).toBe(0);
    const packet = bytesOf(20 + 1400, 5);
    r.input(1, 2, 17, 1, true, 0, packet, 0, 20, 20, 1400, 0);
    expect(r.slabBytes).toBe(128 * 1024);
    // 64 slots per chunk: the 65th fragment held needs a second chunk.
    for (let id = 2; id <= 70; id++) r.input(1, 2, 17, id, true, 0, packet, 0, 20, 20, 1400, 0);
    expect(r.incomplete).toBe(70);
    expect(r.slabBytes).toBe(256 * 1024);
  });

  it('evicts down to lowBytes once maxBytes would be exceeded, not one datagram per fragment', () => {
    const run = (lowBytes: number | undefined) => {
      const stats = createIpv4Stats();
      const options = { maxBytes: 64 * 1024, maxBytesPerSource: 64 * 1024, maxDatagrams: 1000 };
      const r = new Reassembler(
        stats,
        () => {},
        lowBytes === undefined ? options : { ...options, lowBytes },
      );
      const packet = bytesOf(20 + 1400, 6);
      const evictions: number[] = [];
      for (let id = 1; id <= 200; id++) {
        const before = stats.drops.reassemblyMemory;
        r.input(1, 2, 17, id, true, 0, packet, 0, 20, 20, 1400, 0);
        expect(r.memory).toBeLessThanOrEqual(64 * 1024);
        if (stats.drops.reassemblyMemory > before)
          evictions.push(stats.drops.reassemblyMemory - before);
      }
      return { r, evictions };
    };
    // Default low threshold: three quarters. Each run frees a quarter of the table (~7 datagrams).
    // One source with the whole table as its share: its share follows the same ratio.
    const hysteresis = run(undefined);
    expect(hysteresis.evictions.length).toBeLessThan(40);
    expect(Math.min(...hysteresis.evictions)).toBeGreaterThan(4);
    // Without hysteresis (low = high) every new datagram past the bound evicts exactly one.
    const none = run(64 * 1024);
    expect(none.evictions.length).toBeGreaterThan(150);
    expect(Math.max(...none.evictions)).toBe(1);
    // The newest datagram survives either way.
    expect(hysteresis.r.incomplete).toBeGreaterThan(15);
  });
});
