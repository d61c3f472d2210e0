// One measurement child: loads the corpus and ONE contender, measures either time or allocation,
// and prints a single JSON line (ChildReport) on stdout. Started by main.ts with the node flags
// the mode needs; not meant to be run by hand (but it can be, for profiling with --cpu-prof).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Contender } from './contender.js';
import { CONTENDERS } from './contenders/index.js';
import { loadCorpus, type Corpus } from './corpus.js';
import {
  encodePass,
  measureAlloc,
  ownEncodePass,
  timeDecode,
  timeEncode,
  timePaired,
  type AllocResult,
  type TimeResult,
} from './measure.js';
import { ENC_FRAME_LENGTH } from './workload.js';

export interface ChildReport {
  name: string;
  note: string | null;
  /** 'both' (time, then allocation, in one process) is for --quick smoke runs only. */
  mode: 'time' | 'alloc' | 'both';
  frames: number;
  decodeTime?: TimeResult;
  encodeTime?: TimeResult | null;
  /** Hex of encode-workload frames ENCODE_SAMPLES, for a byte-exact comparison with `limit`. */
  encodeSamples?: string[] | null;
  decodeAlloc?: AllocResult;
  encodeAlloc?: AllocResult | null;
  /** With --pair: the paired contender's rounds, and this one's round over the paired one's. */
  paired?: {
    name: string;
    decodeTime: TimeResult;
    decodeRatios: number[];
    encodeTime: TimeResult | null;
    encodeRatios: number[] | null;
  };
}

export const ENCODE_SAMPLES = [0, 1, 77, 4097, 65537];

function prefix(c: Corpus, frames: number): Corpus {
  if (frames >= c.count) return c;
  return {
    bytes: c.bytes,
    offsets: c.offsets.subarray(0, frames),
    lengths: c.lengths.subarray(0, frames),
    frames: c.frames.slice(0, frames),
    count: frames,
  };
}

type Factory = () => Promise<Contender>;

/**
 * A contender by name, or a contender module by path: `--contender pktstack --pair
 * ../other/bench/codec/contenders/pktstack.ts` times this checkout's pktstack against another
 * checkout's in one process (an A/B of a codegen change that the machine's load cannot blur).
 */
async function contenderFactory(nameOrPath: string): Promise<Factory> {
  const named = CONTENDERS[nameOrPath];
  if (named !== undefined) return named;
  if (!nameOrPath.endsWith('.ts')) throw new Error(`unknown contender '${nameOrPath}'`);
  const mod = (await import(pathToFileURL(resolve(nameOrPath)).href)) as { create?: Factory };
  if (typeof mod.create !== 'function') throw new Error(`${nameOrPath} exports no create()`);
  return mod.create;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      contender: { type: 'string' },
      corpus: { type: 'string' },
      mode: { type: 'string', default: 'time' },
      frames: { type: 'string' },
      rounds: { type: 'string', default: '9' },
      'warmup-ms': { type: 'string', default: '600' },
      'round-ms': { type: 'string', default: '40' },
      'budget-mb': { type: 'string', default: '96' },
      'min-frames': { type: 'string', default: '240000' },
      samples: { type: 'string', default: '5' },
      // Time against this contender in alternating rounds of the same process (see timePaired).
      pair: { type: 'string' },
    },
  });
  const name = values.contender ?? '';
  const factory = await contenderFactory(name);
  if (values.corpus === undefined) throw new Error('--corpus is required');
  const corpus = loadCorpus(
    values.corpus,
    values.frames === undefined ? Infinity : Number(values.frames),
  );
  const c = await factory();
  const report: ChildReport = {
    name: c.name,
    note: c.note ?? null,
    mode: values.mode === 'alloc' || values.mode === 'both' ? values.mode : 'time',
    frames: corpus.count,
  };
  if (report.mode !== 'alloc') {
    const opt = {
      warmupMs: Number(values['warmup-ms']),
      rounds: Number(values.rounds),
      roundMs: Number(values['round-ms']),
    };
    const pairFactory = values.pair === undefined ? undefined : await contenderFactory(values.pair);
    const enc = c.encode;
    if (pairFactory === undefined) {
      report.decodeTime = timeDecode(c, corpus, opt);
      report.encodeTime = enc === null ? null : timeEncode(enc, corpus.count, opt);
    } else {
      const p = await pairFactory();
      const d = timePaired(
        () => c.decodePass(corpus),
        () => p.decodePass(corpus),
        corpus.count,
        opt,
      );
      report.decodeTime = d.a;
      let e: ReturnType<typeof timePaired> | null = null;
      const pe = p.encode;
      if (enc !== null && pe !== null) {
        const out = new Uint8Array(ENC_FRAME_LENGTH + 64);
        const passA = ownEncodePass();
        const passB = ownEncodePass();
        e = timePaired(
          () => passA(enc, out, corpus.count),
          () => passB(pe, out, corpus.count),
          corpus.count,
          opt,
        );
      }
      report.encodeTime = enc === null ? null : (e?.a ?? timeEncode(enc, corpus.count, opt));
      report.paired = {
        name: p.name,
        decodeTime: d.b,
        decodeRatios: d.ratios,
        encodeTime: e?.b ?? null,
        encodeRatios: e?.ratios ?? null,
      };
    }
    report.encodeSamples =
      enc === null
        ? null
        : ENCODE_SAMPLES.map((i) => {
            const out = new Uint8Array(ENC_FRAME_LENGTH + 64);
            const n = enc.encodeFrame(i, out);
            return Buffer.from(out.subarray(0, n)).toString('hex');
          });
  }
  if (report.mode !== 'time') {
    const opt = {
      budgetBytes: Number(values['budget-mb']) * 1024 * 1024,
      minFrames: Number(values['min-frames']),
      samples: Number(values.samples),
    };
    report.decodeAlloc = await measureAlloc(
      (frames) => {
        const sub = prefix(corpus, frames);
        return () => c.decodePass(sub);
      },
      corpus.count,
      opt,
    );
    const enc = c.encode;
    if (enc === null) report.encodeAlloc = null;
    else {
      const out = new Uint8Array(ENC_FRAME_LENGTH + 64);
      report.encodeAlloc = await measureAlloc(
        (frames) => () => encodePass(enc, out, frames),
        corpus.count,
        opt,
      );
    }
  }
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`child: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
