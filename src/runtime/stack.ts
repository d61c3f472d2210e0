/**
 * The stack: one Link and one Clock, with Ethernet, ARP, IPv4, ICMP and UDP wired together.
 *
 *   link ─▶ ethernet ─▶ arp
 *                    ├▶ ipv4 ─▶ icmp | udp | (tcp, registered later with ipv4.register)
 *                    └▶ ipv6 ─▶ icmpv6 ─▶ nd | mld      (when IPv6 is enabled)
 *                            └▶ udp (the same layer and sockets as over IPv4)
 *
 * The protocol modules are sans-IO: they read the time from the clock, never set timers, and
 * say when they next need attention through `wake(at)`. The stack keeps one clock timer armed
 * at the earliest such deadline and calls every module's `tick(now)` when it fires.
 */
import { parseIpv4 } from '../codec/address.js';
import { ethernet, icmp as icmpSpec, icmpv6 as icmpv6Spec, ipv4 } from '../generated/index.js';
import type { Clock, TimerHandle } from './clock/clock.js';
import type { Link } from './link/link.js';
import { ArpLayer, type ArpOptions } from './arp/arp.js';
import { EthernetLayer } from './ethernet/ethernet.js';
import { Ipv4Layer, type Ipv4Options } from './ipv4/ipv4.js';
import { IcmpLayer, type IcmpOptions } from './icmp/icmp.js';
import { UdpLayer } from './udp/udp.js';
import { snapshotStats, type StackStats } from './stats.js';
import { TcpLayer, type TcpLayerOptions } from './tcp/layer.js';
import { StackNet } from './net/net.js';
import { StackHttp } from './http/dispatcher.js';
import { createStackResolver, type StackResolverOptions } from './dns/stack-transport.js';
import type { Resolver } from './dns/resolver.js';
import { Ipv6Layer, type Ipv6AddressEntry, type Ipv6Options } from './ipv6/ipv6.js';
import { Icmpv6Layer, type Icmpv6Options } from './ipv6/icmpv6.js';
import { NdLayer, type NdOptions } from './ipv6/nd.js';
import { MldLayer } from './ipv6/mld.js';
import { NeighborCache, type NeighborOptions } from './ipv6/neighbor.js';
import { parseIpv6Prefixed } from './ipv6/address.js';
import { Dhcp6Service, type Dhcp6ServiceOptions } from './dhcp6/service.js';
import { Loopback } from './ip/loopback.js';
import { createDgram, type Dgram } from './udp/dgram.js';
import { FrameMeta } from './link/offload.js';

/** An address given as text ("10.0.0.2", or "10.0.0.2/24" for `ip`) or as a 32-bit number. */
export type AddressInput = string | number;

export interface AddressConfig {
  /** Our address; "a.b.c.d/len" also sets the netmask. 0 / "0.0.0.0" = unconfigured. */
  ip: AddressInput;
  /** Dotted netmask ("255.255.255.0") or a 32-bit number; a "/len" suffix on `ip` also works. */
  netmask?: AddressInput;
  /** Default gateway (0 / omitted = none: off-link destinations are unreachable). */
  gateway?: AddressInput;
}

export interface StackOptions extends Partial<AddressConfig> {
  link: Link;
  clock: Clock;
  arp?: ArpOptions;
  ipv4?: Ipv4Options;
  icmp?: IcmpOptions;
  /** Options for `stack.tcp` (buffer sizes, congestion control, ISN key...). */
  tcp?: TcpLayerOptions;
  /** Options for `stack.dns` (servers, timeout, attempts...). */
  dns?: StackResolverOptions;
  /**
   * Turns IPv6 on: a link-local address (DAD first), router solicitation, SLAAC from router
   * advertisements, MLD reports. `true` takes the defaults.
   */
  ipv6?: boolean | Ipv6StackOptions;
  /** Static IPv6 addresses ("fd00::2/64"); implies `ipv6`. */
  ip6?: string | readonly string[];
  /**
   * A DHCPv6 client (`stack.dhcp6`); implies `ipv6`. `true` is mode 'auto': a router
   * advertisement's M flag starts it stateful, its O flag stateless.
   */
  dhcp6?: boolean | Dhcp6ServiceOptions;
}

export interface Ipv6StackOptions extends Ipv6Options {
  nd?: NdOptions;
  neighbors?: NeighborOptions;
  icmpv6?: Icmpv6Options;
}

/** The IPv6 half of a dual stack (`stack.ipv6`), present when IPv6 is enabled. */
export interface Ipv6Parts {
  readonly ip: Ipv6Layer;
  readonly icmp: Icmpv6Layer;
  readonly nd: NdLayer;
  readonly mld: MldLayer;
  readonly neighbors: NeighborCache;
}

/** Anything that wants `tick(now)` calls at the deadlines it asks for with `stack.wake(at)`. */
export interface Ticker {
  tick(now: number): void;
}

/** The numbers `setAddress` settled on. */
export interface ResolvedAddress {
  ip: number;
  netmask: number;
  gateway: number;
}

/** Thrown for configuration the stack cannot use (bad address text, prefix out of range...). */
export class StackConfigError extends Error {
  readonly code = 'E_STACK_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'StackConfigError';
  }
}

function parseAddress(value: AddressInput, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new StackConfigError(`${what}: ${value} is not a 32-bit address`);
    }
    return value >>> 0;
  }
  const n = parseIpv4(value);
  if (n < 0) throw new StackConfigError(`${what}: "${value}" is not a dotted-quad IPv4 address`);
  return n;
}

function prefixToMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.0.0.2/24" or numbers → numbers. Without a netmask or prefix the mask is /32. */
export function resolveAddress(config: AddressConfig): ResolvedAddress {
  let ipText = config.ip;
  let mask = -1;
  if (typeof ipText === 'string' && ipText.includes('/')) {
    const [addr, len] = ipText.split('/');
    const prefix = Number(len);
    if (!/^\d{1,2}$/.test(len) || prefix > 32) {
      throw new StackConfigError(`ip: "${ipText}" has a bad prefix length (0..32)`);
    }
    ipText = addr;
    mask = prefixToMask(prefix);
  }
  const ip = parseAddress(ipText, 'ip');
  if (config.netmask !== undefined) {
    const m = parseAddress(config.netmask, 'netmask');
    // A netmask is ones then zeros: adding its lowest set bit must clear it to a power of two.
    const inverted = ~m >>> 0;
    if ((inverted & (inverted + 1)) !== 0)
      throw new StackConfigError(`netmask: ${String(config.netmask)} is not contiguous`);
    mask = m;
  }
  // No mask given: a host route only (everything else needs the gateway), as for /32.
  if (mask < 0) mask = 0xffffffff;
  const gateway = config.gateway === undefined ? 0 : parseAddress(config.gateway, 'gateway');
  if (gateway !== 0 && ip !== 0 && ((gateway ^ ip) & mask) !== 0) {
    throw new StackConfigError('gateway: not inside the network given by ip/netmask');
  }
  return { ip, netmask: mask, gateway };
}

export class Stack {
  readonly link: Link;
  /**
   * The link's record of the frame being received (checksum state, GSO size), read by the
   * transports; one that no link fills when the link offers no offloads.
   */
  readonly rxMeta: FrameMeta;
  readonly clock: Clock;
  readonly ethernet: EthernetLayer;
  readonly arp: ArpLayer;
  readonly ipv4: Ipv4Layer;
  readonly icmp: IcmpLayer;
  readonly udp: UdpLayer;
  /** Local delivery of what we send to ourselves (127.0.0.0/8, ::1, our own addresses). */
  readonly loopback: Loopback;
  /** IPv6, when enabled (options `ipv6` or `ip6`); null otherwise. */
  readonly ipv6: Ipv6Parts | null = null;
  /** The DHCPv6 client, when asked for (option `dhcp6`); null otherwise. */
  readonly dhcp6: Dhcp6Service | null = null;
  private tcpLayer: TcpLayer | null = null;
  private netModule: StackNet | null = null;
  private httpModule: StackHttp | null = null;
  private dgramModule: Dgram | null = null;
  private resolver: Resolver | null = null;
  private readonly tcpOptions: TcpLayerOptions;
  private readonly dnsOptions: StackResolverOptions;
  private readonly tickers: Ticker[] = [];
  private readonly addressListeners: Array<(address: ResolvedAddress) => void> = [];
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private closed = false;
  private readonly onTimer = (): void => this.runTicks();
  /** Bound once so modules can call it without allocating. */
  readonly wake = (at: number): void => this.schedule(at);

  constructor(options: StackOptions) {
    this.link = options.link;
    this.rxMeta = options.link.rxMeta ?? new FrameMeta();
    this.clock = options.clock;
    const time = options.clock;
    this.tcpOptions = options.tcp ?? {};
    this.dnsOptions = options.dns ?? {};
    this.ethernet = new EthernetLayer(this.link.mac, this.link);
    this.arp = new ArpLayer(this.ethernet, time, this.wake, options.arp);
    this.ipv4 = new Ipv4Layer(
      this.ethernet,
      this.arp,
      time,
      this.wake,
      this.link.mtu,
      options.ipv4,
    );
    this.icmp = new IcmpLayer(this.ipv4, time, options.icmp);
    this.udp = new UdpLayer(this.ipv4, this.icmp);
    this.udp.rxMeta = this.rxMeta;
    this.loopback = new Loopback(() => this.ethernet.batchEnd());
    this.ipv4.loopback = this.loopback;
    this.arp.unresolvedListener = (bytes, offset, length) =>
      this.icmp.localError(
        icmpSpec.IcmpType.DestinationUnreachable,
        icmpSpec.IcmpUnreachableCode.Host,
        bytes,
        offset,
        length,
      );
    this.ethernet.register(ethernet.EtherType.ARP, this.arp);
    this.ethernet.register(ethernet.EtherType.IPv4, this.ipv4);
    this.ipv4.register(ipv4.IpProtocol.ICMP, this.icmp);
    this.ipv4.register(ipv4.IpProtocol.UDP, this.udp);
    this.icmp.registerErrorReceiver(ipv4.IpProtocol.UDP, this.udp);
    // TCP is always there, as in the kernel: the first segment to arrive before anyone used
    // `.tcp` creates the layer (with the createStack options), so a SYN to a closed port is
    // answered with RST rather than "protocol unreachable".
    this.ipv4.register(ipv4.IpProtocol.TCP, { receive: (d) => this.tcp.receive(d) });
    this.ipv4.setErrorReporter(this.icmp);
    this.ipv4.reassembler.timeoutListener = this.icmp;
    this.tickers.push(this.arp, this.ipv4);
    if (options.ipv6 !== undefined && options.ipv6 !== false)
      this.ipv6 = this.attachIpv6(options.ipv6 === true ? {} : options.ipv6);
    else if (options.ip6 !== undefined || (options.dhcp6 !== undefined && options.dhcp6 !== false))
      this.ipv6 = this.attachIpv6({});
    if (options.ip !== undefined) {
      this.setAddress({ ip: options.ip, netmask: options.netmask, gateway: options.gateway });
    }
    this.link.setReceiver(this.ethernet);
    if (this.ipv6 !== null) {
      this.ipv6.nd.start();
      const statics =
        options.ip6 === undefined
          ? []
          : typeof options.ip6 === 'string'
            ? [options.ip6]
            : options.ip6;
      for (const text of statics) this.addIpv6Address(text);
      // Now rather than on first use, so the RDNSS servers of early router advertisements count.
      this.resolver = createStackResolver(this, this.dnsOptions);
      if (options.dhcp6 !== undefined && options.dhcp6 !== false) {
        const o = options.dhcp6 === true ? {} : options.dhcp6;
        this.dhcp6 = new Dhcp6Service(this, {
          ...o,
          // `stack.dns` asks the servers of the latest Reply (one source, replaced each time).
          onDnsServers: (servers, domains) => {
            this.resolver?.setSourceServers('dhcp6', servers);
            o.onDnsServers?.(servers, domains);
          },
        });
        this.dhcp6.start();
      }
    }
  }

  private attachIpv6(options: Ipv6StackOptions): Ipv6Parts {
    const neighbors = new NeighborCache(this.wake, options.neighbors);
    const ip = new Ipv6Layer(
      this.ethernet,
      this.clock,
      this.wake,
      this.link.mtu,
      neighbors,
      options,
    );
    const icmp = new Icmpv6Layer(ip, this.clock, options.icmpv6);
    const nd = new NdLayer(ip, icmp, this.clock, this.wake, this.link.mac, options.nd);
    const mld = new MldLayer(ip, icmp, this.clock, this.wake);
    ip.register(ipv4.IpProtocol.ICMPv6, icmp);
    ip.loopback = this.loopback;
    neighbors.unresolvedListener = (bytes, offset, length) =>
      icmp.localError(
        icmpv6Spec.Icmpv6Type.DestinationUnreachable,
        icmpv6Spec.Icmpv6UnreachableCode.Address,
        bytes,
        offset,
        length,
      );
    ip.register(ipv4.IpProtocol.TCP, { receive: (d) => this.tcp.receive6(d) });
    this.udp.attachIpv6(ip, icmp);
    ip.register(ipv4.IpProtocol.UDP, this.udp.ipv6Receiver);
    icmp.errorListeners.push(this.udp.icmpv6Error);
    ip.setErrorReporter(icmp);
    ip.reassembler.timeoutListener = icmp;
    this.ethernet.register(ethernet.EtherType.IPv6, ip);
    this.tickers.push(ip, nd, mld);
    return { ip, icmp, nd, mld, neighbors };
  }

  /** Adds a static IPv6 address ("fd00::2/64"): DAD, then preferred. Needs IPv6 enabled. */
  addIpv6Address(text: string): Ipv6AddressEntry {
    if (this.ipv6 === null) throw new StackConfigError('ip6: IPv6 is not enabled on this stack');
    let parsed;
    try {
      parsed = parseIpv6Prefixed(text);
    } catch (err) {
      throw new StackConfigError(`ip6: ${(err as Error).message}`);
    }
    return this.ipv6.nd.addStatic(parsed.address, parsed.prefixLength);
  }

  get mac(): number {
    return this.link.mac;
  }

  /** The DNS servers DHCPv6 gave us (IPv6 text, the server's order); empty without any. */
  ipv6DnsServers(): string[] {
    return this.dhcp6?.dnsServers ?? [];
  }

  get address(): number {
    return this.ipv4.address;
  }

  get netmask(): number {
    return this.ipv4.netmask;
  }

  get gateway(): number {
    return this.ipv4.gateway;
  }

  /**
   * (Re)configures our address (DHCP calls this). A changed address is announced with a
   * gratuitous ARP; `{ip: 0}` unconfigures. Listeners added with `onAddressChange` are told.
   */
  setAddress(config: AddressConfig): ResolvedAddress {
    const resolved = resolveAddress(config);
    const previous = this.ipv4.address;
    const previousNet = previous & this.ipv4.netmask;
    this.ipv4.configure(resolved.ip, resolved.netmask, resolved.gateway);
    // Neighbours learnt on another network are useless now.
    if (previous !== 0 && (resolved.ip & resolved.netmask) !== previousNet) this.arp.clear();
    this.arp.setAddress(resolved.ip);
    for (const listener of this.addressListeners) listener(resolved);
    return resolved;
  }

  onAddressChange(listener: (address: ResolvedAddress) => void): void {
    this.addressListeners.push(listener);
  }

  /** TCP: `stack.tcp.listen(port, onConnection)`, `stack.tcp.connect({ host, port })`. */
  get tcp(): TcpLayer {
    return this.tcpLayer ?? this.attachTcp();
  }

  /** node:net on this stack: `stack.net.createServer(...)`, `stack.net.connect(port, host)`. */
  get net(): StackNet {
    this.netModule ??= new StackNet(this);
    return this.netModule;
  }

  /** fetch through this stack: `stack.http.fetch(url)`, `fetch(url, { dispatcher: stack.http.dispatcher })`. */
  get http(): StackHttp {
    this.httpModule ??= new StackHttp(this);
    return this.httpModule;
  }

  /** True once TCP exists (stats and close only include it then). */
  get hasTcp(): boolean {
    return this.tcpLayer !== null;
  }

  /**
   * Creates the TCP layer now, with `options` over those given to createStack, registering it
   * with IPv4 (protocol 6, and its ICMP errors) and, when enabled, IPv6 (next header 6, and its
   * ICMPv6 errors).
   * Later calls return the same layer and ignore their options.
   */
  attachTcp(options: TcpLayerOptions = {}): TcpLayer {
    if (this.tcpLayer !== null) return this.tcpLayer;
    const layer = new TcpLayer(this.ipv4, this.clock, { ...this.tcpOptions, ...options });
    layer.rxMeta = this.rxMeta;
    this.ipv4.register(ipv4.IpProtocol.TCP, layer);
    this.icmp.registerErrorReceiver(ipv4.IpProtocol.TCP, layer);
    if (this.ipv6 !== null) {
      layer.attachIpv6(this.ipv6.ip);
      this.ipv6.ip.register(ipv4.IpProtocol.TCP, layer.ipv6Receiver);
      this.ipv6.icmp.errorListeners.push((report) => layer.icmpv6Error(report));
    }
    // TCP super-frames when the link cuts them (TSO) and completes their checksums.
    const offloads = this.link.offloads;
    const txMeta = this.link.txMeta;
    if (offloads !== undefined && offloads.csum && txMeta !== undefined) {
      const v6 = offloads.tso6 && this.ipv6 !== null;
      if (offloads.tso4 || v6) layer.enableTso(txMeta, offloads.tso4, v6);
      if (offloads.tso4) this.ipv4.txMeta = txMeta;
      if (v6 && this.ipv6 !== null) this.ipv6.ip.txMeta = txMeta;
    }
    // One ACK per receive batch (TAP wakeup) instead of one per two segments.
    layer.coalesceAcks = true;
    this.onBatchEnd(() => layer.batchEnd());
    this.tcpLayer = layer;
    return layer;
  }

  /** node:dgram over this stack: `stack.dgram.createSocket('udp4')`, as `dgram.createSocket`. */
  get dgram(): Dgram {
    return (this.dgramModule ??= createDgram(this));
  }

  /** DNS through this stack: `stack.dns.resolve4(name)`, `resolve6`, `lookup(name, cb)`. */
  get dns(): Resolver {
    if (this.resolver === null) this.resolver = createStackResolver(this, this.dnsOptions);
    return this.resolver;
  }

  /** Adds a module whose `tick(now)` runs at the deadlines it requests with `stack.wake(at)`. */
  addTicker(ticker: Ticker): void {
    this.tickers.push(ticker);
  }

  /** Runs `listener` after each received batch (one TAP wakeup): flush coalesced work there. */
  onBatchEnd(listener: () => void): void {
    this.ethernet.onBatchEnd(listener);
  }

  stats(): StackStats {
    this.arp.stats.cacheEntries = this.arp.cacheSize;
    const out: StackStats = {
      link: this.link.stats(),
      ethernet: snapshotStats(this.ethernet.stats),
      arp: snapshotStats(this.arp.stats),
      ipv4: snapshotStats(this.ipv4.stats),
      icmp: snapshotStats(this.icmp.stats),
      udp: snapshotStats(this.udp.stats),
    };
    if (this.tcpLayer !== null) out.tcp = this.tcpLayer.stats();
    if (this.ipv6 !== null) {
      out.ipv6 = snapshotStats(this.ipv6.ip.stats);
      out.icmpv6 = snapshotStats(this.ipv6.icmp.stats);
      const { neighbors, ip } = this.ipv6;
      out.nd = {
        ...neighbors.counters,
        entries: neighbors.size,
        queuedBytes: neighbors.queuedBytes,
      };
      out.ipv6Reassembly = { bytes: ip.reassembler.memory, packets: ip.reassembler.incomplete };
    }
    if (this.dhcp6 !== null) out.dhcp6 = this.dhcp6.stats();
    return out;
  }

  /** Closes sockets and transports, cancels timers, then closes the link. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = Infinity;
    this.resolver?.close();
    // A clean shutdown releases the DHCPv6 lease (the Release leaves before the link closes).
    this.dhcp6?.stop(true);
    await this.httpModule?.destroy();
    if (this.tcpLayer !== null) await this.tcpLayer.close();
    this.udp.close();
    this.loopback.close();
    this.arp.clear();
    this.ipv4.reassembler.clear();
    this.ipv6?.ip.clear();
    await this.link.close();
  }

  private schedule(at: number): void {
    if (this.closed || at >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.clock.setTimer(at - this.clock.now(), this.onTimer);
  }

  private runTicks(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.closed) return;
    const now = this.clock.now();
    for (const ticker of this.tickers) ticker.tick(now);
  }
}

/** Creates a stack on `link` driven by `clock`, optionally configured with an address. */
export function createStack(options: StackOptions): Stack {
  return new Stack(options);
}
