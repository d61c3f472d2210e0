/**
 * `pktstack run`: the stack on a TAP device, answering ARP and ping (and UDP echo when asked),
 * until SIGINT/SIGTERM. With `--log json` every event is one JSON object per line, the first
 * being `{"event":"up",...}` once the stack is ready; the last `{"event":"down","stats":...}`.
 */
import type { Command } from 'commander';
import { formatIpv4, formatMac } from '../../codec/address.js';
import { RealClock } from '../../runtime/clock/real.js';
import type { Link } from '../../runtime/link/link.js';
import { recordPcap } from '../../runtime/link/pcap-recorder.js';
import { openTap, setKernelIpv4 } from '../../runtime/link/tap.js';
import { createStack, resolveAddress, StackConfigError } from '../../runtime/stack.js';
import { dropsByReason, totalDrops } from '../../runtime/stats.js';
import { TokenBucket } from '../../runtime/rate-limit.js';
import { UdpEchoServer } from '../../runtime/udp/echo.js';
import { parseHttpSpec, startHttpService, type HttpSpec } from '../../runtime/http/index.js';
import { attachDhcp, dhcpLogRecord } from '../../runtime/dhcp/index.js';
import { dhcp6LogRecord, type Dhcp6ServiceMode } from '../../runtime/dhcp6/index.js';
import { attachTcp, startDiscardServer, startEchoServer } from '../../runtime/tcp/index.js';
import type { Ipv6AddressEntry } from '../../runtime/ipv6/ipv6.js';
import { ipv6Text, parseIpv6Prefixed } from '../../runtime/ipv6/address.js';

/** How often `run` logs the drop counters that grew (one `drops` line at most per period). */
const DROP_REPORT_MS = 10_000;

export interface RunOptions {
  tap: string;
  /** Static address; without it, `dhcp` must be set. */
  ip?: string;
  /** Get the address (and gateway, DNS) with DHCP; logs dhcp.* events. */
  dhcp?: boolean;
  gateway?: string;
  udpEcho?: number;
  /** TCP echo (RFC 862) on this port. */
  echo?: number;
  /** TCP discard (RFC 863) on this port. */
  discard?: number;
  pcap?: string;
  log: 'text' | 'json';
  hostIp?: string;
  mtu?: number;
  /** `--http PORT[:DIR]`: status page (and /bytes/N), or static files from DIR. */
  http?: HttpSpec;
  /** Static IPv6 address ("fd00::2/64"); turns IPv6 on. */
  ip6?: string;
  /** IPv6 with addresses from router advertisements (SLAAC). */
  slaac?: boolean;
  /** IPv6 with the link-local address only (and whatever --ip6 adds). */
  ipv6?: boolean;
  /**
   * DHCPv6 (turns IPv6 on): true or 'auto' lets router advertisements choose (M flag:
   * stateful, O flag: stateless); 'stateful' / 'stateless' start that at once. Logs dhcp6.*.
   */
  dhcp6?: boolean | string;
  /**
   * Ask the kernel for checksum and TCP segmentation offloads on the TAP (default true;
   * `--no-offload` turns it off). What it took is in the `up` line, a fallback logged apart.
   */
  offload?: boolean;
}

/** `--no-offload`'s help, the same for every command that starts the stack on a TAP. */
export const NO_OFFLOAD_HELP =
  'open the TAP without virtio-net offloads (no checksum offload, no 64 KiB TCP segments)';

type EventFields = Record<string, unknown>;

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535)
    throw new StackConfigError(`bad port "${text}" (1..65535)`);
  return n;
}

function parseMtu(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 68 || n > 65521)
    throw new StackConfigError(`bad MTU "${text}" (68..65521)`);
  return n;
}

function prefixLength(mask: number): number {
  let n = 0;
  for (let m = mask; m & 0x80000000; m = (m << 1) >>> 0) n++;
  return n;
}

/** One line per event on stdout: JSON, or `event key=value ...` for humans. */
function makeLogger(format: 'text' | 'json'): (event: string, fields?: EventFields) => void {
  return (event, fields = {}) => {
    if (format === 'json') {
      process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
      return;
    }
    const parts = Object.entries(fields)
      .filter(([, v]) => typeof v !== 'object')
      .map(([k, v]) => `${k}=${String(v)}`);
    process.stdout.write(`${event}${parts.length > 0 ? ' ' + parts.join(' ') : ''}\n`);
  };
}

export async function runStack(options: RunOptions): Promise<void> {
  const log = makeLogger(options.log);
  // Validate everything before touching the device.
  if ((options.ip === undefined) === (options.dhcp !== true)) {
    throw new StackConfigError('give either --ip ADDRESS/PREFIX or --dhcp');
  }
  const address = resolveAddress({ ip: options.ip ?? 0, gateway: options.gateway });
  const cidr = `${formatIpv4(address.ip)}/${prefixLength(address.netmask)}`;
  const host = options.hostIp === undefined ? undefined : resolveAddress({ ip: options.hostIp });
  let dhcp6: Dhcp6ServiceMode | null = null;
  if (options.dhcp6 !== undefined && options.dhcp6 !== false) {
    const mode = options.dhcp6 === true ? 'auto' : options.dhcp6;
    if (mode !== 'auto' && mode !== 'stateful' && mode !== 'stateless')
      throw new StackConfigError(`--dhcp6 must be auto, stateful or stateless, not "${mode}"`);
    dhcp6 = mode;
  }
  if (options.ip6 !== undefined) {
    try {
      parseIpv6Prefixed(options.ip6);
    } catch (error) {
      throw new StackConfigError(`--ip6: ${(error as Error).message}`);
    }
  }

  // The device can fail later (interface deleted): report it and shut down like on a signal.
  let onDeviceError = (_error: Error): void => undefined;
  const tap = await openTap({
    name: options.tap,
    mtu: options.mtu,
    offload: options.offload ?? true,
    onError: (error) => onDeviceError(error),
  });
  if (host !== undefined) {
    try {
      setKernelIpv4({ name: tap.name, address: host.ip, prefixLength: prefixLength(host.netmask) });
    } catch (error) {
      // Already configured that way (a second run on a persistent TAP) is fine.
      if ((error as { code?: string }).code !== 'EEXIST') {
        await tap.close();
        throw error;
      }
    }
  }
  let link: Link = tap;
  if (options.pcap !== undefined) {
    link = recordPcap(tap, options.pcap, {
      onError: (error) => log('error', { what: 'pcap', message: error.message }),
    });
  }
  const ipv6 =
    options.ipv6 === true || options.slaac === true || options.ip6 !== undefined || dhcp6 !== null;
  const stack = createStack({
    link,
    clock: new RealClock(),
    ...address,
    ...(ipv6 ? { ipv6: { nd: { slaac: options.slaac === true } } } : {}),
    ...(options.ip6 !== undefined ? { ip6: options.ip6 } : {}),
    // DHCPv6: {"event":"dhcp6.lease","addresses":[...]} and so on; released when the stack closes.
    ...(dhcp6 !== null
      ? {
          dhcp6: {
            mode: dhcp6,
            onEvent: (e) => {
              const { event, ...fields } = dhcp6LogRecord(e);
              log(String(event), fields);
            },
          },
        }
      : {}),
  });
  // Events a flood can provoke must not flood the log: 10 lines a second per event, and the
  // next line says how many were left out.
  const limited = (event: string): ((fields: EventFields) => void) => {
    const lines = new TokenBucket(10, 20);
    let unlogged = 0;
    return (fields) => {
      if (!lines.take(stack.clock.now())) {
        unlogged++;
        return;
      }
      log(event, unlogged > 0 ? { ...fields, unlogged } : fields);
      unlogged = 0;
    };
  };
  if (stack.ipv6 !== null) {
    const parts = stack.ipv6;
    const logAddress = (e: Ipv6AddressEntry): void =>
      log('ipv6.address', {
        address: `${ipv6Text(e.address)}/${e.prefixLength}`,
        state: e.state,
        origin: e.origin,
      });
    for (const e of parts.ip.addressList) logAddress(e);
    parts.ip.onAddressChange(logAddress);
    // Like `ip monitor neigh`: every NUD state change, and null (as "gone") when dropped.
    const logNeighbor6 = limited('ipv6.neighbor');
    parts.neighbors.changeListener = (n, state) =>
      logNeighbor6({
        address: ipv6Text(n.address),
        state: state ?? 'GONE',
        ...(state !== null && state !== 'INCOMPLETE' ? { mac: formatMac(n.link.mac) } : {}),
        router: n.isRouter,
      });
    parts.nd.onRouterAdvertisement((ra) =>
      log('ipv6.router', {
        router: ipv6Text(ra.router),
        lifetimeS: ra.lifetimeMs / 1000,
        prefixes: ra.prefixes.map((p) => `${ipv6Text(p.prefix)}/${p.prefixLength}`).join(','),
        dns: ra.dnsServers.map((a) => ipv6Text(a)).join(','),
        managed: ra.managed,
        other: ra.other,
      }),
    );
  }
  const echo =
    options.udpEcho === undefined ? undefined : new UdpEchoServer(stack.udp, options.udpEcho);
  // TCP is always attached (closed ports answer RST); --echo / --discard add RFC 862/863 servers.
  const tcp = attachTcp(stack);
  const logEviction = limited('tcp.evicted');
  tcp.onEvict = (e) => logEviction({ ...e });
  const logOpen = limited('tcp.open');
  const logClose = limited('tcp.close');
  tcp.onConnection = (e) => {
    const { event, ...fields } = e;
    (event === 'open' ? logOpen : logClose)(fields);
  };
  const logConflict = limited('arp.conflict');
  stack.arp.conflictListener = (c) =>
    logConflict({ address: formatIpv4(c.address), mac: formatMac(c.mac), defended: c.defended });
  const logNeighbor = limited('arp.neighbor');
  stack.arp.neighborListener = (c) =>
    logNeighbor({
      address: formatIpv4(c.address),
      mac: formatMac(c.mac),
      ...(c.previous >= 0 ? { previous: formatMac(c.previous) } : {}),
    });
  if (options.echo !== undefined) startEchoServer(tcp, options.echo);
  if (options.discard !== undefined) startDiscardServer(tcp, options.discard);
  const httpService =
    options.http === undefined ? undefined : startHttpService(stack, options.http);
  // DHCP: events become log lines ({"event":"dhcp.bound","ip":...}); the lease is released on stop.
  const dhcp =
    options.dhcp === true
      ? attachDhcp(stack, {
          hostname: 'pktstack',
          maxMessageSize: link.mtu - 28,
          onEvent: (e) => {
            const { event, ...fields } = dhcpLogRecord(e);
            log(String(event), fields);
          },
        })
      : undefined;

  // Drops by reason, as one line per DROP_REPORT_MS with what grew since the last one: a flood
  // of refused SYNs or bad fragments shows up as a count, not as a line per packet.
  let dropsSeen = dropsByReason(stack.stats());
  const reportDrops = (): void => {
    const now = dropsByReason(stack.stats());
    const grew: Record<string, number> = {};
    let any = false;
    for (const [reason, n] of now) {
      const delta = n - (dropsSeen.get(reason) ?? 0);
      if (delta > 0) {
        grew[reason] = delta;
        any = true;
      }
    }
    dropsSeen = now;
    if (any) log('drops', { intervalMs: DROP_REPORT_MS, ...grew });
    dropTimer = stack.clock.setTimer(DROP_REPORT_MS, reportDrops);
  };
  let dropTimer = stack.clock.setTimer(DROP_REPORT_MS, reportDrops);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    dropTimer.cancel();
    dhcp?.stop(true);
    const stats = stack.stats();
    echo?.close();
    void httpService?.close({ force: true });
    stack.close().then(
      () => {
        log('down', {
          signal,
          rxFrames: stats.ethernet.rxFrames,
          txFrames: stats.ethernet.txFrames,
          drops: totalDrops(stats),
          stats,
        });
        process.exitCode ??= 0;
      },
      (error: unknown) => {
        log('error', {
          what: 'close',
          message: error instanceof Error ? error.message : String(error),
        });
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  onDeviceError = (error) => {
    log('error', { what: 'tap', message: error.message });
    stop('device-error');
    process.exitCode = 1;
  };

  // What the kernel took of the offloads asked for, and (a separate line) why not all of them.
  const offloads = tap.offloads;
  if (offloads.fallback !== null)
    log('offloads.fallback', { tap: tap.name, reason: offloads.fallback, using: offloads.summary });
  log('up', {
    ip: options.dhcp === true ? null : cidr,
    ...(options.dhcp === true ? { dhcp: true } : {}),
    mac: formatMac(stack.mac),
    tap: tap.name,
    mtu: link.mtu,
    offloads: offloads.summary,
    ...(address.gateway !== 0 ? { gateway: formatIpv4(address.gateway) } : {}),
    ...(options.udpEcho !== undefined ? { udpEcho: options.udpEcho } : {}),
    ...(options.echo !== undefined ? { echo: options.echo } : {}),
    ...(options.discard !== undefined ? { discard: options.discard } : {}),
    ...(options.pcap !== undefined ? { pcap: options.pcap } : {}),
    ...(options.http !== undefined ? { http: options.http.port } : {}),
    ...(ipv6 ? { ipv6: true } : {}),
    ...(options.ip6 !== undefined ? { ip6: options.ip6 } : {}),
    ...(dhcp6 !== null ? { dhcp6 } : {}),
  });
  dhcp?.start();
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run the stack on a TAP device: answers ARP and ping, optionally echoes UDP')
    .requiredOption('--tap <name>', 'TAP interface to create or attach to (e.g. tap0)')
    .option('--ip <address/prefix>', "the stack's address, e.g. 10.0.0.2/24")
    .option('--dhcp', 'get the address, gateway and DNS servers with DHCP (instead of --ip)')
    .option('--gateway <address>', 'default gateway')
    .option('--udp-echo <port>', 'answer UDP datagrams on this port with the same bytes', parsePort)
    .option('--echo <port>', 'TCP echo server (RFC 862) on this port', parsePort)
    .option('--discard <port>', 'TCP discard server (RFC 863) on this port', parsePort)
    .option('--pcap <file>', 'record every frame both ways to this pcap file')
    .option('--log <format>', 'event output: text or json', 'text')
    .option(
      '--host-ip <address/prefix>',
      "also configure the kernel's side of the TAP, e.g. 10.0.0.1/24",
    )
    .option('--mtu <bytes>', 'set the TAP MTU first', parseMtu)
    .option(
      '--http <port[:dir]>',
      'serve HTTP: status page + /bytes/N, or files from DIR',
      parseHttpSpec,
    )
    .option('--ip6 <address/prefix>', 'a static IPv6 address, e.g. fd00::2/64 (turns IPv6 on)')
    .option('--slaac', 'IPv6 with addresses from router advertisements (SLAAC)')
    .option('--ipv6', 'IPv6 with the link-local address (and any --ip6)')
    .option(
      '--dhcp6 [mode]',
      'DHCPv6 (turns IPv6 on): auto (router advertisements choose: M flag stateful, O flag stateless; the default), stateful or stateless',
    )
    .option('--no-offload', NO_OFFLOAD_HELP)
    .action(async (opts: Omit<RunOptions, 'log'> & { log: string }) => {
      if (opts.log !== 'text' && opts.log !== 'json') {
        throw new StackConfigError(`--log must be text or json, not "${opts.log}"`);
      }
      await runStack({ ...opts, log: opts.log });
    });
}
