/**
 * TCP and UDP checksums over the IPv6 pseudo-header (specs/tcp.pkt, specs/udp.pkt:
 * `pseudo_ipv6(...)` beside `pseudo_ipv4(...)`), on real IPv6 frames of Zeek's test suite
 * (test/fixtures/ipv6-checksums/, tshark's checksum verdict per file in PROVENANCE.md). The
 * IPv6 and Home Address headers are read through test/codegen/specs/ip6.pkt.
 *
 * With a Home Address destination option (RFC 6275 §6.3) the pseudo-header source is the home
 * address, not the IPv6 source: the hoa frames are checked that way (tshark agrees).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIpv6 } from '../../src/codec/address.js';
import { tcp, udp } from '../../src/generated/index.js';
import { readPcapFrames } from '../codec/helpers.js';
import { cleanCompiled, compileTestSpec } from './compile.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'ipv6-checksums');

interface Ip6View {
  wrap(b: Uint8Array, o?: number, l?: number): unknown;
  nextHeader: number;
  srcOffset: number;
  dstOffset: number;
  payloadOffset: number;
  payloadLength: number;
  toJSON(): Record<string, unknown>;
}
interface HoaView {
  wrap(b: Uint8Array, o?: number, l?: number): unknown;
  nextHeader: number;
  homeAddressOffset: number;
  messageLength: number;
}
let Ip6: new () => Ip6View;
let Hoa: new () => HoaView;
beforeAll(async () => {
  const m = await compileTestSpec('ip6');
  Ip6 = m.Ip6View as typeof Ip6;
  Hoa = m.HomeAddressOptionsView as typeof Hoa;
});
afterAll(cleanCompiled);

/** The transport header of an Ethernet/IPv6 frame and the pseudo-header's address offsets. */
function transport(frame: Uint8Array): {
  next: number;
  offset: number;
  length: number;
  srcOffset: number;
  dstOffset: number;
} {
  const ip = new Ip6();
  expect(ip.wrap(frame, 14)).toBeNull();
  if (ip.nextHeader !== 60) {
    return {
      next: ip.nextHeader,
      offset: ip.payloadOffset,
      length: ip.payloadLength,
      srcOffset: ip.srcOffset,
      dstOffset: ip.dstOffset,
    };
  }
  const hoa = new Hoa();
  expect(hoa.wrap(frame, ip.payloadOffset, ip.payloadLength)).toBeNull();
  return {
    next: hoa.nextHeader,
    offset: ip.payloadOffset + hoa.messageLength,
    length: ip.payloadLength - hoa.messageLength,
    srcOffset: hoa.homeAddressOffset,
    dstOffset: ip.dstOffset,
  };
}

function frames(name: string): Uint8Array[] {
  return readPcapFrames(join(DIR, `${name}.pcap`));
}

describe('TCP over IPv6', () => {
  it('verifies every segment of a real IPv6 TCP connection (tshark: all good)', () => {
    const all = frames('zeek-communityid-ipv6');
    expect(all.length).toBe(17);
    const v = new tcp.TcpView();
    for (const frame of all) {
      const t = transport(frame);
      expect(t.next).toBe(6);
      expect(v.wrap(frame, t.offset, t.length)).toBeNull();
      expect(v.checksumValidWithIpv6(frame, t.srcOffset, frame, t.dstOffset)).toBe(true);
      // The IPv4 pseudo-header gives another sum: the family matters.
      expect(v.checksumValidWith(0x0a000001, 0x0a000002)).toBe(false);
      // One changed address bit and it fails.
      const other = frame.slice();
      other[t.srcOffset + 15] ^= 0x01;
      expect(v.checksumValidWithIpv6(other, t.srcOffset, frame, t.dstOffset)).toBe(false);
      // toJSON takes the addresses as 16 bytes each.
      const json = v.toJSON(
        frame.slice(t.srcOffset, t.srcOffset + 16),
        frame.slice(t.dstOffset, t.dstOffset + 16),
      );
      expect(json.checksumValid).toBe(true);
    }
  });

  it('encodeTcpIpv6 fills the checksum a real sender computed', () => {
    for (const frame of frames('zeek-communityid-ipv6')) {
      const t = transport(frame);
      const v = new tcp.TcpView();
      v.wrap(frame, t.offset, t.length);
      const f = tcp.decodeTcp(frame, t.offset, t.length) as tcp.TcpFields;
      const out = frame.slice();
      const n = tcp.encodeTcpIpv6(
        { ...f, checksum: undefined },
        out,
        t.offset,
        v.payloadLength,
        frame,
        t.srcOffset,
        frame,
        t.dstOffset,
      );
      expect(n).toBe(v.headerLength);
      expect(out).toEqual(frame);
    }
  });

  it('rejects the bad checksum behind a Home Address option (tshark: bad)', () => {
    const [frame] = frames('zeek-chksums-ip6-hoa-tcp-bad-chksum');
    const t = transport(frame);
    expect(t.next).toBe(6);
    const v = new tcp.TcpView();
    expect(v.wrap(frame, t.offset, t.length)).toBeNull();
    expect(v.checksumValidWithIpv6(frame, t.srcOffset, frame, t.dstOffset)).toBe(false);
  });
});

describe('UDP over IPv6', () => {
  it('verifies the good checksum behind a Home Address option, over the home address', () => {
    const [frame] = frames('zeek-chksums-ip6-hoa-udp-good-chksum');
    const t = transport(frame);
    expect(t.next).toBe(17);
    const v = new udp.UdpView();
    expect(v.wrap(frame, t.offset, t.length)).toBeNull();
    expect(v.checksumValidWithIpv6(frame, t.srcOffset, frame, t.dstOffset)).toBe(true);
    // Over the IPv6 header's source (the care-of address) it does not verify.
    const ip = new Ip6();
    ip.wrap(frame, 14);
    expect(v.checksumValidWithIpv6(frame, ip.srcOffset, frame, t.dstOffset)).toBe(false);
    // The home address is a declared ipv6 field: 2001:78:1:32::1, as tshark shows the source.
    const home = parseIpv6('2001:78:1:32::1') as Uint8Array;
    expect(v.checksumValidWithIpv6(home, 0, frame, t.dstOffset)).toBe(true);
  });

  it('rejects a bad checksum (tshark: bad), and encodeUdpIpv6 writes the right one', () => {
    const [frame] = frames('zeek-chksums-ip6-udp-bad-chksum');
    const t = transport(frame);
    const v = new udp.UdpView();
    expect(v.wrap(frame, t.offset, t.length)).toBeNull();
    expect(v.checksumValidWithIpv6(frame, t.srcOffset, frame, t.dstOffset)).toBe(false);
    const f = udp.decodeUdp(frame, t.offset, t.length) as udp.UdpFields;
    const out = frame.slice();
    udp.encodeUdpIpv6(
      { ...f, checksum: undefined },
      out,
      t.offset,
      v.payloadLength,
      frame,
      t.srcOffset,
      frame,
      t.dstOffset,
    );
    expect(v.wrap(out, t.offset, t.length)).toBeNull();
    expect(v.checksumValidWithIpv6(out, t.srcOffset, out, t.dstOffset)).toBe(true);
  });

  it('never takes a stored 0 for "no checksum" over IPv6 (RFC 8200 §8.1), unlike IPv4', () => {
    const [frame] = frames('zeek-chksums-ip6-udp-bad-chksum');
    const t = transport(frame);
    const zero = frame.slice();
    zero[t.offset + 6] = 0;
    zero[t.offset + 7] = 0;
    const v = new udp.UdpView();
    v.wrap(zero, t.offset, t.length);
    expect(v.checksumValidWith(1, 2)).toBe(true);
    expect(v.checksumValidWithIpv6(zero, t.srcOffset, zero, t.dstOffset)).toBe(false);
  });
});
