// `npm run bench:dns`: ns/op of the generated DNS views on three inputs: DnsView.wrap() of a
// typical response (one question, a CNAME and an A answer, names compressed), the same wrap
// followed by a walk of its answers with their record data (DnsRecordRdataLayouts), and wrap()
// of a hostile 13-byte message (a header claiming 65535 questions, then one byte).
//
//   npm run bench:dns                          this tree, 5 processes
//   npm run bench:dns -- --base /tmp/main-src  A/B: processes alternate between the `src` of that
//                                              tree (A) and this one (B); ratios B/A per process
//                                              (e.g. git archive main src tsconfig.json package.json
//                                              | tar -x -C /tmp/main-src, node_modules linked)
//
// Each process warms up, then runs interleaved rounds (every case once per round) and reports
// each case's median ns/op; the table gives the median over processes and their spread (lowest
// and highest process median). CPU time, as bench/codec/measure.ts explains.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './measure.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');

type DnsModule = typeof import('../../src/generated/dns.js');

const CASES = ['typical wrap', 'typical wrap + answers', 'hostile 13 bytes'] as const;
type CaseName = (typeof CASES)[number];

function label(text: string): number[] {
  return [text.length, ...[...text].map((c) => c.charCodeAt(0))];
}

/** www.example.com A: CNAME to web.example.com (compressed), then its A record. */
export function typicalResponse(): Uint8Array {
  const header = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
  const question = [...label('www'), ...label('example'), ...label('com'), 0, 0, 1, 0, 1];
  // owner: pointer to the question name (12); CNAME rdata: "web" + pointer to example.com (16)
  const cname = [0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, ...label('web'), 0xc0, 16];
  const cnameAt = 12 + question.length;
  const a = [0xc0, cnameAt + 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34];
  return Uint8Array.from([...header, ...question, ...cname, ...a]);
}

/** A header claiming 65535 questions, then one byte. */
export function hostileShort(): Uint8Array {
  return Uint8Array.from([0x12, 0x34, 0x01, 0x00, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 3]);
}

/** Each case's pass; null for one the tree measured has not the code for. */
function passes(dns: DnsModule): Record<CaseName, (() => number) | null> {
  const view = new dns.DnsView();
  // older trees (the hand-written DNS sections) have no record data layouts
  const rdata =
    typeof dns.DnsRecordRdataLayouts === 'function' ? new dns.DnsRecordRdataLayouts() : null;
  const typical = typicalResponse();
  const hostile = hostileShort();
  if (view.wrap(typical) !== null) throw new Error('typical response does not wrap');
  if (view.wrap(hostile) === null) throw new Error('hostile input wraps');
  return {
    'typical wrap': () => (view.wrap(typical) === null ? view.messageLength : -1),
    'typical wrap + answers':
      rdata &&
      (() => {
        if (view.wrap(typical) !== null) return -1;
        let sum = 0;
        const c = view.answers();
        while (c.next()) {
          if (rdata.wrap(c.item) !== null) return -1;
          sum += c.item.rdataLength + (rdata.layout === null ? 0 : rdata.layout.length);
        }
        return sum;
      }),
    'hostile 13 bytes': () => (view.wrap(hostile) === null ? -1 : view.error.offset),
  };
}

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** One process: warm up, then `rounds` rounds of every case; each case's median ns/op. */
async function child(srcRoot: string, rounds: number): Promise<Record<CaseName, number>> {
  const dns = (await import(pathToFileURL(join(srcRoot, 'generated', 'dns.ts')).href)) as DnsModule;
  const p = passes(dns);
  const ITER = 200_000;
  let sink = 0;
  const runOnce = (f: (() => number) | null): number => {
    if (f === null) return NaN;
    const t = cpuNs();
    for (let i = 0; i < ITER; i++) sink += f();
    return (cpuNs() - t) / ITER;
  };
  for (let w = 0; w < 10; w++) for (const c of CASES) runOnce(p[c]);
  const samples: Record<CaseName, number[]> = {
    'typical wrap': [],
    'typical wrap + answers': [],
    'hostile 13 bytes': [],
  };
  for (let r = 0; r < rounds; r++) for (const c of CASES) samples[c].push(runOnce(p[c]));
  if (sink === 0.5) console.error(sink);
  return {
    'typical wrap': median(samples['typical wrap']),
    'typical wrap + answers': median(samples['typical wrap + answers']),
    'hostile 13 bytes': median(samples['hostile 13 bytes']),
  };
}

function runChild(srcRoot: string, rounds: number): Promise<Record<CaseName, number>> {
  return new Promise((res, rej) => {
    const p = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--child',
        srcRoot,
        '--rounds',
        String(rounds),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('close', (code) => {
      if (code !== 0) rej(new Error(`child exited ${code}`));
      else res(JSON.parse(out.trim().split('\n').pop() as string) as Record<CaseName, number>);
    });
  });
}

const fmt = (x: number): string => x.toFixed(1);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      base: { type: 'string' },
      processes: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '15' },
    },
  });
  const rounds = Number(values.rounds);
  if (values.child !== undefined) {
    console.log(JSON.stringify(await child(values.child, rounds)));
    return;
  }
  const here = join(ROOT, 'src');
  const base = values.base === undefined ? null : resolve(values.base, 'src');
  // tsx compiles a tree by its own tsconfig.json (class fields as assignments, ES2022); without
  // one the same source compiles differently and runs measurably slower.
  if (base !== null && !existsSync(resolve(values.base as string, 'tsconfig.json')))
    throw new Error(`${values.base} has no tsconfig.json: copy the tree's with its src`);
  const runs: { a: Record<CaseName, number>[]; b: Record<CaseName, number>[] } = { a: [], b: [] };
  for (let i = 0; i < Number(values.processes); i++) {
    // alternate which goes first, so a drift in machine load hits both alike
    const order = base === null ? ['b'] : i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    for (const which of order) {
      runs[which as 'a' | 'b'].push(
        await runChild(which === 'a' ? (base as string) : here, rounds),
      );
    }
  }
  for (const c of CASES) {
    const b = runs.b.map((r) => r[c]);
    if (base !== null && runs.a.some((r) => Number.isNaN(r[c]))) {
      console.log(`${c.padEnd(24)} A n/a (not in that tree)  B ${fmt(median(b))}`);
      continue;
    }
    let line = `${c.padEnd(24)} ${fmt(median(b))} ns/op [${fmt(Math.min(...b))}, ${fmt(Math.max(...b))}]`;
    if (base !== null) {
      const a = runs.a.map((r) => r[c]);
      const ratios = runs.b.map((r, i) => r[c] / runs.a[i][c]);
      line =
        `${c.padEnd(24)} A ${fmt(median(a))} [${fmt(Math.min(...a))}, ${fmt(Math.max(...a))}]` +
        `  B ${fmt(median(b))} [${fmt(Math.min(...b))}, ${fmt(Math.max(...b))}]` +
        `  B/A ${median(ratios).toFixed(2)} [${Math.min(...ratios).toFixed(2)}, ${Math.max(...ratios).toFixed(2)}]`;
    }
    console.log(line);
  }
}

await main();
