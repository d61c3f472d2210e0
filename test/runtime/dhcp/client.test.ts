import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DhcpClient,
  DhcpState,
  backoffDelayMs,
  type DhcpAction,
  type DhcpClientOptions,
  type DhcpEvent,
} from '../../../src/runtime/dhcp/client.js';
import { buildReply, ip, optU32, parseRequest, type ParsedRequest } from './fake-server.js';

const MAC = 0x020000000001;
const SERVER = ip('10.0.0.1');
const OFFERED = ip('10.0.0.50');
const BCAST = 0xffffffff;
const T = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7 };

/** Drives a client through time and messages, collecting what it does. */
class Harness {
  readonly client: DhcpClient;
  now = 0;
  sent: Array<{ req: ParsedRequest; src: number; dst: number; at: number }> = [];
  events: DhcpEvent[] = [];
  configured: Array<number | null> = [];
  probes: number[] = [];

  constructor(opts: Partial<DhcpClientOptions> = {}) {
    let seed = 1;
    // Deterministic stand-in for crypto randomness: xids differ, jitter is mid-range unless set.
    const rnd = (): number => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    this.client = new DhcpClient({
      mac: MAC,
      hostname: 'pkt',
      random: opts.random ?? rnd,
      ...opts,
    });
  }

  private collect(): void {
    for (const a of this.client.drain()) this.apply(a);
  }

  private apply(a: DhcpAction): void {
    if (a.type === 'send') {
      expect(a.srcPort).toBe(68);
      expect(a.dstPort).toBe(67);
      this.sent.push({ req: parseRequest(a.bytes), src: a.src, dst: a.dst, at: this.now });
    } else if (a.type === 'event') this.events.push(a.event);
    else if (a.type === 'configure')
      this.configured.push(a.lease === null ? null : a.lease.address);
    else this.probes.push(a.address);
  }

  start(): this {
    this.client.start(this.now);
    this.collect();
    return this;
  }

  /** Advances time to `t` ms, firing every timer due on the way. */
  advanceTo(t: number): void {
    while (this.client.nextTimeout() <= t) {
      this.now = Math.max(this.now, this.client.nextTimeout());
      this.client.tick(this.now);
      this.collect();
    }
    this.now = t;
  }

  deliver(bytes: Uint8Array): void {
    this.client.input(bytes, 0, bytes.length, this.now);
    this.collect();
  }

  probeResult(address: number, inUse: boolean): void {
    this.client.probeResult(address, inUse, this.now);
    this.collect();
  }

  last(): { req: ParsedRequest; src: number; dst: number; at: number } {
    return this.sent[this.sent.length - 1];
  }

  offer(extra: Partial<Parameters<typeof buildReply>[0]> = {}): Uint8Array {
    return buildReply({
      type: T.OFFER,
      xid: this.last().req.xid,
      chaddr: MAC,
      yiaddr: OFFERED,
      serverId: SERVER,
      lease: 120,
      mask: ip('255.255.255.0'),
      routers: [SERVER],
      dns: [SERVER, ip('10.0.0.2')],
      ...extra,
    });
  }

  ack(extra: Partial<Parameters<typeof buildReply>[0]> = {}): Uint8Array {
    return this.offer({ type: T.ACK, ...extra });
  }

  /** INIT → BOUND with a 120 s lease obtained at the current time. */
  bind(extra: Partial<Parameters<typeof buildReply>[0]> = {}): void {
    this.start();
    this.deliver(this.offer(extra));
    this.deliver(this.ack(extra));
    this.probeResult(OFFERED, false);
    expect(this.client.state).toBe(DhcpState.Bound);
  }
}

describe('DhcpClient: acquisition', () => {
  it('DISCOVER → OFFER → REQUEST → ACK → ARP check → BOUND, with the right fields and options', () => {
    const h = new Harness().start();
    const d = h.last();
    expect(d.req.type).toBe(T.DISCOVER);
    expect([d.src, d.dst]).toEqual([0, BCAST]);
    expect(d.req.flags & 0x8000).toBe(0x8000);
    expect(d.req.chaddr).toBe(MAC);
    expect(d.req.length).toBeGreaterThanOrEqual(300);
    expect([...d.req.options.get(61)!]).toEqual([1, 2, 0, 0, 0, 0, 1]);
    expect(new TextDecoder().decode(d.req.options.get(12))).toBe('pkt');
    expect([...d.req.options.get(55)!]).toEqual(expect.arrayContaining([1, 3, 6, 51, 58, 59]));
    expect(d.req.options.get(57)?.length).toBe(2);
    expect(h.client.state).toBe(DhcpState.Selecting);

    h.now = 300;
    h.deliver(h.offer());
    const r = h.last();
    expect(r.req.type).toBe(T.REQUEST);
    expect(r.req.xid).toBe(d.req.xid);
    expect([r.src, r.dst, r.req.ciaddr]).toEqual([0, BCAST, 0]);
    expect(optU32(r.req, 50)).toBe(OFFERED);
    expect(optU32(r.req, 54)).toBe(SERVER);
    expect(h.client.state).toBe(DhcpState.Requesting);

    h.now = 500;
    h.deliver(h.ack());
    expect(h.probes).toEqual([OFFERED]);
    expect(h.client.state).toBe(DhcpState.Checking);
    expect(h.configured).toEqual([]); // not before the ARP check
    h.now = 1500;
    h.probeResult(OFFERED, false);
    expect(h.client.state).toBe(DhcpState.Bound);
    expect(h.configured).toEqual([OFFERED]);
    const bound = h.events.find((e) => e.type === 'bound');
    expect(bound).toMatchObject({
      lease: {
        address: OFFERED,
        netmask: ip('255.255.255.0'),
        gateway: SERVER,
        dns: [SERVER, ip('10.0.0.2')],
        serverId: SERVER,
        leaseTime: 120,
        renewalTime: 60,
        rebindingTime: 105,
        startedAt: 300, // when the REQUEST went out, not when the ACK came (RFC 2131 §4.4.1)
      },
    });
    expect(h.client.nextTimeout()).toBe(300 + 60_000);
  });

  it('uses fresh random xids per transaction', () => {
    const h = new Harness();
    h.bind();
    h.advanceTo(h.client.nextTimeout()); // T1: renewing starts a new transaction
    const xids = new Set(h.sent.map((s) => s.req.xid));
    expect(xids.size).toBe(2); // DISCOVER+REQUEST share one, the renewal has another
  });

  it('retransmits DISCOVER after 4, 8, 16, 32, 64, 64 s (±1 s jitter) and reports each retry', () => {
    const h = new Harness({ random: () => 0.5 }).start();
    h.advanceTo(300_000);
    const times = h.sent.map((s) => s.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(gaps.slice(0, 7)).toEqual([4000, 8000, 16000, 32000, 64000, 64000, 64000]);
    expect(h.sent.every((s) => s.req.type === T.DISCOVER)).toBe(true);
    expect(new Set(h.sent.map((s) => s.req.xid)).size).toBe(1);
    expect(h.events.filter((e) => e.type === 'retrying')).toHaveLength(h.sent.length - 1);
    expect(h.last().req.secs).toBe(Math.floor(h.last().at / 1000));
  });

  it('keeps backoff jitter within ±1 s', () => {
    expect(backoffDelayMs(0, () => 0)).toBe(3000);
    expect(backoffDelayMs(0, () => 0.999999)).toBeCloseTo(5000, 0);
    expect(backoffDelayMs(3, () => 0)).toBe(31000);
    expect(backoffDelayMs(10, () => 0.5)).toBe(64000);
  });

  it('gives up REQUESTING after 4 unanswered REQUESTs and starts over with DISCOVER', () => {
    const h = new Harness({ random: () => 0.5 }).start();
    h.deliver(h.offer());
    h.advanceTo(4000 + 8000 + 16000 + 32000);
    const types = h.sent.map((s) => s.req.type);
    expect(types).toEqual([T.DISCOVER, T.REQUEST, T.REQUEST, T.REQUEST, T.REQUEST, T.DISCOVER]);
    expect(h.events.some((e) => e.type === 'gave-up' && e.state === DhcpState.Requesting)).toBe(
      true,
    );
    expect(h.client.state).toBe(DhcpState.Selecting);
  });

  it('sends DECLINE when the ARP probe finds the address in use, then restarts after 10 s', () => {
    const h = new Harness().start();
    h.deliver(h.offer());
    h.deliver(h.ack());
    h.now = 2000;
    h.probeResult(OFFERED, true);
    const decline = h.last();
    expect(decline.req.type).toBe(T.DECLINE);
    expect([decline.src, decline.dst]).toEqual([0, BCAST]);
    expect(optU32(decline.req, 50)).toBe(OFFERED);
    expect(optU32(decline.req, 54)).toBe(SERVER);
    expect(decline.req.options.has(55)).toBe(false); // RFC 2131 table 5: MUST NOT
    expect(h.events).toContainEqual({ type: 'declined', address: OFFERED, serverId: SERVER });
    expect(h.configured).toEqual([]);
    expect(h.client.state).toBe(DhcpState.Init);
    h.advanceTo(11_999);
    expect(h.sent).toHaveLength(3);
    h.advanceTo(12_000);
    expect(h.last().req.type).toBe(T.DISCOVER);
    expect(h.last().req.xid).not.toBe(decline.req.xid);
  });

  it('binds without probing when probing is off', () => {
    const h = new Harness({ probe: false }).start();
    h.deliver(h.offer());
    h.deliver(h.ack());
    expect(h.probes).toEqual([]);
    expect(h.client.state).toBe(DhcpState.Bound);
  });

  it('restarts from INIT on NAK while requesting, backing off when NAKs repeat', () => {
    const h = new Harness({ random: () => 0.5 }).start();
    h.deliver(h.offer());
    h.deliver(h.ack({ type: T.NAK, yiaddr: 0, lease: undefined, message: 'wrong network' }));
    expect(h.events).toContainEqual({
      type: 'nak',
      state: DhcpState.Requesting,
      serverId: SERVER,
      message: 'wrong network',
    });
    expect(h.last().req.type).toBe(T.DISCOVER);
    expect(h.client.state).toBe(DhcpState.Selecting);
    const before = h.sent.length;
    h.deliver(h.offer());
    h.deliver(h.ack({ type: T.NAK }));
    expect(h.sent).toHaveLength(before + 1); // second NAK: wait instead of an immediate DISCOVER
    expect(h.client.state).toBe(DhcpState.Init);
    h.advanceTo(h.now + 4000);
    expect(h.last().req.type).toBe(T.DISCOVER);
  });

  it('ignores an ACK or NAK from a server other than the one selected', () => {
    const h = new Harness().start();
    h.deliver(h.offer());
    h.deliver(h.ack({ serverId: ip('10.0.0.9') }));
    h.deliver(h.ack({ type: T.NAK, serverId: ip('10.0.0.9') }));
    expect(h.client.state).toBe(DhcpState.Requesting);
    expect(h.client.stats().dropped.wrong_server).toBe(2);
  });
});

describe('DhcpClient: the lease timeline', () => {
  it('renews by unicast at T1, rebinds by broadcast at T2, and expires back to INIT', () => {
    const h = new Harness();
    h.bind();
    const n = h.sent.length;
    h.advanceTo(59_999);
    expect(h.sent).toHaveLength(n);
    h.advanceTo(60_000);
    const renew = h.last();
    expect(h.client.state).toBe(DhcpState.Renewing);
    expect(renew.req.type).toBe(T.REQUEST);
    expect([renew.src, renew.dst, renew.req.ciaddr]).toEqual([OFFERED, SERVER, OFFERED]);
    expect(renew.req.options.has(50)).toBe(false); // RFC 2131 table 5: MUST NOT in RENEWING
    expect(renew.req.options.has(54)).toBe(false);
    expect(renew.req.flags).toBe(0);
    // Half of the 45 s left to T2 is below 60 s, so the next try waits for T2 itself.
    h.advanceTo(105_000);
    const rebind = h.last();
    expect(h.client.state).toBe(DhcpState.Rebinding);
    expect([rebind.src, rebind.dst, rebind.req.ciaddr]).toEqual([OFFERED, BCAST, OFFERED]);
    expect(rebind.req.xid).not.toBe(renew.req.xid);
    expect(h.configured).toEqual([OFFERED]);
    h.advanceTo(119_999);
    expect(h.events.some((e) => e.type === 'expired')).toBe(false);
    h.advanceTo(120_000);
    expect(h.configured).toEqual([OFFERED, null]);
    expect(h.events.some((e) => e.type === 'expired')).toBe(true);
    expect(h.last().req.type).toBe(T.DISCOVER);
    expect(h.client.state).toBe(DhcpState.Selecting);
  });

  it('retries renewal at half the time to T2, never sooner than 60 s', () => {
    const h = new Harness({ random: () => 0.5 });
    h.bind({ lease: 3600 });
    h.advanceTo(1_800_000); // T1
    h.advanceTo(3_150_000 - 1); // before T2 = 3150 s
    const renewTimes = h.sent.filter((s) => s.dst === SERVER).map((s) => s.at / 1000);
    // 1800 → +675 (half of 1350) → 2475 → +337.5 → 2812.5 → +168.75 → 2981.25 → +84.375
    // → 3065.625 → then 60 s minimum → 3125.625 → then T2 (3150) is next.
    expect(renewTimes).toEqual([1800, 2475, 2812.5, 2981.25, 3065.625, 3125.625]);
  });

  it('goes back to BOUND on an ACK while renewing, with a new lease start', () => {
    const h = new Harness();
    h.bind();
    h.advanceTo(60_000);
    h.now = 60_500;
    h.deliver(h.ack({ xid: h.last().req.xid, lease: 300 }));
    expect(h.client.state).toBe(DhcpState.Bound);
    const renewed = h.events.find((e) => e.type === 'renewed');
    expect(renewed).toMatchObject({ lease: { leaseTime: 300, startedAt: 60_000 } });
    expect(h.client.nextTimeout()).toBe(60_000 + 150_000);
    expect(h.probes).toHaveLength(1); // the address is ours already: no new ARP check
  });

  it('goes back to BOUND on an ACK from any server while rebinding', () => {
    const h = new Harness();
    h.bind();
    h.advanceTo(105_000);
    expect(h.client.state).toBe(DhcpState.Rebinding);
    h.deliver(h.ack({ xid: h.last().req.xid, serverId: ip('10.0.0.3') }));
    expect(h.client.state).toBe(DhcpState.Bound);
    expect(h.events.find((e) => e.type === 'rebound')).toMatchObject({
      lease: { serverId: ip('10.0.0.3') },
    });
  });

  it('drops the address on a NAK while renewing and starts over', () => {
    const h = new Harness();
    h.bind();
    h.advanceTo(60_000);
    h.deliver(h.ack({ type: T.NAK, xid: h.last().req.xid }));
    expect(h.configured).toEqual([OFFERED, null]);
    expect(h.client.state).toBe(DhcpState.Selecting);
  });

  it('honours the server T1/T2 and replaces inconsistent ones with the defaults', () => {
    const a = new Harness();
    a.bind({ lease: 1000, t1: 100, t2: 200 });
    expect(a.client.lease).toMatchObject({ renewalTime: 100, rebindingTime: 200 });
    const b = new Harness();
    b.bind({ lease: 1000, t1: 900, t2: 2000 });
    expect(b.client.lease).toMatchObject({ renewalTime: 500, rebindingTime: 875 });
  });

  it('stretches a lease shorter than 20 s instead of looping through DISCOVER', () => {
    const h = new Harness();
    h.bind({ lease: 0 });
    expect(h.client.lease).toMatchObject({ leaseTime: 20, renewalTime: 10, rebindingTime: 17 });
    expect(h.client.nextTimeout()).toBe(10_000);
  });

  it('keeps an infinite lease without timers', () => {
    const h = new Harness();
    h.bind({ lease: 0xffffffff });
    expect(h.client.nextTimeout()).toBe(Infinity);
  });

  it('releases the lease on clean shutdown (unicast RELEASE from our address)', () => {
    const h = new Harness();
    h.bind();
    h.client.release(h.now);
    for (const a of h.client.drain()) {
      if (a.type === 'send')
        h.sent.push({ req: parseRequest(a.bytes), src: a.src, dst: a.dst, at: 0 });
      if (a.type === 'configure') h.configured.push(null);
    }
    const rel = h.last();
    expect(rel.req.type).toBe(T.RELEASE);
    expect([rel.src, rel.dst, rel.req.ciaddr]).toEqual([OFFERED, SERVER, OFFERED]);
    expect(optU32(rel.req, 54)).toBe(SERVER);
    expect(h.configured).toEqual([OFFERED, null]);
    expect(h.client.state).toBe(DhcpState.Stopped);
    expect(h.client.nextTimeout()).toBe(Infinity);
  });
});

describe('DhcpClient: INIT-REBOOT', () => {
  it('asks for the remembered address without a server id and binds on ACK', () => {
    const h = new Harness({ rememberedAddress: OFFERED }).start();
    const r = h.last();
    expect(h.client.state).toBe(DhcpState.Rebooting);
    expect(r.req.type).toBe(T.REQUEST);
    expect([r.src, r.dst, r.req.ciaddr]).toEqual([0, BCAST, 0]);
    expect(optU32(r.req, 50)).toBe(OFFERED);
    expect(r.req.options.has(54)).toBe(false);
    h.deliver(h.ack());
    h.probeResult(OFFERED, false);
    expect(h.client.state).toBe(DhcpState.Bound);
    expect(h.configured).toEqual([OFFERED]);
  });

  it('falls back to DISCOVER on NAK or silence', () => {
    const nak = new Harness({ rememberedAddress: OFFERED }).start();
    nak.deliver(nak.ack({ type: T.NAK }));
    expect(nak.last().req.type).toBe(T.DISCOVER);
    const silent = new Harness({ rememberedAddress: OFFERED, random: () => 0.5 }).start();
    silent.advanceTo(60_000);
    expect(silent.sent.map((s) => s.req.type)).toEqual([3, 3, 3, 3, 1]);
  });
});

describe('DhcpClient: bad and hostile replies', () => {
  const cases: Array<[string, (h: Harness) => Uint8Array, string]> = [
    ['no server id', (h) => h.offer({ serverId: undefined }), 'no_server_id'],
    ['wrong xid', (h) => h.offer({ xid: (h.last().req.xid + 1) >>> 0 }), 'wrong_xid'],
    ['wrong chaddr', (h) => h.offer({ chaddr: MAC + 1 }), 'wrong_chaddr'],
    ['a BOOTREQUEST', (h) => h.offer({ op: 1 }), 'not_reply'],
    [
      'an option running past the end',
      (h) => h.offer({ raw: [3, 200, 1, 2] }),
      'malformed_options',
    ],
    ['a 3-byte subnet mask', (h) => h.offer({ raw: [1, 3, 255, 255, 255] }), 'bad_option_length'],
    ['offered 0.0.0.0', (h) => h.offer({ yiaddr: 0 }), 'bad_address'],
    ['offered a multicast address', (h) => h.offer({ yiaddr: ip('224.0.0.1') }), 'bad_address'],
    ['an ACK while selecting', (h) => h.ack(), 'unexpected_type'],
    ['a truncated message', (h) => h.offer().slice(0, 200), 'truncated'],
  ];
  for (const [what, make, reason] of cases) {
    it(`ignores and counts ${what}`, () => {
      const h = new Harness().start();
      h.deliver(make(h));
      expect(h.client.state).toBe(DhcpState.Selecting);
      expect(h.client.stats().dropped).toEqual({ [reason]: 1 });
      expect(h.sent).toHaveLength(1);
    });
  }

  it('drops an ACK without a lease time', () => {
    const h = new Harness().start();
    h.deliver(h.offer());
    h.deliver(h.ack({ lease: undefined }));
    expect(h.client.stats().dropped).toEqual({ no_lease_time: 1 });
  });

  it('reads options carried in the file field (option overload)', () => {
    const h = new Harness().start();
    const b = h.offer({ serverId: undefined, raw: [52, 1, 1] });
    // Server id in `file` (offset 108), as RFC 2131 §4.1 allows.
    b.set([54, 4, 10, 0, 0, 1, 255], 108);
    h.deliver(b);
    expect(h.client.state).toBe(DhcpState.Requesting);
    expect(optU32(h.last().req, 54)).toBe(SERVER);
  });

  it('never throws on random or mutated input, in any state (fuzz)', () => {
    const states = ['selecting', 'requesting', 'renewing', 'rebinding', 'rebooting'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...states),
        fc.oneof(
          fc.uint8Array({ maxLength: 700 }),
          fc.tuple(fc.array(fc.tuple(fc.nat(699), fc.nat(255)), { maxLength: 20 }), fc.nat(700)),
        ),
        (state, input) => {
          const h = new Harness({ rememberedAddress: state === 'rebooting' ? OFFERED : undefined });
          if (state === 'rebooting' || state === 'selecting') h.start();
          else if (state === 'requesting') h.start().deliver(h.offer());
          else {
            h.bind();
            h.advanceTo(state === 'renewing' ? 60_000 : 105_000);
          }
          let bytes: Uint8Array;
          if (input instanceof Uint8Array) bytes = input;
          else {
            // Mutate a valid reply: flip bytes, then cut it to a random length.
            bytes = h.ack({ xid: h.last().req.xid });
            for (const [at, v] of input[0]) if (at < bytes.length) bytes[at] = v;
            bytes = bytes.slice(0, input[1]);
          }
          const before = h.client.stats();
          h.deliver(bytes);
          h.advanceTo(h.now + 200_000);
          const after = h.client.stats();
          expect(after.received).toBe(before.received + 1);
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});
