/**
 * Shared by the kernel tests of HTTP, curl and the demo: a namespace of our own holding a
 * persistent tap0 (kernel side 10.0.0.1/24, IPv6 off so the kernel sends nothing unasked),
 * commands run inside it, and `pktstack run` started in it and awaited until its "up" event.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
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

  /**
   * Creates the namespace with only lo up and IPv6 off (deleting a leftover of the same name):
   * for a stack that makes its own TAP (`run --host-ip`).
   */
  static bare(name: string): Netns {
    const ns = new Netns(name);
    sh('ip', ['netns', 'del', name]);
    must(sh('ip', ['netns', 'add', name]), 'ip netns add');
    try {
      must(ns.run('ip', 'link', 'set', 'lo', 'up'), 'lo up');
      ns.run('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
      ns.run('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1');
    } catch (error) {
      ns.destroy();
      throw error;
    }
    return ns;
  }

  /**
   * `bare`, but with IPv6 on: the kernel's side of the TAP gets its link-local address, sends
   * router solicitations and MLD reports, and answers neighbor discovery, as a real host does.
   */
  static dualStack(name: string): Netns {
    const ns = Netns.bare(name);
    ns.run('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=0');
    ns.run('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=0');
    return ns;
  }

  /** Creates the namespace with tap0 = 10.0.0.1/24 (deleting a leftover of the same name). */
  static create(name: string): Netns {
    const ns = Netns.bare(name);
    try {
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
  /** Every JSON line printed so far, in order. */
  events: Array<Record<string, unknown>>;
  stderr(): string;
  /** The first `event` printed (maybe already), or rejects after `timeoutMs` or at exit. */
  waitFor(event: string, timeoutMs: number): Promise<Record<string, unknown>>;
  /** `signal` (SIGINT by default), then the exit code (SIGKILL after 5 s). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `pktstack run --log json ...args` in `ns` and waits for its "up" event; then, for a
 * static address, until it answers ping (`probe: false` for a test where it must not).
 */
export async function startStack(
  ns: Netns,
  args: string[],
  { probe = true }: { probe?: boolean } = {},
): Promise<RunningStack> {
  const child = ns.spawn(CLI[0], [...CLI.slice(1), 'run', '--log', 'json', ...args]);
  const events: Array<Record<string, unknown>> = [];
  // Called on every event and at exit: each pending waitFor looks again.
  const listeners = new Set<() => void>();
  let ended = false;
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  // 'close', not 'exit': stdout is drained by then, so the last event ("down") is in `events`.
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      ended = true;
      for (const l of listeners) l();
      resolve(code);
    }),
  );
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const l of listeners) l();
  });
  const running: RunningStack = {
    child,
    events,
    stderr: () => err,
    waitFor(event, timeoutMs) {
      return new Promise((resolve, reject) => {
        const finish = (): void => {
          clearTimeout(timer);
          listeners.delete(look);
        };
        const look = (): void => {
          const found = events.find((e) => e.event === event);
          if (found !== undefined) {
            finish();
            resolve(found);
          } else if (ended) {
            finish();
            reject(new Error(`pktstack run exited (${child.exitCode}) before "${event}": ${err}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(
              `pktstack run: no "${event}" event within ${timeoutMs} ms; ` +
                `got ${JSON.stringify(events)}; stderr: ${err}`,
            ),
          );
        }, timeoutMs);
        listeners.add(look);
        look();
      });
    },
    async stop(signal = 'SIGINT') {
      if (ended) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  try {
    const up = await running.waitFor('up', 20_000);
    if (probe && typeof up.ip === 'string') {
      await expectReachable(ns, up.ip.split('/')[0]).catch((error: Error) => {
        throw new Error(`${error.message} after "up"; stderr: ${err}`);
      });
    }
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}

/**
 * Fails within seconds when the stack at `address` does not answer ping from `ns`: a stack
 * that came up with a broken codec (or link) otherwise shows only as every later test
 * timing out after a minute. Asynchronous, so a stack running in this very process keeps
 * answering while it waits.
 */
export async function expectReachable(ns: string | Netns, address: string): Promise<void> {
  const name = typeof ns === 'string' ? ns : ns.name;
  const family = address.includes(':') ? '-6' : '-4';
  for (let attempt = 1; ; attempt++) {
    const ok = await new Promise<boolean>((resolve) =>
      execFile(
        'ip',
        ['netns', 'exec', name, 'ping', family, '-c', '1', '-W', '1', address],
        { timeout: 5000 },
        (error) => resolve(error === null),
      ),
    );
    if (ok) return;
    if (attempt === 5) {
      throw new Error(`the stack at ${address} answered none of 5 pings from namespace ${name}`);
    }
  }
}

/** Resolves once `check()` holds (polled every 50 ms); rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A stack on tap0 in a dual-stack namespace: kernel fd00::1/64 and 10.0.0.1/24. */
export interface Ipv6Lab {
  running: RunningStack;
  /** The stack's MAC and its link-local address (once preferred). */
  mac: string;
  linkLocal: string;
}

/**
 * Starts `pktstack run` as 10.0.0.2/24 and fd00::2/64 (plus `args`) in `ns` (made with
 * `Netns.dualStack`), gives the kernel's side fd00::1/64, and waits until DAD made both of the
 * stack's IPv6 addresses preferred.
 */
export async function startIpv6Stack(ns: Netns, args: string[]): Promise<Ipv6Lab> {
  const running = await startStack(ns, [
    '--tap',
    'tap0',
    '--ip',
    '10.0.0.2/24',
    '--host-ip',
    '10.0.0.1/24',
    '--ip6',
    'fd00::2/64',
    ...args,
  ]);
  const mac = String(running.events.find((e) => e.event === 'up')?.mac);
  must(ns.run('ip', '-6', 'addr', 'add', 'fd00::1/64', 'dev', 'tap0', 'nodad'), 'ip -6 addr');
  const preferred = (): Array<Record<string, unknown>> =>
    running.events.filter((e) => e.event === 'ipv6.address' && e.state === 'preferred');
  // startStack's IPv4 probe has shown the stack answering; the IPv6 tests ping for themselves.
  await until(() => preferred().length >= 2, 10_000);
  const ll = preferred().find((e) => String(e.address).startsWith('fe80:'));
  return { running, mac, linkLocal: String(ll?.address).split('/')[0] };
}
