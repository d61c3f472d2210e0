/**
 * A stub resolver for A records over any UDP transport (the user-space stack's sockets in
 * production, an in-memory fake in tests), with Node-compatible `resolve4` and `lookup`.
 *
 * Each try uses a fresh random query id and a fresh random source port (RFC 5452), and only a
 * datagram from the queried server's address and port 53, carrying our id and our exact
 * question, is taken as the answer; anything else is counted and ignored. Timers come from the
 * injected Clock, randomness from an injected source (crypto by default).
 */
import { randomInt as cryptoRandomInt } from 'node:crypto';
import { isIP } from 'node:net';
import type { Clock } from '../clock/clock.js';
import { interpretA, MAX_CNAME_CHAIN, rcodeFailure } from './answer.js';
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
} from './message.js';
import { canonicalName } from './name.js';
import { EPHEMERAL_COUNT, EPHEMERAL_FIRST, trySchedule } from './policy.js';

export const DNS_PORT = 53;

/** A UDP socket bound to one local port. */
export interface DnsSocket {
  send(bytes: Uint8Array, address: number, port: number): void;
  close(): void;
}

export interface DnsSocketHandler {
  /** A datagram arrived (bytes valid only during the call). */
  message(bytes: Uint8Array, offset: number, length: number, address: number, port: number): void;
  /** An ICMP port unreachable came back for something we sent to `address`:`port`. */
  unreachable(address: number, port: number): void;
}

export interface DnsTransport {
  /** Binds a UDP socket to local `port`; null when that port is already in use. */
  open(port: number, handler: DnsSocketHandler): DnsSocket | null;
}

export interface ResolverOptions {
  clock: Clock;
  transport: DnsTransport;
  /** Servers as dotted quads or 32-bit numbers. */
  servers?: ReadonlyArray<string | number>;
  /** Wait for the first round's tries (doubled each round). Default 2000 ms. */
  timeoutMs?: number;
  /** Rounds over the server list. Default 2. */
  attempts?: number;
  /** Uniform integer in [0, max); default crypto.randomInt. Injected for deterministic tests. */
  randomInt?: (max: number) => number;
  cache?: DnsCacheOptions;
  /** Static names answered without asking (like /etc/hosts). Default: localhost → 127.0.0.1. */
  hosts?: Readonly<Record<string, string>>;
}

export interface LookupAddress {
  address: string;
  family: 4 | 6;
}

export interface LookupOptions {
  family?: 0 | 4 | 6 | 'IPv4' | 'IPv6';
  all?: boolean;
  hints?: number;
  verbatim?: boolean;
  order?: 'ipv4first' | 'ipv6first' | 'verbatim';
}

export type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export interface ResolverStats {
  queriesSent: number;
  responsesAccepted: number;
  /** Datagrams that did not answer our query (spoofed, stale, wrong question...). */
  ignored: Partial<Record<DnsMismatch | 'wrong_source', number>>;
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

function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function parseIpv4(s: string): number {
  if (isIP(s) !== 4) throw new TypeError(`not an IPv4 address: ${s}`);
  const p = s.split('.').map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

export class Resolver {
  private readonly clock: Clock;
  private readonly transport: DnsTransport;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly randomInt: (max: number) => number;
  private readonly cache: DnsCache;
  private readonly hosts: Map<string, string>;
  private servers: number[] = [];
  /** One chain walk per name at a time: concurrent lookups of a name share it. */
  private readonly inflight = new Map<string, Promise<{ addresses: number[]; ttl: number }>>();
  /** Finishers of exchanges in progress, so close() can end them. */
  private readonly pending = new Set<(e: Exchange) => void>();
  private closed = false;
  private readonly counters: ResolverStats = {
    queriesSent: 0,
    responsesAccepted: 0,
    ignored: {},
    timeouts: 0,
    cacheHits: 0,
    cacheMisses: 0,
  };

  /** Node's `dns.promises`-style API. */
  readonly promises: {
    lookup(
      hostname: string,
      options?: number | LookupOptions,
    ): Promise<LookupAddress | LookupAddress[]>;
    resolve4(hostname: string): Promise<string[]>;
  };

  constructor(options: ResolverOptions) {
    this.clock = options.clock;
    this.transport = options.transport;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.attempts = Math.max(1, options.attempts ?? 2);
    this.randomInt = options.randomInt ?? ((max: number) => cryptoRandomInt(max));
    this.cache = new DnsCache(options.cache);
    this.hosts = new Map(Object.entries(options.hosts ?? { localhost: '127.0.0.1' }));
    this.setServers(options.servers ?? []);
    this.promises = {
      lookup: (hostname, opts) => this.lookupPromise(hostname, opts),
      resolve4: (hostname) => this.resolve4(hostname),
    };
  }

  /** Replaces the server list (e.g. from a DHCP lease). Clears nothing else. */
  setServers(servers: ReadonlyArray<string | number>): void {
    this.servers = servers.map((s) => (typeof s === 'number' ? s >>> 0 : parseIpv4(s)));
  }

  getServers(): string[] {
    return this.servers.map(formatIpv4);
  }

  stats(): ResolverStats {
    return { ...this.counters, ignored: { ...this.counters.ignored } };
  }

  /** Ends every query in progress with ECANCELLED; later calls fail the same way. */
  close(): void {
    this.closed = true;
    for (const finish of [...this.pending]) finish({ kind: 'cancelled' });
  }

  /** Like `dns.promises.resolve4`: the A records of `hostname`, after CNAMEs. */
  resolve4(hostname: string): Promise<string[]>;
  resolve4(
    hostname: string,
    options: { ttl: true },
  ): Promise<Array<{ address: string; ttl: number }>>;
  async resolve4(
    hostname: string,
    options?: { ttl?: boolean },
  ): Promise<string[] | Array<{ address: string; ttl: number }>> {
    const { addresses, ttl } = await this.resolveA(hostname, 'queryA');
    if (options?.ttl === true) return addresses.map((a) => ({ address: formatIpv4(a), ttl }));
    return addresses.map(formatIpv4);
  }

  /** Like `dns.lookup(hostname[, options], callback)`; IPv4 only. */
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
    const all = typeof options === 'object' && options.all === true;
    this.lookupPromise(hostname, options).then(
      (result) => {
        if (Array.isArray(result)) callback(null, result);
        else callback(null, result.address, result.family);
      },
      (err: DnsError) => callback(err, all ? [] : '', undefined),
    );
  }

  private async lookupPromise(
    hostname: string,
    options?: number | LookupOptions,
  ): Promise<LookupAddress | LookupAddress[]> {
    const o: LookupOptions =
      typeof options === 'number' ? { family: options as 0 | 4 | 6 } : (options ?? {});
    const family = o.family === 'IPv4' ? 4 : o.family === 'IPv6' ? 6 : (o.family ?? 0);
    const wrap = (list: LookupAddress[]): LookupAddress | LookupAddress[] =>
      o.all === true ? list : list[0];
    // Literals and static names answer at once, like getaddrinfo.
    const literal = isIP(hostname);
    if (literal !== 0 && (family === 0 || family === literal)) {
      return wrap([{ address: hostname, family: literal as 4 | 6 }]);
    }
    const fixed = this.hosts.get(hostname.toLowerCase());
    if (fixed !== undefined && family !== 6) return wrap([{ address: fixed, family: 4 }]);
    if (family === 6 || literal !== 0) {
      throw new DnsError('ENOTFOUND', 'getaddrinfo', hostname, 'unsupported-family');
    }
    try {
      const { addresses } = await this.resolveA(hostname, 'getaddrinfo');
      return wrap(addresses.map((a) => ({ address: formatIpv4(a), family: 4 as const })));
    } catch (err) {
      // getaddrinfo does not tell NXDOMAIN from NODATA: both are ENOTFOUND.
      if (err instanceof DnsError && err.code === 'ENODATA')
        throw err.as('getaddrinfo', 'ENOTFOUND');
      throw err;
    }
  }

  /** Addresses for `hostname` from the cache or the network; throws DnsError. */
  private async resolveA(
    hostname: string,
    syscall: string,
  ): Promise<{ addresses: number[]; ttl: number }> {
    const fail = (code: DnsErrorCode, reason: DnsErrorReason, server?: number): never => {
      throw new DnsError(
        code,
        syscall,
        hostname,
        reason,
        server === undefined ? undefined : formatIpv4(server),
      );
    };
    if (this.closed) fail('ECANCELLED', 'cancelled');
    const qname = canonicalName(hostname);
    if (qname === null) return fail('EBADNAME', 'invalid-hostname');
    const now = this.clock.now();
    const hit = this.cache.get(qname, now);
    if (hit !== undefined) {
      this.counters.cacheHits++;
      if (hit.kind === 'negative') fail(hit.code, hit.code === 'ENOTFOUND' ? 'nxdomain' : 'nodata');
      else return { addresses: hit.addresses, ttl: Math.ceil((hit.expiresAt - now) / 1000) };
    }
    this.counters.cacheMisses++;
    let walk = this.inflight.get(qname);
    if (walk === undefined) {
      walk = this.walkChain(qname).finally(() => this.inflight.delete(qname));
      this.inflight.set(qname, walk);
    }
    try {
      return await walk;
    } catch (err) {
      // The walk may be shared with callers who spelled the name differently.
      if (err instanceof DnsError) throw err.as(syscall, err.code, hostname);
      throw err;
    }
  }

  /** Asks for `qname`, then for CNAME targets the answers leave open, within the hop limit. */
  private async walkChain(qname: string): Promise<{ addresses: number[]; ttl: number }> {
    const seen = new Set([qname]);
    let name = qname;
    let hopsLeft = MAX_CNAME_CHAIN;
    let chainTtl = Infinity;
    while (true) {
      const { response, server } = await this.ask(qname, name);
      const outcome = interpretA(response, name, seen, hopsLeft);
      const now = this.clock.now();
      switch (outcome.kind) {
        case 'addresses': {
          const ttl = Math.min(chainTtl, outcome.ttl);
          this.cache.setAddresses(qname, outcome.addresses, ttl, now);
          return { addresses: outcome.addresses, ttl };
        }
        case 'negative': {
          this.cache.setNegative(qname, outcome.code, Math.min(chainTtl, outcome.negativeTtl), now);
          throw new DnsError(
            outcome.code,
            'queryA',
            qname,
            outcome.code === 'ENOTFOUND' ? 'nxdomain' : 'nodata',
            formatIpv4(server),
          );
        }
        case 'failure':
          throw new DnsError(outcome.code, 'queryA', qname, outcome.reason, formatIpv4(server));
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
   * failure is what the caller sees. A truncated answer ends the query at once.
   */
  private async ask(
    hostname: string,
    name: string,
  ): Promise<{ response: DnsResponse; server: number }> {
    const servers = this.servers;
    if (servers.length === 0) throw new DnsError('ECONNREFUSED', 'queryA', hostname, 'no-servers');
    let last = new DnsError('ETIMEOUT', 'queryA', hostname, 'timeout');
    for (const t of trySchedule(servers.length, this.attempts, this.timeoutMs)) {
      const server = servers[t.server];
      const s = formatIpv4(server);
      const result = await this.exchange(server, name, t.timeoutMs);
      if (result.kind === 'cancelled')
        throw new DnsError('ECANCELLED', 'queryA', hostname, 'cancelled');
      if (result.kind === 'timeout') {
        this.counters.timeouts++;
        last = new DnsError('ETIMEOUT', 'queryA', hostname, 'timeout', s);
        continue;
      }
      if (result.kind === 'no-port') {
        last = new DnsError('ECONNREFUSED', 'queryA', hostname, 'no-local-port', s);
        continue;
      }
      if (result.kind === 'unreachable') {
        last = new DnsError('ECONNREFUSED', 'queryA', hostname, 'port-unreachable', s);
        continue;
      }
      const r = result.response;
      if (typeof r === 'string') {
        last = new DnsError('EBADRESP', 'queryA', hostname, r, s);
        continue;
      }
      if (r.truncated) throw new DnsError('EBADRESP', 'queryA', hostname, 'truncated', s);
      if (r.rcode !== DnsRcode.NoError && r.rcode !== DnsRcode.NXDomain) {
        const f = rcodeFailure(r.rcode);
        last = new DnsError(f.code, 'queryA', hostname, f.reason, s);
        continue;
      }
      return { response: r, server };
    }
    throw last;
  }

  /** Sends one query from a fresh random port and waits for its answer or the timeout. */
  private exchange(server: number, qname: string, timeoutMs: number): Promise<Exchange> {
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
        message: (bytes, offset, length, address, port) => {
          if (done) return;
          if (address !== server || port !== DNS_PORT) return this.ignore('wrong_source');
          const msg =
            offset === 0 && length === bytes.length
              ? bytes
              : bytes.subarray(offset, offset + length);
          const answersAt = matchResponse(msg, length, id, qname, DnsType.A);
          if (typeof answersAt === 'string') return this.ignore(answersAt);
          this.counters.responsesAccepted++;
          finish({ kind: 'response', response: parseResponse(msg, length) });
        },
        unreachable: (address, port) => {
          if (address === server && port === DNS_PORT) finish({ kind: 'unreachable' });
        },
      };
      const timer = this.clock.setTimer(timeoutMs, () => finish({ kind: 'timeout' }));
      this.pending.add(finish);
      // A random port; if it is taken (another query, another service), draw again.
      for (let tries = 0; tries < 16 && socket === null; tries++) {
        socket = this.transport.open(EPHEMERAL_FIRST + this.randomInt(EPHEMERAL_COUNT), handler);
      }
      if (socket === null) return finish({ kind: 'no-port' });
      this.counters.queriesSent++;
      socket.send(buildQuery(id, qname, DnsType.A), server, DNS_PORT);
    });
  }

  private ignore(reason: DnsMismatch | 'wrong_source'): void {
    const i = this.counters.ignored;
    i[reason] = (i[reason] ?? 0) + 1;
  }
}
