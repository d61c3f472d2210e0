/**
 * `pktstack sandbox up|down|status`: the demo's namespace kept for hands-on use. `up` makes
 * namespace `pktstack` with tap0 (kernel side 10.0.0.1/24) and, unless --no-stack, starts
 * `pktstack run` in it in the background as 10.0.0.2 with HTTP (80), TCP echo (7), discard (9)
 * and UDP echo (7); its PID and log live in a state file under /run/pktstack. Then, e.g.
 *
 *   ip netns exec pktstack ping 10.0.0.2
 *   ip netns exec pktstack curl http://10.0.0.2/
 *   ip netns exec pktstack tcpdump -ni tap0
 *
 * `down` stops that process (checking it is still ours) and deletes the namespace.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  createNamespace,
  deleteNamespace,
  describeOffloads,
  isRoot,
  KERNEL_CIDR,
  LabError,
  namespaceExists,
  offloadArgs,
  STACK_CIDR,
  STACK6_CIDR,
  STACK6_IP,
  KERNEL6_CIDR,
  STACK_IP,
  startStack,
} from './netns-lab.js';
import { NO_OFFLOAD_HELP } from './run.js';

const STATE_DIR = '/run/pktstack';

interface SandboxState {
  namespace: string;
  pid: number | null;
  log: string | null;
  started: string;
  args: string[];
}

export interface SandboxOptions {
  name: string;
  stack: boolean;
  http: string;
  pcap?: string;
  /** Ask for the TAP's virtio-net offloads (default true; `--no-offload`: not). */
  offload?: boolean;
}

function statePath(name: string): string {
  return join(STATE_DIR, `${name}.json`);
}

function readState(name: string): SandboxState | null {
  try {
    return JSON.parse(readFileSync(statePath(name), 'utf8')) as SandboxState;
  } catch {
    return null;
  }
}

/** True when `pid` is alive and still the `pktstack run` we started (PIDs get reused). */
function isOurStack(pid: number, ns: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes('run') && cmdline.includes('--tap') && isInNamespace(pid, ns);
  } catch {
    return false;
  }
}

function isInNamespace(pid: number, ns: string): boolean {
  try {
    // `ip netns exec` bind-mounts /run/netns/NAME; same inode as the process's net namespace.
    return statSync(`/proc/${pid}/ns/net`).ino === statSync(`/run/netns/${ns}`).ino;
  } catch {
    return false;
  }
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/.test(name)) {
    throw new LabError(`bad namespace name "${name}"`);
  }
}

function needRoot(): void {
  if (!isRoot()) {
    throw new LabError('needs root (network namespaces and TAP devices); run it with sudo');
  }
}

export async function sandboxUp(o: SandboxOptions): Promise<void> {
  needRoot();
  checkName(o.name);
  const previous = readState(o.name);
  if (previous !== null || (await namespaceExists(o.name))) {
    const down = `pktstack sandbox down${o.name === 'pktstack' ? '' : ` --name ${o.name}`}`;
    throw new LabError(`namespace ${o.name} already exists: run "${down}" first`);
  }
  mkdirSync(STATE_DIR, { recursive: true });
  await createNamespace(o.name, { ipv6: true });
  const state: SandboxState = {
    namespace: o.name,
    pid: null,
    log: null,
    started: new Date().toISOString(),
    args: [],
  };
  let offloads: ReturnType<typeof describeOffloads> | null = null;
  if (o.stack) {
    const log = join(STATE_DIR, `${o.name}.log`);
    rmSync(log, { force: true });
    const args = ['--tap', 'tap0', '--ip', STACK_CIDR, '--gateway', KERNEL_CIDR.split('/')[0]];
    args.push('--ip6', STACK6_CIDR);
    args.push('--http', o.http, '--echo', '7', '--discard', '9', '--udp-echo', '7');
    if (o.pcap !== undefined) args.push('--pcap', o.pcap);
    args.push(...offloadArgs(o.offload ?? true));
    try {
      const p = await startStack(o.name, args, { logFile: log });
      state.pid = p.child.pid ?? null;
      state.log = log;
      state.args = args;
      offloads = describeOffloads(p);
    } catch (error) {
      await deleteNamespace(o.name);
      throw error;
    }
  }
  writeFileSync(statePath(o.name), JSON.stringify(state, null, 2) + '\n');
  const ns = o.name;
  const lines = [
    `sandbox up: namespace ${ns}, kernel ${KERNEL_CIDR} ${KERNEL6_CIDR} on tap0` +
      (state.pid !== null
        ? `, pktstack ${STACK_CIDR} ${STACK6_CIDR} (pid ${state.pid}, log ${state.log}, ` +
          `offloads ${offloads?.summary ?? 'none'})`
        : ''),
    ...(offloads?.fallback != null ? [offloads.fallback] : []),
    'try:',
    ...(state.pid !== null
      ? [
          `  ip netns exec ${ns} ping ${STACK_IP}`,
          `  ip netns exec ${ns} curl http://${STACK_IP}/          # status page`,
          `  ip netns exec ${ns} socat - TCP:${STACK_IP}:7         # TCP echo`,
          `  ip netns exec ${ns} ping -6 ${STACK6_IP}`,
          `  ip netns exec ${ns} curl -6 http://[${STACK6_IP}]/     # the same server over IPv6`,
        ]
      : [`  ip netns exec ${ns} pktstack run --tap tap0 --ip ${STACK_CIDR} --http 80`]),
    `  ip netns exec ${ns} tcpdump -ni tap0`,
    `stop with: pktstack sandbox down${ns === 'pktstack' ? '' : ` --name ${ns}`}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function stopPid(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
  }
  process.kill(pid, 'SIGKILL');
}

export async function sandboxDown(o: SandboxOptions): Promise<void> {
  needRoot();
  checkName(o.name);
  const state = readState(o.name);
  const exists = await namespaceExists(o.name);
  if (state === null && !exists) {
    process.stdout.write(`sandbox ${o.name} is not up\n`);
    return;
  }
  if (state?.pid != null && isOurStack(state.pid, o.name)) await stopPid(state.pid);
  await deleteNamespace(o.name);
  rmSync(statePath(o.name), { force: true });
  process.stdout.write(`sandbox down: namespace ${o.name} removed\n`);
}

export async function sandboxStatus(o: SandboxOptions): Promise<number> {
  checkName(o.name);
  const state = readState(o.name);
  const exists = await namespaceExists(o.name);
  if (!exists) {
    process.stdout.write(`sandbox ${o.name} is not up\n`);
    return 1;
  }
  const alive = state?.pid != null && isOurStack(state.pid, o.name);
  process.stdout.write(
    `sandbox ${o.name}: namespace up` +
      (state?.pid != null
        ? `, pktstack pid ${state.pid} ${alive ? 'running' : 'NOT running'} (log ${state.log})`
        : ', no stack started by the sandbox') +
      '\n',
  );
  return alive || state?.pid == null ? 0 : 1;
}

export function register(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description('keep a namespace with tap0 (and the stack) for hands-on use: up | down | status');
  const common = (cmd: Command): Command => cmd.option('--name <ns>', 'namespace name', 'pktstack');
  const report = (error: unknown): void => {
    process.stderr.write(`pktstack sandbox: ${(error as Error).message}\n`);
    process.exitCode = 1;
  };
  common(sandbox.command('up'))
    .description('make the namespace and start the stack in it in the background')
    .option('--no-stack', 'only the namespace; run the stack yourself')
    .option('--http <port[:dir]>', 'what the stack serves over HTTP', '80')
    .option('--pcap <file>', "record the stack's frames to FILE")
    .option('--no-offload', NO_OFFLOAD_HELP)
    .action((o: SandboxOptions) => sandboxUp(o).catch(report));
  common(sandbox.command('down'))
    .description('stop the stack and delete the namespace')
    .action((o: SandboxOptions) => sandboxDown(o).catch(report));
  common(sandbox.command('status'))
    .description('say whether the namespace and the stack are up')
    .action(async (o: SandboxOptions) => {
      try {
        process.exitCode = await sandboxStatus(o);
      } catch (error) {
        report(error);
      }
    });
}
