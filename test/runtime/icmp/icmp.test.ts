import { describe, expect, it } from 'vitest';
import { setup } from '../stack/harness.js';
import {
  checksum,
  get16,
  icmpEcho,
  ip,
  parseIpv4,
  pattern,
  peerIpFrame,
  BROADCAST,
  STACK_IP,
  PEER_IP,
  udpDatagram,
} from '../stack/frames.js';

describe('ICMP echo', () => {
  it('answers echo requests of every size up to the largest datagram, data intact', () => {
    const { stack, peer } = setup();
    for (const size of [0, 1, 56, 1472]) {
      const data = pattern(size, size);
      peer.send(peerIpFrame({ protocol: 1, payload: icmpEcho(8, 0xbeef, size, data) }));
      const [frame] = peer.take();
      const reply = parseIpv4(frame);
      expect(reply.src).toBe(STACK_IP);
      expect(reply.dst).toBe(PEER_IP);
      expect(reply.protocol).toBe(1);
      const m = reply.payload;
      expect(m[0]).toBe(0);
      expect(get16(m, 4)).toBe(0xbeef);
      expect(get16(m, 6)).toBe(size);
      expect(checksum(m)).toBe(0);
      expect(m.subarray(8)).toEqual(data);
    }
    expect(stack.stats().icmp.echoReplies).toBe(4);
  });

  it('answers a fragmented 4000-byte echo with a fragmented reply', () => {
    const { peer } = setup();
    const icmp = icmpEcho(8, 1, 1, pattern(4000));
    const frames = [];
    for (let off = 0; off < icmp.length; off += 1480) {
      const part = icmp.subarray(off, Math.min(icmp.length, off + 1480));
      frames.push(
        peerIpFrame({
          protocol: 1,
          id: 77,
          payload: part,
          fragmentOffset: off,
          moreFragments: off + 1480 < icmp.length,
        }),
      );
    }
    peer.sendBatch(frames.reverse());
    const replies = peer.take().map(parseIpv4);
    expect(replies).toHaveLength(3);
    const whole = new Uint8Array(icmp.length);
    for (const r of replies) whole.set(r.payload, r.fragmentOffset);
    expect(whole[0]).toBe(0);
    expect(checksum(whole)).toBe(0);
    expect(whole.subarray(8)).toEqual(pattern(4000));
  });

  it('ignores echo requests to broadcast addresses, like Linux', () => {
    const { stack, peer } = setup();
    peer.send(
      peerIpFrame(
        { protocol: 1, dst: ip('10.0.0.255'), payload: icmpEcho(8, 1, 1, pattern(8)) },
        BROADCAST,
      ),
    );
    peer.send(
      peerIpFrame(
        { protocol: 1, dst: ip('255.255.255.255'), payload: icmpEcho(8, 1, 2, pattern(8)) },
        BROADCAST,
      ),
    );
    expect(peer.take()).toHaveLength(0);
    expect(stack.stats().icmp.drops.broadcastEcho).toBe(2);
  });

  it('drops messages with a bad checksum or truncated, and counts unhandled types', () => {
    const { stack, peer } = setup();
    const bad = icmpEcho(8, 1, 1, pattern(8));
    bad[9] ^= 1;
    peer.send(peerIpFrame({ protocol: 1, payload: bad }));
    peer.send(peerIpFrame({ protocol: 1, payload: new Uint8Array([8, 0, 0]) }));
    peer.send(peerIpFrame({ protocol: 1, payload: icmpEcho(13, 1, 1, pattern(12)) }));
    const d = stack.stats().icmp.drops;
    expect(d.badChecksum).toBe(1);
    expect(d.truncated).toBe(1);
    expect(d.unhandledType).toBe(1);
    expect(peer.take()).toHaveLength(0);
  });
});

describe('ICMP errors', () => {
  it('sends port unreachable quoting the datagram, but not for broadcasts', () => {
    const { stack, peer } = setup();
    const udp = udpDatagram(PEER_IP, STACK_IP, 3333, 4444, pattern(20));
    peer.send(peerIpFrame({ protocol: 17, payload: udp }));
    const [frame] = peer.take();
    const e = parseIpv4(frame);
    expect([e.payload[0], e.payload[1]]).toEqual([3, 3]);
    expect(checksum(e.payload)).toBe(0);
    // Quoted: the original IP header (20) + the whole small UDP datagram.
    expect(e.payload.length).toBe(8 + 20 + udp.length);
    expect(get16(e.payload, 8 + 20 + 2)).toBe(4444);
    const bcast = udpDatagram(PEER_IP, ip('255.255.255.255'), 3333, 4444, pattern(20));
    peer.send(peerIpFrame({ protocol: 17, dst: ip('255.255.255.255'), payload: bcast }, BROADCAST));
    expect(peer.take()).toHaveLength(0);
    expect(stack.stats().udp.drops.noSocket).toBe(2);
    expect(stack.stats().icmp.unreachableSent).toBe(1);
  });

  it('rate-limits errors with a token bucket', () => {
    const { stack, peer, clock } = setup({ icmp: { errorRatePerSecond: 10, errorBurst: 3 } });
    const udp = udpDatagram(PEER_IP, STACK_IP, 3333, 4444, pattern(4));
    const frames = Array.from({ length: 10 }, () => peerIpFrame({ protocol: 17, payload: udp }));
    peer.sendBatch(frames);
    expect(stack.stats().icmp.unreachableSent).toBe(3);
    expect(stack.stats().icmp.drops.rateLimited).toBe(7);
    clock.advance(100); // one token back
    peer.sendBatch(frames.slice(0, 2));
    expect(stack.stats().icmp.unreachableSent).toBe(4);
  });

  it('hands received errors to the transport they quote', () => {
    const { stack, peer } = setup();
    const seen: Array<[number, number, number]> = [];
    stack.icmp.registerErrorReceiver(17, {
      icmpError: (type, code, from, bytes, off) =>
        seen.push([type, code, get16(bytes, off + 20 + 2)]),
    });
    const quoted = new Uint8Array(28);
    quoted.set(udpDatagram(STACK_IP, PEER_IP, 1000, 2000, new Uint8Array(0)), 20);
    // The quoted header as the datagram carried it (ICMP decodes it to find the transport).
    quoted[0] = 0x45;
    quoted[3] = 28;
    quoted[9] = 17;
    const msg = new Uint8Array(8 + 28);
    msg[0] = 3;
    msg[1] = 3;
    msg.set(quoted, 8);
    const sum = checksum(msg);
    msg[2] = sum >> 8;
    msg[3] = sum & 0xff;
    peer.send(peerIpFrame({ protocol: 1, payload: msg }));
    expect(seen).toEqual([[3, 3, 2000]]);
    // And never an error about an error.
    expect(peer.take()).toHaveLength(0);
  });
});
