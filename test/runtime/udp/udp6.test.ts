/**
 * UDP over IPv6 between two stacks on an in-memory link and a virtual clock: datagrams both
 * ways through the one socket API, rinfo, checksum rules (RFC 8200 §8.1), ICMPv6 port
 * unreachable and fragmentation on send. The kernel is the other side in test/kernel/udp6.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseIpv6 } from '../../../src/codec/address.js';
import { ethernet, icmpv6, ipv4, ipv6, ipv6frag, udp } from '../../../src/generated/index.js';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair, type MemoryLink } from '../../../src/runtime/link/memory.js';
import { createStack, type Stack } from '../../../src/runtime/stack.js';
import { ipv6Text } from '../../../src/runtime/ipv6/address.js';
import { IPV6_SEND_HEADROOM } from '../../../src/runtime/layers.js';
import { UdpEchoServer } from '../../../src/runtime/udp/echo.js';
import type { UdpRemoteInfo } from '../../../src/runtime/udp/types.js';

function rng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t * 1664525 + 1013904223) >>> 0;
    return t / 4294967296;
  };
}

function record(link: MemoryLink, into: Uint8Array[]): void {
  const send = link.send.bind(link);
  link.send = (bytes: Uint8Array, offset: number, length: number): boolean => {
    into.push(bytes.slice(offset, offset + length));
    return send(bytes, offset, length);
  };
}

function pair() {
  const clock = new VirtualClock();
  const [la, lb] = createMemoryLinkPair({ macA: 0x020000000a0a, macB: 0x020000000b0b, clock });
  const wire = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
  record(la, wire.a);
  record(lb, wire.b);
  const opts = (seed: number) => ({
    nd: { random: rng(seed), addressMode: 'eui64' as const },
    neighbors: { random: rng(seed + 10) },
  });
  const a = createStack({ link: la, clock, ip: '10.0.0.1/24', ipv6: opts(1), ip6: 'fd00::a/64' });
  const b = createStack({ link: lb, clock, ip: '10.0.0.2/24', ipv6: opts(2), ip6: 'fd00::b/64' });
  clock.advance(3000); // DAD
  return { clock, a, b, wire };
}

function v6(stack: Stack) {
  if (stack.ipv6 === null) throw new Error('IPv6 not enabled');
  return stack.ipv6;
}

const FD00_B = parseIpv6('fd00::b') as Uint8Array;
const FD00_A = parseIpv6('fd00::a') as Uint8Array;

/** A sends a raw UDP datagram to B's port 9 with the checksum field `checksum` (-1: computed). */
function sendRaw(a: Stack, payload: Uint8Array, checksum: number, corrupt = false): void {
  const at = IPV6_SEND_HEADROOM;
  const buf = new Uint8Array(at + 8 + payload.length);
  buf.set(payload, at + 8);
  const n = udp.encodeUdpIpv6(
    { srcPort: 4000, dstPort: 9, checksum: checksum < 0 ? undefined : checksum },
    buf,
    at,
    payload.length,
    FD00_A,
    0,
    FD00_B,
    0,
  );
  expect(n).toBe(8);
  if (corrupt) buf[at + 8] ^= 0x40;
  v6(a).ip.send(FD00_B, 0, ipv4.IpProtocol.UDP, buf, at, 8 + payload.length);
}

/** The IPv6 packets in frames, as views over copies. */
function ipv6Packets(frames: Uint8Array[]): ipv6.Ipv6View[] {
  const out: ipv6.Ipv6View[] = [];
  for (const f of frames) {
    const eth = new ethernet.EthernetView();
    if (eth.wrap(f) !== null || eth.etherType !== ethernet.EtherType.IPv6) continue;
    const ip = new ipv6.Ipv6View();
    if (ip.wrap(f, eth.payloadOffset, eth.payloadLength) !== null) continue;
    out.push(ip);
  }
  return out;
}

describe('UDP over IPv6', () => {
  it('carries datagrams both ways on one socket API; rinfo says IPv6', () => {
    const { clock, a, b } = pair();
    const got: Array<[string, UdpRemoteInfo]> = [];
    const server = b.udp.createSocket().bind(9);
    server.on('message', (msg, rinfo) => {
      got.push([msg.toString(), rinfo]);
      server.send(`re:${msg.toString()}`, rinfo.port, rinfo.address);
    });
    const client = a.udp.createSocket('udp6');
    const replies: Array<[string, UdpRemoteInfo]> = [];
    client.on('message', (msg, rinfo) => replies.push([msg.toString(), rinfo]));
    client.send('hello6', 9, 'fd00::b');
    clock.advance(100);
    // The same socket takes IPv4 too.
    client.send('hello4', 9, '10.0.0.2');
    clock.advance(100);
    const port = client.address().port;
    expect(client.address()).toEqual({ address: '::', family: 'IPv6', port });
    expect(got).toEqual([
      ['hello6', { address: 'fd00::a', family: 'IPv6', port, size: 6 }],
      ['hello4', { address: '10.0.0.1', family: 'IPv4', port, size: 6 }],
    ]);
    expect(replies).toEqual([
      ['re:hello6', { address: 'fd00::b', family: 'IPv6', port: 9, size: 9 }],
      ['re:hello4', { address: '10.0.0.2', family: 'IPv4', port: 9, size: 9 }],
    ]);
    expect(b.udp.stats.rxDatagrams).toBe(2);
    expect(a.udp.stats.txDatagrams).toBe(2);
  });

  it('echoes over IPv6 with the echo server, checksum valid on the reply', () => {
    const { clock, a, b, wire } = pair();
    const echo = new UdpEchoServer(b.udp, 7);
    const got: string[] = [];
    const client = a.udp.createSocket();
    client.on('message', (msg, rinfo) => got.push(`${rinfo.family} ${msg.toString()}`));
    client.send('ping', 7, 'fd00::b');
    client.send('link-local', 7, 'fe80::ff:fe00:b0b');
    clock.advance(100);
    expect(got).toEqual(['IPv6 ping', 'IPv6 link-local']);
    expect(echo.echoed).toBe(2);
    const replies = ipv6Packets(wire.b).filter((p) => p.nextHeader === ipv4.IpProtocol.UDP);
    expect(replies).toHaveLength(2);
    const u = new udp.UdpView();
    for (const p of replies) {
      expect(u.wrap(p.bytes, p.payloadOffset, p.payloadLength)).toBeNull();
      const src = p.bytes.slice(p.srcOffset, p.srcOffset + 16);
      const dst = p.bytes.slice(p.dstOffset, p.dstOffset + 16);
      expect(u.checksumValidWithIpv6(src, 0, dst, 0)).toBe(true);
    }
    expect(ipv6Text(replies[1].bytes, replies[1].srcOffset)).toBe('fe80::ff:fe00:b0b');
  });

  it('drops and counts a bad checksum and a zero checksum (no "none" over IPv6)', () => {
    const { clock, a, b } = pair();
    const got: string[] = [];
    b.udp
      .createSocket()
      .bind(9)
      .on('message', (msg) => got.push(msg.toString()));
    const payload = new TextEncoder().encode('data');
    sendRaw(a, payload, -1, true);
    sendRaw(a, payload, 0);
    clock.advance(100);
    expect(got).toEqual([]);
    expect(b.udp.stats.drops.badChecksum).toBe(1);
    expect(b.udp.stats.drops.zeroChecksum).toBe(1);
    // The same datagram with its checksum computed gets through.
    sendRaw(a, payload, -1);
    clock.advance(100);
    expect(got).toEqual(['data']);
  });

  it('answers a closed port with ICMPv6 port unreachable quoting the datagram', () => {
    const { clock, a, b, wire } = pair();
    a.udp.createSocket().bind(5000).send('knock', 4444, 'fd00::b');
    clock.advance(100);
    expect(b.udp.stats.drops.noSocket).toBe(1);
    const errors = ipv6Packets(wire.b).filter((p) => p.nextHeader === ipv4.IpProtocol.ICMPv6);
    const m = new icmpv6.Icmpv6ErrorView();
    const unreachable = errors.filter(
      (p) =>
        m.wrap(p.bytes, p.payloadOffset, p.payloadLength) === null &&
        m.type === icmpv6.Icmpv6Type.DestinationUnreachable,
    );
    expect(unreachable).toHaveLength(1);
    const p = unreachable[0];
    expect(m.wrap(p.bytes, p.payloadOffset, p.payloadLength)).toBeNull();
    expect(m.code).toBe(icmpv6.Icmpv6UnreachableCode.Port);
    expect(ipv6Text(p.bytes, p.dstOffset)).toBe('fd00::a');
    // The quote: our IPv6 header, then the UDP header and payload we sent.
    const quoted = new ipv6.Ipv6View();
    const q = p.payloadOffset + icmpv6.ICMPV6ERROR_FIXED_SIZE;
    expect(quoted.wrapPartial(p.bytes, q, p.payloadOffset + p.payloadLength - q)).toBeNull();
    expect(ipv6Text(quoted.bytes, quoted.srcOffset)).toBe('fd00::a');
    const u = new udp.UdpView();
    expect(u.wrap(quoted.bytes, quoted.payloadOffset, quoted.payloadLength)).toBeNull();
    expect([u.srcPort, u.dstPort]).toEqual([5000, 4444]);
    expect(new TextDecoder().decode(u.bytes.subarray(u.payloadOffset, u.payloadOffset + 5))).toBe(
      'knock',
    );
  });

  it('sends no port unreachable for a datagram to a multicast group', () => {
    const { clock, a, b, wire } = pair();
    a.udp.createSocket().send('all', 4444, 'ff02::1');
    clock.advance(100);
    expect(b.udp.stats.drops.noSocket).toBe(1);
    const fromB = ipv6Packets(wire.b).filter((p) => {
      if (p.nextHeader !== ipv4.IpProtocol.ICMPv6) return false;
      const m = new icmpv6.Icmpv6ErrorView();
      return (
        m.wrap(p.bytes, p.payloadOffset, p.payloadLength) === null &&
        m.type === icmpv6.Icmpv6Type.DestinationUnreachable
      );
    });
    expect(fromB).toEqual([]);
  });

  it('fragments a datagram larger than the link MTU on send; the receiver reassembles it', () => {
    const { clock, a, b, wire } = pair();
    const data = new Uint8Array(3000).map((_, i) => (i * 7) & 0xff);
    const got: Buffer[] = [];
    b.udp
      .createSocket()
      .bind(9)
      .on('message', (msg) => got.push(msg));
    a.udp.createSocket().bind(6000).send(data, 9, 'fd00::b');
    clock.advance(100);
    const frags = ipv6Packets(wire.a).filter((p) => p.nextHeader === ipv4.IpProtocol.Fragment);
    expect(frags.length).toBeGreaterThanOrEqual(3);
    const whole = new Uint8Array(8 + data.length);
    const f = new ipv6frag.Ipv6FragmentView();
    let ident = -1;
    let end = 0;
    for (const p of frags) {
      expect(p.byteLength).toBeLessThanOrEqual(a.link.mtu);
      expect(f.wrap(p.bytes, p.payloadOffset, p.payloadLength)).toBeNull();
      expect(f.nextHeader).toBe(ipv4.IpProtocol.UDP);
      if (ident < 0) ident = f.identification;
      expect(f.identification).toBe(ident);
      const chunk = p.bytes.subarray(f.payloadOffset, p.payloadOffset + p.payloadLength);
      whole.set(chunk, f.fragmentOffset * 8);
      end = Math.max(end, f.fragmentOffset * 8 + chunk.length);
    }
    expect(end).toBe(whole.length);
    const u = new udp.UdpView();
    expect(u.wrap(whole)).toBeNull();
    expect(u.checksumValidWithIpv6(FD00_A, 0, FD00_B, 0)).toBe(true);
    expect(whole.subarray(8)).toEqual(data);
    expect(got).toHaveLength(1);
    expect(new Uint8Array(got[0])).toEqual(data);
  });

  it('keeps families apart when asked, and refuses what it cannot send', () => {
    const { a } = pair();
    const four = a.udp.createSocket('udp4').bind(53);
    const six = a.udp.createSocket('udp6', { ipv6Only: true }).bind(53);
    expect(() => a.udp.createSocket().bind(53)).toThrow(/EADDRINUSE/);
    expect(() => four.send('x', 9, 'fd00::b')).toThrow(/EAFNOSUPPORT/);
    expect(() => six.send('x', 9, '10.0.0.2')).toThrow(/EAFNOSUPPORT/);
    expect(() => six.send('x', 9, 'fe80::1%tap0')).toThrow(/EINVAL: .*scope ids/);
    expect(() => six.send('x', 9, 'fd00::g')).toThrow(/EINVAL: bad IPv6 address/);
    const clock = new VirtualClock();
    const [link] = createMemoryLinkPair({ macA: 0x020000000c0c, macB: 0x020000000d0d, clock });
    const noV6 = createStack({ link, clock, ip: '10.0.0.3/24' });
    expect(() => noV6.udp.createSocket().send('x', 9, 'fd00::b')).toThrow(
      /EAFNOSUPPORT: IPv6 is not enabled/,
    );
  });
});
