/**
 * `npm run bench:stack`: the stack through a real TAP, beside the practical limit measured in the
 * same run on the same TAP (a C process that answers by swapping headers), plus bytes allocated
 * per received frame. Needs root (a network namespace of its own); prints why and exits otherwise.
 *
 * Scenarios live one per file (ping.ts, udp-echo.ts, alloc.ts, tcp.ts, http.ts) and targets in
 * targets.ts; the head-to-head with the peers (our stack with and without offloads, lwIP on
 * the same kind of TAP, the kernel itself over a veth with and without offloads) in peers.ts. `--only ping,tcp,peers,http` picks sections (default: all of them).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CACHE, CPUS, Lab, ROOT } from './lab.js';
import { nodeSwapTarget, responderTarget, stackTarget, type Target } from './targets.js';
import { measurePing, type PingResult } from './ping.js';
import { measureUdpEcho, type UdpEchoResult } from './udp-echo.js';
import { measureAllocation } from './alloc.js';
import { formatTcp, measureTcp, type TcpBenchResult } from './tcp.js';
import {
  formatHeadToHead,
  measureHeadToHead,
  measureKernelVeth,
  STACK_VARIANTS,
  type HeadToHead,
  type KernelVethResult,
} from './peers.js';
import { formatHttp, measureHttp, type HttpBenchResult } from './http.js';

const SECTIONS = ['ping', 'tcp', 'peers', 'http'] as const;
type Section = (typeof SECTIONS)[number];

function selectedSections(argv: string[]): Set<Section> {
  const i = argv.indexOf('--only');
  if (i < 0) return new Set(SECTIONS);
  const wanted = (argv[i + 1] ?? '').split(',').filter((x) => x !== '');
  const bad = wanted.filter((w) => !(SECTIONS as readonly string[]).includes(w));
  if (bad.length > 0 || wanted.length === 0) {
    throw new Error(
      `--only takes a comma list of ${SECTIONS.join(', ')} (got "${argv[i + 1] ?? ''}")`,
    );
  }
  return new Set(wanted as Section[]);
}

interface TargetResult {
  target: string;
  /** One entry per round; the summary takes the median across rounds. */
  rounds: Array<{ ping: PingResult; udpEcho: UdpEchoResult }>;
  pingMedianUs: number;
  pingP99Us: number;
  pingReceived: number;
  pingSent: number;
  udpRate: number;
  udpCpuUsPerEcho: number;
}

/**
 * Rounds alternate the targets (C, Node, stack, C, Node, stack, ...) so that load from anything
 * else on the machine hits them alike; each figure is the median over the rounds.
 */
const ROUNDS = 3;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[(s.length - 1) >> 1];
}

function summarize(target: string, rounds: TargetResult['rounds']): TargetResult {
  return {
    target,
    rounds,
    pingMedianUs: median(rounds.map((r) => r.ping.medianUs)),
    pingP99Us: median(rounds.map((r) => r.ping.p99Us)),
    pingReceived: rounds.reduce((n, r) => n + r.ping.received, 0),
    pingSent: rounds.reduce((n, r) => n + r.ping.sent, 0),
    udpRate: median(rounds.map((r) => r.udpEcho.rate)),
    udpCpuUsPerEcho: median(rounds.map((r) => r.udpEcho.cpuUsPerEcho)),
  };
}

function build(): void {
  // tsc emits even when other parts of the tree have type errors; what matters is the CLI.
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error(`npm run build produced no dist/src/cli/main.js: ${r.stdout}${r.stderr}`);
  }
  if (r.status !== 0)
    process.stderr.write('bench:stack: build reported type errors; using what it emitted\n');
}

async function measureTarget(
  lab: Lab,
  target: Target,
): Promise<{ ping: PingResult; udpEcho: UdpEchoResult }> {
  lab.flushNeighbours();
  const running = await target.start(lab);
  try {
    const ping = measurePing(lab);
    const udpEcho = measureUdpEcho(lab, running);
    return { ping, udpEcho };
  } finally {
    await running.stop();
  }
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** Ping RTT and UDP echo for the C limit, the Node floor and the stack, plus receive allocation. */
async function pingAndUdp(
  lab: Lab,
  placement: { responderCpus: string; clientCpus: string },
  cpus: number,
): Promise<Record<string, unknown>> {
  const targets = [responderTarget(), nodeSwapTarget(), stackTarget()];
  const rounds = targets.map(() => [] as TargetResult['rounds']);
  for (let round = 0; round < ROUNDS; round++) {
    for (let t = 0; t < targets.length; t++) rounds[t].push(await measureTarget(lab, targets[t]));
  }
  const results = targets.map((t, i) => summarize(t.name, rounds[i]));
  const alloc = [...measureAllocation('10.0.0'), ...measureAllocation('192.168.1')];

  const limit = results[0];
  const ours = results[results.length - 1];
  const rttRatio = ours.pingMedianUs / limit.pingMedianUs;
  const rateRatio = ours.udpRate / limit.udpRate;
  const lines = [
    `placement: responder (C or pktstack) on CPU ${placement.responderCpus}, ping/udpload on CPU ${placement.clientCpus} (taskset); ${cpus} CPUs`,
    '',
    `median of ${ROUNDS} alternating rounds; ping: 2000 x 56 B at 2 ms after a 20000-ping flood`,
    'target          ping median   ping p99     replies   UDP echo/s (64 B, window 32, 3 s)   CPU/echo',
    ...results.map(
      (r) =>
        `${r.target.padEnd(15)} ${fmt(r.pingMedianUs).padStart(8)} µs ${fmt(r.pingP99Us).padStart(7)} µs ` +
        `${`${r.pingReceived}/${r.pingSent}`.padStart(11)}   ${fmt(r.udpRate).padStart(10)}` +
        `${fmt(r.udpCpuUsPerEcho, 2).padStart(29)} µs`,
    ),
    '',
    `RTT median ratio Node swap/limit: ${fmt(results[1].pingMedianUs / limit.pingMedianUs, 2)}x (what Node + the TAP addon cost before any stack code)`,
    `RTT median ratio pktstack/limit: ${fmt(rttRatio, 2)}x (target <= 1.5x) ${rttRatio <= 1.5 ? 'OK' : 'MISSED'}`,
    `UDP echo rate ratio:             ${fmt(rateRatio * 100, 1)}% (target >= 40%) ${rateRatio >= 0.4 ? 'OK' : 'MISSED'}`,
    '',
    'receive path, in-process (compiled stack, null link): bytes allocated / time per frame',
    ...alloc.map(
      (a) =>
        `  ${a.scenario.padEnd(28)} ${fmt(a.bytesPerFrame, 3).padStart(7)} B/frame ` +
        `(${a.frames} frames, ${a.gcs} GCs in loop)  ${fmt(a.nsPerFrame).padStart(6)} ns/frame`,
    ),
    `allocation target 0 B/frame: ${alloc.every((a) => Math.round(a.bytesPerFrame) === 0 && a.gcs === 0) ? 'OK' : 'MISSED'}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return { results, alloc, rttRatio, rateRatio };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stdout.write('bench:stack: needs root (network namespace + TAP); skipped\n');
    return;
  }
  const cpus = CPUS;
  const placement =
    cpus >= 2 ? { responderCpus: '1', clientCpus: '0' } : { responderCpus: '0', clientCpus: '0' };
  const sections = selectedSections(process.argv.slice(2));
  build();
  const report: Record<string, unknown> = { placement, cpus };
  if (sections.has('ping') || sections.has('peers')) {
    const lab = new Lab(placement);
    const cleanup = (): void => lab.down();
    process.once('SIGINT', () => {
      cleanup();
      process.exit(130);
    });
    lab.up();
    try {
      if (sections.has('ping')) Object.assign(report, await pingAndUdp(lab, placement, cpus));
      // lwIP runs on the same TAP (nothing else holds tap0 between targets).
      if (sections.has('peers')) {
        const h: HeadToHead = await measureHeadToHead(lab, STACK_VARIANTS);
        // Its transfers are the head-to-head's; here only its ping and the tools' ceiling.
        const veth: KernelVethResult = await measureKernelVeth({
          rounds: 0,
          clientCpus: placement.clientCpus,
          serverCpus: placement.responderCpus,
        });
        process.stdout.write('\n' + formatHeadToHead(h, veth) + '\n');
        report.headToHead = h;
        report.kernelVeth = veth;
      }
    } finally {
      cleanup();
    }
  }
  if (sections.has('tcp')) {
    const tcpResult: TcpBenchResult = await measureTcp();
    process.stdout.write('\n' + formatTcp(tcpResult) + '\n');
    report.tcp = tcpResult;
  }
  if (sections.has('http')) {
    const http: HttpBenchResult = await measureHttp();
    process.stdout.write('\n' + formatHttp(http) + '\n');
    report.http = http;
  }
  const out = join(CACHE, 'stack-results.json');
  writeFileSync(out, JSON.stringify(report, null, 2));
  process.stdout.write(`(raw numbers in ${out})\n`);
}

await main();
