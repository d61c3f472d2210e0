/**
 * The neighbor cache's NUD states (RFC 4861 §7.3.3, appendix C) on a fake clock: every
 * transition, the probes each state sends, the bounded queue, eviction.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SendStatus } from '../../../src/runtime/layers.js';
import type { MacHolder } from '../../../src/runtime/ethernet/ethernet.js';
import { parseIpv6 } from '../../../src/codec/address.js';
import {
  NeighborCache,
  NudState,
  type NeighborOptions,
} from '../../../src/runtime/ipv6/neighbor.js';

const A = parseIpv6('fe80::1') as Uint8Array;
const B = parseIpv6('fd00::2') as Uint8Array;
const MAC = 0x020000000001;

function setup(options: NeighborOptions = {}) {
  const solicits: Array<{ target: string; unicast: number | null }> = [];
  const sent: Array<{ mac: number; length: number }> = [];
  const wakes: number[] = [];
  const cache = new NeighborCache((at) => wakes.push(at), { random: () => 0.5, ...options });
  cache.setProber({
    solicit(target: Uint8Array, mac: MacHolder | null) {
      solicits.push({
        target: Array.from(target).join(','),
        unicast: mac === null ? null : mac.mac,
      });
    },
  });
  cache.setResolvedSender({
    sendResolved(mac, _bytes, offset, length) {
      expect(offset).toBeGreaterThanOrEqual(14);
      sent.push({ mac, length });
      return true;
    },
  });
  return { cache, solicits, sent, wakes };
}

const packet = (n: number): Uint8Array => new Uint8Array(14 + n).fill(7);

describe('NUD (RFC 4861 §7.3)', () => {
  it('INCOMPLETE: multicast solicitations every RetransTimer, then gone after 3, queue dropped', () => {
    const { cache, solicits } = setup();
    expect(cache.enqueue(A, 0, packet(100), 14, 100, 0)).toBe(SendStatus.Queued);
    expect(cache.get(A)?.state).toBe(NudState.Incomplete);
    expect(solicits).toHaveLength(1);
    expect(solicits[0].unicast).toBeNull();
    cache.tick(1000);
    cache.tick(2000);
    expect(solicits).toHaveLength(3);
    cache.tick(3000);
    expect(cache.get(A)).toBeUndefined();
    expect(cache.counters.unreachable).toBe(1);
    expect(cache.counters.queueDrops).toBe(1);
    expect(cache.queuedBytes).toBe(0);
  });

  it('a solicited advertisement resolves INCOMPLETE to REACHABLE and flushes the queue', () => {
    const { cache, sent } = setup();
    cache.enqueue(A, 0, packet(10), 14, 10, 0);
    cache.enqueue(A, 0, packet(20), 14, 20, 0);
    cache.advertisement(A, 0, MAC, true, true, false, 100);
    expect(cache.get(A)?.state).toBe(NudState.Reachable);
    expect(sent).toEqual([
      { mac: MAC, length: 10 },
      { mac: MAC, length: 20 },
    ]);
    expect(cache.entryFor(A, 0, 200)?.mac).toBe(MAC);
  });

  it('an unsolicited advertisement resolves INCOMPLETE to STALE', () => {
    const { cache } = setup();
    cache.enqueue(A, 0, packet(10), 14, 10, 0);
    cache.advertisement(A, 0, MAC, false, true, false, 100);
    expect(cache.get(A)?.state).toBe(NudState.Stale);
  });

  it('REACHABLE -> STALE after ReachableTime -> DELAY on use -> PROBE after 5 s -> gone after 3 probes', () => {
    const { cache, solicits } = setup({ reachableTimeMs: 30_000 });
    cache.enqueue(A, 0, packet(10), 14, 10, 0);
    cache.advertisement(A, 0, MAC, true, false, false, 0);
    // random() = 0.5: ReachableTime is exactly the base.
    expect(cache.reachableTime).toBe(30_000);
    cache.tick(29_999);
    expect(cache.get(A)?.state).toBe(NudState.Reachable);
    cache.tick(30_000);
    expect(cache.get(A)?.state).toBe(NudState.Stale);
    expect(cache.entryFor(A, 0, 40_000)).not.toBeNull();
    expect(cache.get(A)?.state).toBe(NudState.Delay);
    cache.tick(44_999);
    expect(cache.get(A)?.state).toBe(NudState.Delay);
    cache.tick(45_000);
    expect(cache.get(A)?.state).toBe(NudState.Probe);
    const before = solicits.length;
    expect(solicits[before - 1].unicast).toBe(MAC);
    cache.tick(46_000);
    cache.tick(47_000);
    expect(solicits.length).toBe(before + 2);
    cache.tick(48_000);
    expect(cache.get(A)).toBeUndefined();
  });

  it('tells its change listener every state once, and GONE when the entry leaves', () => {
    const { cache } = setup({ reachableTimeMs: 30_000 });
    const seen: string[] = [];
    cache.changeListener = (n, state) => seen.push(`${n.address[15]} ${state ?? 'GONE'}`);
    cache.enqueue(A, 0, packet(10), 14, 10, 0);
    cache.advertisement(A, 0, MAC, true, false, false, 0);
    // A confirmation of a REACHABLE entry is no change.
    cache.confirm(A, 0, 10);
    cache.tick(30_010);
    cache.entryFor(A, 0, 40_000);
    for (let t = 45_000; t <= 48_000; t += 1000) cache.tick(t);
    expect(seen).toEqual([
      '1 INCOMPLETE',
      '1 REACHABLE',
      '1 STALE',
      '1 DELAY',
      '1 PROBE',
      '1 GONE',
    ]);
    seen.length = 0;
    cache.learn(B, 0, MAC, 50_000);
    cache.remove(B);
    expect(seen).toEqual(['2 STALE', '2 GONE']);
  });

  it('DELAY and PROBE return to REACHABLE on a solicited advertisement or an upper-layer confirmation', () => {
    const { cache } = setup();
    cache.learn(A, 0, MAC, 0);
    expect(cache.get(A)?.state).toBe(NudState.Stale);
    cache.entryFor(A, 0, 10);
    expect(cache.get(A)?.state).toBe(NudState.Delay);
    cache.confirm(A, 0, 20);
    expect(cache.get(A)?.state).toBe(NudState.Reachable);
    cache.tick(100_000);
    cache.entryFor(A, 0, 100_001);
    cache.tick(200_000);
    expect(cache.get(A)?.state).toBe(NudState.Probe);
    cache.advertisement(A, 0, MAC, true, false, false, 200_001);
    expect(cache.get(A)?.state).toBe(NudState.Reachable);
  });

  it('an advertisement without override and with another address leaves the entry, REACHABLE becomes STALE', () => {
    const { cache } = setup();
    cache.learn(A, 0, MAC, 0);
    cache.confirm(A, 0, 1);
    cache.advertisement(A, 0, MAC + 1, false, false, false, 2);
    expect(cache.get(A)?.link.mac).toBe(MAC);
    expect(cache.get(A)?.state).toBe(NudState.Stale);
    cache.advertisement(A, 0, MAC + 1, true, true, false, 3);
    expect(cache.get(A)?.link.mac).toBe(MAC + 1);
    expect(cache.get(A)?.state).toBe(NudState.Reachable);
  });

  it('a solicitation with a new link address makes the entry STALE (§7.2.3)', () => {
    const { cache } = setup();
    cache.learn(B, 0, MAC, 0);
    cache.confirm(B, 0, 1);
    cache.learn(B, 0, MAC + 5, 2);
    expect(cache.get(B)?.state).toBe(NudState.Stale);
    expect(cache.get(B)?.link.mac).toBe(MAC + 5);
  });

  it('bounds the queue per neighbor and in bytes, counting what it refuses', () => {
    const { cache } = setup({ queuePerNeighbor: 2, queueBytes: 1000 });
    expect(cache.enqueue(A, 0, packet(100), 14, 100, 0)).toBe(SendStatus.Queued);
    expect(cache.enqueue(A, 0, packet(100), 14, 100, 0)).toBe(SendStatus.Queued);
    expect(cache.enqueue(A, 0, packet(100), 14, 100, 0)).toBe(SendStatus.Dropped);
    expect(cache.enqueue(B, 0, packet(900), 14, 900, 0)).toBe(SendStatus.Dropped);
    expect(cache.counters.queueDrops).toBe(2);
  });

  it('stays within its size and in-progress bounds under a flood of addresses', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { maxLength: 300 }),
        (addrs) => {
          const { cache } = setup({ cacheSize: 32, maxIncomplete: 8, queueBytes: 4096 });
          let t = 0;
          for (const a of addrs) {
            if (a[0] & 1) cache.learn(a, 0, MAC, t);
            else cache.enqueue(a, 0, packet(64), 14, 64, t);
            t += 10;
            expect(cache.size).toBeLessThanOrEqual(32);
            expect(cache.queuedBytes).toBeLessThanOrEqual(4096);
            const incomplete = cache
              .entries()
              .filter((e) => e.state === NudState.Incomplete).length;
            expect(incomplete).toBeLessThanOrEqual(8);
          }
        },
      ),
    );
  });
});
