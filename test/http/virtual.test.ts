/**
 * HTTP between two stacks on the VirtualClock: frames move only when the test advances time,
 * so the exchange is deterministic; node:http itself runs between steps (setImmediate).
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair } from '../../src/runtime/link/memory.js';
import { createStack } from '../../src/runtime/stack.js';
import { fetchOverStack, readBody, serveHttp, tcpOf } from '../../src/runtime/http/index.js';

/** Advances virtual time 1 ms at a time, yielding to Node in between, until `p` settles. */
async function drive<T>(clock: VirtualClock, p: Promise<T>, limitMs = 60_000): Promise<T> {
  let settled = false;
  const watched = p.finally(() => (settled = true));
  const end = clock.now() + limitMs;
  while (!settled && clock.now() < end) {
    clock.advance(1);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return watched;
}

describe('HTTP on the virtual clock', () => {
  it('fetches a body, and the virtual time it took is the same on every run', async () => {
    const elapsed: number[] = [];
    for (let run = 0; run < 2; run++) {
      const clock = new VirtualClock();
      const [la, lb] = createMemoryLinkPair({ macA: 0x020000000001, macB: 0x020000000002, clock });
      const client = createStack({ link: la, clock, ip: '10.0.0.1/24' });
      const server = createStack({ link: lb, clock, ip: '10.0.0.2/24' });
      tcpOf(client);
      const service = serveHttp(server, 80, (_req, res) => res.end('x'.repeat(200_000)));
      const res = await drive(clock, fetchOverStack(client, 'http://10.0.0.2/'));
      const body = await drive(clock, readBody(res));
      expect(res.statusCode).toBe(200);
      expect(body.length).toBe(200_000);
      elapsed.push(clock.now());
      await drive(clock, service.close({ force: true }));
      await client.close();
      await server.close();
    }
    // Real time varies from run to run; the virtual time of the exchange does not.
    expect(elapsed[0]).toBeGreaterThan(0);
    expect(elapsed[1]).toBe(elapsed[0]);
  });
});
