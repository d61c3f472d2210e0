/**
 * The resolver on real stacks in memory (virtual clock): queries to an IPv6 server on another
 * stack over the stacks' UDP, ICMPv6 port unreachable failing a try fast, RDNSS servers from a
 * router advertisement, and lookup ordered by RFC 6724 over each stack's own address tables.
 */
import { ADDRCONFIG } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { ethernet, icmpv6, ipv4, ipv6, udp } from '../../../src/generated/index.js';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { DnsError } from '../../../src/runtime/dns/errors.js';
import { Resolver, type LookupAddress } from '../../../src/runtime/dns/resolver.js';
import {
  createStackResolver,
  stackAddressSelection,
} from '../../../src/runtime/dns/stack-transport.js';
import { ALL_NODES, ipv6Text } from '../../../src/runtime/ipv6/address.js';
import { IPV6_SEND_HEADROOM } from '../../../src/runtime/layers.js';
import { createMemoryLinkPair } from '../../../src/runtime/link/memory.js';
import { createStack, type Stack, type StackOptions } from '../../../src/runtime/stack.js';
import { encodedZone, type ZoneRecord } from './encoded-zone.js';
import { FakeNet, parseQuery, type SentQuery } from './fake-dns.js';

const ZONE: Record<string, ZoneRecord[]> = {
  'dual.test': [
    { name: 'dual.test', type: 'A', ttl: 300, data: '10.0.0.7' },
    { name: 'dual.test', type: 'AAAA', ttl: 300, data: 'fd00::7' },
    { name: 'dual.test', type: 'AAAA', ttl: 300, data: '2001:db8::7' },
  ],
};

function rng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t * 1664525 + 1013904223) >>> 0;
    return t / 4294967296;
  };
}

type Config = Omit<StackOptions, 'link' | 'clock'>;

function pair(a: Config, b: Config) {
  const clock = new VirtualClock();
  const [la, lb] = createMemoryLinkPair({ macA: 0x020000000a0a, macB: 0x020000000b0b, clock });
  const frames: Uint8Array[] = [];
  const send = la.send.bind(la);
  la.send = (bytes: Uint8Array, offset: number, length: number): boolean => {
    frames.push(bytes.slice(offset, offset + length));
    return send(bytes, offset, length);
  };
  const v6 = (seed: number) => ({
    nd: { random: rng(seed), addressMode: 'eui64' as const },
    neighbors: { random: rng(seed + 10) },
  });
  const sa = createStack({ link: la, clock, ipv6: v6(1), ...a });
  const sb = createStack({ link: lb, clock, ipv6: v6(2), ...b });
  clock.advance(3000); // DAD
  return { clock, a: sa, b: sb, frames };
}

/** A DNS server on `stack` port 53, both families, answering from ZONE. */
function serveDns(stack: Stack): SentQuery[] {
  const seen: SentQuery[] = [];
  const zone = encodedZone(ZONE);
  const socket = stack.udp.createSocket();
  socket.bind(53);
  socket.setReceiver({
    receive(d) {
      const bytes = d.bytes.slice(d.offset, d.offset + d.length);
      const from = d.family === 'IPv6' ? ipv6Text(d.src6) : d.src;
      const q: SentQuery = {
        ...parseQuery(bytes),
        server: from,
        family: d.family === 'IPv6' ? 6 : 4,
        port: 53,
        srcPort: d.srcPort,
        at: 0,
        bytes,
      };
      seen.push(q);
      for (const r of zone(q)) if ('bytes' in r) socket.send(r.bytes, d.srcPort, from);
    },
  });
  return seen;
}

async function run<T>(clock: VirtualClock, p: Promise<T>): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 10_000 && !done; i++) {
    await new Promise((r) => setImmediate(r));
    if (!done && !clock.advanceToNextTimer()) {
      await new Promise((r) => setImmediate(r));
      if (!done) throw new Error('stuck with no timer pending');
    }
  }
  return p;
}

/** The UDP datagrams to port 53 in `frames`, as [IP version, destination]. */
function queriesOnWire(frames: Uint8Array[]): Array<[number, string]> {
  const eth = new ethernet.EthernetView();
  const ip6 = new ipv6.Ipv6View();
  const ip4 = new ipv4.Ipv4View();
  const u = new udp.UdpView();
  const out: Array<[number, string]> = [];
  for (const f of frames) {
    if (eth.wrap(f) !== null) continue;
    if (eth.etherType === ethernet.EtherType.IPv6) {
      if (ip6.wrap(f, eth.payloadOffset, eth.payloadLength) !== null) continue;
      if (ip6.nextHeader !== ipv4.IpProtocol.UDP) continue;
      if (u.wrap(f, ip6.payloadOffset, ip6.payloadLength) !== null || u.dstPort !== 53) continue;
      out.push([6, ipv6Text(f, ip6.dstOffset)]);
    } else if (eth.etherType === ethernet.EtherType.IPv4) {
      if (ip4.wrap(f, eth.payloadOffset, eth.payloadLength) !== null) continue;
      if (ip4.protocol !== ipv4.IpProtocol.UDP) continue;
      if (u.wrap(f, ip4.payloadOffset, ip4.payloadLength) !== null || u.dstPort !== 53) continue;
      out.push([4, ip4.toJSON().dst]);
    }
  }
  return out;
}

describe('the resolver over the stack, IPv6 transport', () => {
  it('asks an IPv6 server over UDP/IPv6 and gets AAAA and A answers', async () => {
    const { clock, a, b, frames } = pair(
      { ip: '10.0.0.1/24', ip6: 'fd00::a/64' },
      { ip: '10.0.0.2/24', ip6: 'fd00::b/64' },
    );
    const seen = serveDns(b);
    a.dns.setServers(['fd00::b']);
    expect(await run(clock, a.dns.resolve6('dual.test'))).toEqual(['fd00::7', '2001:db8::7']);
    expect(await run(clock, a.dns.resolve4('dual.test'))).toEqual(['10.0.0.7']);
    expect(seen.map((q) => [q.family, q.server, q.qtype])).toEqual([
      [6, 'fd00::a', 28],
      [6, 'fd00::a', 1],
    ]);
    expect(queriesOnWire(frames)).toEqual([
      [6, 'fd00::b'],
      [6, 'fd00::b'],
    ]);
    // And AAAA from an IPv4 server.
    const over4 = createStackResolver(a, { servers: ['10.0.0.2'] });
    expect(await run(clock, over4.resolve6('dual.test'))).toEqual(['fd00::7', '2001:db8::7']);
    expect(queriesOnWire(frames).at(-1)).toEqual([4, '10.0.0.2']);
  });

  it('fails a try at once on ICMPv6 port unreachable (no server on port 53)', async () => {
    const { clock, a } = pair(
      { ip: '10.0.0.1/24', ip6: 'fd00::a/64' },
      { ip: '10.0.0.2/24', ip6: 'fd00::b/64' },
    );
    a.dns.setServers(['fd00::b']);
    const start = clock.now();
    const err = await run(clock, a.dns.resolve6('dual.test')).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DnsError);
    expect(err).toMatchObject({
      code: 'ECONNREFUSED',
      reason: 'port-unreachable',
      server: 'fd00::b',
    });
    // Both rounds failed by ICMPv6, long before the first try's 2 s timeout.
    expect(clock.now() - start).toBeLessThan(2000);
    expect(a.dns.stats().timeouts).toBe(0);
  });

  it('learns RDNSS servers from a router advertisement and asks them', async () => {
    const { clock, a, b } = pair({ ip6: 'fd00::a/64' }, { ip6: 'fd00::b/64' });
    const seen = serveDns(b);
    expect(a.dns.getServers()).toEqual([]);
    sendRouterAdvertisement(b, ['fd00::b', 'fd00::53'], 600);
    clock.advance(1);
    expect(a.dns.getServers()).toEqual(['fd00::b', 'fd00::53']);
    expect(await run(clock, a.dns.resolve6('dual.test'))).toEqual(['fd00::7', '2001:db8::7']);
    expect(seen).toHaveLength(1);
    // The option's lifetime ends them; a resolver made with rdnss: false ignores RAs.
    const other = createStackResolver(a, { rdnss: false });
    sendRouterAdvertisement(b, ['fd00::99'], 600);
    clock.advance(1);
    expect(other.getServers()).toEqual([]);
    expect(a.dns.getServers()).toEqual(['fd00::99']);
    clock.advance(600_000);
    expect(a.dns.getServers()).toEqual([]);
  });
});

/** Stack `b` advertises itself as a router with an RDNSS option (RFC 8106). */
function sendRouterAdvertisement(b: Stack, servers: string[], lifetimeS: number): void {
  const parts = b.ipv6;
  if (parts === null) throw new Error('no IPv6');
  const ll = parts.ip.linkLocal();
  if (ll === null) throw new Error('no link-local address');
  const options = new Uint8Array(256);
  const n = icmpv6.encodeNdOptions(
    [{ kind: 'RecursiveDnsServer', reserved: 0, lifetime: lifetimeS, servers }],
    options,
    0,
  );
  const buf = new Uint8Array(IPV6_SEND_HEADROOM + 512);
  const len = icmpv6.encodeNdRouterAdvertisement(
    {
      type: icmpv6.Icmpv6Type.RouterAdvertisement,
      code: 0,
      curHopLimit: 64,
      managed: 0,
      other: 0,
      homeAgent: 0,
      preference: 0,
      proxy: 0,
      reserved: 0,
      routerLifetime: 1800,
      reachableTime: 0,
      retransTimer: 0,
      options: options.slice(0, n),
    },
    buf,
    IPV6_SEND_HEADROOM,
    0,
    ll.address,
    0,
    ALL_NODES,
    0,
  );
  parts.ip.send(
    ALL_NODES,
    0,
    ipv4.IpProtocol.ICMPv6,
    buf,
    IPV6_SEND_HEADROOM,
    len,
    ll.address,
    255,
  );
}

describe('lookup ordered by the stack own addresses (RFC 6724)', () => {
  async function lookupOrder(config: Config, hints = 0): Promise<string[]> {
    const { clock, a } = pair(config, { ip: '10.0.0.9/24' });
    const net = new FakeNet(clock);
    net.serve = encodedZone(ZONE);
    const resolver = new Resolver({
      clock,
      transport: net,
      servers: ['10.0.0.9'],
      addressSelection: stackAddressSelection(a),
    });
    const all = (await run(
      clock,
      resolver.promises.lookup('dual.test', { all: true, hints }),
    )) as LookupAddress[];
    return all.map((x) => x.address);
  }

  it('IPv4 and only a link-local IPv6 address: IPv4 first', async () => {
    expect(await lookupOrder({ ip: '10.0.0.1/24' })).toEqual([
      '10.0.0.7',
      '2001:db8::7',
      'fd00::7',
    ]);
  });

  it('a global IPv6 address: global IPv6 first, then IPv4, then the other site ULA', async () => {
    expect(await lookupOrder({ ip: '10.0.0.1/24', ip6: '2001:db8::a/64' })).toEqual([
      '2001:db8::7',
      '10.0.0.7',
      'fd00::7',
    ]);
  });

  it('a ULA in fd00::/48: its own site first (§10.6), then IPv4', async () => {
    expect(await lookupOrder({ ip: '10.0.0.1/24', ip6: 'fd00::a/64' })).toEqual([
      'fd00::7',
      '10.0.0.7',
      '2001:db8::7',
    ]);
  });

  it('ADDRCONFIG: a link-local IPv6 address does not count, a ULA does', async () => {
    expect(await lookupOrder({ ip: '10.0.0.1/24' }, ADDRCONFIG)).toEqual(['10.0.0.7']);
    expect(await lookupOrder({ ip6: 'fd00::a/64' }, ADDRCONFIG)).toEqual([
      'fd00::7',
      '2001:db8::7',
    ]);
  });

  it('no IPv4 address: IPv6 first; IPv6 off: IPv4 first', async () => {
    expect(await lookupOrder({ ip6: '2001:db8::a/64' })).toEqual([
      '2001:db8::7',
      'fd00::7',
      '10.0.0.7',
    ]);
    expect(await lookupOrder({ ip: '10.0.0.1/24', ipv6: false })).toEqual([
      '10.0.0.7',
      'fd00::7',
      '2001:db8::7',
    ]);
  });
});
