/**
 * HTTP over IPv6 against the kernel, both ways, with the CLI:
 *   - `pktstack run --http 8080` as fd00::2 (and 10.0.0.2) in a dual-stack namespace of our
 *     own: the kernel's curl -6 and curl -4 fetch /bytes from the same server;
 *   - `pktstack curl --ip6 fd01::2/64 http://[fd01::1]:8081/...` on tap1 fetches from Python's
 *     http.server bound to the kernel's fd01::1, with an equal SHA-256, and a closed port fails
 *     as curl fails (exit 7).
 * Needs root and python3; skipped otherwise.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternByte } from '../../src/runtime/http/bytes.js';
import {
  CLI,
  Netns,
  isRoot,
  must,
  startIpv6Stack,
  until,
  type RunningStack,
} from '../http/kernel-lab.js';

const PYTHON = '/usr/bin/python3';
const ready = isRoot && spawnSync(PYTHON, ['--version']).status === 0;
const NS = `pkt-http6-k${process.pid}`;

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = patternByte(i);
  return b;
}

describe.skipIf(!ready)('HTTP over IPv6 with the kernel', () => {
  let ns: Netns;
  let running: RunningStack | undefined;
  let web: ChildProcess | undefined;
  let dir = '';
  const file = randomBytes(20 << 20);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pkt-http6-k-'));
    writeFileSync(join(dir, 'big.bin'), file);
    ns = Netns.dualStack(NS);
    ({ running } = await startIpv6Stack(ns, ['--http', '8080']));
    // tap1 for `pktstack curl`: made here so the kernel's side has fd01::1 before curl starts.
    must(ns.run('ip', 'tuntap', 'add', 'dev', 'tap1', 'mode', 'tap'), 'tuntap add');
    must(ns.run('ip', 'link', 'set', 'tap1', 'up'), 'tap1 up');
    must(ns.run('ip', '-6', 'addr', 'add', 'fd01::1/64', 'dev', 'tap1', 'nodad'), 'ip -6 addr');
    web = ns.spawn(PYTHON, ['-m', 'http.server', '--bind', 'fd01::1', '--directory', dir, '8081']);
    await until(
      () => ns.run('curl', '-6sf', '-o', '/dev/null', 'http://[fd01::1]:8081/').code === 0,
      10_000,
    );
  }, 60_000);

  afterAll(async () => {
    if (web?.exitCode === null) web.kill('SIGTERM');
    await running?.stop();
    ns?.destroy();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('run --http serves both families on one port: curl -6 and curl -4 get /bytes', () => {
    const n = 3_000_000;
    const expected = sha256(pattern(n));
    const six = ns.runWithin(
      30_000,
      'curl',
      '-6',
      '-sf',
      '-o',
      join(dir, 'six'),
      `http://[fd00::2]:8080/bytes/${n}`,
    );
    expect(six.code).toBe(0);
    expect(sha256(readFileSync(join(dir, 'six')))).toBe(expected);
    const four = ns.runWithin(
      30_000,
      'curl',
      '-4',
      '-sf',
      '-o',
      join(dir, 'four'),
      `http://10.0.0.2:8080/bytes/${n}`,
    );
    expect(four.code).toBe(0);
    expect(sha256(readFileSync(join(dir, 'four')))).toBe(expected);
    const status = JSON.parse(
      ns.runWithin(10_000, 'curl', '-6', '-sf', 'http://[fd00::2]:8080/status.json').out,
    ) as {
      ipv6: string[];
      stats: { tcp: { ipv6SegmentsIn: number } };
    };
    expect(status.ipv6).toContain('fd00::2/64 preferred');
    // 3 MB out over IPv6: the kernel's ACKs (fewer with TSO: one per 64 KiB super-frame or so).
    expect(status.stats.tcp.ipv6SegmentsIn).toBeGreaterThan(30);
  });

  it('pktstack curl fetches 20 MB over IPv6 from the kernel with an equal SHA-256', () => {
    const out = join(dir, 'got.bin');
    const r = ns.runWithin(
      60_000,
      CLI[0],
      ...CLI.slice(1),
      'curl',
      '--tap',
      'tap1',
      '--ip6',
      'fd01::2/64',
      '-s',
      '-o',
      out,
      'http://[fd01::1]:8081/big.bin',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(sha256(readFileSync(out))).toBe(sha256(file));
  });

  it('pktstack curl to a closed IPv6 port fails in one line with exit 7', () => {
    const r = ns.runWithin(
      30_000,
      CLI[0],
      ...CLI.slice(1),
      'curl',
      '--tap',
      'tap1',
      '--ip6',
      'fd01::2/64',
      'http://[fd01::1]:8099/',
    );
    expect(r.code).toBe(7);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/connection refused by \[?fd01::1/);
  });
});
