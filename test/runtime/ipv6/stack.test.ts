/**
 * IPv6 between two stacks on an in-memory link and a virtual clock: DAD, neighbor discovery,
 * echo both ways, MLD reports, the extension-header rules and hostile packets. The real kernel
 * is the other side in test/kernel/ipv6.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv6 } from '../../../src/codec/address.js';
import { icmpv6, ipv4, ipv6, ipv6route } from '../../../src/generated/index.js';
import type { Stack } from '../../../src/runtime/stack.js';
import { ipv6Text } from '../../../src/runtime/ipv6/address.js';
import type { Icmpv6EchoReply } from '../../../src/runtime/ipv6/icmpv6.js';
import { MAC_A, MAC_B, icmpMessages, pair, v6 } from './harness.js';

const T = icmpv6.Icmpv6Type;

describe('IPv6 between two stacks', () => {
  it('runs DAD on every address, then prefers it; MLD reports the solicited-node groups', () => {
    const { clock, a, wire } = pair();
    const states = v6(a).ip.addressList.map((e) => e.state);
    expect(states).toEqual(['tentative', 'tentative']);
    clock.advance(3000);
    expect(v6(a).ip.addressList.map((e) => [ipv6Text(e.address), e.state])).toEqual([
      ['fe80::ff:fe00:a0a', 'preferred'],
      ['fd00::a', 'preferred'],
    ]);
    const sent = icmpMessages(wire.a);
    const dad = sent.filter(([t]) => t === T.NeighborSolicitation);
    expect(dad.map(([, , src, dst]) => [src, dst])).toEqual([
      ['::', 'ff02::1:ff00:a0a'],
      ['::', 'ff02::1:ff00:a'],
    ]);
    const reports = sent.filter(([t]) => t === T.Mldv2Report);
    expect(reports.length).toBeGreaterThanOrEqual(2);
    for (const [, , , dst, hops] of reports) {
      expect(dst).toBe('ff02::16');
      expect(hops).toBe(1);
    }
    // Router solicitations after the start delay, the first from our link-local address once
    // it is preferred (or from :: without a source link-layer option before).
    expect(sent.filter(([t]) => t === T.RouterSolicitation).length).toBeGreaterThanOrEqual(1);
  });

  it('resolves the neighbor and answers echo requests on link-local and global addresses', () => {
    const { clock, a, b } = pair();
    clock.advance(3000);
    const replies: Icmpv6EchoReply[] = [];
    v6(a).icmp.echoListener = (r) => replies.push(r);
    const data = new Uint8Array(1000).map((_, i) => i & 0xff);
    for (const target of ['fd00::b', 'fe80::ff:fe00:b0b']) {
      v6(a).icmp.sendEchoRequest(parseIpv6(target) as Uint8Array, 7, 1, data);
      clock.advance(100);
    }
    expect(replies.map((r) => ipv6Text(r.src))).toEqual(['fd00::b', 'fe80::ff:fe00:b0b']);
    expect(replies[0].bytes.subarray(replies[0].dataOffset, replies[0].dataOffset + 1000)).toEqual(
      data,
    );
    expect(v6(b).icmp.stats.echoRequests).toBe(2);
    const neighbors = v6(a)
      .neighbors.entries()
      .map((n) => [ipv6Text(n.address), n.state]);
    expect(neighbors).toContainEqual(['fd00::b', 'REACHABLE']);
  });

  it('finds a duplicate address: of two nodes probing the same address, the later one gives it up', () => {
    const { clock, a, b } = pair({ ip6A: 'fd00::5/64', ip6B: 'fd00::5/64' });
    clock.advance(3000);
    const entryOf = (s: Stack) =>
      v6(s).ip.addressList.find((e) => ipv6Text(e.address) === 'fd00::5');
    const kept = [entryOf(a), entryOf(b)].filter((e) => e !== undefined);
    expect(kept).toHaveLength(1);
    expect(kept[0]?.state).toBe('preferred');
  });

  it('finds a duplicate address when a preferred owner answers the probe', () => {
    const { clock, a } = pair();
    clock.advance(3000);
    const late = a.addIpv6Address('fd00::b/64');
    expect(late.state).toBe('tentative');
    clock.advance(3000);
    expect(late.state).toBe('duplicate');
    expect(v6(a).ip.findAddress(parseIpv6('fd00::b') as Uint8Array, 0)).toBeNull();
  });

  it('tells listeners a removed address is removed, not duplicate (a lifetime ending, a removal)', () => {
    const { clock, a } = pair();
    clock.advance(3000);
    const heard: [string, string][] = [];
    v6(a).ip.onAddressChange((e) => heard.push([ipv6Text(e.address), e.state]));
    const address = parseIpv6('fd00::77') as Uint8Array;
    v6(a).ip.addAddress(address, 64, 'static', Infinity, clock.now() + 5000);
    clock.advance(3000);
    clock.advance(3000);
    expect(heard.at(-1)).toEqual(['fd00::77', 'removed']);
    expect(heard.map(([, state]) => state)).not.toContain('duplicate');
    expect(v6(a).ip.findAddress(address, 0)).toBeNull();
    const kept = a.addIpv6Address('fd00::78/64');
    clock.advance(3000);
    v6(a).ip.removeAddress(kept.address);
    expect(heard.slice(-1)).toEqual([['fd00::78', 'removed']]);
  });

  it('answers an unknown next header with a parameter problem pointing at the field', () => {
    const { clock, a, b, wire } = pair();
    clock.advance(3000);
    // Next header 253 (RFC 3692 experimentation) to B.
    const payload = new Uint8Array(54 + 8);
    v6(a).ip.send(parseIpv6('fd00::b') as Uint8Array, 0, 253, payload, 54, 8);
    clock.advance(100);
    const problems = icmpMessages(wire.b).filter(([t]) => t === T.ParameterProblem);
    expect(problems).toHaveLength(1);
    expect(problems[0][1]).toBe(icmpv6.Icmpv6ParameterProblemCode.UnrecognizedNextHeader);
    expect(v6(b).ip.stats.drops.unknownNextHeader).toBe(1);
    // The pointer names the IPv6 header's next header byte.
    const frame = wire.b[wire.b.length - 1];
    const pp = new icmpv6.Icmpv6ParameterProblemView();
    expect(pp.wrap(frame, 54, frame.length - 54)).toBeNull();
    expect(pp.pointer).toBe(ipv6.IPV6_OFFSETS.nextHeader);
  });

  it('refuses a routing header with segments left (RFC 5095), pointer at its routing type', () => {
    const { clock, a, b, wire } = pair();
    clock.advance(3000);
    const buf = new Uint8Array(54 + 24);
    const n = ipv6route.encodeIpv6SourceRoute(
      { nextHeader: 59, routingType: 0, segmentsLeft: 1, reserved: 0, addresses: ['fd00::a'] },
      buf,
      54,
    );
    expect(n).toBe(24);
    v6(a).ip.send(parseIpv6('fd00::b') as Uint8Array, 0, ipv4.IpProtocol.Routing, buf, 54, 24);
    clock.advance(100);
    expect(v6(b).ip.stats.drops.badRouting).toBe(1);
    const frame = wire.b[wire.b.length - 1];
    const pp = new icmpv6.Icmpv6ParameterProblemView();
    expect(pp.wrap(frame, 54, frame.length - 54)).toBeNull();
    expect(pp.code).toBe(0);
    expect(pp.pointer).toBe(40 + ipv6route.IPV6ROUTING_OFFSETS.routingType);
  });

  it('never throws on hostile IPv6 frames, and keeps answering ping', () => {
    const { clock, a, b } = pair();
    clock.advance(3000);
    const mac = (n: number) =>
      [0, 8, 16, 24, 32, 40].map((s) => Math.floor(n / 2 ** s) % 256).reverse();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (body, valid) => {
        const frame = new Uint8Array(14 + 40 + body.length);
        frame.set(mac(MAC_B), 0);
        frame.set(mac(MAC_A), 6);
        frame[12] = 0x86;
        frame[13] = 0xdd;
        if (valid) {
          ipv6.encodeIpv6(
            {
              version: 6,
              trafficClass: 0,
              flowLabel: 0,
              nextHeader: body[0] ?? 0,
              hopLimit: 255,
              src: 'fd00::a',
              dst: 'fd00::b',
            },
            frame,
            14,
            body.length,
          );
        }
        frame.set(body, 54);
        expect(() => v6(b).ip.receive(frame, 14, frame.length - 14)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
    const replies: Icmpv6EchoReply[] = [];
    v6(a).icmp.echoListener = (r) => replies.push(r);
    clock.advance(60_000);
    v6(a).icmp.sendEchoRequest(parseIpv6('fd00::b') as Uint8Array, 1, 2, new Uint8Array(8));
    clock.advance(10_000);
    expect(replies).toHaveLength(1);
  });
});
