// Timing and allocation measurement, run inside a child process that holds one contender.
//
// Time: warm up until the JIT has settled, then several rounds of whole-corpus passes (each
// round long enough for the clock), median ns/frame. The figure is the process's CPU time
// (process.cpuUsage: user + system, all threads, so concurrent GC work is counted): on an idle
// machine it equals wall-clock time, and on a busy one it leaves out the time the process sat
// descheduled, which wall-clock time would charge to whichever contender ran then. Wall-clock
// time is reported beside it. Runs under Node's default heap flags, so allocating contenders
// pay their usual GC cost.
//
// Allocation: the child is started with --expose-gc and a young generation far larger than one
// measurement allocates (--min/max-semi-space-size), so no GC runs inside the measured loop and
// V8's used-heap counter grows by exactly what was allocated. A PerformanceObserver('gc') checks
// that no GC did run; if one did, the measurement is repeated on fewer frames. Each measurement is
// gc(); read the used size of the spaces JS objects live in (all but code and read-only space,
// so that the JIT compiling code in the background is not counted); run; read again. The same is done for a calibration pass that decodes
// nothing (the harness's own cost, e.g. the heap-statistics objects), and its median delta is
// subtracted. A result whose magnitude is within the calibration runs' spread (at least 2 KiB per
// measurement, spread over 100k+ frames) is reported as 0 with that floor.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type { Contender, Encoder } from './contender.js';
import type { Corpus } from './corpus.js';
import { ENC_FRAME_LENGTH, mix } from './workload.js';

export interface TimeOptions {
  warmupMs: number;
  rounds: number;
  roundMs: number;
}

export interface TimeResult {
  /** CPU time (user + system) of this process per frame, median of the rounds. */
  nsPerFrame: number;
  /** Wall-clock time per frame, median of the rounds (equal to nsPerFrame on an idle machine). */
  wallNsPerFrame: number;
  checksum: number;
  roundsNsPerFrame: number[];
}

export interface AllocResult {
  bytesPerFrame: number;
  /** Bytes per frame below which a result is reported as 0. */
  noiseFloorPerFrame: number;
  framesPerMeasurement: number;
  gcRetries: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Results land here so that no measured loop is dead code. */
export let blackhole = 0;

/** A pass of `frames` iterations returning a checksum; `frames` is what ns/frame divides by. */
type Pass = () => number;

interface Warmed {
  checksum: number;
  /** Passes per round: enough for the round to last opt.roundMs. */
  perRound: number;
}

/** Runs `pass` until the JIT has settled (≥ opt.warmupMs and ≥ 5 passes). */
function warm(pass: Pass, opt: TimeOptions): Warmed {
  const checksum = pass();
  let passes = 1;
  const warmStart = performance.now();
  let last = 0;
  while (passes < 5 || performance.now() - warmStart < opt.warmupMs) {
    const t = performance.now();
    if (pass() !== checksum) throw new Error('checksum differs between passes (not deterministic)');
    last = performance.now() - t;
    passes++;
  }
  return { checksum, perRound: Math.max(1, Math.ceil(opt.roundMs / Math.max(last, 0.001))) };
}

interface Round {
  cpu: number;
  wall: number;
}

let roundSink = 0;

/** One round: CPU and wall-clock ns per frame over `w.perRound` passes. */
function round(pass: Pass, w: Warmed, frames: number): Round {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < w.perRound; k++) roundSink ^= pass();
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(c0);
  blackhole = roundSink;
  return {
    cpu: ((cpu.user + cpu.system) * 1000) / (w.perRound * frames),
    wall: wallNs / (w.perRound * frames),
  };
}

function result(w: Warmed, rounds: Round[]): TimeResult {
  const cpu = rounds.map((r) => r.cpu);
  return {
    nsPerFrame: median(cpu),
    wallNsPerFrame: median(rounds.map((r) => r.wall)),
    checksum: w.checksum,
    roundsNsPerFrame: cpu,
  };
}

function timePass(pass: Pass, frames: number, opt: TimeOptions): TimeResult {
  const w = warm(pass, opt);
  const rounds: Round[] = [];
  for (let r = 0; r < opt.rounds; r++) rounds.push(round(pass, w, frames));
  return result(w, rounds);
}

export interface PairedResult {
  a: TimeResult;
  b: TimeResult;
  /** a's round over b's round, per round: the two ran back to back under the same load. */
  ratios: number[];
}

/**
 * Times two passes over the same frames in alternating rounds (a b, b a, a b, ...): whatever
 * else the machine is doing lands on both alike, so a's round over b's round is steady where
 * either figure alone is not. Each pass has its own function (its own feedback), so timing
 * them in one process leaves every call site as monomorphic as a process of its own.
 */
export function timePaired(
  passA: Pass,
  passB: Pass,
  frames: number,
  opt: TimeOptions,
): PairedResult {
  const wa = warm(passA, opt);
  const wb = warm(passB, opt);
  const ra: Round[] = [];
  const rb: Round[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < opt.rounds; r++) {
    let a: Round;
    let b: Round;
    if (r % 2 === 0) {
      a = round(passA, wa, frames);
      b = round(passB, wb, frames);
    } else {
      b = round(passB, wb, frames);
      a = round(passA, wa, frames);
    }
    ra.push(a);
    rb.push(b);
    ratios.push(a.cpu / b.cpu);
  }
  return { a: result(wa, ra), b: result(wb, rb), ratios };
}

export function timeDecode(c: Contender, corpus: Corpus, opt: TimeOptions): TimeResult {
  return timePass(() => c.decodePass(corpus), corpus.count, opt);
}

/** One encode pass: frames 0..count-1, folding each length and both checksums back in. */
export function encodePass(enc: Encoder, out: Uint8Array, count: number): number {
  let acc = 0;
  for (let i = 0; i < count; i++) {
    const n = enc.encodeFrame(i, out);
    acc = mix(acc, n);
    acc = mix(acc, (out[24] << 8) | out[25]);
    acc = mix(acc, (out[50] << 8) | out[51]);
  }
  return acc;
}

export function timeEncode(enc: Encoder, count: number, opt: TimeOptions): TimeResult {
  const out = new Uint8Array(ENC_FRAME_LENGTH + 64);
  return timePass(() => encodePass(enc, out, count), count, opt);
}

/**
 * A copy of encodePass compiled from its own source: a function of its own, with its own
 * feedback, so that in a process timing two encoders each one's `enc.encodeFrame` call stays
 * monomorphic (and inlinable), as it is in a process of its own.
 */
export function ownEncodePass(): typeof encodePass {
  const make = new Function('mix', `return ${encodePass.toString()}`) as (
    m: typeof mix,
  ) => typeof encodePass;
  return make(mix);
}

// ---- allocation --------------------------------------------------------------------------------

const gcLog: number[] = []; // start times of observed GCs
let observer: PerformanceObserver | null = null;

function startGcObserver(): void {
  if (observer !== null) return;
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcLog.push(e.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
}

/** Bytes used by JS objects: every heap space except code spaces and read-only space. */
function objectBytes(): number {
  let sum = 0;
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_name.startsWith('code') || s.space_name === 'read_only_space') continue;
    sum += s.space_used_size;
  }
  return sum;
}

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 2));
}

function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('allocation measurement needs node --expose-gc');
  gc();
  gc();
}

interface Sample {
  delta: number;
  gc: boolean;
}

/** Runs `passes` calls of `pass` between two heap readings; reports whether a GC intervened. */
async function sample(pass: Pass, passes: number): Promise<Sample> {
  forceGc();
  await tick();
  const t0 = performance.now();
  const h0 = objectBytes();
  let sink = 0;
  for (let k = 0; k < passes; k++) sink ^= pass();
  const h1 = objectBytes();
  const t1 = performance.now();
  await tick();
  const gc = gcLog.some((t) => t >= t0 && t <= t1);
  blackhole = sink;
  return { delta: h1 - h0, gc };
}

export interface AllocOptions {
  /** Bytes one measurement may allocate: well under the young generation. */
  budgetBytes: number;
  /** Aim for at least this many frames per measurement (more frames, lower noise floor). */
  minFrames: number;
  samples: number;
}

/**
 * Measures bytes allocated per frame by `makePass(frames)`, a pass over `frames` frames
 * (frames ≤ maxFrames; the caller maps it to a corpus prefix or an encode count).
 */
export async function measureAlloc(
  makePass: (frames: number) => Pass,
  maxFrames: number,
  opt: AllocOptions,
): Promise<AllocResult> {
  startGcObserver();
  const nullPass = (): number => 0;
  let frames = maxFrames;
  let pass = makePass(frames);
  for (let w = 0; w < 20; w++) pass(); // warm-up: optimized code, settled feedback
  // Probe one pass to size the measurement.
  let probe = await sample(pass, 1);
  let gcRetries = 0;
  while (probe.gc && frames > 16) {
    gcRetries++;
    frames = Math.max(16, frames >> 1);
    pass = makePass(frames);
    probe = await sample(pass, 1);
  }
  const perPass = Math.max(probe.delta, 1);
  let passes = Math.max(
    1,
    Math.min(Math.ceil(opt.minFrames / frames), Math.floor(opt.budgetBytes / perPass)),
  );
  for (;;) {
    const calib: number[] = [];
    const meas: number[] = [];
    let gcSeen = false;
    for (let s = 0; s < opt.samples; s++) {
      const c = await sample(nullPass, passes);
      const m = await sample(pass, passes);
      gcSeen ||= c.gc || m.gc;
      calib.push(c.delta);
      meas.push(m.delta);
    }
    if (gcSeen && passes > 1) {
      gcRetries++;
      passes = Math.max(1, passes >> 1);
      continue;
    }
    if (gcSeen) throw new Error('a GC ran inside every allocation measurement; raise the budget');
    const base = median(calib);
    const spread = Math.max(...calib.map((x) => Math.abs(x - base)));
    const floorBytes = Math.max(2048, spread);
    const net = median(meas) - base;
    const total = frames * passes;
    return {
      bytesPerFrame: Math.abs(net) <= floorBytes ? 0 : net / total,
      noiseFloorPerFrame: floorBytes / total,
      framesPerMeasurement: total,
      gcRetries,
    };
  }
}
