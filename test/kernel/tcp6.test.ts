/**
 * TCP over IPv6 against the Linux kernel: the stack runs in this process (RealClock) on tap0 in
 * a dual-stack namespace of our own, as fd00::2/64 (the kernel's side is fd00::1/64), with echo,
 * discard (hashing) and a small HTTP responder. The kernel's tools (socat, nc, curl) connect to
 * us, and we connect to them: 100 MB each way with equal SHA-256. A second stack on tap1 records
 * a pcap of small exchanges for tshark. Needs root.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIpv6 } from '../../src/codec/address.js';
import { RealClock } from '../../src/runtime/clock/real.js';
import type { Link } from '../../src/runtime/link/link.js';
import { recordPcap } from '../../src/runtime/link/pcap-recorder.js';
import { openTap, setKernelIpv4 } from '../../src/runtime/link/tap.js';
import { createStack, type Stack } from '../../src/runtime/stack.js';
import {
  startDiscardServer,
  startEchoServer,
  type DiscardSession,
  type TcpLayer,
} from '../../src/runtime/tcp/index.js';
import { Netns, isRoot, must, sh, until } from '../http/kernel-lab.js';

const NS = `pkt-tcp6-k${process.pid}`;
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

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A stack with IPv4 and IPv6 on `tap` in the namespace, its kernel side `net`::1 and .1. */
async function tapStack(
  tap: string,
  n: number,
  wrap: (l: Link) => Link = (l) => l,
  offload = true,
) {
  const link = await openTap({ name: tap, netns: NS, offload });
  setKernelIpv4({ name: tap, address: 0x0a000001 + (n << 16), prefixLength: 24, netns: NS });
  must(
    sh('ip', [
      'netns',
      'exec',
      NS,
      'ip',
      '-6',
      'addr',
      'add',
      `fd0${n}::1/64`,
      'dev',
      tap,
      'nodad',
    ]),
    'ip -6 addr',
  );
  const stack = createStack({
    link: wrap(link),
    clock: new RealClock(),
    ip: `10.${n}.0.2/24`,
    ip6: `fd0${n}::2/64`,
  });
  const ours = parseIpv6(`fd0${n}::2`) as Uint8Array;
  await until(() => stack.ipv6?.ip.findAddress(ours, 0)?.state === 'preferred', 10_000);
  return stack;
}

describe.skipIf(!isRoot)('TCP over IPv6 against the Linux kernel over a TAP', () => {
  let ns: Netns;
  let dir = '';
  let stack: Stack;
  let tcp: TcpLayer;
  let pcapStack: Stack;
  let pcapPath = '';
  const sessions: DiscardSession[] = [];
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
    dir = mkdtempSync(join(tmpdir(), 'pkt-tcp6-k-'));
    ns = Netns.dualStack(NS);
    ns.run('sysctl', '-qw', 'net.ipv4.tcp_congestion_control=cubic');
    stack = await tapStack('tap0', 0);
    tcp = stack.attachTcp({ sndBuf: 1 << 20, rcvBuf: 1 << 20 });
    serve(tcp, sessions);
    pcapPath = join(dir, 'tap1.pcap');
    // Without offloads: the capture holds what crossed the TAP, and with them the kernel's
    // segments carry partial checksums (as `tcpdump -i tap1` shows them), which tshark would
    // rightly call bad; this test checks the checksums our stack computes.
    pcapStack = await tapStack('tap1', 1, (l) => recordPcap(l, pcapPath), false);
    serve(pcapStack.tcp, []);
    bigFile = join(dir, 'big.bin');
    const big = randomBytes(BIG);
    writeFileSync(bigFile, big);
    bigSha = sha256(big);
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await pcapStack?.close();
    ns?.destroy();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('socat round-trips through our echo server over IPv6', async () => {
    const r = await inNs(['socat', '-t', '5', '-', 'TCP6:[fd00::2]:7'], {
      input: Buffer.from('hello over ipv6\n'),
    });
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('hello over ipv6\n');
  });

  it('kernel → stack: 100 MB from nc -6 with matching SHA-256', async () => {
    const before = sessions.length;
    const r = await inNs(['sh', '-c', `nc -6 -N fd00::2 9 < ${bigFile}`], { timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    await until(() => sessions.length > before, 10_000);
    expect(sessions.at(-1)).toMatchObject({ bytes: BIG, sha256: bigSha });
    expect(sessions.at(-1)?.remote).toMatch(/^fd00::1:\d+$/);
  }, 130_000);

  it('stack → kernel: 100 MB to socat TCP6-LISTEN with matching SHA-256', async () => {
    const out = join(dir, 'received.bin');
    const server = inNs(['socat', '-u', 'TCP6-LISTEN:5001,reuseaddr', `CREATE:${out}`], {
      timeoutMs: 120_000,
    });
    await new Promise((f) => setTimeout(f, 300)); // let socat listen
    const socket = tcp.connect({ host: 'fd00::1', port: 5001 });
    let error: Error | null = null;
    socket.on('error', (e) => (error = e));
    createReadStream(bigFile, { highWaterMark: 256 * 1024 }).pipe(socket);
    const r = await server;
    expect(error).toBeNull();
    expect(r.code).toBe(0);
    expect(socket.remoteFamily).toBe('IPv6');
    expect(sha256(readFileSync(out))).toBe(bigSha);
  }, 130_000);

  it('connects out to nc -6 -l and talks both ways', async () => {
    const server = inNs(['sh', '-c', 'echo from-kernel | nc -6 -l -N -q 2 fd00::1 5002'], {
      timeoutMs: 20_000,
    });
    await new Promise((f) => setTimeout(f, 300));
    const socket = tcp.connect({ host: 'fd00::1', port: 5002 });
    const got: Buffer[] = [];
    socket.on('data', (d: Buffer) => got.push(d));
    socket.end('from-stack\n');
    const r = await server;
    expect(r.stdout.toString()).toBe('from-stack\n');
    await until(() => Buffer.concat(got).toString() === 'from-kernel\n', 5000);
  });

  it('curl -6 downloads 10 MB from us with the right SHA-256', async () => {
    const r = await inNs(['curl', '-6', '-s', '--max-time', '60', 'http://[fd00::2]/'], {
      timeoutMs: 70_000,
    });
    expect(r.code).toBe(0);
    expect(sha256(r.stdout)).toBe(sha256(body));
  }, 80_000);

  it('leaves a capture of IPv6 TCP that tshark reads without a malformed packet', async () => {
    const echo = await inNs(['socat', '-t', '5', '-', 'TCP6:[fd01::2]:7'], {
      input: Buffer.from('captured\n'),
    });
    expect(echo.stdout.toString()).toBe('captured\n');
    const get = await inNs(['curl', '-6', '-s', '--max-time', '30', 'http://[fd01::2]/']);
    expect(sha256(get.stdout)).toBe(sha256(body));
    const refused = await inNs(['socat', '-t', '2', '-', 'TCP6:[fd01::2]:4444'], {
      input: Buffer.from('x'),
    });
    expect(refused.stderr).toMatch(/Connection refused/);
    await pcapStack.close();
    const fields = sh('tshark', [
      '-r',
      pcapPath,
      '-Y',
      'ipv6 && tcp',
      '-T',
      'fields',
      '-e',
      'ipv6.src',
      '-e',
      'tcp.checksum.status',
      '-e',
      'tcp.options.mss_val',
      '-o',
      'tcp.check_checksum:TRUE',
    ]);
    const lines = fields.out.trim().split('\n');
    expect(lines.length).toBeGreaterThan(100);
    // Every segment's checksum verified (status 1 = good); our SYN-ACKs offer the IPv6 MSS.
    expect(lines.filter((l) => l.split('\t')[1] !== '1')).toEqual([]);
    expect(lines.some((l) => l.startsWith('fd01::2\t') && l.split('\t')[2] === '1440')).toBe(true);
    const malformed = sh('tshark', [
      '-r',
      pcapPath,
      '-Y',
      '_ws.malformed || _ws.expert.severity >= error',
    ]);
    expect(malformed.out.trim()).toBe('');
  }, 60_000);
});
