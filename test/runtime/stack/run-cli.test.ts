/** `pktstack run` argument checking, which happens before any device is touched (no root needed). */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

function run(...args: string[]): { code: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('pktstack run (arguments)', () => {
  it('rejects a bad address, prefix, gateway, port and log format with one-line errors', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--tap', 'tap9', '--ip', '10.0.0.300/24'], /ip: "10\.0\.0\.300" is not a dotted-quad/],
      [['--tap', 'tap9', '--ip', '10.0.0.2/40'], /bad prefix length/],
      [['--tap', 'tap9', '--ip', '10.0.0.2/24', '--gateway', '10.9.9.9'], /gateway: not inside/],
      [['--tap', 'tap9', '--ip', '10.0.0.2/24', '--udp-echo', '70000'], /bad port "70000"/],
      [['--tap', 'tap9', '--ip', '10.0.0.2/24', '--log', 'xml'], /--log must be text or json/],
      [
        ['--tap', 'tap9', '--ip', '10.0.0.2/24', '--dhcp6', 'sometimes'],
        /--dhcp6 must be auto, stateful or stateless, not "sometimes"/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });

  it('requires --tap and --ip', () => {
    const r = run('--ip', '10.0.0.2/24');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--tap/);
  });
});
