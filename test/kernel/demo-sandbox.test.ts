/**
 * `pktstack sandbox up|status|down` under a test-only namespace name: the stack keeps running
 * in the background and answers ping and HTTP from inside the namespace; `up` twice is refused;
 * `down` stops the process and removes the namespace and its state file. Needs root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, repoRoot, sh } from '../http/kernel-lab.js';

const NS = `pkt-sbx-t${process.pid}`;

function cli(...args: string[]) {
  const r = spawnSync(CLI[0], [...CLI.slice(1), 'sandbox', ...args, '--name', NS], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 40_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** What ethtool says of TSO on the sandbox's tap0 (the kernel's view of what the stack asked). */
function tso(): string {
  const r = sh('ip', ['netns', 'exec', NS, 'ethtool', '-k', 'tap0']);
  return /tcp-segmentation-offload: (\w+)/.exec(r.out)?.[1] ?? `no answer: ${r.err}`;
}

describe.skipIf(!isRoot)('pktstack sandbox', () => {
  afterAll(() => {
    cli('down');
    sh('ip', ['netns', 'del', NS]);
  });

  it('comes up, serves, refuses a second up, and goes down leaving nothing', () => {
    const up = cli('up');
    expect(up.code, up.err).toBe(0);
    const pid = Number(/pid (\d+)/.exec(up.out)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(up.out).toContain(`ip netns exec ${NS} ping 10.0.0.2`);
    expect(up.out).toMatch(/offloads vnet-hdr csum tso4 tso6\)/);
    expect(tso()).toBe('on');
    expect(cli('status')).toMatchObject({ code: 0 });
    expect(sh('ip', ['netns', 'exec', NS, 'ping', '-c', '2', '-i', '0.2', '10.0.0.2']).code).toBe(
      0,
    );
    const page = sh('ip', ['netns', 'exec', NS, 'curl', '-sS', 'http://10.0.0.2/status.json']);
    expect(JSON.parse(page.out)).toMatchObject({ ip: '10.0.0.2' });
    expect(up.out).toContain(`ip netns exec ${NS} curl -6 http://[fd00::2]/`);
    // DAD keeps the IPv6 address tentative for about a second after start.
    let six = sh('ip', ['netns', 'exec', NS, 'curl', '-6', '-sS', 'http://[fd00::2]/status.json']);
    for (let i = 0; i < 20 && six.code !== 0; i++) {
      sh('sleep', ['0.2']);
      six = sh('ip', ['netns', 'exec', NS, 'curl', '-6', '-sS', 'http://[fd00::2]/status.json']);
    }
    expect(JSON.parse(six.out)).toMatchObject({
      ipv6: expect.arrayContaining(['fd00::2/64 preferred']),
    });
    const again = cli('up');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already exists/);
    const down = cli('down');
    expect(down.code).toBe(0);
    expect(down.out).toMatch(/removed/);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(`/run/netns/${NS}`)).toBe(false);
    expect(existsSync(`/run/pktstack/${NS}.json`)).toBe(false);
    expect(cli('status').code).toBe(1);
    // down again: nothing to do, still fine.
    expect(cli('down')).toMatchObject({ code: 0 });
  }, 60_000);

  it('up --no-offload: the stack opens the TAP without offloads and says so', () => {
    const up = cli('up', '--no-offload');
    try {
      expect(up.code, up.err).toBe(0);
      expect(up.out).toMatch(/offloads none\)/);
      expect(tso()).toBe('off');
      expect(sh('ip', ['netns', 'exec', NS, 'ping', '-c', '1', '10.0.0.2']).code).toBe(0);
    } finally {
      expect(cli('down').code).toBe(0);
    }
  }, 60_000);
});
