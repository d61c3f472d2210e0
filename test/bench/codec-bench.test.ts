// Smoke test of the codec benchmark machinery on a tiny corpus: the corpus generator is
// deterministic and produces the promised mix, the pcap loader rejects what it cannot read, the
// allocation measurement reports known allocations exactly (and survives a GC by measuring
// fewer frames), and one quick `bench:codec --json` run measures every contender and the checksum rows, with all of them agreeing with
// the hand-written decoder/encoder (the run exits non-zero otherwise) and allocation measured,
// not assumed (the hand-written codec allocates 0 B/frame, restructure plainly more).
// Speed numbers are not checked here: they belong to the benchmark, not to a unit test.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATOR, SYSTEM_PYTHON, ensureCorpus, loadCorpus } from '../../bench/codec/corpus.js';

const FRAMES = 500; // the first DHCP exchange of the default seed starts at frame 462
let dir = '';
let corpusPath = '';

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pkt-bench-'));
  corpusPath = join(dir, 'tiny.pcap');
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import scapy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `${SYSTEM_PYTHON} cannot import scapy: install python3-scapy (scripts/install.sh)`,
    );
  }
  ensureCorpus(corpusPath, FRAMES);
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('benchmark corpus', () => {
  it('is deterministic: the same seed gives the same bytes, another seed does not', () => {
    const again = join(dir, 'again.pcap');
    const other = join(dir, 'other.pcap');
    for (const [out, seed] of [
      [again, '20261125'],
      [other, '7'],
    ]) {
      const r = spawnSync(
        SYSTEM_PYTHON,
        [GENERATOR, '--out', out, '--count', String(FRAMES), '--seed', seed],
        {
          encoding: 'utf8',
        },
      );
      expect(r.status, r.stderr).toBe(0);
    }
    expect(sha256(again)).toBe(sha256(corpusPath));
    expect(sha256(other)).not.toBe(sha256(corpusPath));
  });

  it('mixes TCP with options (SYN options, SACK), DNS, DHCP, ARP and ICMP echo, over IPv4 and IPv6', () => {
    const c = loadCorpus(corpusPath);
    expect(c.count).toBe(FRAMES);
    const b = c.bytes;
    const seen = new Set<string>();
    for (let f = 0; f < c.count; f++) {
      const o = c.offsets[f];
      expect(c.frames[f].length).toBe(c.lengths[f]);
      const etherType = (b[o + 12] << 8) | b[o + 13];
      if (etherType === 0x0806) seen.add('arp');
      if (etherType !== 0x0800 && etherType !== 0x86dd) continue;
      const ip = o + 14;
      const v6 = etherType === 0x86dd;
      const l4 = v6 ? ip + 40 : ip + (b[ip] & 15) * 4;
      const proto = v6 ? b[ip + 6] : b[ip + 9];
      if (v6) seen.add(`ipv6-${proto}`);
      const dstPort = (b[l4 + 2] << 8) | b[l4 + 3];
      if (proto === 1 && (b[l4] === 8 || b[l4] === 0)) seen.add('icmp-echo');
      if (proto === 17 && dstPort === 53) seen.add('dns-query');
      if (proto === 17 && (dstPort === 67 || dstPort === 68)) seen.add('dhcp');
      if (proto !== 6) continue;
      const end = l4 + (b[l4 + 12] >> 4) * 4;
      for (let k = l4 + 20; k < end;) {
        const kind = b[k];
        if (kind === 0) break;
        if (kind === 1) {
          k++;
          continue;
        }
        seen.add(`tcp-option-${kind}`);
        k += b[k + 1];
      }
    }
    expect([...seen].sort()).toEqual(
      [
        'arp',
        'dhcp',
        'dns-query',
        'icmp-echo',
        'ipv6-6', // TCP over IPv6
        'ipv6-17', // UDP (DNS) over IPv6
        'tcp-option-2', // MSS
        'tcp-option-3', // window scale
        'tcp-option-4', // SACK permitted
        'tcp-option-5', // SACK blocks
        'tcp-option-8', // timestamps
      ].sort(),
    );
  });

  it('loader rejects a file that is not a pcap and one that is truncated', () => {
    const bad = join(dir, 'bad.pcap');
    writeFileSync(bad, 'definitely not a capture file');
    expect(() => loadCorpus(bad)).toThrow(/not a pcap or pcapng file/);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, readFileSync(corpusPath).subarray(0, 24 + 16 + 10));
    expect(() => loadCorpus(cut)).toThrow(/E_TRUNCATED/);
  });
});

interface AllocProbe {
  bytesPerFrame: number;
  noiseFloorPerFrame: number;
  framesPerMeasurement: number;
  gcRetries: number;
}

/** Runs test/bench/alloc-probe.ts (known allocations) with a given young-generation size. */
function allocProbe(semiSpaceMb: number): Record<'object' | 'nothing' | 'rare', AllocProbe> {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      `--min-semi-space-size=${semiSpaceMb}`,
      `--max-semi-space-size=${semiSpaceMb}`,
      '--import',
      'tsx',
      'test/bench/alloc-probe.ts',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<'object' | 'nothing' | 'rare', AllocProbe>;
}

describe('allocation measurement', () => {
  it('reports known allocations exactly and no allocation as 0', () => {
    const p = allocProbe(128);
    expect(p.object.bytesPerFrame).toBeCloseTo(40, 1); // one 2-field object per frame (x64)
    expect(p.rare.bytesPerFrame).toBeCloseTo(0.4, 2); // one every 100 frames
    expect(p.nothing.bytesPerFrame).toBe(0);
    expect(p.nothing.noiseFloorPerFrame).toBeLessThan(0.1);
    expect(p.object.gcRetries).toBe(0);
  });

  it('shrinks the measurement when a GC would run inside it, and stays exact', () => {
    const p = allocProbe(1); // a 1 MB young generation: the planned samples do not fit
    expect(p.object.gcRetries).toBeGreaterThan(0);
    expect(p.object.bytesPerFrame).toBeCloseTo(40, 1);
  });
});

describe('bench:codec --json (quick, tiny corpus)', () => {
  it('measures every contender and they agree with the hand-written codec', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/codec/main.ts', '--corpus', corpusPath, '--quick', '--json'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0); // non-zero on any checksum/encoding mismatch
    const out = JSON.parse(r.stdout) as {
      results: Record<string, number | string | null>[];
      checksum: { region: string; size: number; gbps: number; bytesPerCall: number }[];
    };
    // The checksum rows: every case timed, and none allocates per call (the run exits non-zero
    // when a result differs from the references).
    expect(out.checksum.map((c) => `${c.region} ${c.size}`)).toEqual([
      'slab 64',
      'slab 128',
      'slab 256',
      'slab 576',
      'slab 1500',
      'pool 1500',
    ]);
    for (const c of out.checksum) {
      expect(c.gbps).toBeGreaterThan(0);
      expect(c.bytesPerCall).toBe(0);
    }
    const byName = new Map(out.results.map((row) => [row.name, row]));
    expect([...byName.keys()].sort()).toEqual(
      ['binary-parser', 'kaitai', 'limit', 'node_pcap', 'pktstack', 'restructure'].sort(),
    );
    for (const row of out.results) {
      expect(Object.keys(row)).toEqual([
        'name',
        'decodeNsPerFrame',
        'decodeBytesPerFrame',
        'encodeNsPerFrame',
        'encodeBytesPerFrame',
        'decodeVsLimit',
        'decodeVsLimitSpread',
        'encodeVsLimit',
        'encodeVsLimitSpread',
      ]);
      expect(row.decodeNsPerFrame).toBeGreaterThan(0);
    }
    const limit = byName.get('limit');
    expect(limit?.decodeBytesPerFrame).toBe(0);
    expect(limit?.encodeBytesPerFrame).toBe(0);
    expect(limit?.encodeNsPerFrame).toBeGreaterThan(0);
    // Object-per-field decoders visibly allocate: the measurement sees it.
    expect(byName.get('restructure')?.decodeBytesPerFrame).toBeGreaterThan(500);
    expect(byName.get('restructure')?.encodeBytesPerFrame).toBeGreaterThan(100);
    for (const n of ['binary-parser', 'node_pcap', 'kaitai']) {
      expect(byName.get(n)?.encodeNsPerFrame).toBeNull();
      expect(byName.get(n)?.encodeBytesPerFrame).toBeNull();
    }
  });
});

describe('paired timing (bench/codec/child.ts --pair)', () => {
  it('times a contender against limit in alternating rounds of one process, per round', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/codec/child.ts',
        ...['--contender', 'pktstack', '--pair', 'limit', '--corpus', corpusPath],
        ...['--rounds', '4', '--warmup-ms', '20', '--round-ms', '2'],
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as {
      decodeTime: { roundsNsPerFrame: number[]; checksum: number };
      paired: {
        name: string;
        decodeTime: { roundsNsPerFrame: number[]; checksum: number };
        decodeRatios: number[];
        encodeRatios: number[];
      };
    };
    const p = report.paired;
    expect(p.name).toBe('limit');
    // Both decoders fold the same fields of the same frames.
    expect(p.decodeTime.checksum).toBe(report.decodeTime.checksum);
    expect(p.decodeRatios).toHaveLength(4);
    expect(p.encodeRatios).toHaveLength(4);
    p.decodeRatios.forEach((x, k) => {
      expect(x).toBeCloseTo(
        report.decodeTime.roundsNsPerFrame[k] / p.decodeTime.roundsNsPerFrame[k],
        9,
      );
    });
  });
});
