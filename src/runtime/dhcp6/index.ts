/**
 * DHCPv6 for the stack (RFC 8415): `new Dhcp6Service(stack, options)` runs the client (or
 * `createStack({ dhcp6: ... })` does, as `stack.dhcp6`); `dhcp6LogRecord` turns its events into
 * the JSON lines `pktstack run --log json` prints.
 */
import { nameOfDhcpv6StatusCode } from '../../generated/dhcpv6.js';
import { ipv6Text } from '../ipv6/address.js';
import type { Dhcp6Event, Dhcp6Lease } from './client.js';

export {
  ALL_DHCP_RELAY_AGENTS_AND_SERVERS,
  Dhcp6Client,
  Dhcp6State,
  Dhcp6Timing,
} from './client.js';
export type {
  Dhcp6Action,
  Dhcp6ClientOptions,
  Dhcp6ClientStats,
  Dhcp6DropReason,
  Dhcp6Event,
  Dhcp6Information,
  Dhcp6Lease,
  Dhcp6LeaseAddress,
  Dhcp6Mode,
} from './client.js';
export { Dhcp6Service } from './service.js';
export type {
  Dhcp6Host,
  Dhcp6ServiceMode,
  Dhcp6ServiceOptions,
  Dhcp6ServiceStats,
} from './service.js';
export { DHCP6_CLIENT_PORT, DHCP6_SERVER_PORT, duidLl, duidLlt, iaidFromMac } from './wire.js';
export type { Dhcp6Duid } from './wire.js';

function seconds(s: number): number | null {
  return s === 0xffffffff ? null : s;
}

function leaseRecord(lease: Dhcp6Lease): Record<string, unknown> {
  return {
    addresses: lease.addresses.map((a) => `${ipv6Text(a.address)}/128`),
    preferred: lease.addresses.map((a) => seconds(a.preferredLifetime)),
    valid: lease.addresses.map((a) => seconds(a.validLifetime)),
    t1: seconds(lease.t1),
    t2: seconds(lease.t2),
    server: ipv6Text(lease.server),
    dns: lease.dnsServers.map((a) => ipv6Text(a)),
    domains: lease.domains,
  };
}

/** One log line's object for a DHCPv6 event: `{"event":"dhcp6.lease","addresses":[...]}`... */
export function dhcp6LogRecord(event: Dhcp6Event): Record<string, unknown> {
  switch (event.type) {
    case 'started':
      return { event: 'dhcp6.start', mode: event.mode };
    case 'bound':
      return { event: 'dhcp6.lease', ...leaseRecord(event.lease) };
    case 'renewed':
    case 'rebound':
      return { event: `dhcp6.${event.type}`, ...leaseRecord(event.lease) };
    case 'expired':
      return {
        event: 'dhcp6.expired',
        address: `${ipv6Text(event.address)}/128`,
        last: event.lease === null,
      };
    case 'declined':
    case 'released':
      return {
        event: `dhcp6.${event.type}`,
        addresses: event.addresses.map((a) => `${ipv6Text(a)}/128`),
      };
    case 'informed':
      return {
        event: 'dhcp6.info',
        server: ipv6Text(event.info.server),
        dns: event.info.dnsServers.map((a) => ipv6Text(a)),
        domains: event.info.domains,
        refreshS: event.info.refreshMs === Infinity ? null : event.info.refreshMs / 1000,
      };
    case 'status':
      return {
        event: 'dhcp6.status',
        state: event.state,
        status: nameOfDhcpv6StatusCode(event.status) ?? event.status,
        message: event.message,
      };
    case 'retrying':
      return {
        event: 'dhcp6.retrying',
        state: event.state,
        attempt: event.attempt,
        nextInMs: Math.round(event.nextInMs),
        message: `no answer from a DHCPv6 server yet (${event.state}), trying again`,
      };
    case 'gave-up':
      return { event: 'dhcp6.gave-up', state: event.state };
  }
}
