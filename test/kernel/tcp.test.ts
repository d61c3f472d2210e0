/**
 * Our TCP against the Linux kernel's, over TAP devices in a namespace of our own: the stack runs
 * in this process (RealClock) on tap0 (10.0.0.2, kernel side 10.0.0.1) and, for the loss test,
 * on tap1 behind our seeded fault injector (10.1.0.2, kernel side 10.1.0.1). The kernel's own
 * tools (curl, socat, hping3, a Node client) run inside the namespace. Needs root.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/runtime/clock/real.js';
import { expectReachable } from '../http/kernel-lab.js';
import { injectFaults } from '../../src/runtime/link/faults.js';
import type { Link } from '../../src/runtime/link/link.js';
import { recordPcap } from '../../src/runtime/link/pcap-recorder.js';
import { openTap, setKernelIpv4 } from '../../src/runtime/link/tap.js';
import { createStack, type Stack } from '../../src/runtime/stack.js';
import {
  attachTcp,
  startDiscardServer,
  startEchoServer,
  type DiscardSession,
  type TcpLayer,
} from '../../src/runtime/tcp/index.js';

const isRoot = process.getuid?.() === 0;
const NS = `pkt-tcp-k${process.pid}`;
const BIG = 100 << 20;

interface Result {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a command inside the namespace without blocking the event loop (the stack lives here). */
function inNs(
  args: string[],
  options: { input?: Buffer; timeoutMs?: number } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', NS, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.on('error', () => undefined);
    if (options.input) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

function shSync(cmd: string, args: string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

describe.skipIf(!isRoot)('TCP against the Linux kernel over a TAP', () => {
  let dir = '';
  let stack: Stack;
  let tcp: TcpLayer;
  let lossyStack: Stack;
  let pcapStack: Stack;
  let lossyTcp: TcpLayer;
  let pcapPath = '';
  const sessions: DiscardSession[] = [];
  const lossySessions: DiscardSession[] = [];
  let bigFile = '';
  let bigSha = '';
  const body = randomBytes(10 << 20);

  /** Echo on 7, discard (hashing) on 9, and a minimal HTTP/1.0 responder on 80 serving `body`. */
  function serve(layer: TcpLayer, into: DiscardSession[]): void {
    startEchoServer(layer, 7);
    startDiscardServer(layer, 9, (s) => into.push(s));
    layer.listen(80, (s) => {
      let head = '';
      s.on('error', () => undefined);
      s.on('data', (d: Buffer) => {
        if (head.includes('\r\n\r\n')) return;
        head += d.toString('latin1');
        if (head.includes('\r\n\r\n')) {
          s.write(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
          s.end(body);
        }
      });
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pkt-tcp-k-'));
    shSync('ip', ['netns', 'del', NS]);
    const add = spawnSync('ip', ['netns', 'add', NS]);
    if (add.status !== 0) throw new Error(`ip netns add ${NS} failed`);
    for (const args of [
      ['ip', 'link', 'set', 'lo', 'up'],
      ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'],
      ['sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1'],
      ['sysctl', '-qw', 'net.ipv4.tcp_congestion_control=cubic'],
    ]) {
      shSync('ip', ['netns', 'exec', NS, ...args]);
    }
    const clock = new RealClock();
    const tap0 = await openTap({ name: 'tap0', netns: NS });
    setKernelIpv4({ name: 'tap0', address: 0x0a000001, prefixLength: 24, netns: NS });
    stack = createStack({ link: tap0, clock, ip: '10.0.0.2/24', gateway: '10.0.0.1' });
    tcp = attachTcp(stack, { sndBuf: 1 << 20, rcvBuf: 1 << 20 });
    serve(tcp, sessions);

    // A third stack records a pcap of a few small exchanges for tshark to judge.
    const tap2 = await openTap({ name: 'tap2', netns: NS });
    setKernelIpv4({ name: 'tap2', address: 0x0a020001, prefixLength: 24, netns: NS });
    pcapPath = join(dir, 'tap2.pcap');
    const link2: Link = recordPcap(tap2, pcapPath);
    pcapStack = createStack({ link: link2, clock, ip: '10.2.0.2/24', gateway: '10.2.0.1' });
    serve(attachTcp(pcapStack), []);

    const tap1 = await openTap({ name: 'tap1', netns: NS });
    setKernelIpv4({ name: 'tap1', address: 0x0a010001, prefixLength: 24, netns: NS });
    const faulty = injectFaults(tap1, {
      seed: 7,
      clock,
      tx: { drop: 0.05, reorder: 0.02, reorderMs: 1 },
      rx: { drop: 0.05, reorder: 0.02, reorderMs: 1 },
    });
    lossyStack = createStack({ link: faulty, clock, ip: '10.1.0.2/24', gateway: '10.1.0.1' });
    lossyTcp = attachTcp(lossyStack, { sndBuf: 1 << 20, rcvBuf: 1 << 20 });
    startDiscardServer(lossyTcp, 9, (s) => lossySessions.push(s));

    bigFile = join(dir, 'big.bin');
    const big = randomBytes(BIG);
    writeFileSync(bigFile, big);
    bigSha = sha256(big);
    // Every stack answers before any test runs (a broken one fails here in seconds), and
    // ARP is resolved, so timing-sensitive tests do not include resolution.
    for (const address of ['10.0.0.2', '10.1.0.2', '10.2.0.2']) await expectReachable(NS, address);
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await lossyStack?.close();
    await pcapStack?.close();
    shSync('ip', ['netns', 'del', NS]);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('socat round-trips through our echo server', async () => {
    const r = await inNs(['socat', '-t', '2', '-', 'TCP:10.0.0.2:7'], {
      input: Buffer.from('hello, stack\n'),
    });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('hello, stack\n');
  });

  it('curl downloads 10 MB from us with the right SHA-256', async () => {
    const r = await inNs(['curl', '-sS', '--max-time', '60', 'http://10.0.0.2/'], {
      timeoutMs: 70_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.length).toBe(body.length);
    expect(sha256(r.stdout)).toBe(sha256(body));
  }, 80_000);

  it('kernel → stack: 100 MB with matching SHA-256', async () => {
    const before = sessions.length;
    const r = await inNs(['socat', '-u', `OPEN:${bigFile}`, 'TCP:10.0.0.2:9'], {
      timeoutMs: 120_000,
    });
    expect(r.stderr).toBe('');
    const deadline = Date.now() + 10_000;
    while (sessions.length === before && Date.now() < deadline)
      await new Promise((f) => setTimeout(f, 20));
    expect(sessions.at(-1)).toMatchObject({ bytes: BIG, sha256: bigSha });
  }, 130_000);

  it('stack → kernel: 100 MB with matching SHA-256', async () => {
    const out = join(dir, 'received.bin');
    const server = inNs(['socat', '-u', 'TCP-LISTEN:5001,reuseaddr', `CREATE:${out}`], {
      timeoutMs: 120_000,
    });
    await new Promise((f) => setTimeout(f, 300)); // let socat listen
    const socket = tcp.connect({ host: '10.0.0.1', port: 5001 });
    let error: Error | null = null;
    socket.on('error', (e) => (error = e));
    createReadStream(bigFile, { highWaterMark: 256 * 1024 }).pipe(socket);
    const r = await server;
    expect(error).toBeNull();
    expect(r.code).toBe(0);
    expect(sha256(readFileSync(out))).toBe(bigSha);
  }, 130_000);

  it('both ways through our fault injector at 5% loss + reordering', async () => {
    const size = 8 << 20;
    const data = readFileSync(bigFile).subarray(0, size);
    const r = await inNs(['socat', '-u', `OPEN:${bigFile},readbytes=${size}`, 'TCP:10.1.0.2:9'], {
      timeoutMs: 120_000,
    });
    expect(r.stderr).toBe('');
    const deadline = Date.now() + 10_000;
    while (lossySessions.length === 0 && Date.now() < deadline)
      await new Promise((f) => setTimeout(f, 20));
    expect(lossySessions[0]).toMatchObject({ bytes: size, sha256: sha256(data) });

    const out = join(dir, 'lossy.bin');
    const server = inNs(['socat', '-u', 'TCP-LISTEN:5002,reuseaddr', `CREATE:${out}`], {
      timeoutMs: 120_000,
    });
    await new Promise((f) => setTimeout(f, 300));
    const socket = lossyTcp.connect({ host: '10.1.0.1', port: 5002 });
    socket.end(data);
    const s = await server;
    expect(s.code).toBe(0);
    expect(sha256(readFileSync(out))).toBe(sha256(data));
    expect(lossyTcp.stats().retransmits).toBeGreaterThan(0);
  }, 130_000);

  it('serves 200 concurrent connections', async () => {
    const script = `
      const net = require('net');
      let ok = 0, bad = 0, done = 0;
      for (let i = 0; i < 200; i++) {
        const msg = Buffer.alloc(1000, i & 0xff);
        const s = net.connect(7, '10.0.0.2');
        const got = [];
        s.on('data', (d) => got.push(d));
        s.on('error', () => { bad++; finish(); });
        s.on('end', () => { Buffer.concat(got).equals(msg) ? ok++ : bad++; finish(); });
        s.write(msg, () => setTimeout(() => s.end(), 200));
      }
      function finish() { if (++done === 200) console.log(JSON.stringify({ ok, bad })); }
    `;
    const r = await inNs([process.execPath, '-e', script], { timeoutMs: 60_000 });
    expect(JSON.parse(r.stdout.toString())).toEqual({ ok: 200, bad: 0 });
  }, 70_000);

  it('keeps serving curl during a SYN flood', async () => {
    const flood = inNs(
      ['timeout', '4', 'hping3', '-q', '-S', '--flood', '-p', '80', '--rand-source', '10.0.0.2'],
      {
        timeoutMs: 10_000,
      },
    );
    await new Promise((f) => setTimeout(f, 500));
    const r = await inNs(
      [
        'curl',
        '-sS',
        '--max-time',
        '30',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        'http://10.0.0.2/',
      ],
      {
        timeoutMs: 40_000,
      },
    );
    await flood;
    expect(r.stdout.toString()).toBe('200');
    const stats = tcp.stats();
    expect(stats.synCookiesSent).toBeGreaterThan(0);
    expect(stats.connections).toBeLessThan(10_000);
  }, 60_000);

  it('negotiated SACK, timestamps and window scaling, with no malformed segment (tshark)', async () => {
    const echo = await inNs(['socat', '-t', '2', '-', 'TCP:10.2.0.2:7'], {
      input: Buffer.from('x'.repeat(5000)),
    });
    expect(echo.stdout.length).toBe(5000);
    const get = await inNs(['curl', '-sS', '--max-time', '60', 'http://10.2.0.2/'], {
      timeoutMs: 70_000,
    });
    expect(sha256(get.stdout)).toBe(sha256(body));
    await pcapStack.close(); // flushes the pcap
    const fields = spawnSync(
      'tshark',
      [
        '-r',
        pcapPath,
        '-Y',
        'tcp.flags.syn==1 && tcp.port==7',
        '-T',
        'fields',
        '-e',
        'ip.src',
        '-e',
        'tcp.options.sack_perm',
        '-e',
        'tcp.options.timestamp.tsval',
        '-e',
        'tcp.options.wscale.shift',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const lines = fields.stdout
      .trim()
      .split('\n')
      .filter((l) => l.length > 0);
    const fromKernel = lines.find((l) => l.startsWith('10.2.0.1'));
    const fromUs = lines.find((l) => l.startsWith('10.2.0.2'));
    for (const line of [fromKernel, fromUs]) {
      expect(line).toBeDefined();
      const [, sackPerm, tsval, wscale] = line!.split('\t');
      expect(sackPerm).not.toBe('');
      expect(tsval).not.toBe('');
      expect(wscale).not.toBe('');
    }
    const malformed = spawnSync(
      'tshark',
      ['-r', pcapPath, '-Y', '_ws.malformed || _ws.expert.severity == error'],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(malformed.stdout.trim()).toBe('');
  }, 180_000);
});
