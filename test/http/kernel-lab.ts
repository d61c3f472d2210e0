/**
 * Shared by the kernel tests of HTTP, curl and the demo: a namespace of our own holding a
 * persistent tap0 (kernel side 10.0.0.1/24, IPv6 off so the kernel sends nothing unasked),
 * commands run inside it, and `pktstack run` started in it and awaited until its "up" event.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const isRoot = process.getuid?.() === 0;
export const repoRoot = join(import.meta.dirname, '..', '..');
export const CLI = [process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts')];

export interface Result {
  code: number;
  out: string;
  err: string;
}

export function sh(cmd: string, args: string[], timeoutMs = 30_000, input?: string): Result {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, input, cwd: repoRoot });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

export function must(r: Result, what: string): Result {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.err || r.out}`);
  return r;
}

export class Netns {
  constructor(readonly name: string) {}

  /** Creates the namespace with tap0 = 10.0.0.1/24 (deleting a leftover of the same name). */
  static create(name: string): Netns {
    const ns = new Netns(name);
    sh('ip', ['netns', 'del', name]);
    must(sh('ip', ['netns', 'add', name]), 'ip netns add');
    try {
      must(ns.run('ip', 'link', 'set', 'lo', 'up'), 'lo up');
      ns.run('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
      ns.run('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1');
      ns.run('sysctl', '-qw', 'net.ipv4.tcp_congestion_control=cubic');
      must(ns.run('ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap'), 'tuntap add');
      must(ns.run('ip', 'link', 'set', 'tap0', 'address', '02:00:00:00:00:01'), 'tap mac');
      must(ns.run('ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'tap0'), 'tap addr');
      must(ns.run('ip', 'link', 'set', 'tap0', 'up'), 'tap up');
    } catch (error) {
      ns.destroy();
      throw error;
    }
    return ns;
  }

  run(cmd: string, ...args: string[]): Result {
    return sh('ip', ['netns', 'exec', this.name, cmd, ...args]);
  }

  runWithin(timeoutMs: number, cmd: string, ...args: string[]): Result {
    return sh('ip', ['netns', 'exec', this.name, cmd, ...args], timeoutMs);
  }

  spawn(cmd: string, args: string[]): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, cmd, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  destroy(): void {
    sh('ip', ['netns', 'del', this.name]);
  }
}

export interface RunningStack {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  stderr(): string;
  /** SIGINT, then the exit (SIGKILL after 5 s). */
  stop(): Promise<number | null>;
}

/** Starts `pktstack run --log json ...args` in `ns` and waits for its "up" event. */
export function startStack(ns: Netns, args: string[]): Promise<RunningStack> {
  const child = ns.spawn(CLI[0], [...CLI.slice(1), 'run', '--log', 'json', ...args]);
  const events: Array<Record<string, unknown>> = [];
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const running: RunningStack = {
    child,
    events,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void running.stop();
      reject(new Error(`pktstack run: no "up" event within 20 s; stderr: ${err}`));
    }, 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      events.push(e);
      if (e.event === 'up') {
        clearTimeout(timer);
        resolve(running);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`pktstack run exited early (${code}): ${err}`));
    });
  });
}
