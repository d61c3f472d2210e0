/**
 * `fetchOverStack(stack, url)`: one HTTP/1.1 request through the user-space stack with
 * `http.request` and a StackAgent, resolving to the response (an `http.IncomingMessage`, body
 * not yet read) or rejecting with a FetchError whose `code` says what failed: ENOTFOUND (name),
 * ECONNREFUSED, ETIMEDOUT (connect or idle), ECONNRESET, EPROTO (bad URL / unsupported scheme),
 * or an HPE_* code from node's HTTP parser.
 */
import http from 'node:http';
import type { Stack } from '../stack.js';
import { StackAgent, type StackLookup } from './agent.js';

export interface FetchOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Uint8Array;
  /** Resolves host names, in dns.lookup's shape (`stack.dns.lookup`). */
  lookup?: StackLookup;
  /** Connection establishment limit, ms (default 10000). */
  connectTimeoutMs?: number;
  /** No bytes for this long once connected fails the request, ms (default 30000; 0 = none). */
  idleTimeoutMs?: number;
  /** Reuse an agent (keep-alive across calls); by default a one-shot agent is made. */
  agent?: StackAgent;
}

export class FetchError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FetchError';
  }
}

function describe(code: string, url: URL, error: Error): string {
  const where = `${url.hostname}:${url.port || '80'}`;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `could not resolve host ${url.hostname}`;
    case 'ECONNREFUSED':
      return `connection refused by ${where}`;
    case 'ETIMEDOUT':
    case 'ETIMEOUT':
      return `timed out talking to ${where}`;
    case 'ECONNRESET':
      return `connection reset by ${where}`;
    default:
      return `${error.message} (${where})`;
  }
}

/** Wraps whatever failed (DNS, TCP, parser) as a FetchError with its code. */
export function toFetchError(error: unknown, url: URL): FetchError {
  if (error instanceof FetchError) return error;
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  const c = typeof code === 'string' ? code : 'EUNKNOWN';
  return new FetchError(c, describe(c, url, e), url.href, { cause: e });
}

export function fetchOverStack(
  stack: Stack,
  url: string | URL,
  options: FetchOptions = {},
): Promise<http.IncomingMessage> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new FetchError('EPROTO', `not a URL: ${String(url)}`, String(url)));
  }
  if (target.protocol !== 'http:') {
    const msg = `${target.protocol} is not supported (plain http:// only)`;
    return Promise.reject(new FetchError('EPROTO', msg, target.href));
  }
  const ownAgent = options.agent === undefined;
  const agent =
    options.agent ??
    new StackAgent(stack, {
      lookup: options.lookup,
      connectTimeoutMs: options.connectTimeoutMs,
    });
  const idle = options.idleTimeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const req = http.request(target, {
      agent,
      method: options.method ?? 'GET',
      headers: { 'user-agent': 'pktstack', ...options.headers },
    });
    const fail = (error: unknown): void => {
      if (ownAgent) agent.destroy();
      reject(toFetchError(error, target));
    };
    req.once('error', fail);
    if (idle > 0) {
      req.setTimeout(idle, () => {
        req.destroy(Object.assign(new Error('idle timeout'), { code: 'ETIMEDOUT' }));
      });
    }
    req.once('response', (res) => {
      req.off('error', fail);
      // Errors after the headers (reset mid-body, idle timeout) surface on the response.
      req.on('error', (error) => res.destroy(toFetchError(error, target)));
      if (ownAgent) res.once('close', () => agent.destroy());
      resolve(res);
    });
    req.end(options.body);
  });
}

/** Reads a whole response body (at most `limit` bytes, else rejects with E2BIG). */
export async function readBody(
  res: http.IncomingMessage,
  limit = 64 * 1024 * 1024,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > limit) {
      res.destroy();
      throw new FetchError('E2BIG', `response body exceeds ${limit} bytes`, res.url ?? '');
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, total);
}
