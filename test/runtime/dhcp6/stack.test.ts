/**
 * DHCPv6 through whole stacks: a client stack (`createStack({ dhcp6 })`) and a "server" stack
 * joined by an in-memory link on a virtual clock. The server side is a scripted DHCPv6 server on
 * UDP 547 (built from the generated encoders) and, for the auto mode, router advertisements
 * with the M or O flag built with the generated ICMPv6 encoder.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { icmpv6, ipv4 } from '../../../src/generated/index.js';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair } from '../../../src/runtime/link/memory.js';
import { createStack, type Stack } from '../../../src/runtime/stack.js';
import { IPV6_SEND_HEADROOM } from '../../../src/runtime/layers.js';
import { ALL_NODES, ipv6Text } from '../../../src/runtime/ipv6/address.js';
import {
  ALL_DHCP_RELAY_AGENTS_AND_SERVERS,
  dhcp6LogRecord,
  type Dhcp6Event,
  type Dhcp6ServiceOptions,
} from '../../../src/runtime/dhcp6/index.js';
import { MSG, answer, domainList, iaNa, parseClient, type ClientMessage } from './server.js';

const MAC_CLIENT = 0x020000000002;
const MAC_SERVER = 0x020000000001;

function rng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t * 1664525 + 1013904223) >>> 0;
    return t / 4294967296;
  };
}

interface Seen {
  msg: ClientMessage;
  src: string;
  dst: string;
  at: number;
}

interface ServerScript {
  /** Addresses handed out, one per Solicit in turn (the last repeats). */
  offers?: string[];
  preferred?: number;
  valid?: number;
  t1?: number;
  t2?: number;
  /** Answer Renew and Rebind (default true). */
  renew?: boolean;
  /** The server also holds this address (a DAD collision for the client). */
  serverStatic?: string;
  /** Answer nothing (set it to go quiet mid-test). */
  silent?: boolean;
}

function world(dhcp6: Dhcp6ServiceOptions, script: ServerScript = {}) {
  const clock = new VirtualClock();
  const [la, lb] = createMemoryLinkPair({ macA: MAC_CLIENT, macB: MAC_SERVER, clock });
  const events: Dhcp6Event[] = [];
  const dnsSeen: string[][] = [];
  const client: Stack = createStack({
    link: la,
    clock,
    ipv6: { nd: { random: rng(1), addressMode: 'eui64', slaac: false } },
    dhcp6: {
      random: rng(5),
      ...dhcp6,
      onEvent: (e) => events.push(e),
      onDnsServers: (servers) => dnsSeen.push(servers),
    },
  });
  const server: Stack = createStack({
    link: lb,
    clock,
    ipv6: { nd: { random: rng(2), addressMode: 'eui64', slaac: false } },
    ip6:
      script.serverStatic === undefined
        ? 'fd00::1/64'
        : ['fd00::1/64', `${script.serverStatic}/64`],
  });
  const parts = server.ipv6!;
  parts.ip.joinGroup(ALL_DHCP_RELAY_AGENTS_AND_SERVERS);
  const seen: Seen[] = [];
  const offers = script.offers ?? ['fd00::100'];
  let solicits = 0;
  const sock = server.udp.createSocket('udp6', { ipv6Only: true });
  sock.bind(547);
  sock.setReceiver({
    receive(d) {
      const msg = parseClient(d.bytes.slice(d.offset, d.offset + d.length));
      seen.push({ msg, src: ipv6Text(d.src6), dst: ipv6Text(d.dst6), at: clock.now() });
      if (msg.type === MSG.Solicit) solicits++;
      const offered = offers[Math.min(Math.max(solicits - 1, 0), offers.length - 1)];
      const ia = iaNa(msg.ia?.iaid ?? 0, script.t1 ?? 100, script.t2 ?? 160, [
        { address: offered, preferred: script.preferred ?? 200, valid: script.valid ?? 300 },
      ]);
      const config = [
        { kind: 'DnsServers' as const, servers: ['fd00::53'] },
        domainList(['lab.test']),
      ];
      let reply: Uint8Array | null = null;
      if (script.silent === true) return;
      if (msg.type === MSG.Solicit) {
        reply = answer(msg, MSG.Advertise, [ia]);
      } else if (msg.type === MSG.Request) {
        reply = answer(msg, MSG.Reply, [ia, ...config]);
      } else if (msg.type === MSG.Renew || msg.type === MSG.Rebind) {
        if (script.renew !== false) reply = answer(msg, MSG.Reply, [ia, ...config]);
      } else if (msg.type === MSG.Decline || msg.type === MSG.Release) {
        reply = answer(msg, MSG.Reply, []);
      } else if (msg.type === MSG.InformationRequest) {
        reply = answer(msg, MSG.Reply, [
          ...config,
          { kind: 'InformationRefreshTime', seconds: 900 },
        ]);
      }
      if (reply !== null) sock.send(reply, 546, ipv6Text(d.src6));
    },
  });
  /** Sends a router advertisement from the server's link-local address. */
  const advertise = (managed: boolean, other: boolean): void => {
    const tx = new Uint8Array(IPV6_SEND_HEADROOM + 128);
    // fd00::/64 on-link, not for SLAAC: addresses come from DHCPv6 (a stateful network).
    const prefix = new Uint8Array(64);
    const prefixLength = icmpv6.encodeNdOptions(
      [
        {
          kind: 'PrefixInformation',
          prefixLength: 64,
          onLink: 1,
          autonomous: 0,
          routerAddress: 0,
          reserved1: 0,
          validLifetime: 86400,
          preferredLifetime: 14400,
          reserved2: 0,
          prefix: 'fd00::',
        },
      ],
      prefix,
      0,
    );
    const src = parts.ip.linkLocal()!.address;
    const n = icmpv6.encodeNdRouterAdvertisement(
      {
        type: icmpv6.Icmpv6Type.RouterAdvertisement,
        code: 0,
        checksum: undefined,
        curHopLimit: 64,
        managed: managed ? 1 : 0,
        other: other ? 1 : 0,
        homeAgent: 0,
        preference: 0,
        proxy: 0,
        reserved: 0,
        routerLifetime: 1800,
        reachableTime: 0,
        retransTimer: 0,
        options: prefix.subarray(0, prefixLength),
      },
      tx,
      IPV6_SEND_HEADROOM,
      0,
      src,
      0,
      ALL_NODES,
      0,
    );
    parts.ip.send(ALL_NODES, 0, ipv4.IpProtocol.ICMPv6, tx, IPV6_SEND_HEADROOM, n, src, 255);
  };
  const dhcpAddresses = () =>
    client
      .ipv6!.ip.addressList.filter((e) => e.origin === 'dhcpv6')
      .map((e) => [ipv6Text(e.address), e.prefixLength, e.state]);
  return { clock, client, server, seen, events, dnsSeen, sock, advertise, dhcpAddresses, script };
}

describe('DHCPv6 on a stack (in memory)', () => {
  it('stateful: the leased address becomes a preferred /128 after DAD, reachable from the server; DNS servers exposed', () => {
    const w = world({ mode: 'stateful' });
    w.clock.advance(10_000);
    expect(w.seen.map((s) => s.msg.type)).toEqual([MSG.Solicit, MSG.Request]);
    // From our link-local address to ff02::1:2.
    expect(w.seen[0].src).toMatch(/^fe80::/);
    expect(w.seen[0].dst).toBe('ff02::1:2');
    expect(w.dhcpAddresses()).toEqual([['fd00::100', 128, 'preferred']]);
    expect(w.events.map((e) => e.type)).toContain('bound');
    expect(w.client.ipv6DnsServers()).toEqual(['fd00::53']);
    expect(w.client.dns.getServers()).toEqual(['fd00::53']);
    expect(w.client.dhcp6?.domains).toEqual(['lab.test']);
    expect(w.dnsSeen).toEqual([['fd00::53']]);
    const lease = w.events.find((e) => e.type === 'bound');
    expect(dhcp6LogRecord(lease!)).toMatchObject({
      event: 'dhcp6.lease',
      addresses: ['fd00::100/128'],
      dns: ['fd00::53'],
      domains: ['lab.test'],
      t1: 100,
      t2: 160,
    });
    // With the prefix on-link (from an RA), the server reaches the address over UDP.
    w.advertise(false, false);
    w.clock.advance(100);
    const got: string[] = [];
    const sink = w.client.udp.createSocket('udp6');
    sink.bind(9000);
    sink.on('message', (m, rinfo) => got.push(`${rinfo.address} ${m.toString()}`));
    w.server.udp.createSocket('udp6').send('hi', 9000, 'fd00::100');
    w.clock.advance(1000);
    expect(got).toEqual(['fd00::1 hi']);
    expect(w.client.stats().dhcp6).toMatchObject({ sent: 2, received: 2, accepted: 2, drops: {} });
  });

  it('renews with the server at T1, and an address not renewed leaves the IPv6 layer at its valid lifetime', () => {
    const w = world(
      { mode: 'stateful' },
      { t1: 50, t2: 80, preferred: 90, valid: 120, renew: false },
    );
    w.clock.advance(5_000);
    expect(w.dhcpAddresses()).toEqual([['fd00::100', 128, 'preferred']]);
    w.script.silent = true;
    w.clock.advance(100_000);
    expect(w.seen.some((s) => s.msg.type === MSG.Renew)).toBe(true);
    expect(w.seen.some((s) => s.msg.type === MSG.Rebind)).toBe(true);
    expect(w.dhcpAddresses()).toEqual([['fd00::100', 128, 'deprecated']]);
    w.clock.advance(20_000);
    expect(w.dhcpAddresses()).toEqual([]);
    expect(w.events.some((e) => e.type === 'expired')).toBe(true);
    expect(w.client.ipv6DnsServers()).toEqual([]);
    expect(w.client.dns.getServers()).toEqual([]);
  });

  it('declines an address another node holds (DAD collision) and takes the next one', () => {
    const w = world(
      { mode: 'stateful' },
      { offers: ['fd00::100', 'fd00::101'], serverStatic: 'fd00::100' },
    );
    w.clock.advance(20_000);
    const decline = w.seen.find((s) => s.msg.type === MSG.Decline);
    expect(decline?.msg.ia?.addresses).toEqual(['fd00::100']);
    expect(decline?.msg.serverId).not.toBeNull();
    expect(w.events.map((e) => e.type)).toEqual(expect.arrayContaining(['declined', 'bound']));
    expect(w.dhcpAddresses()).toEqual([['fd00::101', 128, 'preferred']]);
  });

  it('sends Release when the stack closes', async () => {
    const w = world({ mode: 'stateful' });
    w.clock.advance(10_000);
    expect(w.dhcpAddresses()).toHaveLength(1);
    await w.client.close();
    w.clock.advance(100);
    const release = w.seen.find((s) => s.msg.type === MSG.Release);
    expect(release?.msg.ia?.addresses).toEqual(['fd00::100']);
  });

  it('auto: an RA with the M flag starts the stateful client', () => {
    const w = world({});
    w.clock.advance(10_000);
    expect(w.seen).toEqual([]);
    w.advertise(true, false);
    w.clock.advance(10_000);
    expect(w.events[0]).toEqual({ type: 'started', mode: 'stateful' });
    expect(w.dhcpAddresses()).toEqual([['fd00::100', 128, 'preferred']]);
  });

  it('auto: an RA with only the O flag asks Information-Request for DNS, then M upgrades to stateful', () => {
    const w = world({});
    w.clock.advance(5_000);
    w.advertise(false, true);
    w.clock.advance(5_000);
    expect(w.seen.map((s) => s.msg.type)).toEqual([MSG.InformationRequest]);
    expect(w.client.ipv6DnsServers()).toEqual(['fd00::53']);
    expect(w.dhcpAddresses()).toEqual([]);
    const info = w.events.find((e) => e.type === 'informed');
    expect(dhcp6LogRecord(info!)).toMatchObject({
      event: 'dhcp6.info',
      dns: ['fd00::53'],
      refreshS: 900,
    });
    w.advertise(true, true);
    w.clock.advance(5_000);
    expect(w.dhcpAddresses()).toEqual([['fd00::100', 128, 'preferred']]);
  });

  it('waits for the link-local address before sending anything', () => {
    const w = world({ mode: 'stateless' });
    // Link-local DAD takes up to 1 s of delay plus 1 s of waiting; nothing goes out before.
    expect(w.client.ipv6!.ip.linkLocal()).toBeNull();
    w.clock.advance(400);
    expect(w.client.stats().dhcp6?.sent ?? 0).toBe(0);
    w.clock.advance(5_000);
    expect(w.seen).toHaveLength(1);
    expect(w.seen[0].src).toBe(ipv6Text(w.client.ipv6!.ip.linkLocal()!.address));
  });

  it('random datagrams to port 546 are counted and never throw', () => {
    const w = world({ mode: 'stateful' });
    w.clock.advance(10_000);
    const target = ipv6Text(w.client.ipv6!.ip.linkLocal()!.address);
    const hostile = w.server.udp.createSocket('udp6', { ipv6Only: true });
    // A datagram not from port 547 is counted apart.
    hostile.bind(5000);
    hostile.send(Uint8Array.from([7, 0, 0, 0]), 546, target);
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 30 }), (datagrams) => {
        const before = w.client.stats().dhcp6!.received as number;
        for (const d of datagrams) w.sock.send(d, 546, target);
        w.clock.advance(10);
        expect(w.client.stats().dhcp6!.received).toBe(before + datagrams.length);
      }),
      { numRuns: 50, seed: 11 },
    );
    expect(w.client.stats().dhcp6!.drops).toMatchObject({ wrongSourcePort: 1 });
    expect(w.dhcpAddresses()).toEqual([['fd00::100', 128, 'preferred']]);
  });
});
