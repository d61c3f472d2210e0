/**
 * `stack.dgram` as node:dgram, over two stacks in memory: node's call forms, events on a later
 * tick, node's errors, and ICMP errors reaching connected sockets only (Linux without
 * IP_RECVERR). test/node-compat/dgram.test.ts runs the same bodies against node:dgram.
 */
import { describe, expect, it } from 'vitest';
import type { DgramRemoteInfo, DgramSocket } from '../../../src/runtime/udp/dgram.js';
import { DAD_DONE_MS, IP_A, IP_B, IP6_B, makePair, runUntil, type Pair } from '../tcp/helpers.js';

function messages(p: Pair, s: DgramSocket) {
  const got: Array<[string, DgramRemoteInfo]> = [];
  s.on('message', (m, r) => got.push([m.toString(), r]));
  return {
    got,
    wait: (n: number) => runUntil(p.clock, () => got.length >= n, 1000),
  };
}

function listening(p: Pair, s: DgramSocket) {
  let done = false;
  s.once('listening', () => (done = true));
  return runUntil(p.clock, () => done, 1000);
}

describe('stack.dgram (node:dgram over the stack)', () => {
  it("binds with node's forms; 'listening' and the callback come after the call returns", async () => {
    const p = makePair(1);
    const events: string[] = [];
    const a = p.a.dgram.createSocket('udp4');
    a.on('listening', () => events.push('listening'));
    a.bind(4000, IP_A, () => events.push('bind cb'));
    events.push('returned');
    await runUntil(p.clock, () => events.length === 3, 100);
    expect(events).toEqual(['returned', 'listening', 'bind cb']);
    expect(a.address()).toEqual({ address: IP_A, family: 'IPv4', port: 4000 });
    const b = p.a.dgram.createSocket({ type: 'udp4', reuseAddr: true });
    b.bind({ port: 4001 });
    await listening(p, b);
    expect(b.address()).toEqual({ address: '0.0.0.0', family: 'IPv4', port: 4001 });
    const c = p.a.dgram.createSocket('udp4');
    c.bind();
    await listening(p, c);
    expect(c.address().port).toBeGreaterThanOrEqual(49152);
    expect(() => c.bind(5)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_ALREADY_BOUND' }));
  });

  it('sends with offset and length, to port and address, and gathers a list of buffers', async () => {
    const p = makePair(2);
    const server = p.b.dgram.createSocket('udp4');
    const m = messages(p, server);
    server.bind(5000);
    await listening(p, server);
    const client = p.a.dgram.createSocket('udp4');
    const sent: Array<[unknown, number | undefined]> = [];
    client.send(Buffer.from('abcdef'), 1, 3, 5000, IP_B, (e, n) => sent.push([e, n]));
    client.send([Buffer.from('ab'), Buffer.from('cd')], 5000, IP_B, (e, n) => sent.push([e, n]));
    client.send('plain', 5000, IP_B, (e, n) => sent.push([e, n]));
    client.send(new Uint8Array([0x68, 0x69]), 5000, IP_B);
    expect(sent).toEqual([]);
    await m.wait(4);
    expect(m.got.map(([s]) => s)).toEqual(['bcd', 'abcd', 'plain', 'hi']);
    expect(sent).toEqual([
      [null, 3],
      [null, 4],
      [null, 5],
    ]);
    const r = m.got[0][1];
    expect(r).toEqual({ address: IP_A, family: 'IPv4', port: client.address().port, size: 3 });
  });

  it('connects, sends without an address, takes only its peer, and disconnects', async () => {
    const p = makePair(3);
    const server = p.b.dgram.createSocket('udp4');
    const m = messages(p, server);
    server.bind(5000);
    await listening(p, server);
    const client = p.a.dgram.createSocket('udp4');
    const cm = messages(p, client);
    const events: string[] = [];
    client.on('listening', () => events.push('listening'));
    client.connect(5000, IP_B, () => events.push('connect'));
    expect(() => client.remoteAddress()).toThrow(
      expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' }),
    );
    await runUntil(p.clock, () => events.includes('connect'), 100);
    expect(events).toEqual(['listening', 'connect']);
    expect(client.remoteAddress()).toEqual({ address: IP_B, family: 'IPv4', port: 5000 });
    expect(() => client.connect(5000, IP_B)).toThrow(
      expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' }),
    );
    expect(() => client.send(Buffer.from('x'), 0, 1, 5000, IP_B)).toThrow(
      expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' }),
    );
    client.send('hello');
    await m.wait(1);
    // An answer from another port of the peer is not the connected peer's.
    const other = p.b.dgram.createSocket('udp4');
    other.bind(5001);
    await listening(p, other);
    other.send('stranger', client.address().port, IP_A);
    server.send('reply', m.got[0][1].port, IP_A);
    await cm.wait(1);
    await runUntil(p.clock, () => false, 50);
    expect(cm.got.map(([s]) => s)).toEqual(['reply']);
    client.disconnect();
    expect(() => client.disconnect()).toThrow(
      expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' }),
    );
  });

  it("throws node's errors for bad arguments and reports system errors like node", async () => {
    const p = makePair(4);
    const s = p.a.dgram.createSocket('udp4');
    expect(() => s.address()).toThrow(
      expect.objectContaining({ code: 'EBADF', syscall: 'getsockname' }),
    );
    expect(() => s.send('x', 70000, IP_B)).toThrow(
      expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT', name: 'RangeError' }),
    );
    expect(() => s.send('x')).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
    expect(() => s.connect(0)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
    expect(() => p.a.dgram.createSocket('udp5' as 'udp4')).toThrow(
      expect.objectContaining({ code: 'ERR_SOCKET_BAD_TYPE' }),
    );
    s.bind(6000);
    await listening(p, s);
    const dup = p.a.dgram.createSocket('udp4');
    let error: (NodeJS.ErrnoException & { address?: string; port?: number }) | null = null;
    dup.on('error', (e) => (error = e));
    dup.bind(6000);
    await runUntil(p.clock, () => error !== null, 100);
    expect(error).toMatchObject({
      message: 'bind EADDRINUSE 0.0.0.0:6000',
      code: 'EADDRINUSE',
      errno: -98,
      syscall: 'bind',
      address: '0.0.0.0',
      port: 6000,
    });
    const results: Array<NodeJS.ErrnoException | null> = [];
    s.send('x', 53, '192.168.9.9', (e) => results.push(e));
    await runUntil(p.clock, () => results.length === 1, 100);
    expect(results[0]).toMatchObject({
      message: 'send ENETUNREACH 192.168.9.9:53',
      code: 'ENETUNREACH',
      errno: -101,
      syscall: 'send',
    });
    let closed = 0;
    s.close(() => closed++);
    expect(() => s.close()).toThrow(
      expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }),
    );
    await runUntil(p.clock, () => closed === 1, 100);
  });

  it('emits ECONNREFUSED (recvmsg) on a connected socket when the port is closed; an unconnected one hears nothing', async () => {
    const p = makePair(5);
    const connected = p.a.dgram.createSocket('udp4');
    const errors: Array<NodeJS.ErrnoException> = [];
    connected.on('error', (e) => errors.push(e));
    connected.connect(9, IP_B, () => connected.send('anyone?'));
    const loose = p.a.dgram.createSocket('udp4');
    const looseErrors: Error[] = [];
    loose.on('error', (e) => looseErrors.push(e));
    const sent: Array<Error | null> = [];
    loose.send('anyone?', 9, IP_B, (e) => sent.push(e));
    await runUntil(p.clock, () => errors.length > 0, 1000);
    await runUntil(p.clock, () => false, 100);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      message: 'recvmsg ECONNREFUSED',
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'recvmsg',
    });
    expect(p.b.stats().icmp.unreachableSent).toBe(2);
    expect(sent).toEqual([null]);
    expect(looseErrors).toEqual([]);
  });

  it('a connected udp6 socket gets ECONNREFUSED from an ICMPv6 port unreachable', async () => {
    const p = makePair(8, {}, {}, {}, { ipv6: true });
    await runUntil(p.clock, () => false, DAD_DONE_MS);
    const s = p.a.dgram.createSocket('udp6');
    const errors: NodeJS.ErrnoException[] = [];
    s.on('error', (e) => errors.push(e));
    s.connect(9, IP6_B, () => s.send('anyone?'));
    await runUntil(p.clock, () => errors.length > 0, 1000);
    expect(errors[0]).toMatchObject({ code: 'ECONNREFUSED', syscall: 'recvmsg' });
    expect(p.b.stats().icmpv6!.errorsSent).toBe(1);
  });

  it('says nothing when ARP gives up on a connected peer (host unreachable is soft, as Linux)', async () => {
    const p = makePair(9);
    const s = p.a.dgram.createSocket('udp4');
    const seen: string[] = [];
    s.on('error', (e: NodeJS.ErrnoException) => seen.push(String(e.code)));
    s.connect(9, '10.0.0.99', () => s.send('anyone?', (e) => seen.push(`sent ${String(e)}`)));
    await runUntil(p.clock, () => false, 5000);
    expect(p.a.stats().arp.drops.unresolved).toBe(1);
    expect(seen).toEqual(['sent null']);
  });

  it('a udp6 socket takes both families, naming IPv4 peers as IPv4-mapped addresses', async () => {
    const p = makePair(6, {}, {}, {}, { ipv6: true });
    await runUntil(p.clock, () => false, DAD_DONE_MS);
    const server = p.b.dgram.createSocket('udp6');
    const m = messages(p, server);
    server.bind(5000);
    await listening(p, server);
    expect(server.address()).toEqual({ address: '::', family: 'IPv6', port: 5000 });
    const c4 = p.a.dgram.createSocket('udp4');
    const c6 = p.a.dgram.createSocket('udp6');
    c4.send('four', 5000, IP_B);
    c6.send('six', 5000, IP6_B);
    await m.wait(2);
    const byMsg = Object.fromEntries(m.got.map(([s, r]) => [s, `${r.family} ${r.address}`]));
    expect(byMsg).toEqual({ four: `IPv6 ::ffff:${IP_A}`, six: 'IPv6 fd00::1' });
    const only6 = p.b.dgram.createSocket({ type: 'udp6', ipv6Only: true });
    only6.bind(5001);
    await listening(p, only6);
    const four = p.b.dgram.createSocket('udp4');
    four.bind(5001);
    await listening(p, four);
    expect(four.address().port).toBe(5001);
  });

  it('resolves host names through the stack resolver (localhost)', async () => {
    const p = makePair(7);
    const server = p.a.dgram.createSocket('udp4');
    const m = messages(p, server);
    server.bind(5000, 'localhost');
    await listening(p, server);
    expect(server.address().address).toBe('127.0.0.1');
    const client = p.a.dgram.createSocket('udp4');
    client.send('by name', 5000, 'localhost');
    await m.wait(1);
    expect(m.got[0][1].address).toBe('127.0.0.1');
  });
});
