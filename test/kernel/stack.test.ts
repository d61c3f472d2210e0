/**
 * `pktstack run` against the real Linux kernel: a namespace of our own holds tap0 (kernel side
 * 10.0.0.1/24); the stack runs inside it as 10.0.0.2 and the kernel's own tools talk to it.
 * Needs root (network namespaces, TAP); skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, startStack, type RunningStack } from '../http/kernel-lab.js';

const isRoot = process.getuid?.() === 0;
const NS = `pkt-stack-k${process.pid}`;

function sh(
  cmd: string,
  args: string[],
  timeoutMs = 20_000,
): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function inNs(cmd: string, ...args: string[]): { code: number; out: string; err: string } {
  return sh('ip', ['netns', 'exec', NS, cmd, ...args]);
}

interface RunEvent {
  event: string;
  [key: string]: unknown;
}

describe.skipIf(!isRoot)('pktstack run on a TAP, talking to the kernel', () => {
  let running: RunningStack | undefined;
  let dir = '';
  let pcap = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pkt-stack-k-'));
    pcap = join(dir, 'run.pcap');
    // No IPv6 on the kernel side (no router solicitations or MLD reports into the stack) and no
    // tap0 made beforehand: the stack creates it and gives the kernel side its address.
    running = await startStack(Netns.bare(NS), [
      '--tap',
      'tap0',
      '--ip',
      '10.0.0.2/24',
      '--host-ip',
      '10.0.0.1/24',
      '--gateway',
      '10.0.0.1',
      '--udp-echo',
      '7',
      '--pcap',
      pcap,
    ]);
  }, 30_000);

  afterAll(async () => {
    await running?.stop('SIGKILL');
    sh('ip', ['netns', 'del', NS]);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('prints an "up" event first, with address and MAC', () => {
    const events = running?.events ?? [];
    expect(events[0]).toMatchObject({ event: 'up', ip: '10.0.0.2/24' });
    expect(events[0].mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  });

  it('answers 100 of 100 kernel pings over payload sizes 0..1472', () => {
    const sizes = [0, 1, 7, 8, 56, 100, 511, 1000, 1471, 1472];
    let received = 0;
    for (const size of sizes) {
      const r = inNs(
        'ping',
        '-n',
        '-q',
        '-c',
        '10',
        '-i',
        '0.01',
        '-W',
        '1',
        '-s',
        String(size),
        '10.0.0.2',
      );
      const m = /(\d+) received/.exec(r.out);
      expect(m, r.out + r.err).not.toBeNull();
      received += Number(m?.[1]);
    }
    expect(received).toBe(100);
  });

  it('answers 4000-byte pings, fragmented both ways', () => {
    const r = inNs(
      'ping',
      '-n',
      '-q',
      '-c',
      '5',
      '-i',
      '0.05',
      '-W',
      '1',
      '-s',
      '4000',
      '10.0.0.2',
    );
    expect(r.out).toMatch(/5 received/);
  });

  it('is resolved by arping', () => {
    const r = inNs('arping', '-c', '3', '-w', '3', '-I', 'tap0', '10.0.0.2');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/Received 3 response|3 packets received/);
  });

  it('echoes UDP (socat round trip)', () => {
    const r = spawnSync('ip', ['netns', 'exec', NS, 'socat', '-t', '1', '-', 'UDP:10.0.0.2:7'], {
      input: 'hello pktstack\n',
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.stdout).toBe('hello pktstack\n');
  });

  it('makes the kernel see ICMP port unreachable for a closed port', () => {
    // A connected UDP socket gets ECONNREFUSED once the kernel receives the ICMP error.
    const r = spawnSync('ip', ['netns', 'exec', NS, 'socat', '-t', '1', '-', 'UDP:10.0.0.2:9'], {
      input: 'anyone?\n',
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.stderr).toMatch(/Connection refused/);
  });

  it('shuts down cleanly on SIGTERM and leaves a pcap tshark reads without malformed frames', async () => {
    expect(await running?.stop('SIGTERM')).toBe(0);
    const events = running?.events ?? [];
    expect(events.at(-1)).toMatchObject({ event: 'down' });
    const down = events.at(-1) as RunEvent & {
      stats: {
        icmp: { echoReplies: number; unreachableSent: number };
        ipv4: { reassembled: number; fragmentsSent: number };
      };
    };
    expect(down.stats.icmp.echoReplies).toBeGreaterThanOrEqual(105);
    expect(down.stats.icmp.unreachableSent).toBeGreaterThanOrEqual(1);
    // The 4000-byte pings came in fragments and went back in fragments (3 per datagram).
    expect(down.stats.ipv4.reassembled).toBeGreaterThanOrEqual(5);
    expect(down.stats.ipv4.fragmentsSent).toBeGreaterThanOrEqual(15);
    expect(existsSync(pcap)).toBe(true);
    const all = sh('tshark', ['-n', '-r', pcap]);
    expect(all.code, all.err).toBe(0);
    expect(all.out.trim().split('\n').length).toBeGreaterThan(200);
    const malformed = sh('tshark', [
      '-n',
      '-r',
      pcap,
      '-Y',
      '_ws.malformed || _ws.expert.severity == error',
    ]);
    expect(malformed.code, malformed.err).toBe(0);
    expect(malformed.out.trim()).toBe('');
  });
});
