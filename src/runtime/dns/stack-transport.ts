/**
 * The resolver on the user-space stack: one UDP socket per query try, bound to the random port
 * the resolver drew ('udp4' for an IPv4 server, IPv6-only for an IPv6 one), and ICMP and ICMPv6
 * port-unreachable errors routed back to the socket whose query caused them (so a server with
 * nothing on port 53 fails fast with ECONNREFUSED instead of timing out). With IPv6 on, the
 * servers of router advertisements' RDNSS option (RFC 8106) are asked after the configured
 * ones, and `lookup` orders addresses by RFC 6724 over the stack's own addresses.
 */
import { icmp, icmpv6 } from '../../generated/index.js';
import type { Clock } from '../clock/clock.js';
import { ipv6Text, isLinkLocal, isLoopback } from '../ipv6/address.js';
import type { Ipv6AddressEntry } from '../ipv6/ipv6.js';
import type { RouterAdvertisementInfo } from '../ipv6/nd.js';
import type { UdpSocket } from '../udp/socket.js';
import type { UdpDelivery, UdpIcmpError, UdpSocketOptions, UdpSocketType } from '../udp/types.js';
import {
  DEFAULT_POLICY,
  ipv4Mapped,
  isIpv4Mapped,
  withSitePolicy,
  type AddressSelection,
  type DestinationSource,
} from './order.js';
import {
  Resolver,
  type DnsSocket,
  type DnsSocketHandler,
  type DnsTransport,
  type ResolverOptions,
} from './resolver.js';

/** The IPv6 parts the resolver uses (a Stack's `ipv6` fits). */
export interface DnsIpv6Host {
  readonly ip: {
    selectSource(dst: Uint8Array, dstOffset: number, out: Uint8Array): boolean;
    findAddress(a: Uint8Array, off: number): Ipv6AddressEntry | null;
    readonly addressList: readonly Ipv6AddressEntry[];
  };
  readonly nd: { onRouterAdvertisement(listener: (info: RouterAdvertisementInfo) => void): void };
}

/** The parts of a Stack the transport uses (a Stack fits). */
export interface DnsHost {
  readonly clock: Clock;
  readonly udp: { createSocket(type?: UdpSocketType, options?: UdpSocketOptions): UdpSocket };
  /** Our IPv4 address and netmask (0: none), for ordering lookup results. */
  readonly ipv4: { readonly address: number; readonly netmask: number };
  /** IPv6, when the stack has it. */
  readonly ipv6: DnsIpv6Host | null;
}

/**
 * Routes the stack's ICMP and ICMPv6 errors about UDP to the query tries by local port. The
 * ICMP layer takes one error receiver per protocol, so every transport on a stack shares this
 * one (ports are unique per stack, so one map serves them all).
 */
/** An ICMP or ICMPv6 port unreachable (what ends a query try at once). */
function isPortUnreachable(e: UdpIcmpError): boolean {
  return e.family === 'IPv4'
    ? e.type === icmp.IcmpType.DestinationUnreachable && e.code === icmp.IcmpUnreachableCode.Port
    : e.type === icmpv6.Icmpv6Type.DestinationUnreachable &&
        e.code === icmpv6.Icmpv6UnreachableCode.Port;
}

export class StackDnsTransport implements DnsTransport {
  /**
   * `icmpErrors`: end a try at once on an ICMP port unreachable from its server. False: an
   * unreachable server shows as a timeout.
   */
  constructor(
    private readonly host: DnsHost,
    private readonly icmpErrors = true,
  ) {}

  open(port: number, family: 4 | 6, handler: DnsSocketHandler): DnsSocket | null {
    const socket =
      family === 4
        ? this.host.udp.createSocket('udp4')
        : this.host.udp.createSocket('udp6', { ipv6Only: true });
    try {
      socket.bind(port);
    } catch {
      socket.close();
      return null; // taken: the resolver draws another port
    }
    if (this.icmpErrors) {
      socket.icmpListener = (e) => {
        if (isPortUnreachable(e)) handler.unreachable(e.family === 'IPv6' ? e.dst6 : e.dst, e.port);
      };
    }
    socket.setReceiver({
      receive: (d: UdpDelivery) =>
        handler.message(
          d.bytes,
          d.offset,
          d.length,
          d.family === 'IPv6' ? d.src6 : d.src,
          d.srcPort,
        ),
    });
    return {
      send: (bytes, server, dstPort) => {
        // Errors (no route, no IPv6, closed) surface as a timeout of this try, like lost
        // datagrams.
        socket.send(
          bytes,
          dstPort,
          server.family === 4 ? server.v4 : ipv6Text(server.v6),
          () => undefined,
        );
      },
      close: () => socket.close(),
    };
  }
}

/** The number of leading one bits of a netmask (0xffffff00 → 24). */
function maskLength(netmask: number): number {
  return Math.clz32(~netmask >>> 0);
}

/**
 * What RFC 6724 ordering knows of the stack `host`: the source address it would use for a
 * destination (IPv4: our address when we have one; IPv6: the IPv6 layer's source selection),
 * and the default policy with a row for each site of our unique local addresses.
 */
export function stackAddressSelection(host: Pick<DnsHost, 'ipv4' | 'ipv6'>): AddressSelection {
  const out = new Uint8Array(16);
  return {
    sourceFor(dst: Uint8Array): DestinationSource | null {
      if (isIpv4Mapped(dst)) {
        const { address, netmask } = host.ipv4;
        if (address === 0) return null;
        return {
          address: ipv4Mapped(address),
          prefixLength: 96 + maskLength(netmask),
          deprecated: false,
        };
      }
      const ip = host.ipv6?.ip;
      if (ip === undefined || !ip.selectSource(dst, 0, out)) return null;
      const entry = ip.findAddress(out, 0);
      return {
        address: out.slice(),
        prefixLength: entry?.prefixLength ?? 128,
        deprecated: entry?.state === 'deprecated',
      };
    },
    policy() {
      const ip = host.ipv6?.ip;
      if (ip === undefined) return DEFAULT_POLICY;
      const usable = ip.addressList
        .filter((e) => e.state === 'preferred' || e.state === 'deprecated')
        .map((e) => e.address);
      return withSitePolicy(DEFAULT_POLICY, usable);
    },
    configured() {
      const list = host.ipv6?.ip.addressList ?? [];
      return {
        ipv4: host.ipv4.address !== 0,
        ipv6: list.some(
          (e) =>
            (e.state === 'preferred' || e.state === 'deprecated') &&
            !isLinkLocal(e.address, 0) &&
            !isLoopback(e.address, 0),
        ),
      };
    },
  };
}

/** Resolver options for a stack: the stack supplies the clock and the transport. */
export type StackResolverOptions = Omit<ResolverOptions, 'clock' | 'transport'> & {
  /** Fail at once on an ICMP port unreachable from the server (default true). */
  icmpErrors?: boolean;
  /** Ask the RDNSS servers of router advertisements (default true; needs IPv6 on). */
  rdnss?: boolean;
};

/**
 * A resolver whose queries go through the stack `host` (its clock, its UDP over IPv4 and
 * IPv6), ordering lookups by the stack's addresses, and learning servers from router
 * advertisements (each router's list its own source, for the option's lifetime).
 */
export function createStackResolver(host: DnsHost, options: StackResolverOptions = {}): Resolver {
  const { icmpErrors, rdnss, ...rest } = options;
  const resolver = new Resolver({
    addressSelection: stackAddressSelection(host),
    ...rest,
    clock: host.clock,
    transport: new StackDnsTransport(host, icmpErrors ?? true),
  });
  if (rdnss !== false && host.ipv6 !== null) {
    host.ipv6.nd.onRouterAdvertisement((ra) => {
      // An RA without the option says nothing about DNS (RFC 8106 §5.3.1: lifetimes expire).
      if (ra.dnsServers.length === 0) return;
      resolver.setSourceServers(`ra ${ipv6Text(ra.router)}`, ra.dnsServers, ra.dnsLifetimeMs);
    });
  }
  return resolver;
}
