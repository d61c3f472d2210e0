/**
 * `pktstack curl URL --tap tap0 (--ip CIDR [--gateway IP] [--dns IP] | --dhcp) [--ip6 CIDR |
 * --slaac] [-o FILE]`: one HTTP/1.1 GET through the user-space stack — DHCP if asked, DNS, ARP
 * or Neighbor Discovery, TCP over IPv4 or IPv6 (`http://[fd00::1]:8080/f`), and node:http for
 * the HTTP — with the body on stdout or in FILE, and a progress bar on stderr when it is a
 * terminal and the body is large.
 *
 * With -L, redirects are followed (at most 10). Every failure is one line on stderr and an exit
 * status as curl's: 6 name not resolved, 7 connection refused, 28 timeout, 22 HTTP status >= 400
 * (the body is not written), 18 body cut short, 23 cannot write the output, 47 too many
 * redirects, 1 anything else (no DHCP lease, no TAP, bad options).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type http from 'node:http';
import type { Writable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { isIP } from 'node:net';
import { formatIpv4 } from '../../codec/address.js';
import { dhcpLogText } from '../../runtime/dhcp/index.js';
import { fetchOverStack, FetchError, StackAgent } from '../../runtime/http/index.js';
import type { Stack } from '../../runtime/stack.js';
import { addressOptionsProblem, openTapStack, type TapStackOptions } from '../tap-stack.js';

export interface CurlOptions extends TapStackOptions {
  output?: string;
  silent?: boolean;
  verbose?: boolean;
  location?: boolean;
  connectTimeout: string;
  timeout: string;
  dhcpTimeout: string;
}

/** A failure with the exit status to report it with. */
export class CurlError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const EXIT_BY_CODE: Record<string, number> = {
  ENOTFOUND: 6,
  ENODATA: 6,
  ESERVFAIL: 6,
  EAI_AGAIN: 6,
  ECONNREFUSED: 7,
  EHOSTUNREACH: 7,
  ENETUNREACH: 7,
  ETIMEDOUT: 28,
  ETIMEOUT: 28,
  ECONNRESET: 56,
  EPROTO: 1,
};

/** Bodies at least this large get a progress bar (on a terminal). */
const PROGRESS_MIN_BYTES = 1024 * 1024;

function seconds(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CurlError(`${what} must be a positive number`, 2);
  return n;
}

/** The URL's host without the brackets of an IPv6 literal. */
function hostOf(url: URL): string {
  const h = url.hostname;
  return h.startsWith('[') ? h.slice(1, -1) : h;
}

function checkOptions(o: CurlOptions, url: URL): void {
  const problem = addressOptionsProblem(o);
  if (problem !== undefined) throw new CurlError(problem, 2);
  const literal = isIP(hostOf(url)) !== 0;
  if (!literal && o.dhcp !== true && (o.dns === undefined || o.dns.length === 0)) {
    throw new CurlError(`${url.hostname} is a name: give --dns IP to resolve it`, 2);
  }
}

function parseUrl(text: string): URL {
  // Like curl, a bare host (and path) means http://.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  try {
    return new URL(withScheme);
  } catch {
    throw new CurlError(`not a URL: ${text}`, 3);
  }
}

function openOutput(path: string | undefined): Promise<Writable> {
  if (path === undefined || path === '-') return Promise.resolve(process.stdout);
  return new Promise((resolve, reject) => {
    const file: WriteStream = createWriteStream(path);
    file.once('open', () => resolve(file));
    file.once('error', (e) => reject(new CurlError(`cannot write ${path}: ${e.message}`, 23)));
  });
}

function write(out: Writable, chunk: Buffer): Promise<void> | undefined {
  if (out.write(chunk)) return undefined;
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => {
      out.off('drain', onDrain);
      reject(new CurlError(`write failed: ${e.message}`, 23));
    };
    const onDrain = (): void => {
      out.off('error', onError);
      resolve();
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

function closeOutput(out: Writable): Promise<void> {
  if (out === process.stdout) return Promise.resolve();
  return new Promise((resolve, reject) => {
    out.once('error', (e) => reject(new CurlError(`write failed: ${e.message}`, 23)));
    out.end(() => resolve());
  });
}

function progressBar(res: http.IncomingMessage, o: CurlOptions): SingleBar | null {
  const total = Number(res.headers['content-length'] ?? NaN);
  if (o.silent === true || !process.stderr.isTTY || !(total >= PROGRESS_MIN_BYTES)) return null;
  const bar = new SingleBar({
    format: ' {bar} {percentage}% | {value}/{total} bytes | {eta}s left',
    stream: process.stderr,
    clearOnComplete: true,
    hideCursor: true,
  });
  bar.start(total, 0);
  return bar;
}

/** Writes the body to `out`; returns its length. Throws CurlError (18) if it was cut short. */
async function saveBody(res: http.IncomingMessage, out: Writable, o: CurlOptions): Promise<number> {
  const bar = progressBar(res, o);
  let received = 0;
  try {
    for await (const chunk of res) {
      const b = chunk as Buffer;
      received += b.length;
      bar?.update(received);
      const pending = write(out, b);
      if (pending !== undefined) await pending;
    }
  } catch (error) {
    if (error instanceof CurlError) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new CurlError(`transfer interrupted after ${received} bytes: ${why}`, 18);
  } finally {
    bar?.stop();
  }
  const expected = Number(res.headers['content-length'] ?? NaN);
  if (Number.isFinite(expected) && received !== expected) {
    throw new CurlError(`transfer closed with ${expected - received} bytes remaining`, 18);
  }
  return received;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** GET `url`, following redirects when -L was given (like curl: at most 10). */
async function fetchFollowing(
  stack: Stack,
  first: URL,
  agent: StackAgent,
  idleTimeoutMs: number,
  o: CurlOptions,
): Promise<http.IncomingMessage> {
  let url = first;
  for (let hops = 0; ; hops++) {
    const res = await fetchOverStack(stack, url, { agent, idleTimeoutMs }).catch(
      (error: unknown) => {
        const e =
          error instanceof FetchError ? error : new FetchError('EUNKNOWN', String(error), url.href);
        throw new CurlError(e.message, EXIT_BY_CODE[e.code] ?? 1);
      },
    );
    if (o.verbose === true) {
      process.stderr.write(`* HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}\n`);
    }
    const location = res.headers.location;
    if (o.location !== true || !REDIRECTS.has(res.statusCode ?? 0) || location === undefined) {
      return res;
    }
    res.resume(); // the redirect's own body is not wanted
    if (hops === MAX_REDIRECTS) {
      throw new CurlError(`more than ${MAX_REDIRECTS} redirects, last to ${location}`, 47);
    }
    url = new URL(location, url);
    if (o.verbose === true) process.stderr.write(`* following to ${url.href}\n`);
  }
}

export async function runCurl(urlText: string, o: CurlOptions): Promise<void> {
  const url = parseUrl(urlText);
  checkOptions(o, url);
  const connectTimeoutMs = seconds(o.connectTimeout, '--connect-timeout') * 1000;
  const idleTimeoutMs = seconds(o.timeout, '--timeout') * 1000;
  const leaseTimeoutMs = seconds(o.dhcpTimeout, '--dhcp-timeout') * 1000;
  const { stack, resolver, close } = await openTapStack(o, {
    leaseTimeoutMs,
    onDhcpEvent: (e) => {
      if (o.verbose === true) process.stderr.write(`* ${dhcpLogText(e)}\n`);
    },
  });
  let agent: StackAgent | null = null;
  try {
    if (o.dhcp === true && o.verbose === true) {
      process.stderr.write(`* address ${formatIpv4(stack.address)}\n`);
    }
    agent = new StackAgent(stack, {
      connectTimeoutMs,
      // A and AAAA, in RFC 6724 order for the addresses we have (getaddrinfo's job in curl).
      lookup: (name, _options, callback) => {
        resolver.lookup(name, { family: 0, all: true }, (err, found) => {
          if (err === null && o.verbose === true && Array.isArray(found))
            process.stderr.write(`* ${name} is ${found.map((a) => a.address).join(', ')}\n`);
          callback(err, found);
        });
      },
    });
    const started = performance.now();
    const res = await fetchFollowing(stack, url, agent, idleTimeoutMs, o);
    const status = res.statusCode ?? 0;
    if (status >= 400) {
      res.resume();
      throw new CurlError(`HTTP ${status} ${res.statusMessage ?? ''} for ${url.href}`.trim(), 22);
    }
    const out = await openOutput(o.output);
    const bytes = await saveBody(res, out, o);
    await closeOutput(out);
    if (o.verbose === true) {
      const s = (performance.now() - started) / 1000;
      const mbit = (bytes * 8) / s / 1e6;
      process.stderr.write(`* ${bytes} bytes in ${s.toFixed(3)} s (${mbit.toFixed(1)} Mbit/s)\n`);
    }
  } finally {
    agent?.destroy();
    await close();
  }
}

export function register(program: Command): void {
  program
    .command('curl')
    .description('fetch a URL over HTTP through the user-space stack on a TAP device')
    .argument('<url>', 'http:// URL (a bare host[/path] means http://)')
    .requiredOption('--tap <ifname>', 'TAP interface to attach to (created if missing)')
    .option('--netns <name>', 'open the TAP inside this network namespace')
    .option('--dhcp', 'get an address (and DNS servers) with DHCP')
    .option('--ip <cidr>', 'static address, e.g. 10.0.0.2/24')
    .option('--gateway <ip>', 'default gateway (with --ip)')
    .option('--ip6 <cidr>', 'static IPv6 address, e.g. fd00::2/64 (waits for DAD)')
    .option('--slaac', 'IPv6 addresses from router advertisements (waits for one)')
    .option(
      '--dns <ip>',
      'DNS server for names in the URL (repeatable; overrides DHCP)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('-o, --output <file>', 'write the body to FILE instead of stdout')
    .option('-L, --location', 'follow redirects (at most 10)')
    .option('-s, --silent', 'no progress bar')
    .option('-v, --verbose', 'log DHCP, DNS, status and throughput on stderr')
    .option('--connect-timeout <seconds>', 'give up connecting (ARP + TCP) after this long', '10')
    .option('--timeout <seconds>', 'give up when no data arrives for this long', '30')
    .option('--dhcp-timeout <seconds>', 'give up waiting for a DHCP lease after this long', '30')
    .action(async (url: string, options: CurlOptions) => {
      try {
        await runCurl(url, options);
        process.exitCode = 0;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(`pktstack curl: ${message}\n`);
        process.exitCode = error instanceof CurlError ? error.exitCode : 1;
      }
    });
}
