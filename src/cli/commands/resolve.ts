/**
 * `pktstack resolve NAME --tap tap0 (--dhcp | --ip CIDR [--gateway IP] | --ip6 CIDR | --slaac)
 * [--dns IP] [--type A|AAAA]`: brings the user-space stack up on a TAP device (with a DHCP
 * lease, static IPv4 or IPv6 addresses, or SLAAC), resolves NAME's A (or AAAA) records through
 * it and prints them, one a line. Servers (`--dns`) may be IPv4 or IPv6 addresses; without
 * them, the lease's, or with --slaac those of the router advertisements (RDNSS, RFC 8106).
 *
 * Exit status 0 with at least one address; 1 on any failure, reported as one line on stderr:
 * `pktstack: queryAaaa ENOTFOUND nx.test` (Node's dns error codes), or what went wrong bringing
 * the stack up (no TAP, no lease, no IPv6 address, bad options). A DHCP lease is released
 * before exiting.
 */
import type { Command } from 'commander';
import { dhcpLogText } from '../../runtime/dhcp/index.js';
import { DnsError } from '../../runtime/dns/errors.js';
import {
  addressOptionsProblem,
  dnsServersWithin,
  openTapStack,
  type TapStackOptions,
} from '../tap-stack.js';

export interface ResolveOptions extends TapStackOptions {
  timeout: string;
  attempts: string;
  dhcpTimeout: string;
  type: string;
  verbose?: boolean;
}

/** The record types `--type` takes. */
const TYPES = ['A', 'AAAA'] as const;

class UsageError extends Error {}

function positive(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${what} must be a positive number`);
  return n;
}

function checkOptions(o: ResolveOptions): void {
  const problem = addressOptionsProblem(o);
  if (problem !== undefined) throw new UsageError(problem);
  if (o.dhcp !== true && o.slaac !== true && (o.dns === undefined || o.dns.length === 0)) {
    throw new UsageError(
      `${o.ip !== undefined ? '--ip' : '--ip6'} needs --dns IP (the server to ask)`,
    );
  }
  if (!(TYPES as readonly string[]).includes(o.type.toUpperCase())) {
    throw new UsageError(`--type must be one of ${TYPES.join(', ')}`);
  }
}

export async function runResolve(name: string, o: ResolveOptions): Promise<number> {
  checkOptions(o);
  const dnsTimeoutMs = positive(o.timeout, '--timeout');
  const dnsAttempts = positive(o.attempts, '--attempts');
  const leaseTimeoutMs = positive(o.dhcpTimeout, '--dhcp-timeout') * 1000;
  const up = await openTapStack(o, {
    leaseTimeoutMs,
    dnsTimeoutMs,
    dnsAttempts,
    onDhcpEvent: (e) => {
      if (o.verbose === true) process.stderr.write(`${dhcpLogText(e)}\n`);
    },
  });
  try {
    // With --slaac and no server given, a router advertisement's RDNSS option names them.
    if (o.slaac === true && o.dns === undefined)
      await dnsServersWithin(up.resolver, leaseTimeoutMs, o.tap);
    const addresses =
      o.type.toUpperCase() === 'AAAA'
        ? await up.resolver.resolve6(name)
        : await up.resolver.resolve4(name);
    process.stdout.write(addresses.map((a) => `${a}\n`).join(''));
    return 0;
  } finally {
    await up.close();
  }
}

export function register(program: Command): void {
  program
    .command('resolve')
    .description('Resolve a name (A or AAAA records) through the user-space stack on a TAP device')
    .argument('<name>', 'the host name to resolve')
    .requiredOption('--tap <ifname>', 'TAP interface to attach to (created if missing)')
    .option('--netns <name>', 'open the TAP inside this network namespace')
    .option('--dhcp', 'get an address and DNS servers with DHCP')
    .option('--ip <cidr>', 'static address, e.g. 10.0.0.2/24')
    .option('--gateway <ip>', 'default gateway (with --ip)')
    .option('--ip6 <cidr>', 'static IPv6 address, e.g. fd00::2/64 (waits for DAD)')
    .option('--slaac', 'IPv6 addresses and DNS servers (RDNSS) from router advertisements')
    .option(
      '--dns <ip...>',
      'DNS server(s) to ask, IPv4 or IPv6 (required with --ip/--ip6; overrides DHCP and RDNSS)',
    )
    .option('--type <type>', 'record type: A or AAAA', 'A')
    .option('--timeout <ms>', 'wait per query try (doubles each round)', '2000')
    .option('--attempts <n>', 'rounds over the DNS servers', '2')
    .option(
      '--dhcp-timeout <seconds>',
      'give up waiting for a lease (or, with --slaac, an RDNSS server) after this long',
      '30',
    )
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
