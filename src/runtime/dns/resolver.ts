/**
 * A stub resolver for A and AAAA records over any UDP transport (the user-space stack's sockets
 * in production, an in-memory fake in tests), with Node-compatible `resolve4`, `resolve6` and
 * `lookup`. Servers may be IPv4 or IPv6 addresses; `lookup` orders what it finds by RFC 6724
 * (order.ts) when it knows our addresses.
 *
 * Each try uses a fresh random query id and a fresh random source port (RFC 5452), and only a
 * datagram from the queried server's address and port 53, carrying our id and our exact
 * question, is taken as the answer; anything else is counted and ignored. Timers come from the
 * injected Clock, randomness from an injected source (crypto by default).
 */
import { randomInt as cryptoRandomInt } from 'node:crypto';
import { ADDRCONFIG, ALL, V4MAPPED } from 'node:dns';
import { isIP } from 'node:net';
import { parseIpv4, parseIpv6 } from '../../codec/address.js';
import type { Clock } from '../clock/clock.js';
import { interpretAnswer, MAX_CNAME_CHAIN, rcodeFailure } from './answer.js';
import { DnsCache, type DnsCacheOptions } from './cache.js';
import { DnsError, type DnsErrorCode, type DnsErrorReason } from './errors.js';
import {
  buildQuery,
  DnsRcode,
  DnsType,
  matchResponse,
  parseResponse,
  type DnsMismatch,
  type DnsParseFailure,
  type DnsResponse,
  type DnsValue,
  type MxRecord,
  type SoaRecord,
  type SrvRecord,
} from './message.js';
import { canonicalName } from './name.js';
import { ipv4Mapped, sortDestinations, type AddressSelection } from './order.js';
import { EPHEMERAL_COUNT, EPHEMERAL_FIRST, trySchedule } from './policy.js';
import {
  DnsServerList,
  isServer,
  type DnsPeer,
  type DnsServerAddress,
  type DnsServerInput,
} from './servers.js';

export const DNS_PORT = 53;

/** A UDP socket bound to one local port. */
export interface DnsSocket {
  send(bytes: Uint8Array, server: DnsServerAddress, port: number): void;
  close(): void;
}

export interface DnsSocketHandler {
  /**
   * A datagram arrived from `from` (IPv4 as a number, IPv6 as 16 bytes; bytes and `from` are
   * valid only during the call).
   */
  message(bytes: Uint8Array, offset: number, length: number, from: DnsPeer, port: number): void;
  /** An ICMP or ICMPv6 port unreachable came back for something we sent to `to`:`port`. */
  unreachable(to: DnsPeer, port: number): void;
}

export interface DnsTransport {
  /**
   * Binds a UDP socket for `family` (that of the server it will send to) to local `port`; null
   * when that port is already in use.
   */
  open(port: number, family: 4 | 6, handler: DnsSocketHandler): DnsSocket | null;
}

export interface ResolverOptions {
  clock: Clock;
  transport: DnsTransport;
  /** Servers as IPv4 or IPv6 text ("10.0.0.1", "fd00::1"), 32-bit numbers or 16 bytes. */
  servers?: ReadonlyArray<DnsServerInput>;
  /** Wait for the first round's tries (doubled each round). Default 2000 ms. */
  timeoutMs?: number;
  /** Rounds over the server list. Default 2. */
  attempts?: number;
  /** Uniform integer in [0, max); default crypto.randomInt. Injected for deterministic tests. */
  randomInt?: (max: number) => number;
  cache?: DnsCacheOptions;
  /**
   * Static names answered without asking (like /etc/hosts), each with its addresses in the
   * order `lookup` gives them. Default: localhost → 127.0.0.1 and ::1.
   */
  hosts?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * Our addresses, for ordering `lookup` results by RFC 6724 (the stack's resolver gets its
   * own, see stackAddressSelection). Without it, IPv4 addresses come before IPv6 ones.
   */
  addressSelection?: AddressSelection;
}

export interface LookupAddress {
  address: string;
  family: 4 | 6;
}

export interface LookupOptions {
  family?: 0 | 4 | 6 | 'IPv4' | 'IPv6';
  all?: boolean;
  /**
   * getaddrinfo flags, as node:dns takes them: `dns.ADDRCONFIG` asks only for the families we
   * have a (non-link-local) address of; `dns.V4MAPPED` with family 6 returns IPv4 addresses as
   * IPv4-mapped IPv6 ones (::ffff:a.b.c.d) when there is no IPv6 address, or along with them
   * with `dns.ALL` too. ADDRCONFIG needs the resolver to know our addresses (the stack's does).
   */
  hints?: number;
  /** true: 'verbatim' order; false: 'ipv4first' (as node:dns). `order` wins over it. */
  verbatim?: boolean;
  /**
   * 'verbatim' (the default, as node:dns): the resolver's order, which is RFC 6724's when it
   * knows our addresses; 'ipv4first' / 'ipv6first': one family first, each in that order.
   */
  order?: 'ipv4first' | 'ipv6first' | 'verbatim';
}

export type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export interface ResolveOptions {
  /** Return `{address, ttl}` records instead of strings (as node:dns). */
  ttl?: boolean;
}

export interface RecordWithTtl {
  address: string;
  ttl: number;
}

export type ResolveCallback = (
  err: NodeJS.ErrnoException | null,
  addresses?: string[] | RecordWithTtl[],
) => void;

export type DnsCallback<T> = (err: NodeJS.ErrnoException | null, value?: T) => void;

/** node:dns's `promises`, over this resolver. */
export interface ResolverPromises {
  lookup(
    hostname: string,
    options?: number | LookupOptions,
  ): Promise<LookupAddress | LookupAddress[]>;
  resolve(hostname: string, rrtype?: DnsRrtype): Promise<DnsValue[] | SoaRecord>;
  resolve4(hostname: string, options?: ResolveOptions): Promise<string[] | RecordWithTtl[]>;
  resolve6(hostname: string, options?: ResolveOptions): Promise<string[] | RecordWithTtl[]>;
  resolveCname(hostname: string): Promise<string[]>;
  resolveMx(hostname: string): Promise<MxRecord[]>;
  resolveNs(hostname: string): Promise<string[]>;
  resolvePtr(hostname: string): Promise<string[]>;
  resolveSrv(hostname: string): Promise<SrvRecord[]>;
  resolveTxt(hostname: string): Promise<string[][]>;
  resolveSoa(hostname: string): Promise<SoaRecord>;
  reverse(ip: string): Promise<string[]>;
  getServers(): string[];
  setServers(servers: ReadonlyArray<DnsServerInput>): void;
  getDefaultResultOrder(): 'ipv4first' | 'ipv6first' | 'verbatim';
  setDefaultResultOrder(order: 'ipv4first' | 'ipv6first' | 'verbatim'): void;
}

export interface ResolverStats {
  queriesSent: number;
  responsesAccepted: number;
  /** Datagrams that did not answer our query (spoofed, stale, wrong question...). */
  ignored: Partial<Record<DnsMismatch | 'wrong_source', number>>;
  /** Answers from the queried server that could not be used (reported as EBADRESP). */
  unusable: Partial<Record<DnsParseFailure, number>>;
  timeouts: number;
  cacheHits: number;
  cacheMisses: number;
}

type Exchange =
  | { kind: 'response'; response: DnsResponse | DnsParseFailure }
  | { kind: 'timeout' }
  | { kind: 'unreachable' }
  | { kind: 'no-port' }
  | { kind: 'cancelled' };

type AddressType = typeof DnsType.A | typeof DnsType.AAAA;

/** The record types `resolve` takes, by node:dns's names. */
const RRTYPES = {
  A: DnsType.A,
  AAAA: DnsType.AAAA,
  CNAME: DnsType.CNAME,
  MX: DnsType.MX,
  NS: DnsType.NS,
  PTR: DnsType.PTR,
  SOA: DnsType.SOA,
  SRV: DnsType.SRV,
  TXT: DnsType.TXT,
} as const;
export type DnsRrtype = keyof typeof RRTYPES;

/** The record type's name in Node's error messages ("queryA", "queryAaaa", "queryMx"). */
function querySyscall(qtype: number): string {
  for (const [name, value] of Object.entries(RRTYPES)) {
    if (value === qtype) return `query${name[0]}${name.slice(1).toLowerCase()}`;
  }
  return 'query';
}

/** The in-addr.arpa / ip6.arpa name of an address (RFC 1035 §3.5, RFC 3596 §2.5). */
function reverseName(ip: string): string | null {
  const family = isIP(ip);
  if (family === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (family !== 6) return null;
  const bytes = parseIpv6(ip);
  if (bytes === null) return null;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--)
    nibbles.push((bytes[i] & 0xf).toString(16), (bytes[i] >> 4).toString(16));
  return `${nibbles.join('.')}.ip6.arpa`;
}

/** Cache keys: addresses and NODATA per type; NXDOMAIN is about the name, whatever the type. */
function cacheKey(qtype: number, qname: string): string {
  return `${qtype} ${qname}`;
}
const NXDOMAIN_KEY = 0;

/** A lookup result's address as 16 bytes (IPv4 mapped), for RFC 6724 ordering. */
function selectionAddress(a: LookupAddress): Uint8Array {
  if (a.family === 4) return ipv4Mapped(parseIpv4(a.address));
  return parseIpv6(a.address.split('%')[0]) ?? new Uint8Array(16);
}

/**
 * Which of two families' failures `lookup` reports: NXDOMAIN (the name does not exist, whatever
 * the type), then a server failure (the other family might have had addresses), then NODATA.
 */
function failureRank(e: DnsError): number {
  if (e.code === 'ENOTFOUND') return 2;
  return e.code === 'ENODATA' ? 0 : 1;
}

function lookupHints(h: number | undefined): number {
  if (h === undefined) return 0;
  if (!Number.isInteger(h) || (h & ~(ADDRCONFIG | V4MAPPED | ALL)) !== 0) {
    const err = new TypeError(
      `The argument 'hints' is invalid. Received ${String(h)}`,
    ) as TypeError & { code: string };
    err.code = 'ERR_INVALID_ARG_VALUE';
    throw err;
  }
  return h;
}

function lookupFamily(f: LookupOptions['family']): 0 | 4 | 6 {
  if (f === undefined || f === 0 || f === 4 || f === 6) return f ?? 0;
  if (f === 'IPv4') return 4;
  if (f === 'IPv6') return 6;
  const err = new TypeError(
    `The argument 'family' must be one of: 0, 4, 6, 'IPv4', 'IPv6'. Received ${String(f)}`,
  ) as TypeError & { code: string };
  err.code = 'ERR_INVALID_ARG_VALUE';
  throw err;
}

export class Resolver {
  private readonly clock: Clock;
  private readonly transport: DnsTransport;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly randomInt: (max: number) => number;
  private readonly cache: DnsCache;
  private readonly hosts: Map<string, LookupAddress[]>;
  private readonly selection: AddressSelection | null;
  private readonly servers = new DnsServerList();
  /** One chain walk per name and type at a time: concurrent lookups share it. */
  private readonly inflight = new Map<string, Promise<{ addresses: DnsValue[]; ttl: number }>>();
  private defaultOrder: 'ipv4first' | 'ipv6first' | 'verbatim' = 'verbatim';
  /** Finishers of exchanges in progress, so close() can end them. */
  private readonly pending = new Set<(e: Exchange) => void>();
  private closed = false;
  private readonly counters: ResolverStats = {
    queriesSent: 0,
    responsesAccepted: 0,
    ignored: {},
    unusable: {},
    timeouts: 0,
    cacheHits: 0,
    cacheMisses: 0,
  };

  /** Node's `dns.promises` API. */
  readonly promises: ResolverPromises;

  constructor(options: ResolverOptions) {
    this.clock = options.clock;
    this.transport = options.transport;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.attempts = Math.max(1, options.attempts ?? 2);
    this.randomInt = options.randomInt ?? ((max: number) => cryptoRandomInt(max));
    this.cache = new DnsCache(options.cache);
    this.selection = options.addressSelection ?? null;
    this.hosts = new Map();
    for (const [name, value] of Object.entries(
      options.hosts ?? { localhost: ['127.0.0.1', '::1'] },
    )) {
      const list = (typeof value === 'string' ? [value] : value).map((address) => {
        const family = isIP(address);
        if (family === 0) throw new TypeError(`hosts: "${address}" (${name}) is not an address`);
        return { address, family: family as 4 | 6 };
      });
      this.hosts.set(name.toLowerCase(), list);
    }
    this.setServers(options.servers ?? []);
    const values = <T>(hostname: string, rrtype: DnsRrtype) =>
      this.resolveValues(hostname, RRTYPES[rrtype]) as Promise<T>;
    this.promises = {
      lookup: (hostname, opts) => this.lookupPromise(hostname, opts),
      resolve: (hostname, rrtype = 'A') => this.resolveAny(hostname, rrtype),
      resolve4: (hostname, opts) => this.resolveType(hostname, DnsType.A, opts),
      resolve6: (hostname, opts) => this.resolveType(hostname, DnsType.AAAA, opts),
      resolveCname: (hostname) => values<string[]>(hostname, 'CNAME'),
      resolveMx: (hostname) => values<MxRecord[]>(hostname, 'MX'),
      resolveNs: (hostname) => values<string[]>(hostname, 'NS'),
      resolvePtr: (hostname) => values<string[]>(hostname, 'PTR'),
      resolveSrv: (hostname) => values<SrvRecord[]>(hostname, 'SRV'),
      resolveTxt: (hostname) => values<string[][]>(hostname, 'TXT'),
      resolveSoa: (hostname) => values<SoaRecord[]>(hostname, 'SOA').then((r) => r[0]),
      reverse: (ip) => this.reversePromise(ip),
      getServers: () => this.getServers(),
      setServers: (servers) => this.setServers(servers),
      getDefaultResultOrder: () => this.getDefaultResultOrder(),
      setDefaultResultOrder: (order) => this.setDefaultResultOrder(order),
    };
  }

  /**
   * Replaces the servers given by the user (IPv4 or IPv6), asked before any learnt from the
   * network. Throws TypeError, changing nothing, for one that is not an address.
   */
  setServers(servers: ReadonlyArray<DnsServerInput>): void {
    this.servers.setFixed(servers);
  }

  /**
   * Servers learnt from `source` (a name of the caller's: 'dhcp', 'dhcpv6', 'ra fe80::1'...),
   * replacing what that source said before, asked after the user's servers for `lifetimeMs`
   * (RDNSS and DHCPv6 lifetimes; default: until replaced). An empty list or a zero lifetime
   * withdraws them.
   */
  setSourceServers(
    source: string,
    servers: ReadonlyArray<DnsServerInput>,
    lifetimeMs = Infinity,
  ): void {
    this.servers.setSource(source, servers, lifetimeMs, this.clock.now());
  }

  /** The servers a query would ask now, in order, as text. */
  getServers(): string[] {
    return this.servers.current(this.clock.now()).map((s) => s.text);
  }

  stats(): ResolverStats {
    return {
      ...this.counters,
      ignored: { ...this.counters.ignored },
      unusable: { ...this.counters.unusable },
    };
  }

  /** Ends every query in progress with ECANCELLED; later calls fail the same way. */
  close(): void {
    this.closed = true;
    for (const finish of [...this.pending]) finish({ kind: 'cancelled' });
  }

  /**
   * Like `dns.resolve4`: the A records of `hostname`, after CNAMEs. Returns a promise, or
   * with a callback (node:dns's form) calls it instead.
   */
  resolve4(hostname: string): Promise<string[]>;
  resolve4(hostname: string, options: { ttl: true }): Promise<RecordWithTtl[]>;
  resolve4(hostname: string, options: ResolveOptions): Promise<string[] | RecordWithTtl[]>;
  resolve4(hostname: string, callback: ResolveCallback): void;
  resolve4(hostname: string, options: ResolveOptions, callback: ResolveCallback): void;
  resolve4(
    hostname: string,
    optionsOrCallback?: ResolveOptions | ResolveCallback,
    callback?: ResolveCallback,
  ): Promise<string[] | RecordWithTtl[]> | void {
    return this.resolveForm(hostname, DnsType.A, optionsOrCallback, callback);
  }

  /** Like `dns.resolve6`: the AAAA records of `hostname`, after CNAMEs (promise or callback). */
  resolve6(hostname: string): Promise<string[]>;
  resolve6(hostname: string, options: { ttl: true }): Promise<RecordWithTtl[]>;
  resolve6(hostname: string, options: ResolveOptions): Promise<string[] | RecordWithTtl[]>;
  resolve6(hostname: string, callback: ResolveCallback): void;
  resolve6(hostname: string, options: ResolveOptions, callback: ResolveCallback): void;
  resolve6(
    hostname: string,
    optionsOrCallback?: ResolveOptions | ResolveCallback,
    callback?: ResolveCallback,
  ): Promise<string[] | RecordWithTtl[]> | void {
    return this.resolveForm(hostname, DnsType.AAAA, optionsOrCallback, callback);
  }

  /** Like `dns.resolve(hostname[, rrtype], callback)`; rrtype 'A' by default. */
  resolve(hostname: string, callback: DnsCallback<DnsValue[]>): void;
  resolve(hostname: string, rrtype: DnsRrtype, callback: DnsCallback<DnsValue[] | SoaRecord>): void;
  resolve(
    hostname: string,
    rrtypeOrCallback: DnsRrtype | DnsCallback<DnsValue[]>,
    callback?: DnsCallback<DnsValue[] | SoaRecord>,
  ): void {
    const rrtype = typeof rrtypeOrCallback === 'string' ? rrtypeOrCallback : 'A';
    const cb = (typeof rrtypeOrCallback === 'function' ? rrtypeOrCallback : callback) as
      DnsCallback<DnsValue[] | SoaRecord> | undefined;
    this.callBack(this.resolveAny(hostname, rrtype), cb);
  }

  /** Like `dns.resolveCname`: the CNAME of `hostname` (the record itself, not followed). */
  resolveCname(hostname: string, callback: DnsCallback<string[]>): void {
    this.callBack(this.resolveValues(hostname, DnsType.CNAME) as Promise<string[]>, callback);
  }

  resolveMx(hostname: string, callback: DnsCallback<MxRecord[]>): void {
    this.callBack(this.resolveValues(hostname, DnsType.MX) as Promise<MxRecord[]>, callback);
  }

  resolveNs(hostname: string, callback: DnsCallback<string[]>): void {
    this.callBack(this.resolveValues(hostname, DnsType.NS) as Promise<string[]>, callback);
  }

  resolvePtr(hostname: string, callback: DnsCallback<string[]>): void {
    this.callBack(this.resolveValues(hostname, DnsType.PTR) as Promise<string[]>, callback);
  }

  resolveSrv(hostname: string, callback: DnsCallback<SrvRecord[]>): void {
    this.callBack(this.resolveValues(hostname, DnsType.SRV) as Promise<SrvRecord[]>, callback);
  }

  resolveTxt(hostname: string, callback: DnsCallback<string[][]>): void {
    this.callBack(this.resolveValues(hostname, DnsType.TXT) as Promise<string[][]>, callback);
  }

  resolveSoa(hostname: string, callback: DnsCallback<SoaRecord>): void {
    const soa = this.resolveValues(hostname, DnsType.SOA) as Promise<SoaRecord[]>;
    this.callBack(
      soa.then((r) => r[0]),
      callback,
    );
  }

  /** Like `dns.reverse`: the PTR names of an IPv4 or IPv6 address. */
  reverse(ip: string, callback: DnsCallback<string[]>): void {
    this.callBack(this.reversePromise(ip), callback);
  }

  /** As node:dns: the order `lookup` uses when its options name none. */
  setDefaultResultOrder(order: 'ipv4first' | 'ipv6first' | 'verbatim'): void {
    if (order !== 'ipv4first' && order !== 'ipv6first' && order !== 'verbatim') {
      const err = new TypeError(
        `The argument 'dnsOrder' must be one of: 'verbatim', 'ipv4first', 'ipv6first'. Received ${String(order)}`,
      ) as TypeError & { code: string };
      err.code = 'ERR_INVALID_ARG_VALUE';
      throw err;
    }
    this.defaultOrder = order;
  }

  getDefaultResultOrder(): 'ipv4first' | 'ipv6first' | 'verbatim' {
    return this.defaultOrder;
  }

  private reversePromise(ip: string): Promise<string[]> {
    const name = reverseName(ip);
    if (name === null) {
      const err = new Error(`getHostByAddr EINVAL ${ip}`) as NodeJS.ErrnoException;
      err.code = 'EINVAL';
      err.syscall = 'getHostByAddr';
      throw err;
    }
    return (this.resolveValues(name, DnsType.PTR) as Promise<string[]>).catch((e: unknown) => {
      throw e instanceof DnsError ? e.as('getHostByAddr', e.code, ip) : e;
    });
  }

  private resolveAny(hostname: string, rrtype: string): Promise<DnsValue[] | SoaRecord> {
    if (!Object.hasOwn(RRTYPES, rrtype)) {
      if (['ANY', 'CAA', 'NAPTR'].includes(rrtype)) {
        return Promise.reject(new DnsError('ENOTIMP', `query${rrtype}`, hostname, 'notimp'));
      }
      const err = new TypeError(
        `The argument 'rrtype' is invalid. Received '${rrtype}'`,
      ) as TypeError & { code: string };
      err.code = 'ERR_INVALID_ARG_VALUE';
      throw err;
    }
    const qtype = RRTYPES[rrtype as DnsRrtype];
    const found = this.resolveValues(hostname, qtype);
    return qtype === DnsType.SOA ? found.then((r) => r[0] as SoaRecord) : found;
  }

  private async resolveValues(hostname: string, qtype: number): Promise<DnsValue[]> {
    return (await this.resolveRecords(hostname, qtype, querySyscall(qtype))).addresses;
  }

  /** node's callback form of a promise: on a later tick, `(err)` or `(null, value)`. */
  private callBack<T>(result: Promise<T>, callback: DnsCallback<T> | undefined): void {
    if (typeof callback !== 'function') {
      const err = new TypeError('The "callback" argument must be of type function') as TypeError & {
        code: string;
      };
      err.code = 'ERR_INVALID_ARG_TYPE';
      throw err;
    }
    result.then(
      (value) => callback(null, value),
      (err: NodeJS.ErrnoException) => callback(err),
    );
  }

  private resolveForm(
    hostname: string,
    qtype: AddressType,
    optionsOrCallback: ResolveOptions | ResolveCallback | undefined,
    maybeCallback: ResolveCallback | undefined,
  ): Promise<string[] | RecordWithTtl[]> | void {
    const callback = typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback;
    const options = typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback;
    const result = this.resolveType(hostname, qtype, options);
    if (callback === undefined) return result;
    result.then(
      (addresses) => callback(null, addresses),
      (err: DnsError) => callback(err),
    );
  }

  private async resolveType(
    hostname: string,
    qtype: AddressType,
    options?: ResolveOptions,
  ): Promise<string[] | RecordWithTtl[]> {
    const found = await this.resolveRecords(hostname, qtype, querySyscall(qtype));
    const addresses = found.addresses as string[];
    if (options?.ttl === true) return addresses.map((address) => ({ address, ttl: found.ttl }));
    return addresses;
  }

  /** Like `dns.lookup(hostname[, options], callback)`: A and AAAA, RFC 6724 order. */
  lookup(hostname: string, callback: LookupCallback): void;
  lookup(hostname: string, options: number | LookupOptions, callback: LookupCallback): void;
  lookup(
    hostname: string,
    optionsOrCallback: number | LookupOptions | LookupCallback,
    maybeCallback?: LookupCallback,
  ): void {
    const callback = typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback;
    const options = typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback;
    if (typeof callback !== 'function') throw new TypeError('lookup: callback must be a function');
    this.lookupPromise(hostname, options).then(
      (result) => {
        if (Array.isArray(result)) callback(null, result);
        else callback(null, result.address, result.family);
      },
      // node calls back with the error alone (address and family undefined).
      (err: DnsError) => (callback as (e: Error) => void)(err),
    );
  }

  /**
   * lookup's failures as getaddrinfo reports them through node: no such name (or no address of
   * the family) is ENOTFOUND, server trouble (timeouts, SERVFAIL, refusals, bad answers) is
   * EAI_AGAIN, with libuv's errno; `reason` keeps what happened.
   */
  private lookupPromise(
    hostname: string,
    options?: number | LookupOptions,
  ): Promise<LookupAddress | LookupAddress[]> {
    // Bad options throw at once, as node's lookup validates before it starts.
    const o = typeof options === 'number' ? { family: options as 0 | 4 | 6 } : (options ?? {});
    lookupFamily(o.family);
    lookupHints(o.hints);
    return this.lookupAddresses(hostname, options).catch((e: unknown) => {
      if (!(e instanceof DnsError) || e.code === 'ECANCELLED' || e.code === 'EBADNAME') throw e;
      const notFound = e.code === 'ENOTFOUND' || e.code === 'ENODATA';
      const err = e.as('getaddrinfo', notFound ? 'ENOTFOUND' : 'EAI_AGAIN');
      err.errno = notFound ? -3008 : -3001;
      throw err;
    });
  }

  private async lookupAddresses(
    hostname: string,
    options?: number | LookupOptions,
  ): Promise<LookupAddress | LookupAddress[]> {
    const o: LookupOptions =
      typeof options === 'number' ? { family: options as 0 | 4 | 6 } : (options ?? {});
    let family = lookupFamily(o.family);
    const hints = lookupHints(o.hints);
    const order =
      o.order ??
      (o.verbatim === false ? 'ipv4first' : o.verbatim === true ? 'verbatim' : this.defaultOrder);
    const wrap = (list: LookupAddress[]): LookupAddress | LookupAddress[] => {
      const ordered =
        order === 'verbatim'
          ? list
          : [
              ...list.filter((a) => a.family === (order === 'ipv4first' ? 4 : 6)),
              ...list.filter((a) => a.family !== (order === 'ipv4first' ? 4 : 6)),
            ];
      return o.all === true ? ordered : ordered[0];
    };
    // A literal is its own answer, whatever the family asked for (as node:dns does).
    const literal = isIP(hostname);
    if (literal !== 0) return wrap([{ address: hostname, family: literal as 4 | 6 }]);
    // Static names answer at once and never go to DNS (RFC 6761 §6.3 for localhost).
    const fixed = this.hosts.get(hostname.toLowerCase().replace(/\.$/, ''));
    if (fixed !== undefined) {
      const matching = fixed.filter((a) => family === 0 || a.family === family);
      if (matching.length === 0) throw new DnsError('ENOTFOUND', 'getaddrinfo', hostname, 'nodata');
      return wrap(matching);
    }
    const selection = this.selection;
    if ((hints & ADDRCONFIG) !== 0 && selection !== null && family === 0) {
      // Only the families we could use; with neither configured, both (as glibc does).
      const have = selection.configured();
      if (have.ipv4 !== have.ipv6) family = have.ipv4 ? 4 : 6;
    }
    const mapped = family === 6 && (hints & V4MAPPED) !== 0;
    const types: AddressType[] =
      family === 4
        ? [DnsType.A]
        : family === 6 && !mapped
          ? [DnsType.AAAA]
          : [DnsType.A, DnsType.AAAA];
    // Both families at once (as getaddrinfo with AF_UNSPEC): one round trip, not two.
    const results = await Promise.allSettled(
      types.map((t) => this.resolveRecords(hostname, t, 'getaddrinfo')),
    );
    const found: LookupAddress[] = [];
    let failure: DnsError | null = null;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (r.status === 'fulfilled') {
        const f = types[i] === DnsType.A ? 4 : 6;
        for (const address of r.value.addresses as string[]) found.push({ address, family: f });
        continue;
      }
      const err = r.reason as unknown;
      if (!(err instanceof DnsError)) throw err;
      if (failure === null || failureRank(err) > failureRank(failure)) failure = err;
    }
    if (failure === null) failure = new DnsError('ENOTFOUND', 'getaddrinfo', hostname, 'nodata');
    // getaddrinfo does not tell NXDOMAIN from NODATA: both are ENOTFOUND.
    let list = found;
    if (mapped) {
      // IPv4 answers as ::ffff:a.b.c.d: instead of missing IPv6 ones, or beside them with ALL.
      const v6 = found.filter((a) => a.family === 6);
      const v4 = found.filter((a) => a.family === 4);
      list =
        v6.length > 0 && (hints & ALL) === 0
          ? v6
          : [...v6, ...v4.map((a) => ({ address: `::ffff:${a.address}`, family: 6 as const }))];
    }
    if (list.length === 0) {
      throw failure.code === 'ENODATA' ? failure.as('getaddrinfo', 'ENOTFOUND') : failure;
    }
    return wrap(selection === null ? list : sortDestinations(list, selectionAddress, selection));
  }

  /** Addresses of type `qtype` for `hostname`, from the cache or the network; throws DnsError. */
  private async resolveRecords(
    hostname: string,
    qtype: number,
    syscall: string,
  ): Promise<{ addresses: DnsValue[]; ttl: number }> {
    const fail = (code: DnsErrorCode, reason: DnsErrorReason): never => {
      throw new DnsError(code, syscall, hostname, reason);
    };
    if (this.closed) fail('ECANCELLED', 'cancelled');
    const qname = canonicalName(hostname);
    if (qname === null) return fail('EBADNAME', 'invalid-hostname');
    const now = this.clock.now();
    const key = cacheKey(qtype, qname);
    const hit = this.cache.get(key, now) ?? this.cache.get(cacheKey(NXDOMAIN_KEY, qname), now);
    if (hit !== undefined) {
      this.counters.cacheHits++;
      if (hit.kind === 'negative') fail(hit.code, hit.code === 'ENOTFOUND' ? 'nxdomain' : 'nodata');
      else return { addresses: hit.addresses, ttl: Math.ceil((hit.expiresAt - now) / 1000) };
    }
    this.counters.cacheMisses++;
    let walk = this.inflight.get(key);
    if (walk === undefined) {
      walk = this.walkChain(qname, qtype).finally(() => this.inflight.delete(key));
      this.inflight.set(key, walk);
    }
    try {
      return await walk;
    } catch (err) {
      // The walk may be shared with callers who spelled the name differently, or lookup.
      if (err instanceof DnsError) throw err.as(syscall, err.code, hostname);
      throw err;
    }
  }

  /** Asks for `qname`, then for CNAME targets the answers leave open, within the hop limit. */
  private async walkChain(
    qname: string,
    qtype: number,
  ): Promise<{ addresses: DnsValue[]; ttl: number }> {
    const syscall = querySyscall(qtype);
    const seen = new Set([qname]);
    let name = qname;
    let hopsLeft = MAX_CNAME_CHAIN;
    let chainTtl = Infinity;
    while (true) {
      const { response, server } = await this.ask(qname, name, qtype);
      const outcome = interpretAnswer(response, name, qtype, seen, hopsLeft);
      const now = this.clock.now();
      switch (outcome.kind) {
        case 'addresses': {
          const ttl = Math.min(chainTtl, outcome.ttl);
          this.cache.setAddresses(cacheKey(qtype, qname), outcome.addresses, ttl, now);
          return { addresses: outcome.addresses, ttl };
        }
        case 'negative': {
          const key = cacheKey(outcome.code === 'ENOTFOUND' ? NXDOMAIN_KEY : qtype, qname);
          this.cache.setNegative(key, outcome.code, Math.min(chainTtl, outcome.negativeTtl), now);
          throw new DnsError(
            outcome.code,
            syscall,
            qname,
            outcome.code === 'ENOTFOUND' ? 'nxdomain' : 'nodata',
            server.text,
          );
        }
        case 'failure':
          throw new DnsError(outcome.code, syscall, qname, outcome.reason, server.text);
        case 'follow':
          for (const n of outcome.names) seen.add(n);
          hopsLeft -= outcome.names.length;
          chainTtl = Math.min(chainTtl, outcome.ttl);
          name = outcome.target;
      }
    }
  }

  /**
   * One question, tried across the servers per the schedule until a usable answer. Server
   * failures (SERVFAIL, REFUSED...) and unusable responses move on to the next try; the last
   * failure is what the caller sees. A truncated answer ends the query at once: there is no
   * DNS over TCP here (EBADRESP, reason 'truncated').
   */
  private async ask(
    hostname: string,
    name: string,
    qtype: number,
  ): Promise<{ response: DnsResponse; server: DnsServerAddress }> {
    const syscall = querySyscall(qtype);
    const servers = this.servers.current(this.clock.now());
    if (servers.length === 0) throw new DnsError('ECONNREFUSED', syscall, hostname, 'no-servers');
    let last = new DnsError('ETIMEOUT', syscall, hostname, 'timeout');
    for (const t of trySchedule(servers.length, this.attempts, this.timeoutMs)) {
      const server = servers[t.server];
      const s = server.text;
      const result = await this.exchange(server, name, qtype, t.timeoutMs);
      if (result.kind === 'cancelled')
        throw new DnsError('ECANCELLED', syscall, hostname, 'cancelled');
      if (result.kind === 'timeout') {
        this.counters.timeouts++;
        last = new DnsError('ETIMEOUT', syscall, hostname, 'timeout', s);
        continue;
      }
      if (result.kind === 'no-port') {
        last = new DnsError('ECONNREFUSED', syscall, hostname, 'no-local-port', s);
        continue;
      }
      if (result.kind === 'unreachable') {
        last = new DnsError('ECONNREFUSED', syscall, hostname, 'port-unreachable', s);
        continue;
      }
      const r = result.response;
      if (typeof r === 'string') {
        this.unusable(r);
        last = new DnsError('EBADRESP', syscall, hostname, r, s);
        continue;
      }
      if (r.truncated) {
        this.unusable('truncated');
        throw new DnsError('EBADRESP', syscall, hostname, 'truncated', s);
      }
      if (r.rcode !== DnsRcode.NoError && r.rcode !== DnsRcode.NXDomain) {
        const f = rcodeFailure(r.rcode);
        last = new DnsError(f.code, syscall, hostname, f.reason, s);
        continue;
      }
      return { response: r, server };
    }
    throw last;
  }

  /** Sends one query from a fresh random port and waits for its answer or the timeout. */
  private exchange(
    server: DnsServerAddress,
    qname: string,
    qtype: number,
    timeoutMs: number,
  ): Promise<Exchange> {
    if (this.closed) return Promise.resolve({ kind: 'cancelled' });
    const id = this.randomInt(0x10000);
    return new Promise<Exchange>((resolve) => {
      let done = false;
      let socket: DnsSocket | null = null;
      const finish = (e: Exchange): void => {
        if (done) return;
        done = true;
        timer.cancel();
        this.pending.delete(finish);
        socket?.close();
        resolve(e);
      };
      const handler: DnsSocketHandler = {
        message: (bytes, offset, length, from, port) => {
          if (done) return;
          if (!isServer(server, from) || port !== server.port) return this.ignore('wrong_source');
          const msg =
            offset === 0 && length === bytes.length
              ? bytes
              : bytes.subarray(offset, offset + length);
          const answersAt = matchResponse(msg, length, id, qname, qtype);
          if (typeof answersAt === 'string') return this.ignore(answersAt);
          this.counters.responsesAccepted++;
          finish({ kind: 'response', response: parseResponse(msg, length, qtype) });
        },
        unreachable: (to, port) => {
          if (isServer(server, to) && port === server.port) finish({ kind: 'unreachable' });
        },
      };
      const timer = this.clock.setTimer(timeoutMs, () => finish({ kind: 'timeout' }));
      this.pending.add(finish);
      // A random port; if it is taken (another query, another service), draw again.
      for (let tries = 0; tries < 16 && socket === null; tries++) {
        const port = EPHEMERAL_FIRST + this.randomInt(EPHEMERAL_COUNT);
        socket = this.transport.open(port, server.family, handler);
      }
      if (socket === null) return finish({ kind: 'no-port' });
      this.counters.queriesSent++;
      socket.send(buildQuery(id, qname, qtype), server, server.port);
    });
  }

  private ignore(reason: DnsMismatch | 'wrong_source'): void {
    const i = this.counters.ignored;
    i[reason] = (i[reason] ?? 0) + 1;
  }

  private unusable(reason: DnsParseFailure): void {
    const u = this.counters.unusable;
    u[reason] = (u[reason] ?? 0) + 1;
  }
}
