/**
 * Runs one packetdrill script in-process: a stack on a VirtualClock whose link's far end is this
 * interpreter. Inbound packets are built with the generated encoders, with seq, ack, SACK blocks
 * and TS ecr mapped onto the live connection; every outbound packet is matched against the
 * script (flags, seq/ack relative to the ISNs, length, options in order, win when written) within
 * the timing tolerance; consecutive segments merge into one larger script packet as in
 * packetdrill's default (non-strict) mode. System calls run on an fd table (syscalls.ts).
 */
import type {
  DrillEvent,
  DrillExpr,
  DrillScript,
  PacketAction,
  SyscallAction,
  TcpOptionSpec,
  TimePoint,
} from './ast.js';
import { DrillLink, type SentSegment } from './link.js';
import { DrillSocket } from './socket.js';
import {
  DrillSkip,
  ERRNO,
  FdTable,
  LOCAL_PORT,
  REMOTE_PORT,
  evalInt,
  type CallResult,
} from './syscalls.js';
import { evalCode, type TcpInfo } from './code.js';
import { tcp } from '../generated/index.js';
import { parseIpv4 } from '../codec/address.js';
import { VirtualClock } from '../runtime/clock/virtual.js';
import { createStack } from '../runtime/stack.js';
import type { TcpLayer, TcpLayerOptions } from '../runtime/tcp/layer.js';
import { formatSourceError } from '../source-location.js';

export const LOCAL_IP = '192.168.0.1';
export const REMOTE_IP = '192.0.2.1';
const GATEWAY_IP = '192.168.0.2';
/** The peer's initial sequence number (script seq 0 on inbound packets). */
const REMOTE_ISN = 1_000_000;
/** The peer's port when it connects to us. */
const REMOTE_EPHEMERAL = 48_879;
const DEFAULT_TOLERANCE_USECS = 4000;
/** Outbound packets held for the script before the run fails (an unbounded burst). */
const MAX_QUEUED = 10_000;

export type DrillStatus = 'pass' | 'fail' | 'skip';

export interface DrillOutcome {
  status: DrillStatus;
  /** Why it failed or was skipped (one line). */
  reason: string;
  /** Where it failed: `file:line:col`, the line and a caret, then details. */
  detail: string;
  line: number | null;
}

class DrillFailure extends Error {
  constructor(
    readonly event: DrillEvent | null,
    message: string,
    readonly extra = '',
  ) {
    super(message);
  }
}

const FLAG_BITS: Record<string, number> = {
  F: tcp.TcpFlags.FIN,
  S: tcp.TcpFlags.SYN,
  R: tcp.TcpFlags.RST,
  P: tcp.TcpFlags.PSH,
  '.': tcp.TcpFlags.ACK,
  U: tcp.TcpFlags.URG,
  E: tcp.TcpFlags.ECE,
  W: tcp.TcpFlags.CWR,
};

function flagBits(flags: string): number {
  let bits = 0;
  for (const c of flags) bits |= FLAG_BITS[c] ?? 0;
  return bits;
}

function flagText(bits: number): string {
  let s = '';
  for (const c of 'SFRPUEW.') if (bits & FLAG_BITS[c]) s += c;
  return s === '' ? '-' : s;
}

const u32 = (x: number): number => x >>> 0;

/** Options as packetdrill writes them: `mss 1460,nop,wscale 7`. */
function itemsText(items: readonly tcp.TcpOptionsItem[], sackBase: number): string {
  return items
    .map((i) => {
      switch (i.kind) {
        case 'NOP':
          return 'nop';
        case 'EOL':
          return 'eol';
        case 'MSS':
          return `mss ${i.value}`;
        case 'WindowScale':
          return `wscale ${i.shift}`;
        case 'SackPermitted':
          return 'sackOK';
        case 'Sack':
          return (
            'sack ' +
            i.blocks.map((b) => `${u32(b.left - sackBase)}:${u32(b.right - sackBase)}`).join(' ')
          );
        case 'Timestamps':
          return `TS val ${u32(i.tsval)} ecr ${u32(i.tsecr)}`;
        default:
          return `raw(${i.bytes.length})`;
      }
    })
    .join(',');
}

function specText(o: TcpOptionSpec): string {
  switch (o.kind) {
    case 'mss':
      return `mss ${o.value}`;
    case 'wscale':
      return `wscale ${o.shift}`;
    case 'sack':
      return 'sack ' + o.blocks.map(([l, r]) => `${l}:${r}`).join(' ');
    case 'ts':
      return `TS val ${o.val} ecr ${o.ecr}`;
    case 'fo':
    case 'foexp':
      return `${o.kind === 'fo' ? 'FO' : 'FOEXP'} ${o.cookie}`;
    case 'md5':
      return `md5 ${o.digest}`;
    default:
      return o.kind;
  }
}

/** Sysctls and shell commands: how each maps onto the stack, or why the script cannot run. */
function applyCommand(command: string, options: TcpLayerOptions): void {
  for (const raw of command.replace(/\\\n/g, ' ').split(/\n|;|&&/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (/(^|\/)defaults\.sh$/.test(line)) continue;
    if (/^\/tmp\/sysctl_restore_/.test(line)) continue;
    const setter = /^\S*set_sysctls\.py\s+(.*)$/.exec(line);
    if (setter !== null) {
      for (const arg of setter[1].trim().split(/\s+/)) {
        const m = /^\/proc\/sys\/net\/ipv4\/([a-z_0-9]+)=(.*)$/.exec(arg);
        if (m === null) throw new DrillSkip(`sysctl ${arg}`);
        applySysctl(m[1], m[2], options);
      }
      continue;
    }
    const sysctl = /^sysctl\s+(?:-q\s+)?(.*)$/.exec(line);
    if (sysctl === null) throw new DrillSkip(`shell command \`${line}\``);
    for (const setting of sysctl[1].split(/\s+(?=net\.)/)) {
      const m = /^net\.ipv4\.([a-z_0-9]+)\s*=\s*"?([^"]*)"?$/.exec(setting.trim());
      if (m === null) throw new DrillSkip(`sysctl ${setting}`);
      applySysctl(m[1], m[2].trim(), options);
    }
  }
}

/** Knobs that change nothing a portable script observes on our stack (TSO, pacing, metrics). */
const HARMLESS_SYSCTLS = new Set([
  'tcp_tso_win_divisor',
  'tcp_min_tso_segs',
  'tcp_pacing_ss_ratio',
  'tcp_pacing_ca_ratio',
  'tcp_autocorking',
  'tcp_no_metrics_save',
  'tcp_fack',
  'tcp_dsack',
  'tcp_frto',
  'tcp_reordering',
  'tcp_rmem',
  'tcp_wmem',
  'tcp_notsent_lowat',
  'tcp_ecn_option',
]);

/** The fd a script expects socket() or accept() to return (an integer result), else null. */
function wantFd(call: SyscallAction): number | null {
  if (call.name !== 'socket' && call.name !== 'accept') return null;
  return call.result.kind === 'int' ? call.result.value : null;
}

function applySysctl(name: string, value: string, o: TcpLayerOptions): void {
  const n = Number(value);
  switch (name) {
    case 'tcp_timestamps':
      o.timestamps = n !== 0;
      return;
    case 'tcp_sack':
      o.sack = n !== 0;
      return;
    case 'tcp_window_scaling':
      o.windowScale = n !== 0;
      return;
    case 'tcp_syn_retries':
      o.synRetries = n;
      return;
    case 'tcp_synack_retries':
      o.synAckRetries = n;
      return;
    case 'tcp_congestion_control':
      if (value !== 'cubic' && value !== 'reno') throw new DrillSkip(`congestion control ${value}`);
      o.congestion = value === 'cubic' ? 'cubic' : 'newreno';
      return;
    case 'tcp_slow_start_after_idle':
      o.slowStartAfterIdle = n !== 0;
      return;
    case 'tcp_early_retrans':
    case 'tcp_recovery':
      // Our behaviour is defaults.sh's (RACK and TLP on).
      return;
    case 'tcp_ecn':
      if (n !== 0) throw new DrillSkip('ECN');
      return;
    case 'tcp_fastopen':
    case 'tcp_fastopen_key':
    case 'tcp_syncookies':
      return;
    default:
      if (HARMLESS_SYSCTLS.has(name)) return;
      throw new DrillSkip(`sysctl net.ipv4.${name}`);
  }
}

interface Pending {
  event: DrillEvent;
  call: SyscallAction;
  /** When the call started (µs). */
  start: number;
  /** When it should return (µs). */
  end: number;
}

export interface RunOptions {
  /** Overrides the script's --tolerance_usecs. */
  toleranceUsecs?: number;
}

/** Runs a parsed script to its outcome. Never throws for a script's content. */
export function runDrill(script: DrillScript, options: RunOptions = {}): DrillOutcome {
  let run: Runner | null = null;
  try {
    run = new Runner(script, options);
    run.execute();
    return { status: 'pass', reason: '', detail: '', line: null };
  } catch (e) {
    if (e instanceof DrillSkip) return { status: 'skip', reason: e.reason, detail: '', line: null };
    if (e instanceof DrillFailure) {
      const ev = e.event;
      const where =
        ev === null
          ? `${script.file}: ${e.message}`
          : formatSourceError(script.file, script.source, ev.index, e.message);
      return {
        status: 'fail',
        reason: e.message,
        detail: where + (e.extra === '' ? '' : '\n' + e.extra),
        line: ev?.line ?? null,
      };
    }
    const message = e instanceof Error ? e.message : String(e);
    return {
      status: 'fail',
      reason: `interpreter error: ${message}`,
      detail: `${script.file}: interpreter error: ${message}`,
      line: null,
    };
  } finally {
    run?.dispose();
  }
}

class Runner {
  private readonly clock = new VirtualClock();
  private readonly link = new DrillLink(this.clock);
  private tcpLayer: TcpLayer | null = null;
  private fds: FdTable | null = null;
  private readonly tolerance: number;
  private readonly layerOptions: TcpLayerOptions;
  private readonly localIp = parseIpv4(LOCAL_IP) >>> 0;
  private readonly remoteIp = parseIpv4(REMOTE_IP) >>> 0;
  /** Our ISN (null until our first SYN or SYN-ACK shows it; 0 is used before). */
  private ourIsn: number | null = null;
  /** Ports of the flow the script talks to (learned from our SYN for an active open). */
  private localPort = LOCAL_PORT;
  private remotePort = REMOTE_EPHEMERAL;
  /** Our TS val minus the script's, from the first outbound timestamp (maps inbound ecr). */
  private tsOffset: number | null = null;
  private pending: Pending | null = null;
  /** Time of the previous event (µs): relative times count from it. */
  private previous = 0;
  private readonly strict: boolean;

  constructor(
    private readonly script: DrillScript,
    options: RunOptions,
  ) {
    let tolerance = DEFAULT_TOLERANCE_USECS;
    let strict = false;
    for (const o of script.options) {
      switch (o.name) {
        case 'tolerance_usecs':
          tolerance = Number(o.value);
          break;
        case 'strict_segments':
          strict = true;
          break;
        case 'mss':
        case 'tcp_ts_tick_usecs':
          break;
        default:
          throw new DrillSkip(`option --${o.name}`);
      }
    }
    if (script.defines.length > 0) throw new DrillSkip('-D defines (used for Fast Open cookies)');
    this.tolerance = options.toleranceUsecs ?? tolerance;
    this.strict = strict;
    // Scripts are written against Linux: its profile, and window scale from the largest
    // receive buffer (tcp_rmem max 15 MB in defaults.sh gives shift 8).
    this.layerOptions = {
      profile: 'linux',
      rcvBuf: 15 * 1024 * 1024,
      isnKey: new Uint8Array(16).fill(7),
      cookieKey: new Uint8Array(16).fill(9),
    };
  }

  dispose(): void {
    this.tcpLayer?.close();
  }

  private get now(): number {
    return Math.round(this.clock.now() * 1000);
  }

  private layer(): TcpLayer {
    if (this.tcpLayer === null) {
      const stack = createStack({
        link: this.link,
        clock: this.clock,
        ip: `${LOCAL_IP}/24`,
        gateway: GATEWAY_IP,
        tcp: this.layerOptions,
      });
      const layer = stack.attachTcp();
      layer.socketFactory = (init) => new DrillSocket(init);
      this.tcpLayer = layer;
      this.fds = new FdTable(layer, this.remoteIp);
    }
    return this.tcpLayer;
  }

  execute(): void {
    const events = this.script.events;
    // Commands configure the stack before it exists (they come first in every script).
    let first = 0;
    while (first < events.length && events[first].action.type === 'command') {
      const a = events[first].action;
      if (a.type === 'command') applyCommand(a.command, this.layerOptions);
      first++;
    }
    this.layer();
    for (let i = first; i < events.length; i++) this.step(events[i]);
    this.finishPending(null);
  }

  private timeOf(p: TimePoint): number {
    return p.relative ? this.previous + p.usecs : p.usecs;
  }

  private step(ev: DrillEvent): void {
    const a = ev.action;
    const t = ev.time;
    if (a.type === 'packet' && a.direction === '>') {
      let lo: number;
      let hi: number;
      if (t.kind === 'any') {
        lo = -Infinity;
        hi = Infinity;
      } else if (t.kind === 'range') {
        lo = this.timeOf(t.from);
        hi = this.timeOf(t.to);
      } else {
        lo = hi = this.timeOf(t.at);
      }
      this.expectOutbound(ev, a, lo, hi);
      return;
    }
    const at =
      t.kind === 'any' ? this.now : t.kind === 'range' ? this.timeOf(t.from) : this.timeOf(t.at);
    this.advanceTo(at, ev);
    this.previous = at;
    switch (a.type) {
      case 'packet':
        this.inject(ev, a);
        break;
      case 'icmp':
        throw new DrillSkip('ICMP packets');
      case 'syscall':
        this.finishPending(ev);
        this.startCall(ev, a, at);
        break;
      case 'command':
        try {
          applyCommand(a.command, {});
        } catch (e) {
          if (e instanceof DrillSkip) throw new DrillSkip(`${e.reason} after the stack started`);
          throw e;
        }
        break;
      case 'code':
        this.finishPending(ev);
        this.code(ev, a.code);
        break;
    }
  }

  /** Moves virtual time to `target` (µs), firing timers; packets sent meanwhile are unexpected. */
  private advanceTo(target: number, ev: DrillEvent): void {
    for (;;) {
      this.pollPending();
      this.checkUnexpected(ev);
      const next = this.clock.nextTimerAt();
      const targetMs = target / 1000;
      if (next === undefined || next > targetMs) {
        if (targetMs > this.clock.now()) this.clock.advance(targetMs - this.clock.now());
        this.pollPending();
        this.checkUnexpected(ev);
        return;
      }
      this.clock.advance(Math.max(0, next - this.clock.now()));
    }
  }

  /**
   * Like packetdrill, a packet sent while the script does something else waits for the next
   * outbound event, where it shows as a mismatch. Only a queue that could never be matched
   * (an endless burst) is an error here.
   */
  private checkUnexpected(ev: DrillEvent): void {
    if (this.link.sent.length < MAX_QUEUED) return;
    const p = this.link.sent[0];
    throw new DrillFailure(
      ev,
      `${MAX_QUEUED} outbound packets the script did not expect, from ${(p.usecs / 1e6).toFixed(6)}: ${this.describe(p)}`,
    );
  }

  /** Waits (in virtual time) for the next outbound segment, until `deadline` µs. */
  private nextSent(deadline: number): SentSegment | null {
    for (;;) {
      this.pollPending();
      const p = this.link.sent.shift();
      if (p !== undefined) return p;
      const next = this.clock.nextTimerAt();
      if (next === undefined || next * 1000 > deadline) {
        const d = deadline / 1000;
        if (Number.isFinite(d) && d > this.clock.now()) this.clock.advance(d - this.clock.now());
        this.pollPending();
        return this.link.sent.shift() ?? null;
      }
      this.clock.advance(Math.max(0, next - this.clock.now()));
    }
  }

  private expectOutbound(ev: DrillEvent, spec: PacketAction, lo: number, hi: number): void {
    const tol = this.tolerance;
    const first = this.nextSent(hi + tol);
    const when = lo === hi ? `${(lo / 1e6).toFixed(6)}` : `${lo / 1e6}~${hi / 1e6}`;
    if (first === null)
      throw new DrillFailure(
        ev,
        `expected outbound packet not sent by ${((hi + tol) / 1e6).toFixed(6)} (script time ${when})`,
      );
    if (first.usecs < lo - tol) {
      throw new DrillFailure(
        ev,
        `outbound packet sent too early: at ${(first.usecs / 1e6).toFixed(6)}, expected ${when}`,
        `actual: ${this.describe(first)}`,
      );
    }
    const actual = { ...first };
    const mss = this.mergeLength(first);
    // Non-strict mode: consecutive data segments make up one larger script packet.
    if (!this.strict && spec.length > 0) {
      while (actual.payloadLength < spec.length && actual.payloadLength > 0) {
        const more = this.peekNext(hi + tol);
        if (more === null || u32(more.seq - actual.seq) !== actual.payloadLength) break;
        if (
          (more.flags & ~tcp.TcpFlags.PSH & ~tcp.TcpFlags.FIN) !==
          (actual.flags & ~tcp.TcpFlags.PSH)
        )
          break;
        if (actual.payloadLength % mss !== 0) break;
        this.link.sent.shift();
        actual.payloadLength += more.payloadLength;
        actual.flags |= more.flags;
        actual.ack = more.ack;
        actual.window = more.window;
      }
    }
    // PSH on a packet made of several segments reflects how Linux cut its TSO buffers, not
    // TCP semantics (RFC 9293 §3.9.1 leaves PSH to the sender): there it is not compared.
    if (actual.payloadLength > first.payloadLength) {
      const want = flagBits(spec.flags) & tcp.TcpFlags.PSH;
      actual.flags = (actual.flags & ~tcp.TcpFlags.PSH) | want;
    }
    this.match(ev, spec, actual);
    this.previous = first.usecs;
  }

  private mergeLength(p: SentSegment): number {
    const conn = this.connection();
    const mss = conn?.effMss ?? p.payloadLength;
    return mss > 0 ? mss : 1;
  }

  private peekNext(deadline: number): SentSegment | null {
    const p = this.nextSent(deadline);
    if (p !== null) this.link.sent.unshift(p);
    return p;
  }

  private connection(): import('../fsm/tcp.js').TcpConnection | null {
    for (const s of this.fds?.sockets() ?? []) {
      const c = s.connection;
      if (c !== null) return c;
    }
    return null;
  }

  private describe(p: SentSegment): string {
    const isn = this.ourIsn ?? 0;
    const seq = u32(p.seq - isn);
    let s = `${flagText(p.flags)} ${seq}:${u32(seq + p.payloadLength)}(${p.payloadLength})`;
    if (p.flags & tcp.TcpFlags.ACK) s += ` ack ${u32(p.ack - REMOTE_ISN)}`;
    s += ` win ${p.window}`;
    if (p.options.length > 0) s += ` <${itemsText(p.options, REMOTE_ISN)}>`;
    return s;
  }

  private match(ev: DrillEvent, spec: PacketAction, p: SentSegment): void {
    const fail = (what: string): never => {
      throw new DrillFailure(
        ev,
        `outbound packet mismatch: ${what}`,
        `actual: ${this.describe(p)}`,
      );
    };
    const flags = p.flags & 0xff;
    if (flags !== flagBits(spec.flags))
      fail(`flags ${flagText(flags)}, expected ${spec.flags || '-'}`);
    if (this.ourIsn === null && (p.flags & tcp.TcpFlags.SYN) !== 0) {
      this.ourIsn = u32(p.seq - spec.seq);
      if ((p.flags & tcp.TcpFlags.ACK) === 0) {
        this.localPort = p.srcPort;
        this.remotePort = p.dstPort;
      }
    }
    const isn = this.ourIsn ?? 0;
    if (u32(p.seq - isn) !== u32(spec.seq)) fail(`seq ${u32(p.seq - isn)}, expected ${spec.seq}`);
    if (p.payloadLength !== spec.length) fail(`length ${p.payloadLength}, expected ${spec.length}`);
    // Without the ACK flag the field means nothing relative: a written value is compared raw.
    const ackBase = (p.flags & tcp.TcpFlags.ACK) !== 0 ? REMOTE_ISN : 0;
    if (spec.ack !== null && u32(p.ack - ackBase) !== u32(spec.ack))
      fail(`ack ${u32(p.ack - ackBase)}, expected ${spec.ack}`);
    if (spec.win !== null && p.window !== spec.win) fail(`win ${p.window}, expected ${spec.win}`);
    if (spec.ipInfo !== null) {
      const ecn = ECN_OF[spec.ipInfo];
      if (ecn === undefined) throw new DrillSkip(`IP info [${spec.ipInfo}]`);
      if (p.ecn !== ecn) fail(`ECN bits ${p.ecn}, expected [${spec.ipInfo}]`);
    }
    this.learnTimestamp(spec, p);
    if (spec.options === 'any') return;
    const actual = p.options.filter(
      (o, i, all) => !(o.kind === 'EOL' && i === all.length - 1) && o.kind !== 'raw',
    );
    const wanted = spec.options ?? [];
    const problem = (): never =>
      fail(
        `options <${itemsText(actual, REMOTE_ISN)}>, expected <${wanted.map(specText).join(',')}>`,
      );
    if (actual.length !== wanted.length) problem();
    for (let i = 0; i < wanted.length; i++) {
      const w = wanted[i];
      const o = actual[i];
      switch (w.kind) {
        case 'nop':
          if (o.kind !== 'NOP') problem();
          break;
        case 'eol':
          if (o.kind !== 'EOL') problem();
          break;
        case 'mss':
          if (o.kind !== 'MSS' || o.value !== w.value) problem();
          break;
        case 'wscale':
          if (o.kind !== 'WindowScale' || o.shift !== w.shift) problem();
          break;
        case 'sackOK':
          if (o.kind !== 'SackPermitted') problem();
          break;
        case 'sack':
          if (
            o.kind !== 'Sack' ||
            o.blocks.length !== w.blocks.length ||
            o.blocks.some(
              (b, j) =>
                u32(b.left - REMOTE_ISN) !== u32(w.blocks[j][0]) ||
                u32(b.right - REMOTE_ISN) !== u32(w.blocks[j][1]),
            )
          )
            problem();
          break;
        case 'ts':
          // TS val depends on the stack's clock origin: checked only through the ecr we echo.
          if (o.kind !== 'Timestamps' || u32(o.tsecr) !== u32(w.ecr)) problem();
          break;
        default:
          throw new DrillSkip(`TCP option ${w.kind} on an outbound packet`);
      }
    }
  }

  private learnTimestamp(spec: PacketAction, p: SentSegment): void {
    if (this.tsOffset !== null) return;
    const ts = p.options.find((o) => o.kind === 'Timestamps');
    if (ts === undefined || ts.kind !== 'Timestamps') return;
    const written = Array.isArray(spec.options)
      ? spec.options.find((o) => o.kind === 'ts')
      : undefined;
    this.tsOffset = u32(ts.tsval - (written?.kind === 'ts' ? written.val : 0));
  }

  private inject(ev: DrillEvent, spec: PacketAction): void {
    const isn = this.ourIsn ?? 0;
    const items: tcp.TcpOptionsItem[] = [];
    for (const o of Array.isArray(spec.options) ? spec.options : []) {
      switch (o.kind) {
        case 'nop':
          items.push({ kind: 'NOP' });
          break;
        case 'eol':
          items.push({ kind: 'EOL' });
          break;
        case 'mss':
          items.push({ kind: 'MSS', value: o.value });
          break;
        case 'wscale':
          items.push({ kind: 'WindowScale', shift: o.shift });
          break;
        case 'sackOK':
          items.push({ kind: 'SackPermitted' });
          break;
        case 'sack':
          items.push({
            kind: 'Sack',
            blocks: o.blocks.map(([l, r]) => ({ left: u32(isn + l), right: u32(isn + r) })),
          });
          break;
        case 'ts':
          items.push({
            kind: 'Timestamps',
            tsval: o.val,
            tsecr: o.ecr === 0 ? 0 : u32(o.ecr + (this.tsOffset ?? 0)),
          });
          break;
        default:
          throw new DrillSkip(
            `TCP option ${o.kind === 'fo' || o.kind === 'foexp' ? 'Fast Open' : o.kind}`,
          );
      }
    }
    if (spec.options === 'any') throw new DrillSkip('<...> options on an inbound packet');
    const optionBytes = new Uint8Array(40);
    const n = tcp.encodeTcpOptions(items, optionBytes, 0);
    if (n < 0) throw new DrillFailure(ev, 'inbound TCP options do not fit 40 bytes');
    let ecn = 0;
    if (spec.ipInfo !== null) {
      const e = ECN_OF[spec.ipInfo];
      if (e === undefined) throw new DrillSkip(`IP info [${spec.ipInfo}]`);
      ecn = e;
    }
    const flags = flagBits(spec.flags);
    const ok = this.link.inject(
      this.remoteIp,
      this.localIp,
      {
        srcPort: this.remotePort,
        dstPort: this.localPort,
        seq: u32(REMOTE_ISN + spec.seq),
        // As packetdrill: an ACK without a written number is 0 relative to our ISN.
        ack: flags & FLAG_BITS['.'] ? u32(isn + (spec.ack ?? 0)) : u32(spec.ack ?? 0),
        flags,
        window: spec.win ?? 0,
        urgentPointer: spec.urg ?? 0,
        options: optionBytes.subarray(0, n),
      },
      spec.length,
      ecn,
    );
    if (!ok) throw new DrillFailure(ev, 'inbound packet too large to build');
    this.pollPending();
  }

  private startCall(ev: DrillEvent, call: SyscallAction, at: number): void {
    const fds = this.fds as FdTable;
    const end =
      call.blockingUntil === null
        ? at
        : ev.time.kind === 'point' && !ev.time.at.relative
          ? call.blockingUntil
          : at + call.blockingUntil;
    const result = fds.call(call.name, call.args, false, wantFd(call));
    if (result === null) {
      this.pending = { event: ev, call, start: at, end };
      return;
    }
    this.checkResult(ev, call, result, at, end);
  }

  /** Retries a blocked call; checks it when it returns. */
  private pollPending(): void {
    const p = this.pending;
    if (p === null) return;
    const result = (this.fds as FdTable).call(p.call.name, p.call.args, true, wantFd(p.call));
    if (result === null) return;
    this.pending = null;
    this.checkResult(p.event, p.call, result, this.now, p.end);
  }

  /** A blocked call must have returned before the next call (or the end of the script). */
  private finishPending(next: DrillEvent | null): void {
    const p = this.pending;
    if (p === null) return;
    if (next === null) this.advanceTo(Math.max(this.now, p.end + this.tolerance), p.event);
    this.pollPending();
    if (this.pending !== null) {
      throw new DrillFailure(
        p.event,
        `${p.call.name}() still blocked at ${(this.now / 1e6).toFixed(6)} (expected to return at ${(p.end / 1e6).toFixed(6)})`,
      );
    }
  }

  private checkResult(
    ev: DrillEvent,
    call: SyscallAction,
    r: CallResult,
    at: number,
    end: number,
  ): void {
    const got = r.errno === null ? `${r.result}` : `${r.result} ${r.errno}`;
    const expected = exprText(call.result) + (call.errno === null ? '' : ` ${call.errno}`);
    if (call.result.kind !== 'ellipsis') {
      const want = evalInt(call.result);
      if (want !== r.result)
        throw new DrillFailure(ev, `${call.name}() returned ${got}, expected ${expected}`);
    }
    if (
      call.errno !== null &&
      ERRNO[call.errno] !== (r.errno === null ? undefined : ERRNO[r.errno])
    )
      throw new DrillFailure(ev, `${call.name}() returned ${got}, expected ${expected}`);
    // A blocking call (`+t...end`) may return any time after it started: packetdrill's corpus
    // writes end times loosely (absolute in some scripts, relative in others).
    const blocking = call.blockingUntil !== null;
    if (!blocking && Math.abs(at - end) > this.tolerance) {
      throw new DrillFailure(
        ev,
        `${call.name}() returned at ${(at / 1e6).toFixed(6)}, expected ${(end / 1e6).toFixed(6)}`,
      );
    }
    this.checkOut(ev, call, r);
  }

  /** Values returned through pointers: getsockopt's [value], ioctl's [count]. */
  private checkOut(ev: DrillEvent, call: SyscallAction, r: CallResult): void {
    if (r.out === undefined) return;
    const arg =
      call.name === 'getsockopt' ? call.args[3] : call.name === 'ioctl' ? call.args[2] : undefined;
    if (arg === undefined || arg.kind === 'ellipsis') return;
    const want = evalInt(arg);
    if (want !== r.out[0])
      throw new DrillFailure(ev, `${call.name}() wrote [${r.out[0]}], expected [${want}]`);
  }

  private code(ev: DrillEvent, code: string): void {
    const conn = this.connection();
    if (conn === null) throw new DrillFailure(ev, '%{ }% block without a connection');
    const info: TcpInfo = tcpInfoOf(conn);
    const error = evalCode(code, info);
    if (error !== null) throw new DrillFailure(ev, error);
  }
}

const ECN_OF: Record<string, number> = { noecn: 0, ect1: 1, ect0: 2, ce: 3 };

function exprText(e: DrillExpr): string {
  switch (e.kind) {
    case 'int':
      return String(e.value);
    case 'ident':
      return e.name;
    case 'ellipsis':
      return '...';
    default:
      return e.kind;
  }
}

function tcpInfoOf(conn: import('../fsm/tcp.js').TcpConnection): TcpInfo {
  const mss = conn.effMss;
  return {
    tcpi_state: conn.state,
    tcpi_snd_cwnd: Math.floor(conn.cc.cwnd / mss),
    tcpi_snd_ssthresh:
      conn.cc.ssthresh >= 0x7fffffff ? 0x7fffffff : Math.floor(conn.cc.ssthresh / mss),
    tcpi_snd_mss: mss,
    // The MSS we advertise (our link's, or TCP_MAXSEG's).
    tcpi_advmss: conn.config.mss,
    tcpi_ca_state: conn.inRecovery ? 3 : 0,
    tcpi_retransmits: conn.retries,
    tcpi_backoff: conn.rto.backoff,
  };
}

export { REMOTE_PORT };
