/**
 * Two stacks joined by an in-memory link pair on a VirtualClock, with a small seeded fault
 * injector (drop, duplicate, reorder, corrupt, delay) on each end's transmit side, so both
 * directions see faults. Everything is deterministic from the seed.
 */
import { createHash } from 'node:crypto';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import type { FrameReceiver, Link, LinkStats } from '../../../src/runtime/link/link.js';
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

/** Applies faults to frames this end sends. Frames are copied (the caller reuses its buffer). */
export class FaultyLink implements Link {
  faults: Faults;
  /** Only frames longer than this are subject to faults (e.g. spare ARP). */
  minLength = 60;
  private held: Uint8Array | null = null;
  dropped = 0;
  constructor(
    private readonly inner: Link,
    private readonly clock: VirtualClock,
    private readonly random: () => number,
    faults: Faults = {},
  ) {
    this.faults = faults;
  }
  get mac(): number {
    return this.inner.mac;
  }
  get mtu(): number {
    return this.inner.mtu;
  }
  send(bytes: Uint8Array, offset: number, length: number): boolean {
    const f = this.faults;
    const frame = bytes.slice(offset, offset + length);
    if (length > this.minLength) {
      const r = this.random;
      if (r() < (f.loss ?? 0)) {
        this.dropped++;
        return true;
      }
      if (r() < (f.corrupt ?? 0)) {
        const i = 14 + Math.floor(r() * (length - 14));
        frame[i] ^= 1 << Math.floor(r() * 8);
      }
      if (this.held === null && r() < (f.reorder ?? 0)) {
        this.held = frame; // goes out after the next frame
        return true;
      }
      if (r() < (f.duplicate ?? 0)) this.later(frame);
    }
    this.later(frame);
    if (this.held !== null) {
      const h = this.held;
      this.held = null;
      this.later(h);
    }
    return true;
  }
  private later(frame: Uint8Array): void {
    const d = this.faults.delay ?? 0;
    if (d <= 0) this.inner.send(frame, 0, frame.length);
    else this.clock.setTimer(d, () => this.inner.send(frame, 0, frame.length));
  }
  setReceiver(receiver: FrameReceiver): void {
    this.inner.setReceiver(receiver);
  }
  stats(): LinkStats {
    return this.inner.stats();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface Pair {
  clock: VirtualClock;
  a: Stack;
  b: Stack;
  tcpA: TcpLayer;
  tcpB: TcpLayer;
  linkA: FaultyLink;
  linkB: FaultyLink;
}

export const IP_A = '10.0.0.1';
export const IP_B = '10.0.0.2';

export function makePair(
  seed: number,
  faults: Faults = {},
  tcp: TcpLayerOptions = {},
  tcpB: TcpLayerOptions = tcp,
): Pair {
  const clock = new VirtualClock();
  const [la, lb] = createMemoryLinkPair({
    macA: 0x020000000001,
    macB: 0x020000000002,
    clock,
    queueFrames: 8192,
  });
  const linkA = new FaultyLink(la, clock, rng(seed), faults);
  const linkB = new FaultyLink(lb, clock, rng(seed + 1000), faults);
  const a = createStack({ link: linkA, clock, ip: `${IP_A}/24` });
  const b = createStack({ link: linkB, clock, ip: `${IP_B}/24` });
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
