/**
 * `pktstack run --echo 7 --discard 9` on a TAP in a namespace of our own: the kernel's socat
 * talks to the RFC 862/863 services; a closed port answers RST (connection refused). Needs root.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, startStack, until, type RunningStack } from '../http/kernel-lab.js';

const isRoot = process.getuid?.() === 0;
const NS = `pkt-tcp-r${process.pid}`;

function inNs(args: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync('ip', ['netns', 'exec', NS, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    input,
  });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

describe.skipIf(!isRoot)('pktstack run --echo --discard against the kernel', () => {
  let running: RunningStack | undefined;

  beforeAll(async () => {
    running = await startStack(Netns.bare(NS), [
      '--tap',
      'tap0',
      '--ip',
      '10.0.0.2/24',
      '--host-ip',
      '10.0.0.1/24',
      '--echo',
      '7',
      '--discard',
      '9',
    ]);
  }, 30_000);

  afterAll(async () => {
    await running?.stop('SIGTERM');
    spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
  });

  it('announces the services in its "up" event', () => {
    expect(running?.events[0]).toMatchObject({ event: 'up', echo: 7, discard: 9 });
  });

  it('echoes on port 7', () => {
    const payload = 'abc'.repeat(10_000);
    const r = inNs(['socat', '-t', '2', '-', 'TCP:10.0.0.2:7'], payload);
    expect(r.code).toBe(0);
    expect(r.out).toBe(payload);
  });

  it('discards on port 9 and closes cleanly', () => {
    const r = inNs(['socat', '-u', '-', 'TCP:10.0.0.2:9'], 'x'.repeat(100_000));
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
  });

  it('refuses a closed port', () => {
    const r = inNs(['socat', '-', 'TCP:10.0.0.2:12345'], 'x');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/Connection refused/);
  });

  it('logs tcp.open and tcp.close for what it served, and the refused SYN as a drop count', async () => {
    const of = (event: string) => running!.events.filter((e) => e.event === event);
    // Echo and discard: two connections opened by the kernel, closed by it first (no TIME-WAIT
    // here). The refused port never opened. Drops are summarised every 10 s.
    await until(() => of('tcp.close').length >= 2 && of('drops').length >= 1, 15_000);
    const opens = of('tcp.open');
    expect(opens.map((e) => e.localPort).sort()).toEqual([7, 9]);
    for (const e of opens) expect(e).toMatchObject({ direction: 'in', remoteAddress: '10.0.0.1' });
    for (const e of of('tcp.close')) expect(e).toMatchObject({ reason: 'closed' });
    expect(of('drops')[0]).toMatchObject({ intervalMs: 10_000, 'tcp.noListener': 1 });
  }, 20_000);
});
