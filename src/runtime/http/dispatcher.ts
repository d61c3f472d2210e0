/**
 * `fetch` through the user-space stack: an undici Agent whose every connection is a socket of
 * `stack.net` (TLS over it with node:tls for https), so `fetch(url, { dispatcher })` from
 * undici, and `stack.http.fetch(url)`, go out through the stack's link and nowhere else.
 * Pooling, keep-alive, pipelining and redirects stay undici's. Host names resolve through the
 * stack's resolver unless a `lookup` is given (dns.lookup's shape).
 *
 * Node 20's global `fetch` bundles its own undici: hand it this dispatcher only where the two
 * versions agree; `stack.http.fetch` and undici's `fetch` always do.
 */
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { Agent, fetch as undiciFetch, type Dispatcher, type buildConnector } from 'undici';
import type { Stack } from '../stack.js';
import type { NetLookupFunction } from '../net/net.js';

export interface StackDispatcherOptions {
  /** Resolves host names (dns.lookup's shape); default: the stack's resolver. */
  lookup?: NetLookupFunction;
  /** Give up a connection not established (TLS included) after this long, ms; default 10000. */
  connectTimeoutMs?: number;
  /** For https: CA certificates to trust instead of Node's bundled ones (PEM). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** For https: accept a certificate that does not verify (default true: verify). */
  rejectUnauthorized?: boolean;
  /** Idle keep-alive time of pooled connections, ms (undici's keepAliveTimeout; default 4000). */
  keepAliveTimeoutMs?: number;
  /** Most connections per origin (default: no limit, as undici). */
  connections?: number;
}

/** An undici dispatcher whose connections are the stack's TCP connections. */
export function createStackDispatcher(
  stack: Stack,
  options: StackDispatcherOptions = {},
): Dispatcher {
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const connect: buildConnector.connector = (opts, callback) => {
    // URL hosts keep IPv6 literals in brackets; the stack's connect takes them bare.
    const named = opts.hostname;
    const host = named.startsWith('[') && named.endsWith(']') ? named.slice(1, -1) : named;
    const secure = opts.protocol === 'https:';
    const port = Number(opts.port !== '' ? opts.port : secure ? 443 : 80);
    // The first of connected, failed or timed out answers undici; the others are ignored.
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      clearTimeout(timer);
      return true;
    };
    const fail = (error: Error): void => {
      if (finish()) callback(error, null);
    };
    const succeed = (socket: Socket): void => {
      if (finish()) callback(null, socket);
    };
    const tcp = stack.net.connect({ host, port, lookup: options.lookup });
    const timer = setTimeout(() => {
      const error = Object.assign(new Error(`connect ETIMEDOUT ${host}:${port}`), {
        code: 'UND_ERR_CONNECT_TIMEOUT',
      });
      tcp.destroy();
      fail(error);
    }, timeoutMs);
    tcp.once('error', fail);
    if (!secure) {
      // undici drives the stack's socket through the net.Socket surface it shares with node:net.
      tcp.once('connect', () => succeed(tcp as unknown as Socket));
      return;
    }
    const secured = tls.connect({
      socket: tcp as unknown as Socket,
      servername: opts.servername ?? (host.includes(':') ? undefined : host),
      ALPNProtocols: ['http/1.1'],
      ca: options.ca,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
    });
    secured.once('error', fail);
    secured.once('secureConnect', () => succeed(secured));
  };
  return new Agent({
    connect,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    connections: options.connections,
  });
}

/** `stack.http`: fetch and an undici dispatcher through this stack. */
export class StackHttp {
  private shared: Dispatcher | null = null;

  constructor(private readonly stack: Stack) {}

  /** The stack's undici dispatcher, made on first use: `fetch(url, { dispatcher })`. */
  get dispatcher(): Dispatcher {
    this.shared ??= createStackDispatcher(this.stack);
    return this.shared;
  }

  /** A dispatcher with its own options (its own pool). */
  createDispatcher(options: StackDispatcherOptions = {}): Dispatcher {
    return createStackDispatcher(this.stack, options);
  }

  /** WHATWG fetch through the stack (undici's, with the stack's dispatcher unless given one). */
  fetch(
    input: Parameters<typeof undiciFetch>[0],
    init: Parameters<typeof undiciFetch>[1] = {},
  ): ReturnType<typeof undiciFetch> {
    return undiciFetch(input, { ...init, dispatcher: init.dispatcher ?? this.dispatcher });
  }

  /** Closes the shared dispatcher's pooled connections once requests in flight are done. */
  async close(): Promise<void> {
    const d = this.shared;
    this.shared = null;
    if (d !== null) await d.close();
  }

  /** Destroys the shared dispatcher: requests in flight fail (the stack is closing). */
  async destroy(): Promise<void> {
    const d = this.shared;
    this.shared = null;
    if (d !== null) await d.destroy();
  }
}
