/**
 * IPv4 path MTU discovery against a real router (issue 15): the stack on tap0 in namespace LAB
 * (10.0.0.2/24, gateway 10.0.0.1), LAB forwarding to a host namespace over a veth whose LAB end
 * has MTU 1280. The host's own end keeps 1500, so its SYN offers MSS 1460 and the stack starts
 * with full-sized segments; only the router's frag-needed (RFC 1191) can teach it the narrow
 * hop. The host downloads 50 MB from the stack's /bytes/N and checks length and hash. Needs
 * root; skipped otherwise.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternStream } from '../../src/runtime/http/bytes.js';
import {
  Netns,
  isRoot,
  must,
  sh,
  startStack,
  until,
  type RunningStack,
} from '../http/kernel-lab.js';

const LAB = `pkt-pmtu-k${process.pid}`;
const HOST = `${LAB}-h`;
const NARROW = 1280;
const SIZE = 50 * 1024 * 1024;

interface Status {
  stats: { tcp: { pathMtuDecreases: number } };
}

describe.skipIf(!isRoot)('IPv4 path MTU discovery through a narrow hop', () => {
  let lab: Netns;
  let host: Netns | undefined;
  let running: RunningStack | undefined;

  beforeAll(async () => {
    lab = Netns.bare(LAB);
    running = await startStack(lab, [
      '--tap',
      'tap0',
      '--ip',
      '10.0.0.2/24',
      '--host-ip',
      '10.0.0.1/24',
      '--gateway',
      '10.0.0.1',
      '--http',
      '80',
    ]);
    must(lab.run('sysctl', '-qw', 'net.ipv4.ip_forward=1'), 'ip_forward');
    host = Netns.bare(HOST);
    must(
      sh('ip', [
        'link',
        'add',
        'narrow',
        'netns',
        LAB,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        HOST,
      ]),
      'veth',
    );
    must(lab.run('ip', 'link', 'set', 'narrow', 'mtu', String(NARROW)), 'narrow mtu');
    must(lab.run('ip', 'addr', 'add', '10.1.0.1/24', 'dev', 'narrow'), 'router address');
    must(lab.run('ip', 'link', 'set', 'narrow', 'up'), 'narrow up');
    must(host.run('ip', 'addr', 'add', '10.1.0.2/24', 'dev', 'eth0'), 'host address');
    must(host.run('ip', 'link', 'set', 'eth0', 'up'), 'host up');
    must(host.run('ip', 'route', 'add', 'default', 'via', '10.1.0.1'), 'host route');
    await until(() => host!.run('ping', '-c', '1', '-W', '1', '10.0.0.2').code === 0, 10_000);
  }, 40_000);

  afterAll(async () => {
    await running?.stop();
    host?.destroy();
    lab?.destroy();
  });

  it('learns the 1280-byte hop from frag-needed and delivers 50 MB intact, unfragmented', async () => {
    const status = (): Status =>
      JSON.parse(
        must(
          host!.runWithin(10_000, 'curl', '-sS', '--max-time', '5', 'http://10.0.0.2/status.json'),
          'status.json',
        ).out,
      ) as Status;
    const before = status().stats.tcp.pathMtuDecreases;

    // Any IPv4 fragment (MF set or a non-zero offset) crossing the narrow hop.
    const dump = lab.spawn('tcpdump', ['-i', 'narrow', '-nn', '-l', 'ip[6:2] & 0x3fff != 0']);
    let fragments = '';
    let dumpErr = '';
    dump.stdout?.on('data', (d: Buffer) => (fragments += d.toString()));
    dump.stderr?.on('data', (d: Buffer) => (dumpErr += d.toString()));
    const stopDump = async (): Promise<void> => {
      if (dump.exitCode !== null || dump.signalCode !== null) return;
      dump.kill('SIGINT');
      await new Promise((resolve) => dump.once('close', resolve));
    };
    let r;
    let seconds;
    const expected = createHash('sha256');
    try {
      await until(() => dumpErr.includes('listening on'), 5000);
      for await (const chunk of patternStream(SIZE)) expected.update(chunk as Buffer);
      const started = Date.now();
      // Body to sha256sum, its length (as curl counted it) to stderr.
      r = host!.runWithin(
        35_000,
        'sh',
        '-c',
        `curl -sS --max-time 30 -w '%{stderr}%{size_download}' ` +
          `http://10.0.0.2/bytes/${SIZE} | sha256sum`,
      );
      seconds = (Date.now() - started) / 1000;
    } finally {
      await stopDump();
    }

    expect(r.code, r.err).toBe(0);
    expect(Number(r.err.trim())).toBe(SIZE);
    expect(r.out.split(' ')[0]).toBe(expected.digest('hex'));
    // tcpdump reports its count on stderr at SIGINT; stdout holds the packets, if any.
    expect(fragments.trim()).toBe('');
    expect(/(\d+) packets? captured/.exec(dumpErr)?.[1], dumpErr).toBe('0');
    const after = status().stats.tcp.pathMtuDecreases;
    expect(after).toBeGreaterThanOrEqual(before + 1);
    process.stderr.write(
      `pmtu: ${SIZE} bytes in ${seconds.toFixed(1)} s, pathMtuDecreases ${before} -> ${after}\n`,
    );
  }, 60_000);
});
