/**
 * TCP throughput scenario for `bench:stack` (also runnable alone: `npx tsx bench/stack/tcp.ts`,
 * as root). Our stack runs in this process on a TAP in a namespace of its own (kernel side
 * 10.9.0.1, stack 10.9.0.2), pinned to one CPU with the kernel-side tools on the other:
 *   - kernel → stack: socat streams zeros into our discard server (port 9);
 *   - stack → kernel: we stream into `socat -u TCP-LISTEN:... /dev/null`;
 *   - both over IPv6 too (kernel fd09::1, stack fd09::2), rounds alternating the families, and
 *     the kernel's ping RTT to the stack over each;
 *   - connections per second: a Node client in the namespace opens and closes connections;
 * Printed: Gbit/s, CPU seconds per GB for our process and for the whole machine. The peers (lwIP,
 * the kernel over veth) and the offload variants run against the same StackHost in peers.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { RealClock } from '../../src/runtime/clock/real.js';
import { openTap, setKernelIpv4, type TapOptions } from '../../src/runtime/link/tap.js';
import { createStack, type Stack } from '../../src/runtime/stack.js';
import {
  attachTcp,
  startDiscardServer,
  startEchoServer,
  type TcpLayer,
} from '../../src/runtime/tcp/index.js';
import { CPUS, CUBIC, kernelShare, machineCpuSeconds, type CpuSplit } from './lab.js';
import { percentile } from './ping.js';

/**
 * Runs one of the in-process bench children (see child-harness.ts) with the heap settings they
 * are measured under, and returns the JSON line it printed.
 */
function runChild<T>(file: string, args: string[], what: string): T {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--expose-gc',
      '--max-semi-space-size=128',
      '--min-semi-space-size=128',
      join(import.meta.dirname, file),
      ...args,
    ],
    { encoding: 'utf8', timeout: 300_000 },
  );
  if (r.status !== 0) throw new Error(`${what}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as T;
}

export interface TcpAllocResult {
  segments: number;
  /** Allocated by the stack per segment (the measurement's own allocation subtracted). */
  bytesPerSegment: number;
  grossBytesPerSegment: number;
  harnessBytesPerSegment: number;
  nsPerSegment: number;
  gcsInLoop: number;
  acksPerSegment: number;
  /** The lowest and highest bytesPerSegment over the rounds (the result is the median round). */
  bytesPerSegmentMin: number;
  bytesPerSegmentMax: number;
}

/**
 * Receive-path cost per data segment in a child process (see tcp-alloc-child.ts): what the
 * stack allocated, counted exactly also across the GCs the receive slabs' external memory starts
 * inside the loop (what each GC freed is added to the heap's growth). Over 200k segments a
 * round's figure moved by a byte or so with where the JIT's own allocations fall; over 1M by
 * about a tenth of that. The result is the median of `rounds` children, with the spread.
 */
export function measureTcpAllocation(
  mode: 'data' | 'onread' = 'data',
  segments = 1_000_000,
  rounds = 3,
): TcpAllocResult {
  const runs: TcpAllocResult[] = [];
  for (let i = 0; i < rounds; i++) {
    runs.push(
      runChild<TcpAllocResult>(
        'tcp-alloc-child.ts',
        [String(segments), mode],
        'tcp allocation probe failed',
      ),
    );
  }
  runs.sort((a, b) => a.bytesPerSegment - b.bytesPerSegment);
  return {
    ...runs[runs.length >> 1],
    bytesPerSegmentMin: runs[0].bytesPerSegment,
    bytesPerSegmentMax: runs[runs.length - 1].bytesPerSegment,
  };
}

export interface FrameReceiveResult {
  frames: number;
  payload: number;
  /** Medians over interleaved rounds, the measurement's own loop subtracted; CPU time. */
  nsPerFrame: number;
  nsPerFrameMin: number;
  bytesPerFrame: number;
  gcsInLoop: number;
}

/**
 * The whole receive path per frame (Ethernet, IPv4, TCP, an onread reader) in a child process
 * (see rx-frames-child.ts), with `payload` data bytes per frame: small frames show the
 * per-frame work of the layers, full ones add the copy and the checksum over the data.
 */
export function measureFrameReceive(payload: number, frames = 100_000): FrameReceiveResult {
  return runChild<FrameReceiveResult>(
    'rx-frames-child.ts',
    [String(frames), 'onread', String(payload)],
    'frame receive probe failed',
  );
}

export interface SendPathResult {
  copy: string;
  write: number;
  segments: number;
  /** Medians over interleaved rounds, the measurement's own loop subtracted; CPU time. */
  nsPerSegment: number;
  nsPerSegmentMin: number;
  bytesPerSegment: number;
  gcsInLoop: number;
  segmentsPerAck: number;
}

/**
 * The send path per data segment (write into the send buffer, segmentation, headers, the
 * link's send, the peer's ACKs) in a child process (see tx-child.ts).
 */
export function measureSendPath(segments = 100_000): SendPathResult {
  return runChild<SendPathResult>('tx-child.ts', [String(segments)], 'send path probe failed');
}

/** One direction of a bulk transfer: medians over the rounds, and the spread (min, max). */
export interface TransferFigures {
  gbps: number;
  cpuSecondsPerGB: number;
  machineCpuSecondsPerGB: number;
  kernelShare: number;
  gbpsMin: number;
  gbpsMax: number;
  /** Every round as measured, in order. */
  rounds: Transfer[];
}

export interface TcpBenchResult {
  bytes: number;
  rounds: number;
  kernelToStack: TransferFigures;
  stackToKernel: TransferFigures;
  /** The same transfers over IPv6, interleaved with the IPv4 ones round by round. */
  ipv6: { kernelToStack: TransferFigures; stackToKernel: TransferFigures };
  /** The kernel's ping to the same stack over each family (median / p99 RTT, µs). */
  ping: { ipv4: PingFigures; ipv6: PingFigures };
  connectionsPerSecond: number;
  placement: string;
  /** The stream's 'data' (a Buffer per batch), and node:net's `onread` (one reused buffer). */
  alloc: TcpAllocResult;
  allocOnread: TcpAllocResult;
  /** From the frame up: 64 and 1448 data bytes per frame. */
  frames: FrameReceiveResult[];
  /** From write() down to the link, 64 KiB writes. */
  send: SendPathResult;
}

export interface PingFigures {
  medianUs: number;
  p99Us: number;
  received: number;
  sent: number;
}

/** The stack's discard server (RFC 863), and a sink on the next port read through 'data'. */
const DISCARD_PORT = 9;
const DATA_SINK_PORT = 10;

const NS = `pkt-tcp-bench-${process.pid}`;

/** The namespace StackHost uses by default (for clean-up on Ctrl-C). */
export function stackHostNamespace(): string {
  return NS;
}

function sh(args: string[], timeoutMs = 120_000): string {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

function inNs(ns: string, args: string[], timeoutMs = 120_000): string {
  return sh(['ip', 'netns', 'exec', ns, ...args], timeoutMs);
}

/** Runs a command in a namespace asynchronously (our stack shares this event loop). */
function inNsAsync(ns: string, args: string[], timeoutMs = 300_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${args.join(' ')} exited ${code}: ${err}`));
    });
  });
}

/** This process's CPU seconds, all threads. */
function cpuSplit(): CpuSplit {
  const u = process.cpuUsage();
  return { user: u.user / 1e6, system: u.system / 1e6 };
}

function netnsUp(ns: string): void {
  spawnSync('ip', ['netns', 'del', ns]);
  sh(['ip', 'netns', 'add', ns]);
  inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
  inNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  inNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
  spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.tcp_congestion_control=cubic']);
}

/**
 * Rounds of each transfer (TCP_BENCH_ROUNDS, default 3); they alternate the families so that
 * machine load hits both alike. On a shared machine the spread is wide: take more rounds.
 */
const ROUNDS = Math.max(1, Number(process.env.TCP_BENCH_ROUNDS ?? 3));

function median(values: number[]): number {
  const v = [...values].sort((x, y) => x - y);
  return v.length === 0 ? NaN : v[(v.length - 1) >> 1];
}

export function figures(runs: Transfer[]): TransferFigures {
  const g = runs.map((r) => r.gbps);
  return {
    gbps: median(g),
    cpuSecondsPerGB: median(runs.map((r) => r.cpuSecondsPerGB)),
    machineCpuSecondsPerGB: median(runs.map((r) => r.machineCpuSecondsPerGB)),
    kernelShare: median(runs.map((r) => r.kernelShare)),
    gbpsMin: Math.min(...g),
    gbpsMax: Math.max(...g),
    rounds: runs,
  };
}

const STACK_V4 = '10.9.0.2';
const KERNEL_V4 = '10.9.0.1';
const STACK_V6 = 'fd09::2';
const KERNEL_V6 = 'fd09::1';

/**
 * One bulk transfer: Gbit/s, our process's CPU and the whole machine's CPU per GB (1e9 B), and
 * the share of our process's CPU spent in the kernel (its TAP reads and writes, and the
 * kernel's own TCP work it does in those calls).
 */
export interface Transfer {
  gbps: number;
  cpuSecondsPerGB: number;
  machineCpuSecondsPerGB: number;
  kernelShare: number;
}

export interface StackHostOptions {
  /** TAP options beyond the name and namespace (e.g. offloads). */
  tap?: Omit<TapOptions, 'name' | 'netns'>;
}

/**
 * Our stack in this process on tap0 in a namespace of its own (kernel side 10.9.0.1 and fd09::1,
 * stack .2 and ::2) with an echo server on port 7, a discard server on port 9 and a 'data' sink on
 * port 10; this process
 * pinned to one CPU, the kernel-side tools to the other. Every scenario here drives one.
 */
export class StackHost {
  readonly stackCpu = CPUS >= 2 ? '1' : '0';
  readonly toolCpu = '0';
  private received = 0;

  private constructor(
    readonly ns: string,
    readonly stack: Stack,
    readonly tcp: TcpLayer,
  ) {
    startEchoServer(tcp, 7);
    startDiscardServer(tcp, DISCARD_PORT, {
      onSession: (s) => (this.received = s.bytes),
      sha256: false,
    });
    // The same sink read through the stream's 'data' (a chunk per receive batch, the reader's
    // to keep) instead of the discard server's reused `onread` buffer.
    tcp.listen(DATA_SINK_PORT, (socket) => {
      let bytes = 0;
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
      socket.on('end', () => {
        this.received = bytes;
        socket.end();
      });
    });
  }

  static async up(opts: StackHostOptions = {}, ns = NS): Promise<StackHost> {
    // Pin ourselves (the stack) away from the kernel-side tools: every thread (-a), not only
    // the main one: V8's GC and compiler threads and libuv's pool were started before this and
    // would otherwise run on the tools' CPU, taking time from the kernel's side of the transfer
    // (the C peers run wholly on their CPU, threads and all).
    spawnSync('taskset', ['-apc', CPUS >= 2 ? '1' : '0', String(process.pid)]);
    netnsUp(ns);
    try {
      // IPv6 on in this namespace only for the TAP's kernel side (fd09::1, no DAD delay).
      inNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=0']);
      inNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=0']);
      const tap = await openTap({ ...opts.tap, name: 'tap0', netns: ns });
      inNs(ns, ['ip', 'link', 'set', 'tap0', 'txqueuelen', '10000']);
      setKernelIpv4({ name: 'tap0', address: 0x0a090001, prefixLength: 24, netns: ns });
      inNs(ns, ['ip', '-6', 'addr', 'add', `${KERNEL_V6}/64`, 'dev', 'tap0', 'nodad']);
      const stack = createStack({
        link: tap,
        clock: new RealClock(),
        ip: `${STACK_V4}/24`,
        gateway: KERNEL_V4,
        ip6: `${STACK_V6}/64`,
      });
      const host = new StackHost(ns, stack, attachTcp(stack, { sndBuf: 4 << 20, rcvBuf: 4 << 20 }));
      await inNsAsync(ns, ['ping', '-c', '1', '-W', '2', STACK_V4]);
      // DAD: our IPv6 address is usable about a second after start.
      for (let i = 0; i < 50; i++) {
        const r = spawnSync('ip', [
          'netns',
          'exec',
          ns,
          'ping',
          '-6',
          '-c',
          '1',
          '-W',
          '1',
          STACK_V6,
        ]);
        if (r.status === 0) break;
      }
      return host;
    } catch (e) {
      spawnSync('ip', ['netns', 'del', ns]);
      throw e;
    }
  }

  /**
   * socat in the namespace streams `bytes` zeros into our discard server (`onread`), or into the
   * 'data' sink. socat reads /dev/zero itself, as for lwIP and the kernel over veth: a `head`
   * pipe in front costs the sending CPU enough to leave the sender application-limited.
   */
  async kernelToStack(
    family: 4 | 6,
    bytes: number,
    reader: 'onread' | 'data' = 'onread',
  ): Promise<Transfer> {
    this.received = 0;
    const measure = startMeasure();
    const port = reader === 'onread' ? DISCARD_PORT : DATA_SINK_PORT;
    const target = family === 6 ? `TCP6:[${STACK_V6}]:${port}` : `TCP:${STACK_V4}:${port}`;
    await inNsAsync(this.ns, [
      'taskset',
      '-c',
      this.toolCpu,
      'socat',
      '-b',
      '262144',
      '-u',
      `OPEN:/dev/zero,readbytes=${bytes}`,
      `${target},${CUBIC}`,
    ]);
    while (this.received !== bytes) await new Promise((f) => setTimeout(f, 5));
    return measure(bytes);
  }

  /** We stream `bytes` into `socat -u TCP-LISTEN:... /dev/null` in the namespace. */
  async stackToKernel(family: 4 | 6, bytes: number): Promise<Transfer> {
    const sink = inNsAsync(this.ns, [
      'taskset',
      '-c',
      this.toolCpu,
      'socat',
      '-b',
      '262144',
      '-u',
      `${family === 6 ? 'TCP6-LISTEN' : 'TCP4-LISTEN'}:5001,reuseaddr,${CUBIC}`,
      'OPEN:/dev/null',
    ]);
    await new Promise((f) => setTimeout(f, 300));
    const measure = startMeasure();
    const socket = this.tcp.connect({ host: family === 6 ? KERNEL_V6 : KERNEL_V4, port: 5001 });
    const chunk = Buffer.alloc(256 * 1024);
    let sent = 0;
    await new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      const pump = (): void => {
        while (sent < bytes) {
          sent += chunk.length;
          if (
            !socket.write(sent <= bytes ? chunk : chunk.subarray(0, chunk.length - (sent - bytes)))
          ) {
            socket.once('drain', pump);
            return;
          }
        }
        socket.end();
      };
      pump();
      void sink.then(() => resolve(), reject);
    });
    return measure(bytes);
  }

  /** The kernel's ping to the stack after a flood warm-up. */
  async ping(family: 4 | 6): Promise<PingFigures> {
    const host = family === 6 ? STACK_V6 : STACK_V4;
    const count = 1000;
    await inNsAsync(this.ns, [
      'ping',
      `-${family}`,
      '-n',
      '-q',
      '-f',
      '-c',
      '5000',
      '-W',
      '1',
      host,
    ]);
    const out = await inNsAsync(this.ns, [
      'ping',
      `-${family}`,
      '-n',
      '-c',
      String(count),
      '-i',
      '0.002',
      '-W',
      '1',
      host,
    ]);
    const rtts = [...out.matchAll(/time=([\d.]+) ms/g)]
      .map((m) => Number(m[1]) * 1000)
      .sort((x, y) => x - y);
    return {
      medianUs: percentile(rtts, 50),
      p99Us: percentile(rtts, 99),
      received: rtts.length,
      sent: count,
    };
  }

  /** Connections per second: a Node client opens, echoes one byte and closes, 8 in parallel. */
  async connectionsPerSecond(count = 2000): Promise<number> {
    const script = `
      const net = require('net');
      let done = 0, failed = 0, started = 0;
      const t0 = process.hrtime.bigint();
      const finish = () => {
        if (++done === ${count}) {
          const s = Number(process.hrtime.bigint() - t0) / 1e9;
          console.log(JSON.stringify({ cps: (${count} - failed) / s, failed }));
        } else if (started < ${count}) one();
      };
      const one = () => {
        started++;
        const s = net.connect(7, '${STACK_V4}', () => s.end('x'));
        s.on('data', () => {});
        s.on('error', () => { failed++; });
        s.on('close', finish);
      };
      for (let i = 0; i < 8; i++) one();`;
    const out = await inNsAsync(this.ns, [
      'taskset',
      '-c',
      this.toolCpu,
      process.execPath,
      '-e',
      script,
    ]);
    const { cps, failed } = JSON.parse(out) as { cps: number; failed: number };
    if (failed > 0) process.stderr.write(`bench tcp: ${failed} of ${count} connections failed\n`);
    return cps;
  }

  async close(): Promise<void> {
    try {
      await this.stack.close();
    } finally {
      spawnSync('ip', ['netns', 'del', this.ns]);
    }
  }
}

/** Starts the clocks of one transfer; the returned function stops them for `bytes` moved. */
function startMeasure(): (bytes: number) => Transfer {
  const cpu0 = cpuSplit();
  const machine0 = machineCpuSeconds();
  const t0 = process.hrtime.bigint();
  return (bytes) => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuSplit();
    return {
      gbps: (bytes * 8) / seconds / 1e9,
      cpuSecondsPerGB: (cpu.user + cpu.system - cpu0.user - cpu0.system) / (bytes / 1e9),
      machineCpuSecondsPerGB: (machineCpuSeconds() - machine0) / (bytes / 1e9),
      kernelShare: kernelShare(cpu0, cpu),
    };
  };
}

export async function measureTcp(bytes = 1 << 30): Promise<TcpBenchResult> {
  const host = await StackHost.up();
  try {
    const runs = { k4: [], k6: [], s4: [], s6: [] } as Record<
      'k4' | 'k6' | 's4' | 's6',
      Transfer[]
    >;
    const pings: { v4: PingFigures[]; v6: PingFigures[] } = { v4: [], v6: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which family goes first, so neither always runs on a warmer machine.
      const order = round % 2 === 0 ? ([4, 6] as const) : ([6, 4] as const);
      for (const fam of order) {
        runs[`k${fam}`].push(await host.kernelToStack(fam, bytes));
        runs[`s${fam}`].push(await host.stackToKernel(fam, bytes));
        pings[`v${fam}`].push(await host.ping(fam));
      }
    }
    const pingFigures = (list: PingFigures[]): PingFigures => ({
      medianUs: median(list.map((p) => p.medianUs)),
      p99Us: median(list.map((p) => p.p99Us)),
      received: list.reduce((n, p) => n + p.received, 0),
      sent: list.reduce((n, p) => n + p.sent, 0),
    });
    const connectionsPerSecond = await host.connectionsPerSecond();
    const alloc = measureTcpAllocation('data');
    const allocOnread = measureTcpAllocation('onread');
    const frames = [measureFrameReceive(64), measureFrameReceive(1448)];
    const send = measureSendPath();
    return {
      bytes,
      rounds: ROUNDS,
      kernelToStack: figures(runs.k4),
      stackToKernel: figures(runs.s4),
      ipv6: { kernelToStack: figures(runs.k6), stackToKernel: figures(runs.s6) },
      ping: { ipv4: pingFigures(pings.v4), ipv6: pingFigures(pings.v6) },
      connectionsPerSecond,
      alloc,
      allocOnread,
      frames,
      send,
      placement: `stack on CPU ${host.stackCpu}, kernel tools on CPU ${host.toolCpu} (${CPUS} CPUs)`,
    };
  } finally {
    await host.close();
  }
}

export interface SoakResult {
  seconds: number;
  transfers: number;
  gigabytes: number;
  /** [seconds since start, heap used MiB, RSS MiB] every 10 s, after a GC when exposed. */
  samples: Array<[number, number, number]>;
}

/**
 * Memory over time under load: the kernel streams into our discard server over and over (a new
 * connection per 64 MiB) for `seconds`; heap and RSS are sampled every 10 s. Flat = no leak.
 * Runs only when TCP_BENCH_SOAK_SECONDS is set (the target is a 10-minute soak).
 */
export async function soakTcp(seconds: number): Promise<SoakResult> {
  netnsUp(NS);
  const clock = new RealClock();
  const tap = await openTap({ name: 'tap0', netns: NS });
  setKernelIpv4({ name: 'tap0', address: 0x0a090001, prefixLength: 24, netns: NS });
  const stack = createStack({ link: tap, clock, ip: '10.9.0.2/24', gateway: '10.9.0.1' });
  const tcp = attachTcp(stack, { sndBuf: 4 << 20, rcvBuf: 4 << 20 });
  startDiscardServer(tcp, 9);
  const gc = (globalThis as { gc?: () => void }).gc;
  const samples: Array<[number, number, number]> = [];
  const start = Date.now();
  let transfers = 0;
  const sample = (): void => {
    gc?.();
    const m = process.memoryUsage();
    samples.push([Math.round((Date.now() - start) / 1000), m.heapUsed / 2 ** 20, m.rss / 2 ** 20]);
  };
  const timer = setInterval(sample, 10_000);
  try {
    sample();
    while (Date.now() - start < seconds * 1000) {
      await inNsAsync(NS, [
        'bash',
        '-c',
        `head -c ${64 << 20} /dev/zero | socat -b 262144 -u - TCP:10.9.0.2:9,${CUBIC}`,
      ]);
      transfers++;
    }
    sample();
  } finally {
    clearInterval(timer);
    await stack.close();
    spawnSync('ip', ['netns', 'del', NS]);
  }
  return { seconds, transfers, gigabytes: (transfers * (64 << 20)) / 1e9, samples };
}

export function formatTcp(r: TcpBenchResult): string {
  const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const spread = (t: TransferFigures): string => `(${f(t.gbpsMin)}-${f(t.gbpsMax)})`;
  const line = (label: string, t: TransferFigures, target: number): string =>
    `  ${label}  ${f(t.gbps).padStart(6)} Gbit/s ${spread(t)}  ${f(t.cpuSecondsPerGB)} CPU s/GB (ours, ${f(t.kernelShare * 100, 0)}% in the kernel), ${f(t.machineCpuSecondsPerGB)} (machine)  (target >= ${target} Gbit/s ${t.gbps >= target ? 'OK' : 'MISSED'})`;
  const v6 = (label: string, t: TransferFigures, v4: TransferFigures): string =>
    `  ${label}  ${f(t.gbps).padStart(6)} Gbit/s ${spread(t)}  ${f((t.gbps / v4.gbps) * 100, 1)}% of IPv4  ${f(t.cpuSecondsPerGB)} CPU s/GB  (target >= 90% of IPv4 ${t.gbps >= 0.9 * v4.gbps ? 'OK' : 'MISSED'})`;
  const ping = (label: string, p: PingFigures): string =>
    `  ping ${label}: median ${f(p.medianUs, 0)} µs, p99 ${f(p.p99Us, 0)} µs (${p.received}/${p.sent} answered)`;
  return [
    `TCP (${(r.bytes / 2 ** 20).toFixed(0)} MiB each way, medians of ${r.rounds} rounds (min-max), families interleaved; ${r.placement})`,
    line('kernel → stack      ', r.kernelToStack, 1),
    line('stack → kernel      ', r.stackToKernel, 0.8),
    v6('kernel → stack, IPv6', r.ipv6.kernelToStack, r.kernelToStack),
    v6('stack → kernel, IPv6', r.ipv6.stackToKernel, r.stackToKernel),
    ping('IPv4', r.ping.ipv4),
    ping('IPv6', r.ping.ipv6),
    `  connections/s (open, echo 1 byte, close; 8 in parallel): ${f(r.connectionsPerSecond, 0)}`,
    allocLine("'data'", r.alloc),
    allocLine('onread', r.allocOnread, 1),
    ...r.frames.map(frameLine),
    sendLine(r.send),
  ].join('\n');
}

function sendLine(a: SendPathResult): string {
  const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  return (
    `  send path, in-process (${a.write / 1024} KiB writes, ${a.copy} copy): ` +
    `${f(a.nsPerSegment, 0)} ns/segment CPU (fastest round ${f(a.nsPerSegmentMin, 0)}), ` +
    `${f(a.bytesPerSegment, 1)} B heap/segment, ${a.gcsInLoop} GCs in loop, ` +
    `${f(a.segmentsPerAck, 1)} segments/ACK`
  );
}

function frameLine(a: FrameReceiveResult): string {
  const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  return (
    `  receive path from the frame (Ethernet, IPv4, TCP, onread), ${a.payload}-byte payloads: ` +
    `${f(a.nsPerFrame, 0)} ns/frame CPU (fastest round ${f(a.nsPerFrameMin, 0)}), ` +
    `${f(a.bytesPerFrame, 1)} B heap/frame, ${a.gcsInLoop} GCs in loop`
  );
}

/** `target`: the bound on a reader that takes the data into its own buffer. */
function allocLine(reader: string, a: TcpAllocResult, target?: number): string {
  const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  return (
    `  receive path, in-process, ${reader} reader: ${f(a.bytesPerSegment, 1)} B heap/segment ` +
    `allocated, median of rounds (${f(a.bytesPerSegmentMin, 1)}-${f(a.bytesPerSegmentMax, 1)}; ` +
    `median round ${f(a.grossBytesPerSegment, 1)} with the measurement's own ` +
    `${f(a.harnessBytesPerSegment, 1)}; ${a.gcsInLoop} GCs in loop, counted), ` +
    `${f(a.nsPerSegment, 0)} ns/segment, ${f(a.acksPerSegment, 3)} ACKs/segment` +
    (target === undefined
      ? ''
      : `  (target <= ${target} B/segment ${a.bytesPerSegment <= target ? 'OK' : 'MISSED'})`)
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.getuid?.() !== 0) {
    process.stdout.write('bench tcp: needs root (network namespace + TAP); skipped\n');
  } else {
    const soak = Number(process.env.TCP_BENCH_SOAK_SECONDS ?? 0);
    if (soak > 0) {
      const r = await soakTcp(soak);
      const f = (n: number): string => n.toFixed(1);
      process.stdout.write(
        `TCP soak: ${r.transfers} transfers, ${r.gigabytes.toFixed(1)} GB in ${r.seconds} s\n` +
          r.samples
            .map(([t, heap, rss]) => `  t=${t}s heap ${f(heap)} MiB rss ${f(rss)} MiB`)
            .join('\n') +
          '\n',
      );
    } else {
      const r = await measureTcp(Number(process.env.TCP_BENCH_BYTES ?? 1 << 30));
      process.stdout.write(formatTcp(r) + '\n');
    }
  }
}
