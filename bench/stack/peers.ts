/**
 * The C-stack and kernel peers for `bench:stack`, measured in the same run as our stack:
 *   - lwIP (Debian's liblwip, bench/stack/lwip/) on the same kind of TAP: kernel → lwIP into its
 *     discard server, lwIP → kernel into a socat sink, ping RTT; CPU time of the lwIP process;
 *   - the kernel against itself over a veth with offloads off (kernel-veth.ts).
 * Results use tcp.ts's units: Gbit/s and CPU seconds per GB (1e9 bytes).
 * Also runnable alone as root: `npx tsx bench/stack/peers.ts` (PEERS_BENCH_BYTES to change size).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { CACHE, HOST_IP, Lab, ROOT, run, STACK_IP, type Placement, type Responder } from './lab.js';
import { measurePing, type PingResult } from './ping.js';
import {
  cpuPressure,
  formatKernelVeth,
  measureKernelVeth,
  vethNamespaces,
  type KernelVethResult,
} from './kernel-veth.js';

export { measureKernelVeth, type KernelVethOptions, type KernelVethResult } from './kernel-veth.js';

/** One direction of a bulk transfer, as in tcp.ts's TcpBenchResult (medians over the rounds). */
export interface PeerTransfer {
  gbps: number;
  cpuSecondsPerGB: number;
}

/** Every round's figures, for the raw results file. */
export interface PeerRound {
  kernelToLwip: PeerTransfer;
  lwipToKernel: PeerTransfer;
}

export interface LwipResult {
  bytes: number;
  kernelToLwip: PeerTransfer;
  lwipToKernel: PeerTransfer;
  ping: PingResult;
  rounds: PeerRound[];
  /** CPU pressure (PSI "some" avg10, %) before the measurement: other load on the machine. */
  cpuPressure: number;
  /** The options compiled into Debian's liblwip that bound throughput (from the peer itself). */
  lwipOptions: { tcpWnd: number; tcpSndBuf: number; tcpMss: number; wndScale: number };
  placement: string;
}

export interface LwipOptions {
  /** Bytes per direction and round (default 512 MiB). */
  bytes?: number;
  /**
   * Rounds, each one transfer per direction (default 3); Gbit/s and CPU s/GB are the medians,
   * because other load on the machine moves a single transfer by ±50% here.
   */
  rounds?: number;
  /**
   * A lab already up (tap0 with 10.0.0.1/24 on the kernel side, nothing else holding tap0):
   * main.ts passes its own. Without one, a lab of our own is made and removed.
   */
  lab?: Lab;
  /** Where lwIP (responderCpus) and the kernel tools (clientCpus) run; default lwIP on CPU 1. */
  placement?: Placement;
}

/** The lab of this file when run without main.ts's: its own namespace name, same layout. */
class PeerLab extends Lab {
  override readonly ns = `pkt-peers-lab-${process.pid}`;
}

const SINK_PORT = 5002;
/** socat address option asking the kernel sender for cubic: IPPROTO_TCP, TCP_CONGESTION. */
const CUBIC = 'setsockopt-string=6:13:cubic';

/** Compiles lwip-peer into bench/.cache/ against the installed liblwip; returns its path. */
export function buildLwipPeer(): string {
  mkdirSync(CACHE, { recursive: true });
  const out = join(CACHE, 'lwip-peer');
  const src = join(ROOT, 'bench', 'stack', 'lwip');
  const flags = (what: string): string[] =>
    run('pkg-config', [what, 'lwip']).stdout.trim().split(/\s+/).filter(Boolean);
  run('cc', [
    '-O2',
    '-Wall',
    '-Wextra',
    ...flags('--cflags'),
    '-o',
    out,
    join(src, 'lwip-peer.c'),
    join(src, 'tapif.c'),
    ...flags('--libs'),
  ]);
  return out;
}

interface PeerEvent {
  event: string;
  bytes?: number;
  seconds?: number;
  tcp_wnd?: number;
  tcp_snd_buf?: number;
  tcp_mss?: number;
  wnd_scale?: number;
}

/** A running lwip-peer and the JSON events it printed, in order. */
export interface LwipPeer {
  responder: Responder;
  ready: PeerEvent;
  /** Resolves with the next event named `name` (already printed ones count). */
  next(name: string, timeoutMs?: number): Promise<PeerEvent>;
}

export async function startLwipPeer(
  lab: Lab,
  binary: string,
  args: string[] = [],
): Promise<LwipPeer> {
  const events: PeerEvent[] = [];
  let wake: (() => void) | undefined;
  const responder = await lab.startResponder(binary, args, (line) => {
    try {
      events.push(JSON.parse(line) as PeerEvent);
    } catch {
      return false;
    }
    wake?.();
    return events[events.length - 1].event === 'ready';
  });
  let consumed = 0;
  const next = async (name: string, timeoutMs = 120_000): Promise<PeerEvent> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (consumed < events.length) {
        const e = events[consumed++];
        if (e.event === name) return e;
        if (e.event.endsWith('-error')) throw new Error(`lwip-peer: ${JSON.stringify(e)}`);
      }
      if (responder.child.exitCode !== null) throw new Error(`lwip-peer exited before ${name}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`lwip-peer: no ${name} event in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  };
  return { responder, ready: events.find((e) => e.event === 'ready')!, next };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[(s.length - 1) >> 1];
}

function medianTransfer(all: PeerTransfer[]): PeerTransfer {
  return {
    gbps: median(all.map((t) => t.gbps)),
    cpuSecondsPerGB: median(all.map((t) => t.cpuSecondsPerGB)),
  };
}

function transfer(bytes: number, seconds: number, cpuNs: number): PeerTransfer {
  return { gbps: (bytes * 8) / seconds / 1e9, cpuSecondsPerGB: cpuNs / 1e9 / (bytes / 1e9) };
}

function checkBytes(what: string, e: PeerEvent, bytes: number): number {
  if (e.bytes !== bytes || e.seconds === undefined || !(e.seconds > 0)) {
    throw new Error(`${what}: lwip-peer reported ${JSON.stringify(e)}, expected ${bytes} bytes`);
  }
  return e.seconds;
}

/** Kernel → lwIP: socat in the lab streams `bytes` zeros into lwIP's discard server. */
async function kernelToLwip(lab: Lab, peer: LwipPeer, bytes: number): Promise<PeerTransfer> {
  const cpu0 = peer.responder.cpuNs();
  lab.client('socat', [
    '-b',
    '262144',
    '-u',
    `OPEN:/dev/zero,readbytes=${bytes}`,
    `TCP:${STACK_IP}:9,${CUBIC}`,
  ]);
  const seconds = checkBytes('kernel → lwIP', await peer.next('discard'), bytes);
  return transfer(bytes, seconds, peer.responder.cpuNs() - cpu0);
}

/** lwIP → kernel: a socat sink in the lab, then a fresh lwip-peer in source mode. */
async function lwipToKernel(lab: Lab, binary: string, bytes: number): Promise<PeerTransfer> {
  const sink = spawn(
    'ip',
    [
      'netns',
      'exec',
      lab.ns,
      'taskset',
      '-c',
      lab.placement.clientCpus,
      'socat',
      '-b',
      '262144',
      '-u',
      `TCP-LISTEN:${SINK_PORT},reuseaddr`,
      'OPEN:/dev/null',
    ],
    { stdio: 'ignore' },
  );
  const sinkDone = new Promise<number | null>((resolve) => sink.on('exit', resolve));
  let peer: LwipPeer | undefined;
  try {
    for (let i = 0; i < 200; i++) {
      const ss = lab.exec('ss', ['-Hltn', `sport = :${SINK_PORT}`]);
      if (ss.stdout.trim() !== '') break;
      await new Promise((f) => setTimeout(f, 10));
    }
    peer = await startLwipPeer(lab, binary, ['--source', `${HOST_IP}:${SINK_PORT}:${bytes}`]);
    const cpu0 = peer.responder.cpuNs();
    const seconds = checkBytes('lwIP → kernel', await peer.next('source'), bytes);
    const cpuNs = peer.responder.cpuNs() - cpu0;
    const code = await sinkDone;
    if (code !== 0) throw new Error(`socat sink exited ${code}`);
    return transfer(bytes, seconds, cpuNs);
  } finally {
    await peer?.responder.stop();
    if (sink.exitCode === null && sink.signalCode === null) sink.kill('SIGKILL');
  }
}

export async function measureLwip(opts: LwipOptions = {}): Promise<LwipResult> {
  const bytes = opts.bytes ?? 512 << 20;
  const roundCount = Math.max(1, opts.rounds ?? 3);
  const pressure = cpuPressure();
  const cpus = availableParallelism();
  const placement =
    opts.placement ??
    opts.lab?.placement ??
    (cpus >= 2 ? { responderCpus: '1', clientCpus: '0' } : { responderCpus: '0', clientCpus: '0' });
  const binary = buildLwipPeer();
  const lab = opts.lab ?? new PeerLab(placement);
  if (opts.lab === undefined) lab.up();
  try {
    lab.flushNeighbours();
    let ready: PeerEvent | undefined;
    let ping: PingResult | undefined;
    const rounds: PeerRound[] = [];
    for (let i = 0; i < roundCount; i++) {
      const peer = await startLwipPeer(lab, binary);
      let k2l: PeerTransfer;
      try {
        ready = peer.ready;
        ping ??= measurePing(lab);
        k2l = await kernelToLwip(lab, peer, bytes);
      } finally {
        await peer.responder.stop();
      }
      rounds.push({ kernelToLwip: k2l, lwipToKernel: await lwipToKernel(lab, binary, bytes) });
    }
    return {
      bytes,
      kernelToLwip: medianTransfer(rounds.map((r) => r.kernelToLwip)),
      lwipToKernel: medianTransfer(rounds.map((r) => r.lwipToKernel)),
      ping: ping!,
      rounds,
      cpuPressure: pressure,
      lwipOptions: {
        tcpWnd: ready?.tcp_wnd ?? NaN,
        tcpSndBuf: ready?.tcp_snd_buf ?? NaN,
        tcpMss: ready?.tcp_mss ?? NaN,
        wndScale: ready?.wnd_scale ?? NaN,
      },
      placement: `lwIP on CPU ${lab.placement.responderCpus}, kernel tools (socat, ping) on CPU ${lab.placement.clientCpus} (${cpus} CPUs)`,
    };
  } finally {
    if (opts.lab === undefined) lab.down();
  }
}

/**
 * The peers' lines for the report; `stack` (our Gbit/s each way, from tcp.ts) adds the ratios.
 */
export function formatPeers(
  lwip: LwipResult | undefined,
  veth: KernelVethResult | undefined,
  stack?: { kernelToStackGbps: number; stackToKernelGbps: number },
): string {
  const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const lines: string[] = [];
  if (lwip) {
    const o = lwip.lwipOptions;
    lines.push(
      `lwIP 2.1.3 (Debian liblwip: TCP_WND ${o.tcpWnd}, wnd scale ${o.wndScale}, SND_BUF ${o.tcpSndBuf}, MSS ${o.tcpMss}) on a TAP; median of ${lwip.rounds.length} rounds of ${(lwip.bytes / 2 ** 20).toFixed(0)} MiB each way; ${lwip.placement}`,
      `  rounds, Gbit/s kernel → lwIP / lwIP → kernel: ${lwip.rounds.map((r) => `${f(r.kernelToLwip.gbps)} / ${f(r.lwipToKernel.gbps)}`).join(', ')}`,
      `  kernel → lwIP  ${f(lwip.kernelToLwip.gbps).padStart(6)} Gbit/s  ${f(lwip.kernelToLwip.cpuSecondsPerGB)} CPU s/GB (lwIP process)`,
      `  lwIP → kernel  ${f(lwip.lwipToKernel.gbps).padStart(6)} Gbit/s  ${f(lwip.lwipToKernel.cpuSecondsPerGB)} CPU s/GB (lwIP process)`,
      `  ping: median ${f(lwip.ping.medianUs, 0)} µs, p99 ${f(lwip.ping.p99Us, 0)} µs (${lwip.ping.received}/${lwip.ping.sent} replies)`,
      `  CPU pressure before (other load): ${f(lwip.cpuPressure, 0)}% (PSI some avg10)`,
    );
    if (stack) {
      lines.push(
        `  pktstack / lwIP: kernel → stack ${f((stack.kernelToStackGbps / lwip.kernelToLwip.gbps) * 100, 1)}%, ` +
          `stack → kernel ${f((stack.stackToKernelGbps / lwip.lwipToKernel.gbps) * 100, 1)}%`,
      );
    }
  }
  if (veth) {
    lines.push(formatKernelVeth(veth));
    if (stack) {
      lines.push(
        `  pktstack / kernel veth: kernel → stack ${f((stack.kernelToStackGbps / veth.gbps) * 100, 1)}%, ` +
          `stack → kernel ${f((stack.stackToKernelGbps / veth.gbps) * 100, 1)}%`,
      );
    }
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.getuid?.() !== 0) {
    process.stdout.write('bench peers: needs root (network namespaces + TAP); skipped\n');
  } else {
    const bytes = Number(process.env.PEERS_BENCH_BYTES ?? 512 << 20);
    const rounds = Number(process.env.PEERS_BENCH_ROUNDS ?? 3);
    // Ctrl-C skips the finally blocks: remove this process's namespaces (their children die
    // with the TAP/veth, and `ip netns del` of a missing name is a no-op).
    process.once('SIGINT', () => {
      for (const ns of [`pkt-peers-lab-${process.pid}`, ...vethNamespaces()]) {
        spawnSync('ip', ['netns', 'del', ns]);
      }
      process.exit(130);
    });
    const lwip = await measureLwip({ bytes, rounds });
    const veth = await measureKernelVeth({ bytes, rounds });
    process.stdout.write(formatPeers(lwip, veth) + '\n');
  }
}
