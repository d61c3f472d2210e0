/**
 * Where the packetdrill corpus lives: `../shared/packetdrill` beside the repository (how the
 * project's shared test data is laid out), else /work/shared/packetdrill (worktrees sit deeper),
 * or PKTSTACK_PACKETDRILL. The scripts are test data we must not copy into the repository.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDrill } from '../../src/drill/parse.js';
import { runDrill, type DrillStatus } from '../../src/drill/run.js';

export function corpusRoot(): string {
  const candidates = [
    process.env.PKTSTACK_PACKETDRILL,
    resolve(import.meta.dirname, '..', '..', '..', 'shared', 'packetdrill'),
    '/work/shared/packetdrill',
  ].filter((c): c is string => c !== undefined && c !== '');
  for (const c of candidates) if (existsSync(join(c, 'classification.tsv'))) return c;
  throw new Error(
    `packetdrill corpus not found (looked in ${candidates.join(', ')}): ` +
      'set PKTSTACK_PACKETDRILL to the folder holding google/, gvisor/ and classification.tsv',
  );
}

/** Every .pkt under `root`, as paths relative to it, sorted. */
export function corpusScripts(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(root, dir))) {
      const rel = dir === '' ? name : `${dir}/${name}`;
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.pkt')) out.push(rel);
    }
  };
  walk('');
  return out.sort();
}

/** gVisor runs its scripts with a 100 ms tolerance (the corpus README). */
export const GVISOR_TOLERANCE_USECS = 100_000;

export interface ManifestRow {
  script: string;
  status: DrillStatus;
  reason: string;
}

export const MANIFEST = join(import.meta.dirname, 'manifest.tsv');

/** Runs every corpus script: its outcome, as a manifest row (reasons on one line). */
export function runCorpus(root: string): ManifestRow[] {
  return corpusScripts(root).map((script) => {
    let status: DrillStatus;
    let reason: string;
    try {
      const o = runDrill(parseDrill(readFileSync(join(root, script), 'utf8'), script), {
        toleranceUsecs: script.startsWith('gvisor/') ? GVISOR_TOLERANCE_USECS : undefined,
      });
      status = o.status;
      reason = o.status === 'fail' && o.line !== null ? `line ${o.line}: ${o.reason}` : o.reason;
    } catch (e) {
      status = 'fail';
      reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
    return { script, status, reason: reason.replace(/\s+/g, ' ').trim() };
  });
}

export function readManifest(): ManifestRow[] {
  return readFileSync(MANIFEST, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('script\t'))
    .map((l) => {
      const [script, status, reason = ''] = l.split('\t');
      return { script, status: status as DrillStatus, reason };
    });
}

export function formatManifest(rows: ManifestRow[]): string {
  const head =
    '# Expected outcome of every packetdrill corpus script (paths relative to the corpus folder,\n' +
    '# see test/drill/corpus.ts). Rewrite with `npx tsx scripts/drill-manifest.ts` after a change\n' +
    '# that makes scripts pass or fail, and review the diff.\n' +
    'script\tstatus\treason\n';
  return head + rows.map((r) => `${r.script}\t${r.status}\t${r.reason}`).join('\n') + '\n';
}
