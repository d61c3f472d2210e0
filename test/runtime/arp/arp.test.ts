import { describe, expect, it } from 'vitest';
import { setup } from '../stack/harness.js';
import {
  arpPacket,
  BROADCAST,
  ethernetFrame,
  get16,
  ip,
  parseArp,
  parseIpv4,
  PEER_IP,
  PEER_MAC,
  STACK_IP,
  STACK_MAC,
} from '../stack/frames.js';
import { SendStatus } from '../../../src/runtime/layers.js';

const OTHER_IP = ip('10.0.0.9');
const OTHER_MAC = 0x020000000009;

function arpFrame(
  dst: number,
  op: number,
  sha: number,
  spa: number,
  tha: number,
  tpa: number,
): Uint8Array {
  return ethernetFrame(dst, sha, 0x0806, arpPacket({ op, sha, spa, tha, tpa }));
}

describe('ARP', () => {
  it('announces a new address with a gratuitous request', () => {
    const { stack, peer, clock } = setup({}, { knowPeer: false });
    stack.setAddress({ ip: '10.0.0.3/24' });
    clock.advance(0);
    const [frame] = peer.take();
    const a = parseArp(frame);
    expect(a.dstMac).toBe(BROADCAST);
    expect(a.op).toBe(1);
    expect(a.spa).toBe(ip('10.0.0.3'));
    expect(a.tpa).toBe(ip('10.0.0.3'));
    expect(a.sha).toBe(STACK_MAC);
    expect(stack.stats().arp.gratuitousSent).toBe(2);
  });

  it('replies to a request for our address and learns the requester', () => {
    const { stack, peer } = setup({}, { knowPeer: false });
    peer.send(arpFrame(BROADCAST, 1, PEER_MAC, PEER_IP, 0, STACK_IP));
    const [reply] = peer.take();
    const a = parseArp(reply);
    expect(a).toEqual({
      dstMac: PEER_MAC,
      op: 2,
      sha: STACK_MAC,
      spa: STACK_IP,
      tha: PEER_MAC,
      tpa: PEER_IP,
    });
    expect(stack.arp.lookup(PEER_IP)).toBe(PEER_MAC);
  });

  it('merge rule: a request for someone else teaches nothing new but refreshes a known sender', () => {
    const { stack, peer } = setup({}, { knowPeer: false });
    peer.send(arpFrame(BROADCAST, 1, OTHER_MAC, OTHER_IP, 0, PEER_IP));
    expect(stack.arp.lookup(OTHER_IP)).toBe(-1);
    expect(peer.take()).toHaveLength(0);
    // Learn it (addressed to us), then see it move to a new MAC in a gratuitous ARP.
    peer.send(arpFrame(BROADCAST, 1, OTHER_MAC, OTHER_IP, 0, STACK_IP));
    peer.take();
    peer.send(arpFrame(BROADCAST, 1, OTHER_MAC + 1, OTHER_IP, 0, OTHER_IP));
    expect(stack.arp.lookup(OTHER_IP)).toBe(OTHER_MAC + 1);
  });

  it('ignores senders claiming our address or a group MAC, and unsupported hardware', () => {
    const { stack, peer } = setup({}, { knowPeer: false });
    peer.send(arpFrame(BROADCAST, 2, OTHER_MAC, STACK_IP, 0, STACK_IP));
    peer.send(arpFrame(BROADCAST, 1, 0x010000000001, OTHER_IP, 0, STACK_IP));
    const bad = arpPacket({ op: 1, sha: OTHER_MAC, spa: OTHER_IP, tha: 0, tpa: STACK_IP });
    bad[1] = 6; // htype 6 (IEEE 802)
    peer.send(ethernetFrame(BROADCAST, OTHER_MAC, 0x0806, bad));
    peer.send(ethernetFrame(BROADCAST, OTHER_MAC, 0x0806, bad.subarray(0, 20)));
    const d = stack.stats().arp.drops;
    // The claim on our address is a conflict (below), the group MAC a bogus sender.
    expect(d.bogusSender).toBe(1);
    expect(stack.stats().arp.conflicts).toBe(1);
    expect(d.unsupported).toBe(1);
    expect(d.truncated).toBe(1);
    // Only our defence went out: one gratuitous ARP.
    const sent = peer.take().map(parseArp);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ dstMac: BROADCAST, op: 1, spa: STACK_IP, tpa: STACK_IP });
  });

  it('defends our address once per 10 s against a conflicting host (RFC 5227 §2.4), telling a listener', () => {
    const { stack, peer, clock } = setup({}, { knowPeer: false });
    const conflicts: Array<{ mac: number; defended: boolean }> = [];
    stack.arp.conflictListener = (c) => conflicts.push({ mac: c.mac, defended: c.defended });
    const claim = () => peer.send(arpFrame(BROADCAST, 1, OTHER_MAC, STACK_IP, 0, STACK_IP));
    claim();
    claim();
    clock.advance(9_999);
    claim();
    clock.advance(1);
    claim();
    expect(conflicts).toEqual([
      { mac: OTHER_MAC, defended: true },
      { mac: OTHER_MAC, defended: false },
      { mac: OTHER_MAC, defended: false },
      { mac: OTHER_MAC, defended: true },
    ]);
    expect(
      peer
        .take()
        .map(parseArp)
        .filter((a) => a.spa === STACK_IP && a.tpa === STACK_IP),
    ).toHaveLength(2);
    // The claimant's MAC is never learnt for our address; we keep it.
    expect(stack.address).toBe(STACK_IP);
    expect(stack.arp.lookup(STACK_IP)).toBe(-1);
  });

  it('tells a listener of new neighbours and of a MAC replaced by a newer packet', () => {
    const { stack, peer } = setup({}, { knowPeer: false });
    const changes: Array<[number, number, number]> = [];
    stack.arp.neighborListener = (c) => changes.push([c.address, c.mac, c.previous]);
    peer.send(arpFrame(BROADCAST, 1, OTHER_MAC, OTHER_IP, 0, STACK_IP));
    peer.send(arpFrame(BROADCAST, 1, OTHER_MAC, OTHER_IP, 0, STACK_IP));
    peer.send(arpFrame(BROADCAST, 1, OTHER_MAC + 1, OTHER_IP, 0, STACK_IP));
    expect(changes).toEqual([
      [OTHER_IP, OTHER_MAC, -1],
      [OTHER_IP, OTHER_MAC + 1, OTHER_MAC],
    ]);
    expect(stack.stats().arp.macChanges).toBe(1);
    expect(stack.arp.lookup(OTHER_IP)).toBe(OTHER_MAC + 1);
  });

  it('queues the datagram that triggered resolution and sends it when the reply comes', () => {
    const { stack, peer, clock } = setup({}, { knowPeer: false });
    peer.arpFor.clear();
    const sock = stack.udp.createSocket();
    expect(sock.send('hello', 9, '10.0.0.1')).toBe(SendStatus.Queued);
    clock.advance(0);
    const [req] = peer.take();
    expect(parseArp(req)).toMatchObject({ dstMac: BROADCAST, op: 1, spa: STACK_IP, tpa: PEER_IP });
    peer.send(arpFrame(STACK_MAC, 2, PEER_MAC, PEER_IP, STACK_MAC, STACK_IP));
    const [datagram] = peer.take();
    expect(get16(datagram, 12)).toBe(0x0800);
    const p = parseIpv4(datagram);
    expect(new TextDecoder().decode(p.payload.subarray(8))).toBe('hello');
    expect(stack.stats().arp.queuedSent).toBe(1);
  });

  it('retries requests, then drops the queue and counts it', () => {
    const { stack, peer, clock } = setup({}, { knowPeer: false });
    peer.arpFor.clear();
    const sock = stack.udp.createSocket();
    sock.send('a', 9, '10.0.0.1');
    sock.send('b', 9, '10.0.0.1');
    expect(stack.arp.pendingCount(PEER_IP)).toBe(2);
    clock.advance(999);
    expect(peer.take()).toHaveLength(1);
    clock.advance(1);
    expect(peer.take()).toHaveLength(1);
    clock.advance(1000);
    expect(peer.take()).toHaveLength(1);
    expect(stack.stats().arp.drops.unresolved).toBe(0);
    clock.advance(1000);
    expect(peer.take()).toHaveLength(0);
    expect(stack.stats().arp.requestsSent).toBe(3);
    expect(stack.stats().arp.drops.unresolved).toBe(2);
    expect(stack.arp.pendingCount(PEER_IP)).toBe(0);
    // A later send starts over.
    expect(sock.send('c', 9, '10.0.0.1')).toBe(SendStatus.Queued);
  });

  it('bounds the queue per target: the first datagram is kept, later ones refused and counted', () => {
    const { stack, peer, clock } = setup({ arp: { queuePerTarget: 3 } }, { knowPeer: false });
    peer.arpFor.clear();
    const sock = stack.udp.createSocket();
    const statuses = [1, 2, 3, 4, 5].map((i) => sock.send(String(i), 9, '10.0.0.1'));
    expect(statuses).toEqual([
      SendStatus.Queued,
      SendStatus.Queued,
      SendStatus.Queued,
      SendStatus.Dropped,
      SendStatus.Dropped,
    ]);
    expect(stack.stats().arp.drops.queueFull).toBe(2);
    clock.advance(0);
    peer.take();
    peer.send(arpFrame(STACK_MAC, 2, PEER_MAC, PEER_IP, STACK_MAC, STACK_IP));
    const payloads = peer
      .take()
      .map((f) => new TextDecoder().decode(parseIpv4(f).payload.subarray(8)));
    expect(payloads).toEqual(['1', '2', '3']);
  });

  it('bounds queued bytes across targets, but always keeps a first datagram per target', () => {
    const { stack, peer } = setup({ arp: { queueBytes: 100 } }, { knowPeer: false });
    peer.arpFor.clear();
    const sock = stack.udp.createSocket();
    const big = new Uint8Array(200);
    expect(sock.send(big, 9, '10.0.0.1')).toBe(SendStatus.Queued);
    expect(sock.send(big, 9, '10.0.0.1')).toBe(SendStatus.Dropped);
    expect(sock.send(big, 9, '10.0.0.7')).toBe(SendStatus.Queued);
    expect(stack.stats().arp.drops.queueFull).toBe(1);
  });

  it('refuses new resolutions past maxPending', () => {
    const { stack, peer } = setup({ arp: { maxPending: 2 } }, { knowPeer: false });
    peer.arpFor.clear();
    const sock = stack.udp.createSocket();
    expect(sock.send('x', 9, '10.0.0.5')).toBe(SendStatus.Queued);
    expect(sock.send('x', 9, '10.0.0.6')).toBe(SendStatus.Queued);
    expect(sock.send('x', 9, '10.0.0.7')).toBe(SendStatus.Dropped);
    expect(stack.stats().arp.drops.tooManyPending).toBe(1);
  });

  it('expires unused entries and refreshes used ones with a unicast request', () => {
    const { stack, peer, clock } = setup({ arp: { cacheTimeoutMs: 10_000 } }, { knowPeer: false });
    peer.send(arpFrame(BROADCAST, 1, PEER_MAC, PEER_IP, 0, STACK_IP));
    peer.send(arpFrame(BROADCAST, 1, OTHER_MAC, OTHER_IP, 0, STACK_IP));
    peer.take();
    stack.arp.lookup(PEER_IP); // in use
    clock.advance(10_000);
    expect(stack.arp.lookup(OTHER_IP)).toBe(-1);
    expect(stack.arp.lookup(PEER_IP)).toBe(PEER_MAC);
    const [refresh] = peer.take(); // the peer answers it automatically
    expect(parseArp(refresh)).toMatchObject({ dstMac: PEER_MAC, op: 1, tpa: PEER_IP });
    clock.advance(9_000);
    expect(stack.arp.lookup(PEER_IP)).toBe(PEER_MAC);
    // A used entry whose refresh goes unanswered is dropped after the probe period.
    peer.arpFor.clear();
    clock.advance(1_000);
    peer.take();
    clock.advance(3_000);
    expect(stack.arp.lookup(PEER_IP)).toBe(-1);
  });

  it('caps the cache size by evicting the entry closest to expiry', () => {
    const { stack, peer, clock } = setup({ arp: { cacheSize: 4 } }, { knowPeer: false });
    for (let i = 0; i < 6; i++) {
      peer.send(arpFrame(BROADCAST, 1, OTHER_MAC + i, OTHER_IP + i, 0, STACK_IP));
      clock.advance(1);
    }
    expect(stack.arp.entries()).toHaveLength(4);
    expect(stack.arp.lookup(OTHER_IP)).toBe(-1);
    expect(stack.arp.lookup(OTHER_IP + 5)).toBe(OTHER_MAC + 5);
  });

  it('answers ARP probes (sender 0.0.0.0) without learning them', () => {
    const { stack, peer } = setup({}, { knowPeer: false });
    peer.send(arpFrame(BROADCAST, 1, OTHER_MAC, 0, 0, STACK_IP));
    const [reply] = peer.take();
    expect(parseArp(reply)).toMatchObject({ dstMac: OTHER_MAC, op: 2, tha: OTHER_MAC, tpa: 0 });
    expect(stack.arp.entries()).toHaveLength(0);
  });
});
