/**
 * The oracle files are reproducible: scripts/tshark-oracle.ts, run on every committed capture
 * (test/fixtures/pcap and test/fixtures/next/pcap), writes exactly the committed oracle file,
 * byte for byte. For the tcpdump/Zeek/Linux captures those files are the shared reference
 * (/work/shared/pcap/oracle and next/oracle, copied unchanged), so this checks our reducer
 * against the reference reduction, IPv4 family and next protocols (IPv6, ICMPv6, IGMP, tunnels
 * nested under `inner`, ...) alike.
 *
 * Needs tshark 4.0 (the version the oracle was made with; other versions name and nest fields
 * differently): the test is skipped, saying so, without it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reduceTsharkJson, runTshark } from '../../scripts/tshark-oracle.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

const tsharkVersion = ((): string | undefined => {
  try {
    return /TShark \(Wireshark\) (\S+)/.exec(
      execFileSync('tshark', ['--version'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    )?.[1];
  } catch {
    return undefined;
  }
})();
const ORACLE_TSHARK = '4.0.';

/** Every committed capture with its oracle file: [folder, capture]. */
const captures: Array<[string, string]> = ['', 'next'].flatMap((dir) =>
  readdirSync(join(FIXTURES, dir, 'pcap'))
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .sort()
    .map((f): [string, string] => [dir, f]),
);

describe.skipIf(tsharkVersion?.startsWith(ORACLE_TSHARK) !== true)(
  `oracle reducer reproduces every committed oracle file (needs tshark ${ORACLE_TSHARK}x, found ${tsharkVersion ?? 'none'})`,
  () => {
    it('covers both capture sets', () => {
      expect(captures.filter(([d]) => d === '').length).toBeGreaterThanOrEqual(55);
      expect(captures.filter(([d]) => d === 'next').length).toBe(45);
    });

    it.each(captures)('%s/%s', (dir, name) => {
      const want = readFileSync(
        join(FIXTURES, dir, 'oracle', name.replace(/\.pcap(ng)?$/, '.jsonl')),
        'utf8',
      );
      const got = reduceTsharkJson(runTshark(join(FIXTURES, dir, 'pcap', name)));
      // line by line first, so a failure names the frame
      expect(got.split('\n')).toEqual(want.split('\n'));
      expect(got).toBe(want);
    });
  },
);
