/**
 * `stack.dns` with node:dns's API, over two stacks in memory: B serves TEST_ZONE on a UDP port
 * (zone-server.ts, the generated encoder), A asks it through callbacks and `.promises`. The
 * expectations are what node:dns gives for the same zone (test/node-compat/dns.test.ts asks
 * node:dns itself).
 */
import { describe, expect, it } from 'vitest';
import { IP_B, makePair, runUntil, type Pair } from '../tcp/helpers.js';
import { answerQuery, TEST_ZONE } from './zone-server.js';

const PORT = 5353;

function setup(seed: number): Pair {
  const p = makePair(seed);
  const server = p.b.udp.createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    const reply = answerQuery(TEST_ZONE, msg);
    if (reply !== null) server.send(reply, rinfo.port, rinfo.address);
  });
  server.bind(PORT);
  p.a.dns.setServers([`${IP_B}:${PORT}`]);
  return p;
}

/** Runs node-style `call(cb)` to its callback: [err, value]. */
async function cb<T>(
  p: Pair,
  call: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void,
): Promise<[NodeJS.ErrnoException | null, T | undefined]> {
  let result: [NodeJS.ErrnoException | null, T | undefined] | null = null;
  call((err, value) => (result = [err, value]));
  await runUntil(p.clock, () => result !== null, 30_000);
  if (result === null) throw new Error('callback never called');
  return result;
}

describe("stack.dns with node:dns's API", () => {
  it('getServers gives node’s form, with the port', () => {
    const p = setup(1);
    expect(p.a.dns.getServers()).toEqual([`${IP_B}:${PORT}`]);
    p.a.dns.setServers(['fd00::53', '[fd00::54]:5300', '10.0.0.9']);
    expect(p.a.dns.getServers()).toEqual(['fd00::53', '[fd00::54]:5300', '10.0.0.9']);
  });

  it('resolve4 / resolve6 / resolve call their callbacks', async () => {
    const p = setup(2);
    const dns = p.a.dns;
    expect(await cb(p, (d) => dns.resolve4('www.test', d))).toEqual([
      null,
      ['10.0.0.80', '10.0.0.81'],
    ]);
    expect(await cb(p, (d) => dns.resolve6('alias.test', d))).toEqual([null, ['fd00::80']]);
    expect(await cb(p, (d) => dns.resolve('www.test', d))).toEqual([
      null,
      ['10.0.0.80', '10.0.0.81'],
    ]);
    const [, ttl] = await cb(p, (d) => dns.resolve4('www.test', { ttl: true }, d));
    expect(ttl).toEqual([
      { address: '10.0.0.80', ttl: 300 },
      { address: '10.0.0.81', ttl: 300 },
    ]);
  });

  it('resolves MX, TXT, NS, SRV, CNAME, PTR and SOA records in node’s shapes', async () => {
    const p = setup(3);
    const dns = p.a.dns;
    expect((await cb(p, (d) => dns.resolveMx('mail.test', d)))[1]).toEqual([
      { exchange: 'mx1.test', priority: 10 },
      { exchange: 'mx2.test', priority: 20 },
    ]);
    expect((await cb(p, (d) => dns.resolveTxt('mail.test', d)))[1]).toEqual([
      ['v=spf1 -all'],
      ['two', 'chunks'],
    ]);
    expect((await cb(p, (d) => dns.resolveNs('mail.test', d)))[1]).toEqual(['ns.test']);
    expect((await cb(p, (d) => dns.resolveSrv('_sip._udp.test', d)))[1]).toEqual([
      { name: 'sip.test', port: 5060, priority: 1, weight: 5 },
    ]);
    expect((await cb(p, (d) => dns.resolveCname('alias.test', d)))[1]).toEqual(['www.test']);
    expect((await cb(p, (d) => dns.resolve('mail.test', 'MX', d)))[1]).toEqual([
      { exchange: 'mx1.test', priority: 10 },
      { exchange: 'mx2.test', priority: 20 },
    ]);
    expect((await cb(p, (d) => dns.resolveSoa('test', d)))[1]).toEqual({
      nsname: 'ns.test',
      hostmaster: 'admin.test',
      serial: 7,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minttl: 60,
    });
    expect(await cb(p, (d) => dns.reverse('10.0.0.80', d))).toEqual([null, ['www.test']]);
    expect(await cb(p, (d) => dns.reverse('fd00::80', d))).toEqual([null, ['www.test']]);
    expect(await dns.promises.resolvePtr('80.0.0.10.in-addr.arpa')).toEqual(['www.test']);
    expect(() => dns.resolve('www.test', 'BOGUS' as 'A', () => undefined)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it("fails with node's codes and syscalls", async () => {
    const p = setup(4);
    const dns = p.a.dns;
    const [nx] = await cb(p, (d) => dns.resolve4('nowhere.test', d));
    expect(nx).toMatchObject({
      code: 'ENOTFOUND',
      syscall: 'queryA',
      hostname: 'nowhere.test',
      message: 'queryA ENOTFOUND nowhere.test',
    });
    const [nodata] = await cb(p, (d) => dns.resolveMx('www.test', d));
    expect(nodata).toMatchObject({ code: 'ENODATA', syscall: 'queryMx' });
    const [fail] = await cb(p, (d) => dns.resolve4('broken.test', d));
    expect(fail).toMatchObject({ code: 'ESERVFAIL', syscall: 'queryA' });
    const [refused] = await cb(p, (d) => dns.resolve4('refused.test', d));
    expect(refused).toMatchObject({ code: 'EREFUSED' });
    const [rev] = await cb(p, (d) => dns.reverse('10.0.0.99', d));
    expect(rev).toMatchObject({
      code: 'ENOTFOUND',
      syscall: 'getHostByAddr',
      hostname: '10.0.0.99',
    });
    const [lookupErr, address] = await cb(p, (d) => dns.lookup('nowhere.test', d));
    expect(lookupErr).toMatchObject({ code: 'ENOTFOUND', syscall: 'getaddrinfo' });
    expect(address).toBeUndefined();
    // Nothing listens on the server's port: ICMP port unreachable, ECONNREFUSED at once.
    dns.setServers([`${IP_B}:5400`]);
    const start = p.clock.now();
    const [refusedPort] = await cb(p, (d) => dns.resolve4('www.test', d));
    expect(refusedPort).toMatchObject({ code: 'ECONNREFUSED', syscall: 'queryA' });
    expect(p.clock.now() - start).toBeLessThan(100);
  });

  it("lookup takes node's options and the default result order", async () => {
    const p = setup(5);
    const dns = p.a.dns;
    let result: unknown[] = [];
    dns.lookup('www.test', (err, address, family) => (result = [err, address, family]));
    await runUntil(p.clock, () => result.length > 0, 10_000);
    expect(result).toEqual([null, '10.0.0.80', 4]);
    const all = await dns.promises.lookup('www.test', { all: true });
    expect(all).toEqual([
      { address: '10.0.0.80', family: 4 },
      { address: '10.0.0.81', family: 4 },
      { address: 'fd00::80', family: 6 },
    ]);
    expect(await dns.promises.lookup('www.test', { family: 6 })).toEqual({
      address: 'fd00::80',
      family: 6,
    });
    expect(dns.getDefaultResultOrder()).toBe('verbatim');
    dns.setDefaultResultOrder('ipv6first');
    expect(await dns.promises.lookup('www.test')).toEqual({ address: 'fd00::80', family: 6 });
    expect(await dns.promises.lookup('www.test', { order: 'ipv4first' })).toEqual({
      address: '10.0.0.80',
      family: 4,
    });
    expect(() => dns.setDefaultResultOrder('random' as 'verbatim')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});
