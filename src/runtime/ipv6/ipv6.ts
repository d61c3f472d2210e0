/**
 * IPv6 (RFC 8200) over one Ethernet interface: our addresses and the groups we joined, the
 * extension headers processed in order, delivery to transports by next header, source
 * selection, next-hop choice (on-link prefixes, default routers), Neighbor Discovery for the
 * link address, path MTU, fragmentation on send and reassembly on receive.
 *
 * Receive: one reused view per header kind and one reused delivery record; an unfragmented
 * packet costs no allocation. Extension headers, in order:
 * - hop-by-hop options only first (else parameter problem code 1, RFC 8200 §4.1);
 * - an unknown option is acted on by its two high bits (§4.2): skip, discard, discard and
 *   report, discard and report unless the destination was multicast;
 * - a routing header with segments left is refused with a parameter problem at its routing type
 *   (type 0 per RFC 5095; the others because a host does not forward), with none left ignored;
 * - a fragment header with offset 0 and M clear is an atomic fragment (RFC 6946), taken alone;
 *   other fragments go to the reassembler, after RFC 8200 §4.5's checks and RFC 7112's
 *   (the first fragment must hold the whole header chain);
 * - an unknown next header is a parameter problem code 1 at the field that named it.
 *
 * Send: the transport leaves `IPV6_SEND_HEADROOM` bytes in front of its payload; the header is
 * written there and, when the packet fits the path MTU, the same buffer goes to the link.
 */
import { ipv6Equals, copyIpv6 } from '../../codec/address.js';
import {
  ethernet,
  icmpv6,
  ipv4,
  ipv6,
  ipv6frag,
  ipv6opts,
  ipv6route,
  tcp,
  udp,
} from '../../generated/index.js';
import { FrameDecoder, FrameLayer } from '../../generated/frame.js';
import {
  IPV6_MIN_MTU,
  IPV6_SEND_HEADROOM,
  RECEIVE_LAYERS,
  SendStatus,
  createIpv6Delivery,
  type Ipv6Delivery,
  type Ipv6TransportReceiver,
} from '../layers.js';
import { createIpv6Stats, type Ipv6Stats } from '../stats.js';
import {
  ETHERNET_HEADER_LENGTH,
  type EthernetLayer,
  type EthernetReceiver,
  type MacHolder,
} from '../ethernet/ethernet.js';
import type { ResolvedSender, TimeSource } from '../arp/arp.js';
import { copyBytes } from '../../util/bytes.js';
import {
  AddressTable,
  commonPrefixLength,
  isLinkLocal,
  isMulticast,
  isUnspecified,
  isLoopback,
  multicastMac,
  prefixMatches,
  scopeOf,
  solicitedNode,
} from './address.js';
import { NeighborCache } from './neighbor.js';
import type { LocalReceiver, Loopback } from '../ip/loopback.js';
import { Ipv6Reassembler } from './reassembly.js';
import type { ReassemblyOptions } from '../ip/reassembly.js';
import type { FrameMeta } from '../link/offload.js';

const { IpProtocol } = ipv4;
const { Icmpv6ParameterProblemCode } = icmpv6;
const HEADER_LENGTH = ipv6.IPV6_FIXED_SIZE;
const FRAGMENT_HEADER_LENGTH = ipv6frag.IPV6FRAGMENT_FIXED_SIZE;
const MAX_PAYLOAD = 65535;
/** RFC 8201 §4: a lowered path MTU is tried upward again after 10 minutes. */
const PMTU_LIFETIME_MS = 10 * 60_000;
/** How long a redirect holds (RFC 4861 leaves it to us; as long as a path MTU). */
const REDIRECT_LIFETIME_MS = 10 * 60_000;
/** Routing headers, extension headers... taken before giving up on a packet (a hostile chain). */
const MAX_HEADERS = 16;

/**
 * How an address of ours came to be, and where it stands (RFC 4862 §2). `duplicate`: duplicate
 * address detection failed and the address was given up; `removed`: it was taken away for any
 * other reason (its valid lifetime ended, a lease ended or was released, the stack stopped).
 * Both are final: the entry has left the address list when listeners hear of it.
 */
export type Ipv6AddressState = 'tentative' | 'preferred' | 'deprecated' | 'duplicate' | 'removed';
export type Ipv6AddressOrigin = 'link-local' | 'static' | 'slaac' | 'dhcpv6';

export interface Ipv6AddressEntry {
  readonly address: Uint8Array;
  readonly prefixLength: number;
  readonly origin: Ipv6AddressOrigin;
  state: Ipv6AddressState;
  /** When it stops being preferred / valid (ms on the stack's clock; Infinity: never). */
  preferredUntil: number;
  validUntil: number;
}

export interface OnLinkPrefix {
  readonly address: Uint8Array;
  readonly prefixLength: number;
  validUntil: number;
}

export interface DefaultRouter {
  readonly address: Uint8Array;
  until: number;
}

interface PathMtu {
  readonly address: Uint8Array;
  mtu: number;
  expiresAt: number;
}

/** A redirect (RFC 4861 §8.3): packets to `address` go to `target` (the destination itself when on-link). */
interface Redirect {
  readonly address: Uint8Array;
  readonly target: Uint8Array;
  expiresAt: number;
}

interface Group {
  readonly address: Uint8Array;
  users: number;
}

/** ICMPv6 errors the IPv6 layer asks for; the ICMPv6 layer implements it (rate limited). */
export interface Ipv6ErrorReporter {
  /** Parameter problem (RFC 4443 §3.4) about the packet in `d` (packet fields set). */
  parameterProblem(
    code: number,
    pointer: number,
    d: Ipv6Delivery,
    toMulticastAllowed: boolean,
  ): void;
}

/** Address events (the CLI prints them; SLAAC and DHCPv6 watch their own). */
export type Ipv6AddressListener = (entry: Ipv6AddressEntry) => void;

export interface Ipv6Options {
  /** Hop limit of packets we send (RFC 8200 suggests 64; an RA may change it). */
  hopLimit?: number;
  /** Bounds of fragment reassembly (60 s, 1 MiB, 64 packets by default). */
  reassembly?: ReassemblyOptions;
  /**
   * Most destinations with a lowered path MTU, and most with a redirect, remembered at once
   * (1024 each): peers fill these tables, so a full one forgets an entry to take a new one.
   */
  destinationCacheSize?: number;
}

/** Where `output` reads the addresses from. */
interface SendTarget {
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  /** False: pick the source address (RFC 6724). */
  srcGiven: boolean;
  hopLimit: number;
}

/** ::1, the loopback address (RFC 4291 §2.5.3). */
const LOOPBACK6 = new Uint8Array(16);
LOOPBACK6[15] = 1;

export class Ipv6Layer implements EthernetReceiver, ResolvedSender, LocalReceiver {
  readonly stats: Ipv6Stats = createIpv6Stats();
  /** Where packets to ::1 or our own addresses go (the stack sets it); null: dropped. */
  loopback: Loopback | null = null;
  readonly neighbors: NeighborCache;
  readonly reassembler: Ipv6Reassembler;
  hopLimit: number;
  /** Told when we join a group or leave it (MLD reports the change). */
  groupListener: ((group: Uint8Array, joined: boolean) => void) | null = null;
  private linkMtu: number;
  private readonly receivers: Array<Ipv6TransportReceiver | null> =
    new Array<Ipv6TransportReceiver | null>(256).fill(null);
  private errors: Ipv6ErrorReporter | null = null;
  private readonly addresses: Ipv6AddressEntry[] = [];
  private readonly groups = new AddressTable<Group>();
  private readonly prefixes: OnLinkPrefix[] = [];
  private readonly routers: DefaultRouter[] = [];
  private readonly pmtu = new AddressTable<PathMtu>();
  private readonly redirects = new AddressTable<Redirect>();
  private readonly destinationCacheSize: number;
  private readonly addressListeners: Ipv6AddressListener[] = [];
  /** Decodes what comes without a decoder: loopback and bare packets (decodeFrom IPv6). */
  private readonly frame = new FrameDecoder(RECEIVE_LAYERS, 0);
  /** A header the decoder refused, wrapped again to name the error counted (a cold path). */
  private readonly view = new ipv6.Ipv6View();
  private readonly optionsView = new ipv6opts.Ipv6OptionsHeaderView();
  private readonly routingView = new ipv6route.Ipv6RoutingView();
  private readonly fragmentView = new ipv6frag.Ipv6FragmentView();
  private readonly sendView = new ipv6.Ipv6View();
  private readonly quoteView = new ipv6.Ipv6View();
  private readonly delivery: Ipv6Delivery = createIpv6Delivery();
  private readonly header: ipv6.Ipv6Fields;
  private readonly fragmentHeader: ipv6frag.Ipv6FragmentFields = {
    nextHeader: 0,
    reserved: 0,
    fragmentOffset: 0,
    reserved2: 0,
    more: 0,
    identification: 0,
  };
  private readonly target: SendTarget = {
    dst: new Uint8Array(16),
    src: new Uint8Array(16),
    srcGiven: false,
    hopLimit: 64,
  };
  /** For next hops and solicited-node groups computed per send. */
  private readonly nextHop = new Uint8Array(16);
  private readonly scratchMac: MacHolder = { mac: 0xffffffffffff };
  private readonly fragmentBuffer: Uint8Array;
  private identification: number;

  constructor(
    private readonly ethernet: EthernetLayer,
    private readonly time: TimeSource,
    private readonly wake: (at: number) => void,
    /** The link's MTU; an RA's MTU option may lower it for IPv6 (never below 1280). */
    private readonly deviceMtu: number,
    neighbors: NeighborCache,
    options: Ipv6Options = {},
    random: () => number = Math.random,
  ) {
    this.hopLimit = options.hopLimit ?? 64;
    this.linkMtu = deviceMtu;
    this.reassembler = new Ipv6Reassembler(this.stats, wake, options.reassembly);
    this.neighbors = neighbors;
    neighbors.setResolvedSender(this);
    neighbors.unreachableListener = (address) => this.nextHopUnreachable(address);
    this.destinationCacheSize = options.destinationCacheSize ?? 1024;
    this.fragmentBuffer = new Uint8Array(ETHERNET_HEADER_LENGTH + deviceMtu);
    // RFC 7739: identifications not predictable from one packet to the next flow's.
    this.identification = Math.floor(random() * 0x100000000) >>> 0;
    this.header = {
      version: 6,
      trafficClass: 0,
      flowLabel: 0,
      payloadLen: undefined,
      nextHeader: 0,
      hopLimit: this.hopLimit,
      src: this.target.src,
      dst: this.target.dst,
    };
  }

  get mtu(): number {
    return this.linkMtu;
  }

  /** An RA's MTU option (RFC 4861 §6.3.4): taken when between 1280 and the device's MTU. */
  setLinkMtu(mtu: number): void {
    if (mtu >= IPV6_MIN_MTU && mtu <= this.deviceMtu) this.linkMtu = mtu;
  }

  /** The IPv6 header quoted in an ICMPv6 error (its addresses), or null when cut short. */
  quotedHeader(bytes: Uint8Array, offset: number, length: number): ipv6.Ipv6View | null {
    return this.quoteView.wrapPartial(bytes, offset, length) === null &&
      this.quoteView.byteLength >= HEADER_LENGTH
      ? this.quoteView
      : null;
  }

  /** Asks for a tick at an address's (changed) lifetimes. */
  rearm(entry: Ipv6AddressEntry): void {
    if (entry.validUntil < Infinity) this.wake(entry.validUntil);
    if (entry.preferredUntil < Infinity) this.wake(entry.preferredUntil);
  }

  /** Largest upper-layer payload in one unfragmented packet on the link. */
  get maxPayload(): number {
    return this.mtu - HEADER_LENGTH;
  }

  register(nextHeader: number, receiver: Ipv6TransportReceiver | null): void {
    this.receivers[nextHeader & 0xff] = receiver;
  }

  setErrorReporter(reporter: Ipv6ErrorReporter): void {
    this.errors = reporter;
  }

  // ---- Addresses, groups, prefixes, routers -------------------------------------------------

  /** Our addresses, in the order they were added. */
  get addressList(): readonly Ipv6AddressEntry[] {
    return this.addresses;
  }

  onAddressChange(listener: Ipv6AddressListener): void {
    this.addressListeners.push(listener);
  }

  /** Adds an address (tentative until DAD says otherwise) and joins its solicited-node group. */
  addAddress(
    address: Uint8Array,
    prefixLength: number,
    origin: Ipv6AddressOrigin,
    preferredUntil = Infinity,
    validUntil = Infinity,
  ): Ipv6AddressEntry {
    const existing = this.findAddress(address, 0);
    if (existing !== null) {
      existing.preferredUntil = preferredUntil;
      existing.validUntil = validUntil;
      return existing;
    }
    const entry: Ipv6AddressEntry = {
      address: address.slice(0, 16),
      prefixLength,
      origin,
      state: 'tentative',
      preferredUntil,
      validUntil,
    };
    this.addresses.push(entry);
    this.joinGroup(solicitedNode(entry.address));
    this.announce(entry);
    if (validUntil < Infinity) this.wake(validUntil);
    if (preferredUntil < Infinity) this.wake(preferredUntil);
    return entry;
  }

  /** Moves an address to `state` and tells the listeners. */
  setAddressState(entry: Ipv6AddressEntry, state: Ipv6AddressState): void {
    if (entry.state === state) return;
    entry.state = state;
    this.announce(entry);
    if (state === 'duplicate') this.removeAddress(entry.address);
  }

  removeAddress(address: Uint8Array): void {
    const i = this.addresses.findIndex((e) => ipv6Equals(e.address, 0, address, 0));
    if (i < 0) return;
    const [entry] = this.addresses.splice(i, 1);
    this.leaveGroup(solicitedNode(entry.address));
    if (entry.state !== 'duplicate') {
      entry.state = 'removed';
      entry.validUntil = Math.min(entry.validUntil, this.time.now());
    }
    this.announce(entry);
  }

  /** One of our addresses (any state), or null. */
  findAddress(a: Uint8Array, off: number): Ipv6AddressEntry | null {
    const list = this.addresses;
    for (let i = 0; i < list.length; i++)
      if (ipv6Equals(list[i].address, 0, a, off)) return list[i];
    return null;
  }

  /** A usable (preferred, else deprecated) link-local address, or null. */
  linkLocal(): Ipv6AddressEntry | null {
    let best: Ipv6AddressEntry | null = null;
    for (const e of this.addresses) {
      if (!isLinkLocal(e.address) || (e.state !== 'preferred' && e.state !== 'deprecated'))
        continue;
      if (best === null || (best.state === 'deprecated' && e.state === 'preferred')) best = e;
    }
    return best;
  }

  joinGroup(group: Uint8Array): boolean {
    const g = this.groups.get(group, 0);
    if (g !== undefined) {
      g.users++;
      return false;
    }
    this.groups.set({ address: group.slice(0, 16), users: 1 });
    this.ethernet.joinMulticast(multicastMac(group, 0));
    this.groupListener?.(group, true);
    return true;
  }

  leaveGroup(group: Uint8Array): boolean {
    const g = this.groups.get(group, 0);
    if (g === undefined) return false;
    if (--g.users > 0) return false;
    this.groups.delete(group, 0);
    this.ethernet.leaveMulticast(multicastMac(group, 0));
    this.groupListener?.(group, false);
    return true;
  }

  hasGroup(group: Uint8Array, off = 0): boolean {
    return this.groups.get(group, off) !== undefined;
  }

  /** The groups we listen to (MLD reports them). */
  groupList(): Uint8Array[] {
    return [...this.groups.values()].map((g) => g.address);
  }

  /** An on-link prefix from a router advertisement or our static configuration. */
  addPrefix(prefix: Uint8Array, prefixLength: number, validUntil: number): void {
    const p = this.prefixes.find(
      (x) =>
        x.prefixLength === prefixLength && prefixMatches(x.address, 0, prefix, 0, prefixLength),
    );
    if (p !== undefined) p.validUntil = validUntil;
    else this.prefixes.push({ address: prefix.slice(0, 16), prefixLength, validUntil });
    if (validUntil < Infinity) this.wake(validUntil);
  }

  get prefixList(): readonly OnLinkPrefix[] {
    return this.prefixes;
  }

  /** Adds or refreshes a default router (lifetime 0 removes it, RFC 4861 §6.3.4). */
  setRouter(address: Uint8Array, until: number): void {
    const i = this.routers.findIndex((r) => ipv6Equals(r.address, 0, address, 0));
    if (until <= this.time.now()) {
      if (i >= 0) this.routers.splice(i, 1);
      return;
    }
    if (i >= 0) this.routers[i].until = until;
    else this.routers.push({ address: address.slice(0, 16), until });
    if (until < Infinity) this.wake(until);
  }

  get routerList(): readonly DefaultRouter[] {
    return this.routers;
  }

  /** Path MTU to `dst` (the link MTU until a Packet Too Big lowered it). */
  pathMtu(dst: Uint8Array, off = 0): number {
    const p = this.pmtu.get(dst, off);
    return p === undefined ? this.mtu : p.mtu;
  }

  /** A Packet Too Big (RFC 8201): lowers the path MTU to `dst`, never below 1280. */
  lowerPathMtu(dst: Uint8Array, off: number, mtu: number, now: number): void {
    const value = Math.max(IPV6_MIN_MTU, Math.min(mtu, this.linkMtu));
    const p = this.pmtu.get(dst, off);
    if (p !== undefined) {
      if (value < p.mtu) p.mtu = value;
      p.expiresAt = now + PMTU_LIFETIME_MS;
    } else if (value < this.mtu) {
      const address = new Uint8Array(16);
      copyIpv6(dst, off, address, 0);
      this.remember(this.pmtu, { address, mtu: value, expiresAt: now + PMTU_LIFETIME_MS });
    }
    this.wake(now + PMTU_LIFETIME_MS);
  }

  /** The first hop for `dst` a redirect named, or null (the on-link / default-router rule). */
  redirectFor(dst: Uint8Array, off = 0): Uint8Array | null {
    if (this.redirects.size === 0) return null;
    return this.redirects.get(dst, off)?.target ?? null;
  }

  /**
   * The neighbor we send packets for `dst` to now: a redirect's target, `dst` itself when
   * on-link, else the first default router; null when there is none (no route).
   */
  /** Whether a packet to `dst` can leave now (false is Linux's ENETUNREACH). */
  hasRoute(dst: Uint8Array, off: number): boolean {
    if (isLoopback(dst, off) || this.findAddress(dst, off) !== null) return this.loopback !== null;
    return isMulticast(dst, off) || this.firstHop(dst, off) !== null;
  }

  firstHop(dst: Uint8Array, off: number): Uint8Array | null {
    const redirected = this.redirectFor(dst, off);
    if (redirected !== null) return redirected;
    if (this.isOnLink(dst, off)) {
      return off === 0 && dst.length === 16 ? dst : dst.subarray(off, off + 16);
    }
    return this.routers[0]?.address ?? null;
  }

  /**
   * A validated redirect (RFC 4861 §8.3): packets to `dst` go to `target` from now on (the
   * destination itself when `target` equals it: it is on-link).
   */
  redirect(
    dst: Uint8Array,
    dstOff: number,
    target: Uint8Array,
    targetOff: number,
    now: number,
  ): void {
    const r = this.redirects.get(dst, dstOff);
    if (r !== undefined) {
      copyIpv6(target, targetOff, r.target, 0);
      r.expiresAt = now + REDIRECT_LIFETIME_MS;
    } else {
      const address = new Uint8Array(16);
      copyIpv6(dst, dstOff, address, 0);
      const to = new Uint8Array(16);
      copyIpv6(target, targetOff, to, 0);
      this.remember(this.redirects, { address, target: to, expiresAt: now + REDIRECT_LIFETIME_MS });
    }
    this.wake(now + REDIRECT_LIFETIME_MS);
  }

  /** Adds to a bounded cache; when full, an entry goes first (the first found: O(1)). */
  private remember<T extends { readonly address: Uint8Array }>(
    table: AddressTable<T>,
    entry: T,
  ): void {
    if (table.size >= this.destinationCacheSize) {
      const victim = table.values().next();
      if (victim.done !== true) table.delete(victim.value.address);
    }
    table.set(entry);
  }

  /**
   * Neighbor Unreachability Detection gave up on `address` (§7.3.3): redirects through it are
   * dropped (their destinations go back to the routing rules), and as a default router it goes
   * to the end of the list, so that a reachable one is tried first (§6.3.6).
   */
  private nextHopUnreachable(address: Uint8Array): void {
    for (const r of [...this.redirects.values()]) {
      if (ipv6Equals(r.target, 0, address, 0)) this.redirects.delete(r.address);
    }
    const i = this.routers.findIndex((r) => ipv6Equals(r.address, 0, address, 0));
    if (i >= 0 && i < this.routers.length - 1) this.routers.push(...this.routers.splice(i, 1));
  }

  tick(now: number): void {
    this.reassembler.tick(now);
    for (const e of [...this.addresses]) {
      if (e.validUntil <= now) this.removeAddress(e.address);
      else if (e.preferredUntil <= now && e.state === 'preferred')
        this.setAddressState(e, 'deprecated');
    }
    for (let i = this.prefixes.length - 1; i >= 0; i--) {
      if (this.prefixes[i].validUntil <= now) this.prefixes.splice(i, 1);
    }
    for (let i = this.routers.length - 1; i >= 0; i--) {
      if (this.routers[i].until <= now) this.routers.splice(i, 1);
    }
    for (const p of [...this.pmtu.values()]) if (p.expiresAt <= now) this.pmtu.delete(p.address);
    for (const r of [...this.redirects.values()]) {
      if (r.expiresAt <= now) this.redirects.delete(r.address);
    }
    this.neighbors.tick(now);
    // The stack keeps one timer, at the earliest deadline asked for: ask for the next one.
    let next = Infinity;
    for (const e of this.addresses) {
      next = Math.min(next, e.validUntil, e.state === 'preferred' ? e.preferredUntil : Infinity);
    }
    for (const p of this.prefixes) next = Math.min(next, p.validUntil);
    for (const r of this.routers) next = Math.min(next, r.until);
    for (const p of this.pmtu.values()) next = Math.min(next, p.expiresAt);
    for (const r of this.redirects.values()) next = Math.min(next, r.expiresAt);
    if (next < Infinity) this.wake(next);
  }

  clear(): void {
    this.reassembler.clear();
    this.neighbors.clear();
    this.pmtu.clear();
    this.redirects.clear();
  }

  private announce(entry: Ipv6AddressEntry): void {
    for (const listener of this.addressListeners) listener(entry);
  }

  // ---- Receive ---------------------------------------------------------------------------

  /**
   * A packet from the link. `frame` is the Ethernet layer's decoder, whose IPv6 view (and the
   * transport's, when no extension header comes between) already holds this packet; without
   * one it is decoded here.
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

  /** One of our own packets coming back through the loopback (no address checks). */
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
      frame.decodeFrom(FrameLayer.ipv6, bytes, offset, length);
    }
    let v = frame.ipv6;
    if ((frame.layers & FrameLayer.ipv6) === 0) {
      // The decoder stopped at this header: our own view says why, in the codes counted.
      v = this.view;
      const err = v.wrap(bytes, offset, length);
      if (err !== null) {
        if (err.code === 'E_TRUNCATED') stats.drops.truncated++;
        else if (err.code === 'E_BAD_VALUE') stats.drops.badVersion++;
        else stats.drops.badLength++;
        return;
      }
      frame = null;
    }
    const d = this.delivery;
    d.frame = frame;
    v.copySrc(d.src, 0);
    v.copyDst(d.dst, 0);
    // RFC 4291 §2.5.3: ::1 never arrives from a link, as source or destination.
    if (!local && (isMulticast(d.src, 0) || isLoopback(d.src, 0))) {
      stats.drops.badSource++;
      return;
    }
    if (local) {
      d.toMulticast = false;
    } else if (isMulticast(d.dst, 0)) {
      if (!this.hasGroup(d.dst, 0)) {
        stats.drops.notForUs++;
        return;
      }
      d.toMulticast = true;
    } else {
      const mine = this.findAddress(d.dst, 0);
      // A tentative address takes only what DAD needs (ND messages, RFC 4862 §5.4.3), which
      // the ND layer checks; other traffic to it is not for us yet.
      if (mine === null || (mine.state === 'tentative' && v.nextHeader !== IpProtocol.ICMPv6)) {
        stats.drops.notForUs++;
        return;
      }
      d.toMulticast = false;
    }
    d.hopLimit = v.hopLimit;
    // Until a transport takes it, the delivery names the first header after IPv6's (what an
    // ICMPv6 error about the packet looks at).
    d.nextHeader = v.nextHeader;
    d.offset = v.payloadOffset;
    d.length = v.payloadLength;
    d.bytes = bytes;
    d.packetOffset = offset;
    d.packetLength = v.headerLength + v.payloadLength;
    this.walk(
      d,
      v.nextHeader,
      offset + ipv6.IPV6_OFFSETS.nextHeader,
      v.payloadOffset,
      v.payloadOffset + v.payloadLength,
    );
  }

  /**
   * Processes the header chain from `pos` (whose type the byte at `nhField` named) to `end`,
   * and hands the upper layer to its transport.
   */
  private walk(
    d: Ipv6Delivery,
    nextHeader: number,
    nhField: number,
    pos: number,
    end: number,
  ): void {
    const stats = this.stats;
    const start = pos;
    let nh = nextHeader;
    let field = nhField;
    for (let n = 0; n < MAX_HEADERS; n++) {
      switch (nh) {
        case IpProtocol.HopByHop:
        case IpProtocol.DestOptions: {
          if (nh === IpProtocol.HopByHop && pos !== start) {
            stats.drops.badOptions++;
            this.problem(Icmpv6ParameterProblemCode.UnrecognizedNextHeader, field, d, false);
            return;
          }
          const o = this.optionsView;
          if (o.wrap(d.bytes, pos, end - pos) !== null) {
            stats.drops.badOptions++;
            return;
          }
          if (!this.acceptOptions(o, d)) return;
          field = pos;
          nh = o.nextHeader;
          pos = o.payloadOffset;
          continue;
        }
        case IpProtocol.Routing: {
          const r = this.routingView;
          if (r.wrap(d.bytes, pos, end - pos) !== null) {
            stats.drops.badRouting++;
            return;
          }
          if (r.segmentsLeft !== 0) {
            stats.drops.badRouting++;
            this.problem(
              Icmpv6ParameterProblemCode.ErroneousHeader,
              pos + ipv6route.IPV6ROUTING_OFFSETS.routingType,
              d,
              false,
            );
            return;
          }
          field = pos;
          nh = r.nextHeader;
          pos = r.payloadOffset;
          continue;
        }
        case IpProtocol.Fragment: {
          const f = this.fragmentView;
          if (f.wrap(d.bytes, pos, end - pos) !== null) {
            stats.drops.truncated++;
            return;
          }
          if (f.fragmentOffset === 0 && f.more === 0) {
            // RFC 6946: an atomic fragment is the whole packet; no reassembly state.
            field = pos;
            nh = f.nextHeader;
            pos = f.payloadOffset;
            continue;
          }
          this.fragment(d, f, pos, end);
          return;
        }
        case IpProtocol.NoNextHeader:
          return;
        default: {
          const receiver = this.receivers[nh];
          if (receiver === null) {
            stats.drops.unknownNextHeader++;
            this.problem(Icmpv6ParameterProblemCode.UnrecognizedNextHeader, field, d, false);
            return;
          }
          d.nextHeader = nh;
          d.offset = pos;
          d.length = end - pos;
          stats.delivered++;
          receiver.receive(d);
          return;
        }
      }
    }
    stats.drops.badOptions++;
  }

  /** RFC 8200 §4.2: acts on options we do not know by their two high bits. */
  private acceptOptions(o: ipv6opts.Ipv6OptionsHeaderView, d: Ipv6Delivery): boolean {
    const c = o.options();
    while (c.next()) {
      const kind = c.kind;
      if (
        kind === ipv6opts.Ipv6OptionType.Pad1 ||
        kind === ipv6opts.Ipv6OptionType.PadN ||
        kind === ipv6opts.Ipv6OptionType.RouterAlert
      ) {
        continue;
      }
      // A jumbogram needs a payload length of 0 (RFC 2675), which the header view refused.
      switch (kind >>> 6) {
        case 0:
          continue;
        case 1:
          this.stats.drops.badOptions++;
          return false;
        case 2:
          this.stats.drops.badOptions++;
          this.problem(Icmpv6ParameterProblemCode.UnrecognizedOption, c.offset, d, true);
          return false;
        default:
          this.stats.drops.badOptions++;
          this.problem(Icmpv6ParameterProblemCode.UnrecognizedOption, c.offset, d, false);
          return false;
      }
    }
    if (c.error !== null) {
      this.stats.drops.badOptions++;
      return false;
    }
    return true;
  }

  private fragment(d: Ipv6Delivery, f: ipv6frag.Ipv6FragmentView, pos: number, end: number): void {
    const stats = this.stats;
    stats.fragmentsReceived++;
    const more = f.more !== 0;
    const dataLength = f.payloadLength;
    const byteOffset = f.fragmentOffset * 8;
    // RFC 8200 §4.5: a non-final fragment's data is a multiple of 8 bytes...
    if (more && (dataLength & 7) !== 0) {
      stats.drops.fragInvalid++;
      this.problem(
        Icmpv6ParameterProblemCode.ErroneousHeader,
        d.packetOffset + ipv6.IPV6_OFFSETS.payloadLen,
        d,
        false,
      );
      return;
    }
    // ...and no fragment reaches past 65535 bytes of fragmentable part.
    if (byteOffset + dataLength > MAX_PAYLOAD) {
      stats.drops.fragInvalid++;
      this.problem(
        Icmpv6ParameterProblemCode.ErroneousHeader,
        pos + ipv6frag.IPV6FRAGMENT_OFFSETS.fragmentOffset,
        d,
        false,
      );
      return;
    }
    if (byteOffset === 0 && !this.holdsHeaderChain(f.nextHeader, f.payloadOffset, end, d.bytes)) {
      stats.drops.fragInvalid++;
      // RFC 7112 §5: the pointer is zero.
      this.problem(Icmpv6ParameterProblemCode.IncompleteHeaderChain, d.packetOffset, d, false);
      return;
    }
    const r = this.reassembler;
    const whole = r.input(
      d.src,
      0,
      d.dst,
      0,
      f.identificationBits >>> 0,
      more,
      byteOffset,
      f.nextHeader,
      d.bytes,
      d.packetOffset,
      pos - d.packetOffset,
      f.payloadOffset,
      dataLength,
      this.time.now(),
    );
    if (whole === null) return;
    d.bytes = whole.bytes;
    d.frame = null;
    d.packetOffset = whole.packetOffset;
    d.packetLength = whole.headerLength + whole.payloadLength;
    const payload = whole.packetOffset + whole.headerLength;
    // The header chain goes on after the fragment header with its next header; a second
    // fragment header inside a reassembled packet is refused there as a nested fragment.
    this.walkReassembled(d, whole.nextHeader, payload, payload + whole.payloadLength);
  }

  private walkReassembled(d: Ipv6Delivery, nh: number, pos: number, end: number): void {
    if (nh === IpProtocol.Fragment) {
      this.stats.drops.fragInvalid++;
      return;
    }
    this.walk(d, nh, pos, pos, end);
  }

  /**
   * RFC 7112: the first fragment holds every extension header and the upper-layer header's
   * fixed part (for the upper layers we know).
   */
  private holdsHeaderChain(
    nextHeader: number,
    pos: number,
    end: number,
    bytes: Uint8Array,
  ): boolean {
    let nh = nextHeader;
    for (let n = 0; n < MAX_HEADERS; n++) {
      switch (nh) {
        case IpProtocol.HopByHop:
        case IpProtocol.DestOptions: {
          const o = this.optionsView;
          if (o.wrap(bytes, pos, end - pos) !== null) return false;
          nh = o.nextHeader;
          pos = o.payloadOffset;
          continue;
        }
        case IpProtocol.Routing: {
          const r = this.routingView;
          if (r.wrap(bytes, pos, end - pos) !== null) return false;
          nh = r.nextHeader;
          pos = r.payloadOffset;
          continue;
        }
        case IpProtocol.TCP:
          return end - pos >= tcp.TCP_FIXED_SIZE;
        case IpProtocol.UDP:
          return end - pos >= udp.UDP_FIXED_SIZE;
        case IpProtocol.ICMPv6:
          return end - pos >= icmpv6.ICMPV6_FIXED_SIZE;
        default:
          return true;
      }
    }
    return false;
  }

  private problem(
    code: number,
    pointer: number,
    d: Ipv6Delivery,
    toMulticastAllowed: boolean,
  ): void {
    if (this.errors === null) return;
    this.locateUpperLayer(d);
    this.errors.parameterProblem(code, pointer - d.packetOffset, d, toMulticastAllowed);
  }

  /**
   * Points `d`'s next header, offset and length at the packet's upper-layer header (past its
   * extension headers), so an error about it can tell whether it is itself an ICMPv6 error
   * (RFC 4443 §2.4(e)). Unknown when the chain is cut or a later fragment: left at NoNextHeader.
   */
  private locateUpperLayer(d: Ipv6Delivery): void {
    const v = this.quoteView;
    d.nextHeader = IpProtocol.NoNextHeader;
    if (v.wrapPartial(d.bytes, d.packetOffset, d.packetLength) !== null) return;
    let nh = v.nextHeader;
    let pos = v.payloadOffset;
    const end = d.packetOffset + d.packetLength;
    for (let n = 0; n < MAX_HEADERS; n++) {
      if (nh === IpProtocol.HopByHop || nh === IpProtocol.DestOptions) {
        const o = this.optionsView;
        if (o.wrap(d.bytes, pos, end - pos) !== null) return;
        nh = o.nextHeader;
        pos = o.payloadOffset;
      } else if (nh === IpProtocol.Routing) {
        const r = this.routingView;
        if (r.wrap(d.bytes, pos, end - pos) !== null) return;
        nh = r.nextHeader;
        pos = r.payloadOffset;
      } else if (nh === IpProtocol.Fragment) {
        const f = this.fragmentView;
        if (f.wrap(d.bytes, pos, end - pos) !== null || f.fragmentOffset !== 0) return;
        nh = f.nextHeader;
        pos = f.payloadOffset;
      } else {
        d.nextHeader = nh;
        d.offset = pos;
        d.length = end - pos;
        return;
      }
    }
  }

  // ---- Send ------------------------------------------------------------------------------

  /**
   * Sends `payloadLength` bytes at `payloadOffset` in `buf` (with `IPV6_SEND_HEADROOM` free in
   * front) to `dst` as `nextHeader`. `src` null picks our source address (RFC 6724). Fragments
   * when the packet exceeds the path MTU.
   */
  send(
    dst: Uint8Array,
    dstOffset: number,
    nextHeader: number,
    buf: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
    src: Uint8Array | null = null,
    hopLimit = this.hopLimit,
  ): SendStatus {
    const t = this.target;
    copyIpv6(dst, dstOffset, t.dst, 0);
    t.srcGiven = src !== null;
    if (src !== null) copyIpv6(src, 0, t.src, 0);
    t.hopLimit = hopLimit;
    return this.output(t, nextHeader, buf, payloadOffset, payloadLength);
  }

  /**
   * The source address we would use to reach `dst` (RFC 6724 rules 1, 2, 3 and 8 over our
   * addresses), written into `out`; false when we have none usable.
   */
  selectSource(dst: Uint8Array, dstOffset: number, out: Uint8Array): boolean {
    if (isLoopback(dst, dstOffset)) {
      copyIpv6(LOOPBACK6, 0, out, 0);
      return this.loopback !== null;
    }
    let best: Ipv6AddressEntry | null = null;
    const dstScope = scopeOf(dst, dstOffset);
    for (const e of this.addresses) {
      if (e.state !== 'preferred' && e.state !== 'deprecated') continue;
      if (ipv6Equals(e.address, 0, dst, dstOffset)) {
        best = e;
        break;
      }
      if (best === null || this.betterSource(e, best, dst, dstOffset, dstScope)) best = e;
    }
    if (best === null) return false;
    copyIpv6(best.address, 0, out, 0);
    return true;
  }

  private betterSource(
    a: Ipv6AddressEntry,
    b: Ipv6AddressEntry,
    dst: Uint8Array,
    dstOffset: number,
    dstScope: number,
  ): boolean {
    const sa = scopeOf(a.address);
    const sb = scopeOf(b.address);
    if (sa !== sb) {
      // Rule 2: the smallest scope that still reaches the destination.
      if (sa < sb) return sa >= dstScope;
      return sb < dstScope;
    }
    if (a.state !== b.state) return a.state === 'preferred';
    return (
      commonPrefixLength(a.address, 0, dst, dstOffset) >
      commonPrefixLength(b.address, 0, dst, dstOffset)
    );
  }

  /**
   * Upper-layer confirmation (RFC 4861 §7.3.1): a transport saw traffic to `dst` make forward
   * progress (new data acknowledged), so the neighbor it goes through (its first hop) is
   * reachable.
   */
  confirmReachable(dst: Uint8Array, off: number): void {
    const hop = this.firstHop(dst, off);
    if (hop !== null) this.neighbors.confirm(hop, 0, this.time.now());
  }

  /** Is `a` on our link: link-local, or inside an on-link prefix? */
  isOnLink(a: Uint8Array, off: number): boolean {
    if (isLinkLocal(a, off)) return true;
    for (const p of this.prefixes)
      if (prefixMatches(p.address, 0, a, off, p.prefixLength)) return true;
    return false;
  }

  /**
   * The link's record for a frame that needs its offloads (set by the stack when the link
   * segments TCP over IPv6): a packet in the buffer it names is a TCP super-frame.
   */
  txMeta: FrameMeta | null = null;

  private output(
    t: SendTarget,
    nextHeader: number,
    buf: Uint8Array,
    payloadOffset: number,
    payloadLength: number,
  ): SendStatus {
    const stats = this.stats;
    if (payloadLength > MAX_PAYLOAD || payloadOffset < IPV6_SEND_HEADROOM) {
      stats.drops.tooBig++;
      return SendStatus.Dropped;
    }
    const dst = t.dst;
    if (!t.srcGiven && !this.selectSource(dst, 0, t.src)) {
      stats.drops.noRoute++;
      return SendStatus.Dropped;
    }
    let link: MacHolder | null = null;
    const hop = this.nextHop;
    let local = false;
    if (isMulticast(dst, 0)) {
      link = this.scratchMac;
      link.mac = multicastMac(dst, 0);
    } else if (isLoopback(dst, 0) || this.findAddress(dst, 0) !== null) {
      if (this.loopback === null) {
        stats.drops.noRoute++;
        return SendStatus.Dropped;
      }
      local = true;
    } else if (isUnspecified(dst, 0)) {
      stats.drops.noRoute++;
      return SendStatus.Dropped;
    } else {
      const first = this.firstHop(dst, 0);
      if (first === null) {
        stats.drops.noRoute++;
        return SendStatus.Dropped;
      }
      copyIpv6(first, 0, hop, 0);
    }
    const ipOffset = payloadOffset - HEADER_LENGTH;
    const h = this.header;
    h.nextHeader = nextHeader;
    h.hopLimit = t.hopLimit;
    ipv6.encodeIpv6(h, buf, ipOffset, payloadLength);
    const ipLength = HEADER_LENGTH + payloadLength;
    if (local) {
      if (!(this.loopback as Loopback).send(this, buf, ipOffset, ipLength))
        return SendStatus.Dropped;
      stats.txPackets++;
      return SendStatus.Sent;
    }
    if (link === null) link = this.neighbors.entryFor(hop, 0, this.time.now());
    if (link === null)
      return this.neighbors.enqueue(
        hop,
        0,
        buf,
        ipOffset,
        ipLength,
        this.time.now(),
        this.txMeta?.bytes === buf ? this.txMeta : null,
      );
    return this.transmit(link, buf, ipOffset, ipLength) ? SendStatus.Sent : SendStatus.Dropped;
  }

  /**
   * A packet that waited for Neighbor Discovery (see NeighborCache.enqueue), with the link's
   * facts it was sent with: without them the link would take a super-frame for an oversized
   * plain frame.
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
    const sent = this.transmit(link, bytes, offset, length);
    tx.clear();
    return sent;
  }

  private transmit(mac: MacHolder, bytes: Uint8Array, ipOffset: number, ipLength: number): boolean {
    // With no lowered path MTU, a packet within the link MTU goes as it is; only otherwise is it
    // read again (our own packet, encoded by output(): a failed wrap would be a bug, not input).
    const v = this.sendView;
    // A TCP super-frame the link cuts (TSO) is never fragmented: its pieces fit.
    const meta = this.txMeta;
    const gso = meta !== null && meta.bytes === bytes && meta.gsoType !== 0 && meta.gsoSize > 0;
    const direct = gso || (ipLength <= this.linkMtu && this.pmtu.size === 0);
    if (!direct && v.wrap(bytes, ipOffset, ipLength) !== null) return false;
    const limit = direct ? this.linkMtu : this.pathMtu(v.bytes, v.dstOffset);
    if (gso || ipLength <= limit) {
      if (
        !this.ethernet.sendTo(
          mac,
          ethernet.EtherType.IPv6,
          bytes,
          ipOffset - ETHERNET_HEADER_LENGTH,
          ipLength,
        )
      ) {
        return false;
      }
      this.stats.txPackets++;
      return true;
    }
    return this.fragmentOut(mac, v, bytes, ipOffset, limit);
  }

  /**
   * RFC 8200 §4.5: the unfragmentable part is the IPv6 header alone (we send no hop-by-hop or
   * routing headers with large payloads); each fragment is it, a fragment header and a share
   * of the rest, a multiple of 8 bytes but for the last.
   */
  private fragmentOut(
    mac: MacHolder,
    whole: ipv6.Ipv6View,
    bytes: Uint8Array,
    ipOffset: number,
    limit: number,
  ): boolean {
    const out = this.fragmentBuffer;
    const ip = ETHERNET_HEADER_LENGTH;
    const chunk = (limit - HEADER_LENGTH - FRAGMENT_HEADER_LENGTH) & ~7;
    const data = whole.payloadOffset;
    const dataLength = whole.payloadLength;
    const fh = this.fragmentHeader;
    fh.nextHeader = whole.nextHeader;
    fh.identification = this.identification;
    this.identification = (this.identification + 1) >>> 0;
    const frag = this.sendView;
    for (let done = 0; done < dataLength; done += chunk) {
      const size = Math.min(chunk, dataLength - done);
      copyBytes(bytes, ipOffset, out, ip, HEADER_LENGTH);
      fh.fragmentOffset = done / 8;
      fh.more = done + size < dataLength ? 1 : 0;
      ipv6frag.encodeIpv6Fragment(fh, out, ip + HEADER_LENGTH);
      copyBytes(bytes, data + done, out, ip + HEADER_LENGTH + FRAGMENT_HEADER_LENGTH, size);
      const total = HEADER_LENGTH + FRAGMENT_HEADER_LENGTH + size;
      if (frag.wrapPartial(out, ip, total) !== null) return false;
      frag.setPayloadLen(total - HEADER_LENGTH);
      frag.setNextHeader(IpProtocol.Fragment);
      if (!this.ethernet.sendTo(mac, ethernet.EtherType.IPv6, out, 0, total)) return false;
      this.stats.fragmentsSent++;
    }
    this.stats.txPackets++;
    return true;
  }
}
