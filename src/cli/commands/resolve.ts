/**
 * `pktstack resolve NAME --tap tap0 (--dhcp | --ip CIDR [--gateway IP] --dns IP)`: brings the
 * user-space stack up on a TAP device (with a DHCP lease, or a static address), resolves NAME's
 * A records through it and prints them, one a line.
 *
 * Exit status 0 with at least one address; 1 on any failure, reported as one line on stderr:
 * `pktstack: queryA ENOTFOUND nx.test` (Node's dns error codes), or what went wrong bringing
 * the stack up (no TAP, no lease, bad options). A DHCP lease is released before exiting.
 */
import type { Command } from 'commander';
import { parseIpv4 } from '../../codec/address.js';
import { RealClock } from '../../runtime/clock/real.js';
import { openTap } from '../../runtime/link/tap.js';
import { createStack, type Stack } from '../../runtime/stack.js';
import { attachDhcp, dhcpLogText, type AttachedDhcp } from '../../runtime/dhcp/index.js';
import { createStackResolver } from '../../runtime/dns/stack-transport.js';
import { DnsError } from '../../runtime/dns/errors.js';
import type { Resolver } from '../../runtime/dns/resolver.js';

export interface ResolveOptions {
  tap: string;
  netns?: string;
  dhcp?: boolean;
  ip?: string;
  gateway?: string;
  dns?: string[];
  timeout: string;
  attempts: string;
  dhcpTimeout: string;
  verbose?: boolean;
}

class UsageError extends Error {}

function positive(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${what} must be a positive number`);
  return n;
}

function checkOptions(o: ResolveOptions): void {
  if (o.dhcp === true && o.ip !== undefined)
    throw new UsageError('give either --dhcp or --ip, not both');
  if (o.dhcp !== true && o.ip === undefined) throw new UsageError('give --dhcp or --ip CIDR');
  if (o.ip !== undefined && (o.dns === undefined || o.dns.length === 0)) {
    throw new UsageError('--ip needs --dns IP (the server to ask)');
  }
  for (const s of o.dns ?? []) {
    if (parseIpv4(s) < 0) throw new UsageError(`--dns: "${s}" is not an IPv4 address`);
  }
}

/** Waits for the first lease, or fails after `seconds` saying what to check. */
function leaseWithin(dhcp: AttachedDhcp, seconds: number, tap: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`no DHCP lease on ${tap} after ${seconds} s (is a DHCP server on that link?)`),
        ),
      seconds * 1000,
    );
    void dhcp.firstLease.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function runResolve(name: string, o: ResolveOptions): Promise<number> {
  checkOptions(o);
  const timeoutMs = positive(o.timeout, '--timeout');
  const attempts = positive(o.attempts, '--attempts');
  const dhcpSeconds = positive(o.dhcpTimeout, '--dhcp-timeout');
  const clock = new RealClock();
  const link = await openTap({ name: o.tap, netns: o.netns });
  let stack: Stack | null = null;
  let dhcp: AttachedDhcp | null = null;
  let resolver: Resolver | null = null;
  try {
    stack = createStack({
      link,
      clock,
      ...(o.ip !== undefined ? { ip: o.ip, gateway: o.gateway } : {}),
    });
    resolver = createStackResolver(stack, { servers: o.dns ?? [], timeoutMs, attempts });
    if (o.dhcp === true) {
      const r = resolver;
      dhcp = attachDhcp(stack, {
        hostname: 'pktstack',
        maxMessageSize: link.mtu - 28,
        // Servers given with --dns win over the lease's.
        setDnsServers: (servers) => {
          if (o.dns === undefined) r.setServers(servers);
        },
        onEvent: (e) => {
          if (o.verbose === true) process.stderr.write(`${dhcpLogText(e)}\n`);
        },
      });
      dhcp.start();
      await leaseWithin(dhcp, dhcpSeconds, o.tap);
    }
    const addresses = await resolver.resolve4(name);
    process.stdout.write(addresses.map((a) => `${a}\n`).join(''));
    return 0;
  } finally {
    resolver?.close();
    dhcp?.stop(true);
    if (stack !== null) await stack.close();
    else await link.close();
  }
}

export function register(program: Command): void {
  program
    .command('resolve')
    .description('Resolve a name (A records) through the user-space stack on a TAP device')
    .argument('<name>', 'the host name to resolve')
    .requiredOption('--tap <ifname>', 'TAP interface to attach to (created if missing)')
    .option('--netns <name>', 'open the TAP inside this network namespace')
    .option('--dhcp', 'get an address and DNS servers with DHCP')
    .option('--ip <cidr>', 'static address, e.g. 10.0.0.2/24')
    .option('--gateway <ip>', 'default gateway (with --ip)')
    .option('--dns <ip...>', 'DNS server(s) to ask (required with --ip; overrides DHCP)')
    .option('--timeout <ms>', 'wait per query try (doubles each round)', '2000')
    .option('--attempts <n>', 'rounds over the DNS servers', '2')
    .option('--dhcp-timeout <seconds>', 'give up waiting for a lease after this long', '30')
    .option('-v, --verbose', 'log DHCP events on stderr')
    .action(async (name: string, options: ResolveOptions) => {
      try {
        process.exitCode = await runResolve(name, options);
      } catch (err) {
        // One line: Node-style DNS errors as they are ("queryA ENOTFOUND nx.test").
        const message = err instanceof DnsError || err instanceof Error ? err.message : String(err);
        process.stderr.write(`pktstack: ${message}\n`);
        process.exitCode = 1;
      }
    });
}
