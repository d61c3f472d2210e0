// `npm run bench:codec`: decode and encode the benchmark corpus with pktstack's generated codecs,
// a hand-written decoder/encoder (the practical limit) and peer libraries, one child process per
// contender and measurement kind, and print ns/frame and bytes allocated per frame; then the
// Internet checksum the codecs call against hand-written references, in GB/s and bytes per call.
//
//   npm run bench:codec                     tables
//   npm run bench:codec -- --json           {"results":[{name, decodeNsPerFrame, ...}, ...], "checksum":[...]}
//   npm run bench:codec -- --only pktstack,limit --rounds 15
//   npm run bench:codec -- --only checksum  the checksum rows alone
//
// See bench/README.md for what is measured and how.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compileKaitai } from '../kaitai/compile.js';
import type { ChecksumReport, ChecksumResult } from './checksum-child.js';
import type { ChildReport } from './child.js';
import { median } from './measure.js';
import { CONTENDER_NAMES } from './contenders/index.js';
import { DEFAULT_CORPUS, corpusIsStale, ensureCorpus, loadCorpus } from './corpus.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const CHILD = join(HERE, 'child.ts');
const CHECKSUM_CHILD = join(HERE, 'checksum-child.ts');
/** The name --only takes for the checksum rows. */
const CHECKSUM = 'checksum';
const GENERATOR_NAME = 'bench/corpus/generate.py';
/** Young generation for allocation children: far more than one measurement allocates. */
const SEMI_SPACE_MB = 128;
const ALLOC_BUDGET_MB = 96;

export interface ResultRow {
  name: string;
  decodeNsPerFrame: number | null;
  decodeBytesPerFrame: number | null;
  encodeNsPerFrame: number | null;
  encodeBytesPerFrame: number | null;
  /** Decode time over limit's, median of the paired rounds (see timePaired); null for limit. */
  decodeVsLimit: number | null;
  /** Lowest and highest of the timing processes' own medians: the spread between processes. */
  decodeVsLimitSpread: [number, number] | null;
  encodeVsLimit: number | null;
  encodeVsLimitSpread: [number, number] | null;
}

interface Measured {
  row: ResultRow;
  time: ChildReport | null;
  alloc: ChildReport | null;
  error: string | null;
  /** Every timing process's median ns/frame. */
  decodeRuns: number[];
  encodeRuns: number[];
  /** Paired against limit: every round's ratio, and each process's median ratio. */
  decodeRatios: number[];
  encodeRatios: number[];
  decodeRunRatios: number[];
  encodeRunRatios: number[];
}

function runChild<T = ChildReport>(
  args: string[],
  nodeFlags: string[],
  script: string = CHILD,
): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') {
        reject(new Error(err.trim().split('\n').slice(0, 3).join(' | ') || `exit ${code}`));
        return;
      }
      try {
        resolvePromise(JSON.parse(line) as T);
      } catch {
        reject(new Error(`unreadable child output: ${line.slice(0, 200)}`));
      }
    });
  });
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const ALLOC_FLAGS = [
  '--expose-gc',
  `--min-semi-space-size=${SEMI_SPACE_MB}`,
  `--max-semi-space-size=${SEMI_SPACE_MB}`,
];

function emptyRow(name: string): ResultRow {
  return {
    name,
    decodeNsPerFrame: null,
    decodeBytesPerFrame: null,
    encodeNsPerFrame: null,
    encodeBytesPerFrame: null,
    decodeVsLimit: null,
    decodeVsLimitSpread: null,
    encodeVsLimit: null,
    encodeVsLimitSpread: null,
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Times every contender `repeat` times, interleaved (a, b, c, a, b, c, ...). Each contender
 * other than limit is timed against limit in the same process, in alternating rounds
 * (timePaired): the ratio of two rounds run back to back under the same load is steady where
 * either figure alone is not. Reported: the median over all processes (ns/frame: of the
 * processes' medians; vs limit: of every paired round), and the lowest and highest process
 * median as the spread — V8 does not compile the same code the same way in every process (when
 * a hot function is compiled relative to the feedback it has collected differs), so one
 * process can land 10–20% off the next.
 */
async function timeAll(ms: Measured[], common: string[], repeat: number): Promise<void> {
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const paired = ms.some((m) => m.row.name === 'limit');
  for (let r = 0; r < repeat; r++) {
    for (const m of ms) {
      if (m.error !== null) continue;
      log(`bench:codec: timing ${m.row.name} (${r + 1}/${repeat}) ...`);
      const pair = paired && m.row.name !== 'limit' ? ['--pair', 'limit'] : [];
      try {
        const t = await runChild(
          ['--contender', m.row.name, '--mode', 'time', ...common, ...pair],
          [],
        );
        if (t.decodeTime) m.decodeRuns.push(t.decodeTime.nsPerFrame);
        if (t.encodeTime) m.encodeRuns.push(t.encodeTime.nsPerFrame);
        if (t.paired) {
          m.decodeRatios.push(...t.paired.decodeRatios);
          m.decodeRunRatios.push(median(t.paired.decodeRatios));
          if (t.paired.encodeRatios) {
            m.encodeRatios.push(...t.paired.encodeRatios);
            m.encodeRunRatios.push(median(t.paired.encodeRatios));
          }
        }
        if (m.time === null) m.time = t;
      } catch (e) {
        m.error = errorText(e);
      }
    }
  }
  for (const m of ms) {
    const r = m.row;
    if (m.decodeRuns.length > 0) r.decodeNsPerFrame = round(median(m.decodeRuns), 1);
    if (m.encodeRuns.length > 0) r.encodeNsPerFrame = round(median(m.encodeRuns), 1);
    if (m.decodeRatios.length > 0) {
      r.decodeVsLimit = round(median(m.decodeRatios), 3);
      r.decodeVsLimitSpread = spread(m.decodeRunRatios);
    }
    if (m.encodeRatios.length > 0) {
      r.encodeVsLimit = round(median(m.encodeRatios), 3);
      r.encodeVsLimitSpread = spread(m.encodeRunRatios);
    }
  }
}

function spread(xs: number[]): [number, number] {
  return [round(Math.min(...xs), 3), round(Math.max(...xs), 3)];
}

function takeAlloc(m: Measured, a: ChildReport): void {
  m.alloc = a;
  m.row.decodeBytesPerFrame = round(a.decodeAlloc?.bytesPerFrame ?? NaN, 2);
  m.row.encodeBytesPerFrame = a.encodeAlloc ? round(a.encodeAlloc.bytesPerFrame, 2) : null;
}

/** --quick: one child per contender does both (timing under the allocation flags: smoke only). */
async function quickAll(ms: Measured[], args: string[]): Promise<void> {
  for (const m of ms) {
    process.stderr.write(`bench:codec: quick run of ${m.row.name} ...\n`);
    try {
      const r = await runChild(['--contender', m.row.name, '--mode', 'both', ...args], ALLOC_FLAGS);
      m.time = r;
      m.row.decodeNsPerFrame = round(r.decodeTime?.nsPerFrame ?? NaN, 1);
      m.row.encodeNsPerFrame = r.encodeTime ? round(r.encodeTime.nsPerFrame, 1) : null;
      takeAlloc(m, r);
    } catch (e) {
      m.error = errorText(e);
    }
  }
}

async function allocAll(ms: Measured[], common: string[], allocArgs: string[]): Promise<void> {
  for (const m of ms) {
    if (m.error !== null) continue;
    process.stderr.write(`bench:codec: measuring allocation of ${m.row.name} ...\n`);
    try {
      const a = await runChild(
        ['--contender', m.row.name, '--mode', 'alloc', ...common, ...allocArgs],
        ALLOC_FLAGS,
      );
      takeAlloc(m, a);
    } catch (e) {
      m.error = errorText(e);
    }
  }
}

/** The paired ratio and its spread when there is one, else the ratio of the two medians. */
function ratio(
  x: number | null,
  base: number | null,
  paired: number | null,
  range: [number, number] | null,
): string {
  if (paired !== null) {
    const r = `${paired.toFixed(2)}x`;
    return range === null ? r : `${r} (${range[0].toFixed(2)}–${range[1].toFixed(2)})`;
  }
  if (x === null || base === null || base === 0) return '';
  return `${(x / base).toFixed(2)}x`;
}
function cell(x: number | null, digits: number): string {
  return x === null ? 'n/a' : x.toFixed(digits);
}

interface RunInfo {
  corpus: string;
  frames: number;
  sha256: string;
  repeat: number;
}

function printTable(ms: Measured[], problems: string[], info: RunInfo): void {
  const limit = ms.find((m) => m.row.name === 'limit')?.row ?? null;
  const head = [
    'contender',
    'decode ns/frame',
    'vs limit',
    'B/frame',
    'encode ns/frame',
    'vs limit',
    'B/frame',
  ];
  const rows = ms.map((m) => {
    const r = m.row;
    if (m.error !== null) return [r.name, 'error', '', '', '', '', ''];
    return [
      r.name,
      cell(r.decodeNsPerFrame, 1),
      ratio(
        r.decodeNsPerFrame,
        limit?.decodeNsPerFrame ?? null,
        r.decodeVsLimit,
        r.decodeVsLimitSpread,
      ),
      cell(r.decodeBytesPerFrame, 2),
      cell(r.encodeNsPerFrame, 1),
      ratio(
        r.encodeNsPerFrame,
        limit?.encodeNsPerFrame ?? null,
        r.encodeVsLimit,
        r.encodeVsLimitSpread,
      ),
      cell(r.encodeBytesPerFrame, 2),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  console.log(
    `codec benchmark: ${info.frames} frames of ${info.corpus} (sha256 ${info.sha256.slice(0, 16)}), ` +
      `node ${process.version}, ${cpus().length} CPUs, load ${load}; ns = CPU time, median of ${info.repeat} ` +
      `interleaved process(es), each the median of its rounds; vs limit = median of the rounds ` +
      `timed in alternation with limit in the same process (lowest–highest process median)`,
  );
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  // The floor of each result reported as 0 (other results are far above their floors).
  const floors: number[] = [];
  for (const m of ms) {
    for (const a of [m.alloc?.decodeAlloc, m.alloc?.encodeAlloc]) {
      if (a && a.bytesPerFrame === 0) floors.push(a.noiseFloorPerFrame);
    }
  }
  console.log(
    'B/frame: measured with no GC inside the measured loop' +
      (floors.length > 0
        ? `; 0 means below the noise floor (at most ${Math.max(...floors).toFixed(3)} B/frame)`
        : ''),
  );
  const wall = ms
    .filter((m) => m.time?.decodeTime !== undefined)
    .map((m) => {
      const d = m.time?.decodeTime?.wallNsPerFrame ?? NaN;
      const e = m.time?.encodeTime?.wallNsPerFrame;
      return `${m.row.name} ${d.toFixed(0)}${e === undefined ? '' : `/${e.toFixed(0)}`}`;
    });
  console.log(`wall-clock ns/frame of the first run (decode/encode): ${wall.join(', ')}`);
  for (const m of ms) if (m.time?.note) console.log(`${m.row.name}: ${m.time.note}`);
  for (const p of problems) console.log(`PROBLEM: ${p}`);
}

export interface ChecksumRow {
  region: 'slab' | 'pool';
  size: number;
  /** GB/s (bytes per CPU ns per call): median of the timing processes' medians, and their range. */
  gbps: number | null;
  gbpsSpread: [number, number] | null;
  oldGbps: number | null;
  /** The old routine's time over this one's in paired rounds: median of all rounds, and range. */
  vsOld: number | null;
  vsOldSpread: [number, number] | null;
  byteLoopGbps: number | null;
  vsByteLoop: number | null;
  vsByteLoopSpread: [number, number] | null;
  bytesPerCall: number | null;
  noiseFloorPerCall: number | null;
}

/**
 * The checksum rows: `repeat` timing processes (each times every case against both references
 * in alternating rounds), then one allocation process. Medians over processes as for the codecs.
 */
async function checksumAll(
  repeat: number,
  timeArgs: string[],
  allocArgs: string[],
  problems: string[],
): Promise<ChecksumRow[]> {
  const runs: ChecksumReport[] = [];
  for (let r = 0; r < repeat; r++) {
    process.stderr.write(`bench:codec: timing the checksum (${r + 1}/${repeat}) ...\n`);
    try {
      runs.push(
        await runChild<ChecksumReport>(['--mode', 'time', ...timeArgs], [], CHECKSUM_CHILD),
      );
    } catch (e) {
      problems.push(`checksum: ${errorText(e)}`);
      return [];
    }
  }
  process.stderr.write('bench:codec: measuring allocation of the checksum ...\n');
  let alloc: ChecksumReport | null = null;
  try {
    alloc = await runChild<ChecksumReport>(
      ['--mode', 'alloc', ...allocArgs],
      ALLOC_FLAGS,
      CHECKSUM_CHILD,
    );
  } catch (e) {
    problems.push(`checksum allocation: ${errorText(e)}`);
  }
  const rows: ChecksumRow[] = [];
  const cases = runs[0]?.results ?? [];
  cases.forEach((c, k) => {
    const per = runs.map((run) => run.results[k]);
    const timed = per.flatMap((x) => (x.time === undefined ? [] : [x.time]));
    for (const x of [...per, alloc?.results[k]]) {
      if (x !== undefined && x.mismatches > 0) {
        problems.push(
          `checksum ${x.region} ${x.size} B: ${x.mismatches} results differ from the references`,
        );
      }
    }
    const gb = (ns: number): number => c.size / ns;
    const a: ChecksumResult | undefined = alloc?.results[k];
    rows.push({
      region: c.region,
      size: c.size,
      gbps: timed.length > 0 ? round(median(timed.map((t) => gb(t.current.nsPerFrame))), 2) : null,
      gbpsSpread: timed.length > 0 ? spread(timed.map((t) => gb(t.current.nsPerFrame))) : null,
      oldGbps: timed.length > 0 ? round(median(timed.map((t) => gb(t.old.nsPerFrame))), 2) : null,
      vsOld: timed.length > 0 ? round(median(timed.flatMap((t) => t.oldRatios)), 3) : null,
      vsOldSpread: timed.length > 0 ? spread(timed.map((t) => median(t.oldRatios))) : null,
      byteLoopGbps:
        timed.length > 0 ? round(median(timed.map((t) => gb(t.byteLoop.nsPerFrame))), 2) : null,
      vsByteLoop:
        timed.length > 0 ? round(median(timed.flatMap((t) => t.byteLoopRatios)), 3) : null,
      vsByteLoopSpread:
        timed.length > 0 ? spread(timed.map((t) => median(t.byteLoopRatios))) : null,
      bytesPerCall: a?.alloc === undefined ? null : round(a.alloc.bytesPerFrame, 3),
      noiseFloorPerCall: a?.alloc === undefined ? null : a.alloc.noiseFloorPerFrame,
    });
  });
  return rows;
}

function printChecksumTable(rows: ChecksumRow[], repeat: number): void {
  const range = (r: [number, number] | null): string =>
    r === null ? '' : ` (${r[0].toFixed(2)}–${r[1].toFixed(2)})`;
  const head = [
    'checksum',
    'bytes',
    'GB/s',
    'old GB/s',
    'vs old',
    'byte loop GB/s',
    'vs byte loop',
    'B/call',
  ];
  const body = rows.map((r) => [
    r.region === 'slab' ? 'slab' : 'pool slices',
    String(r.size),
    r.gbps === null ? 'n/a' : `${r.gbps.toFixed(2)}${range(r.gbpsSpread)}`,
    cell(r.oldGbps, 2),
    r.vsOld === null ? 'n/a' : `${r.vsOld.toFixed(2)}x${range(r.vsOldSpread)}`,
    cell(r.byteLoopGbps, 2),
    r.vsByteLoop === null ? 'n/a' : `${r.vsByteLoop.toFixed(2)}x${range(r.vsByteLoopSpread)}`,
    cell(r.bytesPerCall, 2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log('');
  console.log(
    `Internet checksum (src/codec/checksum.ts) against the routine it replaced (old) and the same ` +
      `byte loop as one function: GB/s = bytes per CPU ns per call, median of ${repeat} process(es) ` +
      `(lowest–highest process median); vs = the reference's time over this one's in alternating ` +
      `rounds (median of all rounds; lowest–highest process median). slab: the TCP segment of a ` +
      `frame (offset 34) in 32 slots of two 64 KiB slabs; pool slices: 64 Buffer.allocUnsafe() ` +
      `Buffers (another array every call)`,
  );
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of body) console.log(line(r));
  const floors = rows.flatMap((r) =>
    r.bytesPerCall === 0 && r.noiseFloorPerCall !== null ? [r.noiseFloorPerCall] : [],
  );
  if (floors.length > 0) {
    console.log(
      `B/call: 0 means below the noise floor (at most ${Math.max(...floors).toFixed(3)} B/call)`,
    );
  }
}

/** Cross-checks every contender's decode checksum and encoded bytes against `limit`. */
function crossCheck(ms: Measured[]): string[] {
  const problems: string[] = [];
  for (const m of ms) if (m.error !== null) problems.push(`${m.row.name}: ${m.error}`);
  const ref = ms.find((m) => m.row.name === 'limit')?.time ?? null;
  if (ref === null) return problems;
  for (const m of ms) {
    const t = m.time;
    if (t === null || t === ref) continue;
    if (t.decodeTime?.checksum !== ref.decodeTime?.checksum) {
      problems.push(
        `${t.name}: decode checksum ${t.decodeTime?.checksum} != limit's ${ref.decodeTime?.checksum} (fields read differ)`,
      );
    }
    const refSamples = ref.encodeSamples ?? null;
    if (t.encodeSamples && refSamples !== null) {
      t.encodeSamples.forEach((hex, k) => {
        if (hex !== refSamples[k]) {
          problems.push(
            `${t.name}: encoded sample ${k} differs from limit's:\n  ${hex}\n  ${refSamples[k]}`,
          );
        }
      });
    }
  }
  return problems;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      corpus: { type: 'string', default: DEFAULT_CORPUS },
      frames: { type: 'string' },
      only: { type: 'string' },
      rounds: { type: 'string', default: '9' },
      // Five timing processes per contender by default: V8 compiles concurrently, and when a
      // hot function is compiled relative to the feedback it collects differs per process, so
      // one process of the same code can land 10–20% off the next. The median of 5 reports the
      // code, not the draw; the spread shows the draws.
      repeat: { type: 'string', default: '5' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: bench:codec [--json] [--only a,b] [--corpus file.pcap] [--frames N] [--rounds N]\n' +
        '                   [--repeat N] [--quick]\n' +
        `contenders: ${CONTENDER_NAMES.join(', ')}; '${CHECKSUM}' names the checksum rows`,
    );
    return 0;
  }
  const only = values.only === undefined ? [...CONTENDER_NAMES, CHECKSUM] : values.only.split(',');
  for (const n of only) {
    if (n !== CHECKSUM && !CONTENDER_NAMES.includes(n)) throw new Error(`unknown contender '${n}'`);
  }
  const names = only.filter((n) => n !== CHECKSUM);
  const withChecksum = only.includes(CHECKSUM);
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const corpusPath = resolve(values.corpus);
  if (corpusPath === DEFAULT_CORPUS && corpusIsStale(corpusPath)) {
    // Only the bench's own corpus is regenerated; a --corpus file is never touched.
    rmSync(corpusPath, { force: true });
    log(`bench:codec: generating ${relative(ROOT, corpusPath)} with ${GENERATOR_NAME} ...`);
  }
  ensureCorpus(corpusPath);
  const frames = loadCorpus(corpusPath, values.frames ? Number(values.frames) : Infinity).count;
  if (names.includes('kaitai')) await compileKaitai();

  const common = ['--corpus', corpusPath, '--rounds', values.quick ? '3' : values.rounds];
  if (values.frames !== undefined) common.push('--frames', values.frames);
  if (values.quick) common.push('--warmup-ms', '60', '--round-ms', '5');
  const allocArgs = [
    '--budget-mb',
    String(ALLOC_BUDGET_MB),
    ...(values.quick ? ['--min-frames', '20000', '--samples', '3'] : []),
  ];
  const ms: Measured[] = names.map((n) => ({
    row: emptyRow(n),
    time: null,
    alloc: null,
    error: null,
    decodeRuns: [],
    encodeRuns: [],
    decodeRatios: [],
    encodeRatios: [],
    decodeRunRatios: [],
    encodeRunRatios: [],
  }));
  if (values.quick) await quickAll(ms, [...common, ...allocArgs]);
  else {
    await timeAll(ms, common, Math.max(1, Number(values.repeat)));
    await allocAll(ms, common, allocArgs);
  }
  const problems = crossCheck(ms);
  const repeat = Math.max(1, Number(values.repeat));
  const checksumRepeat = values.quick ? 1 : repeat;
  const checksum = withChecksum
    ? await checksumAll(
        checksumRepeat,
        values.quick
          ? ['--rounds', '3', '--warmup-ms', '60', '--round-ms', '5']
          : ['--rounds', values.rounds],
        allocArgs,
        problems,
      )
    : [];
  if (values.json) {
    console.log(JSON.stringify({ results: ms.map((m) => m.row), checksum }));
    for (const p of problems) log(`PROBLEM: ${p}`);
  } else {
    const sha256 = createHash('sha256').update(readFileSync(corpusPath)).digest('hex');
    if (ms.length > 0) {
      printTable(ms, withChecksum ? [] : problems, {
        corpus: relative(ROOT, corpusPath),
        frames,
        sha256,
        repeat,
      });
    }
    if (withChecksum) {
      printChecksumTable(checksum, checksumRepeat);
      for (const p of problems) console.log(`PROBLEM: ${p}`);
    }
  }
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench:codec: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
