/**
 * `pktstack resolve` over IPv6 against dnsmasq on the kernel side of tap0 (fd00::1), in a
 * namespace of our own: AAAA and A answers asked over UDP/IPv6, a CNAME, NODATA and NXDOMAIN,
 * an answer too big for UDP (TC) reported as such, the server learnt from dnsmasq's router
 * advertisements (RDNSS, --enable-ra) with a SLAAC address, and an address with nothing on port
 * 53 refused by the kernel's ICMPv6. dnsmasq's query log shows each question came to it, and
 * from which of our addresses.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runToEnd, skipReason, up, type Lab } from './dhcp-lab.js';

const skip = skipReason();
if (skip !== null) console.warn(`test/kernel/dns6.test.ts skipped: ${skip}`);

function resolve(lab: Lab, args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'resolve', ...args, '--tap', 'tap0', '--netns', lab.ns],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return runToEnd(child, 40_000);
}

const STATIC = ['--ip6', 'fd00::2/64', '--dns', 'fd00::1'];

describe.skipIf(skip !== null)('pktstack resolve over IPv6 against dnsmasq (kernel)', () => {
  let lab: Lab;
  let hostsDir = '';
  beforeAll(async () => {
    // 40 AAAA records for one name: more than fits the 512 bytes of a reply without EDNS.
    hostsDir = mkdtempSync(join(tmpdir(), 'pkt-dns6-'));
    const hosts = join(hostsDir, 'hosts');
    writeFileSync(
      hosts,
      Array.from({ length: 40 }, (_, i) => `fd00::1:${i + 1} big.test\n`).join(''),
    );
    lab = await up({
      ipv6: true,
      extra: [
        `--addn-hosts=${hosts}`,
        '--host-record=dual.test,10.0.0.7,fd00::7',
        '--host-record=v6only.test,fd00::8',
        '--host-record=rdnss.test,fd00::9',
        '--cname=www6.test,dual.test',
      ],
    });
  });
  afterAll(() => {
    lab?.down();
    if (hostsDir !== '') rmSync(hostsDir, { recursive: true, force: true });
  });

  it('asks fd00::1 for AAAA over IPv6 and prints the address', async () => {
    const r = await resolve(lab, ['dual.test', '--type', 'AAAA', ...STATIC]);
    expect([r.code, r.stderr, r.stdout]).toEqual([0, '', 'fd00::7\n']);
    expect(lab.log()).toContain('query[AAAA] dual.test from fd00::2');
  });

  it('asks the IPv6 server for A records too', async () => {
    const r = await resolve(lab, ['dual.test', ...STATIC]);
    expect([r.code, r.stdout]).toEqual([0, '10.0.0.7\n']);
    expect(lab.log()).toContain('query[A] dual.test from fd00::2');
  });

  it('follows a CNAME to the AAAA record', async () => {
    const r = await resolve(lab, ['www6.test', '--type', 'aaaa', ...STATIC]);
    expect([r.code, r.stdout]).toEqual([0, 'fd00::7\n']);
    expect(lab.log()).toContain('query[AAAA] www6.test from fd00::2');
  });

  it('reports NODATA (an A record, no AAAA) and NXDOMAIN as one line, exit 1', async () => {
    const nodata = await resolve(lab, ['host.test', '--type', 'AAAA', ...STATIC]);
    expect([nodata.code, nodata.stdout, nodata.stderr]).toEqual([
      1,
      '',
      'pktstack: queryAaaa ENODATA host.test\n',
    ]);
    const nx = await resolve(lab, ['nx.test', '--type', 'AAAA', ...STATIC]);
    expect([nx.code, nx.stderr]).toEqual([1, 'pktstack: queryAaaa ENOTFOUND nx.test\n']);
    expect(lab.log()).toContain('query[AAAA] nx.test from fd00::2');
  });

  it('a truncated (TC) answer over IPv6 is a typed EBADRESP at once (no DNS over TCP yet)', async () => {
    const r = await resolve(lab, ['big.test', '--type', 'AAAA', ...STATIC]);
    expect([r.code, r.stdout, r.stderr]).toEqual([
      1,
      '',
      'pktstack: queryAaaa EBADRESP big.test (response truncated: TC set, and TCP fallback is not supported)\n',
    ]);
    expect(lab.log()).toContain('query[AAAA] big.test from fd00::2');
  });

  it('with --slaac and no --dns, asks the RDNSS server of the router advertisement', async () => {
    const r = await resolve(lab, ['rdnss.test', '--type', 'AAAA', '--slaac']);
    expect([r.code, r.stderr, r.stdout]).toEqual([0, '', 'fd00::9\n']);
    // From the address SLAAC formed in the advertised prefix, not a configured one.
    const from = /query\[AAAA\] rdnss\.test from (\S+)/.exec(lab.log())?.[1];
    expect(from).toMatch(/^fd00::[0-9a-f:]+$/);
    expect(from).not.toBe('fd00::2');
  });

  it('fails at once with ECONNREFUSED when the kernel answers ICMPv6 port unreachable', async () => {
    // dnsmasq bound the addresses tap0 had when it started (--bind-interfaces), not this one.
    execFileSync('ip', ['-n', lab.ns, '-6', 'addr', 'add', 'fd00::3/64', 'dev', 'tap0', 'nodad']);
    const started = Date.now();
    const r = await resolve(lab, [
      'dual.test',
      '--type',
      'AAAA',
      '--ip6',
      'fd00::2/64',
      '--dns',
      'fd00::3',
      '--attempts',
      '1',
      '--timeout',
      '20000',
    ]);
    expect([r.code, r.stderr]).toEqual([
      1,
      'pktstack: queryAaaa ECONNREFUSED dual.test (server port unreachable)\n',
    ]);
    // Well before the 20 s the try would have waited for an answer.
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
