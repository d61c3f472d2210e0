// One measurement child: loads the corpus and ONE contender, measures either time or allocation,
// and prints a single JSON line (ChildReport) on stdout. Started by main.ts with the node flags
// the mode needs; not meant to be run by hand (but it can be, for profiling with --cpu-prof).
import { parseArgs } from 'node:util';
import { CONTENDERS } from './contenders/index.js';
import { loadCorpus, type Corpus } from './corpus.js';
import {
  encodePass,
  measureAlloc,
  timeDecode,
  timeEncode,
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
    },
  });
  const name = values.contender ?? '';
  const factory = CONTENDERS[name];
  if (factory === undefined) throw new Error(`unknown contender '${name}'`);
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
    report.decodeTime = timeDecode(c, corpus, opt);
    const enc = c.encode;
    report.encodeTime = enc === null ? null : timeEncode(enc, corpus.count, opt);
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
