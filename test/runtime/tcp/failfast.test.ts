/**
 * Connection attempts that cannot succeed end quickly, with Linux's errno, instead of after
 * ~2 minutes of SYN retransmissions: a stack that never touched `.tcp` still refuses with RST
 * (TCP is always there, as in the kernel); no route is ENETUNREACH at once; a neighbour that
 * ARP (or IPv6 Neighbor Discovery) never resolves is EHOSTUNREACH after the resolution's three
 * probes a second apart, as Linux reports it (a local host-unreachable about the queued SYN).
 * The `timeout` option only emits 'timeout', as node:net's does.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair } from '../../../src/runtime/link/memory.js';
import { createStack } from '../../../src/runtime/stack.js';
import { DAD_DONE_MS, IP_A, IP_B, IP6_B, makePair, runUntil } from './helpers.js';

function connectAndWait(
  p: { clock: VirtualClock },
  socket: NodeJS.EventEmitter,
  limitMs = 200_000,
) {
  const start = p.clock.now();
  const seen: { error: NodeJS.ErrnoException | null; at: number } = { error: null, at: -1 };
  socket.on('error', (e: NodeJS.ErrnoException) => {
    seen.error = e;
    seen.at = p.clock.now() - start;
  });
  // One turn of the event loop first: what fails "at once" fails before any time passes.
  return new Promise<void>((resolve) => setImmediate(resolve))
    .then(() => runUntil(p.clock, () => seen.error !== null, limitMs))
    .then(() => seen);
}

describe('failing connection attempts end at once or within the ARP retries', () => {
  it('answers a SYN with RST on a stack whose .tcp was never touched (ECONNREFUSED)', async () => {
    const clock = new VirtualClock();
    const [la, lb] = createMemoryLinkPair({ macA: 0x020000000001, macB: 0x020000000002, clock });
    const a = createStack({ link: la, clock, ip: `${IP_A}/24` });
    const b = createStack({ link: lb, clock, ip: `${IP_B}/24` });
    const c = a.tcp.connect({ host: IP_B, port: 80 });
    const seen = await connectAndWait({ clock }, c, 10_000);
    expect(seen.error?.code).toBe('ECONNREFUSED');
    expect(b.stats().icmp.unreachableSent).toBe(0);
    expect(b.hasTcp).toBe(true);
    expect(b.tcp.stats().resetsSent).toBe(1);
    expect(a.tcp.stats().icmpAborts).toBe(0);
  });

  it('fails with ENETUNREACH at once when no route leads to the destination', async () => {
    const p = makePair(1);
    const c = p.tcpA.connect({ host: '192.168.7.7', port: 80 });
    const seen = await connectAndWait(p, c);
    expect(seen.error?.code).toBe('ENETUNREACH');
    expect(seen.error?.syscall).toBe('connect');
    expect(seen.at).toBe(0);
    expect(p.a.stats().ipv4.drops.noRoute).toBe(0);
    expect(p.tcpA.stats().connections).toBe(0);
  });

  it('fails with EHOSTUNREACH after 3 ARP probes 1 s apart when nobody has the address', async () => {
    const p = makePair(2);
    const c = p.tcpA.connect({ host: '10.0.0.99', port: 80 });
    const seen = await connectAndWait(p, c);
    expect(seen.error?.code).toBe('EHOSTUNREACH');
    expect(seen.at).toBeGreaterThanOrEqual(3000);
    expect(seen.at).toBeLessThan(3100);
    expect(p.a.stats().arp.requestsSent).toBe(3);
    expect(p.tcpA.stats().icmpAborts).toBe(1);
    expect(p.tcpA.stats().connections).toBe(0);
  });

  it('fails an IPv6 attempt with EHOSTUNREACH when Neighbor Discovery gets no answer', async () => {
    const p = makePair(3, {}, {}, {}, { ipv6: true });
    await runUntil(p.clock, () => false, DAD_DONE_MS);
    const c = p.tcpA.connect({ host: 'fd00::99', port: 80 });
    const seen = await connectAndWait(p, c);
    expect(seen.error?.code).toBe('EHOSTUNREACH');
    expect(seen.at).toBeGreaterThanOrEqual(3000);
    expect(seen.at).toBeLessThan(3100);
    expect(p.tcpA.stats().connections).toBe(0);
  });

  it('fails an IPv6 attempt with ENETUNREACH at once without a route', async () => {
    const p = makePair(4, {}, {}, {}, { ipv6: true });
    await runUntil(p.clock, () => false, DAD_DONE_MS);
    const c = p.tcpA.connect({ host: '2001:db8::1', port: 80 });
    const seen = await connectAndWait(p, c);
    expect(seen.error?.code).toBe('ENETUNREACH');
    expect(seen.at).toBe(0);
    // The peer itself is still reachable.
    p.tcpB.listen(80, (s) => s.end());
    const ok = p.tcpA.connect({ host: IP6_B, port: 80 });
    let connected = false;
    ok.on('connect', () => (connected = true));
    await runUntil(p.clock, () => connected, 1000);
    expect(connected).toBe(true);
  });

  it("takes node:net's timeout option: 'timeout' is emitted, the attempt goes on", async () => {
    const p = makePair(5);
    // B's SYN-ACKs are lost for a while: the connect takes two retransmissions (1 s, 3 s).
    let lose = true;
    const send = p.linkB.send.bind(p.linkB);
    p.linkB.send = (bytes, offset, length) => (lose ? true : send(bytes, offset, length));
    p.tcpB.listen(80, (s) => s.end());
    const c = p.tcpA.connect({ host: IP_B, port: 80, timeout: 500 });
    const events: string[] = [];
    c.on('timeout', () => {
      events.push(`timeout@${p.clock.now()}`);
      lose = false;
    });
    c.on('connect', () => events.push('connect'));
    c.on('error', (e) => events.push(`error ${e.message}`));
    await runUntil(p.clock, () => events.includes('connect'), 10_000);
    expect(events[0]).toMatch(/^timeout@5\d\d$/);
    expect(events).toContain('connect');
    expect(events.some((e) => e.startsWith('error'))).toBe(false);
  });
});
