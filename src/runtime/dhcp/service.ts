/**
 * Runs a DhcpClient on a Stack: a UDP socket on port 68 carries its messages (from 0.0.0.0 to
 * the broadcast address until there is a lease), one clock timer drives `tick`, the ARP prober
 * answers its address checks, and leases are applied with `stack.setAddress` (plus the DNS
 * servers to a resolver, when given one). Everything the client decides is reported through
 * `onEvent`, so a CLI can log it.
 */
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { UdpSocket } from '../udp/socket.js';
import type { UdpDelivery, UdpSocketType } from '../udp/types.js';
import type { AddressConfig } from '../stack.js';
import { DhcpClient, type DhcpAction, type DhcpEvent, type DhcpLease } from './client.js';
import type { AddressProber } from './probe.js';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT } from './wire.js';

/** The parts of a Stack the service uses (a Stack fits). */
export interface DhcpHost {
  readonly mac: number;
  readonly clock: Clock;
  readonly udp: { createSocket(type?: UdpSocketType): UdpSocket };
  setAddress(config: AddressConfig): unknown;
}

export interface DhcpServiceOptions {
  /** Uniform [0, 1) for xids and jitter; default: crypto.getRandomValues. */
  random?: () => number;
  hostname?: string;
  rememberedAddress?: number;
  /** ARP conflict check before using an address; null skips it (not recommended). */
  prober: AddressProber | null;
  /** Gets the lease's DNS servers (e.g. the resolver's setServers). */
  setDnsServers?: (servers: number[]) => void;
  onEvent?: (event: DhcpEvent) => void;
  maxMessageSize?: number;
}

export interface DhcpServiceStats {
  client: ReturnType<DhcpClient['stats']>;
  /** Datagrams to port 68 not from port 67. */
  wrongSourcePort: number;
  /** Sends the socket refused (closed, bad destination). */
  sendErrors: number;
  /** Leases listing a router outside their own subnet, or our own address (that one skipped). */
  gatewayIgnored: number;
  /** Leases whose subnet mask was not contiguous (applied with the classful mask). */
  maskIgnored: number;
  /** Leases the stack refused to configure (see the stack's error). */
  configureErrors: number;
}

/** Ones then zeros: adding the inverted mask's lowest bit must carry through all of it. */
function isContiguousMask(mask: number): boolean {
  const inverted = ~mask >>> 0;
  return mask !== 0 && (inverted & (inverted + 1)) === 0;
}

/** RFC 950 classful default, used when a server sends no (or an unusable) subnet mask. */
function classfulMask(address: number): number {
  const first = address >>> 24;
  if (first < 128) return 0xff000000;
  if (first < 192) return 0xffff0000;
  return 0xffffff00;
}

function cryptoRandom(): number {
  const words = new Uint32Array(1);
  globalThis.crypto.getRandomValues(words);
  return words[0] / 2 ** 32;
}

export class DhcpService {
  readonly client: DhcpClient;
  private readonly clock: Clock;
  private socket: UdpSocket | null = null;
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private running = false;
  private wrongSourcePort = 0;
  private sendErrors = 0;
  private gatewayIgnored = 0;
  private maskIgnored = 0;
  private configureErrors = 0;
  private readonly receiver = {
    receive: (d: UdpDelivery): void => {
      if (d.srcPort !== DHCP_SERVER_PORT) {
        this.wrongSourcePort++;
        return;
      }
      this.client.input(d.bytes, d.offset, d.length, this.clock.now());
      this.pump();
    },
  };

  constructor(
    private readonly host: DhcpHost,
    private readonly options: DhcpServiceOptions,
  ) {
    this.clock = host.clock;
    this.client = new DhcpClient({
      mac: host.mac,
      random: options.random ?? cryptoRandom,
      hostname: options.hostname,
      rememberedAddress: options.rememberedAddress,
      probe: options.prober !== null,
      maxMessageSize: options.maxMessageSize,
    });
  }

  get lease(): DhcpLease | null {
    return this.client.lease;
  }

  /** Binds UDP port 68 (throws EADDRINUSE if taken) and starts acquiring a lease. */
  start(): void {
    if (this.running) return;
    const socket = this.host.udp.createSocket('udp4');
    socket.bind(DHCP_CLIENT_PORT);
    socket.setBroadcast(true);
    socket.setReceiver(this.receiver);
    this.socket = socket;
    this.running = true;
    this.client.start(this.clock.now());
    this.pump();
  }

  /** Stops: releases the lease first when `release` (a clean shutdown), then closes the socket. */
  stop(release = true): void {
    if (!this.running) return;
    const now = this.clock.now();
    if (release) this.client.release(now);
    else this.client.stop(now);
    this.pump();
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = Infinity;
    this.socket?.close();
    this.socket = null;
  }

  stats(): DhcpServiceStats {
    return {
      client: this.client.stats(),
      wrongSourcePort: this.wrongSourcePort,
      sendErrors: this.sendErrors,
      gatewayIgnored: this.gatewayIgnored,
      maskIgnored: this.maskIgnored,
      configureErrors: this.configureErrors,
    };
  }

  /** Performs what the client asked for, then re-arms the timer for its next deadline. */
  private pump(): void {
    for (const action of this.client.drain()) this.perform(action);
    if (!this.running) return;
    const next = this.client.nextTimeout();
    if (next === this.timerAt) return;
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = next;
    if (next === Infinity) return;
    this.timer = this.clock.setTimer(next - this.clock.now(), () => {
      this.timer = null;
      this.timerAt = Infinity;
      if (!this.running) return;
      this.client.tick(this.clock.now());
      this.pump();
    });
  }

  private perform(a: DhcpAction): void {
    switch (a.type) {
      case 'send': {
        const socket = this.socket;
        if (socket === null) return;
        socket.send(
          a.bytes,
          a.dstPort,
          a.dst,
          (err) => {
            if (err !== null) this.sendErrors++;
          },
          a.src,
        );
        return;
      }
      case 'probe': {
        const prober = this.options.prober;
        const address = a.address;
        const answer = (inUse: boolean): void => {
          if (!this.running) return;
          this.client.probeResult(address, inUse, this.clock.now());
          this.pump();
        };
        if (prober === null) return answer(false);
        // A failing prober cannot prove a conflict: go ahead, as RFC 2131 makes the check a SHOULD.
        prober.probeAddress(address).then(answer, () => answer(false));
        return;
      }
      case 'configure':
        return this.configure(a.lease);
      case 'event':
        this.options.onEvent?.(a.event);
    }
  }

  private configure(lease: DhcpLease | null): void {
    if (lease === null) {
      this.host.setAddress({ ip: 0 });
      return;
    }
    let netmask = lease.netmask;
    if (!isContiguousMask(netmask)) {
      if (netmask !== 0) this.maskIgnored++;
      netmask = classfulMask(lease.address);
    }
    // The first router that is a neighbour: on our subnet and not our own address (a server
    // naming us as the router would leave off-link datagrams with nowhere to go).
    const usable = (r: number): boolean =>
      r !== 0 && r >>> 0 !== lease.address >>> 0 && ((r ^ lease.address) & netmask) === 0;
    const gateway = lease.routers.find(usable) ?? 0;
    if (lease.routers.some((r) => r !== 0 && !usable(r))) this.gatewayIgnored++;
    try {
      this.host.setAddress({ ip: lease.address, netmask, gateway });
    } catch {
      // Checked above, so this is not expected; never let a server's lease throw out of the
      // receive path.
      this.configureErrors++;
      return;
    }
    if (lease.dns.length > 0) this.options.setDnsServers?.(lease.dns);
  }
}
