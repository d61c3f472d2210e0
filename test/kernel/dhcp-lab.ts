/**
 * A namespace with tap0 (kernel side 10.0.0.1/24) and dnsmasq serving DHCP and DNS on it, for
 * the DHCP/DNS kernel tests. The stack runs in the namespace as a child process
 * (`ip netns exec NS node --import tsx src/cli/main.ts ...`) attached to tap0.
 *
 * Every namespace is uniquely named (`dhcp-<pid>-<n>`) and torn down by `down()`, which the
 * tests call in afterAll (and which is also registered for process exit).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const KERNEL_IP = '10.0.0.1';
export const HOST_RECORDS: Record<string, string> = {
  'host.test': '10.0.0.7',
  'multi.test': '10.0.0.8',
};

export function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, TAP devices)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun (tun module missing)';
  try {
    execFileSync('dnsmasq', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'dnsmasq is not installed (scripts/install.sh)';
  }
  return null;
}

let counter = 0;

export interface Lab {
  ns: string;
  dir: string;
  log(): string;
  dnsmasq: ChildProcess;
  down(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface LabOptions {
  /** Lease time (dnsmasq's minimum is 2m). */
  lease?: string;
  /** First and last address dnsmasq hands out, e.g. '10.0.0.50,10.0.0.60'. */
  range?: string;
  /** More dnsmasq options. */
  extra?: string[];
  /**
   * IPv6 on tap0 too: the kernel side gets fd00::1/64, and dnsmasq serves DNS on it and sends
   * router advertisements for fd00::/64 (SLAAC, stateless) with itself as RDNSS server.
   */
  ipv6?: boolean;
}

/** The kernel's IPv6 address on tap0 with `ipv6: true`. */
export const KERNEL_IP6 = 'fd00::1';

const live = new Set<() => void>();

/** Tears down every lab this process still has (for afterAll, whatever a test left behind). */
export function downAll(): void {
  for (const down of [...live]) down();
}

/** Rejects after `ms` so a test's `finally` still runs when something never happens. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Creates the namespace and starts dnsmasq on its tap0. */
export async function up(options: LabOptions = {}): Promise<Lab> {
  const lease = options.lease ?? '2m';
  const range = options.range ?? '10.0.0.50,10.0.0.60';
  const ns = `dhcp-${process.pid}-${counter++}`;
  const dir = mkdtempSync(join(tmpdir(), `${ns}-`));
  let dnsmasq: ChildProcess | null = null;
  const down = (): void => {
    live.delete(down);
    if (dnsmasq !== null && dnsmasq.exitCode === null && dnsmasq.pid !== undefined) {
      try {
        process.kill(dnsmasq.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // never created or already removed
    }
    rmSync(dir, { recursive: true, force: true });
  };
  live.add(down);
  process.once('exit', down);
  try {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'tuntap', 'add', 'dev', 'tap0', 'mode', 'tap');
    ip('-n', ns, 'addr', 'add', `${KERNEL_IP}/24`, 'dev', 'tap0');
    ip('-n', ns, 'link', 'set', 'tap0', 'up');
    if (options.ipv6 === true) {
      ip('-n', ns, '-6', 'addr', 'add', `${KERNEL_IP6}/64`, 'dev', 'tap0', 'nodad');
      // A router's RAs carry a non-zero lifetime only when it forwards.
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
    } else {
      // No IPv6 chatter (RS, MLD, DAD) into the stack.
      execFileSync('ip', [
        'netns',
        'exec',
        ns,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
      ]);
    }
    const ra =
      options.ipv6 === true
        ? [
            '--enable-ra',
            '--dhcp-range=::,constructor:tap0,ra-stateless,64,1h',
            `--dhcp-option=option6:dns-server,[${KERNEL_IP6}]`,
          ]
        : [];
    const hostRecords = Object.entries(HOST_RECORDS).map(([n, a]) => `--host-record=${n},${a}`);
    dnsmasq = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'dnsmasq',
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--interface=tap0',
        '--bind-interfaces',
        '--except-interface=lo',
        `--dhcp-range=${range},${lease}`,
        ...hostRecords,
        '--cname=www.test,host.test',
        '--local=/test/',
        '--domain=test',
        '--local-ttl=30',
        '--no-resolv',
        '--no-hosts',
        '--no-ping',
        '--log-dhcp',
        '--log-queries',
        `--log-facility=${join(dir, 'dnsmasq.log')}`,
        `--dhcp-leasefile=${join(dir, 'leases')}`,
        `--pid-file=${join(dir, 'dnsmasq.pid')}`,
        '--user=root',
        '--group=root',
        ...ra,
        ...(options.extra ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // `ip netns exec` execs dnsmasq in place, so this PID is dnsmasq's own.
    const started = Date.now();
    while (!readLog(dir).includes('cleared cache') && Date.now() - started < 5000) {
      if (dnsmasq.exitCode !== null) throw new Error(`dnsmasq exited with ${dnsmasq.exitCode}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    down();
    throw err;
  }
  const proc = dnsmasq;
  return {
    ns,
    dir,
    dnsmasq: proc,
    log: () => readLog(dir),
    down,
  };
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'dnsmasq.log'), 'utf8');
  } catch {
    return '';
  }
}

/** Runs to completion and collects output. */
export function runToEnd(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
