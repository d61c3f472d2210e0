/**
 * DHCP for the stack: `attachDhcp(stack)` wires the client, its ARP conflict check and the
 * lease application together; `dhcpLogRecord` turns its events into the JSON lines
 * `pktstack run --log json` prints.
 */
import { formatIpv4 } from '../../codec/address.js';
import type { Clock } from '../clock/clock.js';
import type { EthernetLayer, EthernetReceiver } from '../ethernet/ethernet.js';
import type { DhcpEvent, DhcpLease } from './client.js';
import { ArpProber, type ArpProberOptions } from './probe.js';
import { DhcpService, type DhcpHost, type DhcpServiceOptions } from './service.js';

export { DhcpClient, DhcpState, backoffDelayMs } from './client.js';
export type { DhcpAction, DhcpClientOptions, DhcpEvent, DhcpLease } from './client.js';
export { ArpProber } from './probe.js';
export type { AddressProber, ArpProberOptions } from './probe.js';
export { DhcpService } from './service.js';
export type { DhcpHost, DhcpServiceOptions, DhcpServiceStats } from './service.js';

/** What attachDhcp needs from a Stack (a Stack fits). */
export interface DhcpStack extends DhcpHost {
  readonly clock: Clock;
  readonly ethernet: EthernetLayer;
  readonly arp: EthernetReceiver;
}

export interface AttachDhcpOptions extends Omit<DhcpServiceOptions, 'prober'> {
  /** ARP probe timing; `false` turns the conflict check off. */
  probe?: ArpProberOptions | false;
}

export interface AttachedDhcp {
  service: DhcpService;
  prober: ArpProber | null;
  /** Resolves with the first lease bound (never rejects; pair it with your own timeout). */
  firstLease: Promise<DhcpLease>;
  start(): void;
  /** Releases the lease (unless `release` is false) and stops. */
  stop(release?: boolean): void;
}

/** Creates (but does not start) DHCP on `stack`. */
export function attachDhcp(stack: DhcpStack, options: AttachDhcpOptions = {}): AttachedDhcp {
  const prober =
    options.probe === false
      ? null
      : new ArpProber(stack.ethernet, stack.arp, stack.clock, options.probe);
  let bound: (lease: DhcpLease) => void = () => undefined;
  const firstLease = new Promise<DhcpLease>((resolve) => (bound = resolve));
  const service = new DhcpService(stack, {
    ...options,
    prober,
    onEvent: (event) => {
      if (event.type === 'bound') bound(event.lease);
      options.onEvent?.(event);
    },
  });
  return {
    service,
    prober,
    firstLease,
    start: () => service.start(),
    stop: (release = true) => {
      service.stop(release);
      prober?.close();
    },
  };
}

function leaseRecord(lease: DhcpLease): Record<string, unknown> {
  return {
    ip: formatIpv4(lease.address),
    netmask: formatIpv4(lease.netmask),
    gateway: lease.gateway === 0 ? null : formatIpv4(lease.gateway),
    dns: lease.dns.map(formatIpv4),
    server: formatIpv4(lease.serverId),
    lease: lease.leaseTime,
    t1: lease.renewalTime,
    t2: lease.rebindingTime,
  };
}

/** One log line's object for a DHCP event: `{"event":"dhcp.bound","ip":...}` and so on. */
export function dhcpLogRecord(event: DhcpEvent): Record<string, unknown> {
  switch (event.type) {
    case 'bound':
    case 'renewed':
    case 'rebound':
    case 'expired':
      return { event: `dhcp.${event.type}`, ...leaseRecord(event.lease) };
    case 'nak':
      return {
        event: 'dhcp.nak',
        state: event.state,
        server: formatIpv4(event.serverId),
        message: event.message,
      };
    case 'declined':
    case 'released':
      return {
        event: `dhcp.${event.type}`,
        ip: formatIpv4(event.address),
        server: formatIpv4(event.serverId),
      };
    case 'retrying':
      return {
        event: 'dhcp.retrying',
        state: event.state,
        attempt: event.attempt,
        nextInMs: Math.round(event.nextInMs),
        message: `no answer from a DHCP server yet (${event.state}), trying again`,
      };
    case 'gave-up':
      return { event: 'dhcp.gave-up', state: event.state };
  }
}

/** The same event as one line of text, for `--log text`. */
export function dhcpLogText(event: DhcpEvent): string {
  const r = dhcpLogRecord(event);
  const { event: name, ...rest } = r;
  const parts = Object.entries(rest)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`);
  return `${String(name)} ${parts.join(' ')}`;
}
