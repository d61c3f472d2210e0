/**
 * `pktstack run --echo 7 --discard 9` on a TAP in a namespace of our own: the kernel's socat
 * talks to the RFC 862/863 services; a closed port answers RST (connection refused). Needs root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const isRoot = process.getuid?.() === 0;
const NS = `pkt-tcp-r${process.pid}`;
const root = join(import.meta.dirname, '..', '..');

function inNs(args: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync('ip', ['netns', 'exec', NS, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    input,
  });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

describe.skipIf(!isRoot)('pktstack run --echo --discard against the kernel', () => {
  let child: ChildProcess | undefined;
  let exited: Promise<number | null> = Promise.resolve(null);
  let running = false;
  const lines: string[] = [];

  beforeAll(async () => {
    spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    if (spawnSync('ip', ['netns', 'add', NS]).status !== 0) throw new Error('ip netns add failed');
    inNs(['ip', 'link', 'set', 'lo', 'up']);
    inNs(['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    inNs(['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1']);
    child = spawn(
      'ip',
      [
        'netns',
        'exec',
        NS,
        process.execPath,
        '--import',
        'tsx',
        'src/cli/main.ts',
        'run',
        '--tap',
        'tap0',
        '--ip',
        '10.0.0.2/24',
        '--host-ip',
        '10.0.0.1/24',
        '--echo',
        '7',
        '--discard',
        '9',
        '--log',
        'json',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running = true;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    exited = new Promise((resolve) =>
      child?.on('exit', (code) => {
        running = false;
        resolve(code);
      }),
    );
    const rl = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "up" within 20 s: ${stderr}`)), 20_000);
      rl.on('line', (line) => {
        lines.push(line);
        if ((JSON.parse(line) as { event: string }).event === 'up') {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`pktstack run exited early: ${stderr}`)));
    });
  }, 30_000);

  afterAll(async () => {
    if (child !== undefined && running) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  });

  it('announces the services in its "up" event', () => {
    expect(JSON.parse(lines[0])).toMatchObject({ event: 'up', echo: 7, discard: 9 });
  });

  it('echoes on port 7', () => {
    const payload = 'abc'.repeat(10_000);
    const r = inNs(['socat', '-t', '2', '-', 'TCP:10.0.0.2:7'], payload);
    expect(r.code).toBe(0);
    expect(r.out).toBe(payload);
  });

  it('discards on port 9 and closes cleanly', () => {
    const r = inNs(['socat', '-u', '-', 'TCP:10.0.0.2:9'], 'x'.repeat(100_000));
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
  });

  it('refuses a closed port', () => {
    const r = inNs(['socat', '-', 'TCP:10.0.0.2:12345'], 'x');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/Connection refused/);
  });
});
