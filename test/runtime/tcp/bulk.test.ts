import { expect, it } from 'vitest';
import { IP_B, makePair, randomBytes, runUntil, sha256 } from './helpers.js';

// The 10 MB case: one direction through 10% loss, 2% duplication, 3% reordering and 1%
// corruption on both directions of the link. Runs in about a second of real time.
it('moves 10 MB with identical SHA-256 through a faulty link', async () => {
  const p = makePair(21, { loss: 0.1, duplicate: 0.02, reorder: 0.03, corrupt: 0.01, delay: 2 });
  const got: Buffer[] = [];
  let ended = false;
  p.tcpB.listen(9, (s) => {
    s.on('data', (d: Buffer) => got.push(d));
    s.on('end', () => (ended = true));
  });
  const data = randomBytes(10 << 20, 21);
  const c = p.tcpA.connect({ host: IP_B, port: 9 });
  c.end(data);
  await runUntil(p.clock, () => ended, 3_600_000);
  expect(sha256(Buffer.concat(got))).toBe(sha256(data));
  const a = p.tcpA.stats();
  expect(a.retransmits).toBeGreaterThan(0);
  // Corrupted frames were caught by a checksum (IPv4 or TCP), never delivered.
  const dropsB = p.tcpB.stats().drops;
  expect(
    dropsB.badChecksum + dropsB.malformed + p.b.stats().ipv4.drops.badChecksum,
  ).toBeGreaterThan(0);
});
