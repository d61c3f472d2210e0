import { describe, expect, it } from 'vitest';
import { setup } from '../stack/harness.js';
import {
  arpPacket,
  ethernetFrame,
  icmpEcho,
  ipv4Packet,
  PEER_IP,
  PEER_MAC,
  STACK_IP,
  STACK_MAC,
  BROADCAST,
} from '../stack/frames.js';

describe('Ethernet demux', () => {
  const echo = ipv4Packet({
    src: PEER_IP,
    dst: STACK_IP,
    protocol: 1,
    payload: icmpEcho(8, 1, 1, new Uint8Array(4)),
  });

  it('takes frames to our MAC and answers them', () => {
    const { stack, peer } = setup({}, { knowPeer: false });
    peer.send(ethernetFrame(STACK_MAC, PEER_MAC, 0x0800, echo));
    // The echo request, then the ARP reply the stack needed to answer it.
    expect(stack.stats().ethernet.rxFrames).toBe(2);
    expect(stack.stats().icmp.echoReplies).toBe(1);
  });

  it('drops unicast frames for another MAC and counts them', () => {
    const { stack, peer } = setup({}, { knowPeer: false });
    peer.send(ethernetFrame(0x02000000aaaa, PEER_MAC, 0x0800, echo));
    const s = stack.stats();
    expect(s.ethernet.drops.notForUs).toBe(1);
    expect(s.ipv4.rxPackets).toBe(0);
    expect(peer.take()).toHaveLength(0);
  });

  it('drops multicast frames (no group joined) and counts them', () => {
    const { stack, peer } = setup({}, { knowPeer: false });
    peer.send(ethernetFrame(0x333300000001, PEER_MAC, 0x86dd, new Uint8Array(40)));
    expect(stack.stats().ethernet.drops.notForUs).toBe(1);
  });

  it('takes broadcast frames (ARP requests)', () => {
    const { stack, peer } = setup({}, { knowPeer: false });
    peer.send(
      ethernetFrame(
        BROADCAST,
        PEER_MAC,
        0x0806,
        arpPacket({ op: 1, sha: PEER_MAC, spa: PEER_IP, tha: 0, tpa: STACK_IP }),
      ),
    );
    expect(stack.stats().arp.rxPackets).toBe(1);
    expect(stack.stats().arp.repliesSent).toBe(1);
  });

  it('counts unknown EtherTypes and truncated frames', () => {
    const { stack, peer } = setup({}, { knowPeer: false });
    peer.send(ethernetFrame(STACK_MAC, PEER_MAC, 0x86dd, new Uint8Array(40)));
    peer.send(ethernetFrame(STACK_MAC, PEER_MAC, 0x0800, new Uint8Array(0)).subarray(0, 14));
    stack.ethernet.receive(new Uint8Array(10), 0, 10);
    const d = stack.stats().ethernet.drops;
    expect(d.unknownEtherType).toBe(1);
    expect(d.truncated).toBe(1);
    // The 14-byte frame has an empty IPv4 payload: IPv4 counts it as truncated.
    expect(stack.stats().ipv4.drops.truncated).toBe(1);
  });
});
