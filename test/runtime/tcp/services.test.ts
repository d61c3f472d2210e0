import { expect, it } from 'vitest';
import { startDiscardServer, type DiscardSession } from '../../../src/runtime/tcp/index.js';
import { IP_B, makePair, randomBytes, runUntil, sha256 } from './helpers.js';

// Discard (RFC 863) reads through `onread` into one 64 KiB buffer per connection: the count
// and the hash must still cover every byte, across many refills of that buffer, and two
// connections at once must not share a reader.
it('discard counts and hashes every byte of concurrent connections', async () => {
  const p = makePair(5, { loss: 0.02, reorder: 0.02, delay: 1 });
  const sessions: DiscardSession[] = [];
  startDiscardServer(p.tcpB, 9, (s) => sessions.push(s));
  const one = randomBytes(700_000, 1);
  const two = randomBytes(300_001, 2);
  let closed = 0;
  for (const data of [one, two]) {
    const c = p.tcpA.connect({ host: IP_B, port: 9 });
    c.on('close', () => closed++);
    c.end(data);
  }
  await runUntil(p.clock, () => sessions.length === 2 && closed === 2, 600_000);
  const bySize = [...sessions].sort((x, y) => y.bytes - x.bytes);
  expect(bySize.map((s) => s.bytes)).toEqual([one.length, two.length]);
  expect(bySize.map((s) => s.sha256)).toEqual([sha256(one), sha256(two)]);
  expect(new Set(sessions.map((s) => s.remote)).size).toBe(2);
  expect(sessions[0].remote).toMatch(/^10\.0\.0\.1:\d+$/);
});

it('discard without hashing still counts, and reports no hash', async () => {
  const p = makePair(6);
  const sessions: DiscardSession[] = [];
  startDiscardServer(p.tcpB, 9, { onSession: (s) => sessions.push(s), sha256: false });
  const c = p.tcpA.connect({ host: IP_B, port: 9 });
  c.end(randomBytes(200_000, 3));
  await runUntil(p.clock, () => sessions.length === 1, 60_000);
  expect(sessions[0]).toMatchObject({ bytes: 200_000, sha256: null });
});
