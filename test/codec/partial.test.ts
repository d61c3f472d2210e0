/**
 * wrapPartial(): the datagram an ICMP error quotes is an IPv4 header plus 8 bytes, so its
 * totalLength (and the UDP length) run past the quote. wrap() refuses it; wrapPartial() cuts the
 * payload to what is there and says so, which is how the ports of the offending datagram are read.
 */
import { describe, expect, it } from 'vitest';
import { ethernet, icmp, ipv4, udp } from '../../src/generated/index.js';
import { FIXTURE_DIR, readPcapFrames } from './helpers.js';
import { join } from 'node:path';

describe('wrapPartial() on an ICMP port unreachable from a real capture', () => {
  const frames = readPcapFrames(join(FIXTURE_DIR, 'linux-udp-unreachable.pcap'));
  const frame = frames.find((f) => {
    const e = new ethernet.EthernetView();
    const ip = new ipv4.Ipv4View();
    return (
      e.wrap(f) === null &&
      ip.wrap(f, e.payloadOffset, e.payloadLength) === null &&
      ip.protocol === 1
    );
  });

  it('reads the quoted IPv4 header and UDP ports', () => {
    expect(frame).toBeDefined();
    const f = frame as Uint8Array;
    const e = new ethernet.EthernetView();
    const ip = new ipv4.Ipv4View();
    const ic = new icmp.IcmpView();
    expect(e.wrap(f)).toBeNull();
    expect(ip.wrap(f, e.payloadOffset, e.payloadLength)).toBeNull();
    expect(ic.wrap(f, ip.payloadOffset, ip.payloadLength)).toBeNull();
    expect([ic.type, ic.code]).toEqual([3, 3]);
    expect(ic.checksumValid).toBe(true);

    // Linux quotes the whole datagram; RFC 792 only promises the header and 8 bytes: cut to that.
    const quoted = new ipv4.Ipv4View();
    expect(quoted.wrap(f, ic.payloadOffset, ic.payloadLength)).toBeNull();
    expect(quoted.payloadTruncated).toBe(false);
    const minimal = 20 + 8;
    expect(quoted.wrap(f, ic.payloadOffset, minimal)?.code).toBe('E_TRUNCATED');
    expect(quoted.wrapPartial(f, ic.payloadOffset, minimal)).toBeNull();
    expect(quoted.payloadTruncated).toBe(true);
    expect(quoted.payloadLength).toBe(8);
    expect(quoted.protocol).toBe(17);
    // The quoted datagram went the other way: its source is the ICMP error's destination.
    expect(quoted.src).toBe(ip.dst);
    expect(quoted.checksumValid).toBe(true);

    const u = new udp.UdpView();
    expect(u.wrap(f, quoted.payloadOffset, quoted.payloadLength)?.code).toBe('E_TRUNCATED');
    expect(u.wrapPartial(f, quoted.payloadOffset, quoted.payloadLength)).toBeNull();
    expect(u.payloadTruncated).toBe(true);
    expect(u.payloadLength).toBe(0);
    expect(u.srcPort).toBeGreaterThan(0);
    expect(u.dstPort).toBeGreaterThan(0);
    // A cut datagram's checksum cannot be checked.
    expect(u.checksumValidWith(quoted.src, quoted.dst)).toBe(u.checksum === 0);
    // A plain wrap() after wrapPartial() clears the flag.
    expect(quoted.wrap(f, e.payloadOffset, e.payloadLength)).toBeNull();
    expect(quoted.payloadTruncated).toBe(false);
  });

  it('still rejects what no cut can fix', () => {
    const bytes = new Uint8Array(28);
    bytes[0] = 0x45;
    bytes[3] = 10; // totalLength 10 < header length 20
    expect(new ipv4.Ipv4View().wrapPartial(bytes)?.code).toBe('E_BAD_LENGTH');
    const short = new Uint8Array(12);
    short[0] = 0x45;
    expect(new ipv4.Ipv4View().wrapPartial(short)?.code).toBe('E_TRUNCATED');
    const u = new Uint8Array(8);
    u[5] = 4; // UDP length 4 < 8
    expect(new udp.UdpView().wrapPartial(u)?.code).toBe('E_BAD_LENGTH');
  });
});
