/**
 * IPv4 (RFC 791, RFC 1122 section 3): validation, delivery to transports by protocol number,
 * routing over one interface (address, netmask, default gateway), reassembly and fragmentation.
 *
 * Receive: one reused view and one reused delivery record, so an unfragmented datagram costs no
 * allocation. Options are delimited by the view (a malformed list is dropped) and otherwise
 * ignored. Send: the transport leaves `IPV4_SEND_HEADROOM` bytes in front of its segment; the
 * header is written there in place and, when the datagram fits the MTU, the very same buffer goes
 * to the link.
 */
import { FrameDecoder, FrameLayer } from '../../generated/frame.js';
import { ethernet, icmp, ipv4 } from '../../generated/index.js';
import {
  IPV4_SEND_HEADROOM,
  RECEIVE_LAYERS,
  SendStatus,
  type Ipv4Delivery,
  type Ipv4Sender,
  type TransportReceiver,
} from '../layers.js';
import { createIpv4Stats, type Ipv4Stats } from '../stats.js';
import {
  BROADCAST_MAC,
  ETHERNET_HEADER_LENGTH,
  type EthernetLayer,
  type EthernetReceiver,
  type MacHolder,
} from '../ethernet/ethernet.js';
import type { ArpLayer, ResolvedSender, TimeSource } from '../arp/arp.js';
import { copyBytes } from '../../util/bytes.js';
import { Reassembler, type ReassemblyOptions } from './reassembly.js';
import type { LocalReceiver, Loopback } from '../ip/loopback.js';
import type { FrameMeta } from '../link/offload.js';

/** The header we send: no options. */
const HEADER_LENGTH = ipv4.IPV4_FIXED_SIZE;
const MAX_DATAGRAM = 65535;
const LIMITED_BROADCAST = 0xffffffff;
/** 127.0.0.1: the source of what we send to 127.0.0.0/8 (Linux's `lo` address). */
export const IPV4_LOOPBACK = 0x7f000001;
const { DF, MF } = ipv4.Ipv4Flags;
const TCP = ipv4.IpProtocol.TCP;

/** How ICMP errors get reported; ICMP implements it, IPv4 and UDP call it (set at start-up). */
export interface Ipv4ErrorReporter {
  /** Destination unreachable (RFC 792 type 3) with `code` about a datagram we received. */
  destinationUnreachable(code: number, delivery: Ipv4Delivery): void;
}

export interface Ipv4Options {
  /** Default TTL of datagrams we send (RFC 1700 / Linux: 64). */
  ttl?: number;
  reassembly?: ReassemblyOptions;
  /**
   * Most destinations with a lowered path MTU remembered at once (1024): peers fill this
   * table, so a full one forgets an entry to take a new one.
   */
  pathMtuCacheSize?: number;
}

/**
 * The smallest path MTU taken from a "fragmentation needed" (Linux's min_pmtu, 552): RFC 1191
 * allows 68, but a forged error that low would shrink every segment to a few bytes. A path
 * reported below it keeps 552 and loses DF (Linux "locks" it): routers fragment instead.
 */
export const IPV4_MIN_PATH_MTU = 552;
/** RFC 1191 §6.3: a lowered path MTU is tried higher again after 10 minutes. */
const PMTU_LIFETIME_MS = 10 * 60_000;
/** RFC 1191 §7: the plateaus to guess a path MTU from when a router gives none. */
const MTU_PLATEAUS = [32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

/** The next plateau below `length` (RFC 1191 §7), for a "fragmentation needed" without an MTU. */
export function plateauBelow(length: number): number {
  for (const p of MTU_PLATEAUS) if (p < length) return p;
  return 68;
}

interface PathMtu {
  mtu: number;
  expiresAt: number;
  /** Reported below IPV4_MIN_PATH_MTU: datagrams to it go without DF. */
  locked: boolean;
}

/** The multicast MAC for an IPv4 group address (RFC 1112: 01:00:5e + low 23 bits). */
function multicastMac(ip: number): number {
  return 0x01005e000000 + (ip & 0x7fffff);
}

const BROADCAST: MacHolder = { mac: BROADCAST_MAC };

/** Where `output` reads the addresses from (see `sendBack`). */
interface SendTarget {
  dst: number;
  /** 0 = our address. */
  src: number;
}

/** 127.0.0.0/8, or our own address: delivered without touching the link. */
function isLocalDestination(dst: number, ours: number): boolean {
  return dst >>> 24 === 127 || (ours !== 0 && dst === ours);
}

export class Ipv4Layer implements EthernetReceiver, Ipv4Sender, ResolvedSender, LocalReceiver {
  readonly stats: Ipv4Stats = createIpv4Stats();
  /** Where datagrams to ourselves go (the stack sets it); null: they are dropped as unroutable. */
  loopback: Loopback | null = null;
  readonly reassembler: Reassembler;
  private readonly receivers: Array<TransportReceiver | null> = new Array<TransportReceiver | null>(
    256,
  ).fill(null);
  private errors: Ipv4ErrorReporter | null = null;
  /** Decodes what comes without a decoder: loopback and bare datagrams (decodeFrom IPv4). */
  private readonly frame = new FrameDecoder(RECEIVE_LAYERS, 0);
  /** A header the decoder refused, wrapped again to name the error counted (a cold path). */
  private readonly view = new ipv4.Ipv4View();
  /** The datagram being fragmented, and the fragment being written. */
  private readonly wholeView = new ipv4.Ipv4View();
  private readonly fragmentView = new ipv4.Ipv4View();
  private readonly delivery: Ipv4Delivery = {
    src: 0,
    dst: 0,
    protocol: 0,
    ttl: 0,
    toBroadcast: false,
    bytes: new Uint8Array(0),
    offset: 0,
    length: 0,
    datagramOffset: 0,
    datagramLength: 0,
    frame: null,
  };
  private readonly header: ipv4.Ipv4Fields;
  /** One frame's worth of scratch for fragments (Ethernet header + MTU). */
  private readonly fragmentBuffer: Uint8Array;
  /** For MACs computed per send (multicast) or handed over as numbers (ARP queue flush). */
  private readonly scratchMac: MacHolder = { mac: BROADCAST_MAC };
  private readonly target: SendTarget = { dst: LIMITED_BROADCAST, src: LIMITED_BROADCAST };
  private identification = 0;
  private addr = 0;
  private mask = 0;
  private gw = 0;
  private directedBroadcast = LIMITED_BROADCAST;
  /** Destinations whose path MTU a "fragmentation needed" lowered (RFC 1191). */
  private readonly pmtu = new Map<number, PathMtu>();
  private readonly pathMtuCacheSize: number;

  constructor(
    private readonly ethernet: EthernetLayer,
    private readonly arp: ArpLayer,
    private readonly time: TimeSource,
    private readonly wake: (at: number) => void,
    readonly mtu: number,
    options: Ipv4Options = {},
  ) {
    this.reassembler = new Reassembler(this.stats, wake, options.reassembly);
    this.pathMtuCacheSize = options.pathMtuCacheSize ?? 1024;
    this.fragmentBuffer = new Uint8Array(ETHERNET_HEADER_LENGTH + mtu);
    this.header = {
      version: 4,
      ihl: 5,
      dscp: 0,
      ecn: 0,
      totalLength: 0,
      identification: 0,
      flags: 0,
      fragmentOffset: 0,
      ttl: options.ttl ?? 64,
      protocol: 0,
      checksum: undefined,
      src: 0,
      dst: 0,
      options: new Uint8Array(0),
    };
    arp.setResolvedSender(this);
  }

  get address(): number {
    return this.addr;
  }

  get netmask(): number {
    return this.mask;
  }

  get gateway(): number {
    return this.gw;
  }

  get maxPayload(): number {
    return this.mtu - HEADER_LENGTH;
  }

  /** Sets our address, netmask and default gateway (0 = none). 0.0.0.0 means unconfigured. */
  configure(address: number, netmask: number, gateway: number): void {
    this.addr = address >>> 0;
    this.mask = netmask >>> 0;
    this.gw = gateway >>> 0;
    this.directedBroadcast =
      address === 0 || netmask === LIMITED_BROADCAST
        ? LIMITED_BROADCAST
        : ((address & netmask) | ~netmask) >>> 0;
  }

  /**
   * Whether a datagram to `dst` can leave now: ours or loopback, broadcast, multicast, on-link,
   * or through the gateway. False is Linux's ENETUNREACH.
   */
  hasRoute(dst: number): boolean {
    dst = dst >>> 0;
    const addr = this.addr;
    if (isLocalDestination(dst, addr)) return this.loopback !== null;
    if (dst === LIMITED_BROADCAST || dst >>> 28 === 0xe) return true;
    if (addr === 0 || dst === 0) return false;
    return ((dst ^ addr) & this.mask) === 0 || this.gw !== 0;
  }

  /** The source address of what we send to `dst`: 127.0.0.1 to 127.0.0.0/8, else ours. */
  sourceFor(dst: number): number {
    return dst >>> 24 === 127 ? IPV4_LOOPBACK : this.addr;
  }

  /** Limited broadcast, or the directed broadcast of our subnet. */
  isBroadcast(dst: number): boolean {
    dst = dst >>> 0;
    return dst === LIMITED_BROADCAST || (this.addr !== 0 && dst === this.directedBroadcast);
  }

  /** Hands datagrams of `protocol` to `receiver` (a later call replaces it; null removes it). */
  /**
   * The link's record for a frame that needs its offloads (set by the stack when the link
   * segments TCP over IPv4): a datagram in the buffer it names is a TCP super-frame.
   */
  txMeta: FrameMeta | null = null;

  register(protocol: number, receiver: TransportReceiver | null): void {
    this.receivers[protocol & 0xff] = receiver;
  }

  setErrorReporter(reporter: Ipv4ErrorReporter): void {
    this.errors = reporter;
  }

  /**
   * A datagram from the link. `frame` is the Ethernet layer's decoder, whose IPv4 view (and the
   * transport's, for a whole datagram) already holds this datagram; without one (a caller that
   * hands in bare datagrams) it is decoded here.
   */
  receive(
    bytes: Uint8Array,
    offset: number,
    length: number,
    _srcMac = 0,
    _linkBroadcast = false,
    frame: FrameDecoder | null = null,
  ): void {
    this.input(bytes, offset, length, false, frame);
  }

  /** One of our own datagrams coming back through the loopback (no martian checks). */
  receiveLocal(bytes: Uint8Array, offset: number, length: number): void {
    this.input(bytes, offset, length, true, null);
  }

  private input(
    bytes: Uint8Array,
    offset: number,
    length: number,
    local: boolean,
    frame: FrameDecoder | null,
  ): void {
    const stats = this.stats;
    stats.rxPackets++;
    if (frame === null) {
      frame = this.frame;
      frame.decodeFrom(FrameLayer.ipv4, bytes, offset, length);
    }
    let v = frame.ipv4;
    if ((frame.layers & FrameLayer.ipv4) === 0) {
      // The decoder stopped at this header: our own view says why, in the codes counted.
      v = this.view;
      const err = v.wrap(bytes, offset, length);
      if (err !== null) {
        this.countDecodeError(err.code);
        return;
      }
      frame = null;
    }
    if (!v.checksumValid) {
      stats.drops.badChecksum++;
      return;
    }
    if (v.headerLength > HEADER_LENGTH && !this.acceptOptions(v)) return;
    // The addresses are read as their int32 bit patterns, which V8 passes around unboxed, and
    // made unsigned only when stored: an unsigned address above 2^31 (192.168.x.x) is a heap
    // number, allocated per datagram whenever V8 does not inline the getter.
    const d = this.delivery;
    d.src = v.srcBits >>> 0;
    d.dst = v.dstBits >>> 0;
    if (local) d.toBroadcast = false;
    else if (!this.acceptAddresses(d)) return;
    if ((v.flags & MF) !== 0 || v.fragmentOffset !== 0) {
      if (!this.reassemble(v, d, bytes, offset)) return;
      // Not the frame's bytes: the transport decodes the reassembled payload itself.
      d.frame = null;
    } else {
      d.frame = frame;
      d.bytes = bytes;
      d.datagramOffset = offset;
      d.datagramLength = v.totalLength;
      d.offset = v.payloadOffset;
      d.length = v.payloadLength;
    }
    d.protocol = v.protocol;
    d.ttl = v.ttl;
    const receiver = this.receivers[d.protocol];
    if (receiver === null) {
      stats.drops.unknownProtocol++;
      // RFC 1122 3.2.2.1: protocol unreachable; ICMP itself filters broadcasts.
      this.errors?.destinationUnreachable(icmp.IcmpUnreachableCode.Protocol, d);
      return;
    }
    stats.delivered++;
    receiver.receive(d);
  }

  private countDecodeError(code: string): void {
    const drops = this.stats.drops;
    if (code === 'E_TRUNCATED') drops.truncated++;
    else if (code === 'E_BAD_VALUE') drops.badVersion++;
    else if (code === 'E_BAD_OPTION') drops.badOptions++;
    else drops.badLength++;
  }

  /**
   * Options a host refuses (counted): source routes (Linux's accept_source_route=0: a host does
   * not forward, and a reply along the route would let anyone on it spoof us), and record
   * route or timestamp pointers before their first slot (RFC 791 §3.1).
   */
  private acceptOptions(v: ipv4.Ipv4View): boolean {
    const drops = this.stats.drops;
    if (v.looseSourceRoute || v.strictSourceRoute) {
      drops.sourceRouted++;
      return false;
    }
    const rr = v.recordRoutePointer;
    const ts = v.timestampPointer;
    if ((rr >= 0 && rr < 4) || (ts >= 0 && ts < 5)) {
      drops.badOptions++;
      return false;
    }
    return true;
  }

  /** Source and destination checks; sets `d.toBroadcast`. False (counted) to drop. */
  private acceptAddresses(d: Ipv4Delivery): boolean {
    const src = d.src;
    const dst = d.dst;
    const addr = this.addr;
    // RFC 1122 §3.2.1.3 / RFC 1812 §5.3.7 "martians": broadcast, multicast, loopback (127/8),
    // "this network" (0/8, but 0.0.0.0 to the limited broadcast: a DHCP client's request),
    // and our own address, which only we send from.
    const first = src >>> 24;
    if (
      src === LIMITED_BROADCAST ||
      src >>> 28 === 0xe ||
      (addr !== 0 && src === this.directedBroadcast) ||
      first === 127 ||
      (first === 0 && !(src === 0 && dst === LIMITED_BROADCAST)) ||
      (addr !== 0 && src === addr)
    ) {
      this.stats.drops.badSource++;
      return false;
    }
    // Nor a loopback destination from the wire (a martian destination to Linux).
    if (dst >>> 24 === 127) {
      this.stats.drops.notForUs++;
      return false;
    }
    d.toBroadcast = false;
    if (dst !== addr) {
      if (dst === LIMITED_BROADCAST || dst === this.directedBroadcast) {
        d.toBroadcast = true;
      } else if (addr !== 0 || dst >>> 28 === 0xe) {
        // Unconfigured (DHCP in progress) we take unicast for any address: a server may send its
        // offer straight to the address it offers.
        this.stats.drops.notForUs++;
        return false;
      }
    }
    return true;
  }

  /**
   * Hands a fragment to the reassembler; true when it completed a datagram, which `d` then
   * points at (the header is the first fragment's, still with its length and MF flag: only the
   * fields transports read matter, and ICMP quotes no more than the header + 8 bytes).
   */
  private reassemble(
    v: ipv4.Ipv4View,
    d: Ipv4Delivery,
    bytes: Uint8Array,
    offset: number,
  ): boolean {
    this.stats.fragmentsReceived++;
    const whole = this.reassembler.input(
      d.src,
      d.dst,
      v.protocol,
      v.identification,
      (v.flags & MF) !== 0,
      // In units of 8 bytes on the wire.
      v.fragmentOffset * 8,
      bytes,
      offset,
      v.headerLength,
      v.payloadOffset,
      v.payloadLength,
      this.time.now(),
    );
    if (whole === null) return false;
    d.bytes = whole.bytes;
    d.datagramOffset = whole.datagramOffset;
    d.datagramLength = whole.headerLength + whole.payloadLength;
    d.offset = whole.datagramOffset + whole.headerLength;
    d.length = whole.payloadLength;
    return true;
  }

  send(
    dst: number,
    protocol: number,
    buf: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
    src = 0,
  ): SendStatus {
    const t = this.target;
    t.dst = dst >>> 0;
    t.src = src >>> 0;
    return this.output(t, protocol, buf, payloadOffset, payloadLength);
  }

  /**
   * Answers the sender of a received datagram (`to.src`, e.g. an Ipv4Delivery or UdpDelivery)
   * from our address. Same as `send(to.src, ...)`, except that the address is read from the
   * record here: an address above 2^31 passed as an argument would be a heap number in V8,
   * allocated per reply.
   */
  sendBack(
    to: { readonly src: number },
    protocol: number,
    buf: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
  ): SendStatus {
    const t = this.target;
    t.dst = to.src;
    t.src = 0;
    return this.output(t, protocol, buf, payloadOffset, payloadLength);
  }

  private output(
    t: SendTarget,
    protocol: number,
    buf: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
  ): SendStatus {
    const stats = this.stats;
    if (payloadLength > MAX_DATAGRAM - HEADER_LENGTH || payloadOffset < IPV4_SEND_HEADROOM) {
      stats.drops.tooBig++;
      return SendStatus.Dropped;
    }
    const dst = t.dst;
    const src = t.src;
    const addr = this.addr;
    // Route: broadcast and multicast map straight to a MAC; on-link unicast resolves the
    // destination itself; everything else goes through the gateway.
    let link: MacHolder | null = null;
    let nextHop = dst;
    const local = isLocalDestination(dst, addr);
    if (local) {
      if (this.loopback === null) {
        stats.drops.noRoute++;
        return SendStatus.Dropped;
      }
    } else if (dst === LIMITED_BROADCAST || (addr !== 0 && dst === this.directedBroadcast)) {
      link = BROADCAST;
    } else if (dst >>> 28 === 0xe) {
      link = this.scratchMac;
      link.mac = multicastMac(dst);
    } else if (addr === 0 || dst === 0) {
      stats.drops.noRoute++;
      return SendStatus.Dropped;
    } else if (((dst ^ addr) & this.mask) !== 0) {
      nextHop = this.gw;
      if (nextHop === 0) {
        stats.drops.noRoute++;
        return SendStatus.Dropped;
      }
    }
    const ipOffset = payloadOffset - HEADER_LENGTH;
    const h = this.header;
    h.totalLength = HEADER_LENGTH + payloadLength;
    h.identification = this.identification;
    // A TCP super-frame the link cuts (TSO) is one datagram per segment on the wire, each with
    // the next ID (as the kernel's GSO numbers them): the IDs they take are skipped here.
    const meta = this.txMeta;
    const gso = meta !== null && meta.bytes === buf && meta.gsoType !== 0 && meta.gsoSize > 0;
    const ids = gso
      ? Math.max(1, Math.ceil((payloadLength - (meta.hdrLen - meta.csumStart)) / meta.gsoSize))
      : 1;
    this.identification = (this.identification + ids) & 0xffff;
    h.protocol = protocol;
    // RFC 1191: TCP segments carry DF, so that routers report a smaller path MTU instead of
    // fragmenting; TCP sizes its segments to what they report.
    h.flags = protocol === TCP && (this.pmtu.size === 0 || !this.pmtu.get(dst)?.locked) ? DF : 0;
    h.src = src !== 0 ? src : local ? this.sourceFor(dst) : addr;
    h.dst = dst;
    ipv4.encodeIpv4(h, buf, ipOffset, payloadLength);
    const ipLength = HEADER_LENGTH + payloadLength;
    if (local) {
      if (!(this.loopback as Loopback).send(this, buf, ipOffset, ipLength))
        return SendStatus.Dropped;
      stats.txPackets++;
      return SendStatus.Sent;
    }
    if (link === null) link = this.arp.entryFor(nextHop | 0);
    if (link === null)
      return this.arp.enqueue(nextHop, buf, ipOffset, ipLength, meta?.bytes === buf ? meta : null);
    // A super-frame is never fragmented: the link cuts it into segments that fit.
    const limit = gso ? MAX_DATAGRAM : this.pmtu.size === 0 ? this.mtu : this.pathMtu(dst);
    return this.transmit(link, buf, ipOffset, ipLength, limit)
      ? SendStatus.Sent
      : SendStatus.Dropped;
  }

  /**
   * A datagram that waited for ARP (see ArpLayer.enqueue), with the link's facts it was sent
   * with: without them the link would take a super-frame for an oversized plain frame.
   */
  sendResolved(
    mac: number,
    bytes: Uint8Array,
    offset: number,
    length: number,
    meta: FrameMeta | null,
  ): boolean {
    const link = this.scratchMac;
    link.mac = mac;
    const tx = this.txMeta;
    if (meta === null || tx === null) return this.transmit(link, bytes, offset, length);
    tx.copyFrom(meta);
    tx.bytes = bytes;
    // A super-frame is never fragmented (see output()).
    const limit = tx.gsoType !== 0 && tx.gsoSize > 0 ? MAX_DATAGRAM : this.mtu;
    const sent = this.transmit(link, bytes, offset, length, limit);
    tx.clear();
    return sent;
  }

  tick(now: number): void {
    this.reassembler.tick(now);
    if (this.pmtu.size === 0) return;
    let next = Infinity;
    for (const [dst, p] of this.pmtu) {
      if (p.expiresAt <= now) this.pmtu.delete(dst);
      else next = Math.min(next, p.expiresAt);
    }
    if (next < Infinity) this.wake(next);
  }

  /** The MTU of the path to `dst`: the link's, unless a "fragmentation needed" lowered it. */
  pathMtu(dst: number): number {
    if (this.pmtu.size === 0) return this.mtu;
    return this.pmtu.get(dst >>> 0)?.mtu ?? this.mtu;
  }

  /**
   * A "fragmentation needed" about a datagram we sent to `dst` (RFC 1191 §6.1): its path MTU
   * becomes `mtu` (never below IPV4_MIN_PATH_MTU, never above the link's) for 10 minutes.
   */
  lowerPathMtu(dst: number, mtu: number, now: number): void {
    const value = Math.max(IPV4_MIN_PATH_MTU, Math.min(mtu, this.mtu));
    const locked = mtu < IPV4_MIN_PATH_MTU;
    const key = dst >>> 0;
    const p = this.pmtu.get(key);
    if (p !== undefined) {
      if (value < p.mtu) p.mtu = value;
      p.locked ||= locked;
      p.expiresAt = now + PMTU_LIFETIME_MS;
    } else if (value < this.mtu || locked) {
      if (this.pmtu.size >= this.pathMtuCacheSize) {
        const oldest = this.pmtu.keys().next();
        if (oldest.done !== true) this.pmtu.delete(oldest.value);
      }
      this.pmtu.set(key, { mtu: value, expiresAt: now + PMTU_LIFETIME_MS, locked });
    }
    this.wake(now + PMTU_LIFETIME_MS);
  }

  /**
   * Puts a whole datagram (at `ipOffset`, with Ethernet headroom in front) on the link, in
   * fragments when it is larger than `limit` (the path MTU; one with DF is dropped instead).
   */
  private transmit(
    mac: MacHolder,
    bytes: Uint8Array,
    ipOffset: number,
    ipLength: number,
    limit = this.mtu,
  ): boolean {
    if (ipLength <= limit) {
      if (
        !this.ethernet.sendTo(
          mac,
          ethernet.EtherType.IPv4,
          bytes,
          ipOffset - ETHERNET_HEADER_LENGTH,
          ipLength,
        )
      )
        return false;
      this.stats.txPackets++;
      return true;
    }
    return this.fragment(mac, bytes, ipOffset, ipLength, limit);
  }

  /**
   * RFC 791 fragmentation: each fragment gets a copy of the header and its share of the data,
   * then its total length, MF flag and fragment offset are set through the view, which updates
   * the header checksum for the changed words (RFC 1624) instead of summing the header again.
   */
  private fragment(
    mac: MacHolder,
    bytes: Uint8Array,
    ipOffset: number,
    ipLength: number,
    limit: number,
  ): boolean {
    const whole = this.wholeView;
    // Our own datagram (encoded by output()), so it wraps; a failure would be a bug, not input.
    if (whole.wrap(bytes, ipOffset, ipLength) !== null || (whole.flags & DF) !== 0) {
      this.stats.drops.tooBig++;
      return false;
    }
    const frag = this.fragmentView;
    const out = this.fragmentBuffer;
    const ip = ETHERNET_HEADER_LENGTH;
    const headerLength = whole.headerLength;
    const chunk = (limit - headerLength) & ~7;
    const payloadLength = whole.payloadLength;
    for (let done = 0; done < payloadLength; done += chunk) {
      const size = Math.min(chunk, payloadLength - done);
      const last = done + size === payloadLength;
      copyBytes(bytes, ipOffset, out, ip, headerLength);
      copyBytes(bytes, whole.payloadOffset + done, out, ip + headerLength, size);
      const total = headerLength + size;
      // The copied header still declares the whole datagram: wrapPartial() takes it as cut, and
      // the new total length delimits it again (both hold for a header that wrapped above).
      if (
        frag.wrapPartial(out, ip, total) !== null ||
        frag.setTotalLengthUpdatingChecksum(total) !== null
      )
        return false;
      // The last fragment keeps the datagram's MF (set when it is itself a fragment).
      frag.setFlagsUpdatingChecksum(last ? whole.flags : whole.flags | MF);
      frag.setFragmentOffsetUpdatingChecksum(whole.fragmentOffset + done / 8);
      if (!this.ethernet.sendTo(mac, ethernet.EtherType.IPv4, out, 0, total)) return false;
      this.stats.fragmentsSent++;
    }
    this.stats.txPackets++;
    return true;
  }
}
