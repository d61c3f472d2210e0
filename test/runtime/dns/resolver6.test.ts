/**
 * AAAA, resolve6, lookup over both families and IPv6 servers, on the virtual clock against a
 * fake server whose answers the generated encoder writes (encoded-zone.ts).
 */
import { ADDRCONFIG, ALL, V4MAPPED } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { parseIpv4, parseIpv6 } from '../../../src/codec/address.js';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { DnsError } from '../../../src/runtime/dns/errors.js';
import {
  DEFAULT_POLICY,
  ipv4Mapped,
  withSitePolicy,
  type AddressSelection,
} from '../../../src/runtime/dns/order.js';
import {
  Resolver,
  type LookupAddress,
  type RecordWithTtl,
  type ResolverOptions,
} from '../../../src/runtime/dns/resolver.js';
import { encodeAnswer, encodedZone, type ZoneRecord } from './encoded-zone.js';
import { FakeNet, ip } from './fake-dns.js';

const AAAA = 28;

const ZONE: Record<string, ZoneRecord[]> = {
  'dual.test': [
    { name: 'dual.test', type: 'A', ttl: 300, data: '10.0.0.7' },
    { name: 'dual.test', type: 'AAAA', ttl: 300, data: 'fd00::7' },
    { name: 'dual.test', type: 'AAAA', ttl: 120, data: '2001:db8::7' },
  ],
  'v4only.test': [{ name: 'v4only.test', type: 'A', ttl: 300, data: '10.0.0.8' }],
  'v6only.test': [{ name: 'v6only.test', type: 'AAAA', ttl: 300, data: 'fd00::8' }],
  'www.test': [{ name: 'www.test', type: 'CNAME', ttl: 50, data: 'web.test' }],
  'web.test': [{ name: 'web.test', type: 'CNAME', ttl: 600, data: 'dual.test' }],
};

function setup(opts: Partial<ResolverOptions> = {}, zoneOptions = {}) {
  const clock = new VirtualClock();
  const net = new FakeNet(clock);
  net.serve = encodedZone(ZONE, zoneOptions);
  let seed = 7;
  const resolver = new Resolver({
    clock,
    transport: net,
    servers: ['10.0.0.1'],
    randomInt: (max) => {
      seed = (seed * 48271) % 2147483647;
      return seed % max;
    },
    ...opts,
  });
  async function run<T>(p: Promise<T>): Promise<T> {
    let done = false;
    p.then(
      () => (done = true),
      () => (done = true),
    );
    for (let i = 0; i < 10_000 && !done; i++) {
      await new Promise((r) => setImmediate(r));
      if (!done && !clock.advanceToNextTimer()) {
        await new Promise((r) => setImmediate(r));
        if (!done) throw new Error('resolver stuck with no timer pending');
      }
    }
    return p;
  }
  async function fails(p: Promise<unknown>): Promise<DnsError> {
    const err = await run(p).then(
      () => {
        throw new Error('expected a failure');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DnsError);
    return err as DnsError;
  }
  return { clock, net, resolver, run, fails };
}

/** What a stack with these addresses would answer for sources (prefix lengths /64 and /24). */
function addresses(v4: string | null, v6: string[]): AddressSelection {
  const ours = v6.map((t) => parseIpv6(t) as Uint8Array);
  return {
    sourceFor(dst) {
      if (dst[10] === 0xff && dst[11] === 0xff && dst.subarray(0, 10).every((b) => b === 0)) {
        return v4 === null
          ? null
          : { address: ipv4Mapped(parseIpv4(v4)), prefixLength: 120, deprecated: false };
      }
      // Link-local destinations from a link-local source, others from a global one if any.
      const ll = ours.find((a) => a[0] === 0xfe);
      const global = ours.find((a) => a[0] !== 0xfe);
      const src = dst[0] === 0xfe ? ll : (global ?? ll);
      return src === undefined ? null : { address: src, prefixLength: 64, deprecated: false };
    },
    policy: () => withSitePolicy(DEFAULT_POLICY, ours),
    configured: () => ({ ipv4: v4 !== null, ipv6: ours.some((a) => a[0] !== 0xfe) }),
  };
}

describe('resolve6', () => {
  it('returns AAAA records, with TTLs, and asks with type AAAA', async () => {
    const { resolver, run, net } = setup();
    expect(await run(resolver.resolve6('dual.test'))).toEqual(['fd00::7', '2001:db8::7']);
    expect(net.sent.map((q) => [q.name, q.qtype])).toEqual([['dual.test', AAAA]]);
    expect(await run(resolver.promises.resolve6('dual.test', { ttl: true }))).toEqual([
      { address: 'fd00::7', ttl: 120 },
      { address: '2001:db8::7', ttl: 120 },
    ]);
  });

  it('has the callback form of dns.resolve6 (and resolve4)', async () => {
    const { resolver, run } = setup();
    const viaCallback = (name: string, ttl: boolean) =>
      new Promise<unknown[]>((resolve) => {
        const done = (...args: unknown[]) => resolve(args);
        if (ttl) resolver.resolve6(name, { ttl: true }, done);
        else resolver.resolve6(name, done);
      });
    expect(await run(viaCallback('v6only.test', false))).toEqual([null, ['fd00::8']]);
    expect(await run(viaCallback('v6only.test', true))).toEqual([
      null,
      [{ address: 'fd00::8', ttl: 300 }],
    ]);
    const [err] = (await run(viaCallback('nx.test', false))) as [DnsError];
    expect(err).toMatchObject({ code: 'ENOTFOUND', syscall: 'queryAaaa', hostname: 'nx.test' });
    expect(err.message).toBe('queryAaaa ENOTFOUND nx.test');
    const v4 = await run(
      new Promise<unknown[]>((resolve) =>
        resolver.resolve4('dual.test', (...args: unknown[]) => resolve(args)),
      ),
    );
    expect(v4).toEqual([null, ['10.0.0.7']]);
  });

  it('follows CNAME chains for AAAA, inside one response and across queries', async () => {
    const one = setup();
    expect(await one.run(one.resolver.resolve6('WWW.test.', { ttl: true }))).toEqual([
      { address: 'fd00::7', ttl: 50 },
      { address: '2001:db8::7', ttl: 50 },
    ]);
    expect(one.net.sent).toHaveLength(1);
    const open = setup({}, { openChains: true });
    expect(await open.run(open.resolver.resolve6('www.test'))).toEqual(['fd00::7', '2001:db8::7']);
    expect(open.net.sent.map((q) => [q.name, q.qtype])).toEqual([
      ['www.test', AAAA],
      ['web.test', AAAA],
      ['dual.test', AAAA],
    ]);
  });

  it('NODATA for AAAA when only A exists: ENODATA, cached per type, A unaffected', async () => {
    const { resolver, run, fails, net, clock } = setup({}, { soaMinimum: 30 });
    expect(await fails(resolver.resolve6('v4only.test'))).toMatchObject({
      code: 'ENODATA',
      syscall: 'queryAaaa',
      reason: 'nodata',
      server: '10.0.0.1',
    });
    expect(await run(resolver.resolve4('v4only.test'))).toEqual(['10.0.0.8']);
    expect(net.sent).toHaveLength(2);
    // The negative answer is served from cache for min(SOA TTL, MINIMUM) = 30 s.
    await fails(resolver.resolve6('v4only.test'));
    expect(net.sent).toHaveLength(2);
    clock.advance(30_000);
    await fails(resolver.resolve6('v4only.test'));
    expect(net.sent).toHaveLength(3);
    // NODATA at the end of a chain (alias → name without AAAA).
    const chain = setup();
    chain.net.serve = encodedZone({
      ...ZONE,
      'alias.test': [{ name: 'alias.test', type: 'CNAME', ttl: 60, data: 'v4only.test' }],
    });
    expect(await chain.fails(chain.resolver.resolve6('alias.test'))).toMatchObject({
      code: 'ENODATA',
    });
  });

  it('NXDOMAIN is about the name: cached once, it answers A and AAAA alike', async () => {
    const { resolver, fails, net } = setup();
    expect(await fails(resolver.resolve4('nx.test'))).toMatchObject({ code: 'ENOTFOUND' });
    expect(await fails(resolver.resolve6('nx.test'))).toMatchObject({
      code: 'ENOTFOUND',
      syscall: 'queryAaaa',
    });
    expect(net.sent).toHaveLength(1);
    expect(resolver.stats().cacheHits).toBe(1);
  });

  it('does not take records of the wrong type as the answer', async () => {
    const { resolver, fails, run, net } = setup();
    // An AAAA question answered with A records only: no AAAA there (NODATA).
    net.serve = (q) => [
      {
        bytes: encodeAnswer(q, {
          answers: [{ name: q.name, type: 'A', ttl: 60, data: '10.9.9.9' }],
        }),
      },
    ];
    expect(await fails(resolver.resolve6('dual.test'))).toMatchObject({ code: 'ENODATA' });
    // An A question answered with AAAA records: none of those are IPv4 addresses.
    net.serve = (q) => [
      {
        bytes: encodeAnswer(q, {
          answers: [
            { name: q.name, type: 'AAAA', ttl: 60, data: 'fd00::99' },
            { name: q.name, type: 'A', ttl: 60, data: '10.0.0.9' },
          ],
        }),
      },
    ];
    expect(await run(resolver.resolve4('mixed.test'))).toEqual(['10.0.0.9']);
    // A response whose question is of the other type is not ours at all: ignored, counted.
    const s = setup({ attempts: 1, timeoutMs: 500 });
    s.net.serve = (q) => [{ bytes: encodeAnswer(q, { qtype: 1, answers: [] }) }];
    expect(await s.fails(s.resolver.resolve6('dual.test'))).toMatchObject({ code: 'ETIMEOUT' });
    expect(s.resolver.stats().ignored.wrong_question).toBe(1);
  });

  it('AAAA record data that is not 16 bytes: EBADRESP bad-rdata, counted, next server', async () => {
    for (const size of [0, 4, 15, 17]) {
      const { resolver, fails, net } = setup({ servers: ['10.0.0.1', '10.0.0.2'], attempts: 1 });
      net.serve = (q) => [
        {
          bytes: encodeAnswer(q, {
            answers: [
              { name: q.name, type: 'AAAA', ttl: 60, data: '', rawData: new Uint8Array(size) },
            ],
          }),
        },
      ];
      const err = await fails(resolver.resolve6('dual.test'));
      expect(err).toMatchObject({ code: 'EBADRESP', reason: 'bad-rdata', server: '10.0.0.2' });
      expect(err.message).toContain('record data of the wrong size');
      expect(net.sent).toHaveLength(2);
      expect(resolver.stats().unusable['bad-rdata']).toBe(2);
    }
    // A bad A record in a response to an AAAA question is not read (and does not fail it).
    const { resolver, run, net } = setup();
    net.serve = (q) => [
      {
        bytes: encodeAnswer(q, {
          answers: [
            { name: q.name, type: 'A', ttl: 60, data: '', rawData: new Uint8Array(3) },
            { name: q.name, type: 'AAAA', ttl: 60, data: 'fd00::5' },
          ],
        }),
      },
    ];
    expect(await run(resolver.resolve6('dual.test'))).toEqual(['fd00::5']);
  });

  it('reports a truncated (TC) AAAA answer as EBADRESP truncated at once (no TCP here)', async () => {
    const { resolver, fails, net } = setup({ servers: ['fd00::1', '10.0.0.1'] });
    net.serve = (q) => [{ bytes: encodeAnswer(q, { tc: true }) }];
    expect(await fails(resolver.resolve6('dual.test'))).toMatchObject({
      code: 'EBADRESP',
      reason: 'truncated',
      server: 'fd00::1',
    });
    expect(net.sent).toHaveLength(1);
  });
});

describe('IPv6 servers', () => {
  it('sends to an IPv6 server over an IPv6 socket and takes its answer', async () => {
    const { resolver, run, net } = setup({ servers: ['FD00::1'] });
    expect(resolver.getServers()).toEqual(['fd00::1']);
    expect(await run(resolver.resolve6('dual.test'))).toEqual(['fd00::7', '2001:db8::7']);
    expect(await run(resolver.resolve4('dual.test'))).toEqual(['10.0.0.7']);
    expect(net.sent.map((q) => [q.server, q.family, q.port])).toEqual([
      ['fd00::1', 6, 53],
      ['fd00::1', 6, 53],
    ]);
  });

  it('ignores answers from another address (of either family) and fails over across families', async () => {
    const { resolver, run, net } = setup({ servers: ['fd00::1', '10.0.0.1'] });
    const zone = encodedZone(ZONE);
    net.serve = (q) => {
      const [good] = zone(q);
      if (!('bytes' in good)) return [];
      if (q.server === 'fd00::1') {
        // Spoofs from a neighbour and from the IPv4-mapped form of nothing we asked.
        return [
          { ...good, from: 'fd00::2' },
          { ...good, from: '::ffff:10.0.0.1' },
          { ...good, from: ip('10.0.0.1') },
        ];
      }
      return [good];
    };
    expect(await run(resolver.resolve6('v6only.test'))).toEqual(['fd00::8']);
    expect(resolver.stats().ignored.wrong_source).toBe(3);
    expect(net.sent.map((q) => q.server)).toEqual(['fd00::1', ip('10.0.0.1')]);
  });

  it('an ICMPv6 port unreachable from the server fails the try with ECONNREFUSED', async () => {
    const { resolver, fails, net } = setup({ servers: ['fd00::1'], attempts: 1 });
    net.serve = () => [{ unreachable: true }];
    expect(await fails(resolver.resolve6('dual.test'))).toMatchObject({
      code: 'ECONNREFUSED',
      reason: 'port-unreachable',
      server: 'fd00::1',
    });
  });

  it('refuses server text that is not an address, zone ids included', () => {
    const { resolver } = setup();
    for (const bad of ['fd00::1::2', 'fe80::1%eth0', 'host.test', '10.0.0.256', ''])
      expect(() => resolver.setServers([bad])).toThrow(TypeError);
    expect(resolver.getServers()).toEqual(['10.0.0.1']);
  });

  it('servers from sources (DHCPv6, RDNSS) come after the fixed ones, once, for their lifetime', async () => {
    const { resolver, clock, run, net } = setup({ servers: ['10.0.0.1'] });
    resolver.setSourceServers('ra fe80::1', ['fd00::53', 'fd00::54'], 10_000);
    resolver.setSourceServers('dhcpv6', [parseIpv6('fd00::55') as Uint8Array, '10.0.0.1']);
    expect(resolver.getServers()).toEqual(['10.0.0.1', 'fd00::53', 'fd00::54', 'fd00::55']);
    // Replacing a source keeps its place; lifetime runs out.
    resolver.setSourceServers('ra fe80::1', ['fd00::60'], 10_000);
    expect(resolver.getServers()).toEqual(['10.0.0.1', 'fd00::60', 'fd00::55']);
    clock.advance(10_000);
    expect(resolver.getServers()).toEqual(['10.0.0.1', 'fd00::55']);
    // Lifetime 0 or an empty list withdraws a source.
    resolver.setSourceServers('dhcpv6', [], 5000);
    resolver.setServers([]);
    expect(resolver.getServers()).toEqual([]);
    resolver.setSourceServers('ra fe80::1', ['fd00::61'], 0);
    expect(resolver.getServers()).toEqual([]);
    // Only learnt servers: queries go to them.
    resolver.setSourceServers('dhcpv6', ['fd00::1']);
    expect(await run(resolver.resolve6('v6only.test'))).toEqual(['fd00::8']);
    expect(net.sent.at(-1)?.server).toBe('fd00::1');
    expect(() => resolver.setSourceServers('x', ['nope'])).toThrow(TypeError);
  });
});

describe('lookup over both families', () => {
  const cb = (resolver: Resolver, name: string, opts: object) =>
    new Promise<unknown[]>((resolve) => {
      resolver.lookup(name, opts, (...args: unknown[]) => resolve(args));
    });

  it('family 0 asks A and AAAA at once; 4 and 6 ask one', async () => {
    const { resolver, run, net } = setup();
    const all = (await run(
      resolver.promises.lookup('dual.test', { all: true }),
    )) as LookupAddress[];
    expect(all).toEqual([
      { address: '10.0.0.7', family: 4 },
      { address: 'fd00::7', family: 6 },
      { address: '2001:db8::7', family: 6 },
    ]);
    // Both went out before either answer came back (one round trip).
    expect(net.sent.map((q) => [q.qtype, q.at])).toEqual([
      [1, 0],
      [AAAA, 0],
    ]);
    const s = setup();
    expect(await s.run(s.resolver.promises.lookup('dual.test', { family: 6 }))).toEqual({
      address: 'fd00::7',
      family: 6,
    });
    expect(await s.run(s.resolver.promises.lookup('dual.test', { family: 'IPv4' }))).toEqual({
      address: '10.0.0.7',
      family: 4,
    });
    expect(await s.run(s.resolver.promises.lookup('dual.test', 6))).toEqual({
      address: 'fd00::7',
      family: 6,
    });
    expect(s.net.sent.map((q) => q.qtype)).toEqual([AAAA, 1]);
  });

  it('one family missing is no failure; both missing is ENOTFOUND (getaddrinfo)', async () => {
    const { resolver, run, fails } = setup();
    expect(await run(resolver.promises.lookup('v4only.test', { all: true }))).toEqual([
      { address: '10.0.0.8', family: 4 },
    ]);
    expect(await run(resolver.promises.lookup('v6only.test'))).toEqual({
      address: 'fd00::8',
      family: 6,
    });
    const v6 = await fails(resolver.promises.lookup('v4only.test', { family: 6 }));
    expect(v6).toMatchObject({ code: 'ENOTFOUND', syscall: 'getaddrinfo', reason: 'nodata' });
    expect(v6.message).toBe('getaddrinfo ENOTFOUND v4only.test');
    expect(await fails(resolver.promises.lookup('nx.test'))).toMatchObject({
      code: 'ENOTFOUND',
      reason: 'nxdomain',
    });
  });

  it('reports a server failure of one family over NODATA of the other, NXDOMAIN over both', async () => {
    const { resolver, fails, net } = setup({ attempts: 1 });
    const zone = encodedZone(ZONE);
    net.serve = (q) => (q.qtype === AAAA ? [{ bytes: encodeAnswer(q, { rcode: 2 }) }] : zone(q));
    // A: NODATA (no A for v6only.test); AAAA: SERVFAIL → the SERVFAIL is what matters.
    const err = await fails(resolver.promises.lookup('v6only.test'));
    // getaddrinfo's word for server trouble (glibc: SERVFAIL is TRY_AGAIN).
    expect(err).toMatchObject({
      code: 'EAI_AGAIN',
      errno: -3001,
      syscall: 'getaddrinfo',
      reason: 'servfail',
    });
    expect(await fails(resolver.promises.lookup('nx.test'))).toMatchObject({ code: 'ENOTFOUND' });
  });

  it('orders by RFC 6724 over our addresses: no global IPv6 → IPv4 first', async () => {
    const { resolver, run } = setup({ addressSelection: addresses('10.0.0.2', ['fe80::2']) });
    const all = (await run(
      resolver.promises.lookup('dual.test', { all: true }),
    )) as LookupAddress[];
    // Both IPv6 addresses would go from fe80::2 (scope mismatch); the global one's label
    // matches the source's (rule 5), the ULA's does not.
    expect(all.map((a) => a.address)).toEqual(['10.0.0.7', '2001:db8::7', 'fd00::7']);
    expect(await run(resolver.promises.lookup('dual.test'))).toEqual({
      address: '10.0.0.7',
      family: 4,
    });
  });

  it('orders by RFC 6724: a global IPv6 address → IPv6 (40) before IPv4 (35), ULA of another site last', async () => {
    const { resolver, run } = setup({
      addressSelection: addresses('10.0.0.2', ['fe80::2', '2001:db8::2']),
    });
    const all = (await run(
      resolver.promises.lookup('dual.test', { all: true }),
    )) as LookupAddress[];
    expect(all.map((a) => a.address)).toEqual(['2001:db8::7', '10.0.0.7', 'fd00::7']);
    expect(await run(resolver.promises.lookup('dual.test'))).toEqual({
      address: '2001:db8::7',
      family: 6,
    });
  });

  it('orders by RFC 6724: a ULA of our own site first (§10.6); no IPv4 address → IPv6 first', async () => {
    const site = setup({ addressSelection: addresses('10.0.0.2', ['fe80::2', 'fd00::2']) });
    const a = (await site.run(
      site.resolver.promises.lookup('dual.test', { all: true }),
    )) as LookupAddress[];
    expect(a.map((x) => x.address)).toEqual(['fd00::7', '10.0.0.7', '2001:db8::7']);
    const v6only = setup({ addressSelection: addresses(null, ['fe80::2', 'fd00::2']) });
    expect(await v6only.run(v6only.resolver.promises.lookup('dual.test'))).toEqual({
      address: 'fd00::7',
      family: 6,
    });
  });

  it('order ipv4first / ipv6first / verbatim, and verbatim: false as ipv4first', async () => {
    const { resolver, run } = setup({
      addressSelection: addresses('10.0.0.2', ['fe80::2', '2001:db8::2']),
    });
    const list = async (o: object) =>
      (
        (await run(resolver.promises.lookup('dual.test', { all: true, ...o }))) as LookupAddress[]
      ).map((a) => a.address);
    expect(await list({ order: 'ipv4first' })).toEqual(['10.0.0.7', '2001:db8::7', 'fd00::7']);
    expect(await list({ order: 'ipv6first' })).toEqual(['2001:db8::7', 'fd00::7', '10.0.0.7']);
    expect(await list({ order: 'verbatim' })).toEqual(['2001:db8::7', '10.0.0.7', 'fd00::7']);
    expect(await list({ verbatim: false })).toEqual(['10.0.0.7', '2001:db8::7', 'fd00::7']);
    expect(await list({ verbatim: false, order: 'ipv6first' })).toEqual([
      '2001:db8::7',
      'fd00::7',
      '10.0.0.7',
    ]);
    expect(await run(cb(resolver, 'dual.test', { order: 'ipv4first' }))).toEqual([
      null,
      '10.0.0.7',
      4,
    ]);
  });

  it('literals answer themselves, whatever the family (as node:dns); localhost from hosts', async () => {
    const { resolver, run, net, fails } = setup();
    expect(await run(cb(resolver, 'fd00::1', {}))).toEqual([null, 'fd00::1', 6]);
    expect(await run(cb(resolver, '::ffff:10.0.0.1', { all: true }))).toEqual([
      null,
      [{ address: '::ffff:10.0.0.1', family: 6 }],
    ]);
    expect(await run(cb(resolver, 'fd00::1', { family: 4 }))).toEqual([null, 'fd00::1', 6]);
    expect(await run(resolver.promises.lookup('localhost', { all: true }))).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
    expect(await run(resolver.promises.lookup('LOCALHOST.', { family: 6 }))).toEqual({
      address: '::1',
      family: 6,
    });
    expect(net.sent).toHaveLength(0);
    const only4 = setup({ hosts: { localhost: '127.0.0.1', 'gw.lan': ['fd00::1', '10.0.0.1'] } });
    expect(await only4.fails(only4.resolver.promises.lookup('localhost', 6))).toMatchObject({
      code: 'ENOTFOUND',
    });
    expect(await only4.run(only4.resolver.promises.lookup('gw.lan'))).toEqual({
      address: 'fd00::1',
      family: 6,
    });
    expect(only4.net.sent).toHaveLength(0);
    expect(() => setup({ hosts: { bad: 'not-an-address' } })).toThrow(TypeError);
    // Thrown at once, as node's promises.lookup validates before it starts.
    expect(() => resolver.promises.lookup('dual.test', { family: 5 as 4 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(await fails(resolver.promises.lookup('a..b'))).toMatchObject({ code: 'EBADNAME' });
  });

  it('hints: ADDRCONFIG asks only for the families we have addresses of', async () => {
    const v4 = setup({ addressSelection: addresses('10.0.0.2', ['fe80::2']) });
    expect(
      await v4.run(v4.resolver.promises.lookup('dual.test', { all: true, hints: ADDRCONFIG })),
    ).toEqual([{ address: '10.0.0.7', family: 4 }]);
    expect(v4.net.sent.map((q) => q.qtype)).toEqual([1]);
    const v6 = setup({ addressSelection: addresses(null, ['fe80::2', '2001:db8::2']) });
    expect(
      await v6.run(v6.resolver.promises.lookup('dual.test', { all: true, hints: ADDRCONFIG })),
    ).toEqual([
      { address: '2001:db8::7', family: 6 },
      { address: 'fd00::7', family: 6 },
    ]);
    expect(v6.net.sent.map((q) => q.qtype)).toEqual([AAAA]);
    // Both configured, or an explicit family: ADDRCONFIG changes nothing.
    const both = setup({ addressSelection: addresses('10.0.0.2', ['2001:db8::2']) });
    const list = (await both.run(
      both.resolver.promises.lookup('dual.test', { all: true, hints: ADDRCONFIG }),
    )) as LookupAddress[];
    expect(list).toHaveLength(3);
  });

  it('hints: V4MAPPED with family 6 maps IPv4 answers when there is no IPv6 one (or with ALL)', async () => {
    const { resolver, run, fails } = setup();
    expect(
      await run(resolver.promises.lookup('v4only.test', { family: 6, hints: V4MAPPED })),
    ).toEqual({ address: '::ffff:10.0.0.8', family: 6 });
    expect(
      await run(resolver.promises.lookup('dual.test', { family: 6, all: true, hints: V4MAPPED })),
    ).toEqual([
      { address: 'fd00::7', family: 6 },
      { address: '2001:db8::7', family: 6 },
    ]);
    expect(
      await run(
        resolver.promises.lookup('dual.test', { family: 6, all: true, hints: V4MAPPED | ALL }),
      ),
    ).toEqual([
      { address: 'fd00::7', family: 6 },
      { address: '2001:db8::7', family: 6 },
      { address: '::ffff:10.0.0.7', family: 6 },
    ]);
    // Without family 6 it maps nothing.
    expect(await run(resolver.promises.lookup('v4only.test', { hints: V4MAPPED }))).toEqual({
      address: '10.0.0.8',
      family: 4,
    });
    expect(
      await fails(resolver.promises.lookup('nx.test', { family: 6, hints: V4MAPPED })),
    ).toMatchObject({
      code: 'ENOTFOUND',
    });
    expect(() => resolver.promises.lookup('dual.test', { hints: 1 << 20 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('concurrent lookups share the A and AAAA queries', async () => {
    const { resolver, run, net } = setup();
    const [x, y, z] = await run(
      Promise.all([
        resolver.promises.lookup('dual.test', { all: true }),
        resolver.promises.lookup('DUAL.test', { family: 6, all: true }),
        resolver.resolve6('dual.test', { ttl: true }),
      ]),
    );
    expect((x as LookupAddress[]).length).toBe(3);
    expect((y as LookupAddress[]).length).toBe(2);
    expect((z as RecordWithTtl[]).map((r) => r.address)).toEqual(['fd00::7', '2001:db8::7']);
    expect(net.sent).toHaveLength(2);
  });
});
