/**
 * `pktstack decode --json`: one object per frame, `{"frame":N,"layers":{...},"error":null}`,
 * each layer being its view's toJSON() (field names from issue 2 / docs/codec-api.md).
 *
 * VLAN tags (802.1Q, 802.1ad) are the `vlan` layer: a list, outermost tag first, of
 * `{pcp, dei, id, etherType}`; `ethernet.etherType` stays the first tag's 0x8100 / 0x88a8.
 *
 * A header that failed validation, or a transport/application header an incomplete datagram
 * cuts, is shown in part: its layer holds the fixed fields the bytes have up to the failing one
 * (and that one), and `partial` names that layer (the key is there only then). With an error,
 * `error.layer` is that layer.
 *
 * Some values need context a single view does not have, so they are set here:
 * - UDP and TCP `checksumValid` need the IPv4 or IPv6 pseudo-header (over IPv6 with the
 *   addresses an extension header may name instead: see CaptureDecoder.pseudoSrcOffset); it is `null` (cannot be checked)
 *   for the first fragment of a fragmented datagram and for a datagram the capture cut, whose
 *   checksum covers bytes this frame does not hold (ICMP's likewise);
 * - TCP `payloadLength` of a cut datagram is the length the IPv4 header declares (bounded by the
 *   wire length), as packet analysers report it, not the bytes captured;
 * - IPv4 with total length 0 (a capture taken before TCP segmentation offload, or BIG TCP) keeps
 *   `totalLength: 0` and gets `offloadedLength`, the length the rest of the frame gives it on the
 *   wire (tshark's total length, "presumed to be because of TSO");
 * - IPv6 extension headers are `ipv6.ext`, in wire order, each `{hdr, ...fields}` with tshark's
 *   name for it (hopopts, dstopts, routing, fraghdr); a routing header shows the layout of its
 *   type (0, 2, 4) when it is one of those. One that failed is the last, in part (`partial` is
 *   then `ipv6ext`);
 * - an IPv6 jumbogram (RFC 2675: payload length 0, the length in a hop-by-hop option) gets
 *   `jumboLength`, the bytes after the IPv6 header;
 * - ARP other than Ethernet/IPv4 (address sizes other than 6/4, or a protocol type other than
 *   IPv4): hardware addresses as a MAC when 6 bytes long, colon hex otherwise; protocol addresses
 *   dotted when they are 4-byte IPv4 addresses, colon hex (bytes) otherwise;
 * - DNS over TCP gets `tcpLength`, the 2-byte length prefix it came with; each answer gets
 *   `data`, its RDATA as the record data message of its type shows it (dns.ts);
 * - what a tunnel carries (VXLAN, Geneve, IPv4 in IPv4, GRE, PPP in GRE) is the layers of `inner`, nested
 *   one level per tunnel, as the tshark oracle nests it (PPP itself is a layer beside GRE);
 * - LLDP gets `chassisId` and `portId`, the first of each as text (lldp.ts: a MAC, a name, or hex);
 * - GRE's `checksumValid` is null when it has no checksum, or covers a payload the frame cuts.
 * - DNS with an EDNS OPT record (RFC 6891) gets `edns`: the UDP payload size, extended rcode bits,
 *   version, DO bit, the whole 12-bit rcode, and its options (code, length, data as colon hex;
 *   client subnet family/prefixes/address and cookie client/server decoded), see edns.ts.
 */
import { formatHexColon, formatHwAddr, formatIpv4, readIpv4 } from '../codec/address.js';
import { EtherType } from '../generated/ethernet.js';
import { type CaptureDecoder, type FrameError, type Ipv6Ext } from './capture.js';
import { answersJSON } from './dns.js';
import { ednsOf } from './edns.js';
import { lldpIds } from './lldp.js';

export interface FrameJSON {
  frame: number;
  layers: Record<string, unknown>;
  /** The layer shown only in part (its fixed fields up to the failing one), when there is one. */
  partial?: string;
  error: FrameError | null;
}

export function frameToJSON(d: CaptureDecoder, frameNumber: number): FrameJSON {
  const layers: Record<string, unknown> = {};
  if (d.has('ethernet')) layers.ethernet = d.ethernet.toJSON();
  if (d.has('vlan')) layers.vlan = d.vlans.slice(0, d.vlanCount).map((v) => v.toJSON());
  if (d.has('mpls')) layers.mpls = d.mpls.toJSON();
  if (d.has('arp')) layers.arp = d.arpAnySize ? arpAnySizeJSON(d) : d.arp.toJSON();
  if (d.has('ipv4')) {
    layers.ipv4 = d.offloaded
      ? { ...d.ip.toJSON(), offloadedLength: d.offloadedLength }
      : d.ipv4.toJSON();
  }
  if (d.has('ipv6')) {
    const ip: Record<string, unknown> = { ...d.ipv6.toJSON() };
    if (d.jumbogram) ip.jumboLength = d.ipv6DatagramEnd - d.ipv6.payloadOffset;
    if (d.ipv6ExtCount > 0) ip.ext = d.ipv6Exts.slice(0, d.ipv6ExtCount).map(ipv6ExtJSON);
    layers.ipv6 = ip;
  }
  if (d.has('icmp')) {
    const icmp: Record<string, unknown> = { ...d.icmp.toJSON() };
    if (d.transportIncomplete) icmp.checksumValid = null;
    layers.icmp = icmp;
  }
  if (d.has('igmp')) layers.igmp = igmpJSON(d);
  if (d.has('icmpv6')) layers.icmpv6 = icmpv6JSON(d);
  if (d.has('udp')) layers.udp = { ...d.udp.toJSON(), checksumValid: udpChecksum(d) };
  if (d.has('tcp')) {
    layers.tcp = {
      ...d.tcp.toJSON(),
      checksumValid: d.transportIncomplete ? null : tcpChecksum(d),
      payloadLength: d.tcpPayloadLength,
    };
  }
  if (d.has('dhcp')) layers.dhcp = d.dhcp.toJSON();
  if (d.has('dhcpv6')) layers.dhcpv6 = d.dhcpv6.toJSON();
  if (d.has('dns')) {
    const msg: Record<string, unknown> = { ...d.dns.toJSON(), answers: answersJSON(d.dns) };
    if (d.dnsTcpLength >= 0) msg.tcpLength = d.dnsTcpLength;
    const opt = ednsOf(d.dns);
    if (opt !== null) msg.edns = opt;
    layers.dns = msg;
  }
  const partial = d.partialLayer;
  if (partial !== null) {
    const fields = d.partialFields();
    if (partial === 'ipv6ext') {
      // A header of which no field is there is not shown (as tshark shows none).
      const ip = layers.ipv6 as Record<string, unknown>;
      if (fields !== null && Object.keys(fields).length > 0)
        ip.ext = [...((ip.ext as unknown[]) ?? []), { hdr: d.ipv6ExtFailed, ...fields }];
    } else if (partial === 'vlan') layers.vlan = [...((layers.vlan as unknown[]) ?? []), fields];
    else layers[partial] = fields;
  }
  if (d.has('vxlan')) layers.vxlan = d.vxlan.toJSON();
  if (d.has('geneve')) layers.geneve = d.geneve.toJSON();
  if (d.has('lldp')) layers.lldp = { ...d.lldp.toJSON(), ...lldpIds(d.lldp) };
  if (d.has('gre')) {
    const g: Record<string, unknown> = { ...d.gre.toJSON() };
    // A checksum over a payload this frame holds in part cannot be checked.
    if (d.transportIncomplete) g.checksumValid = null;
    layers.gre = g;
  }
  if (d.has('ppp')) layers.ppp = d.ppp.toJSON();
  if (d.inner !== null) layers.inner = frameToJSON(d.inner, frameNumber).layers;
  const e = d.error;
  return {
    frame: frameNumber,
    layers,
    ...(partial !== null ? { partial } : {}),
    error: e === null ? null : { code: e.code, layer: e.layer, field: e.field, offset: e.offset },
  };
}

/** One IPv6 extension header: tshark's name for it, then its view's fields. */
function ipv6ExtJSON(e: Ipv6Ext): Record<string, unknown> {
  switch (e.name) {
    case 'hopopts':
    case 'dstopts':
      return { hdr: e.name, ...e.options.toJSON() };
    case 'fraghdr':
      return { hdr: e.name, ...e.fragment.toJSON() };
    case 'routing':
      return { hdr: e.name, ...e.routing.toJSON() };
  }
}

/** IGMP in its layout's view; the checksum of a message this frame holds in part is not known. */
function igmpJSON(d: CaptureDecoder): Record<string, unknown> {
  const msg: Record<string, unknown> = { ...d.igmp.toJSON() };
  if (d.transportIncomplete) msg.checksumValid = null;
  return msg;
}

/**
 * ICMPv6 in its layout's view, its checksum over the IPv6 pseudo-header's addresses (those an
 * extension header names); not known for a message this frame holds in part.
 */
function icmpv6JSON(d: CaptureDecoder): Record<string, unknown> {
  const b = d.bytes;
  const src = b.subarray(d.pseudoSrcOffset, d.pseudoSrcOffset + 16);
  const dst = b.subarray(d.pseudoDstOffset, d.pseudoDstOffset + 16);
  const msg: Record<string, unknown> = { ...d.icmpv6.toJSON(src, dst) };
  if (d.transportIncomplete) msg.checksumValid = null;
  if (d.quoted !== null) msg.quoted = frameToJSON(d.quoted, 0).layers;
  return msg;
}

/** A UDP datagram whose own length fits the captured bytes can be checked even if IPv4 lies. */
function udpChecksum(d: CaptureDecoder): boolean | null {
  if (d.firstFragment || d.udp.payloadTruncated) return null;
  if (d.ipVersion === 6)
    return d.udp.checksumValidWithIpv6(d.bytes, d.pseudoSrcOffset, d.bytes, d.pseudoDstOffset);
  return d.udp.checksumValidWith(d.ip.src, d.ip.dst);
}

/** TCP's checksum over the pseudo-header of the IP version that carries it. */
function tcpChecksum(d: CaptureDecoder): boolean {
  if (d.ipVersion === 6)
    return d.tcp.checksumValidWithIpv6(d.bytes, d.pseudoSrcOffset, d.bytes, d.pseudoDstOffset);
  return d.tcp.checksumValidWith(d.ip.src, d.ip.dst);
}

/** ARP of any address sizes and protocol type, its addresses formatted (see above). */
export function arpAnySizeJSON(d: CaptureDecoder): Record<string, unknown> & {
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
} {
  const a = d.arpAny;
  const b = a.bytes;
  const hw = (off: number): string => formatHwAddr(b, off, a.hlen, a.hlen);
  const ipv4 = a.ptype === EtherType.IPv4 && a.plen === 4;
  const proto = (off: number): string =>
    ipv4 ? formatIpv4(readIpv4(b, off)) : formatHexColon(b, off, a.plen);
  return {
    ...a.toJSON(),
    sha: hw(a.shaOffset),
    spa: proto(a.spaOffset),
    tha: hw(a.thaOffset),
    tpa: proto(a.tpaOffset),
  };
}
