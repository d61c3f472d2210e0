/**
 * Neighbor Discovery (RFC 4861) and stateless address autoconfiguration (RFC 4862), sans-IO:
 *
 * - neighbor solicitations and advertisements, feeding the neighbor cache (neighbor.ts) and
 *   answering for our addresses;
 * - duplicate address detection before an address is used (RFC 4862 §5.4): a tentative address
 *   sends `dadTransmits` probes from `::`; an advertisement for it, or another node's probe for
 *   it, makes it a duplicate;
 * - router solicitation at start (§6.3.7) and router advertisements (§6.3.4): default routers,
 *   hop limit, ND timers, the link MTU, on-link prefixes, SLAAC prefixes (RFC 4862 §5.5.3 with
 *   its two-hour rule) and RDNSS servers (RFC 8106), told to `onRouterAdvertisement` listeners;
 * - RFC 4861 §6.1.2/§7.1 validity checks (hop limit 255, code 0, lengths, source rules):
 *   anything else is dropped and counted.
 */
import { randomBytes } from 'node:crypto';
import { icmpv6, ipv4 } from '../../generated/index.js';
import { copyIpv6, ipv6Equals, readMac, writeMac } from '../../codec/address.js';
import { IPV6_MIN_MTU, IPV6_SEND_HEADROOM, type Ipv6Delivery } from '../layers.js';
import type { MacHolder } from '../ethernet/ethernet.js';
import type { TimeSource } from '../arp/arp.js';
import {
  ALL_NODES,
  ALL_ROUTERS,
  UNSPECIFIED,
  eui64Into,
  isLinkLocal,
  isMulticast,
  isUnspecified,
  linkLocalFromMac,
  prefixOf,
  solicitedNodeInto,
  stableAddress,
} from './address.js';
import type { Icmpv6Layer, Icmpv6MessageHandler } from './icmpv6.js';
import type { Ipv6AddressEntry, Ipv6Layer } from './ipv6.js';
import type { NeighborProber } from './neighbor.js';

const { Icmpv6Type, NdOptionType } = icmpv6;
const ND_HOP_LIMIT = 255;
const MAC_LENGTH = 6;
/** RFC 4862 §5.5.3 (e): a prefix's valid lifetime is not cut below two hours by an RA. */
const TWO_HOURS_MS = 2 * 3600_000;
/** Lifetimes in RAs and options: 0xffffffff seconds is infinity. */
const INFINITE_LIFETIME = 0xffffffff;

export interface NdOptions {
  /** DupAddrDetectTransmits (RFC 4862: 1; 0 turns DAD off). */
  dadTransmits?: number;
  /** Most random delay before the first DAD probe and the first RS (MAX_RTR_SOLICITATION_DELAY, 1 s). */
  startDelayMs?: number;
  /** Router solicitations sent at start (MAX_RTR_SOLICITATIONS: 3; 0: none). */
  routerSolicitations?: number;
  /** Interval between them (RTR_SOLICITATION_INTERVAL: 4 s). */
  routerSolicitationIntervalMs?: number;
  /** Form addresses from RA prefixes with the A flag (SLAAC). */
  slaac?: boolean;
  /**
   * Interface identifiers: 'stable' (RFC 7217, the default: no MAC in the address, one per
   * prefix) or 'eui64' (RFC 4291, from the MAC).
   */
  addressMode?: 'stable' | 'eui64';
  /** RFC 7217's secret key (random per run when not given). */
  secretKey?: Uint8Array;
  /** RFC 7217's interface name input. */
  interfaceName?: string;
  random?: () => number;
}

/** What a router advertisement told us, for the stack's listeners (DNS, DHCPv6, the CLI). */
export interface RouterAdvertisementInfo {
  router: Uint8Array;
  lifetimeMs: number;
  managed: boolean;
  other: boolean;
  mtu: number | null;
  prefixes: Array<{
    prefix: Uint8Array;
    prefixLength: number;
    onLink: boolean;
    autonomous: boolean;
    validMs: number;
    preferredMs: number;
  }>;
  dnsServers: Uint8Array[];
  dnsLifetimeMs: number;
}

interface Dad {
  entry: Ipv6AddressEntry;
  sent: number;
  at: number;
  /** RFC 7217: retries with the next counter on a collision. */
  counter: number;
  prefix: Uint8Array | null;
}

function seconds(value: number): number {
  return value === INFINITE_LIFETIME ? Infinity : value * 1000;
}

export class NdLayer implements Icmpv6MessageHandler, NeighborProber {
  private readonly o: Required<NdOptions>;
  private readonly dads: Dad[] = [];
  private rsLeft: number;
  private rsAt = Infinity;
  private gotRa = false;
  private readonly raListeners: Array<(info: RouterAdvertisementInfo) => void> = [];
  private readonly tx = new Uint8Array(IPV6_SEND_HEADROOM + IPV6_MIN_MTU);
  private readonly dst = new Uint8Array(16);
  private readonly src = new Uint8Array(16);
  private readonly target = new Uint8Array(16);
  /** Our MAC as a link-layer address option, encoded once. */
  private readonly sllao: Uint8Array;
  private readonly tllao: Uint8Array;
  private readonly noOptions = new Uint8Array(0);
  private readonly macBytes = new Uint8Array(MAC_LENGTH);

  constructor(
    private readonly ip: Ipv6Layer,
    private readonly icmp: Icmpv6Layer,
    private readonly time: TimeSource,
    private readonly wake: (at: number) => void,
    private readonly mac: number,
    options: NdOptions = {},
  ) {
    this.o = {
      dadTransmits: 1,
      startDelayMs: 1000,
      routerSolicitations: 3,
      routerSolicitationIntervalMs: 4000,
      slaac: true,
      addressMode: 'stable',
      secretKey: options.secretKey ?? randomBytes(16),
      interfaceName: 'tap0',
      random: Math.random,
      ...options,
    };
    this.rsLeft = this.o.routerSolicitations;
    writeMac(this.macBytes, 0, mac);
    this.sllao = this.encodeOptions([{ kind: 'SourceLinkLayerAddress', address: this.macBytes }]);
    this.tllao = this.encodeOptions([{ kind: 'TargetLinkLayerAddress', address: this.macBytes }]);
    icmp.nd = this;
    ip.neighbors.setProber(this);
  }

  onRouterAdvertisement(listener: (info: RouterAdvertisementInfo) => void): void {
    this.raListeners.push(listener);
  }

  /** Brings the interface up: the link-local address (with DAD), then router solicitations. */
  start(): Ipv6AddressEntry {
    this.ip.joinGroup(ALL_NODES);
    const address =
      this.o.addressMode === 'eui64'
        ? linkLocalFromMac(this.mac)
        : stableAddress(
            prefixOf(linkLocalFromMac(this.mac), 64),
            64,
            this.o.interfaceName,
            0,
            this.o.secretKey,
          );
    const entry = this.ip.addAddress(address, 64, 'link-local');
    this.startDad(
      entry,
      address[0] === 0xfe && this.o.addressMode === 'stable' ? prefixOf(address, 64) : null,
    );
    if (this.rsLeft > 0) {
      this.rsAt = this.time.now() + this.delay();
      this.wake(this.rsAt);
    }
    return entry;
  }

  /** Adds a static address (`--ip6 fd00::2/64`): on-link prefix, DAD, then preferred. */
  addStatic(address: Uint8Array, prefixLength: number): Ipv6AddressEntry {
    const entry = this.ip.addAddress(address, prefixLength, 'static');
    if (prefixLength < 128)
      this.ip.addPrefix(prefixOf(address, prefixLength), prefixLength, Infinity);
    this.startDad(entry, null);
    return entry;
  }

  /**
   * Adds an address a DHCPv6 server assigned: a /128 (the server says nothing of on-link
   * prefixes, RFC 8415 §21.6) with the lease's lifetimes, then DAD. A known address only takes
   * the new lifetimes.
   */
  addLeased(address: Uint8Array, preferredUntil: number, validUntil: number): Ipv6AddressEntry {
    const known = this.ip.findAddress(address, 0);
    const entry = this.ip.addAddress(address, 128, 'dhcpv6', preferredUntil, validUntil);
    if (known === null) this.startDad(entry, null);
    else this.ip.rearm(entry);
    return entry;
  }

  /** Runs DAD for a tentative address; with `prefix`, a collision retries RFC 7217's next id. */
  startDad(entry: Ipv6AddressEntry, prefix: Uint8Array | null, counter = 0): void {
    if (this.o.dadTransmits === 0) {
      this.ip.setAddressState(entry, 'preferred');
      return;
    }
    const dad: Dad = { entry, sent: 0, at: this.time.now() + this.delay(), counter, prefix };
    this.dads.push(dad);
    this.wake(dad.at);
  }

  tick(now: number): void {
    for (const dad of [...this.dads]) {
      if (dad.at > now) {
        this.wake(dad.at);
        continue;
      }
      if (dad.sent < this.o.dadTransmits) {
        dad.sent++;
        dad.at = now + this.ip.neighbors.retransTimer;
        this.sendSolicitation(dad.entry.address, null, true);
        this.wake(dad.at);
      } else {
        this.dads.splice(this.dads.indexOf(dad), 1);
        this.ip.setAddressState(
          dad.entry,
          now >= dad.entry.preferredUntil ? 'deprecated' : 'preferred',
        );
      }
    }
    if (this.rsAt <= now) {
      if (this.gotRa || this.rsLeft === 0) {
        this.rsAt = Infinity;
      } else {
        this.rsLeft--;
        this.sendRouterSolicitation();
        this.rsAt = this.rsLeft > 0 ? now + this.o.routerSolicitationIntervalMs : Infinity;
      }
    }
    // The stack keeps one timer, at the earliest deadline asked for: ask again every tick.
    if (this.rsAt < Infinity) this.wake(this.rsAt);
  }

  // ---- NeighborProber --------------------------------------------------------------------

  solicit(target: Uint8Array, mac: MacHolder | null): void {
    this.sendSolicitation(target, mac, false);
  }

  private sendSolicitation(target: Uint8Array, mac: MacHolder | null, dad: boolean): void {
    const src = this.src;
    if (dad) {
      src.set(UNSPECIFIED);
    } else if (!this.ip.selectSource(target, 0, src)) {
      return;
    }
    if (mac === null) solicitedNodeInto(target, 0, this.dst);
    else copyIpv6(target, 0, this.dst, 0);
    copyIpv6(target, 0, this.target, 0);
    const at = IPV6_SEND_HEADROOM;
    const n = icmpv6.encodeNdNeighborSolicitation(
      {
        type: Icmpv6Type.NeighborSolicitation,
        code: 0,
        checksum: undefined,
        reserved: 0,
        target: this.target,
        // RFC 4861 §7.2.2: no source link-layer option from the unspecified address.
        options: dad ? this.noOptions : this.sllao,
      },
      this.tx,
      at,
      0,
      src,
      0,
      this.dst,
      0,
    );
    this.emit(n, src);
  }

  private sendRouterSolicitation(): void {
    const ll = this.ip.linkLocal();
    const src = this.src;
    if (ll === null) src.set(UNSPECIFIED);
    else src.set(ll.address);
    this.dst.set(ALL_ROUTERS);
    const n = icmpv6.encodeNdRouterSolicitation(
      {
        type: Icmpv6Type.RouterSolicitation,
        code: 0,
        checksum: undefined,
        reserved: 0,
        options: ll === null ? this.noOptions : this.sllao,
      },
      this.tx,
      IPV6_SEND_HEADROOM,
      0,
      src,
      0,
      this.dst,
      0,
    );
    this.emit(n, src);
  }

  private sendAdvertisement(
    target: Uint8Array,
    targetOff: number,
    to: Uint8Array,
    solicited: boolean,
  ): void {
    copyIpv6(target, targetOff, this.target, 0);
    this.src.set(this.target);
    this.dst.set(to);
    const n = icmpv6.encodeNdNeighborAdvertisement(
      {
        type: Icmpv6Type.NeighborAdvertisement,
        code: 0,
        checksum: undefined,
        router: 0,
        solicited: solicited ? 1 : 0,
        override: 1,
        reserved: 0,
        target: this.target,
        options: this.tllao,
      },
      this.tx,
      IPV6_SEND_HEADROOM,
      0,
      this.src,
      0,
      this.dst,
      0,
    );
    this.emit(n, this.src);
  }

  private emit(n: number, src: Uint8Array): void {
    if (n < 0) return;
    this.icmp.stats.ndSent++;
    this.ip.send(
      this.dst,
      0,
      ipv4.IpProtocol.ICMPv6,
      this.tx,
      IPV6_SEND_HEADROOM,
      n,
      src,
      ND_HOP_LIMIT,
    );
  }

  private encodeOptions(items: icmpv6.NdOptionsItem[]): Uint8Array {
    const out = new Uint8Array(64);
    const n = icmpv6.encodeNdOptions(items, out, 0);
    return out.slice(0, n);
  }

  // ---- Receive ---------------------------------------------------------------------------

  receive(m: icmpv6.Icmpv6Layouts, d: Ipv6Delivery): void {
    // RFC 4861 §6.1, §7.1: only from the link itself, and with code 0.
    if (d.hopLimit !== ND_HOP_LIMIT || m.head.code !== 0) {
      this.icmp.stats.drops.badNd++;
      return;
    }
    switch (m.layout) {
      case 'ndNeighborSolicitation':
        this.neighborSolicitation(m.ndNeighborSolicitation, d);
        return;
      case 'ndNeighborAdvertisement':
        this.neighborAdvertisement(m.ndNeighborAdvertisement, d);
        return;
      case 'ndRouterAdvertisement':
        this.routerAdvertisement(m.ndRouterAdvertisement, d);
        return;
      case 'ndRedirect':
        this.redirect(m.ndRedirect, d);
        return;
      default:
        // Router solicitations are for routers.
        this.icmp.stats.drops.unhandledType++;
    }
  }

  /** The MAC in a link-layer address option of `kind`, or -1 (none, or not 6 bytes). */
  private linkAddress(c: icmpv6.NdOptionsCursor, kind: number): number {
    let mac = -1;
    while (c.next()) {
      if (c.kind !== kind) continue;
      const o =
        kind === NdOptionType.SourceLinkLayerAddress
          ? c.sourceLinkLayerAddress
          : c.targetLinkLayerAddress;
      if (o.addressLength >= MAC_LENGTH) mac = readMac(o.bytes, o.addressOffset);
    }
    return c.error === null ? mac : -2;
  }

  private neighborSolicitation(v: icmpv6.NdNeighborSolicitationView, d: Ipv6Delivery): void {
    const stats = this.icmp.stats;
    if (isMulticast(v.bytes, v.targetOffset)) {
      stats.drops.badNd++;
      return;
    }
    const fromUnspecified = isUnspecified(d.src, 0);
    const mac = this.linkAddress(v.options(), NdOptionType.SourceLinkLayerAddress);
    // §7.1.1: a probe from :: goes to a solicited-node group and carries no source address.
    if (mac === -2 || (fromUnspecified && (mac >= 0 || !d.toMulticast))) {
      stats.drops.badNd++;
      return;
    }
    const mine = this.ip.findAddress(v.bytes, v.targetOffset);
    if (mine === null) return;
    if (mine.state === 'tentative') {
      // RFC 4862 §5.4.3: another node probing the same address: it is a duplicate.
      if (fromUnspecified) this.duplicate(mine);
      return;
    }
    const now = this.time.now();
    if (!fromUnspecified && mac >= 0) this.ip.neighbors.learn(d.src, 0, mac, now);
    if (fromUnspecified) this.sendAdvertisement(v.bytes, v.targetOffset, ALL_NODES, false);
    else this.sendAdvertisement(v.bytes, v.targetOffset, d.src, true);
  }

  /**
   * A redirect (RFC 4861 §8.1 checks, §8.3 processing): from the link-local address of the
   * router we now send the destination's packets to, about a unicast destination, naming a
   * link-local router or the destination itself (then on-link). Its target link-layer address,
   * if given, enters the neighbor cache STALE, as a router when the target is not the
   * destination. The redirected-header option is not needed and not checked beyond its format.
   */
  private redirect(v: icmpv6.NdRedirectView, d: Ipv6Delivery): void {
    const stats = this.icmp.stats;
    const ip = this.ip;
    const first = ip.firstHop(v.bytes, v.destinationOffset);
    const onLinkTarget = ipv6Equals(v.bytes, v.targetOffset, v.bytes, v.destinationOffset);
    const mac = this.linkAddress(v.options(), NdOptionType.TargetLinkLayerAddress);
    if (
      !isLinkLocal(d.src, 0) ||
      isMulticast(v.bytes, v.destinationOffset) ||
      (!onLinkTarget && !isLinkLocal(v.bytes, v.targetOffset)) ||
      first === null ||
      !ipv6Equals(first, 0, d.src, 0) ||
      mac === -2
    ) {
      stats.drops.badRedirect++;
      return;
    }
    const now = this.time.now();
    ip.redirect(v.bytes, v.destinationOffset, v.bytes, v.targetOffset, now);
    if (mac >= 0) ip.neighbors.learn(v.bytes, v.targetOffset, mac, now, !onLinkTarget);
    stats.redirectsAccepted++;
  }

  private neighborAdvertisement(v: icmpv6.NdNeighborAdvertisementView, d: Ipv6Delivery): void {
    const stats = this.icmp.stats;
    if (isMulticast(v.bytes, v.targetOffset) || (d.toMulticast && v.solicited !== 0)) {
      stats.drops.badNd++;
      return;
    }
    const mac = this.linkAddress(v.options(), NdOptionType.TargetLinkLayerAddress);
    if (mac === -2) {
      stats.drops.badNd++;
      return;
    }
    const mine = this.ip.findAddress(v.bytes, v.targetOffset);
    if (mine !== null) {
      // §5.4.4: someone answers for our tentative address: a duplicate. For a preferred one
      // there is nothing to do but not to believe it.
      if (mine.state === 'tentative') this.duplicate(mine);
      return;
    }
    this.ip.neighbors.advertisement(
      v.bytes,
      v.targetOffset,
      mac,
      v.solicited !== 0,
      v.override !== 0,
      v.router !== 0,
      this.time.now(),
    );
  }

  private duplicate(entry: Ipv6AddressEntry): void {
    const i = this.dads.findIndex((x) => x.entry === entry);
    const dad = i >= 0 ? this.dads.splice(i, 1)[0] : null;
    this.ip.setAddressState(entry, 'duplicate');
    // RFC 7217 §6: try the next identifier, up to IDGEN_RETRIES (3).
    if (dad !== null && dad.prefix !== null && dad.counter < 3) {
      const next = stableAddress(
        dad.prefix,
        64,
        this.o.interfaceName,
        dad.counter + 1,
        this.o.secretKey,
      );
      const fresh = this.ip.addAddress(
        next,
        entry.prefixLength,
        entry.origin,
        entry.preferredUntil,
        entry.validUntil,
      );
      this.startDad(fresh, dad.prefix, dad.counter + 1);
    }
  }

  private routerAdvertisement(v: icmpv6.NdRouterAdvertisementView, d: Ipv6Delivery): void {
    const stats = this.icmp.stats;
    // §6.1.2: from a router's link-local address.
    if (!isLinkLocal(d.src, 0)) {
      stats.drops.badNd++;
      return;
    }
    const now = this.time.now();
    const info: RouterAdvertisementInfo = {
      router: d.src.slice(),
      lifetimeMs: v.routerLifetime * 1000,
      managed: v.managed !== 0,
      other: v.other !== 0,
      mtu: null,
      prefixes: [],
      dnsServers: [],
      dnsLifetimeMs: 0,
    };
    const c = v.options();
    let mac = -1;
    while (c.next()) {
      switch (c.kind) {
        case NdOptionType.SourceLinkLayerAddress: {
          const o = c.sourceLinkLayerAddress;
          if (o.addressLength >= MAC_LENGTH) mac = readMac(o.bytes, o.addressOffset);
          break;
        }
        case NdOptionType.Mtu:
          info.mtu = c.mtu.mtu;
          break;
        case NdOptionType.PrefixInformation: {
          const p = c.prefixInformation;
          if (p.prefixLength > 128) break;
          const prefix = new Uint8Array(16);
          copyIpv6(p.bytes, p.prefixOffset, prefix, 0);
          info.prefixes.push({
            prefix: prefixOf(prefix, p.prefixLength),
            prefixLength: p.prefixLength,
            onLink: p.onLink !== 0,
            autonomous: p.autonomous !== 0,
            validMs: seconds(p.validLifetime),
            preferredMs: seconds(p.preferredLifetime),
          });
          break;
        }
        case NdOptionType.RecursiveDnsServer: {
          const r = c.recursiveDnsServer;
          info.dnsLifetimeMs = seconds(r.lifetime);
          for (let i = 0; i < r.serversCount; i++) {
            const server = new Uint8Array(16);
            r.copyServers(i, server, 0);
            info.dnsServers.push(server);
          }
          break;
        }
        default:
          break;
      }
    }
    if (c.error !== null) {
      stats.drops.badNd++;
      return;
    }
    this.gotRa = true;
    if (mac >= 0) this.ip.neighbors.learn(d.src, 0, mac, now, true);
    this.ip.setRouter(d.src, now + info.lifetimeMs);
    if (v.curHopLimit !== 0) this.ip.hopLimit = v.curHopLimit;
    this.ip.neighbors.setTimers(v.reachableTime, v.retransTimer);
    if (info.mtu !== null) this.ip.setLinkMtu(info.mtu);
    for (const p of info.prefixes) {
      if (isLinkLocal(p.prefix, 0)) continue;
      if (p.onLink) this.ip.addPrefix(p.prefix, p.prefixLength, now + p.validMs);
      if (p.autonomous && this.o.slaac)
        this.autoconfigure(p.prefix, p.prefixLength, p.validMs, p.preferredMs, now);
    }
    for (const l of this.raListeners) l(info);
  }

  /** RFC 4862 §5.5.3: form or refresh an address in an autonomous prefix. */
  private autoconfigure(
    prefix: Uint8Array,
    prefixLength: number,
    validMs: number,
    preferredMs: number,
    now: number,
  ): void {
    if (prefixLength !== 64 || preferredMs > validMs || validMs === 0) return;
    const existing = this.ip.addressList.find(
      (e) =>
        e.origin === 'slaac' &&
        e.state !== 'duplicate' &&
        prefixOf(e.address, 64).every((b, i) => b === prefix[i]),
    );
    if (existing !== undefined) {
      // (e): a valid lifetime above two hours, or above what is left, is taken; else two hours.
      const left = existing.validUntil - now;
      let valid = validMs;
      if (!(validMs > TWO_HOURS_MS || validMs > left))
        valid = left <= TWO_HOURS_MS ? left : TWO_HOURS_MS;
      existing.validUntil = now + valid;
      existing.preferredUntil = now + preferredMs;
      if (existing.state === 'deprecated' && preferredMs > 0)
        this.ip.setAddressState(existing, 'preferred');
      this.ip.rearm(existing);
      return;
    }
    let address: Uint8Array;
    if (this.o.addressMode === 'eui64') {
      address = prefix.slice(0, 16);
      eui64Into(this.mac, address);
    } else {
      address = stableAddress(prefix, 64, this.o.interfaceName, 0, this.o.secretKey);
    }
    const entry = this.ip.addAddress(address, 64, 'slaac', now + preferredMs, now + validMs);
    this.startDad(entry, this.o.addressMode === 'stable' ? prefix : null);
  }

  private delay(): number {
    return Math.floor(this.o.random() * this.o.startDelayMs);
  }
}
