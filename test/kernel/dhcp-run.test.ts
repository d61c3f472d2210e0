/**
 * `pktstack run --dhcp --log json` in a namespace of our own: with dnsmasq it logs
 * {"event":"dhcp.bound",...}, answers the kernel's ping on the leased address and releases the
 * lease on SIGTERM; with no server it keeps trying and says so.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { skipReason, up, type Lab } from './dhcp-lab.js';

const skip = skipReason();
if (skip !== null) console.warn(`test/kernel/dhcp-run.test.ts skipped: ${skip}`);

const run = promisify(execFile);

/** Collects the JSON lines a `pktstack run` prints and lets the test wait for one. */
class EventStream {
  readonly events: Array<Record<string, unknown>> = [];
  private buffer = '';
  private waiters: Array<() => void> = [];

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (b: Buffer) => {
      this.buffer += b.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        if (line.trim() !== '') this.events.push(JSON.parse(line) as Record<string, unknown>);
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  async waitFor(event: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.events.find((e) => e.event === event);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null) break;
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
    throw new Error(`no ${event} event; got ${JSON.stringify(this.events)}`);
  }

  stop(): Promise<number | null> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.pid === undefined) {
        resolve(this.child.exitCode);
        return;
      }
      this.child.once('close', (code) => resolve(code));
      process.kill(this.child.pid, 'SIGTERM');
    });
  }
}

describe.skipIf(skip !== null)('pktstack run --dhcp (kernel)', () => {
  const labs: Lab[] = [];
  let stream: EventStream | null = null;
  afterEach(async () => {
    await stream?.stop();
    stream = null;
  });
  afterAll(() => {
    for (const lab of labs) lab.down();
  });

  function start(lab: Lab): EventStream {
    // `ip netns exec` execs node in place, so the child's PID is the stack's.
    const child = lab.spawnInNs(process.execPath, [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'run',
      '--tap',
      'tap0',
      '--dhcp',
      '--log',
      'json',
    ]);
    return new EventStream(child);
  }

  it('logs dhcp.bound, answers ping on the leased address, releases on SIGTERM', async () => {
    const lab = await up();
    labs.push(lab);
    stream = start(lab);
    const upEvent = await stream.waitFor('up', 15_000);
    expect(upEvent).toMatchObject({ ip: null, dhcp: true });
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
    const code = await stream.stop();
    stream = null;
    expect(code).toBe(0);
    expect(lab.log()).toMatch(new RegExp(`DHCPRELEASE\\(tap0\\) ${ip.replace(/\./g, '\\.')}`));
  });

  it('keeps trying without a server and says so', async () => {
    const lab = await up();
    labs.push(lab);
    lab.dnsmasq.kill('SIGTERM');
    stream = start(lab);
    const retry = await stream.waitFor('dhcp.retrying', 15_000);
    expect(retry).toMatchObject({ state: 'SELECTING', attempt: 2 });
    expect(String(retry.message)).toContain('no answer');
  });
});
