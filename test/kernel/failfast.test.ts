/**
 * Failing connects fail fast against the real Linux kernel: a namespace of our own holds tap0
 * (kernel side 10.0.0.1/24), the stack is 10.0.0.2/24 on it, in this process. A closed TCP port
 * (the kernel's RST) and one rejected with ICMP port unreachable (an nftables rule, when nft
 * works here) are ECONNREFUSED within a second; a connected UDP socket sending to a closed port
 * gets 'error' ECONNREFUSED from the kernel's ICMP; an address on the subnet that nobody has is
 * EHOSTUNREACH after the three ARP probes (2.5-4.5 s). Needs root; skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/runtime/clock/real.js';
import { openTap, setKernelIpv4 } from '../../src/runtime/link/tap.js';
import { createStack, type Stack } from '../../src/runtime/stack.js';
import { expectReachable, isRoot } from '../http/kernel-lab.js';

const NS = `pkt-ff-k${process.pid}`;

function inNs(...args: string[]) {
  return spawnSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8', timeout: 20_000 });
}

/** Connects to host:port; resolves with the error code and how long it took (ms). */
function timedConnect(stack: Stack, host: string, port: number) {
  const start = performance.now();
  return new Promise<{ code: string; ms: number }>((resolve) => {
    const c = stack.tcp.connect({ host, port });
    c.on('connect', () => {
      c.destroy();
      resolve({ code: 'connected', ms: performance.now() - start });
    });
    c.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ code: e.code ?? '?', ms: performance.now() - start }),
    );
  });
}

describe.skipIf(!isRoot)('fail-fast connects against the Linux kernel', () => {
  let stack: Stack;
  let nft = false;

  beforeAll(async () => {
    spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    if (spawnSync('ip', ['netns', 'add', NS]).status !== 0) throw new Error('ip netns add');
    inNs('ip', 'link', 'set', 'lo', 'up');
    inNs('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    inNs('sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1');
    const tap = await openTap({ name: 'tap0', netns: NS });
    setKernelIpv4({ name: 'tap0', address: 0x0a000001, prefixLength: 24, netns: NS });
    stack = createStack({ link: tap, clock: new RealClock(), ip: '10.0.0.2/24' });
    await expectReachable(NS, '10.0.0.2');
    // The kernel rejects TCP to port 81 with ICMP port unreachable instead of RST.
    const script = [
      'add table inet pktff',
      'add chain inet pktff input { type filter hook input priority 0 ; }',
      'add rule inet pktff input tcp dport 81 reject with icmp type port-unreachable',
    ].join('\n');
    nft =
      spawnSync('ip', ['netns', 'exec', NS, 'nft', '-f', '-'], {
        input: script,
        timeout: 20_000,
      }).status === 0;
  }, 30_000);

  afterAll(async () => {
    await stack?.close();
    spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  });

  it('a closed TCP port on the kernel (RST) is ECONNREFUSED within 1 s', async () => {
    const r = await timedConnect(stack, '10.0.0.1', 4242);
    console.log(`RST: ${r.code} after ${r.ms.toFixed(1)} ms`);
    expect(r.code).toBe('ECONNREFUSED');
    expect(r.ms).toBeLessThan(1000);
  });

  it('a TCP port the kernel rejects with ICMP port unreachable is ECONNREFUSED within 1 s', async (ctx) => {
    if (!nft) ctx.skip();
    const r = await timedConnect(stack, '10.0.0.1', 81);
    console.log(`ICMP port unreachable: ${r.code} after ${r.ms.toFixed(1)} ms`);
    expect(r.code).toBe('ECONNREFUSED');
    expect(r.ms).toBeLessThan(1000);
    expect(stack.tcp.stats().icmpAborts).toBeGreaterThanOrEqual(1);
  });

  it("a connected UDP socket gets 'error' ECONNREFUSED from the kernel's ICMP", async () => {
    const s = stack.dgram.createSocket('udp4');
    const start = performance.now();
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      s.on('error', resolve);
      s.connect(9, '10.0.0.1', () => s.send('anyone?'));
    });
    const ms = performance.now() - start;
    console.log(`UDP: ${err.message} after ${ms.toFixed(1)} ms`);
    s.close();
    expect(err).toMatchObject({ code: 'ECONNREFUSED', syscall: 'recvmsg', errno: -111 });
    expect(ms).toBeLessThan(1000);
  });

  it('an address on the subnet that nobody has is EHOSTUNREACH after the ARP probes', async () => {
    const r = await timedConnect(stack, '10.0.0.77', 80);
    console.log(`no neighbour: ${r.code} after ${r.ms.toFixed(1)} ms`);
    expect(r.code).toBe('EHOSTUNREACH');
    expect(r.ms).toBeGreaterThan(2500);
    expect(r.ms).toBeLessThan(4500);
  }, 10_000);

  it('no route is ENETUNREACH at once', async () => {
    const r = await timedConnect(stack, '192.0.2.1', 80);
    expect(r.code).toBe('ENETUNREACH');
    expect(r.ms).toBeLessThan(50);
  });
});
