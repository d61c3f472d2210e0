import { describe, expect, it } from 'vitest';
import type { FrameReceiver } from '../../../src/runtime/link/link.js';
import type { SocketBackend, TcpSocket } from '../../../src/runtime/tcp/socket.js';
import {
  DAD_DONE_MS,
  IP6_B,
  IP_B,
  makePair,
  randomBytes,
  runUntil,
  sha256,
  type Faults,
} from './helpers.js';

// TCP over links that offer segmentation and checksum offloads (the memory link standing in
// for a TAP with IFF_VNET_HDR): super-frames of many MSS one way, cut for an end without
// offloads, through loss, reordering, duplication and corruption.

const MSS = 1460 - 12; // timestamps on

/** Records the length of every frame the stack of `link` is handed, and its GSO size. */
function frameSizes(p: ReturnType<typeof makePair>, side: 'a' | 'b'): number[][] {
  const link = side === 'a' ? p.linkA : p.linkB;
  const stack = side === 'a' ? p.a : p.b;
  const seen: number[][] = [];
  const inner = (stack as unknown as { ethernet: FrameReceiver }).ethernet;
  link.setReceiver({
    receive(bytes, offset, length) {
      seen.push([length, link.rxMeta?.segmentSizeOf(bytes) ?? 0]);
      inner.receive(bytes, offset, length);
    },
    batchEnd: () => inner.batchEnd(),
  });
  return seen;
}

async function transfer(
  bytes: number,
  seed: number,
  faults: Faults,
  offloadA: boolean,
  offloadB: boolean,
): Promise<{ p: ReturnType<typeof makePair>; rcvMss: number; toB: number[][]; toA: number[][] }> {
  const p = makePair(seed, faults, {}, {}, { offloadA, offloadB });
  const toB = frameSizes(p, 'b');
  const toA = frameSizes(p, 'a');
  const got: Buffer[] = [];
  let ended = false;
  let server: TcpSocket | undefined;
  p.tcpB.listen(9, (s) => {
    server = s;
    s.on('data', (d: Buffer) => got.push(d));
    s.on('end', () => (ended = true));
  });
  const data = randomBytes(bytes, seed);
  const c = p.tcpA.connect({ host: IP_B, port: 9 });
  c.end(data);
  await runUntil(p.clock, () => ended, 3_600_000);
  expect(sha256(Buffer.concat(got))).toBe(sha256(data));
  let rcvMss = 0;
  // The connection behind the socket (its backend, which the layer owns).
  const backend = (server as unknown as { backend: SocketBackend | null } | undefined)?.backend;
  backend?.configure((conn) => (rcvMss = conn.rcv.mss));
  return { p, rcvMss, toB, toA };
}

describe('TCP with segmentation offload on a memory link', () => {
  it('both ends offer it: segments of many MSS cross whole, rcvMss is gso_size', async () => {
    const { p, rcvMss, toB } = await transfer(2 << 20, 31, {}, true, true);
    const big = toB.filter(([len]) => len > 1514);
    expect(big.length).toBeGreaterThan(0);
    // Every super-frame says its segment size, and the receiver measured that, not 64 KiB.
    for (const [, gso] of big) expect(gso).toBe(MSS);
    expect(Math.max(...big.map(([len]) => len))).toBeGreaterThan(32 * 1024);
    expect(rcvMss).toBe(MSS);
    // Far fewer segments than MSS-sized ones would take.
    expect(p.tcpA.stats().segmentsOut).toBeLessThan((2 << 20) / MSS / 4);
    // The receiver trusted the partial checksums (a verified one would have failed).
    expect(p.tcpB.stats().drops.badChecksum).toBe(0);
  });

  it('a receiver without offloads gets MSS-sized frames with complete checksums', async () => {
    const { p, rcvMss, toB } = await transfer(1 << 20, 32, {}, true, false);
    expect(toB.length).toBeGreaterThan((1 << 20) / MSS);
    for (const [len, gso] of toB) {
      expect(len).toBeLessThanOrEqual(1514);
      expect(gso).toBe(0);
    }
    expect(rcvMss).toBe(MSS);
    expect(p.linkA.stats()).toMatchObject({ txSegmented: expect.any(Number) });
    expect((p.linkA.stats() as unknown as { txSegmented: number }).txSegmented).toBeGreaterThan(0);
    expect(p.tcpB.stats().drops.badChecksum).toBe(0);
  });

  it('a sender whose link refuses offloads sends MSS-sized segments', async () => {
    const { p, toB } = await transfer(512 << 10, 33, {}, false, true);
    for (const [len] of toB) expect(len).toBeLessThanOrEqual(1514);
    expect(p.tcpA.stats().segmentsOut).toBeGreaterThan((512 << 10) / MSS);
  });

  for (const [name, faults, seed] of [
    ['loss', { loss: 0.05 }, 41],
    [
      'loss, reordering and duplication',
      { loss: 0.03, reorder: 0.05, duplicate: 0.02, delay: 2 },
      42,
    ],
  ] as const) {
    it(`byte-exact through ${name}, only holes resent`, async () => {
      const n = 4 << 20;
      const { p, toB } = await transfer(n, seed, faults, true, true);
      const a = p.tcpA.stats();
      expect(a.retransmits).toBeGreaterThan(0);
      // A lost super-frame is resent in MSS-sized holes or larger pieces, never the whole
      // transfer again: bytes sent stay within a few times the loss.
      const sent = toB.reduce((sum, [len]) => sum + len, 0);
      expect(sent).toBeLessThan(n * 1.6);
    });
  }

  it('over IPv6 too: super-frames both ends, cut for an end without offloads', async () => {
    for (const offloadB of [true, false]) {
      const p = makePair(51, { loss: 0.02 }, {}, {}, { ipv6: true, offloadA: true, offloadB });
      const toB = frameSizes(p, 'b');
      await runUntil(p.clock, () => false, DAD_DONE_MS);
      const got: Buffer[] = [];
      let ended = false;
      p.tcpB.listen(9, (s) => {
        s.on('data', (d: Buffer) => got.push(d));
        s.on('end', () => (ended = true));
      });
      const data = randomBytes(2 << 20, 51);
      p.tcpA.connect({ host: IP6_B, port: 9 }).end(data);
      await runUntil(p.clock, () => ended, 3_600_000);
      expect(sha256(Buffer.concat(got))).toBe(sha256(data));
      const big = toB.filter(([len]) => len > 1514);
      if (offloadB) {
        expect(big.length).toBeGreaterThan(0);
        for (const [, gso] of big) expect(gso).toBe(1440 - 12);
      } else {
        expect(big).toEqual([]);
      }
      expect(p.tcpA.stats().ipv6SegmentsOut).toBeLessThan((2 << 20) / 1428 / 4);
    }
  });

  for (const [family, host] of [
    ['IPv4 (ARP)', IP_B],
    ['IPv6 (ND)', IP6_B],
  ] as const) {
    it(`a super-frame that waits for ${family} leaves with its offload facts`, async () => {
      const v6 = host === IP6_B;
      for (const offloadB of [true, false]) {
        const p = makePair(61, {}, {}, {}, { ipv6: v6, offloadA: true, offloadB });
        const toB = frameSizes(p, 'b');
        if (v6) await runUntil(p.clock, () => false, DAD_DONE_MS);
        const got: Buffer[] = [];
        p.tcpB.listen(9, (s) => s.on('data', (d: Buffer) => got.push(d)));
        const c = p.tcpA.connect({ host, port: 9 });
        let open = false;
        c.on('connect', () => (open = true));
        await runUntil(p.clock, () => open);
        // A forgets its neighbour, so the first data (a super-frame: the whole initial window)
        // waits for the resolution in the queue.
        if (v6) p.a.ipv6?.neighbors.clear();
        else p.a.arp.clear();
        const data = randomBytes(64 << 10, 61);
        c.write(data);
        const queued = v6 ? p.a.ipv6?.neighbors.queuedBytes : p.a.arp.queuedBytes;
        expect(queued ?? 0).toBeGreaterThan(4 * MSS);
        await runUntil(p.clock, () => Buffer.concat(got).length >= data.length, 60_000);
        expect(sha256(Buffer.concat(got))).toBe(sha256(data));
        // Delivered as sent, not resent after the queued super-frame was dropped.
        expect(p.tcpA.stats().retransmits).toBe(0);
        const big = toB.filter(([len]) => len > 1514);
        if (offloadB) expect(big.length).toBeGreaterThan(0);
        else expect(big).toEqual([]);
        c.destroy();
      }
    });
  }

  it('a corrupted super-frame is caught by its checksum, not delivered', async () => {
    const { p } = await transfer(2 << 20, 43, { corrupt: 0.05 }, true, true);
    const drops = p.tcpB.stats().drops;
    expect(
      drops.badChecksum + drops.malformed + p.b.stats().ipv4.drops.badChecksum,
    ).toBeGreaterThan(0);
  });
});
