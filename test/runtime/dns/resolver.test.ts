import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { DnsError } from '../../../src/runtime/dns/errors.js';
import {
  Resolver,
  type LookupAddress,
  type ResolverOptions,
} from '../../../src/runtime/dns/resolver.js';
import { trySchedule } from '../../../src/runtime/dns/policy.js';
import {
  buildResponse,
  encodeName,
  FakeNet,
  ip,
  zoneServer,
  type RR,
  type SentQuery,
} from './fake-dns.js';

const NS1 = ip('10.0.0.1');
const NS2 = ip('10.0.0.2');

const ZONE: Record<string, RR[]> = {
  'host.test': [
    { name: 'host.test', type: 'A', ttl: 300, data: '10.0.0.7' },
    { name: 'host.test', type: 'A', ttl: 100, data: '10.0.0.8' },
  ],
  'www.test': [
    { name: 'www.test', type: 'CNAME', ttl: 50, data: 'web.test' },
    { name: 'web.test', type: 'CNAME', ttl: 600, data: 'host.test' },
    { name: 'host.test', type: 'A', ttl: 300, data: '10.0.0.7' },
  ],
  'alias.test': [{ name: 'alias.test', type: 'CNAME', ttl: 30, data: 'host.test' }],
  'nodata.test': [],
};

function setup(opts: Partial<ResolverOptions> = {}) {
  const clock = new VirtualClock();
  const net = new FakeNet(clock);
  net.serve = zoneServer(ZONE);
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
  /** Runs the virtual clock until `p` settles (timers fire only when nothing else can happen). */
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

describe('Resolver: answers', () => {
  it('resolves A records', async () => {
    const { resolver, run, net } = setup();
    expect(await run(resolver.resolve4('host.test'))).toEqual(['10.0.0.7', '10.0.0.8']);
    expect(net.sent).toHaveLength(1);
    expect(net.sent[0]).toMatchObject({ name: 'host.test', qtype: 1, server: NS1, port: 53 });
    expect(net.sent[0].bytes[2] & 1).toBe(1); // RD
  });

  it('follows a CNAME chain inside one response, with the smallest TTL', async () => {
    const { resolver, run, net } = setup();
    expect(await run(resolver.resolve4('WWW.test.', { ttl: true }))).toEqual([
      { address: '10.0.0.7', ttl: 50 },
    ]);
    expect(net.sent).toHaveLength(1);
  });

  it('asks again for a CNAME target the response leaves open', async () => {
    const { resolver, run, net } = setup();
    expect(await run(resolver.resolve4('alias.test', { ttl: true }))).toEqual([
      { address: '10.0.0.7', ttl: 30 },
      { address: '10.0.0.8', ttl: 30 },
    ]);
    expect(net.sent.map((q) => q.name)).toEqual(['alias.test', 'host.test']);
  });

  it('rejects CNAME loops and over-long chains', async () => {
    const loop = setup();
    loop.net.serve = zoneServer({
      'a.test': [
        { name: 'a.test', type: 'CNAME', ttl: 5, data: 'b.test' },
        { name: 'b.test', type: 'CNAME', ttl: 5, data: 'a.test' },
      ],
    });
    expect(await loop.fails(loop.resolver.resolve4('a.test'))).toMatchObject({
      code: 'EBADRESP',
      reason: 'cname-loop',
    });
    const long = setup();
    // n0 → n1 → n2 → … each answered in its own response: the walk stops after 8 hops.
    long.net.serve = (q) => {
      const n = Number(q.name.slice(1, -5));
      const rr: RR = { name: q.name, type: 'CNAME', ttl: 5, data: `n${n + 1}.test` };
      return [{ bytes: buildResponse({ id: q.id, qname: q.name, answers: [rr] }) }];
    };
    expect(await long.fails(long.resolver.resolve4('n0.test'))).toMatchObject({
      code: 'EBADRESP',
      reason: 'cname-chain-too-long',
    });
    expect(long.net.sent).toHaveLength(9);
  });

  it('reports NXDOMAIN as ENOTFOUND and NODATA as ENODATA (lookup: ENOTFOUND), Node-style', async () => {
    const { resolver, run, fails } = setup();
    const nx = await fails(resolver.resolve4('missing.test'));
    expect(nx).toMatchObject({ code: 'ENOTFOUND', syscall: 'queryA', hostname: 'missing.test' });
    expect(nx.message).toBe('queryA ENOTFOUND missing.test');
    expect(await fails(resolver.resolve4('nodata.test'))).toMatchObject({ code: 'ENODATA' });
    const viaLookup = await fails(resolver.promises.lookup('nodata.test'));
    expect(viaLookup).toMatchObject({ code: 'ENOTFOUND', syscall: 'getaddrinfo' });
    expect(await run(resolver.promises.lookup('host.test'))).toEqual({
      address: '10.0.0.7',
      family: 4,
    });
  });

  it('lookup has dns.lookup shapes: callback, family, all, literals, localhost', async () => {
    const { resolver, run } = setup();
    const cb = (name: string, opts?: object | number) =>
      new Promise<unknown[]>((resolve) => {
        const done = (...args: unknown[]) => resolve(args);
        if (opts === undefined) resolver.lookup(name, done);
        else resolver.lookup(name, opts as number, done);
      });
    expect(await run(cb('host.test'))).toEqual([null, '10.0.0.7', 4]);
    expect(await run(cb('host.test', 4))).toEqual([null, '10.0.0.7', 4]);
    expect(await run(cb('host.test', { all: true }))).toEqual([
      null,
      [
        { address: '10.0.0.7', family: 4 },
        { address: '10.0.0.8', family: 4 },
      ],
    ]);
    expect(await run(cb('192.0.2.1'))).toEqual([null, '192.0.2.1', 4]);
    expect(await run(cb('localhost'))).toEqual([null, '127.0.0.1', 4]);
    const [err] = (await run(cb('missing.test'))) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ENOTFOUND');
    expect(err.message).toBe('getaddrinfo ENOTFOUND missing.test');
    const [v6] = (await run(cb('host.test', { family: 6 }))) as [NodeJS.ErrnoException];
    expect(v6.code).toBe('ENOTFOUND');
    const all = (await run(
      resolver.promises.lookup('host.test', { all: true }),
    )) as LookupAddress[];
    expect(all.map((a) => a.address)).toEqual(['10.0.0.7', '10.0.0.8']);
  });

  it('rejects invalid names before asking anyone', async () => {
    const { resolver, fails, net } = setup();
    for (const bad of [
      '',
      'a..b',
      'x'.repeat(64) + '.test',
      `${'abc.'.repeat(64)}test`,
      'sp ace.test',
    ]) {
      expect(await fails(resolver.resolve4(bad))).toMatchObject({ code: 'EBADNAME' });
    }
    expect(net.sent).toHaveLength(0);
  });
});

describe('Resolver: cache', () => {
  it('serves answers from cache until their TTL runs out', async () => {
    const { resolver, run, net, clock } = setup();
    await run(resolver.resolve4('host.test')); // min TTL 100 s
    clock.advance(99_000);
    expect(await run(resolver.resolve4('HOST.test', { ttl: true }))).toEqual([
      { address: '10.0.0.7', ttl: 1 },
      { address: '10.0.0.8', ttl: 1 },
    ]);
    expect(net.sent).toHaveLength(1);
    clock.advance(1_000);
    await run(resolver.resolve4('host.test'));
    expect(net.sent).toHaveLength(2);
    expect(resolver.stats()).toMatchObject({ cacheHits: 1, cacheMisses: 2 });
  });

  it('caches NXDOMAIN for min(SOA TTL, SOA MINIMUM) (RFC 2308), and not without an SOA', async () => {
    const { resolver, fails, net, clock } = setup();
    await fails(resolver.resolve4('missing.test')); // SOA ttl 300, minimum 60
    clock.advance(59_999);
    expect(await fails(resolver.resolve4('missing.test'))).toMatchObject({ code: 'ENOTFOUND' });
    expect(net.sent).toHaveLength(1);
    clock.advance(1);
    await fails(resolver.resolve4('missing.test'));
    expect(net.sent).toHaveLength(2);

    const bare = setup();
    bare.net.serve = (q) => [{ bytes: buildResponse({ id: q.id, qname: q.name, rcode: 3 }) }];
    await bare.fails(bare.resolver.resolve4('gone.test'));
    await bare.fails(bare.resolver.resolve4('gone.test'));
    expect(bare.net.sent).toHaveLength(2);
  });

  it('keeps at most maxEntries names, dropping the least recently used', async () => {
    const { resolver, run, net } = setup({ cache: { maxEntries: 2 } });
    await run(resolver.resolve4('host.test'));
    await run(resolver.resolve4('www.test'));
    await run(resolver.resolve4('host.test')); // hit: host is now most recent
    await run(resolver.resolve4('alias.test')); // evicts www
    expect(net.sent).toHaveLength(4);
    await run(resolver.resolve4('host.test'));
    expect(net.sent).toHaveLength(4);
    await run(resolver.resolve4('www.test'));
    expect(net.sent).toHaveLength(5);
  });

  it('shares one query among concurrent lookups of the same name', async () => {
    const { resolver, run, net } = setup();
    const [a, b] = await run(
      Promise.all([resolver.resolve4('host.test'), resolver.resolve4('Host.Test')]),
    );
    expect(a).toEqual(b);
    expect(net.sent).toHaveLength(1);
  });
});

describe('Resolver: retries, timeouts, server failures', () => {
  it('schedules each round over all servers with doubling waits', () => {
    expect(trySchedule(2, 2, 1000)).toEqual([
      { server: 0, timeoutMs: 1000 },
      { server: 1, timeoutMs: 1000 },
      { server: 0, timeoutMs: 2000 },
      { server: 1, timeoutMs: 2000 },
    ]);
  });

  it('moves to the next server when one is silent, and times out when all are', async () => {
    const s = setup({ servers: ['10.0.0.1', '10.0.0.2'] });
    const zone = zoneServer(ZONE);
    s.net.serve = (q) => (q.server === NS2 ? zone(q) : []);
    expect(await s.run(s.resolver.resolve4('host.test'))).toEqual(['10.0.0.7', '10.0.0.8']);
    expect(s.net.sent.map((q) => [q.server, q.at])).toEqual([
      [NS1, 0],
      [NS2, 2000],
    ]);

    const t = setup({ servers: ['10.0.0.1', '10.0.0.2'] });
    t.net.serve = () => [];
    const err = await t.fails(t.resolver.resolve4('host.test'));
    expect(err).toMatchObject({ code: 'ETIMEOUT', reason: 'timeout' });
    expect(t.net.sent.map((q) => q.at)).toEqual([0, 2000, 4000, 8000]);
    expect(t.clock.now()).toBe(12_000);
    expect(t.net.open_.size).toBe(0); // every socket closed
  });

  it('tries the next server after SERVFAIL/REFUSED and reports the last failure', async () => {
    const s = setup({ servers: ['10.0.0.1', '10.0.0.2'] });
    const zone = zoneServer(ZONE);
    s.net.serve = (q) =>
      q.server === NS1
        ? [{ bytes: buildResponse({ id: q.id, qname: q.name, rcode: 2 }) }]
        : zone(q);
    expect(await s.run(s.resolver.resolve4('host.test'))).toHaveLength(2);

    const f = setup({ servers: ['10.0.0.1', '10.0.0.2'], attempts: 1 });
    f.net.serve = (q) => [
      { bytes: buildResponse({ id: q.id, qname: q.name, rcode: q.server === NS1 ? 2 : 5 }) },
    ];
    expect(await f.fails(f.resolver.resolve4('host.test'))).toMatchObject({ code: 'EREFUSED' });
    const g = setup({ attempts: 1 });
    g.net.serve = (q) => [{ bytes: buildResponse({ id: q.id, qname: q.name, rcode: 2 }) }];
    expect(await g.fails(g.resolver.resolve4('host.test'))).toMatchObject({ code: 'ESERVFAIL' });
  });

  it('reports ECONNREFUSED for port unreachable and for no servers', async () => {
    const s = setup({ attempts: 1 });
    s.net.serve = () => [{ unreachable: true }];
    expect(await s.fails(s.resolver.resolve4('host.test'))).toMatchObject({
      code: 'ECONNREFUSED',
      reason: 'port-unreachable',
    });
    const none = setup({ servers: [] });
    expect(await none.fails(none.resolver.resolve4('host.test'))).toMatchObject({
      code: 'ECONNREFUSED',
      reason: 'no-servers',
    });
  });

  it('uses a new random id and source port for every try', async () => {
    const s = setup({ attempts: 4 });
    s.net.serve = () => [];
    s.net.busy.add(49152 + 1); // a taken port is skipped, not an error
    await s.fails(s.resolver.resolve4('host.test'));
    const ids = new Set(s.net.sent.map((q) => q.id));
    const ports = new Set(s.net.sent.map((q) => q.srcPort));
    expect(ids.size).toBe(4);
    expect(ports.size).toBe(4);
    for (const p of ports) expect(p).toBeGreaterThanOrEqual(49152);
  });

  it('close() cancels queries in progress', async () => {
    const s = setup();
    s.net.serve = () => [];
    const p = s.resolver.resolve4('host.test');
    await new Promise((r) => setImmediate(r));
    s.resolver.close();
    expect(await s.fails(p)).toMatchObject({ code: 'ECANCELLED' });
    expect(s.net.open_.size).toBe(0);
  });
});

describe('Resolver: spoofed, mismatched and hostile responses', () => {
  it('ignores answers from the wrong address or port, with the wrong id or question', async () => {
    const { resolver, run, net } = setup();
    const evil = (q: SentQuery, over: Partial<Parameters<typeof buildResponse>[0]>) =>
      buildResponse({
        id: q.id,
        qname: q.name,
        answers: [{ name: q.name, type: 'A', ttl: 999, data: '6.6.6.6' }],
        ...over,
      });
    net.serve = (q) => [
      { from: ip('10.9.9.9'), bytes: evil(q, {}), delayMs: 1 },
      { fromPort: 5353, bytes: evil(q, {}), delayMs: 2 },
      { bytes: evil(q, { id: (q.id + 1) & 0xffff }), delayMs: 3 },
      { bytes: evil(q, { qname: 'other.test' }), delayMs: 4 },
      { bytes: evil(q, { qtype: 28 }), delayMs: 5 },
      { bytes: net.sent[0].bytes, delayMs: 6 }, // our own query echoed back (QR = 0)
      ...zoneServer(ZONE)(q).map((r) => ({ ...r, delayMs: 10 })),
    ];
    expect(await run(resolver.resolve4('host.test'))).toEqual(['10.0.0.7', '10.0.0.8']);
    expect(resolver.stats().ignored).toEqual({
      wrong_source: 2,
      wrong_id: 1,
      wrong_question: 2,
      not_response: 1,
    });
  });

  it('reports a truncated (TC) response as EBADRESP/truncated', async () => {
    const { resolver, fails, net } = setup({ servers: ['10.0.0.1', '10.0.0.2'] });
    net.serve = (q) => [{ bytes: buildResponse({ id: q.id, qname: q.name, tc: true }) }];
    const err = await fails(resolver.resolve4('host.test'));
    expect(err).toMatchObject({ code: 'EBADRESP', reason: 'truncated' });
    expect(err.message).toContain('truncated');
    expect(net.sent).toHaveLength(1);
  });

  it('rejects compression pointer loops, pointers past the end and oversize names in answers', async () => {
    const loop = setup({ attempts: 1 });
    // The answer's owner name is a pointer to itself, at offset 12 + question length.
    loop.net.serve = (q) => {
      const at = 12 + encodeName(q.name).length + 4;
      const raw = [0xc0 | (at >> 8), at & 255, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4];
      return [{ bytes: buildResponse({ id: q.id, qname: q.name, rawAnswers: raw, ancount: 1 }) }];
    };
    expect(await loop.fails(loop.resolver.resolve4('host.test'))).toMatchObject({
      code: 'EBADRESP',
      reason: 'pointer-loop',
    });
    const outside = setup({ attempts: 1 });
    outside.net.serve = (q) => {
      const raw = [0xc0 | 0x3f, 0xff, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4];
      return [{ bytes: buildResponse({ id: q.id, qname: q.name, rawAnswers: raw, ancount: 1 }) }];
    };
    const err = await outside.fails(outside.resolver.resolve4('host.test'));
    expect(err).toMatchObject({ code: 'EBADRESP', reason: 'bad-pointer' });
    expect(err.message).toContain('past the end');
    const big = setup({ attempts: 1 });
    big.net.serve = (q) => {
      const longName = Array.from({ length: 5 }, () => 'x'.repeat(60)).join('.');
      const rr: RR = { name: q.name, type: 'CNAME', ttl: 5, data: longName };
      return [{ bytes: buildResponse({ id: q.id, qname: q.name, answers: [rr] }) }];
    };
    expect(await big.fails(big.resolver.resolve4('host.test'))).toMatchObject({
      code: 'EBADRESP',
      reason: 'bad-name',
    });
  });

  it('skips records of other classes and types', async () => {
    const { resolver, run, net } = setup();
    net.serve = (q) => [
      {
        bytes: buildResponse({
          id: q.id,
          qname: q.name,
          answers: [
            { name: q.name, type: 'TXT', ttl: 5, data: 0 },
            { name: q.name, type: 'AAAA', ttl: 5, data: 0 },
            { name: q.name, type: 'A', ttl: 5, data: '9.9.9.9', cls: 3 },
            { name: q.name, type: 'A', ttl: 5, data: '10.1.1.1' },
          ],
        }),
      },
    ];
    expect(await run(resolver.resolve4('host.test'))).toEqual(['10.1.1.1']);
  });

  it('never throws and always settles on mutated real responses (fuzz)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(200), fc.nat(255)), { minLength: 1, maxLength: 12 }),
        fc.nat(200),
        async (flips, cut) => {
          const { resolver, run, net } = setup({ attempts: 1 });
          net.serve = (q) => {
            const bytes = buildResponse({
              id: q.id,
              qname: q.name,
              answers: [
                { name: q.name, type: 'CNAME', ttl: 5, data: 'web.test' },
                { name: 'web.test', type: 'A', ttl: 5, data: '10.0.0.7' },
              ],
              authority: [{ name: 'test', type: 'SOA', ttl: 5, data: 5 }],
            });
            // Keep id, flags and the question intact so the response is taken as ours.
            const keep = 12 + encodeName(q.name).length + 4;
            for (const [at, v] of flips) if (keep + at < bytes.length) bytes[keep + at] = v;
            return [{ bytes: bytes.subarray(0, Math.max(keep, bytes.length - cut)) }];
          };
          const outcome = await run(resolver.resolve4('host.test')).then(
            (v) => v,
            (e: unknown) => e,
          );
          if (!Array.isArray(outcome)) expect(outcome).toBeInstanceOf(DnsError);
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });

  it('never throws and always settles on arbitrary bytes carrying our id (fuzz)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        async (tail, keepQuestion) => {
          const { resolver, run, net } = setup({ attempts: 1 });
          net.serve = (q) => {
            const head = buildResponse({ id: q.id, qname: q.name });
            const prefix = keepQuestion ? head : head.subarray(0, 4);
            const bytes = new Uint8Array(prefix.length + tail.length);
            bytes.set(prefix);
            bytes.set(tail, prefix.length);
            return [{ bytes }];
          };
          const outcome = await run(resolver.resolve4('host.test')).then(
            (v) => v,
            (e: unknown) => e,
          );
          if (!Array.isArray(outcome)) expect(outcome).toBeInstanceOf(DnsError);
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });
});
