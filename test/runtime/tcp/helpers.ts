/**
 * Two stacks joined by an in-memory link pair on a VirtualClock, with the runtime's seeded fault
 * injector (drop, duplicate, reorder, corrupt, delay) on each end's transmit side, so both
 * directions see faults. Everything is deterministic from the seed.
 */
import { createHash } from 'node:crypto';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { injectFaults, type FaultLink } from '../../../src/runtime/link/faults.js';
import { createMemoryLinkPair } from '../../../src/runtime/link/memory.js';
import { createStack, type Stack } from '../../../src/runtime/stack.js';
import { attachTcp, type TcpLayer, type TcpLayerOptions } from '../../../src/runtime/tcp/index.js';

export function rng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Faults {
  loss?: number;
  duplicate?: number;
  reorder?: number;
  corrupt?: number;
  /** One-way delay in ms. */
  delay?: number;
}

export interface Pair {
  clock: VirtualClock;
  a: Stack;
  b: Stack;
  tcpA: TcpLayer;
  tcpB: TcpLayer;
  linkA: FaultLink;
  linkB: FaultLink;
}

export const IP_A = '10.0.0.1';
export const IP_B = '10.0.0.2';
export const IP6_A = 'fd00::1';
export const IP6_B = 'fd00::2';
/** Long enough for both ends' duplicate address detection to finish (RFC 4862: 1 s + delay). */
export const DAD_DONE_MS = 3000;

/**
 * Two stacks on one link, IPv4 (IP_A, IP_B) and, with `ipv6`, IPv6 too (IP6_A, IP6_B): then run
 * the clock DAD_DONE_MS before connecting over IPv6, so the addresses are preferred.
 */
export function makePair(
  seed: number,
  faults: Faults = {},
  tcp: TcpLayerOptions = {},
  tcpB: TcpLayerOptions = tcp,
  options: { ipv6?: boolean; offloadA?: boolean; offloadB?: boolean } = {},
): Pair {
  const clock = new VirtualClock();
  const [la, lb] = createMemoryLinkPair({
    macA: 0x020000000001,
    macB: 0x020000000002,
    clock,
    queueFrames: 8192,
    offloadA: options.offloadA,
    offloadB: options.offloadB,
  });
  const tx = {
    drop: faults.loss,
    duplicate: faults.duplicate,
    reorder: faults.reorder,
    reorderMs: 1,
    corrupt: faults.corrupt,
    delayMs: faults.delay,
  };
  const linkA = injectFaults(la, { seed, clock, tx });
  const linkB = injectFaults(lb, { seed: seed + 1000, clock, tx });
  const v6 = (r: () => number) => ({ nd: { random: r }, neighbors: { random: r } });
  const ipv6A = options.ipv6 === true ? v6(rng(seed + 7)) : undefined;
  const ipv6B = options.ipv6 === true ? v6(rng(seed + 8)) : undefined;
  const a = createStack({
    link: linkA,
    clock,
    ip: `${IP_A}/24`,
    ipv6: ipv6A,
    ip6: ipv6A && `${IP6_A}/64`,
  });
  const b = createStack({
    link: linkB,
    clock,
    ip: `${IP_B}/24`,
    ipv6: ipv6B,
    ip6: ipv6B && `${IP6_B}/64`,
  });
  const key = new Uint8Array(16).fill(seed & 0xff);
  const tcpA = attachTcp(a, { isnKey: key, cookieKey: key, ...tcp });
  const layerB = attachTcp(b, { isnKey: key.map((x) => x ^ 0x55), cookieKey: key, ...tcpB });
  return { clock, a, b, tcpA, tcpB: layerB, linkA, linkB };
}

/**
 * Advances virtual time in steps, letting Node run stream callbacks (nextTick, microtasks,
 * setImmediate) between steps, until `done()` or `limitMs` of virtual time passed.
 */
export async function runUntil(
  clock: VirtualClock,
  done: () => boolean,
  limitMs = 600_000,
  stepMs = 5,
): Promise<void> {
  const end = clock.now() + limitMs;
  while (!done() && clock.now() < end) {
    clock.advance(stepMs);
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Jump over idle stretches (only timers pending, e.g. a long RTO) instead of stepping.
    const next = clock.nextTimerAt();
    if (next !== undefined && next > clock.now() + stepMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!done()) clock.advance(Math.min(next, end) - clock.now());
    }
  }
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export function randomBytes(n: number, seed: number): Buffer {
  const r = rng(seed);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) out.writeUInt32LE((r() * 4294967296) >>> 0, Math.min(i, n - 4));
  return out;
}
