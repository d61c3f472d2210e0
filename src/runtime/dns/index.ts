/**
 * The DNS stub resolver (A and AAAA, IPv4 and IPv6 servers): `createStackResolver(stack)` for
 * the user-space stack, `stack.dns` for the stack's own.
 */
export { Resolver, DNS_PORT } from './resolver.js';
export type {
  DnsSocket,
  DnsSocketHandler,
  DnsTransport,
  LookupAddress,
  LookupCallback,
  LookupOptions,
  RecordWithTtl,
  ResolveCallback,
  ResolveOptions,
  ResolverOptions,
  ResolverStats,
} from './resolver.js';
export {
  StackDnsTransport,
  createStackResolver,
  stackAddressSelection,
} from './stack-transport.js';
export type { DnsHost, DnsIpv6Host, StackResolverOptions } from './stack-transport.js';
export { DEFAULT_POLICY, policyOf, sortDestinations, withSitePolicy } from './order.js';
export type { AddressSelection, DestinationSource, PolicyEntry } from './order.js';
export { parseServer } from './servers.js';
export type { DnsPeer, DnsServerAddress, DnsServerInput } from './servers.js';
export { DnsError } from './errors.js';
export type { DnsErrorCode, DnsErrorReason } from './errors.js';
export { DnsCache } from './cache.js';
export type { DnsCacheOptions } from './cache.js';
