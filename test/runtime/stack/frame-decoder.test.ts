/**
 * The receive path decodes a frame once, with the Ethernet layer's FrameDecoder, and the layers
 * above take their headers from its views: none wraps a view of its own for a whole datagram.
 * What the decoder did not see as a transport header (a reassembled datagram) is decoded by the
 * transport itself, with the same checks and counters.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ethernet, icmp, ipv4, tcp, udp } from '../../../src/generated/index.js';
import { setup } from './harness.js';
import {
  get16,
  icmpEcho,
  parseIpv4,
  pattern,
  PEER_IP,
  peerIpFrame,
  STACK_IP,
  udpDatagram,
} from './frames.js';

/** Counts the wrap() calls of each view class the receive path could use. */
function spyWraps() {
  return {
    ethernet: vi.spyOn(ethernet.EthernetView.prototype, 'wrap'),
    ipv4: vi.spyOn(ipv4.Ipv4View.prototype, 'wrap'),
    tcp: vi.spyOn(tcp.TcpView.prototype, 'wrap'),
    udp: vi.spyOn(udp.UdpView.prototype, 'wrap'),
    icmp: vi.spyOn(icmp.IcmpView.prototype, 'wrap'),
  };
}

/** A TCP SYN from the peer, checksum over the IPv4 pseudo-header. */
function tcpSyn(dstPort: number): Uint8Array {
  const fields: tcp.TcpFields = {
    srcPort: 40000,
    dstPort,
    seq: 1000,
    ack: 0,
    flags: 2,
    window: 65535,
    urgentPointer: 0,
    options: new Uint8Array(0),
  };
  const out = new Uint8Array(20);
  tcp.encodeTcp(fields, out, 0, 0, PEER_IP, STACK_IP);
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('receive path on the FrameDecoder', () => {
  it('takes every header of a whole datagram from the one decode of its frame', () => {
    const { stack, peer } = setup();
    const got: Buffer[] = [];
    const s = stack.udp.createSocket();
    s.bind(7);
    s.on('message', (msg: Buffer) => got.push(msg));
    const wraps = spyWraps();

    peer.send(
      peerIpFrame({ protocol: 17, payload: udpDatagram(PEER_IP, STACK_IP, 1, 7, pattern(30)) }),
    );
    peer.send(peerIpFrame({ protocol: 6, payload: tcpSyn(81) }));
    const before = stack.ipv4.stats.delivered;
    peer.send(peerIpFrame({ protocol: 1, payload: icmpEcho(8, 1, 1, pattern(64)) }));

    expect(got.map((b) => [...b])).toEqual([[...pattern(30)]]);
    expect(stack.tcp.counters.drops.noListener).toBe(1);
    expect(stack.ipv4.stats.delivered).toBe(before + 1);
    const replies = peer
      .take()
      .filter((f) => get16(f, 12) === 0x0800)
      .map(parseIpv4);
    // The RST for the closed port and the echo reply.
    expect(replies.map((r) => r.protocol).sort()).toEqual([1, 6]);
    expect(wraps.ethernet).not.toHaveBeenCalled();
    expect(wraps.ipv4).not.toHaveBeenCalled();
    expect(wraps.tcp).not.toHaveBeenCalled();
    expect(wraps.udp).not.toHaveBeenCalled();
    // Once: the reply ICMP builds in its own send buffer; the request was not wrapped again.
    expect(wraps.icmp).toHaveBeenCalledTimes(1);
  });

  it('decodes a reassembled datagram in its transport, and counts what the decoder refused', () => {
    const { stack, peer } = setup();
    const got: Buffer[] = [];
    const s = stack.udp.createSocket();
    s.bind(7);
    s.on('message', (msg: Buffer) => got.push(msg));
    const big = udpDatagram(PEER_IP, STACK_IP, 1, 7, pattern(1800));
    const wraps = spyWraps();
    peer.sendBatch([
      peerIpFrame({ protocol: 17, id: 9, payload: big.subarray(0, 1000), moreFragments: true }),
      peerIpFrame({ protocol: 17, id: 9, payload: big.subarray(1000), fragmentOffset: 1000 }),
    ]);
    expect(got.map((b) => [...b])).toEqual([[...pattern(1800)]]);
    // UDP's own view over the whole reassembled datagram (the decoder's try on the first
    // fragment alone fails: its length field reaches past it).
    expect(wraps.udp.mock.calls.filter(([, , length]) => length === big.length)).toHaveLength(1);

    // A bad IPv4 version: the decoder stops there, IPv4 names the error with its own view.
    const bad = peerIpFrame({
      protocol: 17,
      payload: udpDatagram(PEER_IP, STACK_IP, 1, 7, pattern(8)),
    });
    bad[14] = 0x55;
    const versions = stack.ipv4.stats.drops.badVersion;
    peer.send(bad);
    expect(stack.ipv4.stats.drops.badVersion).toBe(versions + 1);
    // A UDP length below its header: counted by UDP as before.
    const shortUdp = udpDatagram(PEER_IP, STACK_IP, 1, 7, pattern(8));
    shortUdp[5] = 4;
    const badLengths = stack.udp.stats.drops.badLength;
    peer.send(peerIpFrame({ protocol: 17, payload: shortUdp }));
    expect(stack.udp.stats.drops.badLength).toBe(badLengths + 1);
    expect(got).toHaveLength(1);
  });
});
