/**
 * CaptureDecoder: walks one captured frame the way `pktstack decode` shows it, through the
 * generated views: Ethernet → (802.1Q/802.1ad tags) → ARP | IPv4 → ICMP | UDP | TCP → DHCP |
 * DNS, following each spec's dispatch table. Where the generated FrameDecoder (frame.ts) is the
 * strict, fast path for live traffic, this one is lenient the way a packet analyser is (cut
 * captures, fragments, DNS over TCP; the rules are below). The views are owned by the decoder and
 * re-pointed at every frame, so a walk allocates nothing; what was decoded is a bit set, and a
 * failure is the failing view's own error record (valid until the next `decode()`).
 *
 * Rules beyond the dispatch tables, chosen to match what a packet analyser shows:
 * - a non-first IPv4 fragment (fragment offset > 0) carries no transport header, so none is
 *   decoded; a first fragment's transport header is decoded from the fragment itself (UDP through
 *   `wrapPartial()`: its length covers the whole datagram), with no error: the datagram is
 *   legitimately incomplete;
 * - an IPv4 datagram whose total length runs past the captured bytes (a frame cut by the capture's
 *   snap length, or a lying length) still shows every header that is there: IPv4 is wrapped with
 *   `wrapPartial()` and the transport header decoded from what remains, while the frame keeps the
 *   `E_TRUNCATED` error of the IPv4 payload (the first error is the one reported; a header that is
 *   itself cut stops the walk there). A UDP length past a whole, unfragmented datagram is handled
 *   the same way, with the error in udp. An application layer in a cut payload is decoded only
 *   when it happens to be whole;
 * - a frame the capture cut (original length > captured) where no decoded layer ran past the
 *   captured bytes gets `E_TRUNCATED` at `ethernet.payload` when the bytes go on past the
 *   datagram into a padding/trailer that is cut (offset: the datagram's end), or when the
 *   EtherType is one we do not decode (offset: the bytes captured); a cut exactly at the end of
 *   the datagram hides nothing and is no error;
 * - DNS over TCP (port 53) is decoded when the segment holds one whole length-prefixed message
 *   (no stream reassembly);
 * - up to MAX_VLAN_TAGS stacked VLAN tags are decoded (deeper stacks end the walk quietly);
 *   EtherType 0x8035 (RARP) uses the ARP layout, as the Ethernet and VLAN dispatch tables say;
 * - ARP is read with the Ethernet/IPv4 view (`arp`, the stack's) when it fits, otherwise with
 *   `arpAny`, which takes the address sizes from hlen/plen;
 * - frames of a link type other than Ethernet get an `E_UNSUPPORTED_LINKTYPE` error per frame.
 */
import type { DecodeError } from '../codec/errors.js';
import { arp, dhcp, dns, ethernet, icmp, ipv4, tcp, udp, vlan } from '../generated/index.js';
import { LINKTYPE_ETHERNET } from '../pcap/reader.js';

/** Bit per layer in `CaptureDecoder.layers`. */
export const CaptureLayer = {
  ethernet: 1,
  arp: 2,
  ipv4: 4,
  icmp: 8,
  udp: 16,
  tcp: 32,
  dhcp: 64,
  dns: 128,
  vlan: 256,
} as const;
export type CaptureLayerName = keyof typeof CaptureLayer;

/** A decode error, or the frame-level one a non-Ethernet link type gets. */
export interface FrameError {
  code: DecodeError['code'] | 'E_UNSUPPORTED_LINKTYPE';
  layer: string;
  field: string;
  offset: number;
}

/** VLAN tags decoded per frame (802.1ad QinQ uses two; more is not seen in practice). */
export const MAX_VLAN_TAGS = 4;
const DNS_PORT = 53;
/** ARP header bytes before the four addresses. */
const ARP_FIXED_LEN = 8;
/** IPv4 More Fragments flag within the 3-bit flags field. */
const IPV4_MF = 1;
/** DNS header size: a TCP segment shorter than prefix + header holds no DNS message. */
const DNS_HEADER_LEN = 12;

export class CaptureDecoder {
  readonly ethernet = new ethernet.EthernetView();
  readonly arp = new arp.ArpView();
  /** ARP/RARP with address sizes other than Ethernet/IPv4's 6/4 (then `arpAnySize` is set). */
  readonly arpAny = new arp.ArpAnySizeView();
  arpAnySize = false;
  readonly ipv4 = new ipv4.Ipv4View();
  readonly icmp = new icmp.IcmpView();
  readonly udp = new udp.UdpView();
  readonly tcp = new tcp.TcpView();
  readonly dhcp = new dhcp.DhcpView();
  readonly dns = new dns.DnsView();
  /** One view per VLAN tag, outermost first; `vlanCount` of them are valid. */
  readonly vlans: readonly vlan.VlanView[] = Array.from(
    { length: MAX_VLAN_TAGS },
    () => new vlan.VlanView(),
  );
  vlanCount = 0;

  /** Layers decoded in the current frame (bits of `CaptureLayer`). */
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
  /** The frame's length on the wire (pcap origLen); more than `bytes.length` when cut. */
  origLength = 0;
  /** The IPv4 datagram is the first fragment of a larger one (MF set, fragment offset 0). */
  firstFragment = false;

  /** The E_TRUNCATED of a cut IPv4/UDP payload, kept while the walk goes on (reused per frame). */
  private readonly cutError: DecodeError = {
    code: 'E_TRUNCATED',
    layer: 'ipv4',
    field: 'payload',
    offset: 0,
  };

  /** A frame the capture cut where no decoded layer's length ran past it. */
  private readonly frameCutError: DecodeError = {
    code: 'E_TRUNCATED',
    layer: 'ethernet',
    field: 'payload',
    offset: 0,
  };

  private readonly linkTypeError: FrameError = {
    code: 'E_UNSUPPORTED_LINKTYPE',
    layer: 'frame',
    field: 'linkType',
    offset: 0,
  };

  has(layer: CaptureLayerName): boolean {
    return (this.layers & CaptureLayer[layer]) !== 0;
  }

  /**
   * Decodes `bytes` (one captured frame; `origLength` is its length on the wire when the capture
   * cut it); returns true when no layer failed.
   */
  decode(
    bytes: Uint8Array,
    linkType: number = LINKTYPE_ETHERNET,
    origLength: number = bytes.length,
  ): boolean {
    this.bytes = bytes;
    this.linkType = linkType;
    this.origLength = Math.max(origLength, bytes.length);
    this.layers = 0;
    this.error = null;
    this.dnsTcpLength = -1;
    this.firstFragment = false;
    this.vlanCount = 0;
    this.arpAnySize = false;
    if (linkType !== LINKTYPE_ETHERNET) {
      this.error = this.linkTypeError;
      return false;
    }
    this.walk(bytes);
    if (this.error === null && this.origLength > bytes.length) this.checkCutTrailer(bytes.length);
    return this.error === null;
  }

  /**
   * TCP payload length as a packet analyser reports it: from the IPv4 total length (or, when the
   * capture cut the frame, the wire length), not just the bytes captured.
   */
  get tcpPayloadLength(): number {
    const t = this.tcp;
    const ip = this.ipv4;
    if (!ip.payloadTruncated) return t.payloadLength;
    const onWire = this.origLength - ip.offset;
    const datagram = Math.min(ip.totalLength, onWire);
    return Math.max(0, datagram - ip.ihl * 4 - t.dataOffset * 4);
  }

  /** The transport checksum cannot be checked: its datagram is not all in this frame. */
  get transportIncomplete(): boolean {
    return this.firstFragment || this.ipv4.payloadTruncated;
  }

  private walk(bytes: Uint8Array): void {
    const eth = this.ethernet;
    let err = eth.wrap(bytes, 0, bytes.length);
    if (err !== null) return this.fail(err);
    this.layers |= CaptureLayer.ethernet;

    // Where the network layer starts: after the Ethernet header and any VLAN tags.
    let off = eth.payloadOffset;
    let len = eth.payloadLength;
    let next: ethernet.EthernetPayloadKind | vlan.VlanPayloadKind | null =
      ethernet.payloadKind(eth);
    while (next === 'vlan') {
      if (this.vlanCount === MAX_VLAN_TAGS) return;
      const tag = this.vlans[this.vlanCount];
      err = tag.wrap(bytes, off, len);
      if (err !== null) return this.fail(err);
      this.vlanCount++;
      this.layers |= CaptureLayer.vlan;
      off = tag.payloadOffset;
      len = tag.payloadLength;
      next = vlan.payloadKind(tag);
    }
    if (next === 'arp') {
      err = this.arp.wrap(bytes, off, len);
      if (err !== null) {
        // Not the 6/4 layout (or too short for it): read the sizes the header gives.
        err = this.arpAny.wrap(bytes, off, len);
        if (err !== null) return this.fail(err);
        this.arpAnySize = true;
      }
      this.layers |= CaptureLayer.arp;
      return;
    }
    if (next !== 'ipv4') return;

    const ip = this.ipv4;
    err = ip.wrap(bytes, off, len);
    if (err !== null) {
      if (!isCutPayload(err)) return this.fail(err);
      this.noteCut(err);
      err = ip.wrapPartial(bytes, off, len);
      if (err !== null) return this.fail(err);
    }
    this.layers |= CaptureLayer.ipv4;
    if (ip.fragmentOffset !== 0) return;
    this.firstFragment = (ip.flags & IPV4_MF) !== 0;

    switch (ipv4.payloadKind(ip)) {
      case 'icmp':
        err = this.icmp.wrap(bytes, ip.payloadOffset, ip.payloadLength);
        if (err !== null) return this.fail(err);
        this.layers |= CaptureLayer.icmp;
        return;
      case 'udp':
        return this.decodeUdp(bytes);
      case 'tcp':
        return this.decodeTcp(bytes);
      default:
        return;
    }
  }

  private decodeUdp(bytes: Uint8Array): void {
    const u = this.udp;
    const ip = this.ipv4;
    let err = u.wrap(bytes, ip.payloadOffset, ip.payloadLength);
    // A UDP length past the IPv4 payload: show the header and cut the payload. That is expected
    // when the IPv4 payload is a first fragment or was cut; otherwise the UDP length is wrong,
    // which is the frame's error (the walk goes on, as for a cut IPv4 payload).
    if (err !== null && isCutPayload(err)) {
      if (!this.transportIncomplete) this.noteCut(err);
      err = u.wrapPartial(bytes, ip.payloadOffset, ip.payloadLength);
    }
    if (err !== null) return this.fail(err);
    this.layers |= CaptureLayer.udp;
    const app = udp.payloadKind(u);
    // An incomplete message is left out quietly: the frame already says why it is short.
    const quiet = u.payloadTruncated;
    if (app === 'dhcp') {
      const e = this.dhcp.wrap(bytes, u.payloadOffset, u.payloadLength);
      if (e === null) this.layers |= CaptureLayer.dhcp;
      else if (!quiet) return this.fail(e);
    } else if (app === 'dns') {
      this.dnsMessageOffset = u.payloadOffset;
      this.dnsMessageLength = u.payloadLength;
      const e = this.dns.wrap(bytes, u.payloadOffset, u.payloadLength);
      if (e === null) this.layers |= CaptureLayer.dns;
      else if (!quiet) return this.fail(e);
    }
  }

  private decodeTcp(bytes: Uint8Array): void {
    const t = this.tcp;
    const ip = this.ipv4;
    // TCP's payload is the rest of the IPv4 payload, so a cut one simply holds fewer bytes.
    const err = t.wrap(bytes, ip.payloadOffset, ip.payloadLength);
    if (err !== null) return this.fail(err);
    this.layers |= CaptureLayer.tcp;
    if (t.srcPort !== DNS_PORT && t.dstPort !== DNS_PORT) return;
    const off = t.payloadOffset;
    const avail = t.payloadLength;
    if (avail < 2 + DNS_HEADER_LEN) return;
    const prefix = (bytes[off] << 8) | bytes[off + 1];
    // One whole message per segment only: without reassembly a partial one cannot be decoded.
    if (prefix < DNS_HEADER_LEN || prefix > avail - 2) return;
    this.dnsTcpLength = prefix;
    this.dnsMessageOffset = off + 2;
    this.dnsMessageLength = prefix;
    const e = this.dns.wrap(bytes, off + 2, prefix);
    if (e !== null) return this.fail(e);
    this.layers |= CaptureLayer.dns;
  }

  /**
   * Every decoded layer is whole, yet the capture cut the frame. When the captured bytes end
   * exactly where the network-layer datagram ends, nothing shown is incomplete; when they go on
   * into a padding/trailer they do not hold in full (or into a protocol we do not decode), the
   * frame is short there, as packet analysers report it.
   */
  private checkCutTrailer(captured: number): void {
    let end = -1;
    if (this.has('arp')) {
      const a = this.arpAnySize ? this.arpAny : this.arp;
      end = a.offset + ARP_FIXED_LEN + 2 * a.hlen + 2 * a.plen;
    } else if (this.has('ipv4')) {
      end = this.ipv4.offset + this.ipv4.totalLength;
    }
    if (end >= 0 && captured <= end) return;
    const c = this.frameCutError;
    c.offset = end >= 0 ? end : captured;
    this.error = c;
  }

  /** Records a cut payload (IPv4's or UDP's) as the frame's error; the walk continues. */
  private noteCut(err: DecodeError): void {
    if (this.error !== null) return;
    const c = this.cutError;
    c.layer = err.layer;
    c.field = err.field;
    c.offset = err.offset;
    this.error = c;
  }

  /** Stops the walk; the first error of the frame is the one it reports. */
  private fail(err: DecodeError): void {
    if (this.error === null) this.error = err;
  }
}

/** The part that ran past the bytes is the payload (the headers are all there). */
function isCutPayload(err: DecodeError): boolean {
  return err.code === 'E_TRUNCATED' && err.field === 'payload';
}
