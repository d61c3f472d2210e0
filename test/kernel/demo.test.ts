/**
 * `pktstack demo` end to end, as CI runs it: every step passes and reports numbers, the kept
 * capture decodes with no malformed frame, nothing is left behind (namespace, process), also
 * after Ctrl-C; without root it explains itself in one line. Needs root; skipped otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarizeCapture } from '../../src/cli/commands/demo.js';
import { CLI, isRoot, repoRoot, sh } from '../http/kernel-lab.js';

function namespaces(): string[] {
  return sh('ip', ['netns', 'list'])
    .out.split('\n')
    .map((l) => l.split(' ')[0]);
}

describe.skipIf(!isRoot)('pktstack demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pkt-demo-t-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every step, prints the numbers and removes what it made', () => {
    const pcap = join(dir, 'demo.pcap');
    const r = spawnSync(CLI[0], [...CLI.slice(1), 'demo', '--pcap', pcap, '--bytes', '5000000'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = r.stdout;
    expect(r.status, r.stderr + out).toBe(0);
    const ns = /namespace (pkt-demo-\d+)/.exec(out)?.[1];
    expect(ns).toBeDefined();
    expect(out).toMatch(/offloads vnet-hdr csum tso4 tso6\)/);
    expect(out).toMatch(
      /ping +5\/5 replies from 10.0.0.2, rtt min\/avg\/max [\d.]+\/[\d.]+\/[\d.]+ ms/,
    );
    expect(out).toMatch(
      /ping6 +5\/5 replies from fd00::2, rtt min\/avg\/max [\d.]+\/[\d.]+\/[\d.]+ ms/,
    );
    expect(out).toMatch(
      /http6 +GET http:\/\/\[fd00::2\]\/bytes\/5000000 → 200, 5000000 bytes in .* \(\d+ Mbit\/s\)/,
    );
    expect(out).toMatch(/http +GET \/ → 200, \d+ bytes in/);
    expect(out).toMatch(/http +GET \/bytes\/5000000 → 200, 5000000 bytes in .* \(\d+ Mbit\/s\)/);
    expect(out).toMatch(/echo +"hello, pktstack" came back over TCP port 7/);
    expect(out).toMatch(/discard +5000000 bytes sent to TCP port 9 in [\d.]+ s \(\d+ Mbit\/s\)/);
    expect(out).toMatch(/capture +\d+ frames: .*TCP\/http/);
    expect(out).not.toContain('malformed');
    expect(out).toMatch(/all steps passed in [\d.]+ s; removed namespace/);
    expect(namespaces()).not.toContain(ns);
    expect(sh('pgrep', ['-f', `netns exec ${ns!} `]).code).toBe(1);
    // The kept capture is the same one the summary read: decode it again here.
    const again = summarizeCapture(readFileSync(pcap));
    expect(out).toContain(again);
    expect(again).toMatch(/ARP/);
    expect(again).toMatch(/ICMP/);
    expect(again).toMatch(/ICMPv6/);
  }, 70_000);

  it('--no-offload: the stack opens the TAP without offloads, says so, and every step passes', () => {
    const r = spawnSync(CLI[0], [...CLI.slice(1), 'demo', '--no-offload', '--bytes', '1000000'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/offloads none\)/);
    expect(r.stdout).toMatch(/all steps passed in/);
  }, 70_000);

  it('cleans up on Ctrl-C in the middle of a run', async () => {
    const child = spawn(CLI[0], [...CLI.slice(1), 'demo'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // Interrupt once the namespace exists and the stack is up.
    for (let i = 0; i < 300 && !out.includes('namespace'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const ns = /namespace (pkt-demo-\d+)/.exec(out)?.[1];
    expect(ns).toBeDefined();
    expect(namespaces()).toContain(ns);
    // Every process in the namespace now (the stack, maybe a ping): none may survive.
    const inside = sh('ip', ['netns', 'pids', ns!])
      .out.split('\n')
      .filter((p) => p !== '');
    expect(inside.length).toBeGreaterThan(0);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(130);
    expect(namespaces()).not.toContain(ns);
    await new Promise((r) => setTimeout(r, 200)); // let init reap them
    for (const pid of inside) expect(existsSync(`/proc/${pid}`), `pid ${pid}`).toBe(false);
    expect(sh('pgrep', ['-f', `netns exec ${ns!} `]).code).toBe(1);
  }, 40_000);

  it('explains in one line and exits 1 without root', () => {
    const r = spawnSync('runuser', ['-u', 'nobody', '--', ...CLI, 'demo'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^pktstack demo: needs root/);
  }, 35_000);
});
