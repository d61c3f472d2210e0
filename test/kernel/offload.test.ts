/**
 * virtio-net offloads on a real TAP (IFF_VNET_HDR, TUNSETOFFLOAD csum|tso4|tso6), in a namespace
 * of our own (scripts/netns.sh: tap0, kernel side 10.0.0.1/24): 32 MB each way between the
 * kernel's socat and our stack with SHA-256 checked, while tcpdump on tap0 records what crossed
 * it. With offloads, TCP super-frames larger than the MTU go both ways; with `offload: false`
 * none does. Needs root; skipped otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/runtime/clock/real.js';
import { openTap } from '../../src/runtime/link/tap.js';
import { createStack } from '../../src/runtime/stack.js';
import { attachTcp, startDiscardServer, type DiscardSession } from '../../src/runtime/tcp/index.js';

const isRoot = process.getuid?.() === 0;
const NS = `pkt-offl-k${process.pid}`;
const NETNS_SH = join(import.meta.dirname, '..', '..', 'scripts', 'netns.sh');
const SIZE = 32 << 20;
const MTU_FRAME = 1514;

function inNs(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', NS, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, err });
    });
  });
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Frame lengths in a capture, by direction (kernel → stack has the kernel's source address). */
function frameLengths(pcap: string): { fromKernel: number[]; fromStack: number[] } {
  const r = spawnSync(
    'tshark',
    ['-r', pcap, '-Y', 'tcp', '-T', 'fields', '-e', 'ip.src', '-e', 'frame.len'],
    {
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 256 << 20,
    },
  );
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  const fromKernel: number[] = [];
  const fromStack: number[] = [];
  for (const line of r.stdout.trim().split('\n')) {
    const [src, len] = line.split('\t');
    (src === '10.0.0.1' ? fromKernel : fromStack).push(Number(len));
  }
  return { fromKernel, fromStack };
}

describe.skipIf(!isRoot)('offloads on a real TAP (needs root: skipped otherwise)', () => {
  let dir = '';
  let file = '';
  let fileSha = '';

  beforeAll(() => {
    const r = spawnSync('bash', [NETNS_SH, 'up', NS], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`netns.sh up failed: ${r.stderr}`);
    dir = mkdtempSync(join(tmpdir(), 'pkt-offl-k-'));
    file = join(dir, 'data.bin');
    const data = randomBytes(SIZE);
    writeFileSync(file, data);
    fileSha = sha256(data);
  });
  afterAll(() => {
    spawnSync('bash', [NETNS_SH, 'down', NS]);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  async function both(offload: boolean): Promise<{ fromKernel: number[]; fromStack: number[] }> {
    const tap = await openTap({ name: 'tap0', netns: NS, offload });
    const stack = createStack({ link: tap, clock: new RealClock(), ip: '10.0.0.2/24' });
    const sessions: DiscardSession[] = [];
    let tcpdump: ChildProcess | undefined;
    try {
      if (offload) {
        expect(tap.offloads).toMatchObject({ vnetHdr: true, csum: true, tso4: true, tso6: true });
      } else {
        expect(tap.offloads.summary).toBe('none');
      }
      const tcp = attachTcp(stack, { sndBuf: 1 << 20, rcvBuf: 1 << 20 });
      startDiscardServer(tcp, 9, (s) => sessions.push(s));
      const pcap = join(dir, `tap0-${offload}.pcap`);
      tcpdump = spawn(
        'ip',
        ['netns', 'exec', NS, 'tcpdump', '-i', 'tap0', '-s', '128', '-U', '-w', pcap, 'tcp'],
        {
          stdio: 'ignore',
        },
      );
      await new Promise((f) => setTimeout(f, 1000)); // let tcpdump open the device

      // kernel → stack
      const sent = await inNs(['socat', '-u', `OPEN:${file}`, 'TCP:10.0.0.2:9']);
      expect(sent.err).toBe('');
      const deadline = Date.now() + 10_000;
      while (sessions.length === 0 && Date.now() < deadline)
        await new Promise((f) => setTimeout(f, 20));
      expect(sessions[0]).toMatchObject({ bytes: SIZE, sha256: fileSha });

      // stack → kernel
      const out = join(dir, `received-${offload}.bin`);
      const server = inNs(['socat', '-u', 'TCP-LISTEN:5001,reuseaddr', `CREATE:${out}`]);
      await new Promise((f) => setTimeout(f, 300));
      const socket = tcp.connect({ host: '10.0.0.1', port: 5001 });
      socket.end(readFileSync(file));
      expect((await server).code).toBe(0);
      expect(sha256(readFileSync(out))).toBe(fileSha);

      await new Promise((f) => setTimeout(f, 300));
      tcpdump.kill('SIGINT');
      await new Promise((f) => tcpdump?.once('close', f));
      tcpdump = undefined;
      return frameLengths(pcap);
    } finally {
      tcpdump?.kill('SIGKILL');
      await stack.close();
    }
  }

  it('with offloads: 32 MB each way intact, super-frames above the MTU both ways', async () => {
    const { fromKernel, fromStack } = await both(true);
    expect(fromKernel.filter((n) => n > MTU_FRAME).length).toBeGreaterThan(10);
    expect(fromStack.filter((n) => n > MTU_FRAME).length).toBeGreaterThan(10);
    expect(Math.max(...fromStack)).toBeGreaterThan(32 * 1024);
  }, 180_000);

  it('leaves the device without offloads when it closes: its next reader may take no header', async () => {
    const tso = (): string => {
      const r = spawnSync('ip', ['netns', 'exec', NS, 'ethtool', '-k', 'tap0'], {
        encoding: 'utf8',
      });
      return /tcp-segmentation-offload: (\w+)/.exec(r.stdout)?.[1] ?? `no answer: ${r.stderr}`;
    };
    const tap = await openTap({ name: 'tap0', netns: NS, offload: true });
    expect(tap.offloads.tso4).toBe(true);
    expect(tso()).toBe('on');
    await tap.close();
    expect(tso()).toBe('off');
  });

  it('with offload: false, nothing above the MTU either way', async () => {
    const { fromKernel, fromStack } = await both(false);
    expect(fromKernel.length).toBeGreaterThan(1000);
    expect(fromKernel.filter((n) => n > MTU_FRAME)).toEqual([]);
    expect(fromStack.filter((n) => n > MTU_FRAME)).toEqual([]);
  }, 180_000);
});
