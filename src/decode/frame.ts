/**
 * Walks one captured frame through the generated views: Ethernet → ARP | IPv4 → ICMP | UDP |
 * TCP → DHCP | DNS, following each spec's dispatch table. The views are owned by the decoder and
 * re-pointed at every frame, so a walk allocates nothing; what was decoded is a bit set, and a
 * failure is the failing view's own error record (valid until the next `decode()`).
 *
 * Rules beyond the dispatch tables, chosen to match what a packet analyser shows:
 * - a non-first IPv4 fragment (fragment offset > 0) carries no transport header, so none is
 *   decoded; a first fragment's transport header is decoded from the fragment itself;
 * - DNS over TCP (port 53) is decoded when the segment holds one whole length-prefixed message
 *   (no stream reassembly);
 * - frames of a link type other than Ethernet get an `E_UNSUPPORTED_LINKTYPE` error per frame.
 */
import type { DecodeError } from '../codec/errors.js';
import { arp, dhcp, dns, ethernet, icmp, ipv4, tcp, udp } from '../generated/index.js';
import { LINKTYPE_ETHERNET } from '../pcap/reader.js';

/** Bit per layer in `FrameDecoder.layers`. */
export const Layer = {
  ethernet: 1,
  arp: 2,
  ipv4: 4,
  icmp: 8,
  udp: 16,
  tcp: 32,
  dhcp: 64,
  dns: 128,
} as const;
export type LayerName = keyof typeof Layer;

/** A decode error, or the frame-level one a non-Ethernet link type gets. */
export interface FrameError {
  code: DecodeError['code'] | 'E_UNSUPPORTED_LINKTYPE';
  layer: string;
  field: string;
  offset: number;
}

const DNS_PORT = 53;
/** DNS header size: a TCP segment shorter than prefix + header holds no DNS message. */
const DNS_HEADER_LEN = 12;

export class FrameDecoder {
  readonly ethernet = new ethernet.EthernetView();
  readonly arp = new arp.ArpView();
  readonly ipv4 = new ipv4.Ipv4View();
  readonly icmp = new icmp.IcmpView();
  readonly udp = new udp.UdpView();
  readonly tcp = new tcp.TcpView();
  readonly dhcp = new dhcp.DhcpView();
  readonly dns = new dns.DnsView();

  /** Layers decoded in the current frame (bits of `Layer`). */
  layers = 0;
  /** Why decoding stopped early, or null when every layer the dispatch named decoded. */
  error: FrameError | null = null;
  /** DNS over TCP: the 2-byte length prefix; -1 when the DNS message came over UDP. */
  dnsTcpLength = -1;
  /** Where the DNS message sits in `bytes` (for `dns.readName`), when `dns` decoded. */
  dnsMessageOffset = 0;
  dnsMessageLength = 0;
  /** The frame being decoded (as passed to `decode`). */
  bytes: Uint8Array = new Uint8Array(0);
  linkType = LINKTYPE_ETHERNET;

  private readonly linkTypeError: FrameError = {
    code: 'E_UNSUPPORTED_LINKTYPE',
    layer: 'frame',
    field: 'linkType',
    offset: 0,
  };

  has(layer: LayerName): boolean {
    return (this.layers & Layer[layer]) !== 0;
  }

  /** Decodes `bytes` (one captured frame); returns true when no layer failed. */
  decode(bytes: Uint8Array, linkType: number = LINKTYPE_ETHERNET): boolean {
    this.bytes = bytes;
    this.linkType = linkType;
    this.layers = 0;
    this.error = null;
    this.dnsTcpLength = -1;
    if (linkType !== LINKTYPE_ETHERNET) {
      this.error = this.linkTypeError;
      return false;
    }
    const eth = this.ethernet;
    let err = eth.wrap(bytes, 0, bytes.length);
    if (err !== null) return this.fail(err);
    this.layers |= Layer.ethernet;

    const next = ethernet.payloadKind(eth);
    if (next === 'arp') {
      err = this.arp.wrap(bytes, eth.payloadOffset, eth.payloadLength);
      if (err !== null) return this.fail(err);
      this.layers |= Layer.arp;
      return true;
    }
    if (next !== 'ipv4') return true;

    const ip = this.ipv4;
    err = ip.wrap(bytes, eth.payloadOffset, eth.payloadLength);
    if (err !== null) return this.fail(err);
    this.layers |= Layer.ipv4;
    if (ip.fragmentOffset !== 0) return true;

    switch (ipv4.payloadKind(ip)) {
      case 'icmp':
        err = this.icmp.wrap(bytes, ip.payloadOffset, ip.payloadLength);
        if (err !== null) return this.fail(err);
        this.layers |= Layer.icmp;
        return true;
      case 'udp':
        return this.decodeUdp(bytes);
      case 'tcp':
        return this.decodeTcp(bytes);
      default:
        return true;
    }
  }

  private decodeUdp(bytes: Uint8Array): boolean {
    const u = this.udp;
    const ip = this.ipv4;
    const err = u.wrap(bytes, ip.payloadOffset, ip.payloadLength);
    if (err !== null) return this.fail(err);
    this.layers |= Layer.udp;
    const app = udp.payloadKind(u);
    if (app === 'dhcp') {
      const e = this.dhcp.wrap(bytes, u.payloadOffset, u.payloadLength);
      if (e !== null) return this.fail(e);
      this.layers |= Layer.dhcp;
    } else if (app === 'dns') {
      this.dnsMessageOffset = u.payloadOffset;
      this.dnsMessageLength = u.payloadLength;
      const e = this.dns.wrap(bytes, u.payloadOffset, u.payloadLength);
      if (e !== null) return this.fail(e);
      this.layers |= Layer.dns;
    }
    return true;
  }

  private decodeTcp(bytes: Uint8Array): boolean {
    const t = this.tcp;
    const ip = this.ipv4;
    const err = t.wrap(bytes, ip.payloadOffset, ip.payloadLength);
    if (err !== null) return this.fail(err);
    this.layers |= Layer.tcp;
    if (t.srcPort !== DNS_PORT && t.dstPort !== DNS_PORT) return true;
    const off = t.payloadOffset;
    const avail = t.payloadLength;
    if (avail < 2 + DNS_HEADER_LEN) return true;
    const prefix = (bytes[off] << 8) | bytes[off + 1];
    // One whole message per segment only: without reassembly a partial one cannot be decoded.
    if (prefix < DNS_HEADER_LEN || prefix > avail - 2) return true;
    this.dnsTcpLength = prefix;
    this.dnsMessageOffset = off + 2;
    this.dnsMessageLength = prefix;
    const e = this.dns.wrap(bytes, off + 2, prefix);
    if (e !== null) return this.fail(e);
    this.layers |= Layer.dns;
    return true;
  }

  private fail(err: DecodeError): false {
    this.error = err;
    return false;
  }
}
