/**
 * `pktstack demo`: the whole stack against the real kernel in under a minute, leaving nothing
 * behind. As root it makes a private namespace with tap0 (10.0.0.1/24 and fd00::1/64 on the
 * kernel side), runs `pktstack run` in it as 10.0.0.2 and fd00::2 with HTTP (80), TCP echo (7),
 * TCP discard (9) and a pcap, then the kernel's own tools talk to it: ping, curl (status page
 * and a 10 MB body), an echo round trip and a 10 MB discard upload with socat, and over IPv6
 * ping -6 and curl -6. It prints what each showed, a capture
 * summary read back with our pcap reader and decoder, and removes everything it made — also
 * on failure or Ctrl-C.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CaptureDecoder } from '../../decode/capture.js';
import { openCapture } from '../../pcap/reader.js';
import {
  createNamespace,
  deleteNamespace,
  describeOffloads,
  inNamespace,
  isRoot,
  KERNEL_CIDR,
  killRunningCommands,
  LabError,
  offloadArgs,
  requireTools,
  STACK_CIDR,
  STACK_IP,
  STACK6_CIDR,
  STACK6_IP,
  startStack,
  stopStack,
  type StackProcess,
} from './netns-lab.js';
import { NO_OFFLOAD_HELP } from './run.js';

export interface DemoOptions {
  /** Keep the capture here (default: a temporary file, removed at the end). */
  pcap?: string;
  /** Bytes for the large HTTP body and for the discard upload. */
  bytes: string;
  /** Ask for the TAP's virtio-net offloads (default true; `--no-offload`: not). */
  offload?: boolean;
}

/** One step's outcome line (`ok` false marks the demo as failed, but it goes on). */
interface Step {
  name: string;
  ok: boolean;
  text: string;
}

const MBIT = 1e6;

function rate(bytes: number, seconds: number): string {
  return seconds > 0 ? `${((bytes * 8) / seconds / MBIT).toFixed(0)} Mbit/s` : 'n/a';
}

async function pingStep(ns: string, family: 4 | 6 = 4): Promise<Step> {
  const name = family === 4 ? 'ping' : 'ping6';
  const target = family === 4 ? STACK_IP : STACK6_IP;
  const r = await inNamespace(ns, 'ping', [
    `-${family}`,
    '-c',
    '5',
    '-i',
    '0.2',
    '-W',
    '2',
    target,
  ]);
  const counts = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(r.stdout);
  if (counts === null) return { name, ok: false, text: r.stderr.trim() || 'no output' };
  const ok = counts[2] === counts[1];
  const times = rtt === null ? '' : `, rtt min/avg/max ${rtt[1]}/${rtt[2]}/${rtt[3]} ms`;
  return { name, ok, text: `${counts[2]}/${counts[1]} replies from ${target}${times}` };
}

/**
 * Waits (up to 5 s) for the stack's IPv6 address to answer: duplicate address detection keeps
 * it tentative for about a second after start (RFC 4862).
 */
async function ipv6Ready(ns: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const r = await inNamespace(ns, 'ping', ['-6', '-c', '1', '-W', '1', STACK6_IP]);
    if (r.code === 0) return;
    await new Promise((f) => setTimeout(f, 200));
  }
}

async function curlStep(ns: string, path: string, family: 4 | 6 = 4): Promise<Step> {
  const name = family === 4 ? 'http' : 'http6';
  const url = family === 4 ? `http://${STACK_IP}${path}` : `http://[${STACK6_IP}]${path}`;
  const r = await inNamespace(ns, 'curl', [
    `-${family}`,
    '-sS',
    '--max-time',
    '20',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code} %{size_download} %{time_total}',
    url,
  ]);
  const [status, size, time] = r.stdout.trim().split(' ');
  const bytes = Number(size);
  const seconds = Number(time);
  if (r.code !== 0 || status !== '200') {
    return { name, ok: false, text: `GET ${url}: ${r.stderr.trim() || status}` };
  }
  const took = seconds < 0.1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
  const speed = bytes >= 1_000_000 ? ` (${rate(bytes, seconds)})` : '';
  return {
    name,
    ok: true,
    text: `GET ${family === 4 ? path : url} → ${status}, ${bytes} bytes in ${took}${speed}`,
  };
}

async function echoStep(ns: string): Promise<Step> {
  const message = 'hello, pktstack\n';
  const started = performance.now();
  const r = await inNamespace(ns, 'socat', ['-t', '2', '-T', '5', '-', `TCP:${STACK_IP}:7`], {
    input: message,
    timeoutMs: 10_000,
  });
  const ms = performance.now() - started;
  const ok = r.code === 0 && r.stdout === message;
  const text = ok
    ? `"${message.trim()}" came back over TCP port 7 (socat, ${ms.toFixed(0)} ms with process start)`
    : `expected the message back, got ${JSON.stringify(r.stdout)} ${r.stderr.trim()}`;
  return { name: 'echo', ok, text };
}

async function discardStep(ns: string, bytes: number): Promise<Step> {
  const started = performance.now();
  const r = await inNamespace(
    ns,
    'sh',
    ['-c', `head -c ${bytes} /dev/zero | socat -u - TCP:${STACK_IP}:9`],
    { timeoutMs: 30_000 },
  );
  const seconds = (performance.now() - started) / 1000;
  if (r.code !== 0) return { name: 'discard', ok: false, text: r.stderr.trim() };
  return {
    name: 'discard',
    ok: true,
    text: `${bytes} bytes sent to TCP port 9 in ${seconds.toFixed(2)} s (${rate(bytes, seconds)})`,
  };
}

/** Frames per protocol in the run's capture, decoded with our own reader and codecs. */
export function summarizeCapture(file: Uint8Array): string {
  const counts = new Map<string, number>();
  const add = (key: string): void => {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const decoder = new CaptureDecoder();
  let frames = 0;
  for (const record of openCapture(file)) {
    frames++;
    if (!decoder.decode(record.bytes, record.linkType)) add('malformed');
    else if (decoder.has('arp')) add('ARP');
    else if (decoder.has('icmp')) add('ICMP');
    else if (decoder.has('icmpv6')) add('ICMPv6');
    else if (decoder.has('tcp')) {
      const port = Math.min(decoder.tcp.srcPort, decoder.tcp.dstPort);
      add(port === 80 ? 'TCP/http' : port === 7 ? 'TCP/echo' : port === 9 ? 'TCP/discard' : 'TCP');
    } else if (decoder.has('udp')) add('UDP');
    else if (decoder.has('ipv4')) add('IPv4 other');
    else if (decoder.has('ipv6')) add('IPv6 other');
    else add('other');
  }
  const parts = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} ${k}`);
  return `${frames} frames: ${parts.join(', ')}`;
}

function print(step: Step): void {
  const mark = step.ok ? ' ' : '!';
  process.stdout.write(`${mark} ${step.name.padEnd(8)} ${step.text}\n`);
}

export async function runDemo(options: DemoOptions): Promise<number> {
  if (!isRoot()) {
    process.stderr.write(
      'pktstack demo: needs root (it creates a network namespace and a TAP device); run it with sudo\n',
    );
    return 1;
  }
  const bytes = Number(options.bytes);
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 1e9) {
    throw new LabError('--bytes must be an integer from 1 to 1000000000');
  }
  await requireTools([
    ['ip', '-V'],
    ['ping', '-V'],
    ['curl', '--version'],
    ['socat', '-V'],
  ]);
  const ns = `pkt-demo-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'pkt-demo-'));
  const pcap = options.pcap ?? join(dir, 'demo.pcap');
  let stack: StackProcess | null = null;
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    killRunningCommands(); // a ping or curl still running inside the namespace
    if (stack !== null) await stopStack(stack);
    await deleteNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  };
  // Ctrl-C or kill: still remove the namespace (and the stack process inside it).
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\npktstack demo: ${signal}, cleaning up\n`);
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const started = performance.now();
    await createNamespace(ns, { ipv6: true });
    stack = await startStack(ns, [
      '--tap',
      'tap0',
      '--ip',
      STACK_CIDR,
      '--ip6',
      STACK6_CIDR,
      '--gateway',
      KERNEL_CIDR.split('/')[0],
      '--http',
      '80',
      '--echo',
      '7',
      '--discard',
      '9',
      '--pcap',
      pcap,
      ...offloadArgs(options.offload ?? true),
    ]);
    const offloads = describeOffloads(stack);
    process.stdout.write(
      `pktstack demo: namespace ${ns}: kernel ${KERNEL_CIDR} on tap0 <-> pktstack ${STACK_CIDR} ${STACK6_CIDR} ` +
        `(mac ${String(stack.up.mac)}, pid ${stack.child.pid}, offloads ${offloads.summary})\n`,
    );
    if (offloads.fallback !== null) process.stdout.write(`pktstack demo: ${offloads.fallback}\n`);
    const steps: Step[] = [];
    const run = async (step: Promise<Step>): Promise<void> => {
      const s = await step;
      steps.push(s);
      print(s);
    };
    await run(pingStep(ns));
    await run(curlStep(ns, '/'));
    await run(curlStep(ns, `/bytes/${bytes}`));
    await run(echoStep(ns));
    await run(discardStep(ns, bytes));
    await ipv6Ready(ns);
    await run(pingStep(ns, 6));
    await run(curlStep(ns, `/bytes/${bytes}`, 6));
    await stopStack(stack);
    const down = await stack.down;
    stack = null;
    const tcp = (down?.stats as { tcp?: Record<string, unknown> } | undefined)?.tcp;
    if (tcp !== undefined) {
      print({
        name: 'stack',
        ok: true,
        text: `tcp: ${String(tcp.passiveOpens)} connections accepted, ${String(tcp.segmentsIn)} segments in, ${String(tcp.segmentsOut)} out, ${String(tcp.retransmits)} retransmitted`,
      });
    }
    let capture: Step;
    try {
      capture = { name: 'capture', ok: true, text: summarizeCapture(readFileSync(pcap)) };
    } catch (error) {
      capture = { name: 'capture', ok: false, text: (error as Error).message };
    }
    steps.push(capture);
    print(capture);
    await cleanup();
    const failed = steps.filter((s) => !s.ok).length;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `pktstack demo: ${failed === 0 ? 'all steps passed' : `${failed} step(s) failed`} in ${seconds} s; ` +
        `removed namespace ${ns}${options.pcap !== undefined ? `; capture kept in ${options.pcap}` : ''}\n`,
    );
    return failed === 0 ? 0 : 1;
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'as root: run the stack in a private namespace and show ping, HTTP, echo, IPv6 and a capture',
    )
    .option('--pcap <file>', 'keep the capture of the run in FILE')
    .option('--bytes <n>', 'size of the large HTTP body and of the discard upload', '10000000')
    .option('--no-offload', NO_OFFLOAD_HELP)
    .action(async (options: DemoOptions) => {
      try {
        process.exitCode = await runDemo(options);
      } catch (error) {
        process.stderr.write(`pktstack demo: ${(error as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
