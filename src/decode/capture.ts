/**
 * CaptureDecoder: walks one captured frame the way `pktstack decode` shows it, through the
 * generated views: Ethernet → (802.1Q/802.1ad tags) → (MPLS label stack) → ARP | IPv4 → ICMP | IGMP | UDP | TCP →
 * DHCP | DNS, following each spec's dispatch table. Where the generated FrameDecoder (frame.ts) is the
 * strict, fast path for live traffic, this one is lenient the way a packet analyser is (cut
 * captures, fragments, DNS over TCP; the rules are below). The views are owned by the decoder and
 * re-pointed at every frame, so a walk allocates nothing; what was decoded is a bit set, and a
 * failure is the failing view's own error record (valid until the next `decode()`).
 *
 * Rules beyond the dispatch tables, chosen to match what a packet analyser shows:
 * - a header that fails validation is still shown in part (`partialLayer`): the fixed fields
 *   before the failing one, and that one, as the generated decode<Message>Prefix() reads them
 *   from the bytes, beside the error;
 * - a non-first IPv4 fragment (fragment offset > 0) carries no transport header, so none is
 *   decoded; a first fragment's transport header is decoded from the fragment itself (UDP through
 *   `wrapPartial()`: its length covers the whole datagram), with no error: the datagram is
 *   legitimately incomplete. A transport header the fragment cuts is shown in part, again with no
 *   error, as is an application header in an incomplete datagram;
 * - IPv4 total length 0 (a capture taken before TCP segmentation offload, or BIG TCP) is read with
 *   the `Ipv4Offloaded` view: the datagram is the rest of the frame, and `offloadedLength` is the
 *   length that implies on the wire (what tshark shows as the total length, "presumed TSO");
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
 * - LLDP ends at its End TLV: what follows is the Ethernet trailer, as for ARP and IPv4;
 * - ARP is read with the Ethernet/IPv4 view (`arp`, the stack's) when it fits and its protocol
 *   type is IPv4, otherwise with `arpAny`, which takes the address sizes from hlen/plen (its
 *   protocol addresses are then shown as bytes unless they are IPv4's);
 * - frames of a link type other than Ethernet get an `E_UNSUPPORTED_LINKTYPE` error per frame;
 * - what a tunnel carries (VXLAN → Ethernet, Geneve → Ethernet, IPv4 or IPv6, IP in IP, GRE →
 *   IPv4, IPv6 or Ethernet, GRE → PPP → IPv4 or IPv6 for PPTP) is decoded by `inner`, one nesting
 *   level in, as packet analysers nest it, up to MAX_TUNNEL_DEPTH tunnels inside one another (one
 *   more is `E_TOO_DEEP` at its payload); the first error at any level is the frame's;
 * - an ICMPv6 error message's invoking packet is decoded by `quoted`, one nesting level in, as a
 *   packet that is cut by design (RFC 4443 §2.4: as much as fits): its cut payloads and a
 *   transport header it cuts are no error (the latter shown in part), while an IPv6 or extension
 *   header it cuts is one, as tshark reports it ("IPv6 header must be exactly 40 bytes").
 */
import type { DecodeError } from '../codec/errors.js';
import {
  arp,
  dhcp,
  dhcpv6,
  dns,
  ethernet,
  frame,
  geneve,
  gre,
  icmp,
  icmpv6,
  igmp,
  ipv4,
  lldp,
  mpls,
  ppp,
  ipv6,
  ipv6frag,
  ipv6opts,
  ipv6route,
  tcp,
  udp,
  vlan,
  vxlan,
} from '../generated/index.js';
import { EtherType } from '../generated/ethernet.js';
import { IpProtocol } from '../generated/ipv4.js';
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
  vxlan: 512,
  igmp: 1024,
  gre: 2048,
  ppp: 4096,
  geneve: 8192,
  lldp: 16384,
  ipv6: 32768,
  /** At least one IPv6 extension header (`ipv6Exts`). */
  ipv6ext: 65536,
  mpls: 131072,
  icmpv6: 262144,
  dhcpv6: 524288,
} as const;
export type CaptureLayerName = keyof typeof CaptureLayer;

/** A decode error, or the frame-level one a non-Ethernet link type gets. */
export interface FrameError {
  code: DecodeError['code'] | 'E_UNSUPPORTED_LINKTYPE';
  layer: string;
  field: string;
  offset: number;
}

/**
 * A generated decode<Message>Prefix(): the fixed fields of a message that did not wrap(), up to
 * and including the field `last`, as far as the bytes go.
 */
export type PrefixDecoder = (
  bytes: Uint8Array,
  offset: number,
  length: number,
  last?: string,
) => object;

/** Tunnels decoded inside one another (the generated FrameDecoder's bound). */
export const MAX_TUNNEL_DEPTH = frame.FRAME_MAX_DEPTH;

/** IPv6 extension headers decoded per frame (a longer chain ends the walk quietly). */
export const MAX_IPV6_EXT = 8;

/** An IPv6 extension header, by tshark's name for it. */
export type Ipv6ExtName = 'hopopts' | 'dstopts' | 'routing' | 'fraghdr';

/**
 * One header of an IPv6 extension header chain: which it is, and the views of its spec, of
 * which the one `name` names is valid (a routing header in the layout its type selects).
 */
export class Ipv6Ext {
  name: Ipv6ExtName = 'hopopts';
  readonly options = new ipv6opts.Ipv6OptionsHeaderView();
  readonly routing = new ipv6route.Ipv6RoutingLayouts();
  readonly fragment = new ipv6frag.Ipv6FragmentView();
}

/** VLAN tags decoded per frame (802.1ad QinQ uses two; more is not seen in practice). */
export const MAX_VLAN_TAGS = 4;
/** DNS over TCP (RFC 7766) uses the port UDP's dispatch names for DNS. */
const DNS_PORT = udp.UdpPort.DNS;
/** DNS header size: a TCP segment shorter than prefix + header holds no DNS message. */
const DNS_HEADER_LEN = dns.DNS_FIXED_SIZE;

export class CaptureDecoder {
  readonly ethernet = new ethernet.EthernetView();
  readonly arp = new arp.ArpView();
  /** ARP/RARP with address sizes other than Ethernet/IPv4's 6/4 (then `arpAnySize` is set). */
  readonly arpAny = new arp.ArpAnySizeView();
  arpAnySize = false;
  readonly ipv4 = new ipv4.Ipv4View();
  /** IPv4 with total length 0 (TSO/GSO, BIG TCP): `ip` is this view when `offloaded` is set. */
  readonly ipv4Offloaded = new ipv4.Ipv4OffloadedView();
  offloaded = false;
  /** The frame's IPv4 header: `ipv4`, or `ipv4Offloaded` for a total length of 0. */
  ip: ipv4.Ipv4View | ipv4.Ipv4OffloadedView = this.ipv4;
  readonly ipv6 = new ipv6.Ipv6View();
  /**
   * A jumbogram (RFC 2675: payload length 0, then hop-by-hop options): `ipv6` is then wrapped
   * over the header only and this view holds the datagram, to the end of the frame.
   */
  readonly ipv6Jumbo = new ipv6.Ipv6JumboView();
  jumbogram = false;
  /** Where a jumbogram ends, as its Jumbo Payload option says (-1: no option seen). */
  private jumboEnd = -1;
  /** The extension headers after `ipv6`, in wire order; `ipv6ExtCount` of them are valid. */
  readonly ipv6Exts: readonly Ipv6Ext[] = Array.from({ length: MAX_IPV6_EXT }, () => new Ipv6Ext());
  ipv6ExtCount = 0;
  /** The extension header shown in part (`partialLayer` is then 'ipv6ext'). */
  ipv6ExtFailed: Ipv6ExtName = 'hopopts';
  /** Which IP header carries the transport layer: 4 (`ip`), 6 (`ipv6`), 0 before either. */
  ipVersion: 0 | 4 | 6 = 0;
  /** The transport header's window: the IP payload (after IPv6's extension headers). */
  l4Offset = 0;
  l4Length = 0;
  /**
   * Where the IPv6 pseudo-header's addresses (RFC 8200 §8.1) sit in `bytes`: the IPv6 source
   * and destination, unless an extension header names others.
   */
  pseudoSrcOffset = 0;
  pseudoDstOffset = 0;
  readonly icmp = new icmp.IcmpView();
  /** IGMP in the layout its type (and a query's length) selects. */
  readonly igmp = new igmp.IgmpLayouts();
  /** ICMPv6 in the layout its type selects (echo, errors, Neighbor Discovery, MLD). */
  readonly icmpv6 = new icmpv6.Icmpv6Layouts();
  readonly udp = new udp.UdpView();
  readonly tcp = new tcp.TcpView();
  readonly dhcp = new dhcp.DhcpView();
  /** DHCPv6 in the layout its message type selects (a relay's, or a client's and server's). */
  readonly dhcpv6 = new dhcpv6.Dhcpv6MessageLayouts();
  readonly dns = new dns.DnsView();
  readonly vxlan = new vxlan.VxlanView();
  readonly geneve = new geneve.GeneveView();
  readonly lldp = new lldp.LldpView();
  readonly gre = new gre.GreView();
  /** PPP in GRE (PPTP): its own layer at GRE's level; what it carries is one level in. */
  readonly ppp = new ppp.PppView();
  /** The frame a tunnel (VXLAN, IPv4 in IPv4) carried, one level in; null when none. */
  inner: CaptureDecoder | null = null;
  /** The decoder of the next level, made on the first tunnel. */
  private next: CaptureDecoder | null = null;
  /** The packet an ICMPv6 error quotes, one level in; null when none. */
  quoted: CaptureDecoder | null = null;
  private nextQuoted: CaptureDecoder | null = null;
  /** This level decodes a quoted packet (cut by design; see the rules above). */
  inQuote = false;
  /** One view per VLAN tag, outermost first; `vlanCount` of them are valid. */
  readonly vlans: readonly vlan.VlanView[] = Array.from(
    { length: MAX_VLAN_TAGS },
    () => new vlan.VlanView(),
  );
  vlanCount = 0;
  /** The MPLS label stack between the link layer and IPv4/IPv6, when `layers` has mpls. */
  readonly mpls = new mpls.MplsView();

  /** Layers decoded in the current frame (bits of `CaptureLayer`). */
  layers = 0;
  /** Why decoding stopped early, or null when every layer the dispatch named decoded. */
  error: FrameError | null = null;
  /** DNS over TCP: the 2-byte length prefix; -1 when the DNS message came over UDP. */
  dnsTcpLength = -1;
  /** The frame being decoded (as passed to `decode`). */
  bytes: Uint8Array = new Uint8Array(0);
  linkType = LINKTYPE_ETHERNET;
  /** The frame's length on the wire (pcap origLen); more than `bytes.length` when cut. */
  origLength = 0;
  /** The IPv4 datagram is the first fragment of a larger one (MF set, fragment offset 0). */
  firstFragment = false;

  /**
   * The layer shown only in part, or null: the one whose wrap() failed (the frame's error names
   * it), or a transport/application header an incomplete datagram cuts (no error). Its fields are
   * `partialFields()`.
   */
  partialLayer: CaptureLayerName | null = null;
  private partialDecoder: PrefixDecoder | null = null;
  private partialOffset = 0;
  private partialLength = 0;
  private partialLast = '';

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

  /** A tunnel past MAX_TUNNEL_DEPTH (its layer is the tunnel's). */
  private readonly depthError: DecodeError = {
    code: 'E_TOO_DEEP',
    layer: 'frame',
    field: 'payload',
    offset: 0,
  };

  /** @param depth Tunnels this decoder still follows inside one another. */
  constructor(readonly depth: number = MAX_TUNNEL_DEPTH) {}

  private readonly linkTypeError: FrameError = {
    code: 'E_UNSUPPORTED_LINKTYPE',
    layer: 'frame',
    field: 'linkType',
    offset: 0,
  };

  has(layer: CaptureLayerName): boolean {
    return (this.layers & CaptureLayer[layer]) !== 0;
  }

  /** The fixed fields of `partialLayer` that the bytes hold, up to the failing one (allocates). */
  partialFields(): Record<string, unknown> | null {
    const decode = this.partialDecoder;
    if (decode === null) return null;
    return decode(this.bytes, this.partialOffset, this.partialLength, this.partialLast) as Record<
      string,
      unknown
    >;
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
    this.reset(bytes, linkType, origLength);
    if (linkType !== LINKTYPE_ETHERNET) {
      this.error = this.linkTypeError;
      return false;
    }
    this.walk(bytes, 0, bytes.length);
    if (this.error === null && this.origLength > bytes.length) this.checkCutTrailer(bytes.length);
    return this.error === null;
  }

  private reset(bytes: Uint8Array, linkType: number, origLength: number): void {
    this.bytes = bytes;
    this.linkType = linkType;
    this.origLength = Math.max(origLength, bytes.length);
    this.layers = 0;
    this.error = null;
    this.dnsTcpLength = -1;
    this.firstFragment = false;
    this.vlanCount = 0;
    this.arpAnySize = false;
    this.offloaded = false;
    this.ip = this.ipv4;
    this.ipVersion = 0;
    this.jumbogram = false;
    this.jumboEnd = -1;
    this.ipv6ExtCount = 0;
    this.partialLayer = null;
    this.partialDecoder = null;
    this.inner = null;
    this.quoted = null;
    this.inQuote = false;
  }

  /** The frame a tunnel carries at bytes[off, off + len), from `entry`, one level in. */
  private tunnel(
    bytes: Uint8Array,
    tunnel: string,
    entry: 'ethernet' | 'ipv4' | 'ipv6',
    off: number,
    len: number,
  ): void {
    if (this.depth === 0) {
      this.depthError.layer = tunnel;
      this.depthError.offset = off;
      this.failWhole(this.depthError);
      return;
    }
    const inner = (this.next ??= new CaptureDecoder(this.depth - 1));
    inner.reset(bytes, LINKTYPE_ETHERNET, bytes.length);
    inner.inQuote = this.inQuote;
    if (entry === 'ethernet') inner.walk(bytes, off, len);
    else if (entry === 'ipv4') inner.walkIpv4(bytes, off, len);
    else inner.walkIpv6(bytes, off, len);
    this.inner = inner;
    if (inner.error !== null) this.failWhole(inner.error as DecodeError);
  }

  /**
   * TCP payload length as a packet analyser reports it: from the IPv4 total length (or, when the
   * capture cut the frame, the wire length), not just the bytes captured.
   */
  get tcpPayloadLength(): number {
    const t = this.tcp;
    const ip = this.ip;
    if (!this.ipPayloadCut) return t.payloadLength;
    if (this.ipVersion === 6) {
      const v6 = this.ipv6;
      const datagram = Math.min(v6.headerLength + v6.payloadLen, this.origLength - v6.offset);
      return Math.max(0, datagram - (this.l4Offset - v6.offset) - t.dataOffset * 4);
    }
    const onWire = this.origLength - ip.offset;
    const datagram = this.offloaded ? onWire : Math.min(ip.totalLength, onWire);
    return Math.max(0, datagram - ip.ihl * 4 - t.dataOffset * 4);
  }

  /** Where the IPv6 datagram ends in `bytes` (a jumbogram: at the end of the frame). */
  get ipv6DatagramEnd(): number {
    if (this.jumboEnd >= 0) return this.jumboEnd;
    const ip = this.jumbogram ? this.ipv6Jumbo : this.ipv6;
    return ip.payloadOffset + ip.payloadLength;
  }

  /** The IPv4 payload is shorter here than on the wire (a lying length, or a snap length). */
  get ipPayloadCut(): boolean {
    if (this.ipVersion === 6) return this.ipv6.payloadTruncated;
    return this.offloaded ? this.origLength > this.bytes.length : this.ipv4.payloadTruncated;
  }

  /**
   * IPv4 total length 0 (offloaded): the datagram's length on the wire as tshark presumes it,
   * the rest of the frame; -1 otherwise.
   */
  get offloadedLength(): number {
    return this.offloaded ? this.origLength - this.ipv4Offloaded.offset : -1;
  }

  /** The transport checksum cannot be checked: its datagram is not all in this frame. */
  get transportIncomplete(): boolean {
    return this.firstFragment || this.ipPayloadCut || this.inQuote;
  }

  private walk(bytes: Uint8Array, start: number, length: number): void {
    const eth = this.ethernet;
    let err = eth.wrap(bytes, start, length);
    if (err !== null) return this.fail(err, ethernet.decodeEthernetPrefix, start, length);
    this.layers |= CaptureLayer.ethernet;

    // Where the network layer starts: after the Ethernet header and any VLAN tags.
    let off = eth.payloadOffset;
    let len = eth.payloadLength;
    let next: ethernet.EthernetPayloadKind | vlan.VlanPayloadKind | mpls.MplsPayloadKind | null =
      ethernet.payloadKind(eth);
    while (next === 'vlan') {
      if (this.vlanCount === MAX_VLAN_TAGS) return;
      const tag = this.vlans[this.vlanCount];
      err = tag.wrap(bytes, off, len);
      if (err !== null) return this.fail(err, vlan.decodeVlanPrefix, off, len);
      this.vlanCount++;
      this.layers |= CaptureLayer.vlan;
      off = tag.payloadOffset;
      len = tag.payloadLength;
      next = vlan.payloadKind(tag);
    }
    if (next === 'mpls') {
      // The label stack, then what its first nibble names (IPv4 or IPv6), at this level.
      const stack = this.mpls;
      err = stack.wrap(bytes, off, len);
      if (err !== null) return this.fail(err, mpls.decodeMplsPrefix, off, len);
      this.layers |= CaptureLayer.mpls;
      off = stack.payloadOffset;
      len = stack.payloadLength;
      next = mpls.payloadKind(stack);
    }
    if (next === 'arp') {
      err = this.arp.wrap(bytes, off, len);
      if (err !== null || this.arp.ptype !== EtherType.IPv4) {
        // Not the 6/4 layout (or too short for it), or not IPv4's addresses: read the sizes the
        // header gives and keep the addresses as bytes.
        err = this.arpAny.wrap(bytes, off, len);
        if (err !== null) return this.fail(err, arp.decodeArpAnySizePrefix, off, len);
        this.arpAnySize = true;
      }
      this.layers |= CaptureLayer.arp;
      return;
    }
    if (next === 'lldp') {
      err = this.lldp.wrap(bytes, off, len);
      if (err !== null) return this.fail(err, lldp.decodeLldpPrefix, off, len);
      this.layers |= CaptureLayer.lldp;
      return;
    }
    if (next === 'ipv4') this.walkIpv4(bytes, off, len);
    else if (next === 'ipv6') this.walkIpv6(bytes, off, len);
  }

  private walkIpv6(bytes: Uint8Array, off: number, len: number): void {
    const ip = this.ipv6;
    let err = ip.wrap(bytes, off, len);
    if (err === null && ip.payloadLen === 0 && this.ipv6Jumbo.wrap(bytes, off, len) === null) {
      this.jumbogram = true;
    }
    if (err !== null) {
      if (!isCutPayload(err)) return this.fail(err, ipv6.decodeIpv6Prefix, off, len);
      this.noteCut(err);
      err = ip.wrapPartial(bytes, off, len);
      if (err !== null) return this.fail(err, ipv6.decodeIpv6Prefix, off, len);
    }
    this.layers |= CaptureLayer.ipv6;
    this.ipVersion = 6;
    const datagram = this.jumbogram ? this.ipv6Jumbo : ip;
    this.l4Offset = datagram.payloadOffset;
    this.l4Length = datagram.payloadLength;
    this.pseudoSrcOffset = ip.srcOffset;
    this.pseudoDstOffset = ip.dstOffset;
    let kind = ipv6.payloadKind(ip);
    let next = ip.nextHeader;
    while (kind === 'ipv6opts' || kind === 'ipv6route' || kind === 'ipv6frag') {
      if (this.ipv6ExtCount === MAX_IPV6_EXT) return;
      // A quote that ends before the next header holds nothing more to show.
      if (this.inQuote && this.l4Length === 0) return;
      const ext = this.ipv6Exts[this.ipv6ExtCount];
      if (!this.decodeIpv6Ext(bytes, ext, kind, next)) return;
      if (ext.name === 'fraghdr') {
        const f = ext.fragment;
        next = f.nextHeader;
        kind = ipv6frag.payloadKind(f);
        // Only the first fragment holds the next header; a first fragment is incomplete.
        if (f.fragmentOffset === 0 && f.more !== 0) this.firstFragment = true;
      } else if (ext.name === 'routing') {
        next = ext.routing.head.nextHeader;
        kind = ipv6route.payloadKind(ext.routing.head);
      } else {
        next = ext.options.nextHeader;
        kind = ipv6opts.payloadKind(ext.options);
      }
    }
    this.dispatchTransport(bytes, kind);
  }

  /**
   * The extension header `kind` (with `next`, the next header value that named it) at the
   * transport window, which it then moves past itself. Notes what it changes for the
   * pseudo-header (RFC 8200 §8.1): a Home Address option's source (RFC 6275 §6.3), a routing
   * header's final destination while segments are left, as tshark takes them. False when it
   * failed (the frame's error, shown in part).
   */
  private decodeIpv6Ext(
    bytes: Uint8Array,
    ext: Ipv6Ext,
    kind: 'ipv6opts' | 'ipv6route' | 'ipv6frag',
    next: number,
  ): boolean {
    const off = this.l4Offset;
    const len = this.l4Length;
    let payloadOffset: number;
    let payloadLength: number;
    if (kind === 'ipv6opts') {
      ext.name = next === IpProtocol.HopByHop ? 'hopopts' : 'dstopts';
      const o = ext.options;
      const err = o.wrap(bytes, off, len);
      if (err !== null)
        return this.failExt(ext, err, ipv6opts.decodeIpv6OptionsHeaderPrefix, off, len);
      payloadOffset = o.payloadOffset;
      payloadLength = o.payloadLength;
      if (this.jumbogram && ext.name === 'hopopts' && o.jumboLength >= 0) {
        // RFC 2675: the length counts every byte after the IPv6 header.
        const start = this.ipv6Jumbo.payloadOffset;
        this.jumboEnd = Math.min(
          start + o.jumboLength,
          this.ipv6Jumbo.payloadOffset + this.ipv6Jumbo.payloadLength,
        );
        payloadLength = Math.max(0, this.jumboEnd - payloadOffset);
      }
      if (ext.name === 'dstopts' && o.homeAddress) {
        const c = o.options();
        while (c.next()) {
          if (c.kind === ipv6opts.Ipv6OptionType.HomeAddress)
            this.pseudoSrcOffset = c.homeAddress.addressOffset;
        }
      }
    } else if (kind === 'ipv6route') {
      ext.name = 'routing';
      const r = ext.routing;
      const err = r.wrap(bytes, off, len);
      // A head that failed shows in the layout its type names (a cut segment routing header still
      // shows its last entry, flags and tag, as tshark does).
      if (err !== null) return this.failExt(ext, err, r.prefixDecoder, off, len);
      payloadOffset = r.head.payloadOffset;
      payloadLength = r.head.payloadLength;
      // The final destination, while segments are left, is the pseudo-header's (RFC 8200 §8.1).
      if (r.head.segmentsLeft > 0) {
        if (r.layout === 'ipv6SourceRoute' && r.ipv6SourceRoute.addressesCount > 0) {
          const t = r.ipv6SourceRoute;
          this.pseudoDstOffset = t.addressesItemOffset(t.addressesCount - 1);
        } else if (r.layout === 'ipv6HomeAddressRoute') {
          this.pseudoDstOffset = r.ipv6HomeAddressRoute.homeAddressOffset;
        } else if (r.layout === 'ipv6SegmentRouting' && r.ipv6SegmentRouting.segmentsCount > 0) {
          this.pseudoDstOffset = r.ipv6SegmentRouting.segmentsItemOffset(0);
        }
      }
    } else {
      ext.name = 'fraghdr';
      const f = ext.fragment;
      const err = f.wrap(bytes, off, len);
      if (err !== null) return this.failExt(ext, err, ipv6frag.decodeIpv6FragmentPrefix, off, len);
      payloadOffset = f.payloadOffset;
      payloadLength = f.payloadLength;
    }
    this.ipv6ExtCount++;
    this.layers |= CaptureLayer.ipv6ext;
    this.l4Offset = payloadOffset;
    this.l4Length = payloadLength;
    return true;
  }

  /** An extension header that failed: the frame's error, the header shown in part. */
  private failExt(
    ext: Ipv6Ext,
    err: DecodeError,
    decode: PrefixDecoder,
    offset: number,
    length: number,
  ): false {
    const shown = this.partialLayer === null;
    this.fail(err, decode, offset, length);
    if (shown) {
      this.partialLayer = 'ipv6ext';
      this.ipv6ExtFailed = ext.name;
    }
    return false;
  }

  /** The IPv6 payload (after its extension headers) by the last next header. */
  private dispatchTransport(bytes: Uint8Array, kind: ipv6.Ipv6PayloadKind | null): void {
    const off = this.l4Offset;
    const len = this.l4Length;
    switch (kind) {
      case 'udp':
        return this.decodeUdp(bytes);
      case 'tcp':
        return this.decodeTcp(bytes);
      case 'icmpv6':
        return this.decodeIcmpv6(bytes);
      case 'ipv6':
        return this.tunnel(bytes, 'ipv6', 'ipv6', off, len);
      case 'ipv4':
        return this.tunnel(bytes, 'ipv6', 'ipv4', off, len);
      default:
        return;
    }
  }

  private walkIpv4(bytes: Uint8Array, off: number, len: number): void {
    const ip = this.ipv4;
    let err = ip.wrap(bytes, off, len);
    if (err !== null && err.code === 'E_BAD_LENGTH' && err.field === 'totalLength') {
      // Total length 0 from an offloading capture: the rest of the frame is the datagram.
      if (this.ipv4Offloaded.wrap(bytes, off, len) === null) {
        this.offloaded = true;
        this.ip = this.ipv4Offloaded;
        err = null;
      }
    }
    if (err !== null) {
      if (!isCutPayload(err)) return this.fail(err, ipv4.decodeIpv4Prefix, off, len);
      this.noteCut(err);
      err = ip.wrapPartial(bytes, off, len);
      if (err !== null) return this.fail(err, ipv4.decodeIpv4Prefix, off, len);
    }
    this.layers |= CaptureLayer.ipv4;
    this.dispatchIp(bytes);
  }

  /** The transport layer of the IPv4 datagram (`ip`), when it starts in this fragment. */
  private dispatchIp(bytes: Uint8Array): void {
    const ip = this.ip;
    if (ip.fragmentOffset !== 0) return;
    this.firstFragment = (ip.flags & ipv4.Ipv4Flags.MF) !== 0;
    this.ipVersion = 4;
    this.l4Offset = ip.payloadOffset;
    this.l4Length = ip.payloadLength;

    switch (ipv4.payloadKind(ip)) {
      case 'icmp': {
        const err = this.icmp.wrap(bytes, ip.payloadOffset, ip.payloadLength);
        if (err !== null)
          return this.failIn(err, icmp.decodeIcmpPrefix, ip.payloadOffset, ip.payloadLength);
        this.layers |= CaptureLayer.icmp;
        return;
      }
      case 'igmp':
        return this.decodeIgmp(bytes);
      case 'udp':
        return this.decodeUdp(bytes);
      case 'tcp':
        return this.decodeTcp(bytes);
      case 'ipv4':
        return this.tunnel(bytes, 'ipv4', 'ipv4', ip.payloadOffset, ip.payloadLength);
      case 'ipv6':
        return this.tunnel(bytes, 'ipv4', 'ipv6', ip.payloadOffset, ip.payloadLength);
      case 'gre':
        return this.decodeGre(bytes);
      default:
        return;
    }
  }

  /** GRE and what it carries by protocol type, one level in (PPP first, at this level). */
  private decodeGre(bytes: Uint8Array): void {
    const ip = this.ip;
    const g = this.gre;
    const err = g.wrap(bytes, ip.payloadOffset, ip.payloadLength);
    if (err !== null)
      return this.failIn(err, gre.decodeGrePrefix, ip.payloadOffset, ip.payloadLength);
    this.layers |= CaptureLayer.gre;
    const kind = gre.payloadKind(g);
    switch (kind) {
      case 'ipv4':
      case 'ipv6':
        return this.tunnel(bytes, 'gre', kind, g.payloadOffset, g.payloadLength);
      case 'ethernet':
        return this.tunnel(bytes, 'gre', 'ethernet', g.payloadOffset, g.payloadLength);
      case 'ppp': {
        const p = this.ppp;
        const e = p.wrap(bytes, g.payloadOffset, g.payloadLength);
        if (e !== null) return this.fail(e, ppp.decodePppPrefix, g.payloadOffset, g.payloadLength);
        this.layers |= CaptureLayer.ppp;
        const inner = ppp.payloadKind(p);
        if (inner !== null) this.tunnel(bytes, 'ppp', inner, p.payloadOffset, p.payloadLength);
        return;
      }
      default:
        return;
    }
  }

  /** IGMP in the layout its type selects (a query longer than v1/v2's is IGMPv3). */
  private decodeIgmp(bytes: Uint8Array): void {
    const ip = this.ip;
    const off = ip.payloadOffset;
    const len = ip.payloadLength;
    const g = this.igmp;
    const err = g.wrap(bytes, off, len);
    if (err !== null) return this.failIn(err, g.prefixDecoder, off, len);
    this.layers |= CaptureLayer.igmp;
  }

  /** ICMPv6 in the layout its type selects; the packet an error quotes, one level in. */
  private decodeIcmpv6(bytes: Uint8Array): void {
    const off = this.l4Offset;
    const len = this.l4Length;
    const m = this.icmpv6;
    const err = m.wrap(bytes, off, len);
    if (err !== null) return this.failIn(err, m.prefixDecoder, off, len);
    this.layers |= CaptureLayer.icmpv6;
    // The error messages quote their invoking packet (`quotes ipv6` in specs/icmpv6.pkt).
    if (m.quoteKind === 'ipv6' && m.quoteLength > 0)
      this.quote(bytes, m.quoteOffset, m.quoteLength);
  }

  /** The invoking packet an ICMPv6 error quotes at bytes[off, off + len), one level in. */
  private quote(bytes: Uint8Array, off: number, len: number): void {
    if (this.depth === 0) return;
    const q = (this.nextQuoted ??= new CaptureDecoder(this.depth - 1));
    q.reset(bytes, LINKTYPE_ETHERNET, bytes.length);
    q.inQuote = true;
    q.walkIpv6(bytes, off, len);
    this.quoted = q;
    if (q.error !== null) this.failWhole(q.error as DecodeError);
  }

  private decodeUdp(bytes: Uint8Array): void {
    const u = this.udp;
    const off = this.l4Offset;
    const len = this.l4Length;
    let err = u.wrap(bytes, off, len);
    // A UDP length past the IPv4 payload: show the header and cut the payload. That is expected
    // when the IPv4 payload is a first fragment or was cut; otherwise the UDP length is wrong,
    // which is the frame's error (the walk goes on, as for a cut IPv4 payload).
    if (err !== null && isCutPayload(err)) {
      if (!this.transportIncomplete) this.noteCut(err);
      err = u.wrapPartial(bytes, off, len);
    }
    if (err !== null) return this.failIn(err, udp.decodeUdpPrefix, off, len);
    this.layers |= CaptureLayer.udp;
    const app = udp.payloadKind(u);
    // An incomplete message is no error of its own: the frame already says why it is short. In a
    // first fragment it is shown in part, as packet analysers do; in a cut capture, left out.
    const quiet = u.payloadTruncated;
    const inPart = quiet && this.firstFragment;
    if (app === 'dhcp') {
      const e = this.dhcp.wrap(bytes, u.payloadOffset, u.payloadLength);
      if (e === null) this.layers |= CaptureLayer.dhcp;
      else if (inPart)
        this.showPartial('dhcp', e, dhcp.decodeDhcpPrefix, u.payloadOffset, u.payloadLength);
      else if (!quiet) return this.fail(e, dhcp.decodeDhcpPrefix, u.payloadOffset, u.payloadLength);
    } else if (app === 'dns') {
      const e = this.dns.wrap(bytes, u.payloadOffset, u.payloadLength);
      if (e === null) this.layers |= CaptureLayer.dns;
      else if (inPart)
        this.showPartial('dns', e, dns.decodeDnsPrefix, u.payloadOffset, u.payloadLength);
      else if (!quiet) return this.fail(e, dns.decodeDnsPrefix, u.payloadOffset, u.payloadLength);
    } else if (app === 'dhcpv6') {
      const m = this.dhcpv6;
      const e = m.wrap(bytes, u.payloadOffset, u.payloadLength);
      if (e === null) this.layers |= CaptureLayer.dhcpv6;
      else if (inPart)
        this.showPartial('dhcpv6', e, m.prefixDecoder, u.payloadOffset, u.payloadLength);
      else if (!quiet) return this.fail(e, m.prefixDecoder, u.payloadOffset, u.payloadLength);
    } else if (app === 'vxlan') {
      const x = this.vxlan;
      const e = x.wrap(bytes, u.payloadOffset, u.payloadLength);
      if (e !== null) {
        if (!quiet) this.fail(e, vxlan.decodeVxlanPrefix, u.payloadOffset, u.payloadLength);
        return;
      }
      this.layers |= CaptureLayer.vxlan;
      this.tunnel(bytes, 'vxlan', 'ethernet', x.payloadOffset, x.payloadLength);
    } else if (app === 'geneve') {
      const g = this.geneve;
      const e = g.wrap(bytes, u.payloadOffset, u.payloadLength);
      if (e !== null) {
        if (!quiet) this.fail(e, geneve.decodeGenevePrefix, u.payloadOffset, u.payloadLength);
        return;
      }
      this.layers |= CaptureLayer.geneve;
      const inner = geneve.payloadKind(g);
      if (inner !== null) this.tunnel(bytes, 'geneve', inner, g.payloadOffset, g.payloadLength);
    }
  }

  private decodeTcp(bytes: Uint8Array): void {
    const t = this.tcp;
    // TCP's payload is the rest of the IP payload, so a cut one simply holds fewer bytes.
    const err = t.wrap(bytes, this.l4Offset, this.l4Length);
    if (err !== null) return this.failIn(err, tcp.decodeTcpPrefix, this.l4Offset, this.l4Length);
    this.layers |= CaptureLayer.tcp;
    if (t.srcPort !== DNS_PORT && t.dstPort !== DNS_PORT) return;
    const off = t.payloadOffset;
    const avail = t.payloadLength;
    if (avail < 2 + DNS_HEADER_LEN) return;
    const prefix = (bytes[off] << 8) | bytes[off + 1];
    // One whole message per segment only: without reassembly a partial one cannot be decoded.
    if (prefix < DNS_HEADER_LEN || prefix > avail - 2) return;
    this.dnsTcpLength = prefix;
    const e = this.dns.wrap(bytes, off + 2, prefix);
    if (e !== null) return this.fail(e, dns.decodeDnsPrefix, off + 2, prefix);
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
      end = a.offset + a.messageLength;
    } else if (this.has('ipv4') && !this.offloaded) {
      end = this.ipv4.offset + this.ipv4.totalLength;
    } else if (this.has('lldp')) {
      // The LLDPDU ends with its End TLV; the padding after it is the trailer.
      end = this.lldp.offset + this.lldp.headerLength;
    } else if (this.has('ipv6')) {
      end = this.ipv6DatagramEnd;
    }
    if (end >= 0 && captured <= end) return;
    const c = this.frameCutError;
    c.offset = end >= 0 ? end : captured;
    this.error = c;
  }

  /** Records a cut payload (IPv4's or UDP's) as the frame's error; the walk continues. */
  private noteCut(err: DecodeError): void {
    if (this.error !== null || this.inQuote) return;
    const c = this.cutError;
    c.layer = err.layer;
    c.field = err.field;
    c.offset = err.offset;
    this.error = c;
  }

  /**
   * A transport header that failed: when the datagram is legitimately incomplete (a first
   * fragment) and the fragment simply ends inside the header, it is shown in part without error,
   * as packet analysers do; otherwise it is the frame's error.
   */
  private failIn(err: DecodeError, decode: PrefixDecoder, offset: number, length: number): void {
    if ((this.firstFragment || this.inQuote) && err.code === 'E_TRUNCATED') {
      return this.showPartial(err.layer as CaptureLayerName, err, decode, offset, length);
    }
    this.fail(err, decode, offset, length);
  }

  /** Shows the layer `err` stopped as its fixed fields up to the failing one (no error). */
  private showPartial(
    layer: CaptureLayerName,
    err: DecodeError,
    decode: PrefixDecoder,
    offset: number,
    length: number,
  ): void {
    this.partialLayer = layer;
    this.partialDecoder = decode;
    this.partialOffset = offset;
    this.partialLength = length;
    this.partialLast = err.field;
  }

  /**
   * Stops the walk; the first error of the frame is the one it reports, and the layer that failed
   * is shown in part (its fields before the failing one, read by `decode`).
   */
  /** The frame's error without fields to show (a tunnel too deep, an inner level's error). */
  private failWhole(err: DecodeError): void {
    if (this.error === null) this.error = err;
  }

  private fail(err: DecodeError, decode: PrefixDecoder, offset: number, length: number): void {
    if (this.error === null) this.error = err;
    if (this.partialLayer === null)
      this.showPartial(err.layer as CaptureLayerName, err, decode, offset, length);
  }
}

/** The part that ran past the bytes is the payload (the headers are all there). */
function isCutPayload(err: DecodeError): boolean {
  return err.code === 'E_TRUNCATED' && err.field === 'payload';
}
