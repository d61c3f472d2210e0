/**
 * `pktstack curl` through the stack against the kernel's side of tap0: busybox httpd serving a
 * 50 MB file (SHA-256 equal), dnsmasq for DHCP and names, and each failure's one-line error and
 * curl-style exit status (22 HTTP error, 7 refused, 28 timeout, 6 unknown name).
 * Needs root, busybox and dnsmasq; skipped otherwise.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, Netns, type Result } from '../http/kernel-lab.js';

const has = (tool: string, arg: string): boolean => spawnSync(tool, [arg]).status !== null;
const ready = isRoot && has('busybox', '--help') && has('dnsmasq', '--version');
const BIG = 50 * 1024 * 1024;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe.skipIf(!ready)('pktstack curl against the kernel', () => {
  let ns: Netns;
  let dir = '';
  const daemons: ChildProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pkt-curl-k-'));
    const www = join(dir, 'www');
    mkdirSync(www);
    // Random content: the test compares the served file with the fetched one.
    writeFileSync(join(www, 'big.bin'), randomBytes(BIG));
    writeFileSync(join(www, 'mid.bin'), randomBytes(5_000_000));
    writeFileSync(join(www, 'hello.txt'), 'hello over tap0\n');
    mkdirSync(join(www, 'sub'));
    writeFileSync(join(www, 'sub', 'index.html'), 'sub index\n');
    ns = Netns.create(`pkt-curl-k${process.pid}`);
    daemons.push(ns.spawn('busybox', ['httpd', '-f', '-p', '10.0.0.1:8080', '-h', www]));
    daemons.push(
      ns.spawn('dnsmasq', [
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--interface=tap0',
        '--bind-interfaces',
        '--except-interface=lo',
        '--dhcp-range=10.0.0.50,10.0.0.60,2m',
        '--host-record=web.test,10.0.0.1',
        '--local=/test/',
        '--no-resolv',
        '--no-hosts',
        '--no-ping',
        `--dhcp-leasefile=${join(dir, 'leases')}`,
        `--pid-file=${join(dir, 'dnsmasq.pid')}`,
        '--user=root',
        '--group=root',
      ]),
    );
    // httpd answers on the kernel side once it listens.
    for (let i = 0; i < 50; i++) {
      if (ns.run('curl', '-sf', '-o', '/dev/null', 'http://10.0.0.1:8080/hello.txt').code === 0)
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(() => {
    for (const d of daemons) if (d.exitCode === null) d.kill('SIGTERM');
    ns?.destroy();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  function curl(timeoutMs: number, ...args: string[]): Result {
    return ns.runWithin(timeoutMs, CLI[0], ...CLI.slice(1), 'curl', '--tap', 'tap0', ...args);
  }

  it('fetches 50 MB from busybox httpd with an equal SHA-256', async () => {
    const out = join(dir, 'got.bin');
    const started = performance.now();
    const r = curl(60_000, '--ip', '10.0.0.2/24', '-v', '-o', out, 'http://10.0.0.1:8080/big.bin');
    const seconds = (performance.now() - started) / 1000;
    expect(r.err).toContain('HTTP/1.1 200');
    expect(r.code).toBe(0);
    expect(await sha256File(out)).toBe(await sha256File(join(dir, 'www', 'big.bin')));
    // The measured rate, for the report (a process start is included).
    console.log(
      `pktstack curl: 50 MiB in ${seconds.toFixed(2)} s; ${/\* \d+ bytes.*/.exec(r.err)?.[0]}`,
    );
  }, 70_000);

  it('draws a progress bar on a terminal (and only there)', () => {
    const out = join(dir, 'tty.bin');
    const cmd = [
      'ip',
      'netns',
      'exec',
      ns.name,
      ...CLI,
      'curl',
      '--tap',
      'tap0',
      '--ip',
      '10.0.0.2/24',
      '-o',
      out,
      'http://10.0.0.1:8080/mid.bin',
    ].join(' ');
    // `script` runs the command on a pseudo-terminal and copies what it drew.
    const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/\d+% \| \d+\/5000000 bytes/);
    // Without a terminal (the test above), stderr stays empty apart from -v lines.
    const quiet = curl(60_000, '--ip', '10.0.0.2/24', '-o', out, 'http://10.0.0.1:8080/mid.bin');
    expect(quiet).toMatchObject({ code: 0, err: '' });
  }, 130_000);

  it('follows a redirect with -L (busybox answers /sub with 301 to /sub/)', () => {
    const plain = curl(20_000, '--ip', '10.0.0.2/24', 'http://10.0.0.1:8080/sub');
    expect(plain.code).toBe(0);
    expect(plain.out).not.toBe('sub index\n');
    const followed = curl(20_000, '--ip', '10.0.0.2/24', '-L', '-v', 'http://10.0.0.1:8080/sub');
    expect(followed).toMatchObject({ code: 0, out: 'sub index\n' });
    expect(followed.err).toContain('* following to http://10.0.0.1:8080/sub/');
  });

  it('writes the body to stdout', () => {
    const r = curl(20_000, '--ip', '10.0.0.2/24', 'http://10.0.0.1:8080/hello.txt');
    expect(r).toMatchObject({ code: 0, out: 'hello over tap0\n' });
  });

  it('gets an address by DHCP and resolves a name with the lease DNS server', () => {
    const r = curl(40_000, '--dhcp', '-v', 'http://web.test:8080/hello.txt');
    expect(r.out).toBe('hello over tap0\n');
    expect(r.err).toMatch(/\* address 10\.0\.0\.(5\d|60)/);
    expect(r.err).toContain('web.test is 10.0.0.1');
    expect(r.code).toBe(0);
  }, 45_000);

  it.each([
    ['an HTTP error status', ['http://10.0.0.1:8080/missing'], 22, /HTTP 404 Not Found/],
    ['a closed port', ['http://10.0.0.1:8081/'], 7, /connection refused by 10\.0\.0\.1:8081/],
    [
      'an address nobody has',
      ['--connect-timeout', '1', 'http://10.0.0.99/'],
      28,
      /timed out talking to 10\.0\.0\.99:80/,
    ],
    [
      'an unknown name',
      ['--dns', '10.0.0.1', 'http://nx.test/'],
      6,
      /could not resolve host nx\.test/,
    ],
  ])('reports %s in one line', (_what, args, exit, message) => {
    const r = curl(20_000, '--ip', '10.0.0.2/24', ...args);
    expect(r.code).toBe(exit);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(message);
  });

  it('fails in one line when no DHCP server answers', () => {
    const quiet = Netns.create(`pkt-curl-q${process.pid}`);
    try {
      const r = quiet.runWithin(
        20_000,
        CLI[0],
        ...CLI.slice(1),
        'curl',
        '--tap',
        'tap0',
        '--dhcp',
        '--dhcp-timeout',
        '2',
        'http://10.0.0.1/',
      );
      expect(r.code).toBe(1);
      expect(r.err.trim()).toBe(
        'pktstack curl: no DHCP lease on tap0 within 2 s (is a DHCP server on that link?)',
      );
    } finally {
      quiet.destroy();
    }
  });
});
