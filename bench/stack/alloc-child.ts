/**
 * Bytes allocated per received frame, measured in a child process started by alloc.ts with
 * `--expose-gc --max-semi-space-size=64`: the stack (compiled, from dist/) receives frames from a
 * link that sends nowhere; after a warm-up, the heap is collected, N frames are pushed through,
 * and the growth of the used heap is divided by N. A young-generation GC inside the measured
 * loop would hide allocation, so GCs are counted and reported too (0 expected).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

type Runtime = typeof import('../../src/runtime/index.js');
type VirtualClockModule = typeof import('../../src/runtime/clock/virtual.js');

const dist = process.argv[2] ?? join(import.meta.dirname, '..', '..', 'dist');
const runtime = (await import(pathToFileURL(join(dist, 'src/runtime/index.js')).href)) as Runtime;
const { VirtualClock } = (await import(
  pathToFileURL(join(dist, 'src/runtime/clock/virtual.js')).href
)) as VirtualClockModule;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const STACK_MAC = 0x020000000002;
const PEER_MAC = 0x020000000001;
/** The /24 the two ends live in: 10.0.0 by default; 192.168.1 exercises addresses >= 2^31. */
const NET = process.argv[4] ?? '10.0.0';
const NET_BYTES = NET.split('.').map(Number);
const toIp = (last: number): number =>
  ((NET_BYTES[0] << 24) | (NET_BYTES[1] << 16) | (NET_BYTES[2] << 8) | last) >>> 0;
const STACK_IP = toIp(2);
const PEER_IP = toIp(1);

/** A link that accepts every frame and keeps nothing: only the stack's own costs remain. */
class NullLink {
  readonly mac = STACK_MAC;
  readonly mtu = 1500;
  sent = 0;
  receiver: { receive(b: Uint8Array, o: number, l: number): void; batchEnd(): void } | null = null;
  send(): boolean {
    this.sent++;
    return true;
  }
  setReceiver(r: NullLink['receiver']): void {
    this.receiver = r;
  }
  stats() {
    return { rxFrames: 0, rxBytes: 0, txFrames: this.sent, txBytes: 0, txDropped: 0 };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function sum16(b: Uint8Array, off: number, len: number, init = 0): number {
  let s = init;
  for (let i = 0; i + 1 < len; i += 2) s += (b[off + i] << 8) | b[off + i + 1];
  if (len & 1) s += b[off + len - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Ethernet + IPv4 + (ICMP echo | UDP) frame from the peer to the stack. */
function frame(protocol: number, payloadLength: number): Uint8Array {
  const l4 = protocol === 1 ? 8 : 8;
  const f = new Uint8Array(14 + 20 + l4 + payloadLength);
  const put16 = (o: number, v: number) => ((f[o] = v >>> 8), (f[o + 1] = v & 0xff));
  const put32 = (o: number, v: number) => (put16(o, v >>> 16), put16(o + 2, v & 0xffff));
  put16(0, 0x0200);
  put32(2, STACK_MAC % 2 ** 32);
  put16(6, 0x0200);
  put32(8, PEER_MAC % 2 ** 32);
  put16(12, 0x0800);
  f[14] = 0x45;
  put16(16, 20 + l4 + payloadLength);
  f[22] = 64;
  f[23] = protocol;
  put32(26, PEER_IP);
  put32(30, STACK_IP);
  put16(24, ~sum16(f, 14, 20) & 0xffff);
  for (let i = 0; i < payloadLength; i++) f[42 + i] = i & 0xff;
  if (protocol === 1) {
    f[34] = 8;
    put16(38, 0x1234);
    put16(36, ~sum16(f, 34, 8 + payloadLength) & 0xffff);
  } else {
    put16(34, 40000);
    put16(36, 7);
    put16(38, 8 + payloadLength);
    const pseudo =
      (PEER_IP >>> 16) +
      (PEER_IP & 0xffff) +
      (STACK_IP >>> 16) +
      (STACK_IP & 0xffff) +
      17 +
      8 +
      payloadLength;
    put16(40, ~sum16(f, 34, 8 + payloadLength, pseudo) & 0xffff || 0xffff);
  }
  return f;
}

function arpRequest(): Uint8Array {
  const f = new Uint8Array(42);
  f.fill(0xff, 0, 6);
  f.set([2, 0, 0, 0, 0, 1], 6);
  f.set(
    [
      8,
      6,
      0,
      1,
      8,
      0,
      6,
      4,
      0,
      1,
      2,
      0,
      0,
      0,
      0,
      1,
      ...NET_BYTES,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      ...NET_BYTES,
      2,
    ],
    12,
  );
  return f;
}

const link = new NullLink();
const clock = new VirtualClock();
const stack = runtime.createStack({ link, clock, ip: `${NET}.2/24` });
const echo = new runtime.UdpEchoServer(stack.udp, 7);
const receiver = link.receiver!;
receiver.receive(arpRequest(), 0, 42);

let gcs = 0;
const observer = new PerformanceObserver((list) => (gcs += list.getEntries().length));
observer.observe({ entryTypes: ['gc'] });

interface Result {
  scenario: string;
  frames: number;
  bytesPerFrame: number;
  nsPerFrame: number;
  gcs: number;
  replies: number;
}

async function measure(scenario: string, f: Uint8Array, n: number): Promise<Result> {
  // Frames arrive in batches of 64 like a TAP wakeup, each followed by batchEnd().
  const run = (count: number) => {
    for (let i = 0; i < count; i++) {
      receiver.receive(f, 0, f.length);
      if ((i & 63) === 63) receiver.batchEnd();
    }
  };
  run(200_000);
  gc!();
  // GC entries reach the observer asynchronously: let the forced one land before counting.
  await new Promise((r) => setTimeout(r, 50));
  const gcsBefore = gcs;
  const sentBefore = link.sent;
  const before = getHeapStatistics().used_heap_size;
  const t0 = process.hrtime.bigint();
  run(n);
  const t1 = process.hrtime.bigint();
  const after = getHeapStatistics().used_heap_size;
  await new Promise((r) => setTimeout(r, 50));
  return {
    scenario,
    frames: n,
    bytesPerFrame: Math.max(0, after - before) / n,
    nsPerFrame: Number(t1 - t0) / n,
    gcs: gcs - gcsBefore,
    replies: link.sent - sentBefore,
  };
}

const n = Number(process.argv[3] ?? 1_000_000);
const results = [
  await measure('icmp-echo-64', frame(1, 56), n),
  await measure('icmp-echo-1472', frame(1, 1464), n / 4),
  await measure('udp-echo-64', frame(17, 64), n),
  await measure('udp-echo-1472', frame(17, 1472), n / 4),
];
observer.disconnect();
const drops = runtime.totalDrops(stack.stats());
process.stdout.write(JSON.stringify({ results, drops, echoed: echo.echoed }) + '\n');
