/**
 * The DHCP client against dnsmasq on the kernel side of tap0, in a namespace of our own, with
 * the stack running in this process (the TAP is opened inside the namespace). A 2-minute lease
 * (dnsmasq's minimum) is renewed at T1 = 60 s, and dnsmasq's log shows the renewal. This is the
 * one slow test (~62 s); the rest of the lease timeline (T2, expiry, NAK, DECLINE) runs on the
 * virtual clock in test/runtime/dhcp/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/runtime/clock/real.js';
import { openTap } from '../../src/runtime/link/tap.js';
import { createStack, type Stack } from '../../src/runtime/stack.js';
import { attachDhcp, type AttachedDhcp, type DhcpEvent } from '../../src/runtime/dhcp/index.js';
import { createStackResolver } from '../../src/runtime/dns/stack-transport.js';
import { formatIpv4 } from '../../src/codec/address.js';
import { skipReason, up, type Lab } from './dhcp-lab.js';

const skip = skipReason();
if (skip !== null) console.warn(`test/kernel/dhcp.test.ts skipped: ${skip}`);

describe.skipIf(skip !== null)('DHCP client against dnsmasq (kernel)', () => {
  let lab: Lab;
  let stack: Stack | null = null;
  let dhcp: AttachedDhcp | null = null;
  beforeAll(async () => {
    lab = await up('2m');
  });
  afterAll(async () => {
    dhcp?.stop(false);
    await stack?.close();
    lab?.down();
  });

  it('obtains a lease, resolves through the leased DNS server, renews at T1', async () => {
    const clock = new RealClock();
    const link = await openTap({ name: 'tap0', netns: lab.ns });
    stack = createStack({ link, clock });
    const resolver = createStackResolver(stack, { timeoutMs: 1000 });
    const events: Array<{ at: number; event: DhcpEvent }> = [];
    let renewed: () => void = () => undefined;
    const renewal = new Promise<void>((r) => (renewed = r));
    dhcp = attachDhcp(stack, {
      hostname: 'pkt-kernel-test',
      setDnsServers: (s) => resolver.setServers(s),
      onEvent: (event) => {
        events.push({ at: clock.now(), event });
        if (event.type === 'renewed') renewed();
      },
    });
    dhcp.start();
    const lease = await dhcp.firstLease;
    const ip = formatIpv4(lease.address);
    expect(ip).toMatch(/^10\.0\.0\.(5\d|60)$/);
    expect(lease).toMatchObject({
      netmask: 0xffffff00,
      gateway: 0x0a000001,
      dns: [0x0a000001],
      serverId: 0x0a000001,
      leaseTime: 120,
      renewalTime: 60,
      rebindingTime: 105,
    });
    expect(stack.address).toBe(lease.address);
    expect(lab.log()).toMatch(
      new RegExp(`DHCPACK\\(tap0\\) ${ip.replace(/\./g, '\\.')} \\S+ pkt-kernel-test`),
    );

    expect(await resolver.resolve4('host.test')).toEqual(['10.0.0.7']);
    expect(lab.log()).toContain(`query[A] host.test from ${ip}`);

    await renewal;
    const renewedAt = events.find((e) => e.event.type === 'renewed')!.at;
    // T1 counts from when the REQUEST went out (RFC 2131 §4.4.1).
    expect((renewedAt - lease.startedAt) / 1000).toBeGreaterThanOrEqual(60);
    expect((renewedAt - lease.startedAt) / 1000).toBeLessThan(63);
    const requests = lab
      .log()
      .match(new RegExp(`DHCPREQUEST\\(tap0\\) ${ip.replace(/\./g, '\\.')}`, 'g'));
    const acks = lab.log().match(new RegExp(`DHCPACK\\(tap0\\) ${ip.replace(/\./g, '\\.')}`, 'g'));
    expect(requests).toHaveLength(2);
    expect(acks).toHaveLength(2);
    expect(events.map((e) => e.event.type)).toEqual(['bound', 'renewed']);
    expect(stack.address).toBe(lease.address);
    resolver.close();
  }, 90_000);

  it('INIT-REBOOT: a foreign address is NAKed (then DISCOVER), a known one is ACKed directly', async () => {
    const auth = await up('2m', ['--dhcp-authoritative']);
    const clock = new RealClock();
    const boot = async (remembered: number) => {
      const link = await openTap({ name: 'tap0', netns: auth.ns });
      const s = createStack({ link, clock });
      const events: DhcpEvent[] = [];
      const d = attachDhcp(s, {
        rememberedAddress: remembered,
        probe: { probes: 1, intervalMs: 100, waitMs: 300 },
        onEvent: (e) => events.push(e),
      });
      d.start();
      const lease = await d.firstLease;
      d.stop(false); // keep the lease at the server, as a reboot would
      await s.close();
      return { lease, events };
    };
    try {
      const first = await boot(0x0a0000c8); // 10.0.0.200: outside dnsmasq's range
      expect(first.events.map((e) => e.type)).toEqual(['nak', 'bound']);
      const ip = formatIpv4(first.lease.address);
      expect(ip).toMatch(/^10\.0\.0\.(5\d|60)$/);
      expect(auth.log()).toMatch(/DHCPNAK\(tap0\) 10\.0\.0\.200/);
      const discovers = (auth.log().match(/DHCPDISCOVER/g) ?? []).length;

      const second = await boot(first.lease.address);
      expect(second.events.map((e) => e.type)).toEqual(['bound']);
      expect(second.lease.address).toBe(first.lease.address);
      expect((auth.log().match(/DHCPDISCOVER/g) ?? []).length).toBe(discovers);
    } finally {
      auth.down();
    }
  }, 30_000);
});
