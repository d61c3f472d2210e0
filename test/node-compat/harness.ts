/**
 * The conformance harness: one test body, run twice — against Node's own modules on the
 * kernel's loopback (127.0.0.1, no root needed), and against the stack's drop-ins over two
 * stacks joined in memory (client 10.0.0.1, server 10.0.0.2). The body records what it sees in
 * an EventLog (events in order, error codes, byte counts, never times or addresses that differ
 * between the runs); the two logs must be equal, and equal to the log the case expects, so a
 * body that records nothing or the same wrong thing twice fails too.
 *
 * Clock: the node run is real time, so the stack run is too (RealClock, frames delivered on
 * setImmediate). Node's own stream machinery (nextTick, pipeline, async iteration) then
 * interleaves with both in the same way, and a timeout of N ms means the same in both. Bodies
 * never assert on durations: they wait for events, and timeouts are only ever compared with
 * each other (a 30 ms idle timeout before a 300 ms pause ends), with wide margins. A virtual
 * clock would make the stack run deterministic but not the node run, which is the reference.
 *
 * To add a module (dgram, dns): give Side a field, fill it in nodeSide and stackSide.
 */
import * as nodeDgram from 'node:dgram';
import * as nodeDns from 'node:dns';
import * as nodeNet from 'node:net';
import { expect, it } from 'vitest';
import type { Stack } from '../../src/runtime/stack.js';
import { makeStackPair } from '../http/pair.js';

/** The part of node:net the bodies use; the stack side's `stack.net` is cast to it. */
export type NetApi = Pick<
  typeof nodeNet,
  'createServer' | 'connect' | 'createConnection' | 'Socket' | 'Server' | 'isIP'
>;

/** The parts of node:dgram and node:dns the bodies use (`stack.dgram`, `stack.dns` cast). */
export type DgramApi = Pick<typeof nodeDgram, 'createSocket'>;
export type DnsApi = Pick<
  typeof nodeDns,
  'lookup' | 'setDefaultResultOrder' | 'getDefaultResultOrder' | 'promises'
>;

/** One end of the network: its modules and the address others reach it at. */
export interface Side {
  net: NetApi;
  dgram: DgramApi;
  /** node:dns itself in the node run (lookup goes to the system's resolver there). */
  dns: DnsApi;
  /** The address this side's servers listen on and its connections come from. */
  host: string;
  /** The stack behind it (null in the node run). */
  stack: Stack | null;
}

export interface Env {
  readonly kind: 'node' | 'stack';
  readonly server: Side;
  readonly client: Side;
  readonly log: EventLog;
  /** Runs after the body, last added first (close what the body left open). */
  cleanup(fn: () => unknown): void;
}

/** What an error looks like in the log: its Node fields, the addresses given as checks. */
interface ErrorLike {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  message?: unknown;
}

export class EventLog {
  readonly entries: string[] = [];

  /** Records one line (parts joined by spaces). */
  add(...parts: Array<string | number | boolean | null | undefined>): void {
    this.entries.push(parts.map((p) => String(p)).join(' '));
  }

  /**
   * Records an error as `label code errno syscall`, and whether its `address` and `port` are
   * the expected ones (given here, as they differ between the runs).
   */
  error(label: string, err: unknown, expected: { address?: string; port?: number } = {}): void {
    const e = (err ?? {}) as ErrorLike;
    const parts: Array<string | number | boolean | undefined> = [
      label,
      String(e.code),
      e.errno === undefined ? undefined : Number(e.errno),
      e.syscall === undefined ? undefined : String(e.syscall),
    ];
    if (expected.address !== undefined)
      parts.push(e.address === expected.address ? 'address=ok' : `address=${String(e.address)}`);
    if (expected.port !== undefined)
      parts.push(e.port === expected.port ? 'port=ok' : `port=${String(e.port)}`);
    this.add(...parts.filter((p) => p !== undefined));
  }

  /** Records the events of `emitter` named in `events` as `label event [arg]` when they happen. */
  watch(
    label: string,
    emitter: NodeJS.EventEmitter,
    events: readonly string[],
    format: (event: string, arg: unknown) => string | undefined = defaultFormat,
  ): void {
    for (const event of events) {
      emitter.on(event, (arg: unknown) => {
        const text = format(event, arg);
        this.add(label, event, ...(text === undefined ? [] : [text]));
      });
    }
  }
}

function defaultFormat(event: string, arg: unknown): string | undefined {
  if (event === 'data') return `${(arg as Buffer).length}B`;
  if (event === 'close' && typeof arg === 'boolean') return `hadError=${arg}`;
  if (event === 'error') return String((arg as ErrorLike).code);
  return undefined;
}

export type Body = (env: Env) => Promise<void>;

async function run(kind: Env['kind'], server: Side, client: Side, body: Body): Promise<string[]> {
  const log = new EventLog();
  const cleanups: Array<() => unknown> = [];
  try {
    await body({ kind, server, client, log, cleanup: (fn) => cleanups.push(fn) });
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
  return log.entries;
}

/** The node run: node:net on the kernel's loopback. */
export async function runNode(body: Body): Promise<string[]> {
  const side: Side = {
    net: nodeNet,
    dgram: nodeDgram,
    dns: nodeDns,
    host: '127.0.0.1',
    stack: null,
  };
  return run('node', side, { ...side }, body);
}

/** The stack run: stack.net on two stacks joined in memory, on the real clock. */
export async function runStack(body: Body): Promise<string[]> {
  const pair = makeStackPair();
  const side = (stack: Stack, host: string): Side => ({
    net: stack.net as unknown as NetApi,
    dgram: stack.dgram as unknown as DgramApi,
    dns: stack.dns as unknown as DnsApi,
    host,
    stack,
  });
  try {
    return await run('stack', side(pair.server, '10.0.0.2'), side(pair.client, '10.0.0.1'), body);
  } finally {
    await pair.close();
  }
}

/**
 * A test that runs `body` both ways and checks that both logs equal `expected` (the node run
 * first: when it disagrees with `expected`, the case, not the stack, is wrong).
 */
export function conformance(name: string, expected: readonly string[], body: Body): void {
  it(name, { timeout: 10_000 }, async () => {
    const node = await runNode(body);
    expect(node, 'node:net on 127.0.0.1').toEqual(expected);
    const stack = await runStack(body);
    expect(stack, 'stack.net over two stacks').toEqual(node);
  });
}

/** Resolves with the first emission of `event` (its first argument). */
export function next<T = unknown>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (arg: T) => resolve(arg)));
}

/** A server on `side.host` port 0, listening; returns it and its port. */
export async function listening(
  side: Side,
  onConnection?: (socket: nodeNet.Socket) => void,
  options: nodeNet.ServerOpts = {},
): Promise<{ server: nodeNet.Server; port: number }> {
  const server = side.net.createServer(options, onConnection);
  await new Promise<void>((resolve) => server.listen(0, side.host, resolve));
  return { server, port: (server.address() as nodeNet.AddressInfo).port };
}

/** Closes `server`, destroying what is still connected to it, and waits for 'close'. */
export function closeServer(
  server: nodeNet.Server,
  sockets: Iterable<nodeNet.Socket> = [],
): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => {
    if (!server.listening) resolve();
    else server.close(() => resolve());
  });
}
