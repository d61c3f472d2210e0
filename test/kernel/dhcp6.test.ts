/**
 * The DHCPv6 client against a real server: dnsmasq on the kernel side of tap0 in a dual-stack
 * namespace of our own, sending router advertisements (`--enable-ra`).
 *
 * - Stateful (`dhcp-range=fd00::100,fd00::1ff,64,2m`: the RA's M flag): `pktstack run --dhcp6`
 *   gets an address from dnsmasq (its log shows the exchange), the kernel pings it with
 *   `ping -6`, the lease is renewed at T1 (dnsmasq logs the Renew) and released on SIGTERM.
 * - Stateless (`ra-stateless`: the O flag) with `dhcp-option=option6:dns-server,...`: an
 *   Information-Request gets the DNS servers.
 *
 * Needs root and dnsmasq (scripts/install.sh); skipped otherwise.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Netns,
  isRoot,
  must,
  startIpv6Stack,
  until,
  type RunningStack,
} from '../http/kernel-lab.js';

const hasDnsmasq = spawnSync('dnsmasq', ['--version']).status === 0;
const skip = !isRoot ? 'needs root' : !hasDnsmasq ? 'dnsmasq is not installed' : null;
if (skip !== null) console.warn(`test/kernel/dhcp6.test.ts skipped: ${skip}`);

function pingReceived(out: string): number {
  const m = /(\d+) received/.exec(out);
  return m === null ? -1 : Number(m[1]);
}

/** A namespace, the stack in it (`run --dhcp6 ...`), and dnsmasq with `args` on tap0. */
class Lab {
  ns!: Netns;
  running: RunningStack | undefined;
  dnsmasq: ChildProcess | undefined;
  dir = '';
  pcap = '';
  mac = '';
  linkLocal = '';

  async up(name: string, stackArgs: string[], dnsmasqArgs: string[]): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), `${name}-`));
    this.ns = Netns.dualStack(name);
    must(this.ns.run('sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1'), 'forwarding');
    this.pcap = join(this.dir, 'run.pcap');
    const lab = await startIpv6Stack(this.ns, [...stackArgs, '--pcap', this.pcap]);
    this.running = lab.running;
    this.mac = lab.mac;
    this.linkLocal = lab.linkLocal;
    this.dnsmasq = this.ns.spawn('dnsmasq', [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--interface=tap0',
      '--bind-interfaces',
      '--port=0',
      '--enable-ra',
      '--log-dhcp',
      `--log-facility=${join(this.dir, 'dnsmasq.log')}`,
      `--dhcp-leasefile=${join(this.dir, 'leases')}`,
      `--pid-file=${join(this.dir, 'dnsmasq.pid')}`,
      '--user=root',
      '--group=root',
      ...dnsmasqArgs,
    ]);
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'dnsmasq.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async down(): Promise<void> {
    await this.running?.stop();
    if (this.dnsmasq?.pid !== undefined && this.dnsmasq.exitCode === null)
      this.dnsmasq.kill('SIGTERM');
    this.ns?.destroy();
    if (this.dir !== '') rmSync(this.dir, { recursive: true, force: true });
  }
}

describe.skipIf(skip !== null)('DHCPv6 stateful against dnsmasq (kernel)', () => {
  const lab = new Lab();
  let lease: Record<string, unknown> = {};
  let address = '';

  beforeAll(async () => {
    await lab.up(
      `pkt-dhcp6-s${process.pid}`,
      ['--dhcp6'],
      ['--dhcp-range=fd00::100,fd00::1ff,64,2m', '--dhcp-option=option6:dns-server,[fd00::53]'],
    );
    lease = await lab.running!.waitFor('dhcp6.lease', 30_000);
    address = String((lease.addresses as string[])[0]).split('/')[0];
  }, 60_000);

  afterAll(async () => {
    await lab.down();
  });

  it('the RA M flag starts it stateful; dnsmasq leases an address in its range, with DNS servers', () => {
    const events = lab.running!.events;
    expect(events.find((e) => e.event === 'ipv6.router')).toMatchObject({ managed: true });
    expect(events.find((e) => e.event === 'dhcp6.start')).toMatchObject({ mode: 'stateful' });
    expect(address).toMatch(/^fd00::1[0-9a-f]{2}$/);
    expect(lease).toMatchObject({ dns: ['fd00::53'], valid: [120] });
    expect(Number(lease.t1)).toBeGreaterThan(0);
    // dnsmasq's own account: it saw our Solicit and Request and replied with that address.
    const log = lab.log();
    expect(log).toMatch(/DHCPSOLICIT\(tap0\)/);
    expect(log).toMatch(/DHCPREQUEST\(tap0\)/);
    expect(log).toContain(`DHCPREPLY(tap0) ${address}`);
    // The address went to the IPv6 layer as a /128 and passed DAD before the lease was logged.
    const at = (f: (e: Record<string, unknown>) => boolean): number => events.findIndex(f);
    const tentative = at(
      (e) =>
        e.event === 'ipv6.address' && e.address === `${address}/128` && e.state === 'tentative',
    );
    const preferred = at(
      (e) =>
        e.event === 'ipv6.address' &&
        e.address === `${address}/128` &&
        e.state === 'preferred' &&
        e.origin === 'dhcpv6',
    );
    const leased = at((e) => e.event === 'dhcp6.lease');
    expect(tentative).toBeGreaterThanOrEqual(0);
    expect(preferred).toBeGreaterThan(tentative);
    expect(leased).toBeGreaterThan(preferred);
  });

  it('answers ping -6 from the namespace on the leased address', () => {
    const r = lab.ns.runWithin(
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
    expect(pingReceived(r.out), r.out + r.err).toBe(3);
  });

  it('renews with dnsmasq at T1', async () => {
    const renewed = await lab.running!.waitFor('dhcp6.renewed', 90_000);
    expect(renewed.addresses).toEqual([`${address}/128`]);
    expect(lab.log()).toMatch(/DHCPRENEW\(tap0\)/);
  }, 100_000);

  it('releases the lease on SIGTERM, leaving a capture tshark reads without a malformed packet', async () => {
    const code = await lab.running!.stop('SIGTERM');
    expect(code).toBe(0);
    // dnsmasq logs the Release it gets, unless it lost its own socket on tap0 (it then logs
    // "error binding DHCP socket", seen once in CI right after a renewal): the capture below
    // shows the Release we sent either way.
    const deaf = (): boolean => /error binding DHCP socket/.test(lab.log());
    await until(() => /DHCPRELEASE\(tap0\)/.test(lab.log()) || deaf(), 5_000).catch(
      (error: unknown) => {
        throw new Error(
          `${String(error)}; dnsmasq log:\n${lab.log()}\nevents: ${JSON.stringify(lab.running!.events.slice(-8))}`,
        );
      },
    );
    expect(lab.running!.events.find((e) => e.event === 'dhcp6.released')).toMatchObject({
      addresses: [`${address}/128`],
    });
    const tshark = (filter: string): string[] =>
      spawnSync(
        'tshark',
        ['-r', lab.pcap, '-n', '-Y', filter, '-T', 'fields', '-e', 'frame.number'],
        {
          encoding: 'utf8',
        },
      )
        .stdout.split('\n')
        .filter((l) => l !== '');
    const ours = `eth.src == ${lab.mac} && udp.srcport == 546 && udp.dstport == 547`;
    expect(tshark('_ws.malformed || _ws.expert.severity >= error')).toEqual([]);
    // Solicit 1, Request 3, Renew 5, Release 8: from our link-local address to ff02::1:2.
    for (const type of [1, 3, 5, 8])
      expect(
        tshark(
          `${ours} && dhcpv6.msgtype == ${type} && ipv6.src == ${lab.linkLocal} && ipv6.dst == ff02::1:2`,
        ).length,
        `message type ${type}`,
      ).toBeGreaterThanOrEqual(1);
    // Every one carries our DUID-LL and an elapsed time.
    const all = tshark(ours).length;
    expect(tshark(`${ours} && dhcpv6.duid.type == 3 && dhcpv6.elapsed_time`).length).toBe(all);
  });
});

describe.skipIf(skip !== null)('DHCPv6 stateless against dnsmasq (kernel)', () => {
  const lab = new Lab();

  beforeAll(async () => {
    await lab.up(
      `pkt-dhcp6-i${process.pid}`,
      ['--dhcp6'],
      [
        '--dhcp-range=::,constructor:tap0,ra-stateless,64,1h',
        '--dhcp-option=option6:dns-server,[fd00::53],[fd00::54]',
        '--dhcp-option=option6:domain-search,lab.test',
      ],
    );
  }, 60_000);

  afterAll(async () => {
    await lab.down();
  });

  it('the RA O flag starts it stateless; an Information-Request gets the DNS servers and domains', async () => {
    const info = await lab.running!.waitFor('dhcp6.info', 30_000);
    expect(info).toMatchObject({ dns: ['fd00::53', 'fd00::54'], domains: ['lab.test'] });
    const events = lab.running!.events;
    expect(events.find((e) => e.event === 'ipv6.router')).toMatchObject({
      managed: false,
      other: true,
    });
    expect(events.find((e) => e.event === 'dhcp6.start')).toMatchObject({ mode: 'stateless' });
    expect(events.some((e) => e.event === 'dhcp6.lease')).toBe(false);
    expect(lab.log()).toMatch(/DHCPINFORMATION-REQUEST\(tap0\)/);
  }, 40_000);
});
