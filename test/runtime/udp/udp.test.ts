import { describe, expect, it } from 'vitest';
import { setup } from '../stack/harness.js';
import {
  get16,
  parseIpv4,
  pattern,
  PEER_IP,
  peerIpFrame,
  STACK_IP,
  udpChecksumOk,
  udpDatagram,
} from '../stack/frames.js';
import { UDP_SEND_HEADROOM } from '../../../src/runtime/udp/udp.js';
import type { UdpDelivery } from '../../../src/runtime/udp/types.js';
import { UdpEchoServer } from '../../../src/runtime/udp/echo.js';

describe('UDP sockets', () => {
  it('delivers datagrams to the bound socket with rinfo, like dgram', () => {
    const { stack, peer } = setup();
    const got: Array<[string, string, number, number]> = [];
    const s = stack.udp.createSocket();
    s.bind(7);
    s.on('message', (msg, rinfo) =>
      got.push([msg.toString(), rinfo.address, rinfo.port, rinfo.size]),
    );
    peer.send(
      peerIpFrame({
        protocol: 17,
        payload: udpDatagram(PEER_IP, STACK_IP, 5555, 7, new TextEncoder().encode('ping')),
      }),
    );
    expect(got).toEqual([['ping', '10.0.0.1', 5555, 4]]);
    expect(s.address()).toEqual({ address: '10.0.0.2', family: 'IPv4', port: 7 });
  });

  it('sends with a correct checksum from an ephemeral port when unbound', () => {
    const { stack, peer, clock } = setup();
    const s = stack.udp.createSocket();
    let result: [Error | null, number] | undefined;
    s.send('hello', 9999, '10.0.0.1', (err, n) => (result = [err, n]));
    clock.advance(0);
    expect(result).toEqual([null, 5]);
    const p = parseIpv4(peer.take()[0]);
    expect(p.protocol).toBe(17);
    expect(get16(p.payload, 0)).toBeGreaterThanOrEqual(49152);
    expect(get16(p.payload, 2)).toBe(9999);
    expect(get16(p.payload, 4)).toBe(13);
    expect(udpChecksumOk(STACK_IP, PEER_IP, p.payload)).toBe(true);
    expect(get16(p.payload, 6)).not.toBe(0);
  });

  it('accepts a zero (absent) checksum, drops a bad one, and counts bad lengths', () => {
    const { stack, peer } = setup();
    const got: string[] = [];
    stack.udp
      .createSocket()
      .bind(7)
      .on('message', (m) => got.push(m.toString()));
    const data = new TextEncoder().encode('abc');
    peer.send(
      peerIpFrame({
        protocol: 17,
        payload: udpDatagram(PEER_IP, STACK_IP, 1, 7, data, { zeroChecksum: true }),
      }),
    );
    peer.send(
      peerIpFrame({
        protocol: 17,
        payload: udpDatagram(PEER_IP, STACK_IP, 1, 7, data, { badChecksum: true }),
      }),
    );
    peer.send(
      peerIpFrame({
        protocol: 17,
        payload: udpDatagram(PEER_IP, STACK_IP, 1, 7, data, { length: 4, zeroChecksum: true }),
      }),
    );
    peer.send(
      peerIpFrame({
        protocol: 17,
        payload: udpDatagram(PEER_IP, STACK_IP, 1, 7, data, { length: 40, zeroChecksum: true }),
      }),
    );
    peer.send(peerIpFrame({ protocol: 17, payload: new Uint8Array(5) }));
    expect(got).toEqual(['abc']);
    const d = stack.stats().udp.drops;
    expect(d.badChecksum).toBe(1);
    expect(d.badLength + d.truncated).toBe(3);
  });

  it('refuses a taken port, broadcast without setBroadcast, oversize and closed sockets', () => {
    const { stack } = setup();
    const a = stack.udp.createSocket().bind(53);
    expect(() => stack.udp.createSocket().bind(53)).toThrow(/EADDRINUSE/);
    expect(() => a.send('x', 9, '10.0.0.255')).toThrow(/EACCES/);
    expect(() => a.send(new Uint8Array(70_000), 9, '10.0.0.1')).toThrow(/EMSGSIZE/);
    expect(() => a.send('x', 9, 'not-an-ip')).toThrow(/EINVAL/);
    const closes: number[] = [];
    a.on('close', () => closes.push(1));
    a.close();
    a.close();
    expect(closes).toEqual([1]);
    expect(() => a.send('x', 9, '10.0.0.1')).toThrow(/NOT_RUNNING/);
    // The port is free again.
    stack.udp.createSocket().bind(53);
  });

  it('zero-copy receiver and in-place send echo without copies through the socket API', () => {
    const { stack, peer } = setup();
    const s = stack.udp.createSocket().bind(7);
    const buf = new Uint8Array(UDP_SEND_HEADROOM + 2048);
    s.setReceiver({
      receive(d: UdpDelivery) {
        buf.set(d.bytes.subarray(d.offset, d.offset + d.length), UDP_SEND_HEADROOM);
        s.sendInPlace(buf, UDP_SEND_HEADROOM, d.length, d.src, d.srcPort);
      },
    });
    const messages: unknown[] = [];
    s.on('message', (m) => messages.push(m));
    const data = pattern(1000);
    peer.send(
      peerIpFrame({ protocol: 17, payload: udpDatagram(PEER_IP, STACK_IP, 4242, 7, data) }),
    );
    const p = parseIpv4(peer.take()[0]);
    expect(get16(p.payload, 2)).toBe(4242);
    expect(p.payload.subarray(8)).toEqual(data);
    expect(udpChecksumOk(STACK_IP, PEER_IP, p.payload)).toBe(true);
    expect(messages).toHaveLength(0);
  });

  it('UdpEchoServer echoes with a valid checksum (reused when present, computed when absent)', () => {
    const { stack, peer } = setup();
    const echo = new UdpEchoServer(stack.udp, 7);
    for (const [size, zero] of [
      [0, false],
      [1, false],
      [333, false],
      [1472, false],
      [20, true],
    ] as const) {
      const data = pattern(size, size);
      peer.send(
        peerIpFrame({
          protocol: 17,
          payload: udpDatagram(PEER_IP, STACK_IP, 4000 + size, 7, data, { zeroChecksum: zero }),
        }),
      );
      const p = parseIpv4(peer.take()[0]);
      expect([get16(p.payload, 0), get16(p.payload, 2)]).toEqual([7, 4000 + size]);
      expect(p.payload.subarray(8)).toEqual(data);
      expect(get16(p.payload, 6)).not.toBe(0);
      expect(udpChecksumOk(STACK_IP, PEER_IP, p.payload)).toBe(true);
    }
    expect(echo.echoed).toBe(5);
    echo.close();
    expect(stack.udp.isBound(7)).toBe(false);
  });

  it('UdpEchoServer answers no source port below 512: not port 0, not another echo (a loop)', () => {
    const { stack, peer } = setup();
    const echo = new UdpEchoServer(stack.udp, 7);
    for (const port of [0, 7, 19, 511]) {
      peer.send(
        peerIpFrame({
          protocol: 17,
          payload: udpDatagram(PEER_IP, STACK_IP, port, 7, pattern(8, port)),
        }),
      );
    }
    expect(peer.take()).toHaveLength(0);
    expect(echo.refused).toBe(4);
    peer.send(
      peerIpFrame({ protocol: 17, payload: udpDatagram(PEER_IP, STACK_IP, 512, 7, pattern(8, 1)) }),
    );
    expect(peer.take()).toHaveLength(1);
    expect(echo.echoed).toBe(1);
  });

  it('works with addresses above 2^31 (192.168.x.x): ARP keys, echo, broadcast', async () => {
    const { VirtualClock } = await import('../../../src/runtime/clock/virtual.js');
    const { createMemoryLinkPair } = await import('../../../src/runtime/link/memory.js');
    const { createStack } = await import('../../../src/runtime/stack.js');
    const clock = new VirtualClock();
    const [la, lb] = createMemoryLinkPair({ macA: 0xfe0000000001, macB: 0xfe0000000002, clock });
    const a = createStack({ link: la, clock, ip: '192.168.1.1/24' });
    const b = createStack({ link: lb, clock, ip: '192.168.1.254/24' });
    const echo = new UdpEchoServer(b.udp, 7);
    const client = a.udp.createSocket();
    const answers: Array<[string, string, number]> = [];
    client.on('message', (m, r) => answers.push([m.toString(), r.address, r.port]));
    client.send('high', 7, '192.168.1.254');
    clock.runUntilIdle(10);
    expect(answers).toEqual([['high', '192.168.1.254', 7]]);
    expect(a.arp.entries()).toEqual([[0xc0a801fe, 0xfe0000000002]]);
    expect(b.arp.lookup(0xc0a80101)).toBe(0xfe0000000001);
    // The directed broadcast is recognised (and never echoed).
    client.setBroadcast(true);
    client.send('all', 7, '192.168.1.255');
    clock.runUntilIdle(10);
    expect(echo.echoed).toBe(1);
    expect(b.stats().udp.rxDatagrams).toBe(2);
    await a.close();
    await b.close();
  });

  it('two stacks talk over UDP, resolving each other by ARP', async () => {
    const { VirtualClock } = await import('../../../src/runtime/clock/virtual.js');
    const { createMemoryLinkPair } = await import('../../../src/runtime/link/memory.js');
    const { createStack } = await import('../../../src/runtime/stack.js');
    const clock = new VirtualClock();
    const [la, lb] = createMemoryLinkPair({ macA: 0x020000000001, macB: 0x020000000002, clock });
    const a = createStack({ link: la, clock, ip: '10.0.0.1/24' });
    const b = createStack({ link: lb, clock, ip: '10.0.0.2/24' });
    const server = b.udp.createSocket().bind(7);
    server.on('message', (m, r) => server.send(m, r.port, r.address));
    const client = a.udp.createSocket();
    const answers: string[] = [];
    client.on('message', (m) => answers.push(m.toString()));
    client.send('one', 7, '10.0.0.2');
    client.send('two', 7, '10.0.0.2');
    clock.runUntilIdle(10);
    expect(answers).toEqual(['one', 'two']);
    expect(a.stats().arp.requestsSent).toBe(1);
    expect(b.stats().arp.requestsSent).toBe(0);
    await a.close();
    await b.close();
  });
});
