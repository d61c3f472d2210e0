/**
 * The head-to-head of `bench:stack`: every contender moves the same bytes both ways through the
 * kernel in the same run, rounds interleaved:
 *   - our stack (tcp.ts's StackHost) with and without the TAP's offloads;
 *   - lwIP (Debian's liblwip, bench/stack/lwip/) on the same kind of TAP: kernel → lwIP into its
 *     discard server, lwIP → kernel into a socat sink; CPU time of the lwIP process; its ping RTT;
 *   - the kernel against itself over a veth with offloads off (one frame per segment, as a TAP
 *     without offloads) and on (kernel-veth.ts).
 * Units: Gbit/s and CPU seconds per GB (1e9 bytes), of the contender's process and of the machine.
 * Also runnable alone as root: `npx tsx bench/stack/peers.ts` (PEERS_BENCH_BYTES, _ROUNDS).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CACHE,
  CPUS,
  HOST_IP,
  Lab,
  kernelShare,
  machineCpuSeconds,
  ROOT,
  run,
  STACK_IP,
  type Placement,
  type Responder,
  CUBIC,
} from './lab.js';
import { measurePing, type PingResult } from './ping.js';
import {
  cpuPressure,
  formatKernelVeth,
  VethPair,
  vethNamespaces,
  type KernelVethResult,
} from './kernel-veth.js';
import { StackHost, stackHostNamespace, type StackHostOptions } from './tcp.js';

export { measureKernelVeth, type KernelVethOptions, type KernelVethResult } from './kernel-veth.js';

/** One transfer of a contender (tcp.ts's Transfer; NaN process CPU where there is no process). */
export interface PeerTransfer {
  gbps: number;
  cpuSecondsPerGB: number;
  machineCpuSecondsPerGB: number;
  /** Of the process's CPU, the share spent in the kernel (NaN where there is no process). */
  kernelShare: number;
}

/** One lwIP round, both ways. */
export interface PeerRound {
  kernelToLwip: PeerTransfer;
  lwipToKernel: PeerTransfer;
}

/** The names of our two variants, which the targets refer to. */
export const STACK_OFFLOADS = 'pktstack, offloads';
export const STACK_NO_OFFLOADS = 'pktstack, no offloads';

/**
 * One of our stack's variants in the head-to-head: its TAP options, and how the receiving
 * application reads (node:net's `onread` into a reused buffer, as the discard server does, or
 * the stream's 'data' chunks, each the reader's to keep).
 */
export interface StackVariant {
  name: string;
  tap: StackHostOptions['tap'];
  reader: 'onread' | 'data';
}

export const STACK_VARIANTS: StackVariant[] = [
  { name: STACK_OFFLOADS, tap: { offload: true }, reader: 'onread' },
  { name: `${STACK_OFFLOADS}, 'data'`, tap: { offload: true }, reader: 'data' },
  { name: STACK_NO_OFFLOADS, tap: { offload: false }, reader: 'onread' },
  { name: `${STACK_NO_OFFLOADS}, 'data'`, tap: { offload: false }, reader: 'data' },
];

/** The lab of this file when run without main.ts's: its own namespace name, same layout. */
class PeerLab extends Lab {
  override readonly ns = `pkt-peers-lab-${process.pid}`;
}

const SINK_PORT = 5002;

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
    machineCpuSecondsPerGB: median(all.map((t) => t.machineCpuSecondsPerGB)),
    kernelShare: median(all.map((t) => t.kernelShare)),
  };
}

function transfer(
  bytes: number,
  seconds: number,
  cpuNs: number,
  machineS: number,
  kernel: number,
): PeerTransfer {
  return {
    gbps: (bytes * 8) / seconds / 1e9,
    cpuSecondsPerGB: cpuNs / 1e9 / (bytes / 1e9),
    machineCpuSecondsPerGB: machineS / (bytes / 1e9),
    kernelShare: kernel,
  };
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
  const split0 = peer.responder.cpuSplit();
  const machine0 = machineCpuSeconds();
  lab.client('socat', [
    '-b',
    '262144',
    '-u',
    `OPEN:/dev/zero,readbytes=${bytes}`,
    `TCP:${STACK_IP}:9,${CUBIC}`,
  ]);
  const seconds = checkBytes('kernel → lwIP', await peer.next('discard'), bytes);
  return transfer(
    bytes,
    seconds,
    peer.responder.cpuNs() - cpu0,
    machineCpuSeconds() - machine0,
    kernelShare(split0, peer.responder.cpuSplit()),
  );
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
    const split0 = peer.responder.cpuSplit();
    const machine0 = machineCpuSeconds();
    const seconds = checkBytes('lwIP → kernel', await peer.next('source'), bytes);
    const cpuNs = peer.responder.cpuNs() - cpu0;
    const kernel = kernelShare(split0, peer.responder.cpuSplit());
    const machineS = machineCpuSeconds() - machine0;
    const code = await sinkDone;
    if (code !== 0) throw new Error(`socat sink exited ${code}`);
    return transfer(bytes, seconds, cpuNs, machineS, kernel);
  } finally {
    await peer?.responder.stop();
    if (sink.exitCode === null && sink.signalCode === null) sink.kill('SIGKILL');
  }
}

/** One round: kernel → lwIP into a fresh lwip-peer's discard server, then lwIP → kernel. */
export async function lwipRound(lab: Lab, binary: string, bytes: number): Promise<PeerRound> {
  lab.flushNeighbours();
  const peer = await startLwipPeer(lab, binary);
  let k2l: PeerTransfer;
  try {
    k2l = await kernelToLwip(lab, peer, bytes);
  } finally {
    await peer.responder.stop();
  }
  return { kernelToLwip: k2l, lwipToKernel: await lwipToKernel(lab, binary, bytes) };
}

/**
 * One contender of the head-to-head: brought up for a round, it moves `bytes` from the kernel
 * into it and from it into the kernel, then goes down again (so rounds can interleave).
 */
export interface Contender {
  name: string;
  round(bytes: number): Promise<{ inbound: PeerTransfer; outbound: PeerTransfer }>;
}

/** Our stack in this process (tcp.ts's StackHost) as the variant says. */
export function stackContender({ name, tap, reader }: StackVariant): Contender {
  return {
    name,
    async round(bytes) {
      const host = await StackHost.up({ tap });
      try {
        return {
          inbound: await host.kernelToStack(4, bytes, reader),
          outbound: await host.stackToKernel(4, bytes),
        };
      } finally {
        await host.close();
      }
    },
  };
}

export function lwipContender(lab: Lab, binary: string): Contender {
  return {
    name: 'lwIP',
    async round(bytes) {
      const r = await lwipRound(lab, binary, bytes);
      return { inbound: r.kernelToLwip, outbound: r.lwipToKernel };
    },
  };
}

/** The kernel against itself over a veth: "inbound" one way, "outbound" the other. */
export function vethContender(offloads: boolean, placement: Placement): Contender {
  return {
    name: `kernel veth, offloads ${offloads ? 'on' : 'off'}`,
    async round(bytes) {
      const pair = VethPair.up(offloads);
      try {
        const { clientCpus, responderCpus } = placement;
        const inbound = await pair.transfer(bytes, clientCpus, responderCpus);
        const outbound = await pair.transfer(bytes, clientCpus, responderCpus, 'reverse');
        return {
          inbound: { ...inbound, cpuSecondsPerGB: NaN, kernelShare: NaN },
          outbound: { ...outbound, cpuSecondsPerGB: NaN, kernelShare: NaN },
        };
      } finally {
        pair.down();
      }
    },
  };
}

export interface ContenderResult {
  name: string;
  inbound: PeerTransfer & { rounds: PeerTransfer[] };
  outbound: PeerTransfer & { rounds: PeerTransfer[] };
}

export interface HeadToHead {
  bytes: number;
  rounds: number;
  contenders: ContenderResult[];
  /** lwIP's compiled-in limits and its ping RTT (one lwip-peer, after a flood warm-up). */
  lwip: { options: LwipResult['lwipOptions']; ping: PingResult };
  placement: string;
  cpuPressure: number;
}

/** What lwIP's ready line says about its build and how fast it answers a ping. */
export interface LwipResult {
  lwipOptions: { tcpWnd: number; tcpSndBuf: number; tcpMss: number; wndScale: number };
  ping: PingResult;
}

async function lwipProfile(lab: Lab, binary: string): Promise<LwipResult> {
  lab.flushNeighbours();
  const peer = await startLwipPeer(lab, binary);
  try {
    const ready = peer.ready;
    return {
      ping: measurePing(lab),
      lwipOptions: {
        tcpWnd: ready.tcp_wnd ?? NaN,
        tcpSndBuf: ready.tcp_snd_buf ?? NaN,
        tcpMss: ready.tcp_mss ?? NaN,
        wndScale: ready.wnd_scale ?? NaN,
      },
    };
  } finally {
    await peer.responder.stop();
  }
}

/** Per stack variant, before the timed rounds (see measureHeadToHead). */
const WARMUP_BYTES = 64 << 20;

/**
 * Every contender, `rounds` times, the order rotating each round (round r starts with
 * contender r) so that load from anything else on the machine hits them alike; each figure is
 * the median over the rounds, the raw rounds kept beside it.
 */
export async function measureHeadToHead(
  lab: Lab,
  stackVariants: StackVariant[],
  opts: { bytes?: number; rounds?: number } = {},
): Promise<HeadToHead> {
  const bytes = opts.bytes ?? 512 << 20;
  const rounds = Math.max(1, opts.rounds ?? 3);
  const pressure = cpuPressure();
  const binary = buildLwipPeer();
  const lwip = await lwipProfile(lab, binary);
  const contenders: Contender[] = [
    ...stackVariants.map(stackContender),
    lwipContender(lab, binary),
    vethContender(false, lab.placement),
    vethContender(true, lab.placement),
  ];
  const raw = contenders.map(() => ({
    inbound: [] as PeerTransfer[],
    outbound: [] as PeerTransfer[],
  }));
  // Our stack runs in this process: one untimed transfer each way per variant first, so no
  // timed round pays for the JIT compiling the receive and send paths (a stack serving
  // traffic is past that within its first seconds). The C peers and the kernel have no warm-up.
  for (let k = 0; k < stackVariants.length; k++) await contenders[k].round(WARMUP_BYTES);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (r + k) % contenders.length;
      const t = await contenders[i].round(bytes);
      raw[i].inbound.push(t.inbound);
      raw[i].outbound.push(t.outbound);
    }
  }
  const { responderCpus, clientCpus } = lab.placement;
  return {
    bytes,
    rounds,
    contenders: contenders.map((c, i) => ({
      name: c.name,
      inbound: { ...medianTransfer(raw[i].inbound), rounds: raw[i].inbound },
      outbound: { ...medianTransfer(raw[i].outbound), rounds: raw[i].outbound },
    })),
    lwip: { options: lwip.lwipOptions, ping: lwip.ping },
    placement: `stack or lwIP or the receiving kernel on CPU ${responderCpus}, kernel tools (socat, ping) and the sending kernel on CPU ${clientCpus} (${CPUS} CPUs)`,
    cpuPressure: pressure,
  };
}

/**
 * The head-to-head's lines: every contender both ways with its spread and raw rounds, CPU
 * seconds per GB (of the stack's own process where there is one, and of the whole machine), the
 * ratios to lwIP, and the issue's targets against lwIP's median in the same run.
 */
export function formatHeadToHead(h: HeadToHead, veth?: KernelVethResult): string {
  const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const pct = (share: number): string =>
    Number.isFinite(share) ? `(${(share * 100).toFixed(0)}% sys)`.padEnd(10) : ''.padEnd(10);
  const o = h.lwip.options;
  const lwip = h.contenders.find((c) => c.name === 'lwIP');
  const dir = (t: ContenderResult['inbound']): string => {
    const g = t.rounds.map((x) => x.gbps);
    return (
      `${f(t.gbps).padStart(6)} (${f(Math.min(...g))}-${f(Math.max(...g))}) ` +
      `${f(t.cpuSecondsPerGB).padStart(5)} ${pct(t.kernelShare)} ${f(t.machineCpuSecondsPerGB).padStart(5)}`
    );
  };
  const ratio = (c: ContenderResult, way: 'inbound' | 'outbound'): string =>
    lwip === undefined ? 'n/a' : `${f(c[way].gbps / lwip[way].gbps)}x`;
  const lines = [
    `head-to-head, TCP over IPv4, ${(h.bytes / 2 ** 20).toFixed(0)} MiB per transfer, median of ${h.rounds} rounds (min-max), contenders interleaved; ${h.placement}`,
    `  lwIP ${'2.1.3'} is Debian's liblwip (TCP_WND ${o.tcpWnd}, wnd scale ${o.wndScale}, SND_BUF ${o.tcpSndBuf}, MSS ${o.tcpMss}); Gbit/s, then CPU s/GB of the contender's process (its share in the kernel) and of the machine`,
    `  ${'contender'.padEnd(32)} ${'kernel → it'.padEnd(44)} ${'it → kernel'.padEnd(44)} vs lwIP`,
    ...h.contenders.map(
      (c) =>
        `  ${c.name.padEnd(32)} ${dir(c.inbound).padEnd(44)} ${dir(c.outbound).padEnd(44)} ${ratio(c, 'inbound')} / ${ratio(c, 'outbound')}`,
    ),
    '  raw rounds, Gbit/s in / out:',
    ...h.contenders.map(
      (c) =>
        `    ${c.name.padEnd(32)} ${c.inbound.rounds.map((t, i) => `${f(t.gbps)} / ${f(c.outbound.rounds[i].gbps)}`).join(', ')}`,
    ),
    `  lwIP ping: median ${f(h.lwip.ping.medianUs, 0)} µs, p99 ${f(h.lwip.ping.p99Us, 0)} µs (${h.lwip.ping.received}/${h.lwip.ping.sent} replies)`,
    `  CPU pressure before (other load): ${f(h.cpuPressure, 0)}% (PSI some avg10)`,
  ];
  if (lwip !== undefined) {
    const target = (name: string, factor: number): string => {
      const c = h.contenders.find((x) => x.name === name);
      if (c === undefined) return `  target ${name} >= ${factor}x lwIP both ways: not measured`;
      const ok =
        c.inbound.gbps >= factor * lwip.inbound.gbps &&
        c.outbound.gbps >= factor * lwip.outbound.gbps;
      return `  target ${name} >= ${factor}x lwIP both ways: ${ratio(c, 'inbound')} / ${ratio(c, 'outbound')} ${ok ? 'OK' : 'MISSED'}`;
    };
    lines.push(target(STACK_OFFLOADS, 2), target(STACK_NO_OFFLOADS, 1));
  }
  if (veth !== undefined) lines.push(formatKernelVeth(veth));
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.getuid?.() !== 0) {
    process.stdout.write('bench peers: needs root (network namespaces + TAP); skipped\n');
  } else {
    const bytes = Number(process.env.PEERS_BENCH_BYTES ?? 512 << 20);
    const rounds = Number(process.env.PEERS_BENCH_ROUNDS ?? 3);
    const lab = new PeerLab(
      CPUS >= 2 ? { responderCpus: '1', clientCpus: '0' } : { responderCpus: '0', clientCpus: '0' },
    );
    // Ctrl-C skips the finally blocks: remove this process's namespaces (their children die
    // with the TAP/veth, and `ip netns del` of a missing name is a no-op).
    process.once('SIGINT', () => {
      for (const ns of [lab.ns, ...vethNamespaces(), stackHostNamespace()]) {
        spawnSync('ip', ['netns', 'del', ns]);
      }
      process.exit(130);
    });
    lab.up();
    try {
      const h = await measureHeadToHead(lab, STACK_VARIANTS, { bytes, rounds });
      process.stdout.write(formatHeadToHead(h) + '\n');
    } finally {
      lab.down();
    }
  }
}
