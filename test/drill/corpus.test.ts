/**
 * The packetdrill corpus against the committed manifest: every script's outcome (pass, fail,
 * skip) must be the one recorded, so a regression fails here, and so does an expected failure
 * that starts passing (update the manifest with scripts/drill-manifest.ts). Also reports the
 * portable Google scripts' count (classification.tsv), the issue's target.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusRoot, readManifest, runCorpus } from './corpus.js';

describe('packetdrill corpus', () => {
  it('every script has the outcome the manifest records', () => {
    const root = corpusRoot();
    const actual = runCorpus(root);
    const expected = new Map(readManifest().map((r) => [r.script, r]));
    const changes: string[] = [];
    for (const r of actual) {
      const e = expected.get(r.script);
      if (e === undefined)
        changes.push(`${r.script}: not in the manifest (now ${r.status}: ${r.reason})`);
      else if (e.status !== r.status)
        changes.push(
          `${r.script}: expected ${e.status}, now ${r.status}${r.reason === '' ? '' : `: ${r.reason}`}`,
        );
      expected.delete(r.script);
    }
    for (const gone of expected.keys())
      changes.push(`${gone}: in the manifest but not in the corpus`);
    expect(changes).toEqual([]);

    const portable = readFileSync(join(root, 'classification.tsv'), 'utf8')
      .split('\n')
      .filter((l) => l.split('\t')[1]?.startsWith('portable:'))
      .map((l) => `google/${l.split('\t')[0]}`);
    expect(portable.length).toBe(43);
    const passing = actual.filter((r) => r.status === 'pass' && portable.includes(r.script)).length;
    // Not the target yet (40): the manifest pins the count; this only guards the bookkeeping.
    expect(passing).toBe(
      readManifest().filter((r) => r.status === 'pass' && portable.includes(r.script)).length,
    );
  });
});
