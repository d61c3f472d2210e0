/**
 * UDP over IPv6 against the real Linux kernel: a namespace of our own holds tap0 (fd00::1/64);
 * the stack runs `--udp-echo 7` as fd00::2/64. socat from the kernel gets its bytes back (the
 * stack's reply is a datagram the kernel receives and checks; 4000 bytes go both ways in
 * fragments), and a closed port answers with
 * ICMPv6 port unreachable, which the kernel's socket reports as a refused connection and tshark
 * finds in the capture. Needs root; skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, isRoot, sh, startIpv6Stack, type RunningStack } from '../http/kernel-lab.js';

const NS = `pkt-udp6-k${process.pid}`;

/** socat in the namespace: `input` to [fd00::2]:port over UDP, what comes back on stdout. */
function socat6(port: number, input: string, waitSeconds = 2) {
  return sh(
    'ip',
    ['netns', 'exec', NS, 'socat', '-t', String(waitSeconds), '-', `UDP6:[fd00::2]:${port}`],
    20_000,
    input,
  );
}

describe.skipIf(!isRoot)('UDP over IPv6 on a TAP, talking to the kernel', () => {
  let ns: Netns;
  let running: RunningStack | undefined;
  let dir = '';
  let pcap = '';
  let mac = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pkt-udp6-k-'));
    pcap = join(dir, 'run.pcap');
    ns = Netns.dualStack(NS);
    // Without offloads: with them the capture holds the kernel's datagrams with partial
    // checksums (as `tcpdump -i tap0` shows them), which tshark would call bad.
    const lab = await startIpv6Stack(ns, ['--udp-echo', '7', '--pcap', pcap, '--no-offload']);
    running = lab.running;
    mac = lab.mac;
  }, 40_000);

  afterAll(async () => {
    await running?.stop();
    ns?.destroy();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('echoes the kernel datagrams on --udp-echo over fd00::2', () => {
    const r = socat6(7, 'hello over ipv6\n');
    expect(r.err).toBe('');
    expect(r.out).toBe('hello over ipv6\n');
    // IPv4 still on the same echo socket.
    const four = sh(
      'ip',
      ['netns', 'exec', NS, 'socat', '-t', '2', '-', 'UDP4:10.0.0.2:7'],
      20_000,
      'and ipv4\n',
    );
    expect(four.out).toBe('and ipv4\n');
  });

  it('echoes a datagram of 1400 bytes (one packet) back intact', () => {
    const line = 'x'.repeat(1399) + '\n';
    expect(socat6(7, line).out).toBe(line);
  });

  it('echoes a datagram of 4000 bytes: reassembled, answered in fragments the kernel reassembles', () => {
    const line = 'y'.repeat(3999) + '\n';
    expect(socat6(7, line).out).toBe(line);
  });

  it('answers a closed port with ICMPv6 port unreachable: the kernel socket is refused', () => {
    const r = socat6(4444, 'anyone?\n');
    expect(r.out).toBe('');
    expect(r.err).toMatch(/Connection refused/);
  });

  it('leaves a capture tshark reads: checksummed UDP replies and the port unreachable', async () => {
    await running?.stop();
    running = undefined;
    const tshark = (filter: string, field = 'frame.number'): string[] =>
      spawnSync(
        'tshark',
        // Checksums are not verified unless asked for.
        [
          '-r',
          pcap,
          '-n',
          '-o',
          'udp.check_checksum:TRUE',
          '-Y',
          filter,
          '-T',
          'fields',
          '-e',
          field,
        ],
        { encoding: 'utf8' },
      )
        .stdout.split('\n')
        .filter((l) => l !== '');
    const ours = `eth.src == ${mac}`;
    expect(tshark('_ws.malformed || _ws.expert.severity >= error')).toEqual([]);
    expect(
      tshark(`${ours} && ipv6 && udp.srcport == 7 && udp.checksum.status == 1`, 'udp.length'),
    ).toEqual(expect.arrayContaining(['24', '1408']));
    expect(
      tshark(
        `${ours} && icmpv6.type == 1 && icmpv6.code == 4 && ipv6.dst == fd00::1`,
        'udp.dstport',
      ),
    ).toEqual(['4444']);
  });
});
