// `npm run bench:dns`: ns/op of the generated DNS views on three inputs: DnsView.wrap() of a
// typical response (one question, a CNAME and an A answer, names compressed), the same wrap
// followed by a walk of its answers with their record data (DnsRecordRdataLayouts), and wrap()
// of a hostile 13-byte message (a header claiming 65535 questions, then one byte), and
// encodeDns() of the typical response from values (record data included, names compressed)
// and with its record data as bytes.
//
//   npm run bench:dns                          this tree, 5 processes
//   npm run bench:dns -- --base /tmp/main-src  A/B: processes alternate between the `src` of that
//                                              tree (A) and this one (B); ratios B/A per process
//                                              (e.g. git archive main src tsconfig.json package.json
//                                              | tar -x -C /tmp/main-src, node_modules linked)
//
// Each process warms up, then runs interleaved rounds (every case once per round) and reports
// each case's median ns/op; the table gives the median over processes and their spread (lowest
// and highest process median). CPU time, as bench/codec/measure.ts explains. One more process
// per tree measures bytes allocated per op, as bench:codec's allocation children do.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { measureAlloc, median } from './measure.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');

type DnsModule = typeof import('../../src/generated/dns.js');
type DnsFields = import('../../src/generated/dns.js').DnsFields;

const CASES = [
  'typical wrap',
  'typical wrap + answers',
  'hostile 13 bytes',
  'typical encode',
  'encode, rdata as bytes',
] as const;
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

/** The typical response as values, its record data too: what encodeDns() writes compressed. */
export function typicalFields(): DnsFields {
  return {
    id: 0x1234,
    qr: 1,
    opcode: 0,
    aa: 0,
    tc: 0,
    rd: 1,
    ra: 1,
    z: 0,
    rcode: 0,
    questions: [{ name: 'www.example.com', type: 1, class: 1 }],
    answers: [
      {
        name: 'www.example.com',
        type: 5,
        class: 1,
        ttl: 3600,
        rdata: { target: 'web.example.com' },
      },
      { name: 'web.example.com', type: 1, class: 1, ttl: 3600, rdata: { address: 0x5db8d822 } },
    ],
    authority: [],
    additional: [],
  };
}

/** The same with each record's data as the bytes of typicalResponse() (any tree encodes it). */
export function typicalWithBytes(): DnsFields {
  const f = typicalFields();
  const rdata = [Uint8Array.from([...label('web'), 0xc0, 16]), Uint8Array.of(93, 184, 216, 34)];
  return { ...f, answers: f.answers.map((r, i) => ({ ...r, rdata: rdata[i] })) };
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
  // record data as values (and compression) came with encodeDnsRecordRdata
  const fields = typicalFields();
  const out = new Uint8Array(512);
  const encodes = typeof dns.encodeDnsRecordRdata === 'function';
  const withBytes = typicalWithBytes();
  if (encodes) {
    const n = dns.encodeDns(fields, out, 0);
    if (n !== typical.length || out.subarray(0, n).some((b, i) => b !== typical[i]))
      throw new Error('encodeDns does not write the typical response');
  }
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
    'typical encode': encodes ? () => dns.encodeDns(fields, out, 0) : null,
    'encode, rdata as bytes': () => dns.encodeDns(withBytes, out, 0),
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
  const samples = new Map<CaseName, number[]>(CASES.map((c) => [c, []]));
  for (let r = 0; r < rounds; r++) for (const c of CASES) samples.get(c)?.push(runOnce(p[c]));
  if (sink === 0.5) console.error(sink);
  return Object.fromEntries(CASES.map((c) => [c, median(samples.get(c) ?? [])])) as Record<
    CaseName,
    number
  >;
}

/**
 * Bytes allocated per op of each case (run with --expose-gc and a large young generation, as
 * bench:codec's allocation children are); NaN for a case the tree has not.
 */
async function allocChild(srcRoot: string): Promise<Record<CaseName, number>> {
  const dns = (await import(pathToFileURL(join(srcRoot, 'generated', 'dns.ts')).href)) as DnsModule;
  const p = passes(dns);
  const opt = { budgetBytes: 64 << 20, minFrames: 200_000, samples: 5 };
  const result = {} as Record<CaseName, number>;
  for (const c of CASES) {
    const f = p[c];
    if (f === null) {
      result[c] = NaN;
      continue;
    }
    const r = await measureAlloc(
      (n) => () => {
        let s = 0;
        for (let i = 0; i < n; i++) s += f();
        return s;
      },
      10_000,
      opt,
    );
    result[c] = r.bytesPerFrame;
  }
  return result;
}

/** Young generation for the allocation child: far more than one measurement allocates. */
const SEMI_SPACE_MB = 128;

function runChild(
  srcRoot: string,
  rounds: number,
  alloc = false,
): Promise<Record<CaseName, number>> {
  return new Promise((res, rej) => {
    const flags = alloc
      ? [
          '--expose-gc',
          `--min-semi-space-size=${SEMI_SPACE_MB}`,
          `--max-semi-space-size=${SEMI_SPACE_MB}`,
        ]
      : [];
    const p = spawn(
      process.execPath,
      [
        ...flags,
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        alloc ? '--alloc' : '--child',
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
      alloc: { type: 'string' },
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
  if (values.alloc !== undefined) {
    console.log(JSON.stringify(await allocChild(values.alloc)));
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
  const allocated = await runChild(here, rounds, true);
  const allocatedBase = base === null ? null : await runChild(base, rounds, true);
  for (const c of CASES) {
    const b = runs.b.map((r) => r[c]);
    const perOp = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(0));
    const bytes =
      allocatedBase === null
        ? `  ${perOp(allocated[c])} B/op`
        : `  A ${perOp(allocatedBase[c])} B ${perOp(allocated[c])} B/op`;
    // (NaN, a case the tree has not, arrives as null through JSON)
    if (base !== null && runs.a.some((r) => typeof r[c] !== 'number' || Number.isNaN(r[c]))) {
      console.log(`${c.padEnd(24)} A n/a (not in that tree)  B ${fmt(median(b))}${bytes}`);
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
    console.log(line + bytes);
  }
}

await main();
