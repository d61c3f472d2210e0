/**
 * Test helpers for the codec tests: a minimal classic-pcap reader (the fixtures are Ethernet
 * captures), a splitter that walks a frame through the generated views layer by layer, and a
 * Uint8Array stand-in that records reads outside a window.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { arp, dhcp, dns, ethernet, icmp, igmp, ipv4, tcp, udp } from '../../src/generated/index.js';

export const FIXTURE_DIR = join(import.meta.dirname, '..', 'fixtures', 'pcap');

/** Classic pcap files among the fixtures (pcapng ones are the decode CLI's business). */
export function fixturePcaps(): string[] {
  // the IPv4 family, then the next protocols (IPv6, IGMP, tunnels, ...)
  return [FIXTURE_DIR, join(FIXTURE_DIR, '..', 'next', 'pcap')].flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.pcap'))
      .sort()
      .map((f) => join(dir, f)),
  );
}

/** Frames (captured bytes) of a classic pcap file, any byte order / timestamp precision. */
export function readPcapFrames(path: string): Uint8Array[] {
  const buf = new Uint8Array(readFileSync(path));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, true);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const frames: Uint8Array[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const incl = dv.getUint32(off + 8, le);
    off += 16;
    if (off + incl > buf.length) break;
    frames.push(buf.slice(off, off + incl));
    off += incl;
  }
  return frames;
}

export type LayerName =
  'ethernet' | 'arp' | 'ipv4' | 'icmp' | 'igmp' | 'udp' | 'tcp' | 'dhcp' | 'dns';

/** One decoded layer: where its message sits in the frame and the IPv4 addresses above it. */
export interface Layer {
  name: LayerName;
  offset: number;
  length: number;
  /** Header bytes (for layers with a payload) or the whole message. */
  headerLength: number;
  payloadLength: number;
  src: number;
  dst: number;
  /** The message's checksum verifies (true when it has none). */
  checksumOk: boolean;
}

/** Walks a frame through the views as far as it decodes (fragments stop at IPv4). */
export function splitLayers(frame: Uint8Array): Layer[] {
  const layers: Layer[] = [];
  const eth = new ethernet.EthernetView();
  if (eth.wrap(frame) !== null) return layers;
  layers.push(layer('ethernet', eth.offset, eth.byteLength, 14, eth.payloadLength, 0, 0, true));
  const kind = ethernet.payloadKind(eth);
  if (kind === 'arp') {
    const a = new arp.ArpView();
    if (a.wrap(frame, eth.payloadOffset, eth.payloadLength) === null) {
      layers.push(layer('arp', a.offset, a.byteLength, 28, 0, 0, 0, true));
    }
    return layers;
  }
  if (kind !== 'ipv4') return layers;
  const ip = new ipv4.Ipv4View();
  if (ip.wrap(frame, eth.payloadOffset, eth.payloadLength) !== null) return layers;
  layers.push(
    layer(
      'ipv4',
      ip.offset,
      ip.byteLength,
      ip.headerLength,
      ip.payloadLength,
      0,
      0,
      ip.checksumValid,
    ),
  );
  if (ip.fragmentOffset !== 0 || (ip.flags & 1) !== 0) return layers;
  const { src, dst } = ip;
  switch (ipv4.payloadKind(ip)) {
    case 'icmp': {
      const v = new icmp.IcmpView();
      if (v.wrap(frame, ip.payloadOffset, ip.payloadLength) === null) {
        layers.push(
          layer('icmp', v.offset, v.byteLength, 8, v.payloadLength, src, dst, v.checksumValid),
        );
      }
      break;
    }
    case 'igmp': {
      const v = new igmp.IgmpView();
      if (v.wrap(frame, ip.payloadOffset, ip.payloadLength) === null) {
        const ok = v.checksumValid;
        // A v3 report's header holds its group records.
        const r = new igmp.Igmpv3ReportView();
        if (
          v.type === igmp.IgmpType.V3MembershipReport &&
          r.wrap(frame, v.offset, v.byteLength) === null
        ) {
          layers.push(
            layer('igmp', r.offset, r.byteLength, r.headerLength, r.payloadLength, src, dst, ok),
          );
        } else {
          layers.push(layer('igmp', v.offset, v.byteLength, 8, v.payloadLength, src, dst, ok));
        }
      }
      break;
    }
    case 'tcp': {
      const v = new tcp.TcpView();
      if (v.wrap(frame, ip.payloadOffset, ip.payloadLength) === null) {
        const ok = v.checksumValidWith(src, dst);
        layers.push(
          layer('tcp', v.offset, v.byteLength, v.headerLength, v.payloadLength, src, dst, ok),
        );
      }
      break;
    }
    case 'udp': {
      const v = new udp.UdpView();
      if (v.wrap(frame, ip.payloadOffset, ip.payloadLength) !== null) break;
      const ok = v.checksumValidWith(src, dst);
      layers.push(layer('udp', v.offset, v.byteLength, 8, v.payloadLength, src, dst, ok));
      const app = udp.payloadKind(v);
      if (app === 'dhcp') {
        const d = new dhcp.DhcpView();
        if (d.wrap(frame, v.payloadOffset, v.payloadLength) === null) {
          layers.push(layer('dhcp', d.offset, d.byteLength, d.byteLength, 0, src, dst, true));
        }
      } else if (app === 'dns') {
        const d = new dns.DnsView();
        if (d.wrap(frame, v.payloadOffset, v.payloadLength) === null) {
          layers.push(layer('dns', d.offset, d.byteLength, d.byteLength, 0, src, dst, true));
        }
      }
      break;
    }
    case null:
      break;
  }
  return layers;
}

function layer(
  name: LayerName,
  offset: number,
  length: number,
  headerLength: number,
  payloadLength: number,
  src: number,
  dst: number,
  checksumOk: boolean,
): Layer {
  return { name, offset, length, headerLength, payloadLength, src, dst, checksumOk };
}

/** Hex for readable assertion failures. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A Uint8Array stand-in that records every index read outside [lo, hi). */
export function watched(
  bytes: Uint8Array,
  lo: number,
  hi: number,
): { proxy: Uint8Array; outside: number[] } {
  const outside: number[] = [];
  const proxy = new Proxy(bytes, {
    get(target, key) {
      if (typeof key === 'string' && /^\d+$/.test(key)) {
        const i = Number(key);
        if (i < lo || i >= hi) outside.push(i);
        return target[i];
      }
      const value = (target as unknown as Record<string | symbol, unknown>)[key];
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
  return { proxy, outside };
}
