/**
 * IPv6 against the real Linux kernel: a namespace of our own with IPv6 on holds tap0; the stack
 * runs as fd00::2/64 (and its link-local address) and the kernel, fd00::1/64, pings it, asks
 * for its link address with ndisc6 and sees its DAD probes, router solicitations and MLD
 * reports. tshark reads the capture of all of it. Needs root; skipped otherwise.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Netns,
  isRoot,
  must,
  startIpv6Stack,
  startStack,
  until,
  type RunningStack,
} from '../http/kernel-lab.js';

const NS = `pkt-ipv6-k${process.pid}`;

function pingReceived(out: string): number {
  const m = /(\d+) received/.exec(out);
  return m === null ? -1 : Number(m[1]);
}

describe.skipIf(!isRoot)('IPv6 on a TAP, talking to the kernel', () => {
  let ns: Netns;
  let running: RunningStack | undefined;
  let dir = '';
  let pcap = '';
  let linkLocal = '';
  let mac = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pkt-ipv6-k-'));
    pcap = join(dir, 'run.pcap');
    ns = Netns.dualStack(NS);
    const lab = await startIpv6Stack(ns, ['--pcap', pcap]);
    running = lab.running;
    mac = lab.mac;
    linkLocal = lab.linkLocal;
  }, 40_000);

  afterAll(async () => {
    await running?.stop();
    ns?.destroy();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('reports its link-local (RFC 7217, no MAC in it) and static addresses as preferred after DAD', () => {
    expect(linkLocal).toMatch(/^fe80::/);
    const events = (running?.events ?? []).filter((e) => e.event === 'ipv6.address');
    expect(events.map((e) => [e.address, e.state])).toEqual(
      expect.arrayContaining([
        [`${linkLocal}/64`, 'tentative'],
        [`${linkLocal}/64`, 'preferred'],
        ['fd00::2/64', 'tentative'],
        ['fd00::2/64', 'preferred'],
      ]),
    );
  });

  it.each([
    ['global', 56],
    ['global', 1452],
    ['global', 4000],
    ['link-local', 56],
    ['link-local', 1452],
    ['link-local', 4000],
  ])('answers ping -6 to the %s address at %i bytes (4000: fragmented)', (which, size) => {
    const target = which === 'global' ? 'fd00::2' : `${linkLocal}%tap0`;
    const r = ns.runWithin(
      20_000,
      'ping',
      '-6',
      '-n',
      '-q',
      '-c',
      '5',
      '-i',
      '0.2',
      '-W',
      '2',
      '-s',
      String(size),
      target,
    );
    expect(pingReceived(r.out)).toBe(5);
  });

  it('answers ping -6 to all-nodes (ff02::1)', () => {
    const r = ns.runWithin(
      20_000,
      'ping',
      '-6',
      '-n',
      '-c',
      '3',
      '-i',
      '0.2',
      '-W',
      '2',
      'ff02::1%tap0',
    );
    // The kernel answers too: our replies come from the link-local address.
    expect(r.out).toContain(`from ${linkLocal}`);
  });

  it('answers ndisc6 with its MAC, and the kernel holds it as a neighbor', async () => {
    const r = ns.runWithin(20_000, 'ndisc6', '-1', '-r', '3', 'fd00::2', 'tap0');
    expect(r.out.toLowerCase()).toContain(mac.toLowerCase());
    const ll = ns.runWithin(20_000, 'ndisc6', '-1', '-r', '3', linkLocal, 'tap0');
    expect(ll.out.toLowerCase()).toContain(mac.toLowerCase());
    const neigh = ns.run('ip', '-6', 'neigh', 'show', 'dev', 'tap0');
    expect(neigh.out).toMatch(
      new RegExp(`fd00::2 lladdr ${mac} (REACHABLE|STALE|DELAY|PROBE)`, 'i'),
    );
    // Our side logged the kernel as a neighbor (its solicitations carried its MAC), and the
    // states that followed. The spawnSync calls above kept our event loop from reading them.
    const seen = (): unknown[] =>
      (running?.events ?? [])
        .filter((e) => e.event === 'ipv6.neighbor' && e.address === 'fd00::1')
        .map((e) => e.state);
    await until(() => seen().length >= 2, 10_000);
    expect(seen()).toEqual(expect.arrayContaining(['STALE', 'DELAY']));
  });

  it('stays silent to rdisc6: a host sends no router advertisement (RFC 4861 §6.2.6)', () => {
    const r = ns.runWithin(20_000, 'rdisc6', '-1', '-r', '2', '-w', '500', 'tap0');
    expect(r.code).not.toBe(0);
    expect(r.out + r.err).toMatch(/[Nn]o response/);
    // Asked directly at our link-local address, too.
    const direct = ns.runWithin(20_000, 'rdisc6', '-1', '-r', '2', '-w', '500', linkLocal, 'tap0');
    expect(direct.code).not.toBe(0);
  });

  it('keeps answering ping through a flood of 3000 neighbor solicitations and 3000 stray fragments', () => {
    const flood = ns.runWithin(
      120_000,
      '/usr/bin/python3',
      join(import.meta.dirname, 'ipv6-flood.py'),
      'tap0',
      mac,
      'fd00::2',
      '3000',
    );
    expect(flood.code, flood.err).toBe(0);
    const r = ns.runWithin(
      20_000,
      'ping',
      '-6',
      '-n',
      '-q',
      '-c',
      '5',
      '-i',
      '0.2',
      '-W',
      '2',
      '-s',
      '4000',
      'fd00::2',
    );
    expect(pingReceived(r.out)).toBe(5);
  });

  it('leaves a capture tshark reads without a malformed packet: DAD, RS, MLDv2, NS/NA, echo', async () => {
    const stack = running;
    await stack?.stop();
    running = undefined;
    // The flood above stayed within the bounds: 256 neighbors, 1 MiB / 64 packets of reassembly.
    const down = stack?.events.find((e) => e.event === 'down') as
      | {
          stats: {
            nd: { entries: number; evicted: number };
            ipv6Reassembly: { bytes: number; packets: number };
            ipv6: { drops: { reassemblyMemory: number } };
          };
        }
      | undefined;
    expect(down?.stats.nd.entries).toBeLessThanOrEqual(256);
    expect(down?.stats.nd.evicted).toBeGreaterThan(2000);
    expect(down?.stats.ipv6Reassembly.bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(down?.stats.ipv6Reassembly.packets).toBeLessThanOrEqual(64);
    expect(down?.stats.ipv6.drops.reassemblyMemory).toBeGreaterThan(2000);
    const tshark = (filter: string): string[] =>
      spawnSync('tshark', ['-r', pcap, '-n', '-Y', filter, '-T', 'fields', '-e', 'frame.number'], {
        encoding: 'utf8',
      })
        .stdout.split('\n')
        .filter((l) => l !== '');
    const ours = `eth.src == ${mac}`;
    expect(tshark('_ws.malformed || _ws.expert.severity >= error')).toEqual([]);
    expect(tshark(`${ours} && icmpv6.type == 135 && ipv6.src == ::`).length).toBeGreaterThanOrEqual(
      2,
    );
    expect(tshark(`${ours} && icmpv6.type == 133`).length).toBeGreaterThanOrEqual(1);
    expect(
      tshark(
        `${ours} && icmpv6.type == 143 && ipv6.dst == ff02::16 && ipv6.hlim == 1 && ipv6.opt.router_alert`,
      ).length,
    ).toBeGreaterThanOrEqual(1);
    expect(
      tshark(`${ours} && icmpv6.type == 136 && icmpv6.nd.na.flag.s == 1`).length,
    ).toBeGreaterThanOrEqual(1);
    expect(
      tshark(`${ours} && icmpv6.type == 129 && icmpv6.checksum.status == 1`).length,
    ).toBeGreaterThanOrEqual(20);
  });
});

describe.skipIf(!isRoot)('SLAAC and RDNSS from a real router (dnsmasq --enable-ra)', () => {
  const name = `pkt-ipv6-ra${process.pid}`;
  let ns: Netns;
  let running: RunningStack | undefined;
  let dnsmasq: ChildProcess | undefined;

  beforeAll(async () => {
    ns = Netns.dualStack(name);
    must(ns.run('sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1'), 'forwarding');
    running = await startStack(ns, [
      '--tap',
      'tap0',
      '--ip',
      '10.0.0.2/24',
      '--host-ip',
      '10.0.0.1/24',
      '--slaac',
    ]);
    must(ns.run('ip', '-6', 'addr', 'add', 'fd00::1/64', 'dev', 'tap0', 'nodad'), 'ip -6 addr');
    dnsmasq = ns.spawn('dnsmasq', [
      '--no-daemon',
      '--conf-file=/dev/null',
      '--interface=tap0',
      '--bind-interfaces',
      '--port=0',
      '--enable-ra',
      '--dhcp-range=::,constructor:tap0,ra-stateless,64,1h',
      '--dhcp-option=option6:dns-server,[fd00::1]',
      '--pid-file=',
    ]);
    await until(
      () =>
        (running?.events ?? []).some(
          (e) => e.event === 'ipv6.address' && e.origin === 'slaac' && e.state === 'preferred',
        ),
      20_000,
    );
  }, 40_000);

  afterAll(async () => {
    await running?.stop();
    if (dnsmasq?.pid !== undefined && dnsmasq.exitCode === null) dnsmasq.kill('SIGTERM');
    ns?.destroy();
  });

  it('forms a stable (RFC 7217) address in the advertised prefix, learns the router and RDNSS', () => {
    const events = running?.events ?? [];
    const router = events.find((e) => e.event === 'ipv6.router');
    expect(router).toMatchObject({ prefixes: 'fd00::/64', dns: 'fd00::1' });
    expect(Number(router?.lifetimeS)).toBeGreaterThan(0);
    const slaac = events.find(
      (e) => e.event === 'ipv6.address' && e.origin === 'slaac' && e.state === 'preferred',
    );
    const address = String(slaac?.address).split('/')[0];
    expect(address).toMatch(/^fd00::/);
    // Not EUI-64: no ff:fe in the middle of the interface identifier.
    expect(address).not.toMatch(/ff:fe/);
    const r = ns.runWithin(
      20_000,
      'ping',
      '-6',
      '-n',
      '-q',
      '-c',
      '3',
      '-i',
      '0.2',
      '-W',
      '2',
      address,
    );
    expect(pingReceived(r.out)).toBe(3);
  });
});
