/**
 * The DHCP client against dnsmasq on the kernel side of tap0, in namespaces of our own, with
 * the stack running in this process (the TAP is opened inside the namespace). A 2-minute lease
 * (dnsmasq's minimum) is renewed at T1 = 60 s, and dnsmasq's log shows the renewal: the one
 * slow test (~62 s). INIT-REBOOT and DECLINE take a second or two each; the rest of the lease
 * timeline (T2, expiry, silence) runs on the virtual clock in test/runtime/dhcp/.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/runtime/clock/real.js';
import { openTap } from '../../src/runtime/link/tap.js';
import { createStack, type Stack } from '../../src/runtime/stack.js';
import {
  attachDhcp,
  type AttachDhcpOptions,
  type AttachedDhcp,
  type DhcpEvent,
} from '../../src/runtime/dhcp/index.js';
import { createStackResolver } from '../../src/runtime/dns/stack-transport.js';
import { formatIpv4 } from '../../src/codec/address.js';
import { downAll, skipReason, up, within, type Lab } from './dhcp-lab.js';

const skip = skipReason();
if (skip !== null) console.warn(`test/kernel/dhcp.test.ts skipped: ${skip}`);

const clock = new RealClock();
const SERVER = 0x0a000001;

/** A stack with DHCP on the lab's tap0, recording events with their times. */
class Client {
  readonly events: Array<{ at: number; event: DhcpEvent }> = [];
  private waiters: Array<() => void> = [];
  dhcp!: AttachedDhcp;

  private constructor(readonly stack: Stack) {}

  static async open(lab: Lab, options: AttachDhcpOptions = {}): Promise<Client> {
    const link = await openTap({ name: 'tap0', netns: lab.ns });
    const c = new Client(createStack({ link, clock }));
    open.add(c);
    c.dhcp = attachDhcp(c.stack, {
      ...options,
      onEvent: (event) => {
        c.events.push({ at: clock.now(), event });
        for (const w of c.waiters.splice(0)) w();
        options.onEvent?.(event);
      },
    });
    c.dhcp.start();
    return c;
  }

  types(): string[] {
    return this.events.map((e) => e.event.type);
  }

  /**
   * The events without 'retrying': a retransmitted DISCOVER/REQUEST is correct behaviour (the
   * first one can leave before dnsmasq or the TAP's carrier is ready), not a failure.
   */
  settledTypes(): string[] {
    return this.types().filter((t) => t !== 'retrying');
  }

  /** The first event of `type`, waiting up to `ms` for it. */
  async next(type: DhcpEvent['type'], ms: number): Promise<{ at: number; event: DhcpEvent }> {
    const find = () => this.events.find((e) => e.event.type === type);
    const wait = async () => {
      while (find() === undefined) await new Promise<void>((r) => this.waiters.push(r));
      return find()!;
    };
    return within(wait(), ms, `DHCP event ${type} (saw ${this.types().join(', ')})`);
  }

  /** Stops without RELEASE (like a reboot) and closes the stack. */
  async close(): Promise<void> {
    open.delete(this);
    this.dhcp.stop(false);
    await this.stack.close();
  }
}

const open = new Set<Client>();

function ipPattern(ip: string): string {
  return ip.replace(/\./g, '\\.');
}

describe.skipIf(skip !== null)('DHCP client against dnsmasq (kernel)', () => {
  afterAll(async () => {
    for (const c of [...open]) await c.close();
    downAll();
  });

  it('obtains a lease, resolves through the leased DNS server, renews at T1', async () => {
    const lab = await up();
    let resolverServers: number[] = [];
    const c = await Client.open(lab, {
      hostname: 'pkt-kernel-test',
      setDnsServers: (s) => (resolverServers = s),
    });
    const lease = await within(c.dhcp.firstLease, 20_000, 'a lease');
    const ip = formatIpv4(lease.address);
    expect(ip).toMatch(/^10\.0\.0\.(5\d|60)$/);
    expect(lease).toMatchObject({
      netmask: 0xffffff00,
      gateway: SERVER,
      dns: [SERVER],
      serverId: SERVER,
      leaseTime: 120,
      renewalTime: 60,
      rebindingTime: 105,
    });
    expect(c.stack.address).toBe(lease.address);
    expect(lab.log()).toMatch(
      new RegExp(`DHCPACK\\(tap0\\) ${ipPattern(ip)} \\S+ pkt-kernel-test`),
    );

    const resolver = createStackResolver(c.stack, { servers: resolverServers, timeoutMs: 1000 });
    expect(await resolver.resolve4('host.test')).toEqual(['10.0.0.7']);
    expect(lab.log()).toContain(`query[A] host.test from ${ip}`);
    resolver.close();

    const renewed = await c.next('renewed', 75_000);
    // T1 counts from when the REQUEST went out (RFC 2131 §4.4.1).
    const afterRequest = (renewed.at - lease.startedAt) / 1000;
    expect(afterRequest).toBeGreaterThanOrEqual(60);
    expect(afterRequest).toBeLessThan(63);
    const log = lab.log();
    expect(log.match(new RegExp(`DHCPREQUEST\\(tap0\\) ${ipPattern(ip)}`, 'g'))).toHaveLength(2);
    expect(log.match(new RegExp(`DHCPACK\\(tap0\\) ${ipPattern(ip)}`, 'g'))).toHaveLength(2);
    expect(c.settledTypes()).toEqual(['bound', 'renewed']);
    expect(c.stack.address).toBe(lease.address);
    await c.close();
  }, 90_000);

  it('INIT-REBOOT: a foreign address is NAKed (then DISCOVER), a known one is ACKed directly', async () => {
    const lab = await up({ extra: ['--dhcp-authoritative'] });
    const fast = { probe: { probes: 1, intervalMs: 100, waitMs: 300 } };
    const first = await Client.open(lab, { ...fast, rememberedAddress: 0x0a0000c8 }); // .200
    const lease = await within(first.dhcp.firstLease, 20_000, 'a lease after the NAK');
    await first.close(); // no RELEASE: the server keeps the lease, as after a reboot
    expect(first.settledTypes()).toEqual(['nak', 'bound']);
    expect(formatIpv4(lease.address)).toMatch(/^10\.0\.0\.(5\d|60)$/);
    expect(lab.log()).toMatch(/DHCPNAK\(tap0\) 10\.0\.0\.200/);
    const discovers = (lab.log().match(/DHCPDISCOVER/g) ?? []).length;

    const second = await Client.open(lab, { ...fast, rememberedAddress: lease.address });
    const again = await within(second.dhcp.firstLease, 20_000, 'the remembered lease');
    await second.close();
    expect(second.settledTypes()).toEqual(['bound']);
    expect(again.address).toBe(lease.address);
    expect((lab.log().match(/DHCPDISCOVER/g) ?? []).length).toBe(discovers);
  }, 30_000);

  it('declines an address the kernel side already uses (its ARP answers the probe)', async () => {
    // A one-address range whose address the kernel also holds (on lo: Linux answers ARP for
    // any of its addresses on any interface by default).
    const lab = await up({ range: '10.0.0.70,10.0.0.70' });
    execFileSync('ip', ['-n', lab.ns, 'addr', 'add', '10.0.0.70/32', 'dev', 'lo']);
    const c = await Client.open(lab);
    const declined = await c.next('declined', 20_000);
    await c.close();
    expect(declined.event).toEqual({ type: 'declined', address: 0x0a000046, serverId: SERVER });
    expect(c.stack.address).toBe(0);
    // dnsmasq writes its log as it goes: give it a moment to record the DECLINE.
    for (let i = 0; i < 40 && !lab.log().includes('DHCPDECLINE'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(lab.log()).toMatch(/DHCPDECLINE\(tap0\) 10\.0\.0\.70/);
  }, 30_000);
});
