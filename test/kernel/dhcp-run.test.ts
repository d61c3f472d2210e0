/**
 * `pktstack run --dhcp --log json` in a namespace of our own: with dnsmasq it logs
 * {"event":"dhcp.bound",...}, answers the kernel's ping on the leased address and releases the
 * lease on SIGTERM; with no server it keeps trying and says so.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Netns, startStack, type RunningStack } from '../http/kernel-lab.js';
import { skipReason, up, type Lab } from './dhcp-lab.js';

const skip = skipReason();
if (skip !== null) console.warn(`test/kernel/dhcp-run.test.ts skipped: ${skip}`);

const run = promisify(execFile);

describe.skipIf(skip !== null)('pktstack run --dhcp (kernel)', () => {
  const labs: Lab[] = [];
  let stream: RunningStack | null = null;
  afterEach(async () => {
    await stream?.stop('SIGTERM');
    stream = null;
  });
  afterAll(() => {
    for (const lab of labs) lab.down();
  });

  /** `pktstack run --dhcp` in the lab's namespace, once it has said "up". */
  function start(lab: Lab): Promise<RunningStack> {
    return startStack(new Netns(lab.ns), ['--tap', 'tap0', '--dhcp']);
  }

  it('logs dhcp.bound, answers ping on the leased address, releases on SIGTERM', async () => {
    const lab = await up();
    labs.push(lab);
    stream = await start(lab);
    expect(stream.events[0]).toMatchObject({ event: 'up', ip: null, dhcp: true });
    const bound = await stream.waitFor('dhcp.bound', 20_000);
    expect(bound).toMatchObject({
      gateway: '10.0.0.1',
      dns: ['10.0.0.1'],
      lease: 120,
      netmask: '255.255.255.0',
    });
    const ip = String(bound.ip);
    expect(ip).toMatch(/^10\.0\.0\.(5\d|60)$/);
    const ping = await run('ip', [
      'netns',
      'exec',
      lab.ns,
      'ping',
      '-c',
      '2',
      '-i',
      '0.2',
      '-W',
      '2',
      ip,
    ]);
    expect(ping.stdout).toContain('2 received');
    const code = await stream.stop('SIGTERM');
    stream = null;
    expect(code).toBe(0);
    expect(lab.log()).toMatch(new RegExp(`DHCPRELEASE\\(tap0\\) ${ip.replace(/\./g, '\\.')}`));
  });

  it('keeps trying without a server and says so', async () => {
    const lab = await up();
    labs.push(lab);
    lab.dnsmasq.kill('SIGTERM');
    stream = await start(lab);
    const retry = await stream.waitFor('dhcp.retrying', 15_000);
    expect(retry).toMatchObject({ state: 'SELECTING', attempt: 2 });
    expect(String(retry.message)).toContain('no answer');
  });
});
