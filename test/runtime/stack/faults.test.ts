/**
 * Two stacks over a link that drops, duplicates, reorders and corrupts frames (the seeded fault
 * injector on a memory link pair, virtual time): whatever arrives must be exactly what was sent,
 * damaged frames must be counted as drops, and nothing may throw.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { injectFaults } from '../../../src/runtime/link/faults.js';
import { createMemoryLinkPair } from '../../../src/runtime/link/memory.js';
import { createStack } from '../../../src/runtime/stack.js';
import { totalDrops } from '../../../src/runtime/stats.js';
import { pattern } from './frames.js';

describe('stacks over a faulty link', () => {
  for (const seed of [1, 2, 3]) {
    it(`delivers only intact datagrams, fragmented ones included (seed ${seed})`, () => {
      const clock = new VirtualClock();
      const [la, lb] = createMemoryLinkPair({ macA: 0x020000000001, macB: 0x020000000002, clock });
      const faults = {
        drop: 0.1,
        duplicate: 0.1,
        reorder: 0.1,
        reorderMs: 2,
        corrupt: 0.1,
        // One flipped bit per damaged frame: the Internet checksum catches every single-bit error
        // but not all multi-bit ones (two flips of one bit position in opposite directions cancel;
        // seed 3 with 3 bits produced exactly that), which is why real links add an FCS.
        corruptBits: 1,
      };
      const a = createStack({
        link: injectFaults(la, { seed, clock, tx: faults }),
        clock,
        ip: '10.0.0.1/24',
      });
      const b = createStack({
        link: injectFaults(lb, { seed: seed + 100, clock, tx: faults }),
        clock,
        ip: '10.0.0.2/24',
      });
      const sent = new Map<string, Uint8Array>();
      const received: Uint8Array[] = [];
      b.udp
        .createSocket()
        .bind(9)
        .on('message', (m) => received.push(new Uint8Array(m)));
      const client = a.udp.createSocket();
      for (let i = 0; i < 200; i++) {
        const size = [10, 700, 1472, 3000, 5000][i % 5];
        const data = pattern(size, i);
        data[0] = i; // unique per datagram
        data[1] = size & 0xff;
        sent.set(`${i}/${size}`, data);
        client.send(data, 9, '10.0.0.2', () => undefined);
        clock.advance(5);
      }
      clock.advance(60_000); // retries, reassembly timeouts
      expect(received.length).toBeGreaterThan(50);
      for (const m of received) {
        const match = [...sent.entries()].find(([, d]) => d.length === m.length && d[0] === m[0]);
        expect(match, `unexpected datagram of ${m.length} bytes`).toBeDefined();
        expect(m).toEqual(match![1]);
      }
      const sb = b.stats();
      // Corrupted frames were caught by a checksum or a length check somewhere, and counted.
      expect(totalDrops(sb)).toBeGreaterThan(0);
      expect(sb.ipv4.drops.fragDuplicate + sb.udp.drops.badChecksum).toBeGreaterThan(0);
      expect(b.ipv4.reassembler.memory).toBe(0);
    });
  }
});
