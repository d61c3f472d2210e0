/**
 * HTTP scenario of `bench:stack` (runnable alone as root: `npx tsx bench/stack/http.ts`):
 * wrk requests/s and latency percentiles for a small response, served by the same node:http
 * handler (bench/stack/http-server.ts) on our stack through tap0 and on the kernel's own TCP
 * (loopback, in the same namespace), in the same run. Server pinned to one CPU, wrk to the
 * other; kernel and stack runs alternate so drift hits both, and the median round is shown. Target: our requests/s >= 50% of
 * node:http on the kernel.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLOCK_TICKS, CPUS } from './lab.js';

export interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  /** Server CPU time (user + system, from /proc) per request during the measured run. */
  cpuUsPerRequest: number;
}

export interface HttpBenchResult {
  stack: WrkResult;
  kernel: WrkResult;
  ratio: number;
  /** requests/s of every round, to show the spread. */
  rounds: { kernel: number[]; stack: number[] };
  placement: string;
  wrk: string;
}

const ROOT = join(import.meta.dirname, '..', '..');
const NS = `pkt-http-bench-${process.pid}`;
const DURATION_S = 5;
const CONNECTIONS = 10;
const ROUNDS = 3;

function sh(args: string[], timeoutMs = 60_000): string {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

const inNs = (args: string[], timeoutMs?: number): string =>
  sh(['ip', 'netns', 'exec', NS, ...args], timeoutMs);

function up(): void {
  sh(['ip', 'netns', 'add', NS]);
  inNs(['ip', 'link', 'set', 'lo', 'up']);
  inNs(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
  inNs(['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
  inNs(['ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap']);
  inNs(['ip', 'link', 'set', 'tap0', 'txqueuelen', '10000']);
  inNs(['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'tap0']);
  inNs(['ip', 'link', 'set', 'tap0', 'up']);
}

function down(): void {
  spawnSync('ip', ['netns', 'del', NS]);
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s)/m.exec(out);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)/m.exec(out);
  const requests = /(\d+) requests in/.exec(out);
  if (rps === null || p50 === null || p99 === null || requests === null) {
    throw new Error(`cannot read wrk output:\n${out}`);
  }
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors =
    (errs === null ? 0 : errs.slice(1).reduce((a, b) => a + Number(b), 0)) +
    (non2xx === null ? 0 : Number(non2xx[1]));
  return {
    requestsPerSecond: Number(rps[1]),
    p50Ms: toMs(p50[1], p50[2]),
    p99Ms: toMs(p99[1], p99[2]),
    requests: Number(requests[1]),
    errors,
    cpuUsPerRequest: NaN,
  };
}

/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function withServer<T>(
  args: string[],
  serverCpu: string,
  body: (pid: number) => T,
): Promise<T> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      NS,
      'taskset',
      '-c',
      serverCpu,
      process.execPath,
      '--import',
      'tsx',
      join(ROOT, 'bench/stack/http-server.ts'),
      ...args,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server not ready: ${stderr}`)), 30_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`server exited: ${stderr}`)));
    });
    // `ip netns exec` and taskset exec in place: this PID is node's.
    return body(child.pid!);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

function wrk(url: string, cpu: string, serverPid: number): WrkResult {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${DURATION_S}s`, '--latency', url];
  // Warm-up (JIT, ARP, connection setup), then the measured run.
  inNs(['taskset', '-c', cpu, 'wrk', '-t1', `-c${CONNECTIONS}`, '-d1s', url], 30_000);
  const cpuBefore = cpuSeconds(serverPid);
  const result = parseWrk(inNs(['taskset', '-c', cpu, 'wrk', ...args], (DURATION_S + 20) * 1000));
  result.cpuUsPerRequest = ((cpuSeconds(serverPid) - cpuBefore) * 1e6) / result.requests;
  return result;
}

/** The run with the median requests/s (load from other processes hits both targets alike). */
function median(runs: WrkResult[]): WrkResult {
  const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function measureHttp(): Promise<HttpBenchResult> {
  const cpus = CPUS;
  const serverCpu = cpus >= 2 ? '1' : '0';
  const clientCpu = '0';
  up();
  try {
    const kernelRuns: WrkResult[] = [];
    const stackRuns: WrkResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      kernelRuns.push(
        await withServer(['kernel', '127.0.0.1', '8080'], serverCpu, (pid) =>
          wrk('http://127.0.0.1:8080/', clientCpu, pid),
        ),
      );
      stackRuns.push(
        await withServer(['stack'], serverCpu, (pid) => wrk('http://10.0.0.2/', clientCpu, pid)),
      );
    }
    const kernel = median(kernelRuns);
    const stack = median(stackRuns);
    return {
      kernel,
      stack,
      ratio: stack.requestsPerSecond / kernel.requestsPerSecond,
      rounds: {
        kernel: kernelRuns.map((r) => Math.round(r.requestsPerSecond)),
        stack: stackRuns.map((r) => Math.round(r.requestsPerSecond)),
      },
      placement: `server on CPU ${serverCpu}, wrk on CPU ${clientCpu} (taskset); ${cpus} CPUs`,
      wrk: `wrk -t1 -c${CONNECTIONS} -d${DURATION_S}s, median of ${ROUNDS} alternating rounds`,
    };
  } finally {
    down();
  }
}

export function formatHttp(r: HttpBenchResult): string {
  const row = (name: string, w: WrkResult): string =>
    `${name.padEnd(28)} ${w.requestsPerSecond.toFixed(0).padStart(9)} ${w.p50Ms.toFixed(2).padStart(8)} ms ${w.p99Ms.toFixed(2).padStart(8)} ms ${String(w.errors).padStart(7)} ${w.cpuUsPerRequest.toFixed(1).padStart(9)} µs`;
  return [
    `HTTP (small response, same node:http handler): ${r.wrk}; ${r.placement}`,
    `${'server'.padEnd(28)} ${'req/s'.padStart(9)} ${'p50'.padStart(11)} ${'p99'.padStart(11)} ${'errors'.padStart(7)} ${'server CPU/req'.padStart(12)}`,
    row('node:http on kernel TCP (lo)', r.kernel),
    row('node:http on pktstack (tap0)', r.stack),
    `rounds (req/s): kernel ${r.rounds.kernel.join(', ')}; pktstack ${r.rounds.stack.join(', ')}`,
    `requests/s ratio pktstack/kernel: ${(r.ratio * 100).toFixed(1)}% (target >= 50%) ${r.ratio >= 0.5 ? 'OK' : 'MISSED'}`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.getuid?.() !== 0) {
    process.stdout.write('bench/stack/http.ts: needs root (network namespace + TAP); skipped\n');
  } else {
    process.once('SIGINT', () => {
      down();
      process.exit(130);
    });
    process.stdout.write(formatHttp(await measureHttp()) + '\n');
  }
}
