import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ethernet, ipv4, tcp, virtio } from '../../src/generated/index.js';
import { GsoSegmenter } from '../../src/runtime/link/gso.js';
import { FrameMeta } from '../../src/runtime/link/offload.js';

// Software GSO (src/runtime/link/gso.ts): a TCP super-frame with a partial checksum, as TSO
// hands one to the link, cut into MSS-sized frames; every piece is checked with the generated
// views and checksum routines, and the pieces must add up to the super-frame.

const SRC = 0x0a000001;
const DST = 0xc0a80102; // above 2^31: unsigned handling
const { TcpFlags } = tcp;

function superFrame(payload: Uint8Array, flags: number, id: number, seq: number): Uint8Array {
  const tcpHeader = 20 + 12;
  const out = new Uint8Array(14 + 20 + tcpHeader + payload.length);
  ethernet.encodeEthernet({ dst: 0x020000000002, src: 0x020000000001, etherType: 0x0800 }, out, 0);
  ipv4.encodeIpv4(
    {
      version: 4,
      dscp: 0,
      ecn: 0,
      identification: id,
      flags: ipv4.Ipv4Flags.DF,
      fragmentOffset: 0,
      ttl: 64,
      protocol: ipv4.IpProtocol.TCP,
      src: SRC,
      dst: DST,
      options: new Uint8Array(0),
    },
    out,
    14,
    tcpHeader + payload.length,
  );
  const options = new Uint8Array([1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9]); // NOP NOP timestamps
  tcp.encodeTcp(
    {
      srcPort: 40000,
      dstPort: 80,
      seq,
      ack: 5,
      flags,
      window: 512,
      checksum: 0,
      urgentPointer: 0,
      options,
    },
    out,
    34,
    payload.length,
    SRC,
    DST,
  );
  out.set(payload, 34 + tcpHeader);
  const v = new tcp.TcpView();
  expect(v.wrap(out, 34, out.length - 34)).toBeNull();
  v.setPartialChecksumWith(SRC, DST);
  return out;
}

function gsoMeta(mss: number, bytes: Uint8Array): FrameMeta {
  const m = new FrameMeta();
  m.bytes = bytes;
  m.flags = virtio.VirtioNetFlags.NeedsCsum;
  m.gsoType = mss > 0 ? virtio.VirtioGsoType.TcpV4 : virtio.VirtioGsoType.None;
  m.gsoSize = mss;
  m.hdrLen = 14 + 20 + 32;
  m.csumStart = 34;
  m.csumOffset = tcp.TCP_OFFSETS.checksum;
  return m;
}

interface Piece {
  seq: number;
  id: number;
  flags: number;
  payload: Uint8Array;
  length: number;
}

function cut(frame: Uint8Array, meta: FrameMeta, mtu = 1500): Piece[] {
  const pieces: Piece[] = [];
  const ip = new ipv4.Ipv4View();
  const t = new tcp.TcpView();
  const n = new GsoSegmenter(mtu + 14).segment(frame, 0, frame.length, meta, (b, o, l) => {
    expect(l).toBeLessThanOrEqual(mtu + 14);
    expect(ip.wrap(b, o + 14, l - 14)).toBeNull();
    expect(ip.checksumValid).toBe(true);
    expect(ip.totalLength).toBe(l - 14);
    expect(t.wrap(b, ip.payloadOffset, ip.payloadLength)).toBeNull();
    expect(t.checksumValidWith(ip.src, ip.dst)).toBe(true);
    pieces.push({
      seq: t.seq,
      id: ip.identification,
      flags: t.flags,
      payload: b.slice(t.payloadOffset, t.payloadOffset + t.payloadLength),
      length: l,
    });
    return true;
  });
  expect(n).toBe(pieces.length);
  return pieces;
}

describe('software GSO of TCP super-frames', () => {
  it('cuts into gso_size pieces with complete checksums, IDs and sequence numbers counting up', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 536, max: 1448 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.boolean(),
        (size, mss, id, seq, fin) => {
          const payload = new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff);
          const flags = TcpFlags.ACK | TcpFlags.PSH | TcpFlags.CWR | (fin ? TcpFlags.FIN : 0);
          const frame = superFrame(payload, flags, id, seq);
          const pieces = cut(frame, gsoMeta(mss, frame));
          expect(pieces.length).toBe(Math.ceil(size / mss));
          let at = 0;
          pieces.forEach((p, i) => {
            expect(p.seq).toBe((seq + at) >>> 0);
            expect(p.id).toBe((id + i) & 0xffff);
            expect([...p.payload]).toEqual([...payload.subarray(at, at + p.payload.length)]);
            const last = i === pieces.length - 1;
            if (!last) expect(p.payload.length).toBe(mss);
            // PSH and FIN on the last piece only, CWR on the first only.
            expect((p.flags & TcpFlags.PSH) !== 0).toBe(last);
            expect((p.flags & TcpFlags.FIN) !== 0).toBe(last && fin);
            expect((p.flags & TcpFlags.CWR) !== 0).toBe(i === 0);
            at += p.payload.length;
          });
          expect(at).toBe(size);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('completes the partial checksum of a plain NeedsCsum frame', () => {
    const payload = new Uint8Array(1000).fill(0x42);
    const frame = superFrame(payload, TcpFlags.ACK, 7, 1234);
    const t = new tcp.TcpView();
    t.wrap(frame, 34, frame.length - 34);
    expect(t.checksumValidWith(SRC, DST)).toBe(false); // only the pseudo-header's sum
    const pieces = cut(frame, gsoMeta(0, frame));
    expect(pieces).toHaveLength(1);
    expect(pieces[0]).toMatchObject({ seq: 1234, id: 7, length: frame.length });
  });

  it('refuses what is not Ethernet + IPv4/IPv6 + TCP, or pieces above the MTU', () => {
    const frame = superFrame(new Uint8Array(3000), TcpFlags.ACK, 1, 1);
    const s = new GsoSegmenter(1514);
    const none = (): boolean => true;
    expect(s.segment(frame, 0, 20, gsoMeta(1448, frame), none)).toBe(-1);
    expect(s.segment(frame, 0, frame.length, gsoMeta(1600, frame), none)).toBe(-1);
    const udp = frame.slice();
    udp[14 + 9] = 17;
    expect(s.segment(udp, 0, udp.length, gsoMeta(1448, udp), none)).toBe(-1);
  });
});
