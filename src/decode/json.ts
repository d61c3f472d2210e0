/**
 * `pktstack decode --json`: one object per frame, `{"frame":N,"layers":{...},"error":null}`,
 * each layer being its view's toJSON() (field names from issue 2 / docs/codec-api.md).
 *
 * Two values need context a single view does not have, so they are set here:
 * - UDP and TCP `checksumValid` need the IPv4 pseudo-header; it is `null` for the first fragment
 *   of a fragmented datagram, whose checksum covers bytes this frame does not hold;
 * - DNS over TCP gets `tcpLength`, the 2-byte length prefix it came with;
 * - DNS also shows `z`, the three header bits between `ra` and `rcode` (Z, AD, CD), so that the
 *   16 flag bits can be rebuilt from the JSON.
 */
import { type FrameDecoder, type FrameError } from './frame.js';

export interface FrameJSON {
  frame: number;
  layers: Record<string, unknown>;
  error: FrameError | null;
}

/** IPv4 More Fragments flag within the 3-bit flags field. */
const IPV4_MF = 1;

export function frameToJSON(d: FrameDecoder, frameNumber: number): FrameJSON {
  const layers: Record<string, unknown> = {};
  if (d.has('ethernet')) layers.ethernet = d.ethernet.toJSON();
  if (d.has('arp')) layers.arp = d.arp.toJSON();
  if (d.has('ipv4')) layers.ipv4 = d.ipv4.toJSON();
  if (d.has('icmp')) {
    const icmp: Record<string, unknown> = { ...d.icmp.toJSON() };
    if (isFirstFragment(d)) icmp.checksumValid = null;
    layers.icmp = icmp;
  }
  if (d.has('udp')) layers.udp = { ...d.udp.toJSON(), checksumValid: transportChecksum(d, 'udp') };
  if (d.has('tcp')) layers.tcp = { ...d.tcp.toJSON(), checksumValid: transportChecksum(d, 'tcp') };
  if (d.has('dhcp')) layers.dhcp = d.dhcp.toJSON();
  if (d.has('dns')) {
    const msg: Record<string, unknown> = { ...d.dns.toJSON(), z: d.dns.z };
    if (d.dnsTcpLength >= 0) msg.tcpLength = d.dnsTcpLength;
    layers.dns = msg;
  }
  const e = d.error;
  return {
    frame: frameNumber,
    layers,
    error: e === null ? null : { code: e.code, layer: e.layer, field: e.field, offset: e.offset },
  };
}

function isFirstFragment(d: FrameDecoder): boolean {
  return (d.ipv4.flags & IPV4_MF) !== 0;
}

function transportChecksum(d: FrameDecoder, layer: 'udp' | 'tcp'): boolean | null {
  if (isFirstFragment(d)) return null;
  const { src, dst } = d.ipv4;
  return layer === 'udp' ? d.udp.checksumValidWith(src, dst) : d.tcp.checksumValidWith(src, dst);
}
