/**
 * Where the packetdrill corpus lives: `../shared/packetdrill` beside the repository (how the
 * project's shared test data is laid out), else /work/shared/packetdrill (worktrees sit deeper),
 * or PKTSTACK_PACKETDRILL. The scripts are test data we must not copy into the repository.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

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
