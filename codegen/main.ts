/**
 * `npm run codegen`: regenerate src/generated/ from specs/*.pkt.
 * `npm run codegen -- --check`: write nothing; exit 1 listing the files that are stale.
 * Spec errors print `file:line:col: message`, the line and a caret, and exit 1.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAll } from './generate.js';
import { SpecError } from './spec-error.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

async function main(argv: string[]): Promise<number> {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`codegen: unknown argument ${unknown[0]} (usage: codegen [--check])\n`);
    return 2;
  }
  let generated;
  try {
    generated = await generateAll(ROOT);
  } catch (e) {
    if (e instanceof SpecError) {
      process.stderr.write(`${e.format()}\n`);
      return 1;
    }
    throw e;
  }
  const { files, notes } = generated;
  const expected = new Set(files.map((f) => f.path));
  const genDir = join(ROOT, 'src/generated');
  const extra = existsSync(genDir)
    ? readdirSync(genDir)
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `src/generated/${f}`)
        .filter((p) => !expected.has(p))
    : [];
  const stale = files.filter((f) => {
    const full = join(ROOT, f.path);
    return !existsSync(full) || readFileSync(full, 'utf8') !== f.text;
  });
  for (const n of notes) process.stdout.write(`codegen: ${n}\n`);
  if (check) {
    if (stale.length === 0 && extra.length === 0) {
      process.stdout.write(`codegen: src/generated is up to date (${files.length} files)\n`);
      return 0;
    }
    for (const f of stale)
      process.stderr.write(`stale: ${f.path}${f.note !== undefined ? ` (${f.note})` : ''}\n`);
    for (const p of extra) process.stderr.write(`not generated: ${p} (${whyNot(p)})\n`);
    process.stderr.write('codegen: src/generated is stale; run `npm run codegen`\n');
    return 1;
  }
  mkdirSync(genDir, { recursive: true });
  for (const f of stale) {
    writeFileSync(join(ROOT, f.path), f.text);
    if (f.note !== undefined) process.stdout.write(`codegen: wrote ${f.path}: ${f.note}\n`);
  }
  for (const p of extra) {
    unlinkSync(join(ROOT, p));
    process.stdout.write(`codegen: removed ${p}: ${whyNot(p)}\n`);
  }
  process.stdout.write(
    `codegen: wrote ${stale.length} of ${files.length} files${extra.length > 0 ? `, removed ${extra.length}` : ''}\n`,
  );
  return 0;
}

/** Why codegen no longer generates a file in src/generated/. */
function whyNot(path: string): string {
  const module = basename(path, '.ts');
  return module === 'frame'
    ? 'no spec dispatches, so there is no FrameDecoder'
    : `no spec specs/${module}.pkt`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`codegen: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
