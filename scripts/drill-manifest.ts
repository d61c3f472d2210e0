/**
 * Rewrites test/drill/manifest.tsv from a run of the whole packetdrill corpus, and prints the
 * counts. Review the diff: every status change is a script that started passing or failing.
 */
import { writeFileSync } from 'node:fs';
import { MANIFEST, corpusRoot, formatManifest, runCorpus } from '../test/drill/corpus.js';

const rows = runCorpus(corpusRoot());
writeFileSync(MANIFEST, formatManifest(rows));
const count = (status: string, prefix = ''): number =>
  rows.filter((r) => r.status === status && r.script.startsWith(prefix)).length;
for (const prefix of ['google/', 'gvisor/']) {
  process.stdout.write(
    `${prefix} ${count('pass', prefix)} pass, ${count('fail', prefix)} fail, ${count('skip', prefix)} skip\n`,
  );
}
