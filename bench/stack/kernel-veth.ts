/**
 * The Linux kernel against itself: two namespaces of our own joined by a veth pair with every
 * offload off (tx/rx checksum, TSO, GSO, GRO), MTU 1500, so each segment is one frame as on the
 * TAP: the per-frame ceiling on this machine. Measures bulk TCP one way and ping RTT.
 *
 * Congestion control: namespaces other than the initial one may only pick a default from
 * net.ipv4.tcp_allowed_congestion_control ("reno bbr" here; cubic gives EPERM), so the sender
 * asks for cubic per socket (TCP_CONGESTION, allowed to root) through socat's setsockopt-string.
 * DESIGN.md: BBR over veth was 40% slower with spurious retransmits.
 *
 * Tools: socat reads /dev/zero itself (readbytes=N, no `head` pipe) and the sink writes to
 * /dev/null with 256 KiB buffers. The same pair over loopback in one namespace (no per-frame
 * cost: 64 KiB MTU) is measured too, as the ceiling of the tools themselves.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CUBIC, machineCpuSeconds, run } from './lab.js';
import { percentile } from './ping.js';

export interface KernelVethOptions {
  /** Bytes sent one way per round (default 512 MiB). */
  bytes?: number;
  /** Transfers; Gbit/s is their median (default 3; 0: ping and the tools' ceiling only). */
  rounds?: number;
  /** CPU list (taskset -c) for the sender and ping. */
  clientCpus?: string;
  /** CPU list for the receiver. */
  serverCpus?: string;
  /** Timed pings after a flood warm-up (default 2000 at 2 ms). */
  pingCount?: number;
}

export interface KernelVethResult {
  bytes: number;
  /** Kernel → kernel over the veth, offloads off: median over the rounds. */
  gbps: number;
  /** Every round's Gbit/s. */
  roundsGbps: number[];
  /** The same socat pair over loopback (64 KiB MTU): what the tools alone can move. */
  toolCeilingGbps: number;
  pingMedianUs: number;
  pingP99Us: number;
  pingReceived: number;
  pingSent: number;
  congestionControl: string;
  placement: string;
  /** CPU pressure (PSI "some" avg10, %) before the measurement: other load on the machine. */
  cpuPressure: number;
}

const PORT = 5001;
const SENDER_IP = '10.8.1.1';
const RECEIVER_IP = '10.8.1.2';

/**
 * Share of the last 10 s in which some runnable task waited for a CPU (/proc/pressure/cpu, %):
 * other work on the machine, which moves these numbers by a factor of 2-4 here. NaN if absent.
 */
export function cpuPressure(): number {
  try {
    const m = /^some avg10=([\d.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** The two namespaces this process uses (sender, receiver). */
export function vethNamespaces(): [string, string] {
  return [`pkt-peers-veth-${process.pid}-a`, `pkt-peers-veth-${process.pid}-b`];
}

function inNs(ns: string, args: string[], timeoutMs = 120_000): string {
  return run('ip', ['netns', 'exec', ns, ...args], timeoutMs).stdout;
}

function nsUp(ns: string): void {
  run('ip', ['netns', 'add', ns]);
  inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
  inNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
}

/**
 * One bulk transfer from `senderNs` to `host:PORT` in `receiverNs`; returns the seconds from
 * the sender's start to the receiver having read everything and exited.
 */
export async function socatTransfer(
  senderNs: string,
  receiverNs: string,
  host: string,
  bytes: number,
  clientCpus: string,
  serverCpus: string,
): Promise<number> {
  const sink = spawn(
    'ip',
    [
      'netns',
      'exec',
      receiverNs,
      'taskset',
      '-c',
      serverCpus,
      'socat',
      '-b',
      '262144',
      '-u',
      `TCP-LISTEN:${PORT},reuseaddr`,
      'OPEN:/dev/null',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let sinkErr = '';
  sink.stderr.on('data', (d: Buffer) => (sinkErr += d.toString()));
  const sinkDone = new Promise<number | null>((resolve) => sink.on('exit', resolve));
  try {
    // Wait until the listener exists instead of sleeping a fixed time.
    for (let i = 0; i < 200; i++) {
      const ss = spawnSync('ip', ['netns', 'exec', receiverNs, 'ss', '-Hltn', `sport = :${PORT}`], {
        encoding: 'utf8',
      });
      if (ss.stdout.trim() !== '') break;
      await new Promise((f) => setTimeout(f, 10));
    }
    const t0 = process.hrtime.bigint();
    inNs(senderNs, [
      'taskset',
      '-c',
      clientCpus,
      'socat',
      '-b',
      '262144',
      '-u',
      `OPEN:/dev/zero,readbytes=${bytes}`,
      `TCP:${host}:${PORT},${CUBIC}`,
    ]);
    const code = await sinkDone;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (code !== 0) throw new Error(`socat sink exited ${code}: ${sinkErr}`);
    return seconds;
  } finally {
    if (sink.exitCode === null && sink.signalCode === null) sink.kill('SIGKILL');
  }
}

/**
 * Two namespaces of our own joined by a veth pair, MTU 1500, with every offload off (one frame
 * per segment, as on the TAP) or on (TSO/GSO, GRO and checksum offload: what the kernel gets
 * from a virtio-net device that has them, the ceiling for a TAP with offloads).
 */
export class VethPair {
  private constructor(
    readonly senderNs: string,
    readonly receiverNs: string,
    readonly offloads: boolean,
  ) {}

  static up(offloads: boolean, names: [string, string] = vethNamespaces()): VethPair {
    const [nsA, nsB] = names;
    const pair = new VethPair(nsA, nsB, offloads);
    try {
      nsUp(nsA);
      nsUp(nsB);
      run('ip', [
        'link',
        'add',
        'pv0',
        'netns',
        nsA,
        'type',
        'veth',
        'peer',
        'name',
        'pv1',
        'netns',
        nsB,
      ]);
      const state = offloads ? 'on' : 'off';
      for (const [ns, dev, ip] of [
        [nsA, 'pv0', SENDER_IP],
        [nsB, 'pv1', RECEIVER_IP],
      ]) {
        inNs(ns, ['ip', 'link', 'set', dev, 'mtu', '1500']);
        inNs(ns, [
          'ethtool',
          '-K',
          dev,
          'tx',
          state,
          'rx',
          state,
          'tso',
          state,
          'gso',
          state,
          'gro',
          state,
        ]);
        inNs(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', dev]);
        inNs(ns, ['ip', 'link', 'set', dev, 'up']);
      }
    } catch (e) {
      pair.down();
      throw e;
    }
    return pair;
  }

  /**
   * One bulk transfer sender → receiver (`reverse`: receiver → sender); the sending socat runs on
   * `clientCpus`, the receiving one on `serverCpus`.
   */
  async transfer(
    bytes: number,
    clientCpus: string,
    serverCpus: string,
    direction: 'forward' | 'reverse' = 'forward',
  ): Promise<{ gbps: number; machineCpuSecondsPerGB: number }> {
    const cpu0 = machineCpuSeconds();
    const [from, to, host] =
      direction === 'forward'
        ? [this.senderNs, this.receiverNs, RECEIVER_IP]
        : [this.receiverNs, this.senderNs, SENDER_IP];
    const seconds = await socatTransfer(from, to, host, bytes, clientCpus, serverCpus);
    return {
      gbps: (bytes * 8) / seconds / 1e9,
      machineCpuSecondsPerGB: (machineCpuSeconds() - cpu0) / (bytes / 1e9),
    };
  }

  /** Ping RTTs (µs, sorted) after a flood warm-up, from the sender's namespace. */
  ping(count: number, cpus: string): number[] {
    const pinned = (args: string[]): string[] => ['taskset', '-c', cpus, ...args];
    inNs(this.senderNs, pinned(['ping', '-n', '-q', '-f', '-c', '20000', '-W', '1', RECEIVER_IP]));
    const out = inNs(
      this.senderNs,
      pinned(['ping', '-n', '-c', String(count), '-i', '0.002', '-W', '1', RECEIVER_IP]),
    );
    return [...out.matchAll(/time=([\d.]+) ms/g)]
      .map((m) => Number(m[1]) * 1000)
      .sort((a, b) => a - b);
  }

  down(): void {
    spawnSync('ip', ['netns', 'del', this.senderNs]);
    spawnSync('ip', ['netns', 'del', this.receiverNs]);
  }
}

export async function measureKernelVeth(opts: KernelVethOptions = {}): Promise<KernelVethResult> {
  const bytes = opts.bytes ?? 512 << 20;
  const rounds = Math.max(0, opts.rounds ?? 3);
  const pressure = cpuPressure();
  const clientCpus = opts.clientCpus ?? '0';
  const serverCpus = opts.serverCpus ?? '1';
  const pingCount = opts.pingCount ?? 2000;
  const pair = VethPair.up(false);
  try {
    const rtts = pair.ping(pingCount, clientCpus);
    const roundsGbps: number[] = [];
    for (let i = 0; i < rounds; i++) {
      roundsGbps.push((await pair.transfer(bytes, clientCpus, serverCpus)).gbps);
    }
    const sorted = [...roundsGbps].sort((a, b) => a - b);
    const loSeconds = await socatTransfer(
      pair.receiverNs,
      pair.receiverNs,
      '127.0.0.1',
      bytes,
      clientCpus,
      serverCpus,
    );
    return {
      bytes,
      gbps: sorted[(sorted.length - 1) >> 1],
      roundsGbps,
      toolCeilingGbps: (bytes * 8) / loSeconds / 1e9,
      pingMedianUs: percentile(rtts, 50),
      pingP99Us: percentile(rtts, 99),
      pingReceived: rtts.length,
      pingSent: pingCount,
      congestionControl: 'cubic (per socket)',
      placement: `sender + ping on CPU ${clientCpus}, receiver on CPU ${serverCpus}`,
      cpuPressure: pressure,
    };
  } finally {
    pair.down();
  }
}

export function formatKernelVeth(r: KernelVethResult): string {
  const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const transfers =
    r.roundsGbps.length === 0
      ? ''
      : `median of ${r.roundsGbps.length} x ${(r.bytes / 2 ** 20).toFixed(0)} MiB one way ${f(r.gbps)} Gbit/s ` +
        `[${r.roundsGbps.map((g) => f(g)).join(', ')}]; `;
  return [
    `kernel ↔ kernel over veth (offloads off, MTU 1500, ${r.congestionControl}; ${r.placement})`,
    `  TCP: ${transfers}socat pair over loopback (the tools' ceiling) ${f(r.toolCeilingGbps)} Gbit/s`,
    `  ping: median ${f(r.pingMedianUs, 0)} µs, p99 ${f(r.pingP99Us, 0)} µs (${r.pingReceived}/${r.pingSent} replies)`,
    `  CPU pressure before (other load): ${f(r.cpuPressure, 0)}% (PSI some avg10)`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.getuid?.() !== 0) {
    process.stdout.write('bench kernel-veth: needs root (network namespaces); skipped\n');
  } else {
    process.once('SIGINT', () => {
      for (const ns of vethNamespaces()) spawnSync('ip', ['netns', 'del', ns]);
      process.exit(130);
    });
    const r = await measureKernelVeth({
      bytes: Number(process.env.PEERS_BENCH_BYTES ?? 512 << 20),
      rounds: Number(process.env.PEERS_BENCH_ROUNDS ?? 3),
    });
    process.stdout.write(formatKernelVeth(r) + '\n');
  }
}
