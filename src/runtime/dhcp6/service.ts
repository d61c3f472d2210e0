/**
 * Runs a Dhcp6Client on a Stack: a UDP socket on port 546 (IPv6 only) carries its messages, from
 * our link-local address to ff02::1:2 port 547 (or a server's unicast address); one clock timer
 * drives `tick`; assigned addresses go to the IPv6 layer as /128s through DAD (whose verdict goes
 * back to the client, which declines a duplicate); the DNS servers and domains are kept for
 * the stack's users. In `auto` mode router advertisements decide: the M flag starts the
 * stateful client, the O flag the stateless one (RFC 4861 §4.2).
 *
 * The client does not start before our link-local address is usable (RFC 8415 §18.2.1: its
 * messages come from it), so a start during link-local DAD waits for that address.
 */
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { UdpSocket } from '../udp/socket.js';
import type { UdpDelivery, UdpSocketOptions, UdpSocketType } from '../udp/types.js';
import type { Ipv6AddressEntry, Ipv6Layer } from '../ipv6/ipv6.js';
import type { NdLayer, RouterAdvertisementInfo } from '../ipv6/nd.js';
import { ipv6Text } from '../ipv6/address.js';
import { ipv6Equals } from '../../codec/address.js';
import {
  Dhcp6Client,
  type Dhcp6Action,
  type Dhcp6Event,
  type Dhcp6Lease,
  type Dhcp6Mode,
} from './client.js';
import {
  DHCP6_CLIENT_PORT,
  DHCP6_SERVER_PORT,
  DUID_TIME_EPOCH_MS,
  duidLl,
  duidLlt,
  iaidFromMac,
} from './wire.js';

/** The parts of a Stack the service uses (a Stack with IPv6 fits). */
export interface Dhcp6Host {
  readonly mac: number;
  readonly clock: Clock;
  readonly udp: { createSocket(type?: UdpSocketType, options?: UdpSocketOptions): UdpSocket };
  readonly ipv6: { readonly ip: Ipv6Layer; readonly nd: NdLayer } | null;
}

/** `auto`: router advertisements choose (M: stateful, O: stateless); otherwise that mode now. */
export type Dhcp6ServiceMode = 'auto' | Dhcp6Mode;

export interface Dhcp6ServiceOptions {
  mode?: Dhcp6ServiceMode;
  /** The Client Identifier's DUID: 'll' (type 3, the default) or 'llt' (type 1). */
  duid?: 'll' | 'llt';
  /** DUID-LLT's time, seconds since 2000-01-01 UTC; default: now. */
  duidTime?: number;
  /** Uniform [0, 1) for transaction ids and jitter; default: crypto.getRandomValues. */
  random?: () => number;
  onEvent?: (event: Dhcp6Event) => void;
  /** Told the DNS servers and search domains whenever a server changes them. */
  onDnsServers?: (servers: string[], domains: string[]) => void;
}

/** Counters (a plain tree of numbers, as `stack.stats()` holds them). */
export type Dhcp6ServiceStats = {
  sent: number;
  received: number;
  accepted: number;
  /** Sends the socket refused (no usable source address, closed). */
  sendErrors: number;
  /** By Dhcp6DropReason, and `wrongSourcePort` (datagrams to 546 not from 547). */
  drops: Record<string, number>;
};

function cryptoRandom(): number {
  const words = new Uint32Array(1);
  globalThis.crypto.getRandomValues(words);
  return words[0] / 2 ** 32;
}

export class Dhcp6Service {
  readonly client: Dhcp6Client;
  readonly mode: Dhcp6ServiceMode;
  private readonly clock: Clock;
  private readonly ip: Ipv6Layer;
  private readonly nd: NdLayer;
  private socket: UdpSocket | null = null;
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private running = false;
  private pumping = false;
  /** The mode to start once our link-local address is usable. */
  private wanted: Dhcp6Mode | null = null;
  /** Addresses we added whose DAD is under way. */
  private readonly watching: Uint8Array[] = [];
  private dns: string[] = [];
  private domainList: string[] = [];
  private wrongSourcePort = 0;
  private sendErrors = 0;
  private readonly receiver = {
    receive: (d: UdpDelivery): void => {
      if (!this.running) return;
      if (d.family !== 'IPv6' || d.srcPort !== DHCP6_SERVER_PORT) {
        this.wrongSourcePort++;
        return;
      }
      this.client.input(d.bytes, d.offset, d.length, d.src6, this.clock.now());
      this.pump();
    },
  };

  constructor(
    private readonly host: Dhcp6Host,
    private readonly options: Dhcp6ServiceOptions = {},
  ) {
    if (host.ipv6 === null) throw new Error('DHCPv6 needs IPv6 enabled on the stack');
    this.ip = host.ipv6.ip;
    this.nd = host.ipv6.nd;
    this.clock = host.clock;
    this.mode = options.mode ?? 'auto';
    const time = options.duidTime ?? Math.floor((Date.now() - DUID_TIME_EPOCH_MS) / 1000) % 2 ** 32;
    this.client = new Dhcp6Client({
      clientId: options.duid === 'llt' ? duidLlt(host.mac, time) : duidLl(host.mac),
      iaid: iaidFromMac(host.mac),
      random: options.random ?? cryptoRandom,
    });
    this.ip.onAddressChange((entry) => this.onAddress(entry));
    this.nd.onRouterAdvertisement((info) => this.onRouterAdvertisement(info));
  }

  get lease(): Dhcp6Lease | null {
    return this.client.lease;
  }

  /** The DNS servers the last Reply gave (IPv6 text), empty when none. */
  get dnsServers(): string[] {
    return [...this.dns];
  }

  /** The search domains the last Reply gave. */
  get domains(): string[] {
    return [...this.domainList];
  }

  /** Binds UDP port 546 (throws EADDRINUSE if taken); starts now, or when an RA says so. */
  start(): void {
    if (this.running) return;
    const socket = this.host.udp.createSocket('udp6', { ipv6Only: true });
    socket.bind(DHCP6_CLIENT_PORT);
    socket.setReceiver(this.receiver);
    this.socket = socket;
    this.running = true;
    if (this.mode !== 'auto') this.want(this.mode);
  }

  /** Stops: releases the lease first when `release` (a clean shutdown), then closes the socket. */
  stop(release = true): void {
    if (!this.running) return;
    if (release) this.client.release(this.clock.now());
    else this.client.stop();
    this.pump();
    this.running = false;
    this.wanted = null;
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = Infinity;
    this.socket?.close();
    this.socket = null;
  }

  stats(): Dhcp6ServiceStats {
    const c = this.client.stats();
    const drops: Record<string, number> = {};
    for (const [k, n] of Object.entries(c.drops)) if (n !== undefined) drops[k] = n;
    if (this.wrongSourcePort > 0) drops.wrongSourcePort = this.wrongSourcePort;
    return {
      sent: c.sent,
      received: c.received,
      accepted: c.accepted,
      sendErrors: this.sendErrors,
      drops,
    };
  }

  private onRouterAdvertisement(info: RouterAdvertisementInfo): void {
    if (!this.running || this.mode !== 'auto') return;
    if (info.managed) this.want('stateful');
    else if (info.other) this.want('stateless');
  }

  private want(mode: Dhcp6Mode): void {
    if (this.wanted === 'stateful') return;
    this.wanted = mode;
    this.tryStart();
  }

  private tryStart(): void {
    const mode = this.wanted;
    if (!this.running || mode === null || this.client.startedMode === mode) return;
    if (this.ip.linkLocal() === null) return;
    this.client.start(this.clock.now(), mode);
    this.pump();
  }

  private onAddress(entry: Ipv6AddressEntry): void {
    if (!this.running) return;
    const i = this.watching.findIndex((a) => ipv6Equals(a, 0, entry.address, 0));
    if (i >= 0 && entry.state !== 'tentative') {
      this.watching.splice(i, 1);
      // Answered on a zero timer, after the other address listeners (the CLI's log among
      // them) heard of the change: the address is logged preferred before the lease is.
      const address = entry.address.slice(0, 16);
      const inUse = unusable(entry);
      this.clock.setTimer(0, () => {
        if (!this.running) return;
        this.client.dadResult(address, inUse, this.clock.now());
        this.pump();
      });
      return;
    }
    if (entry.origin === 'link-local' && entry.state === 'preferred') this.tryStart();
  }

  /** Performs what the client asked for, then re-arms the timer for its next deadline. */
  private pump(): void {
    // DAD answering synchronously (no DAD configured) re-enters through onAddress: the
    // outer loop performs what that queued.
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let actions = this.client.drain(); actions.length > 0; actions = this.client.drain())
        for (const a of actions) this.perform(a);
    } finally {
      this.pumping = false;
    }
    if (!this.running) return;
    const next = this.client.nextTimeout();
    if (next === this.timerAt) return;
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = next;
    if (next === Infinity) return;
    this.timer = this.clock.setTimer(Math.max(0, next - this.clock.now()), () => {
      this.timer = null;
      this.timerAt = Infinity;
      if (!this.running) return;
      this.client.tick(this.clock.now());
      this.pump();
    });
  }

  private perform(a: Dhcp6Action): void {
    switch (a.type) {
      case 'send': {
        const socket = this.socket;
        if (socket === null) return;
        socket.send(a.bytes, a.dstPort, ipv6Text(a.dst), (err) => {
          if (err !== null) this.sendErrors++;
        });
        return;
      }
      case 'add-address':
        return this.addAddress(a.address, a.preferredUntil, a.validUntil);
      case 'remove-address': {
        const entry = this.ip.findAddress(a.address, 0);
        const i = this.watching.findIndex((w) => ipv6Equals(w, 0, a.address, 0));
        if (i >= 0) this.watching.splice(i, 1);
        if (entry !== null && entry.origin === 'dhcpv6') this.ip.removeAddress(a.address);
        return;
      }
      case 'dns': {
        const servers = a.servers.map((s) => ipv6Text(s));
        if (servers.join() === this.dns.join() && a.domains.join() === this.domainList.join())
          return;
        this.dns = servers;
        this.domainList = [...a.domains];
        this.options.onDnsServers?.(this.dnsServers, this.domains);
        return;
      }
      case 'event':
        this.options.onEvent?.(a.event);
    }
  }

  private addAddress(address: Uint8Array, preferredUntil: number, validUntil: number): void {
    const now = this.clock.now();
    const known = this.ip.findAddress(address, 0);
    if (known !== null) {
      // A renewal: new lifetimes for an address DAD already passed (or is checking).
      known.preferredUntil = preferredUntil;
      known.validUntil = validUntil;
      if (known.state === 'deprecated' && preferredUntil > now)
        this.ip.setAddressState(known, 'preferred');
      this.ip.rearm(known);
      if (known.state !== 'tentative') this.client.dadResult(address, false, now);
      else if (!this.watching.some((w) => ipv6Equals(w, 0, address, 0)))
        this.watching.push(address.slice(0, 16));
      return;
    }
    this.watching.push(address.slice(0, 16));
    const entry = this.nd.addLeased(address, preferredUntil, validUntil);
    // Without DAD the address is preferred already, and onAddress has answered the client.
    if (entry.state !== 'tentative') {
      const i = this.watching.findIndex((w) => ipv6Equals(w, 0, address, 0));
      if (i >= 0) {
        this.watching.splice(i, 1);
        this.client.dadResult(address, unusable(entry), now);
      }
    }
  }
}

/** DAD's answer for a leased address: a duplicate, or removed before DAD ended (the stack stopping), is not ours to use. */
function unusable(entry: Ipv6AddressEntry): boolean {
  return entry.state === 'duplicate' || entry.state === 'removed';
}
