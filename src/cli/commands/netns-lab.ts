/**
 * What `pktstack demo` and `pktstack sandbox` share: a network namespace holding tap0 (kernel
 * side 10.0.0.1/24, IPv6 off, cubic), commands run inside it with `ip netns exec`, and this
 * very CLI started inside it as `pktstack run` (same node, same loader flags, same script, so
 * it works from src/ under tsx and from dist/ alike).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { createInterface } from 'node:readline';

export const KERNEL_CIDR = '10.0.0.1/24';
export const KERNEL_IP = '10.0.0.1';
export const STACK_CIDR = '10.0.0.2/24';
export const STACK_IP = '10.0.0.2';
export const KERNEL_MAC = '02:00:00:00:00:01';
/** The IPv6 pair on the same link (namespaces made with `{ ipv6: true }`). */
export const KERNEL6_CIDR = 'fd00::1/64';
export const STACK6_CIDR = 'fd00::2/64';
export const STACK6_IP = 'fd00::2';

export class LabError extends Error {}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Commands started by `exec` and still running, so a Ctrl-C can end them too. */
const running = new Set<ChildProcess>();

/** Ends (SIGKILL) every command `exec` started that is still running. */
export function killRunningCommands(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Runs a command to completion (never rejects: the exit code says how it went). */
export function exec(
  cmd: string,
  args: string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        running.delete(child);
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr: stderr || (error?.message ?? '') });
      },
    );
    running.add(child);
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export function inNamespace(
  ns: string,
  cmd: string,
  args: string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  return exec('ip', ['netns', 'exec', ns, cmd, ...args], options);
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Throws a LabError naming the first of `tools` that cannot be run. */
export async function requireTools(tools: Array<[string, string]>): Promise<void> {
  for (const [tool, arg] of tools) {
    const r = await exec(tool, [arg], { timeoutMs: 5000 });
    if (r.code === -1 && /ENOENT/.test(r.stderr)) {
      throw new LabError(`${tool} is not installed (see scripts/install.sh)`);
    }
  }
}

export async function namespaceExists(ns: string): Promise<boolean> {
  const r = await exec('ip', ['netns', 'list']);
  return r.stdout.split('\n').some((line) => line.split(' ')[0] === ns);
}

/**
 * Makes namespace `ns` with lo up and a persistent tap0 = 10.0.0.1/24, and with `ipv6` also
 * fd00::1/64 (IPv6 off otherwise, so the kernel sends nothing the lab did not ask for); undoes
 * it on failure.
 */
export async function createNamespace(ns: string, options: { ipv6?: boolean } = {}): Promise<void> {
  const add = await exec('ip', ['netns', 'add', ns]);
  if (add.code !== 0) throw new LabError(`ip netns add ${ns}: ${add.stderr.trim()}`);
  const v6 = options.ipv6 === true ? '0' : '1';
  const steps: string[][] = [
    ['ip', 'link', 'set', 'lo', 'up'],
    ['sysctl', '-qw', `net.ipv6.conf.all.disable_ipv6=${v6}`],
    ['sysctl', '-qw', `net.ipv6.conf.default.disable_ipv6=${v6}`],
    ['ip', 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap'],
    ['ip', 'link', 'set', 'tap0', 'address', KERNEL_MAC],
    ['ip', 'addr', 'add', KERNEL_CIDR, 'dev', 'tap0'],
    ...(options.ipv6 === true
      ? [['ip', '-6', 'addr', 'add', KERNEL6_CIDR, 'dev', 'tap0', 'nodad']]
      : []),
    ['ip', 'link', 'set', 'tap0', 'up'],
  ];
  for (const [cmd, ...args] of steps) {
    const r = await inNamespace(ns, cmd, args);
    if (r.code !== 0) {
      await deleteNamespace(ns);
      throw new LabError(`${cmd} ${args.join(' ')} in ${ns}: ${r.stderr.trim()}`);
    }
  }
  // Not essential (BBR is slower over a TAP here); ignore kernels without cubic.
  await inNamespace(ns, 'sysctl', ['-qw', 'net.ipv4.tcp_congestion_control=cubic']);
}

export async function deleteNamespace(ns: string): Promise<void> {
  if (await namespaceExists(ns)) await exec('ip', ['netns', 'del', ns]);
}

/** This CLI as a command line: node, its flags (e.g. `--import tsx`), the main script. */
export function selfCommand(): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1]];
}

export interface StackProcess {
  child: ChildProcess;
  /** The "up" event's fields. */
  up: Record<string, unknown>;
  /** The "offloads.fallback" event logged before "up" (the kernel refused some), or null. */
  fallback: Record<string, unknown> | null;
  /** Resolves with the "down" event (stats), or null if the process ended without one. */
  down: Promise<Record<string, unknown> | null>;
  exited: Promise<number | null>;
}

/**
 * Starts `pktstack run --log json ARGS` inside `ns`. Attached: events are read from its stdout.
 * With `logFile`, the process is detached (outlives us) and its output goes to that file.
 */
export function startStack(
  ns: string,
  args: string[],
  options: { logFile?: string; upTimeoutMs?: number } = {},
): Promise<StackProcess> {
  const [node, ...rest] = selfCommand();
  const argv = ['netns', 'exec', ns, node, ...rest, 'run', '--log', 'json', ...args];
  const detached = options.logFile !== undefined;
  const out = detached ? openSync(options.logFile!, 'a') : 'pipe';
  const child = spawn('ip', argv, { stdio: ['ignore', out, out], detached });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (detached) {
    child.unref();
    return waitForUpInFile(child, options.logFile!, exited, options.upTimeoutMs ?? 20_000);
  }
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  let gotDown: (e: Record<string, unknown> | null) => void = () => undefined;
  const down = new Promise<Record<string, unknown> | null>((resolve) => (gotDown = resolve));
  void exited.then(() => gotDown(null));
  let fallback: Record<string, unknown> | null = null;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new LabError(`pktstack run did not come up in ${ns}: ${stderr.trim()}`));
    }, options.upTimeoutMs ?? 20_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new LabError(`pktstack run exited (${code}) in ${ns}: ${stderr.trim()}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (event.event === 'up') {
        clearTimeout(timer);
        resolve({ child, up: event, fallback, down, exited });
      } else if (event.event === 'offloads.fallback') {
        fallback = event;
      } else if (event.event === 'down') {
        gotDown(event);
      }
    });
  });
}

async function waitForUpInFile(
  child: ChildProcess,
  logFile: string,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<StackProcess> {
  const { readFile } = await import('node:fs/promises');
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    let fallback: Record<string, unknown> | null = null;
    for (const line of text.split('\n')) {
      if (line.startsWith('{"event":"offloads.fallback"'))
        fallback = JSON.parse(line) as Record<string, unknown>;
      if (!line.startsWith('{"event":"up"')) continue;
      const up = JSON.parse(line) as Record<string, unknown>;
      return { child, up, fallback, down: Promise.resolve(null), exited };
    }
    if (exitCode !== undefined) {
      throw new LabError(`pktstack run exited (${exitCode}); see ${logFile}:\n${text.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new LabError(`pktstack run did not come up within ${timeoutMs / 1000} s; see ${logFile}`);
}

/** `--no-offload` when `offload` is false: `pktstack run` asks for offloads by default. */
export function offloadArgs(offload: boolean): string[] {
  return offload ? [] : ['--no-offload'];
}

/**
 * What the stack's TAP took of the offloads (its "up" event's summary, e.g. "vnet-hdr csum tso4
 * tso6" or "none"), then, when the kernel refused some, the "offloads.fallback" event as
 * `pktstack run` logs it (reason and what it uses instead) on a line of its own.
 */
export function describeOffloads(p: StackProcess): { summary: string; fallback: string | null } {
  const f = p.fallback;
  return {
    summary: String(p.up.offloads ?? 'none'),
    fallback:
      f === null
        ? null
        : `offloads.fallback tap=${String(f.tap)} reason=${String(f.reason)} using=${String(f.using)}`,
  };
}

/** SIGINT, then SIGKILL if it has not exited after `graceMs`. */
export async function stopStack(p: StackProcess, graceMs = 5000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGINT');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}
