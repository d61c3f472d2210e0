/** The DNS stub resolver: `createStackResolver(stack)` for the user-space stack. */
export { Resolver, DNS_PORT } from './resolver.js';
export type {
  DnsSocket,
  DnsSocketHandler,
  DnsTransport,
  LookupAddress,
  LookupCallback,
  LookupOptions,
  ResolverOptions,
  ResolverStats,
} from './resolver.js';
export { StackDnsTransport, createStackResolver } from './stack-transport.js';
export type { DnsHost, StackResolverOptions } from './stack-transport.js';
export { DnsError } from './errors.js';
export type { DnsErrorCode, DnsErrorReason } from './errors.js';
export { DnsCache } from './cache.js';
export type { DnsCacheOptions } from './cache.js';
