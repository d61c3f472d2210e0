/**
 * RFC 5227 §2.4 against the kernel: a host on the link claims the stack's address with a
 * gratuitous ARP from another MAC. The stack defends once (a gratuitous ARP of its own, seen
 * by tcpdump on the kernel's side), logs an `arp.conflict` event, and within 10 s only logs a
 * second claim without defending again. Needs root; skipped otherwise.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, isRoot, must, startStack, until, type RunningStack } from '../http/kernel-lab.js';

const NS = `pkt-arpc-k${process.pid}`;
/** A MAC no one on the link has: the claimant's. */
const CLAIMANT = '02:aa:bb:cc:dd:01';

describe.skipIf(!isRoot)('ARP address conflict from the kernel side', () => {
  let ns: Netns;
  let running: RunningStack | undefined;

  beforeAll(async () => {
    ns = Netns.bare(NS);
    running = await startStack(ns, [
      '--tap',
      'tap0',
      '--ip',
      '10.0.0.2/24',
      '--host-ip',
      '10.0.0.1/24',
    ]);
  }, 30_000);

  afterAll(async () => {
    await running?.stop();
    ns?.destroy();
  });

  it('defends once, then only logs a claim within 10 s', async () => {
    const neigh = must(ns.run('ip', 'neigh', 'show', '10.0.0.2', 'dev', 'tap0'), 'neigh').out;
    const stackMac = /lladdr (\S+)/.exec(neigh)?.[1] ?? '';
    expect(stackMac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const dump = spawn(
      'ip',
      ['netns', 'exec', NS, 'tcpdump', '-l', '-n', '-e', '-i', 'tap0', 'arp'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let lines = '';
    let ready = false;
    dump.stdout.on('data', (d: Buffer) => (lines += d.toString()));
    dump.stderr.on('data', (d: Buffer) => (ready ||= d.toString().includes('listening')));
    try {
      await until(() => ready, 10_000);
      // arping 2.x: -U unsolicited (gratuitous) ARP, -S the claimed address, -s the claimant's MAC.
      // It exits 1 when no reply comes, which an unsolicited ARP does not get: check it sent.
      const claim = () => {
        const r = ns.runWithin(
          10_000,
          'arping',
          '-U',
          '-c',
          '1',
          '-i',
          'tap0',
          '-S',
          '10.0.0.2',
          '-s',
          CLAIMANT,
          '10.0.0.2',
        );
        expect(r.out, r.err).toContain('ARPING 10.0.0.2');
      };
      claim();
      const first = await running!.waitFor('arp.conflict', 5_000);
      expect(first).toMatchObject({ address: '10.0.0.2', mac: CLAIMANT, defended: true });
      // The defence: the stack announces its address from its own MAC.
      await until(() => defences(lines, stackMac) >= 1, 5_000);
      claim();
      await until(
        () => running!.events.filter((e) => e.event === 'arp.conflict').length >= 2,
        5_000,
      );
      const second = running!.events.filter((e) => e.event === 'arp.conflict')[1];
      expect(second).toMatchObject({ address: '10.0.0.2', mac: CLAIMANT, defended: false });
      // Give a second defence, had there been one, time to reach tcpdump.
      await new Promise((r) => setTimeout(r, 500));
      expect(defences(lines, stackMac)).toBe(1);
      process.stderr.write(`arp conflict: 2 claims, ${defences(lines, stackMac)} defence\n`);
    } finally {
      dump.kill();
    }
  }, 40_000);
});

/** Gratuitous ARPs for 10.0.0.2 from `mac` (requests or replies whose sender is 10.0.0.2) in tcpdump -e output. */
function defences(lines: string, mac: string): number {
  return lines
    .split('\n')
    .filter((l) => l.startsWith(`${mac} >`) || l.includes(` ${mac} >`))
    .filter((l) => /(who-has 10\.0\.0\.2 tell 10\.0\.0\.2|Reply 10\.0\.0\.2 is-at)/.test(l)).length;
}
