/**
 * Redirects (RFC 4861 §8): a router tells us of a better first hop for one destination, or that
 * the destination is on-link. Only one from the router we now use for it counts (§8.1); the
 * table of redirected destinations is bounded and its entries expire. Messages are built with
 * the generated encoders and handed to A's IPv6 layer.
 */
import { describe, expect, it } from 'vitest';
import { parseIpv6, writeMac } from '../../../src/codec/address.js';
import { ethernet, icmpv6, ipv4, ipv6 } from '../../../src/generated/index.js';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair } from '../../../src/runtime/link/memory.js';
import { createStack, type Stack } from '../../../src/runtime/stack.js';
import { pair, v6 } from './harness.js';

const T = icmpv6.Icmpv6Type;
const A = parseIpv6('fd00::a') as Uint8Array;
const ROUTER = parseIpv6('fe80::1') as Uint8Array;
const OTHER_ROUTER = parseIpv6('fe80::2') as Uint8Array;
const BETTER = parseIpv6('fe80::3') as Uint8Array;
const FAR = parseIpv6('2001:db8::99') as Uint8Array;
const MAC_ROUTER = 0x02000000cc01;
const MAC_BETTER = 0x02000000cc03;

function mac(value: number): Uint8Array {
  const b = new Uint8Array(6);
  writeMac(b, 0, value);
  return b;
}

/** An ICMPv6 message of `body` bytes from `src` to `dst`, written by `write` at offset 40. */
function packet(
  src: Uint8Array,
  dst: Uint8Array,
  body: number,
  write: (out: Uint8Array) => void,
  hopLimit = 255,
) {
  const out = new Uint8Array(40 + body);
  write(out);
  ipv6.encodeIpv6(
    {
      version: 6,
      trafficClass: 0,
      flowLabel: 0,
      nextHeader: ipv4.IpProtocol.ICMPv6,
      hopLimit,
      src,
      dst,
    },
    out,
    0,
    body,
  );
  return out;
}

function routerAdvertisement(from: Uint8Array, fromMac: number): Uint8Array {
  const options = new Uint8Array(8);
  icmpv6.encodeNdOptions([{ kind: 'SourceLinkLayerAddress', address: mac(fromMac) }], options, 0);
  const dst = parseIpv6('ff02::1') as Uint8Array;
  return packet(from, dst, 16 + options.length, (out) =>
    icmpv6.encodeNdRouterAdvertisement(
      {
        type: T.RouterAdvertisement,
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
        options,
      },
      out,
      40,
      0,
      from,
      0,
      dst,
      0,
    ),
  );
}

function redirect(
  from: Uint8Array,
  target: Uint8Array,
  destination: Uint8Array,
  targetMac: number | null,
  hopLimit = 255,
): Uint8Array {
  const options = new Uint8Array(targetMac === null ? 0 : 8);
  if (targetMac !== null)
    icmpv6.encodeNdOptions(
      [{ kind: 'TargetLinkLayerAddress', address: mac(targetMac) }],
      options,
      0,
    );
  return packet(
    from,
    A,
    40 + options.length,
    (out) =>
      icmpv6.encodeNdRedirect(
        { type: T.Redirect, code: 0, reserved: 0, target, destination, options },
        out,
        40,
        0,
        from,
        0,
        A,
        0,
      ),
    hopLimit,
  );
}

/** The destination MAC of the last IPv6 frame A sent. */
function lastIpv6Mac(frames: Uint8Array[]): number {
  const eth = new ethernet.EthernetView();
  for (let i = frames.length - 1; i >= 0; i--) {
    if (eth.wrap(frames[i]) === null && eth.etherType === ethernet.EtherType.IPv6) return eth.dst;
  }
  return -1;
}

function setup() {
  const p = pair();
  p.clock.advance(3000);
  const a = v6(p.a);
  const deliver = (bytes: Uint8Array) => a.ip.receive(bytes, 0, bytes.length);
  deliver(routerAdvertisement(ROUTER, MAC_ROUTER));
  const ping = () => a.icmp.sendEchoRequest(FAR, 1, 1, new Uint8Array(8));
  return { ...p, a, deliver, ping };
}

describe('redirects (RFC 4861 §8)', () => {
  it('sends to the better first hop a redirect names, with its link address from the option', () => {
    const s = setup();
    s.ping();
    expect(lastIpv6Mac(s.wire.a)).toBe(MAC_ROUTER);
    s.deliver(redirect(ROUTER, BETTER, FAR, MAC_BETTER));
    expect(s.a.icmp.stats.redirectsAccepted).toBe(1);
    expect(s.a.ip.redirectFor(FAR)).toEqual(BETTER);
    s.ping();
    expect(lastIpv6Mac(s.wire.a)).toBe(MAC_BETTER);
    // The target is a router now in the neighbor cache (STALE until used).
    expect(s.a.neighbors.get(BETTER)?.isRouter).toBe(true);
  });

  it('treats a redirect to the destination itself as "on-link"', () => {
    const s = setup();
    s.deliver(redirect(ROUTER, FAR, FAR, 0x02000000dd99));
    expect(s.a.ip.firstHop(FAR, 0)).toEqual(FAR);
    s.ping();
    expect(lastIpv6Mac(s.wire.a)).toBe(0x02000000dd99);
    expect(s.a.neighbors.get(FAR)?.isRouter).toBe(false);
  });

  it('refuses what §8.1 refuses, counting each', () => {
    const s = setup();
    const bad = [
      // Not from the first hop we use for the destination.
      redirect(OTHER_ROUTER, BETTER, FAR, MAC_BETTER),
      // Source not link-local.
      redirect(parseIpv6('fd00::1') as Uint8Array, BETTER, FAR, MAC_BETTER),
      // Target neither link-local nor the destination.
      redirect(ROUTER, parseIpv6('fd00::77') as Uint8Array, FAR, null),
      // Multicast destination.
      redirect(ROUTER, BETTER, parseIpv6('ff0e::1') as Uint8Array, null),
      // An on-link destination has no router to be redirected from.
      redirect(ROUTER, BETTER, parseIpv6('fd00::b') as Uint8Array, null),
    ];
    for (const b of bad) s.deliver(b);
    expect(s.a.icmp.stats.drops.badRedirect).toBe(bad.length);
    // Hop limit below 255: it crossed a router (§8.1, as every ND message).
    const badNd = s.a.icmp.stats.drops.badNd;
    s.deliver(redirect(ROUTER, BETTER, FAR, MAC_BETTER, 64));
    expect(s.a.icmp.stats.drops.badNd).toBe(badNd + 1);
    expect(s.a.icmp.stats.redirectsAccepted).toBe(0);
    expect(s.a.ip.redirectFor(FAR)).toBeNull();
  });

  it('forgets a redirect after 10 minutes, and when its target is found unreachable', () => {
    const s = setup();
    s.deliver(redirect(ROUTER, BETTER, FAR, MAC_BETTER));
    s.clock.advance(10 * 60_000 + 1);
    expect(s.a.ip.redirectFor(FAR)).toBeNull();
    expect(s.a.ip.firstHop(FAR, 0)).toEqual(ROUTER);
    // Again, then nobody answers the better router's probes: NUD gives up on it.
    s.deliver(routerAdvertisement(ROUTER, MAC_ROUTER));
    s.deliver(redirect(ROUTER, BETTER, FAR, MAC_BETTER));
    s.ping();
    s.clock.advance(60_000);
    expect(s.a.neighbors.get(BETTER)).toBeUndefined();
    expect(s.a.ip.redirectFor(FAR)).toBeNull();
  });

  it('keeps at most destinationCacheSize redirected destinations under a flood', () => {
    const clock = new VirtualClock();
    const [la] = createMemoryLinkPair({ macA: 0x020000000a0a, macB: 0x020000000b0b, clock });
    const stack: Stack = createStack({
      link: la,
      clock,
      ipv6: { destinationCacheSize: 8, nd: { addressMode: 'eui64' } },
      ip6: 'fd00::a/64',
    });
    clock.advance(3000);
    const ip = v6(stack).ip;
    ip.receive(routerAdvertisement(ROUTER, MAC_ROUTER), 0, 40 + 24);
    const dests = Array.from(
      { length: 100 },
      (_, i) => parseIpv6(`2001:db8::${i + 1}`) as Uint8Array,
    );
    for (const d of dests) {
      const r = redirect(ROUTER, BETTER, d, MAC_BETTER);
      ip.receive(r, 0, r.length);
    }
    expect(v6(stack).icmp.stats.redirectsAccepted).toBe(100);
    expect(dests.filter((d) => ip.redirectFor(d) !== null)).toHaveLength(8);
  });
});
