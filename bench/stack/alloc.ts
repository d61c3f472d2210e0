/**
 * Bytes allocated per frame on the receive path, measured in a child process (see
 * alloc-child.ts) against the compiled stack in dist/. The young generation is made large enough
 * that no scavenge runs inside the measured loop, so the growth of the used heap is exactly what
 * the loop allocated.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './lab.js';

export interface AllocResult {
  scenario: string;
  frames: number;
  bytesPerFrame: number;
  nsPerFrame: number;
  gcs: number;
  replies: number;
}

/**
 * `net` is the /24 both ends use: 10.0.0 keeps every address below 2^31 (small integers in V8);
 * 192.168.1 checks that addresses above it are not boxed either.
 */
export function measureAllocation(net = '10.0.0', frames = 1_000_000): AllocResult[] {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--expose-gc',
      '--max-semi-space-size=128',
      '--min-semi-space-size=128',
      join(ROOT, 'bench', 'stack', 'alloc-child.ts'),
      join(ROOT, 'dist'),
      String(frames),
      net,
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
  );
  if (r.status !== 0) throw new Error(`allocation probe failed: ${r.stderr}`);
  const { results } = JSON.parse(r.stdout.trim()) as { results: AllocResult[] };
  return results.map((a) => ({ ...a, scenario: `${a.scenario} ${net}.x` }));
}
