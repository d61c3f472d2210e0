/**
 * An `http.Agent` whose connections are TCP connections of the user-space stack, so
 * `http.request(url, { agent })` (and anything built on it) goes out through the TAP. Pooling,
 * keep-alive and socket reuse are the Agent's own. Host names are resolved with `lookup`, in
 * dns.lookup's shape as node:net's `lookup` option (`stack.dns.lookup`, or node's own
 * `dns.lookup`); a connect timeout covers ARP + SYN retries, which Node's request `timeout`
 * does not (it starts only once connected).
 */
import http from 'node:http';
import { isIP, type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TimerHandle } from '../clock/clock.js';
import type { Stack } from '../stack.js';
import { TcpSocketError } from '../tcp/index.js';
import { tcpOf } from './tcp.js';

/** dns.lookup's shape (node:net's `lookup` option): `stack.dns.lookup` fits, as does node's. */
export type StackLookup = LookupFunction;

export interface StackAgentOptions extends http.AgentOptions {
  /** Resolves a host name (dns.lookup's shape). Without it only IP addresses work. */
  lookup?: StackLookup;
  /** Give up a connection not established after this long (ms; default 10000, 0 = never). */
  connectTimeoutMs?: number;
}

/** The error a host name without a `lookup` fails with. */
export class NoResolverError extends Error {
  readonly code = 'ENOTFOUND';
  constructor(readonly hostname: string) {
    super(`getaddrinfo ENOTFOUND ${hostname} (no DNS resolver configured)`);
    this.name = 'Error';
  }
}

type CreateCallback = (err: Error | null, stream: Duplex) => void;

export class StackAgent extends http.Agent {
  private readonly lookup: StackLookup | undefined;
  private readonly connectTimeoutMs: number;

  constructor(
    private readonly stack: Stack,
    options: StackAgentOptions = {},
  ) {
    const { lookup, connectTimeoutMs, ...agentOptions } = options;
    super(agentOptions);
    this.lookup = lookup;
    this.connectTimeoutMs = connectTimeoutMs ?? 10_000;
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: CreateCallback,
  ): Duplex | null | undefined {
    // URL hosts keep IPv6 literals in brackets ("[fd00::1]"); node:http passes them bare.
    const named = options.hostname ?? options.host ?? 'localhost';
    const host = named.startsWith('[') && named.endsWith(']') ? named.slice(1, -1) : named;
    const port = Number(options.port ?? 80);
    // When nothing is returned, the Agent waits for `callback` (and reports an error given to
    // it on the request, like a failed connect).
    const fail = (error: Error): void => {
      // Node's Agent only reads the error when one is given; the stream argument is unused.
      (callback as (err: Error | null) => void)(error);
    };
    if (isIP(host) !== 0) {
      try {
        return this.connect(host, port);
      } catch (error) {
        // e.g. EADDRINUSE: no free local port.
        queueMicrotask(() => fail(error as Error));
        return undefined;
      }
    }
    if (this.lookup === undefined) {
      queueMicrotask(() => fail(new NoResolverError(host)));
      return undefined;
    }
    const family = typeof options.family === 'number' ? options.family : 0;
    this.lookup(host, { family }, (err, found) => {
      if (err !== null) {
        fail(err);
        return;
      }
      const address = typeof found === 'string' ? found : found[0]?.address;
      if (address === undefined) {
        fail(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
        return;
      }
      try {
        callback?.(null, this.connect(address, port));
      } catch (error) {
        fail(error as Error);
      }
    });
    return undefined;
  }

  private connect(address: string, port: number): Duplex {
    const socket = tcpOf(this.stack).connect({ host: address, port });
    if (this.connectTimeoutMs > 0) {
      const timer: TimerHandle = this.stack.clock.setTimer(this.connectTimeoutMs, () => {
        if (socket.connecting && !socket.destroyed) {
          socket.destroy(new TcpSocketError('ETIMEDOUT', 'connect', address, port));
        }
      });
      socket.once('connect', () => timer.cancel());
      socket.once('close', () => timer.cancel());
    }
    return socket;
  }
}
