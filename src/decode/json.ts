/**
 * `pktstack decode --json`: one object per frame, `{"frame":N,"layers":{...},"error":null}`,
 * each layer being its view's toJSON() (field names from issue 2 / docs/codec-api.md).
 *
 * VLAN tags (802.1Q, 802.1ad) are the `vlan` layer: a list, outermost tag first, of
 * `{pcp, dei, id, etherType}`; `ethernet.etherType` stays the first tag's 0x8100 / 0x88a8.
 *
 * Some values need context a single view does not have, so they are set here:
 * - UDP and TCP `checksumValid` need the IPv4 pseudo-header; it is `null` (cannot be checked)
 *   for the first fragment of a fragmented datagram and for a datagram the capture cut, whose
 *   checksum covers bytes this frame does not hold (ICMP's likewise);
 * - TCP `payloadLength` of a cut datagram is the length the IPv4 header declares (bounded by the
 *   wire length), as packet analysers report it, not the bytes captured;
 * - ARP with address sizes other than 6/4: hardware addresses as a MAC when 6 bytes long, colon
 *   hex otherwise; protocol addresses dotted when 4 bytes long, colon hex otherwise;
 * - DNS over TCP gets `tcpLength`, the 2-byte length prefix it came with;
 * - DNS also shows `z`, the three header bits between `ra` and `rcode` (Z, AD, CD), so that the
 *   16 flag bits can be rebuilt from the JSON.
 */
import { formatHexColon, formatHwAddr, formatIpv4, readIpv4 } from '../codec/address.js';
import { type CaptureDecoder, type FrameError } from './capture.js';

export interface FrameJSON {
  frame: number;
  layers: Record<string, unknown>;
  error: FrameError | null;
}

export function frameToJSON(d: CaptureDecoder, frameNumber: number): FrameJSON {
  const layers: Record<string, unknown> = {};
  if (d.has('ethernet')) layers.ethernet = d.ethernet.toJSON();
  if (d.has('vlan')) layers.vlan = d.vlans.slice(0, d.vlanCount).map((v) => v.toJSON());
  if (d.has('arp')) layers.arp = d.arpAnySize ? arpAnySizeJSON(d) : d.arp.toJSON();
  if (d.has('ipv4')) layers.ipv4 = d.ipv4.toJSON();
  if (d.has('icmp')) {
    const icmp: Record<string, unknown> = { ...d.icmp.toJSON() };
    if (d.transportIncomplete) icmp.checksumValid = null;
    layers.icmp = icmp;
  }
  if (d.has('udp')) layers.udp = { ...d.udp.toJSON(), checksumValid: udpChecksum(d) };
  if (d.has('tcp')) {
    layers.tcp = {
      ...d.tcp.toJSON(),
      checksumValid: d.transportIncomplete ? null : d.tcp.checksumValidWith(d.ipv4.src, d.ipv4.dst),
      payloadLength: d.tcpPayloadLength,
    };
  }
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

/** A UDP datagram whose own length fits the captured bytes can be checked even if IPv4 lies. */
function udpChecksum(d: CaptureDecoder): boolean | null {
  if (d.firstFragment || d.udp.payloadTruncated) return null;
  return d.udp.checksumValidWith(d.ipv4.src, d.ipv4.dst);
}

function arpAnySizeJSON(d: CaptureDecoder): Record<string, unknown> {
  const a = d.arpAny;
  const b = a.bytes;
  const hw = (off: number): string => formatHwAddr(b, off, a.hlen, a.hlen);
  const proto = (off: number): string =>
    a.plen === 4 ? formatIpv4(readIpv4(b, off)) : formatHexColon(b, off, a.plen);
  return {
    ...a.toJSON(),
    sha: hw(a.shaOffset),
    spa: proto(a.spaOffset),
    tha: hw(a.thaOffset),
    tpa: proto(a.tpaOffset),
  };
}
