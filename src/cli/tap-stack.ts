/**
 * What the one-shot client commands (`curl`, `resolve`) share: the user-space stack on a TAP
 * device with a static address (`--ip [--gateway]`) or a DHCP lease (`--dhcp`), IPv6 with a
 * static address (`--ip6`) or SLAAC (`--slaac`), and a DNS resolver asking the `--dns` servers
 * (IPv4 or IPv6), or else the lease's and the router advertisements' (RDNSS). `run` is not a user: it is a server
 * that logs DHCP as events and never waits for a lease.
 */
import { parseIpv4, parseIpv6 } from '../codec/address.js';
import { isLinkLocal, parseIpv6Prefixed } from '../runtime/ipv6/address.js';
import { RealClock } from '../runtime/clock/real.js';
import { attachDhcp, type AttachedDhcp, type DhcpEvent } from '../runtime/dhcp/index.js';
import type { Resolver } from '../runtime/dns/resolver.js';
import { createStackResolver } from '../runtime/dns/stack-transport.js';
import { openTap } from '../runtime/link/tap.js';
import { createStack, type Stack } from '../runtime/stack.js';

/** The address and DNS options, as commander hands them over. */
export interface TapStackOptions {
  tap: string;
  netns?: string;
  dhcp?: boolean;
  ip?: string;
  gateway?: string;
  dns?: string[];
  /** A static IPv6 address ("fd00::2/64"): IPv6 on, and ready once DAD made it preferred. */
  ip6?: string;
  /** IPv6 with SLAAC: ready once a router advertisement gave a preferred global address. */
  slaac?: boolean;
}

export interface OpenTapStackOptions {
  /** Give up waiting for the first lease after this long (with --dhcp). */
  leaseTimeoutMs: number;
  /** Resolver tuning; the resolver's defaults when absent. */
  dnsTimeoutMs?: number;
  dnsAttempts?: number;
  /** Every DHCP event (for a verbose log). */
  onDhcpEvent?: (event: DhcpEvent) => void;
  /** Give up waiting for a usable IPv6 address after this long (with --ip6 or --slaac). */
  ipv6TimeoutMs?: number;
}

export interface TapStack {
  readonly stack: Stack;
  readonly resolver: Resolver;
  /** Stops the resolver, releases the lease (if any) and closes the stack and the device. */
  close(): Promise<void>;
}

/** No lease came within the time given; the stack is already closed. */
export class NoLeaseError extends Error {}

/**
 * What is wrong with the address options (one line, naming the option), or undefined. Each
 * command reports it with its own error type and exit status.
 */
export function addressOptionsProblem(o: TapStackOptions): string | undefined {
  if (o.dhcp === true && o.ip !== undefined) return 'give either --dhcp or --ip, not both';
  const ipv6 = o.ip6 !== undefined || o.slaac === true;
  if (o.dhcp !== true && o.ip === undefined && !ipv6) return 'give --dhcp, --ip CIDR or --ip6 CIDR';
  if (o.ip6 !== undefined) {
    try {
      parseIpv6Prefixed(o.ip6);
    } catch (error) {
      return `--ip6: ${(error as Error).message}`;
    }
  }
  for (const s of o.dns ?? []) {
    if (parseIpv4(s) >= 0) continue;
    if (s.includes('%') || parseIpv6(s) === null)
      return `--dns: "${s}" is not an IPv4 or IPv6 address`;
    if (!ipv6) return `--dns ${s}: an IPv6 server needs IPv6 (--ip6 CIDR or --slaac)`;
  }
  return undefined;
}

function leaseWithin(dhcp: AttachedDhcp, ms: number, tap: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new NoLeaseError(
          `no DHCP lease on ${tap} within ${ms / 1000} s (is a DHCP server on that link?)`,
        ),
      );
    }, ms);
    void dhcp.firstLease.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** No usable IPv6 address came within the time given (DAD failed, or no router answered). */
export class NoIpv6AddressError extends Error {}

/** Resolves once `ready()` holds (looked at every 20 ms), or rejects with `timedOut()` after `ms`. */
function until(ready: () => boolean, ms: number, timedOut: () => Error): Promise<void> {
  if (ready()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (!ready()) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve();
    }, 20);
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(timedOut());
    }, ms);
  });
}

/** Waits until the stack holds a preferred IPv6 address beyond link-local scope. */
function globalAddressWithin(stack: Stack, ms: number, tap: string): Promise<void> {
  const ip = stack.ipv6?.ip;
  return until(
    () =>
      ip?.addressList.some((e) => e.state === 'preferred' && !isLinkLocal(e.address, 0)) === true,
    ms,
    () =>
      new NoIpv6AddressError(
        `no usable IPv6 address on ${tap} within ${ms / 1000} s (duplicate address, or no router advertisement)`,
      ),
  );
}

/** No DNS server was configured or learnt (DHCP, RDNSS) within the time given. */
export class NoDnsServerError extends Error {}

/**
 * Waits until `resolver` has a server to ask: with --slaac and no --dns, the RDNSS option of a
 * router advertisement gives it, maybe after the address is ready.
 */
export function dnsServersWithin(resolver: Resolver, ms: number, tap: string): Promise<void> {
  return until(
    () => resolver.getServers().length > 0,
    ms,
    () =>
      new NoDnsServerError(
        `no DNS server on ${tap} within ${ms / 1000} s (give --dns, or have the router advertise RDNSS)`,
      ),
  );
}

/**
 * Opens the TAP, brings the stack up and, with --dhcp, waits for the first lease. On any
 * failure everything opened so far is closed again before the error is thrown.
 */
export async function openTapStack(o: TapStackOptions, p: OpenTapStackOptions): Promise<TapStack> {
  const link = await openTap({ name: o.tap, netns: o.netns });
  let stack: Stack | null = null;
  let resolver: Resolver | null = null;
  let dhcp: AttachedDhcp | null = null;
  const close = async (): Promise<void> => {
    resolver?.close();
    dhcp?.stop(true);
    if (stack !== null) await stack.close();
    else await link.close();
  };
  try {
    const ipv6 = o.ip6 !== undefined || o.slaac === true;
    stack = createStack({
      link,
      clock: new RealClock(),
      ...(o.ip !== undefined ? { ip: o.ip, gateway: o.gateway } : {}),
      ...(ipv6 ? { ipv6: { nd: { slaac: o.slaac === true } } } : {}),
      ...(o.ip6 !== undefined ? { ip6: o.ip6 } : {}),
    });
    const r = createStackResolver(stack, {
      servers: o.dns ?? [],
      timeoutMs: p.dnsTimeoutMs,
      attempts: p.dnsAttempts,
      // Servers given with --dns win over those of router advertisements (RDNSS), too.
      rdnss: o.dns === undefined,
    });
    resolver = r;
    if (o.dhcp === true) {
      // Assigned before waiting, so close() stops it even when no lease comes.
      dhcp = attachDhcp(stack, {
        hostname: 'pktstack',
        maxMessageSize: link.mtu - 28,
        // Servers given with --dns win over the lease's.
        setDnsServers: (servers) => {
          if (o.dns === undefined) r.setServers(servers);
        },
        onEvent: p.onDhcpEvent,
      });
      dhcp.start();
      await leaseWithin(dhcp, p.leaseTimeoutMs, o.tap);
    }
    if (ipv6) await globalAddressWithin(stack, p.ipv6TimeoutMs ?? 10_000, o.tap);
    return { stack, resolver: r, close };
  } catch (error) {
    await close();
    throw error;
  }
}
