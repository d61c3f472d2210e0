/**
 * encode(decode(b)) reproduces b, byte for byte, for every message of every real capture in
 * test/fixtures/pcap: once with every field as decoded (bad checksums included), and once with
 * the derivable fields (lengths, data offset, checksums) left for the encoder to compute, which
 * must give the same bytes whenever the capture's checksum was right.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  arp,
  dhcp,
  dns,
  ethernet,
  icmp,
  igmp,
  ipv4,
  pcap,
  tcp,
  udp,
  vlan,
} from '../../src/generated/index.js';
import { type DecodeError, isDecodeError } from '../../src/codec/errors.js';
import { fixturePcaps, hex, type Layer, readPcapFrames, splitLayers } from './helpers.js';

function ok<T>(value: T | DecodeError): T {
  if (isDecodeError(value)) throw new Error(`decode failed: ${JSON.stringify(value)}`);
  return value as T;
}

/** Copies the message into a fresh buffer (the payload must sit after the header for checksums). */
function scratch(frame: Uint8Array, l: Layer): Uint8Array {
  const out = new Uint8Array(l.length + 16);
  out.set(frame.subarray(l.offset, l.offset + l.length));
  return out;
}

/** Re-encodes one layer twice (as decoded, then derived); returns [got, want] pairs. */
function reencode(frame: Uint8Array, l: Layer): Array<[string, Uint8Array, Uint8Array]> {
  const want = frame.subarray(l.offset, l.offset + l.headerLength);
  const out = scratch(frame, l);
  const pairs: Array<[string, Uint8Array, Uint8Array]> = [];
  const push = (what: string, n: number): void => {
    pairs.push([what, out.slice(0, Math.max(n, 0)), want]);
    out.set(frame.subarray(l.offset, l.offset + l.length));
  };
  switch (l.name) {
    case 'ethernet': {
      const f = ok(ethernet.decodeEthernet(frame, l.offset, l.length));
      push('as decoded', ethernet.encodeEthernet(f, out, 0));
      break;
    }
    case 'arp': {
      const f = ok(arp.decodeArp(frame, l.offset, l.length));
      push('as decoded', arp.encodeArp(f, out, 0));
      break;
    }
    case 'ipv4': {
      const f = ok(ipv4.decodeIpv4(frame, l.offset, l.length));
      push('as decoded', ipv4.encodeIpv4(f, out, 0, l.payloadLength));
      if (l.checksumOk) {
        const derived = { ...f, ihl: undefined, totalLength: undefined, checksum: undefined };
        push('derived', ipv4.encodeIpv4(derived, out, 0, l.payloadLength));
      }
      break;
    }
    case 'icmp': {
      const f = ok(icmp.decodeIcmp(frame, l.offset, l.length));
      push('as decoded', icmp.encodeIcmp(f, out, 0, l.payloadLength));
      if (l.checksumOk)
        push('derived', icmp.encodeIcmp({ ...f, checksum: undefined }, out, 0, l.payloadLength));
      break;
    }
    case 'igmp': {
      // the v3 report's own layout; every other message (a v3 query's head too) as v1/v2
      if (frame[l.offset] === igmp.IgmpType.V3MembershipReport) {
        const f = ok(igmp.decodeIgmpv3Report(frame, l.offset, l.length));
        push('as decoded', igmp.encodeIgmpv3Report(f, out, 0, l.payloadLength));
        if (l.checksumOk) {
          const derived = { ...f, checksum: undefined };
          push('derived', igmp.encodeIgmpv3Report(derived, out, 0, l.payloadLength));
        }
      } else {
        const f = ok(igmp.decodeIgmp(frame, l.offset, l.length));
        push('as decoded', igmp.encodeIgmp(f, out, 0, l.payloadLength));
        if (l.checksumOk)
          push('derived', igmp.encodeIgmp({ ...f, checksum: undefined }, out, 0, l.payloadLength));
      }
      break;
    }
    case 'udp': {
      const f = ok(udp.decodeUdp(frame, l.offset, l.length));
      push('as decoded', udp.encodeUdp(f, out, 0, l.payloadLength, l.src, l.dst));
      if (l.checksumOk && f.checksum !== 0) {
        const derived = { ...f, length: undefined, checksum: undefined };
        push('derived', udp.encodeUdp(derived, out, 0, l.payloadLength, l.src, l.dst));
      }
      break;
    }
    case 'tcp': {
      const f = ok(tcp.decodeTcp(frame, l.offset, l.length));
      push('as decoded', tcp.encodeTcp(f, out, 0, l.payloadLength, l.src, l.dst));
      if (l.checksumOk) {
        const derived = { ...f, dataOffset: undefined, checksum: undefined };
        push('derived', tcp.encodeTcp(derived, out, 0, l.payloadLength, l.src, l.dst));
      }
      break;
    }
    case 'dhcp': {
      const f = ok(dhcp.decodeDhcp(frame, l.offset, l.length));
      push('as decoded', dhcp.encodeDhcp(f, out, 0));
      break;
    }
    case 'dns':
      // Checked separately below (compression makes byte equality conditional).
      break;
  }
  return pairs;
}

const files = fixturePcaps();

describe('encode(decode(b)) on real captures', () => {
  it('finds the fixture captures', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  for (const file of files) {
    const name = file.split('/').pop() ?? file;
    it(name, () => {
      let messages = 0;
      for (const [i, frame] of readPcapFrames(file).entries()) {
        for (const l of splitLayers(frame)) {
          for (const [what, got, want] of reencode(frame, l)) {
            messages++;
            expect(hex(got), `frame ${i + 1} ${l.name} ${what}`).toBe(hex(want));
          }
          if (l.name !== 'dns') continue;
          const f = ok(dns.decodeDns(frame, l.offset, l.length));
          const out = new Uint8Array(l.length * 2 + 512);
          const n = dns.encodeDns(f, out, 0);
          expect(n, `frame ${i + 1} dns encode`).toBeGreaterThan(0);
          // Same message again after a round trip through our encoder...
          expect(dns.decodeDns(out, 0, n), `frame ${i + 1} dns`).toEqual(f);
          // ...and the same bytes when the capture's names were not compressed (the encoder
          // writes every name in full, and keeps record data as it was).
          if (n === l.length) {
            messages++;
            expect(hex(out.subarray(0, n)), `frame ${i + 1} dns bytes`).toBe(
              hex(frame.subarray(l.offset, l.offset + l.length)),
            );
          }
        }
      }
      expect(messages).toBeGreaterThan(0);
    });
  }
});

describe('encode(decode(b)) = b for the messages the layer walk leaves out', () => {
  const frames = files.flatMap((file) => readPcapFrames(file));

  it('VLAN tags (802.1Q, 802.1ad)', () => {
    let tags = 0;
    for (const frame of frames) {
      let at = 12;
      // Every stacked tag: its 4 bytes follow the EtherType that announced it.
      while (
        at + 6 <= frame.length &&
        [0x8100, 0x88a8, 0x9100].includes((frame[at] << 8) | frame[at + 1])
      ) {
        const f = ok(vlan.decodeVlan(frame, at + 2, frame.length - at - 2));
        const out = new Uint8Array(4);
        expect(vlan.encodeVlan(f, out, 0)).toBe(4);
        expect(hex(out)).toBe(hex(frame.subarray(at + 2, at + 6)));
        tags++;
        at += 4;
      }
    }
    expect(tags).toBeGreaterThan(0);
  });

  it('ARP read with the any-size view', () => {
    let messages = 0;
    for (const frame of frames) {
      if (frame.length < 14 + 8 || ((frame[12] << 8) | frame[13]) !== 0x0806) continue;
      const f = arp.decodeArpAnySize(frame, 14, frame.length - 14);
      if (isDecodeError(f)) continue;
      const size = 8 + 2 * f.hlen + 2 * f.plen;
      const out = new Uint8Array(size);
      expect(arp.encodeArpAnySize(f, out, 0)).toBe(size);
      expect(hex(out)).toBe(hex(frame.subarray(14, 14 + size)));
      messages++;
    }
    expect(messages).toBeGreaterThan(0);
  });

  it('pcap file and record headers (either byte order)', () => {
    let records = 0;
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(file));
      // The file's byte order is the one its magic reads right in; pcapng files have neither.
      const le = pcap.decodePcapFile(bytes, 0, 24, true);
      const be = pcap.decodePcapFile(bytes, 0, 24, false);
      if (isDecodeError(le) && isDecodeError(be)) continue;
      const little = !isDecodeError(le);
      const out = new Uint8Array(24);
      expect(pcap.encodePcapFile((little ? le : be) as pcap.PcapFileFields, out, 0, little)).toBe(
        24,
      );
      expect(hex(out)).toBe(hex(bytes.subarray(0, 24)));
      for (let at = 24; at + 16 <= bytes.length;) {
        const r = pcap.decodePcapRecord(bytes, at, bytes.length - at, little);
        if (isDecodeError(r)) break;
        const rec = new Uint8Array(16);
        expect(pcap.encodePcapRecord(r, rec, 0, r.inclLen ?? 0, little)).toBe(16);
        expect(hex(rec)).toBe(hex(bytes.subarray(at, at + 16)));
        at += 16 + (r.inclLen ?? 0);
        records++;
      }
    }
    expect(records).toBeGreaterThan(100);
  });
});
