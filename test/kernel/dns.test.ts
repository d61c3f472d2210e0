/**
 * `pktstack resolve` against dnsmasq on the kernel side of tap0, in a namespace of our own:
 * a DHCP lease then a CNAME'd name, NXDOMAIN as a one-line ENOTFOUND with exit status 1, a
 * static configuration, and a server that does not exist timing out.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToEnd, skipReason, up, type Lab } from './dhcp-lab.js';

const skip = skipReason();
if (skip !== null) console.warn(`test/kernel/dns.test.ts skipped: ${skip}`);

function resolve(lab: Lab, args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'resolve', ...args, '--tap', 'tap0', '--netns', lab.ns],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return runToEnd(child, 40_000);
}

describe.skipIf(skip !== null)('pktstack resolve against dnsmasq (kernel)', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await up();
  });
  afterAll(() => lab?.down());

  it('gets a lease from dnsmasq, resolves a CNAME to its address, releases the lease', async () => {
    const r = await resolve(lab, ['www.test', '--dhcp']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('10.0.0.7\n');
    expect(r.code).toBe(0);
    const log = lab.log();
    const ack = /DHCPACK\(tap0\) (10\.0\.0\.\d+) \S+ pktstack/.exec(log);
    expect(ack).not.toBeNull();
    const leased = ack![1];
    expect(log).toContain(`query[A] www.test from ${leased}`);
    expect(log).toMatch(new RegExp(`DHCPRELEASE\\(tap0\\) ${leased.replace(/\./g, '\\.')}`));
  });

  it('reports NXDOMAIN as a one-line ENOTFOUND and exits 1 (static address)', async () => {
    const r = await resolve(lab, ['nx.test', '--ip', '10.0.0.9/24', '--dns', '10.0.0.1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('pktstack: queryA ENOTFOUND nx.test\n');
    expect(lab.log()).toContain('query[A] nx.test from 10.0.0.9');
  });

  it('resolves with a static address and prints one address a line', async () => {
    const r = await resolve(lab, ['host.test', '--ip', '10.0.0.9/24', '--dns', '10.0.0.1']);
    expect([r.code, r.stdout]).toEqual([0, '10.0.0.7\n']);
  });

  it('times out (ETIMEOUT) when the configured server does not exist', async () => {
    const r = await resolve(lab, [
      'host.test',
      '--ip',
      '10.0.0.9/24',
      '--dns',
      '10.0.0.99',
      '--timeout',
      '300',
      '--attempts',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('pktstack: queryA ETIMEOUT host.test\n');
  });
});
