/**
 * The Stack's public shape from issue 4/5: `stack.tcp.listen` / `stack.tcp.connect` and
 * `stack.dns`, created on first use, shared with `attachTcp`, included in stats and close.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair } from '../../../src/runtime/link/memory.js';
import { createStack } from '../../../src/runtime/stack.js';
import { attachTcp } from '../../../src/runtime/tcp/index.js';
import { runUntil } from '../tcp/helpers.js';

function twoStacks() {
  const clock = new VirtualClock();
  const [la, lb] = createMemoryLinkPair({
    mtu: 1500,
    macA: 0x020000000001,
    macB: 0x020000000002,
    clock,
  });
  const a = createStack({ link: la, clock, ip: '10.9.0.1/24' });
  const b = createStack({ link: lb, clock, ip: '10.9.0.2/24', dns: { servers: ['10.9.0.1'] } });
  return { clock, a, b };
}

describe('Stack API', () => {
  it('has no TCP until it is used, then one shared layer', () => {
    const { a } = twoStacks();
    expect(a.hasTcp).toBe(false);
    expect(a.stats().tcp).toBeUndefined();
    const layer = a.tcp;
    expect(a.hasTcp).toBe(true);
    expect(attachTcp(a)).toBe(layer);
    expect(a.tcp).toBe(layer);
    expect(a.stats().tcp).toBeDefined();
  });

  it('stack.tcp.listen and stack.tcp.connect carry data both ways', async () => {
    const { clock, a, b } = twoStacks();
    const got: Buffer[] = [];
    a.tcp.listen(7, (socket) => socket.pipe(socket));
    const client = b.tcp.connect({ host: '10.9.0.1', port: 7 });
    let ended = false;
    client.on('data', (d: Buffer) => got.push(d));
    client.on('end', () => (ended = true));
    client.end('hello over the stack');
    await runUntil(clock, () => ended, 10_000);
    expect(Buffer.concat(got).toString()).toBe('hello over the stack');
    expect(client.remoteAddress).toBe('10.9.0.1');
    expect(client.remotePort).toBe(7);
    await a.close();
    await b.close();
  });

  it('stack.dns is one resolver using the configured servers', async () => {
    const { clock, b } = twoStacks();
    expect(b.dns).toBe(b.dns);
    // Nothing answers on 10.9.0.1:53 (the peer stack has no DNS server): the query times out
    // or is refused by ICMP, and the resolver reports it with a Node-style code.
    const outcome = b.dns.resolve4('www.example.test').then(
      () => 'resolved',
      (err: NodeJS.ErrnoException) => err.code,
    );
    let code: string | undefined;
    void outcome.then((c) => (code = c));
    await runUntil(clock, () => code !== undefined, 60_000);
    expect(['ECONNREFUSED', 'ETIMEOUT']).toContain(code);
    await b.close();
  });
});
