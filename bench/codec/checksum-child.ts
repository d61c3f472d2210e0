// One checksum measurement child for bench:codec: the Internet checksum the generated codecs
// call (src/codec/checksum.ts) against the hand-written references (checksum-reference.ts: the
// routine it replaced, and the same byte loop as one function), each timed against it in
// alternating rounds of this process (timePaired), and the bytes it allocates per call
// (measureAlloc; run with the allocation flags). Prints one JSON line (ChecksumReport).
//
// The regions are where a stack sums them: a TCP segment after the Ethernet and IPv4 headers
// (offset 34, not 4-byte aligned) in each of 32 2 KiB slots of a slab, as a TAP ring holds
// frames; every 32 calls the other of two slabs (a receive ring and a transmit buffer), read
// from an array as a stack reads its view's bytes, so that neither routine sees one constant
// array (V8 would fold its address and length into the loop, which no caller in the stack gets). `pool` sums Node Buffers instead, 64 distinct Buffer.allocUnsafe() slices of the
// shared pool: every call is a different array (the routine's two-entry identity cache misses
// and it looks the buffer's word view up instead).
import { parseArgs } from 'node:util';
import { internetChecksum } from '../../src/codec/checksum.js';
import { byteLoopChecksum, oldChecksum } from './checksum-reference.js';
import { measureAlloc, timePaired, type AllocResult, type TimeResult } from './measure.js';
import { mix } from './workload.js';

export interface ChecksumCase {
  region: 'slab' | 'pool';
  size: number;
}

export const CHECKSUM_CASES: readonly ChecksumCase[] = [
  { region: 'slab', size: 64 },
  { region: 'slab', size: 128 },
  { region: 'slab', size: 256 },
  { region: 'slab', size: 576 },
  { region: 'slab', size: 1500 },
  { region: 'pool', size: 1500 },
];

export interface ChecksumResult extends ChecksumCase {
  /**
   * Per call, CPU time, against each reference in alternating rounds: `ratios` are the
   * reference's round over the routine's (the speedup), one per round.
   */
  time?: {
    current: TimeResult;
    old: TimeResult;
    oldRatios: number[];
    byteLoop: TimeResult;
    byteLoopRatios: number[];
  };
  alloc?: AllocResult;
  /** Calls whose result differed from the reference's (must be 0). */
  mismatches: number;
}

export interface ChecksumReport {
  mode: 'time' | 'alloc';
  results: ChecksumResult[];
}

const SLOTS = 32;
const SLOT = 2048;
const AT = 34;
const POOLED = 64;

function fill(bytes: Uint8Array, seed: number): void {
  let x = seed;
  for (let i = 0; i < bytes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
}

const slabs: Uint8Array[] = [new Uint8Array(SLOTS * SLOT), new Uint8Array(SLOTS * SLOT)];
fill(slabs[0], 1);
fill(slabs[1], 7);
const pooled: Buffer[] = [];
for (let k = 0; k < POOLED; k++) {
  const b = Buffer.allocUnsafe(AT + 1500);
  fill(b, k + 2);
  pooled.push(b);
}

type Checksum = (bytes: Uint8Array, offset: number, length: number) => number;
type Pass = (size: number, calls: number) => number;

/**
 * A pass of `calls` checksums over `region`, compiled from its own source per routine: its own
 * function and feedback, so each routine's call is monomorphic and inlined as in a process of
 * its own.
 */
function makePass(f: Checksum, region: ChecksumCase['region']): Pass {
  const call =
    region === 'slab'
      ? 'f(slabs[(c >> 5) & 1], AT + (c & 31) * SLOT, size)'
      : 'f(pooled[c & 63], AT, size)';
  const make = new Function(
    'f',
    'mix',
    'slabs',
    'pooled',
    'AT',
    'SLOT',
    `return function pass(size, calls) {
      let acc = 0;
      for (let c = 0; c < calls; c++) acc = mix(acc, ${call});
      return acc;
    };`,
  ) as (...args: unknown[]) => Pass;
  return make(f, mix, slabs, pooled, AT, SLOT);
}

function mismatches(size: number): number {
  let n = 0;
  const check = (b: Uint8Array, o: number): void => {
    const want = oldChecksum(b, o, size);
    if (internetChecksum(b, o, size) !== want || byteLoopChecksum(b, o, size) !== want) n++;
  };
  for (const slab of slabs) for (let k = 0; k < SLOTS; k++) check(slab, AT + k * SLOT);
  for (const b of pooled) check(b, AT);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'time' },
      rounds: { type: 'string', default: '9' },
      'warmup-ms': { type: 'string', default: '300' },
      'round-ms': { type: 'string', default: '40' },
      'budget-mb': { type: 'string', default: '96' },
      'min-frames': { type: 'string', default: '240000' },
      samples: { type: 'string', default: '5' },
    },
  });
  const mode = values.mode === 'alloc' ? 'alloc' : 'time';
  const results: ChecksumResult[] = [];
  const calls = 4096;
  for (const c of CHECKSUM_CASES) {
    const r: ChecksumResult = { ...c, mismatches: mismatches(c.size) };
    const cur = makePass(internetChecksum, c.region);
    if (mode === 'time') {
      const opt = {
        warmupMs: Number(values['warmup-ms']),
        rounds: Number(values.rounds),
        roundMs: Number(values['round-ms']),
      };
      const vs = (f: Checksum): ReturnType<typeof timePaired> => {
        const ref = makePass(f, c.region);
        const p = timePaired(
          () => cur(c.size, calls),
          () => ref(c.size, calls),
          calls,
          opt,
        );
        if (p.a.checksum !== p.b.checksum) r.mismatches++;
        return p;
      };
      const old = vs(oldChecksum);
      const loop = vs(byteLoopChecksum);
      r.time = {
        current: old.a,
        old: old.b,
        oldRatios: old.ratios.map((x) => 1 / x),
        byteLoop: loop.b,
        byteLoopRatios: loop.ratios.map((x) => 1 / x),
      };
    } else {
      r.alloc = await measureAlloc((n) => () => cur(c.size, n), calls, {
        budgetBytes: Number(values['budget-mb']) * 1024 * 1024,
        minFrames: Number(values['min-frames']),
        samples: Number(values.samples),
      });
    }
    results.push(r);
  }
  const report: ChecksumReport = { mode, results };
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(
    `checksum-child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
