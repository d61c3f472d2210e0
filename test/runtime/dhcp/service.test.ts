/**
 * DHCP and DNS through a whole Stack: a client stack and a "server" stack joined by an
 * in-memory link on a virtual clock. The server side is a small scripted DHCP server on UDP 67
 * and a DNS server on UDP 53, built on the stack's own sockets.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair } from '../../../src/runtime/link/memory.js';
import { createStack, type Stack } from '../../../src/runtime/stack.js';
import { DhcpService } from '../../../src/runtime/dhcp/service.js';
import { ArpProber } from '../../../src/runtime/dhcp/probe.js';
import type { DhcpEvent } from '../../../src/runtime/dhcp/client.js';
import { createStackResolver } from '../../../src/runtime/dns/stack-transport.js';
import type { Resolver } from '../../../src/runtime/dns/resolver.js';
import { DnsError } from '../../../src/runtime/dns/errors.js';
import { buildReply, ip, optU32, parseRequest, type ParsedRequest } from './fake-server.js';
import { parseQuery, zoneServer, type SentQuery } from '../dns/fake-dns.js';

const MAC_CLIENT = 0x020000000002;
const MAC_SERVER = 0x020000000001;
const SERVER = ip('10.0.0.1');
const T = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7 };

interface Seen {
  req: ParsedRequest;
  src: number;
  dst: number;
  at: number;
}

function world(
  offer = ip('10.0.0.50'),
  lease = 120,
  mask = ip('255.255.255.0'),
  routers = [SERVER],
) {
  const clock = new VirtualClock();
  const [la, lb] = createMemoryLinkPair({ macA: MAC_CLIENT, macB: MAC_SERVER, clock });
  const client: Stack = createStack({ link: la, clock });
  const server: Stack = createStack({ link: lb, clock, ip: '10.0.0.1/24' });
  const seen: Seen[] = [];
  const dhcpd = server.udp.createSocket();
  dhcpd.bind(67);
  dhcpd.setBroadcast(true);
  dhcpd.setReceiver({
    receive(d) {
      const req = parseRequest(d.bytes.slice(d.offset, d.offset + d.length));
      seen.push({ req, src: d.src, dst: d.dst, at: clock.now() });
      const base = {
        xid: req.xid,
        chaddr: req.chaddr,
        yiaddr: offer,
        serverId: SERVER,
        lease,
        mask,
        routers,
        dns: [SERVER],
      };
      let reply: Uint8Array | null = null;
      if (req.type === T.DISCOVER) reply = buildReply({ ...base, type: T.OFFER });
      if (req.type === T.REQUEST) reply = buildReply({ ...base, type: T.ACK });
      if (reply === null) return;
      // Before the client has an address, answer by broadcast (it set the broadcast flag).
      const to = req.ciaddr !== 0 ? req.ciaddr : 0xffffffff;
      dhcpd.send(reply, 68, to);
    },
  });
  const zone = zoneServer({
    'host.test': [{ name: 'host.test', type: 'A', ttl: 60, data: '10.0.0.7' }],
  });
  const named = server.udp.createSocket();
  named.bind(53);
  named.setReceiver({
    receive(d) {
      const bytes = d.bytes.slice(d.offset, d.offset + d.length);
      const q: SentQuery = {
        ...parseQuery(bytes),
        server: SERVER,
        family: 4,
        port: 53,
        srcPort: d.srcPort,
        at: 0,
        bytes,
      };
      for (const r of zone(q)) if ('bytes' in r) named.send(r.bytes, d.srcPort, d.src);
    },
  });
  const events: DhcpEvent[] = [];
  const resolver: Resolver = createStackResolver(client);
  const prober = new ArpProber(client.ethernet, client.arp, clock, {
    probes: 2,
    intervalMs: 500,
    waitMs: 500,
  });
  const dhcp = new DhcpService(client, {
    prober,
    hostname: 'pkt',
    setDnsServers: (s) => resolver.setServers(s),
    onEvent: (e) => events.push(e),
  });
  return { clock, client, server, seen, events, resolver, dhcp, named };
}

/** Advances the clock in small steps (letting promise callbacks run) until `p` settles. */
async function settle<T>(clock: VirtualClock, p: Promise<T>, maxMs = 60_000): Promise<T> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let t = 0; t < maxMs && !done; t += 10) {
    await new Promise((r) => setImmediate(r));
    clock.advance(10);
  }
  return p;
}

async function advance(clock: VirtualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    clock.advance(100);
    await new Promise((r) => setImmediate(r));
  }
}

describe('DhcpService + resolver on a Stack (in memory)', () => {
  it('gets a lease, applies it, resolves through the leased DNS server, renews, releases', async () => {
    const w = world();
    w.dhcp.start();
    await advance(w.clock, 3000);
    expect(w.events.map((e) => e.type)).toEqual(['bound']);
    expect(w.client.address).toBe(ip('10.0.0.50'));
    expect(w.client.netmask).toBe(ip('255.255.255.0'));
    expect(w.client.gateway).toBe(SERVER);
    expect(w.resolver.getServers()).toEqual(['10.0.0.1']);
    const discover = w.seen[0];
    expect([discover.req.type, discover.src, discover.dst]).toEqual([T.DISCOVER, 0, 0xffffffff]);

    expect(await settle(w.clock, w.resolver.resolve4('host.test'))).toEqual(['10.0.0.7']);

    // T1 = 60 s after the REQUEST: a unicast REQUEST from our address to the server.
    const before = w.seen.length;
    await advance(w.clock, 60_000);
    const renew = w.seen[before];
    expect([renew.req.type, renew.src, renew.dst, renew.req.ciaddr]).toEqual([
      T.REQUEST,
      ip('10.0.0.50'),
      SERVER,
      ip('10.0.0.50'),
    ]);
    expect(w.events.map((e) => e.type)).toEqual(['bound', 'renewed']);

    w.dhcp.stop();
    await advance(w.clock, 200);
    const release = w.seen[w.seen.length - 1];
    expect([release.req.type, release.src, release.dst]).toEqual([
      T.RELEASE,
      ip('10.0.0.50'),
      SERVER,
    ]);
    expect(optU32(release.req, 54)).toBe(SERVER);
    expect(w.client.address).toBe(0);
  });

  it('declines an offered address that another host answers ARP for', async () => {
    const w = world(SERVER); // offers the server's own address: its ARP layer answers the probe
    w.dhcp.start();
    await advance(w.clock, 3000);
    const types = w.seen.map((s) => s.req.type);
    expect(types.slice(0, 3)).toEqual([T.DISCOVER, T.REQUEST, T.DECLINE]);
    expect(optU32(w.seen[2].req, 50)).toBe(SERVER);
    expect(w.events[0]).toEqual({ type: 'declined', address: SERVER, serverId: SERVER });
    expect(w.client.address).toBe(0);
  });

  it('applies a lease with a broken mask or an off-subnet router safely', async () => {
    const w = world(ip('10.0.0.50'), 120, ip('255.0.255.0'), [ip('192.168.1.1')]);
    w.dhcp.start();
    await advance(w.clock, 3000);
    expect(w.client.address).toBe(ip('10.0.0.50'));
    expect(w.client.netmask).toBe(ip('255.0.0.0')); // classful fallback
    expect(w.client.gateway).toBe(0);
    expect(w.dhcp.stats()).toMatchObject({ maskIgnored: 1, gatewayIgnored: 1, configureErrors: 0 });
  });

  it('takes a 0.0.0.0 mask as absent and skips a router that is our own address', async () => {
    const w = world(ip('10.0.0.50'), 120, 0, [ip('10.0.0.50'), SERVER]);
    w.dhcp.start();
    await advance(w.clock, 3000);
    expect(w.client.address).toBe(ip('10.0.0.50'));
    expect(w.client.netmask).toBe(ip('255.0.0.0')); // classful, not "everything on-link"
    expect(w.client.gateway).toBe(SERVER);
    expect(w.dhcp.stats()).toMatchObject({ gatewayIgnored: 1, configureErrors: 0 });
  });

  it('fails fast with ECONNREFUSED when the DNS server port is closed (every resolver)', async () => {
    const w = world();
    w.dhcp.start();
    await advance(w.clock, 3000);
    w.named.close();
    // A second resolver on the same stack shares the ICMP error routing with the first.
    const other = createStackResolver(w.client, { servers: ['10.0.0.1'], attempts: 1 });
    for (const r of [w.resolver, other]) {
      const err = await settle(w.clock, r.resolve4('host.test')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DnsError);
      expect(err).toMatchObject({ code: 'ECONNREFUSED', reason: 'port-unreachable' });
    }
    expect(w.clock.now()).toBeLessThan(3000 + 2000); // refused long before any timeout
  });
});
