/**
 * The bench's lab: one network namespace of our own holding tap0 (kernel side 10.0.0.1/24), the
 * C helpers compiled into bench/.cache/, and the CPU placement every process gets. Deleted on
 * exit, also when a scenario throws.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ipv4 } from '../../src/generated/index.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CACHE = join(ROOT, 'bench', '.cache');
export const STACK_IP = '10.0.0.2';
export const HOST_IP = '10.0.0.1';

/**
 * linux/tcp.h TCP_CONGESTION: the socket option naming a socket's congestion control (a
 * socket-API number, not a wire field, so not in specs/).
 */
const TCP_CONGESTION = 13;

/**
 * socat address option asking a kernel socket for cubic (DESIGN.md: BBR is slower and
 * retransmits spuriously on veth and the TAP). The namespace-wide sysctl is refused outside the
 * initial namespace here (allowed list "reno bbr"), so each socket asks itself (root may). The
 * option level IPPROTO_TCP is, by the socket API's definition, TCP's protocol number.
 */
export const CUBIC = `setsockopt-string=${ipv4.IpProtocol.TCP}:${TCP_CONGESTION}:cubic`;

/**
 * The machine's CPUs, read once at load: the TCP scenarios pin this process to one CPU, after
 * which availableParallelism() (it follows the affinity mask) says 1.
 */
export const CPUS = availableParallelism();

export interface Placement {
  /** CPU list (taskset -c) for the process answering: our stack or the C responder. */
  responderCpus: string;
  /** CPU list for the kernel-side tools (ping, the UDP load generator). */
  clientCpus: string;
}

export class Lab {
  readonly ns = `pkt-stack-bench-${process.pid}`;
  readonly placement: Placement;

  constructor(placement: Placement) {
    this.placement = placement;
  }

  up(): void {
    run('ip', ['netns', 'add', this.ns]);
    this.exec('ip', ['link', 'set', 'lo', 'up']);
    this.exec('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    this.exec('sysctl', ['-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
    this.exec('ip', ['tuntap', 'add', 'dev', 'tap0', 'mode', 'tap']);
    this.exec('ip', ['link', 'set', 'tap0', 'txqueuelen', '10000']);
    this.exec('ip', ['addr', 'add', `${HOST_IP}/24`, 'dev', 'tap0']);
    this.exec('ip', ['link', 'set', 'tap0', 'up']);
  }

  down(): void {
    spawnSync('ip', ['netns', 'del', this.ns]);
  }

  /** Forget the neighbour entry, so each target is resolved afresh (they have different MACs). */
  flushNeighbours(): void {
    this.exec('ip', ['neigh', 'flush', 'dev', 'tap0']);
  }

  /** Runs a command in the namespace on the client CPUs and returns its output (throws on failure). */
  client(cmd: string, args: string[], timeoutMs = 60_000): string {
    return this.exec('taskset', ['-c', this.placement.clientCpus, cmd, ...args], timeoutMs).stdout;
  }

  exec(cmd: string, args: string[], timeoutMs = 60_000): SpawnSyncReturns<string> {
    return run('ip', ['netns', 'exec', this.ns, cmd, ...args], timeoutMs);
  }

  /** Starts a long-running responder in the namespace, pinned, and waits for `ready(line)`. */
  async startResponder(
    cmd: string,
    args: string[],
    ready: (line: string) => boolean,
  ): Promise<Responder> {
    const child = spawn(
      'ip',
      ['netns', 'exec', this.ns, 'taskset', '-c', this.placement.responderCpus, cmd, ...args],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${cmd} not ready in 30 s: ${stderr}`));
      }, 30_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (ready(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`${cmd} exited early: ${stderr}`)));
    });
    return new Responder(child, exited);
  }
}

/** USER_HZ, what /proc reports CPU times in (100 on Linux for every architecture we run on). */
export const CLOCK_TICKS = 100;

/** CPU seconds of a process, in user space and in the kernel. */
export interface CpuSplit {
  user: number;
  system: number;
}

/** The share of `b - a` spent in the kernel (NaN when there was none to split). */
export function kernelShare(a: CpuSplit, b: CpuSplit): number {
  const user = b.user - a.user;
  const system = b.system - a.system;
  return user + system > 0 ? system / (user + system) : NaN;
}

export class Responder {
  constructor(
    readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  /**
   * CPU time the responder has used so far, in ns, summed over its threads (schedstat). The
   * process is the child itself: `ip netns exec` and `taskset` exec into it.
   */
  cpuNs(): number {
    const pid = this.child.pid;
    if (pid === undefined) return NaN;
    let total = 0;
    try {
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
      }
    } catch {
      return NaN;
    }
    return total;
  }

  /**
   * User and system CPU seconds so far, all threads (/proc/PID/stat utime and stime, in clock
   * ticks of 10 ms): coarser than cpuNs, for the share of the time spent in the kernel.
   */
  cpuSplit(): CpuSplit {
    const pid = this.child.pid;
    if (pid === undefined) return { user: NaN, system: NaN };
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
    } catch {
      return { user: NaN, system: NaN };
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * CPU time the whole machine has spent busy so far (every CPU, every process, the kernel's
 * softirq work included), in seconds, from /proc/stat: what a transfer costs all told, the
 * kernel-side tools and the kernel's TCP included. Other load on the machine counts too.
 */
export function machineCpuSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1);
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const [user, nice, system, , , irq, softirq, steal] = fields.slice(0, 8).map(Number);
  return (user + nice + system + irq + softirq + steal) / USER_HZ;
}

/** /proc/stat's unit (sysconf(_SC_CLK_TCK)); 100 on every Linux architecture Node runs on. */
const USER_HZ = 100;

export function run(cmd: string, args: string[], timeoutMs = 120_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`,
    );
  }
  return r;
}

/** Compiles one of the bench's C helpers into bench/.cache/ and returns the binary's path. */
export function compileC(name: string): string {
  mkdirSync(CACHE, { recursive: true });
  const out = join(CACHE, name);
  run('cc', ['-O2', '-Wall', '-Wextra', '-o', out, join(ROOT, 'bench', 'stack', `${name}.c`)]);
  return out;
}
