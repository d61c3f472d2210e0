/**
 * Local delivery: TCP, UDP and ping to our own address, to 127.0.0.0/8 and to ::1 (or our own
 * IPv6 address) are answered by the stack itself without a frame on the link, as Linux routes
 * them through `lo`; loopback addresses arriving from the link are still martians.
 */
import { describe, expect, it } from 'vitest';
import { parseIpv4, parseIpv6 } from '../../../src/codec/address.js';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair } from '../../../src/runtime/link/memory.js';
import { createStack, type Stack } from '../../../src/runtime/stack.js';
import { runUntil, randomBytes, sha256 } from '../tcp/helpers.js';
import type { UdpRemoteInfo } from '../../../src/runtime/udp/types.js';

function single(options: { ip?: string; ipv6?: boolean } = { ip: '10.0.0.1/24' }) {
  const clock = new VirtualClock();
  const [la] = createMemoryLinkPair({ macA: 0x020000000001, macB: 0x020000000002, clock });
  const stack = createStack({
    link: la,
    clock,
    ip: options.ip,
    ipv6: options.ipv6 === true ? true : undefined,
    ip6: options.ipv6 === true ? 'fd00::1/64' : undefined,
  });
  return { clock, stack, link: la };
}

async function echoOver(s: { clock: VirtualClock; stack: Stack }, host: string, data: Buffer) {
  const c = s.stack.tcp.connect({ host, port: 7 });
  const back: Buffer[] = [];
  let ended = false;
  let error: Error | null = null;
  c.on('data', (d: Buffer) => back.push(d));
  c.on('end', () => (ended = true));
  c.on('error', (e) => (error = e));
  c.end(data);
  await runUntil(s.clock, () => ended || error !== null, 60_000);
  if (error) throw error;
  return { socket: c, data: Buffer.concat(back) };
}

describe('loopback delivery', () => {
  it('carries TCP to our own address and to 127.0.0.0/8 without touching the link', async () => {
    const s = single();
    const served: string[] = [];
    s.stack.tcp.listen(7, (sock) => {
      served.push(`${sock.localAddress}<-${sock.remoteAddress}`);
      sock.pipe(sock);
    });
    const before = s.link.stats().txFrames;
    const own = await echoOver(s, '10.0.0.1', Buffer.from('to myself'));
    expect(own.data.toString()).toBe('to myself');
    expect(own.socket.localAddress).toBe('10.0.0.1');
    const lo = await echoOver(s, '127.0.0.1', Buffer.from('via lo'));
    expect(lo.data.toString()).toBe('via lo');
    expect(lo.socket.localAddress).toBe('127.0.0.1');
    expect(lo.socket.remoteAddress).toBe('127.0.0.1');
    // Any 127/8 address answers, from where it was reached.
    const other = await echoOver(s, '127.4.5.6', Buffer.from('x'));
    expect(other.data.toString()).toBe('x');
    expect(served).toEqual(['10.0.0.1<-10.0.0.1', '127.0.0.1<-127.0.0.1', '127.4.5.6<-127.0.0.1']);
    expect(s.link.stats().txFrames).toBe(before);
    expect(s.stack.loopback.stats.packets).toBeGreaterThan(10);
  });

  it('moves a megabyte both ways over 127.0.0.1 intact', async () => {
    const s = single();
    s.stack.tcp.listen(7, (sock) => sock.pipe(sock));
    const data = randomBytes(1 << 20, 3);
    const r = await echoOver(s, '127.0.0.1', data);
    expect(sha256(r.data)).toBe(sha256(data));
    expect(s.stack.loopback.stats.drops).toBe(0);
  });

  it('refuses a closed loopback port with RST (ECONNREFUSED)', async () => {
    const s = single();
    let code: string | undefined;
    s.stack.tcp
      .connect({ host: '127.0.0.1', port: 9 })
      .on('error', (e: NodeJS.ErrnoException) => (code = e.code));
    await runUntil(s.clock, () => code !== undefined, 1000);
    expect(code).toBe('ECONNREFUSED');
  });

  it('works on a stack with no address yet (before DHCP)', async () => {
    const s = single({});
    s.stack.tcp.listen(7, (sock) => sock.pipe(sock));
    const r = await echoOver(s, '127.0.0.1', Buffer.from('early'));
    expect(r.data.toString()).toBe('early');
  });

  it('carries UDP to 127.0.0.1 and to our own address', async () => {
    const s = single();
    const got: Array<[string, UdpRemoteInfo]> = [];
    const server = s.stack.udp.createSocket('udp4');
    server.on('message', (m, rinfo) => got.push([m.toString(), rinfo]));
    server.bind(5000);
    const client = s.stack.udp.createSocket('udp4');
    client.bind(6000);
    client.send('one', 5000, '127.0.0.1');
    client.send('two', 5000, '10.0.0.1');
    // Nothing arrives inside send: delivery waits for the event loop.
    expect(got).toEqual([]);
    await runUntil(s.clock, () => got.length === 2, 100);
    expect(got.map(([m, r]) => `${m} ${r.address}:${r.port}`)).toEqual([
      'one 127.0.0.1:6000',
      'two 10.0.0.1:6000',
    ]);
    // A closed loopback port is answered with port unreachable, locally too.
    client.send('three', 5001, '127.0.0.1');
    await runUntil(s.clock, () => s.stack.stats().udp.drops.noSocket > 0, 100);
    expect(s.stack.stats().icmp.unreachableSent).toBe(1);
    expect(s.link.stats().txFrames).toBe(1); // the gratuitous ARP at start-up only
  });

  it('answers ping to 127.0.0.1 and to our own address', async () => {
    const s = single();
    const replies: string[] = [];
    s.stack.icmp.echoListener = (r) =>
      replies.push(`${r.src >>> 24}:${r.identifier}:${r.sequence}:${r.dataLength}`);
    s.stack.icmp.sendEchoRequest(parseIpv4('127.0.0.1'), 7, 1, new Uint8Array(56));
    s.stack.icmp.sendEchoRequest(parseIpv4('10.0.0.1'), 7, 2, new Uint8Array(8));
    await runUntil(s.clock, () => replies.length === 2, 100);
    expect(replies).toEqual(['127:7:1:56', '10:7:2:8']);
  });

  it('carries TCP, UDP and ping6 over ::1 and to our own IPv6 address', async () => {
    const s = single({ ip: '10.0.0.1/24', ipv6: true });
    await runUntil(s.clock, () => false, 3000);
    s.stack.tcp.listen(7, (sock) => sock.pipe(sock));
    const lo = await echoOver(s, '::1', Buffer.from('six'));
    expect(lo.data.toString()).toBe('six');
    expect(lo.socket.localAddress).toBe('::1');
    const own = await echoOver(s, 'fd00::1', Buffer.from('own'));
    expect(own.data.toString()).toBe('own');
    const got: string[] = [];
    const server = s.stack.udp.createSocket('udp6');
    server.on('message', (m, r) => got.push(`${m.toString()} ${r.address}`));
    server.bind(5000);
    const client = s.stack.udp.createSocket('udp6');
    client.send('u6', 5000, '::1');
    const replies: number[] = [];
    const ipv6 = s.stack.ipv6!;
    ipv6.icmp.echoListener = (r) => replies.push(r.sequence);
    ipv6.icmp.sendEchoRequest(parseIpv6('::1')!, 1, 9, new Uint8Array(4));
    await runUntil(s.clock, () => got.length === 1 && replies.length === 1, 100);
    expect(got).toEqual(['u6 ::1']);
    expect(replies).toEqual([9]);
  });

  it('still drops ::1 as a source arriving from the link', () => {
    const s = single({ ip: '10.0.0.1/24', ipv6: true });
    const frame = new Uint8Array(14 + 40 + 8);
    frame.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x86, 0xdd], 0);
    frame[14] = 0x60;
    frame[14 + 5] = 8; // payload length
    frame[14 + 6] = 17; // UDP
    frame[14 + 7] = 64;
    frame[14 + 8 + 15] = 1; // src ::1
    frame.set(parseIpv6('fd00::1')!, 14 + 24);
    const before = s.stack.stats().ipv6!.drops.badSource;
    s.stack.ethernet.receive(frame, 0, frame.length);
    expect(s.stack.stats().ipv6!.drops.badSource).toBe(before + 1);
  });
});
