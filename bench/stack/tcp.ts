/**
 * TCP throughput scenario for `bench:stack` (also runnable alone: `npx tsx bench/stack/tcp.ts`,
 * as root). Our stack runs in this process on a TAP in a namespace of its own (kernel side
 * 10.9.0.1, stack 10.9.0.2), pinned to one CPU with the kernel-side tools on the other:
 *   - kernel → stack: socat streams zeros into our discard server (port 9);
 *   - stack → kernel: we stream into `socat -u TCP-LISTEN:... /dev/null`;
 *   - connections per second: a Node client in the namespace opens and closes connections;
 * and beside it, the ceiling measured in the same run: kernel ↔ kernel over a veth pair between
 * two namespaces with offloads off (one frame per segment, as on the TAP).
 * Printed: Gbit/s, ratio to the kernel, CPU seconds per GB for our process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { RealClock } from '../../src/runtime/clock/real.js';
import { openTap, setKernelIpv4 } from '../../src/runtime/link/tap.js';
import { createStack } from '../../src/runtime/stack.js';
import { attachTcp, startDiscardServer, startEchoServer } from '../../src/runtime/tcp/index.js';

export interface TcpAllocResult {
  segments: number;
  bytesPerSegment: number;
  nsPerSegment: number;
  gcsInLoop: number;
  acksPerSegment: number;
}

/**
 * Receive-path cost per data segment in a child process (see tcp-alloc-child.ts). The socket's
 * per-segment Buffer is external memory whose pressure can start scavenges inside the loop;
 * when gcsInLoop > 0 the heap growth is a lower bound.
 */
export function measureTcpAllocation(segments = 200_000): TcpAllocResult {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--expose-gc',
      '--max-semi-space-size=128',
      '--min-semi-space-size=128',
      join(import.meta.dirname, 'tcp-alloc-child.ts'),
      String(segments),
    ],
    { encoding: 'utf8', timeout: 300_000 },
  );
  if (r.status !== 0) throw new Error(`tcp allocation probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as TcpAllocResult;
}

export interface TcpBenchResult {
  bytes: number;
  kernelToStack: { gbps: number; cpuSecondsPerGB: number };
  stackToKernel: { gbps: number; cpuSecondsPerGB: number };
  connectionsPerSecond: number;
  kernelVeth: { gbps: number };
  placement: string;
  alloc: TcpAllocResult;
}

/**
 * Kernel-side sockets use cubic (DESIGN.md: BBR is slower and retransmits spuriously on veth).
 * The namespace-wide sysctl is refused outside the initial namespace here (allowed list
 * "reno bbr"), so each socat socket asks for cubic itself with TCP_CONGESTION (root may).
 */
const CUBIC = 'setsockopt-string=6:13:cubic';

const NS = `pkt-tcp-bench-${process.pid}`;
const NS_A = `${NS}-a`;
const NS_B = `${NS}-b`;

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

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function netnsUp(ns: string): void {
  spawnSync('ip', ['netns', 'del', ns]);
  sh(['ip', 'netns', 'add', ns]);
  inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
  inNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.tcp_congestion_control=cubic']);
}

/** Kernel ↔ kernel over a veth with offloads off: the per-frame ceiling on this machine. */
function measureVeth(bytes: number, clientCpu: string, serverCpu: string): number {
  netnsUp(NS_A);
  netnsUp(NS_B);
  try {
    sh([
      'ip',
      'link',
      'add',
      'vb0',
      'netns',
      NS_A,
      'type',
      'veth',
      'peer',
      'name',
      'vb1',
      'netns',
      NS_B,
    ]);
    inNs(NS_A, ['ip', 'addr', 'add', '10.8.0.1/24', 'dev', 'vb0']);
    inNs(NS_B, ['ip', 'addr', 'add', '10.8.0.2/24', 'dev', 'vb1']);
    for (const [ns, dev] of [
      [NS_A, 'vb0'],
      [NS_B, 'vb1'],
    ]) {
      spawnSync('ip', [
        'netns',
        'exec',
        ns,
        'ethtool',
        '-K',
        dev,
        'tso',
        'off',
        'gso',
        'off',
        'gro',
        'off',
        'tx',
        'off',
        'rx',
        'off',
      ]);
      inNs(ns, ['ip', 'link', 'set', dev, 'up']);
    }
    const server = spawn('ip', [
      'netns',
      'exec',
      NS_B,
      'taskset',
      '-c',
      serverCpu,
      'socat',
      '-b',
      '262144',
      '-u',
      `TCP-LISTEN:5001,reuseaddr,${CUBIC}`,
      'OPEN:/dev/null',
    ]);
    spawnSync('sleep', ['0.3']);
    const t0 = process.hrtime.bigint();
    inNs(NS_A, [
      'bash',
      '-c',
      `head -c ${bytes} /dev/zero | taskset -c ${clientCpu} socat -b 262144 -u - TCP:10.8.0.2:5001,${CUBIC}`,
    ]);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    server.kill();
    return (bytes * 8) / seconds / 1e9;
  } finally {
    spawnSync('ip', ['netns', 'del', NS_A]);
    spawnSync('ip', ['netns', 'del', NS_B]);
  }
}

export async function measureTcp(bytes = 1 << 30): Promise<TcpBenchResult> {
  const cpus = availableParallelism();
  const stackCpu = cpus >= 2 ? '1' : '0';
  const toolCpu = '0';
  // Pin ourselves (the stack) away from the kernel-side tools.
  spawnSync('taskset', ['-pc', stackCpu, String(process.pid)]);
  netnsUp(NS);
  const clock = new RealClock();
  const tap = await openTap({ name: 'tap0', netns: NS });
  spawnSync('ip', ['netns', 'exec', NS, 'ip', 'link', 'set', 'tap0', 'txqueuelen', '10000']);
  setKernelIpv4({ name: 'tap0', address: 0x0a090001, prefixLength: 24, netns: NS });
  const stack = createStack({ link: tap, clock, ip: '10.9.0.2/24', gateway: '10.9.0.1' });
  const tcp = attachTcp(stack, { sndBuf: 4 << 20, rcvBuf: 4 << 20 });
  startEchoServer(tcp, 7);
  let received = 0;
  startDiscardServer(tcp, 9, (s) => (received = s.bytes));
  try {
    await inNsAsync(NS, ['ping', '-c', '1', '-W', '2', '10.9.0.2']);

    // kernel → stack
    let cpu0 = cpuSeconds();
    let t0 = process.hrtime.bigint();
    await inNsAsync(NS, [
      'bash',
      '-c',
      `head -c ${bytes} /dev/zero | taskset -c ${toolCpu} socat -b 262144 -u - TCP:10.9.0.2:9,${CUBIC}`,
    ]);
    while (received !== bytes) await new Promise((f) => setTimeout(f, 5));
    let seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const kernelToStack = {
      gbps: (bytes * 8) / seconds / 1e9,
      cpuSecondsPerGB: (cpuSeconds() - cpu0) / (bytes / 1e9),
    };

    // stack → kernel
    const sink = inNsAsync(NS, [
      'taskset',
      '-c',
      toolCpu,
      'socat',
      '-b',
      '262144',
      '-u',
      `TCP-LISTEN:5001,reuseaddr,${CUBIC}`,
      'OPEN:/dev/null',
    ]);
    await new Promise((f) => setTimeout(f, 300));
    cpu0 = cpuSeconds();
    t0 = process.hrtime.bigint();
    const socket = tcp.connect({ host: '10.9.0.1', port: 5001 });
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
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const stackToKernel = {
      gbps: (bytes * 8) / seconds / 1e9,
      cpuSecondsPerGB: (cpuSeconds() - cpu0) / (bytes / 1e9),
    };

    // Connections per second: open, one byte each way (echo), close.
    const count = 2000;
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
        const s = net.connect(7, '10.9.0.2', () => s.end('x'));
        s.on('data', () => {});
        s.on('error', () => { failed++; });
        s.on('close', finish);
      };
      for (let i = 0; i < 8; i++) one();`;
    const cpsOut = await inNsAsync(NS, ['taskset', '-c', toolCpu, process.execPath, '-e', script]);
    const { cps, failed } = JSON.parse(cpsOut) as { cps: number; failed: number };
    if (failed > 0) process.stderr.write(`bench tcp: ${failed} of ${count} connections failed\n`);

    const veth = measureVeth(bytes, toolCpu, stackCpu);
    const alloc = measureTcpAllocation();
    return {
      bytes,
      kernelToStack,
      stackToKernel,
      connectionsPerSecond: cps,
      kernelVeth: { gbps: veth },
      alloc,
      placement: `stack on CPU ${stackCpu}, kernel tools on CPU ${toolCpu} (${cpus} CPUs)`,
    };
  } finally {
    await stack.close();
    spawnSync('ip', ['netns', 'del', NS]);
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
 * Runs only when TCP_BENCH_SOAK_SECONDS is set (the issue's target is a 10-minute soak).
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
  return [
    `TCP (${(r.bytes / 2 ** 20).toFixed(0)} MiB each way; ${r.placement})`,
    `  kernel → stack  ${f(r.kernelToStack.gbps).padStart(6)} Gbit/s  ${f((r.kernelToStack.gbps / r.kernelVeth.gbps) * 100, 1)}% of kernel  ${f(r.kernelToStack.cpuSecondsPerGB)} CPU s/GB  (target >= 1 Gbit/s ${r.kernelToStack.gbps >= 1 ? 'OK' : 'MISSED'})`,
    `  stack → kernel  ${f(r.stackToKernel.gbps).padStart(6)} Gbit/s  ${f((r.stackToKernel.gbps / r.kernelVeth.gbps) * 100, 1)}% of kernel  ${f(r.stackToKernel.cpuSecondsPerGB)} CPU s/GB  (target >= 0.8 Gbit/s ${r.stackToKernel.gbps >= 0.8 ? 'OK' : 'MISSED'})`,
    `  kernel ↔ kernel over veth, offloads off: ${f(r.kernelVeth.gbps)} Gbit/s`,
    `  connections/s (open, echo 1 byte, close; 8 in parallel): ${f(r.connectionsPerSecond, 0)}`,
    `  receive path, in-process: ${f(r.alloc.bytesPerSegment, 1)} B heap/segment ` +
      `(${r.alloc.gcsInLoop > 0 ? `lower bound: ${r.alloc.gcsInLoop} GCs in loop` : 'no GC in loop'}), ` +
      `${f(r.alloc.nsPerSegment, 0)} ns/segment, ${f(r.alloc.acksPerSegment, 3)} ACKs/segment`,
  ].join('\n');
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
