import { describe, expect, it } from 'vitest';
import { setup } from '../stack/harness.js';
import {
  get16,
  icmpEcho,
  ip,
  parseIpv4,
  pattern,
  PEER_IP,
  peerIpFrame,
  STACK_IP,
  udpDatagram,
} from '../stack/frames.js';
import { SendStatus } from '../../../src/runtime/layers.js';

function echoRequest(size: number, seq = 1): Uint8Array {
  return icmpEcho(8, 0x1234, seq, pattern(size, seq));
}

describe('IPv4 receive', () => {
  it('validates header checksum, version, lengths; counts each drop', () => {
    const { stack, peer } = setup();
    const good = peerIpFrame({ protocol: 1, payload: echoRequest(8) });
    peer.send(peerIpFrame({ protocol: 1, payload: echoRequest(8), badChecksum: true }));
    const v6 = good.slice();
    v6[14] = 0x65;
    peer.send(v6);
    const shortIhl = good.slice();
    shortIhl[14] = 0x44;
    peer.send(shortIhl);
    peer.send(peerIpFrame({ protocol: 1, payload: echoRequest(8), totalLength: 200 }));
    peer.send(good.subarray(0, 14 + 12));
    const d = stack.stats().ipv4.drops;
    expect(d.badChecksum).toBe(1);
    expect(d.badVersion).toBe(1);
    expect(d.truncated + d.badLength).toBe(3);
    expect(stack.stats().icmp.rxMessages).toBe(0);
    expect(peer.take().filter((f) => get16(f, 12) === 0x0800)).toHaveLength(0);
  });

  it('trims Ethernet padding using the total length', () => {
    const { stack, peer } = setup();
    const frame = peerIpFrame({ protocol: 1, payload: echoRequest(0) });
    const padded = new Uint8Array(60);
    padded.set(frame);
    peer.send(padded);
    expect(stack.stats().icmp.echoReplies).toBe(1);
    const reply = parseIpv4(peer.ofType(0x0800)[0]);
    expect(reply.totalLength).toBe(28);
  });

  it('accepts datagrams with options and ignores them', () => {
    const { stack, peer } = setup();
    // Record Route (7), length 7, pointer 4, room for one address, then End of options.
    const options = new Uint8Array([7, 7, 4, 0, 0, 0, 0, 0]);
    peer.send(peerIpFrame({ protocol: 1, payload: echoRequest(16), options }));
    expect(stack.stats().icmp.echoReplies).toBe(1);
    const bad = new Uint8Array([7, 0, 0, 0]); // option length 0: undelimitable
    peer.send(peerIpFrame({ protocol: 1, payload: echoRequest(16), options: bad }));
    expect(stack.stats().ipv4.drops.badOptions).toBe(1);
  });

  it('drops datagrams for other addresses and from broadcast sources', () => {
    const { stack, peer } = setup();
    peer.send(peerIpFrame({ protocol: 1, payload: echoRequest(8), dst: ip('10.0.0.77') }));
    peer.send(peerIpFrame({ protocol: 1, payload: echoRequest(8), src: ip('255.255.255.255') }));
    peer.send(peerIpFrame({ protocol: 1, payload: echoRequest(8), src: ip('10.0.0.255') }));
    const d = stack.stats().ipv4.drops;
    expect(d.notForUs).toBe(1);
    expect(d.badSource).toBe(2);
  });

  it('drops martian sources: loopback, 0/8, multicast, our own address (RFC 1122 3.2.1.3)', () => {
    const { stack, peer } = setup();
    for (const src of [ip('127.0.0.1'), ip('0.1.2.3'), ip('224.0.0.1'), STACK_IP]) {
      peer.send(peerIpFrame({ protocol: 1, payload: echoRequest(8), src }));
    }
    expect(stack.stats().ipv4.drops.badSource).toBe(4);
    // 0.0.0.0 is a valid source to the limited broadcast only (a DHCP client asking).
    peer.send(
      peerIpFrame({ protocol: 1, payload: echoRequest(8), src: 0, dst: ip('255.255.255.255') }),
    );
    expect(stack.stats().ipv4.drops.badSource).toBe(4);
    expect(stack.stats().icmp.rxMessages).toBe(1);
    peer.send(peerIpFrame({ protocol: 1, payload: echoRequest(8), dst: ip('127.0.0.1') }));
    expect(stack.stats().ipv4.drops.notForUs).toBe(1);
    expect(stack.stats().icmp.echoReplies).toBe(0);
  });

  it('drops source-routed datagrams and options whose pointer is before the first slot', () => {
    const { stack, peer } = setup();
    // Loose (131) and strict (137) source route, one address, pointer 4, then End of options.
    for (const type of [131, 137]) {
      const options = new Uint8Array([type, 7, 4, 10, 0, 0, 9, 0]);
      peer.send(peerIpFrame({ protocol: 1, payload: echoRequest(8), options }));
    }
    expect(stack.stats().ipv4.drops.sourceRouted).toBe(2);
    // Record route with pointer 3, timestamp (68) with pointer 4: both before their first slot.
    peer.send(
      peerIpFrame({
        protocol: 1,
        payload: echoRequest(8),
        options: new Uint8Array([7, 7, 3, 0, 0, 0, 0, 0]),
      }),
    );
    peer.send(
      peerIpFrame({
        protocol: 1,
        payload: echoRequest(8),
        options: new Uint8Array([68, 8, 4, 0, 0, 0, 0, 0]),
      }),
    );
    expect(stack.stats().ipv4.drops.badOptions).toBe(2);
    expect(stack.stats().icmp.echoReplies).toBe(0);
    // A well-formed timestamp option (pointer 5) is fine.
    peer.send(
      peerIpFrame({
        protocol: 1,
        payload: echoRequest(8),
        options: new Uint8Array([68, 8, 5, 0, 0, 0, 0, 0]),
      }),
    );
    expect(stack.stats().icmp.echoReplies).toBe(1);
  });

  it('answers an unknown protocol with ICMP protocol unreachable', () => {
    const { stack, peer } = setup();
    peer.send(peerIpFrame({ protocol: 99, payload: pattern(12) }));
    expect(stack.stats().ipv4.drops.unknownProtocol).toBe(1);
    const [frame] = peer.ofType(0x0800);
    const p = parseIpv4(frame);
    expect(p.protocol).toBe(1);
    expect([p.payload[0], p.payload[1]]).toEqual([3, 2]);
  });
});

describe('IPv4 send', () => {
  it('writes TTL 64, a valid checksum and fresh identifications', () => {
    const { stack, peer } = setup();
    const s = stack.udp.createSocket();
    s.send('a', 9, '10.0.0.1');
    s.send('b', 9, '10.0.0.1');
    peer.clock.advance(0);
    const [a, b] = peer.ofType(0x0800).map(parseIpv4);
    expect(a.ttl).toBe(64);
    expect(a.checksumOk).toBe(true);
    expect(a.src).toBe(STACK_IP);
    expect(a.dst).toBe(PEER_IP);
    expect(b.id).not.toBe(a.id);
  });

  it('routes off-link destinations through the gateway and refuses them without one', () => {
    const { stack, peer } = setup({ gateway: '10.0.0.1' });
    const s = stack.udp.createSocket();
    expect(s.send('x', 53, '192.0.2.1')).toBe(SendStatus.Sent);
    peer.clock.advance(0);
    const [frame] = peer.ofType(0x0800);
    expect(parseIpv4(frame).dst).toBe(ip('192.0.2.1'));
    stack.setAddress({ ip: '10.0.0.2/24' });
    expect(s.send('x', 53, '192.0.2.1', () => undefined)).toBe(SendStatus.Dropped);
    expect(stack.stats().ipv4.drops.noRoute).toBe(1);
  });

  it('sends broadcasts to the broadcast MAC without ARP', () => {
    const { stack, peer } = setup();
    const s = stack.udp.createSocket();
    s.setBroadcast(true);
    expect(s.send('x', 9, '10.0.0.255')).toBe(SendStatus.Sent);
    expect(s.send('x', 9, '255.255.255.255')).toBe(SendStatus.Sent);
    peer.clock.advance(0);
    expect(stack.stats().arp.requestsSent).toBe(0);
    expect(peer.take()).toHaveLength(2);
  });

  it('fragments datagrams larger than the MTU (offsets in 8-byte units, MF on all but the last)', () => {
    const { stack, peer } = setup();
    const s = stack.udp.createSocket();
    s.bind(5000);
    const data = pattern(4000);
    expect(s.send(data, 9, '10.0.0.1')).toBe(SendStatus.Sent);
    peer.clock.advance(0);
    const frags = peer.ofType(0x0800).map(parseIpv4);
    expect(frags.map((f) => [f.fragmentOffset, f.moreFragments, f.totalLength])).toEqual([
      [0, true, 1500],
      [1480, true, 1500],
      [2960, false, 20 + 8 + 4000 - 2960],
    ]);
    expect(new Set(frags.map((f) => f.id)).size).toBe(1);
    expect(frags.every((f) => f.checksumOk)).toBe(true);
    const whole = new Uint8Array(4008);
    for (const f of frags) whole.set(f.payload, f.fragmentOffset);
    expect(whole.subarray(8)).toEqual(data);
    expect(stack.stats().ipv4.fragmentsSent).toBe(3);
  });

  it('fragments datagrams that waited for ARP', () => {
    const { stack, peer, clock } = setup({ mtu: 576 }, { knowPeer: false });
    const s = stack.udp.createSocket();
    expect(s.send(pattern(1200), 9, '10.0.0.1')).toBe(SendStatus.Queued);
    clock.advance(0);
    const frags = peer.ofType(0x0800).map(parseIpv4);
    expect(frags).toHaveLength(3);
    expect(frags.map((f) => f.totalLength).every((n) => n <= 576)).toBe(true);
  });
});

describe('IPv4 reassembly', () => {
  /** Splits a UDP datagram (to port 7, bound by the test) into fragments of `size` bytes. */
  function fragments(payload: Uint8Array, size: number, id = 7): Uint8Array[] {
    const udp = udpDatagram(PEER_IP, STACK_IP, 4000, 7, payload);
    const out: Uint8Array[] = [];
    for (let off = 0; off < udp.length; off += size) {
      const part = udp.subarray(off, Math.min(udp.length, off + size));
      out.push(
        peerIpFrame({
          protocol: 17,
          id,
          payload: part,
          fragmentOffset: off,
          moreFragments: off + size < udp.length,
        }),
      );
    }
    return out;
  }

  function listen(stack: ReturnType<typeof setup>['stack']): Uint8Array[] {
    const got: Uint8Array[] = [];
    stack.udp
      .createSocket()
      .bind(7)
      .on('message', (m) => got.push(new Uint8Array(m)));
    return got;
  }

  it('reassembles fragments received out of order', () => {
    const { stack, peer } = setup();
    const got = listen(stack);
    const data = pattern(3000);
    const f = fragments(data, 800);
    peer.sendBatch([f[2], f[0], f[3], f[1]]);
    expect(got).toHaveLength(1);
    expect(got[0]).toEqual(data);
    expect(stack.stats().ipv4.reassembled).toBe(1);
    expect(stack.ipv4.reassembler.memory).toBe(0);
  });

  it('ignores duplicate fragments', () => {
    const { stack, peer } = setup();
    const got = listen(stack);
    const data = pattern(2000, 3);
    const f = fragments(data, 512);
    peer.sendBatch([f[0], f[1], f[1], f[0], f[2], f[3]]);
    expect(got).toEqual([data]);
    expect(stack.stats().ipv4.drops.fragDuplicate).toBe(2);
  });

  it('discards the datagram on a partially overlapping fragment', () => {
    const { stack, peer } = setup();
    const got = listen(stack);
    const data = pattern(2000, 4);
    const udp = udpDatagram(PEER_IP, STACK_IP, 4000, 7, data);
    const frag = (off: number, end: number, more: boolean): Uint8Array =>
      peerIpFrame({
        protocol: 17,
        id: 9,
        payload: udp.subarray(off, end),
        fragmentOffset: off,
        moreFragments: more,
      });
    peer.sendBatch([frag(0, 1000, true), frag(800, 1600, true), frag(1600, udp.length, false)]);
    expect(got).toHaveLength(0);
    expect(stack.stats().ipv4.drops.fragOverlap).toBe(1);
  });

  it('rejects fragments that would exceed 65535 bytes or are not multiples of 8', () => {
    const { stack, peer } = setup();
    peer.send(
      peerIpFrame({
        protocol: 17,
        id: 3,
        payload: pattern(1000),
        fragmentOffset: 65000,
        moreFragments: false,
      }),
    );
    peer.send(
      peerIpFrame({
        protocol: 17,
        id: 4,
        payload: pattern(1001),
        fragmentOffset: 0,
        moreFragments: true,
      }),
    );
    expect(stack.stats().ipv4.drops.fragInvalid).toBe(2);
    expect(stack.ipv4.reassembler.incomplete).toBe(0);
  });

  it('times out incomplete datagrams and sends time exceeded when fragment zero came', () => {
    const { stack, peer, clock } = setup({ ipv4: { reassembly: { timeoutMs: 5000 } } });
    listen(stack);
    const f = fragments(pattern(3000), 800, 11);
    peer.send(f[0]);
    peer.send(fragments(pattern(3000), 800, 12)[1]);
    clock.advance(4999);
    expect(stack.ipv4.reassembler.incomplete).toBe(2);
    clock.advance(1);
    expect(stack.ipv4.reassembler.incomplete).toBe(0);
    expect(stack.stats().ipv4.drops.reassemblyTimeout).toBe(2);
    expect(stack.stats().icmp.timeExceededSent).toBe(1);
    const [te] = peer.ofType(0x0800).map(parseIpv4);
    expect([te.payload[0], te.payload[1]]).toEqual([11, 1]);
    // The quote: the first fragment's header + 8 bytes.
    expect(te.payload.length).toBe(8 + 20 + 8);
    // A late fragment starts a fresh datagram rather than completing the old one.
    peer.send(f[1]);
    expect(stack.ipv4.reassembler.incomplete).toBe(1);
  });

  it('keeps reassembly memory under its bound by evicting the oldest datagrams', () => {
    // One source here: its share is the whole bound (the per-source share is tested elsewhere).
    const { stack, peer } = setup({
      ipv4: { reassembly: { maxBytes: 20_000, maxBytesPerSource: 20_000 } },
    });
    const got = listen(stack);
    for (let id = 100; id < 110; id++) peer.send(fragments(pattern(3000), 800, id)[0]);
    expect(stack.ipv4.reassembler.memory).toBeLessThanOrEqual(20_000);
    expect(stack.stats().ipv4.drops.reassemblyMemory).toBeGreaterThan(0);
    // The newest datagram is still there and completes.
    const last = fragments(pattern(3000), 800, 109);
    peer.sendBatch(last.slice(1));
    expect(got).toHaveLength(1);
    // One datagram alone bigger than the bound is refused.
    const small = setup({ ipv4: { reassembly: { maxBytes: 2_000 } } });
    small.peer.send(fragments(pattern(3000), 800, 1)[0]);
    expect(small.stack.ipv4.reassembler.memory).toBe(0);
    expect(small.stack.stats().ipv4.drops.reassemblyMemory).toBe(1);
  });

  it('reassembles a 65535-byte datagram (largest legal)', () => {
    const { stack, peer } = setup();
    const got = listen(stack);
    const data = pattern(65535 - 20 - 8, 9);
    peer.sendBatch(fragments(data, 1480));
    expect(got).toHaveLength(1);
    expect(got[0].length).toBe(data.length);
  });
});
