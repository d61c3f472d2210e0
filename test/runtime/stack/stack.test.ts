import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { setup } from './harness.js';
import {
  arpPacket,
  BROADCAST,
  ethernetFrame,
  icmpEcho,
  ip,
  pattern,
  PEER_IP,
  PEER_MAC,
  peerIpFrame,
  STACK_IP,
  STACK_MAC,
  udpDatagram,
} from './frames.js';
import { resolveAddress, StackConfigError } from '../../../src/runtime/stack.js';
import { dropsByReason, totalDrops } from '../../../src/runtime/stats.js';

/** Valid frames of every layer, the seeds that truncation and bit flips start from. */
function validFrames(): Uint8Array[] {
  const frags: Uint8Array[] = [];
  const big = udpDatagram(PEER_IP, STACK_IP, 1, 7, pattern(2000));
  for (let off = 0; off < big.length; off += 1000) {
    frags.push(
      peerIpFrame({
        protocol: 17,
        id: 5,
        payload: big.subarray(off, off + 1000),
        fragmentOffset: off,
        moreFragments: off + 1000 < big.length,
      }),
    );
  }
  return [
    ethernetFrame(
      BROADCAST,
      PEER_MAC,
      0x0806,
      arpPacket({ op: 1, sha: PEER_MAC, spa: PEER_IP, tha: 0, tpa: STACK_IP }),
    ),
    ethernetFrame(
      STACK_MAC,
      PEER_MAC,
      0x0806,
      arpPacket({ op: 2, sha: PEER_MAC, spa: PEER_IP, tha: STACK_MAC, tpa: STACK_IP }),
    ),
    peerIpFrame({ protocol: 1, payload: icmpEcho(8, 1, 1, pattern(64)) }),
    peerIpFrame({
      protocol: 1,
      payload: icmpEcho(8, 1, 1, pattern(16)),
      options: new Uint8Array([1, 1, 7, 7, 4, 0, 0, 0, 0, 0, 0, 0]),
    }),
    peerIpFrame({ protocol: 17, payload: udpDatagram(PEER_IP, STACK_IP, 1, 7, pattern(30)) }),
    peerIpFrame({ protocol: 17, payload: udpDatagram(PEER_IP, STACK_IP, 1, 9, pattern(30)) }),
    peerIpFrame({ protocol: 6, payload: pattern(40) }),
    ...frags,
  ];
}

describe('Stack', () => {
  it('parses address configuration and rejects bad input with typed errors', () => {
    expect(resolveAddress({ ip: '10.0.0.2/24', gateway: '10.0.0.1' })).toEqual({
      ip: ip('10.0.0.2'),
      netmask: ip('255.255.255.0'),
      gateway: ip('10.0.0.1'),
    });
    expect(resolveAddress({ ip: '192.168.1.5', netmask: '255.255.0.0' }).netmask).toBe(
      ip('255.255.0.0'),
    );
    expect(resolveAddress({ ip: '10.0.0.2' }).netmask).toBe(0xffffffff);
    expect(() => resolveAddress({ ip: '10.0.0.300' })).toThrow(StackConfigError);
    expect(() => resolveAddress({ ip: '10.0.0.2/33' })).toThrow(/prefix/);
    expect(() => resolveAddress({ ip: '10.0.0.2', netmask: '255.0.255.0' })).toThrow(/contiguous/);
    expect(() => resolveAddress({ ip: '10.0.0.2/24', gateway: '10.0.1.1' })).toThrow(/gateway/);
  });

  it('starts unconfigured, answers nothing, then works after setAddress (DHCP path)', () => {
    const { stack, peer, clock } = setup({ ip: undefined }, { knowPeer: false });
    expect(stack.address).toBe(0);
    peer.send(
      ethernetFrame(
        BROADCAST,
        PEER_MAC,
        0x0806,
        arpPacket({ op: 1, sha: PEER_MAC, spa: PEER_IP, tha: 0, tpa: STACK_IP }),
      ),
    );
    expect(peer.take()).toHaveLength(0);
    const changes: number[] = [];
    stack.onAddressChange((a) => changes.push(a.ip));
    stack.setAddress({ ip: '10.0.0.2/24' });
    clock.advance(0);
    expect(changes).toEqual([STACK_IP]);
    expect(peer.take()).toHaveLength(1); // gratuitous ARP
    peer.send(peerIpFrame({ protocol: 1, payload: icmpEcho(8, 1, 1, pattern(8)) }));
    expect(stack.stats().icmp.echoReplies).toBe(1);
  });

  it('reports stats as a detached snapshot', () => {
    const { stack, peer } = setup();
    const before = stack.stats();
    peer.send(peerIpFrame({ protocol: 1, payload: icmpEcho(8, 1, 1, pattern(8)) }));
    expect(before.icmp.echoReplies).toBe(0);
    expect(stack.stats().icmp.echoReplies).toBe(1);
    expect(stack.stats().link.txFrames).toBeGreaterThan(0);
  });

  it('close() stops timers and the link; idempotent', async () => {
    const { stack, clock } = setup({}, { knowPeer: false });
    stack.udp.createSocket().send('x', 9, '10.0.0.1');
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    await stack.close();
    await stack.close();
    clock.runUntilIdle();
    expect(clock.pendingTimers()).toBe(0);
    expect(stack.udp.isBound(49152)).toBe(false);
  });

  it('fuzz: random, truncated and bit-flipped frames never throw, and every frame is counted', () => {
    const seeds = validFrames();
    const frame = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 1514 }),
      fc
        .tuple(fc.constantFrom(...seeds), fc.nat())
        .map(([f, n]) => f.subarray(0, n % (f.length + 1))),
      fc
        .tuple(fc.constantFrom(...seeds), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }))
        .map(([f, flips]) => {
          const copy = f.slice();
          for (const bit of flips) copy[(bit >> 3) % copy.length] ^= 1 << (bit & 7);
          return copy;
        }),
      // Valid frames with a random byte overwritten in the header area.
      fc
        .tuple(fc.constantFrom(...seeds), fc.nat(60), fc.integer({ min: 0, max: 255 }))
        .map(([f, at, v]) => {
          const copy = f.slice();
          copy[at % copy.length] = v;
          return copy;
        }),
    );
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 30 }), (frames) => {
        const { stack, clock, peer } = setup();
        const before = stack.stats().ethernet.rxFrames;
        const peerBefore = peer.link.stats().txFrames;
        for (const f of frames) stack.ethernet.receive(f, 0, f.length);
        clock.advance(60_000); // timers: ARP retries, reassembly timeouts
        const s = stack.stats();
        // Every fuzzed frame was seen, besides what the peer sent back (its ARP answers).
        expect(s.ethernet.rxFrames - before).toBe(
          frames.length + peer.link.stats().txFrames - peerBefore,
        );
        expect(stack.ipv4.reassembler.memory).toBe(0);
        expect(totalDrops(s)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it('fuzz: frames received at arbitrary offsets inside a larger buffer are read in bounds', () => {
    const seeds = validFrames();
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.nat(64), fc.nat(64), (f, before, after) => {
        const { stack } = setup();
        const buf = new Uint8Array(before + f.length + after).fill(0xee);
        buf.set(f, before);
        const s0 = stack.stats();
        stack.ethernet.receive(buf, before, f.length);
        const s1 = stack.stats();
        // Exactly the same outcome as the frame alone in its own buffer.
        const { stack: alone } = setup();
        const a0 = alone.stats();
        alone.ethernet.receive(f.slice(), 0, f.length);
        const a1 = alone.stats();
        expect(totalDrops(s1) - totalDrops(s0)).toBe(totalDrops(a1) - totalDrops(a0));
        expect(s1.ipv4.delivered - s0.ipv4.delivered).toBe(a1.ipv4.delivered - a0.ipv4.delivered);
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});

describe('dropsByReason', () => {
  it('names every drop counter by its path and sums to totalDrops', () => {
    const stats = {
      ipv4: { rxPackets: 9, drops: { martianSource: 2, badChecksum: 1 } },
      tcp: { drops: { noListener: 4 }, evictions: { idle: 7 } },
      udp: { sockets: { drops: { queueFull: 3 } } },
    };
    const m = dropsByReason(stats);
    expect([...m]).toEqual([
      ['ipv4.martianSource', 2],
      ['ipv4.badChecksum', 1],
      ['tcp.noListener', 4],
      ['udp.sockets.queueFull', 3],
    ]);
    expect([...m.values()].reduce((a, b) => a + b, 0)).toBe(totalDrops(stats));
  });
});
