/**
 * TAP addon echo benchmark (not a test): how many frames per second the addon reads and writes
 * back through the event loop, and how many frames each wakeup delivers.
 *
 * In a namespace of its own (scripts/netns.sh), the kernel side (10.0.0.1) runs the C load
 * generator bench/stack/udpload.c, which keeps WINDOW UDP datagrams in flight to 10.0.0.2. This
 * process answers them through TapLink with a zero-copy echo (swap MACs, addresses and ports in
 * the receive buffer — the IP and UDP checksums are unchanged by swaps — and send), then the
 * same load runs against bench/stack/responder.c, a blocking read/write C loop, for comparison.
 *
 *   node --expose-gc --max-semi-space-size=128 --import tsx bench/link/tap-echo.ts [--seconds 3] [--window 64] [--size 64]
 *
 * (root). With a young generation that large no scavenge runs during the load, so the growth of
 * the used heap divided by the frames echoed is the JS allocation per frame (GCs are counted).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { openTap, type TapLink } from '../../src/runtime/link/tap.js';
import type { FrameReceiver } from '../../src/runtime/link/link.js';

const ROOT = join(import.meta.dirname, '..', '..');
const NS = `pkt-tapbench-${process.pid}`;
const OUR_IP = 0x0a000002;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    window: { type: 'string', default: '64' },
    size: { type: 'string', default: '64' },
  },
});

function compile(name: string, dir: string): string {
  const out = join(dir, name);
  execFileSync('cc', ['-O2', '-o', out, join(ROOT, 'bench', 'stack', `${name}.c`)]);
  return out;
}

/** Runs a command inside the namespace without blocking the event loop; resolves with stdout. */
function inNs(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', NS, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}`)),
    );
  });
}

/** Answers ARP for 10.0.0.2 and echoes every UDP datagram to it, in place. */
class Echo implements FrameReceiver {
  echoed = 0;
  private readonly arp = new Uint8Array(42);
  private readonly macBytes = new Uint8Array(6);
  constructor(private readonly link: TapLink) {
    let m = link.mac;
    for (let i = 5; i >= 0; i--) {
      this.macBytes[i] = m % 256;
      m = Math.floor(m / 256);
    }
  }
  receive(b: Uint8Array, o: number, len: number): void {
    const type = (b[o + 12] << 8) | b[o + 13];
    if (type === 0x0800 && len >= 42 && b[o + 23] === 17 && b[o + 14] === 0x45) {
      if (((b[o + 30] << 24) | (b[o + 31] << 16) | (b[o + 32] << 8) | b[o + 33]) >>> 0 !== OUR_IP)
        return;
      for (let i = 0; i < 6; i++) {
        b[o + i] = b[o + 6 + i];
        b[o + 6 + i] = this.macBytes[i];
      }
      for (let i = 0; i < 4; i++) {
        const t = b[o + 26 + i];
        b[o + 26 + i] = b[o + 30 + i];
        b[o + 30 + i] = t;
      }
      for (let i = 0; i < 2; i++) {
        const t = b[o + 34 + i];
        b[o + 34 + i] = b[o + 36 + i];
        b[o + 36 + i] = t;
      }
      if (this.link.send(b, o, len)) this.echoed++;
    } else if (type === 0x0806 && len >= 42 && b[o + 21] === 1) {
      const tpa = ((b[o + 38] << 24) | (b[o + 39] << 16) | (b[o + 40] << 8) | b[o + 41]) >>> 0;
      if (tpa !== OUR_IP) return;
      const r = this.arp;
      r.set(b.subarray(o + 6, o + 12), 0);
      r.set(this.macBytes, 6);
      r.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2], 12);
      r.set(this.macBytes, 22);
      r.set(b.subarray(o + 38, o + 42), 28);
      r.set(b.subarray(o + 22, o + 32), 32);
      this.link.send(r, 0, 42);
    }
  }
  batchEnd(): void {}
}

interface LoadResult {
  sent: number;
  received: number;
  seconds: number;
  rate: number;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespace, TAP)');
  const dir = mkdtempSync(join(tmpdir(), 'pkt-tapbench-'));
  const load = compile('udpload', dir);
  const responder = compile('responder', dir);
  const args = [values.size, values.window, values.seconds].map(String);
  execFileSync('bash', [join(ROOT, 'scripts', 'netns.sh'), 'up', NS], { stdio: 'ignore' });
  try {
    const link = await openTap({ name: 'tap0', netns: NS });
    const echo = new Echo(link);
    link.setReceiver(echo);
    console.error('load against TapLink...');
    (globalThis as { gc?: () => void }).gc?.(); // with --expose-gc: start from a clean young generation
    let gcs = 0;
    const gcObserver = new PerformanceObserver((list) => (gcs += list.getEntries().length));
    gcObserver.observe({ entryTypes: ['gc'] });
    const heapBefore = getHeapStatistics().used_heap_size;
    const cpuBefore = process.cpuUsage();
    const ts = JSON.parse(await inNs(load, ['10.0.0.2', '7', ...args])) as LoadResult;
    const heapGrowth = getHeapStatistics().used_heap_size - heapBefore;
    const cpu = process.cpuUsage(cpuBefore);
    gcObserver.disconnect();
    const st = link.stats();
    await link.close();

    const child = spawn(
      'ip',
      ['netns', 'exec', NS, responder, 'tap0', '10.0.0.2', '02:00:00:00:00:02'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    console.error('load against the C responder...');
    const c = JSON.parse(await inNs(load, ['10.0.0.2', '7', ...args])) as LoadResult;
    // The responder blocks in read() with SA_RESTART, so SIGTERM would wait for the next frame.
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const perWakeup = st.rxFrames / Math.max(1, st.rxBatches);
    console.log(
      `UDP echo, ${values.size}-byte payload, window ${values.window}, ${values.seconds} s, unpinned (2 vCPUs; load generator in the namespace)`,
    );
    console.log(
      `  TapLink (addon, JS echo):  ${Math.round(ts.rate).toLocaleString('en')} echoes/s  (${ts.received}/${ts.sent})`,
    );
    console.log(
      `  C responder (blocking):    ${Math.round(c.rate).toLocaleString('en')} echoes/s  (${c.received}/${c.sent})`,
    );
    console.log(`  ratio: ${((100 * ts.rate) / c.rate).toFixed(0)}% of the C responder`);
    console.log(
      `  frames per wakeup: mean ${perWakeup.toFixed(2)}, max ${st.rxMaxBatch} (${st.rxFrames} frames in ${st.rxBatches} wakeups); ` +
        `tx queued on EAGAIN: ${st.txQueued}, dropped: ${st.txDropped}`,
    );
    // This process's CPU per echo: user = JS + addon, system = the kernel's read/write/epoll work
    // (including the kernel's own IP/UDP processing of the frames we write).
    console.log(
      `  TapLink CPU per echo: user ${(cpu.user / ts.received).toFixed(2)} µs, system ${(cpu.system / ts.received).toFixed(2)} µs`,
    );
    console.log(
      `  JS heap growth during the load: ${(heapGrowth / st.rxFrames).toFixed(2)} bytes/frame, ` +
        `${(heapGrowth / st.rxBatches).toFixed(0)} bytes/wakeup over ${st.rxFrames} frames ` +
        `(${gcs} GCs meanwhile${gcs > 0 ? ': a lower bound, run with --expose-gc --max-semi-space-size=128' : ''}; ` +
        'includes the child-process plumbing of this script)',
    );
  } finally {
    execFileSync('bash', [join(ROOT, 'scripts', 'netns.sh'), 'down', NS]);
  }
}

const removeNamespace = (): void => {
  execFileSync('bash', [join(ROOT, 'scripts', 'netns.sh'), 'down', NS]);
  process.exit(130);
};
process.once('SIGINT', removeNamespace);
process.once('SIGTERM', removeNamespace);

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
