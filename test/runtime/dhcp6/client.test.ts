/**
 * The DHCPv6 client state machine alone (sans-IO), on a virtual time line: the full stateful
 * exchange against scripted Advertise/Reply messages built with the generated encoders, the
 * §15 retransmission timing, renew/rebind/expiry, Decline after a DAD collision, Release, the
 * stateless Information-Request, and hostile input (wrong ids, missing options, status codes,
 * random bytes) counted as drops, never thrown.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ALL_DHCP_RELAY_AGENTS_AND_SERVERS,
  Dhcp6Client,
  Dhcp6State,
  Dhcp6Timing,
  type Dhcp6Action,
  type Dhcp6Event,
} from '../../../src/runtime/dhcp6/client.js';
import { duidLl, iaidFromMac } from '../../../src/runtime/dhcp6/wire.js';
import { ipv6Text } from '../../../src/runtime/ipv6/address.js';
import { parseIpv6 } from '../../../src/codec/address.js';
import {
  MSG,
  OPT,
  STATUS,
  SERVER_DUID,
  answer,
  domainList,
  iaNa,
  parseClient,
  serverMessage,
  statusCode,
  type ClientMessage,
} from './server.js';

const MAC = 0x020000000002;
const IAID = iaidFromMac(MAC);
const SERVER_LL = parseIpv6('fe80::1') as Uint8Array;
const OFFERED = 'fd00::100';
const ALL_SERVERS = ipv6Text(ALL_DHCP_RELAY_AGENTS_AND_SERVERS);

interface Sent {
  msg: ClientMessage;
  dst: string;
  at: number;
}

/** Drives a client through time and messages, collecting what it does. */
class Harness {
  readonly client: Dhcp6Client;
  now = 0;
  sent: Sent[] = [];
  events: Dhcp6Event[] = [];
  added: Array<{ address: string; preferredUntil: number; validUntil: number }> = [];
  removed: string[] = [];
  dns: Array<{ servers: string[]; domains: string[] }> = [];

  constructor(random?: () => number) {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    this.client = new Dhcp6Client({ clientId: duidLl(MAC), iaid: IAID, random: random ?? rnd });
    this.last = 0;
  }

  private last: number;

  collect(): void {
    for (const a of this.client.drain()) this.apply(a);
  }

  private apply(a: Dhcp6Action): void {
    if (a.type === 'send') {
      expect([a.srcPort, a.dstPort]).toEqual([546, 547]);
      this.sent.push({ msg: parseClient(a.bytes), dst: ipv6Text(a.dst), at: this.now });
    } else if (a.type === 'add-address') {
      this.added.push({
        address: ipv6Text(a.address),
        preferredUntil: a.preferredUntil,
        validUntil: a.validUntil,
      });
    } else if (a.type === 'remove-address') {
      this.removed.push(ipv6Text(a.address));
    } else if (a.type === 'dns') {
      this.dns.push({ servers: a.servers.map((s) => ipv6Text(s)), domains: a.domains });
    } else {
      this.events.push(a.event);
    }
  }

  start(mode: 'stateful' | 'stateless'): void {
    this.client.start(this.now, mode);
    this.collect();
  }

  /** Moves time forward to `t`, ticking at every deadline on the way. */
  advanceTo(t: number): void {
    for (let guard = 0; guard < 10_000; guard++) {
      const next = this.client.nextTimeout();
      if (next > t) break;
      this.now = Math.max(this.now, next);
      this.client.tick(this.now);
      this.collect();
    }
    this.now = Math.max(this.now, t);
  }

  /** Runs until the client has sent `n` messages in all (or 10 000 deadlines passed). */
  untilSent(n: number): Sent {
    for (let guard = 0; guard < 10_000 && this.sent.length < n; guard++) {
      const next = this.client.nextTimeout();
      if (next === Infinity) break;
      this.now = Math.max(this.now, next);
      this.client.tick(this.now);
      this.collect();
    }
    expect(this.sent.length).toBeGreaterThanOrEqual(n);
    return this.sent[n - 1];
  }

  input(bytes: Uint8Array, src = SERVER_LL): void {
    this.client.input(bytes, 0, bytes.length, src, this.now);
    this.collect();
  }

  lastSent(): Sent {
    return this.sent[this.sent.length - 1];
  }

  /** Solicit → Advertise → Request → Reply → DAD ok: BOUND with `lease` options. */
  bind(
    opts: {
      t1?: number;
      t2?: number;
      preferred?: number;
      valid?: number;
      extra?: Parameters<typeof answer>[2];
    } = {},
  ): void {
    this.start('stateful');
    const solicit = this.untilSent(1).msg;
    const ia = iaNa(IAID, opts.t1 ?? 100, opts.t2 ?? 160, [
      { address: OFFERED, preferred: opts.preferred ?? 200, valid: opts.valid ?? 300 },
    ]);
    this.input(answer(solicit, MSG.Advertise, [ia]));
    this.advanceTo(this.client.nextTimeout());
    const request = this.lastSent().msg;
    expect(request.type).toBe(MSG.Request);
    this.input(
      answer(request, MSG.Reply, [
        ia,
        { kind: 'DnsServers', servers: ['fd00::53'] },
        domainList(['lab.test']),
        ...(opts.extra ?? []),
      ]),
    );
    expect(this.client.state).toBe(Dhcp6State.Checking);
    this.client.dadResult(parseIpv6(OFFERED) as Uint8Array, false, this.now);
    this.collect();
    expect(this.client.state).toBe(Dhcp6State.Bound);
  }
}

describe('DHCPv6 client: stateful exchange (RFC 8415 §18.2.1-§18.2.2)', () => {
  it('solicits, requests the advertised address, and binds it after DAD', () => {
    const h = new Harness();
    h.start('stateful');
    expect(h.sent).toHaveLength(0); // §18.2.1: the first Solicit waits up to SOL_MAX_DELAY
    const solicit = h.untilSent(1);
    expect(solicit.at).toBeLessThanOrEqual(Dhcp6Timing.SOL_MAX_DELAY);
    expect(solicit.dst).toBe(ALL_SERVERS);
    expect(solicit.msg.type).toBe(MSG.Solicit);
    expect(solicit.msg.elapsed).toBe(0);
    // DUID-LL: type 3, hardware type 1, the MAC.
    expect(solicit.msg.clientId?.duidType).toBe(3);
    expect([...(solicit.msg.clientId?.duid ?? [])]).toEqual([0, 1, 2, 0, 0, 0, 0, 2]);
    expect(solicit.msg.ia).toEqual({ iaid: IAID, t1: 0, t2: 0, addresses: [] });
    expect(solicit.msg.serverId).toBeNull();
    expect(solicit.msg.oro).toEqual(
      expect.arrayContaining([OPT.DnsServers, OPT.DomainList, OPT.SolMaxRt]),
    );

    const ia = iaNa(IAID, 100, 160, [{ address: OFFERED, preferred: 200, valid: 300 }]);
    h.input(answer(solicit.msg, MSG.Advertise, [ia]));
    // Advertises are collected until the first RT ends, then the best is requested.
    expect(h.sent).toHaveLength(1);
    h.advanceTo(h.client.nextTimeout());
    const request = h.lastSent();
    expect(request.msg.type).toBe(MSG.Request);
    expect(request.dst).toBe(ALL_SERVERS);
    expect(request.msg.xid).not.toBe(solicit.msg.xid);
    expect(request.msg.serverId?.duidType).toBe(SERVER_DUID.duidType);
    expect([...(request.msg.serverId?.duid ?? [])]).toEqual([...SERVER_DUID.duid]);
    expect(request.msg.ia?.addresses).toEqual([OFFERED]);

    const replyAt = h.now;
    h.input(
      answer(request.msg, MSG.Reply, [
        ia,
        { kind: 'DnsServers', servers: ['fd00::53', 'fd00::54'] },
        domainList(['lab.test', 'example.com']),
      ]),
    );
    expect(h.client.state).toBe(Dhcp6State.Checking);
    expect(h.added).toEqual([
      { address: OFFERED, preferredUntil: replyAt + 200_000, validUntil: replyAt + 300_000 },
    ]);
    expect(h.dns.at(-1)).toEqual({
      servers: ['fd00::53', 'fd00::54'],
      domains: ['lab.test', 'example.com'],
    });
    expect(h.events.some((e) => e.type === 'bound')).toBe(false);
    h.client.dadResult(parseIpv6(OFFERED) as Uint8Array, false, h.now);
    h.collect();
    expect(h.client.state).toBe(Dhcp6State.Bound);
    const bound = h.events.find((e) => e.type === 'bound');
    expect(
      bound?.type === 'bound' && bound.lease.addresses.map((a) => ipv6Text(a.address)),
    ).toEqual([OFFERED]);
    expect(h.client.lease?.t1).toBe(100);
  });

  it('takes the Advertise with the highest preference, and one of 255 at once', () => {
    const h = new Harness();
    h.start('stateful');
    const solicit = h.untilSent(1).msg;
    const low = iaNa(IAID, 0, 0, [{ address: 'fd00::1:1', preferred: 100, valid: 200 }]);
    const high = iaNa(IAID, 0, 0, [{ address: 'fd00::2:2', preferred: 100, valid: 200 }]);
    h.input(answer(solicit, MSG.Advertise, [low, { kind: 'Preference', value: 10 }]));
    h.input(answer(solicit, MSG.Advertise, [high, { kind: 'Preference', value: 20 }]));
    h.advanceTo(h.client.nextTimeout());
    expect(h.lastSent().msg.ia?.addresses).toEqual(['fd00::2:2']);

    const g = new Harness();
    g.start('stateful');
    const s2 = g.untilSent(1).msg;
    g.input(answer(s2, MSG.Advertise, [low, { kind: 'Preference', value: 255 }]));
    expect(g.lastSent().msg.type).toBe(MSG.Request);
    expect(g.lastSent().at).toBe(g.now);
  });

  it('ignores an Advertise without addresses (NoAddrsAvail) but takes its SOL_MAX_RT', () => {
    const h = new Harness();
    h.start('stateful');
    const solicit = h.untilSent(1).msg;
    h.input(
      answer(solicit, MSG.Advertise, [
        iaNa(IAID, 0, 0, [], STATUS.NoAddrsAvail),
        { kind: 'SolMaxRt', seconds: 60 },
      ]),
    );
    expect(h.client.stats().drops.no_addresses).toBe(1);
    expect(h.events).toContainEqual(
      expect.objectContaining({ type: 'status', status: STATUS.NoAddrsAvail }),
    );
    // Retransmissions now top out near 60 s instead of 3600 s.
    h.untilSent(12);
    const gaps = h.sent.slice(1).map((s, i) => s.at - h.sent[i].at);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(66_000);
    expect(gaps.at(-1)).toBeGreaterThanOrEqual(54_000);
    expect(h.client.state).toBe(Dhcp6State.Soliciting);
  });
});

describe('DHCPv6 client: retransmission (RFC 8415 §15)', () => {
  it('Solicit: first RT in (IRT, 1.1 IRT], doubling ±10 %, capped at SOL_MAX_RT ±10 %, elapsed time rising', () => {
    const h = new Harness();
    h.start('stateful');
    h.untilSent(16);
    const gaps = h.sent.slice(1).map((s, i) => s.at - h.sent[i].at);
    expect(gaps[0]).toBeGreaterThan(1000);
    expect(gaps[0]).toBeLessThanOrEqual(1100);
    for (let i = 1; i < gaps.length; i++) {
      const rt = gaps[i];
      const doubled = 2 * gaps[i - 1];
      const capped = Dhcp6Timing.SOL_MAX_RT;
      const ok =
        (rt >= doubled * 0.9 - 1e-6 && rt <= doubled * 1.1 + 1e-6) ||
        (rt >= capped * 0.9 - 1e-6 && rt <= capped * 1.1 + 1e-6);
      expect(ok, `gap ${i}: ${rt} after ${gaps[i - 1]}`).toBe(true);
    }
    expect(Math.max(...gaps)).toBeLessThanOrEqual(Dhcp6Timing.SOL_MAX_RT * 1.1);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(Dhcp6Timing.SOL_MAX_RT * 0.9);
    // Same transaction throughout, elapsed time in hundredths (capped at 0xffff).
    expect(new Set(h.sent.map((s) => s.msg.xid)).size).toBe(1);
    expect(h.sent[1].msg.elapsed).toBe(Math.floor((h.sent[1].at - h.sent[0].at) / 10));
    expect(h.sent.at(-1)?.msg.elapsed).toBe(0xffff);
    const retry = h.events.filter((e) => e.type === 'retrying');
    expect(retry).toHaveLength(15);
  });

  it('Request: REQ_MAX_RC (10) transmissions, REQ_MAX_RT cap, then back to Solicit', () => {
    const h = new Harness();
    h.start('stateful');
    const solicit = h.untilSent(1).msg;
    const ia = iaNa(IAID, 100, 160, [{ address: OFFERED, preferred: 200, valid: 300 }]);
    h.input(answer(solicit, MSG.Advertise, [ia, { kind: 'Preference', value: 255 }]));
    const first = h.sent.length;
    h.untilSent(first + 9);
    const requests = h.sent.slice(first - 1);
    expect(requests.every((s) => s.msg.type === MSG.Request)).toBe(true);
    expect(requests).toHaveLength(10);
    const gaps = requests.slice(1).map((s, i) => s.at - requests[i].at);
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[0]).toBeLessThanOrEqual(1100);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(Dhcp6Timing.REQ_MAX_RT * 1.1);
    h.untilSent(first + 10);
    expect(h.events).toContainEqual({ type: 'gave-up', state: Dhcp6State.Requesting });
    expect(h.lastSent().msg.type).toBe(MSG.Solicit);
  });
});

describe('DHCPv6 client: renew, rebind, expiry (RFC 8415 §18.2.4, §18.2.5)', () => {
  it('renews at T1 with the Server ID, rebinds at T2 without, and drops the address at the end of its valid lifetime', () => {
    const h = new Harness();
    h.bind({ t1: 100, t2: 160, preferred: 200, valid: 300 });
    const start = h.client.lease?.startedAt ?? NaN;
    const renew = h.untilSent(h.sent.length + 1);
    expect(renew.at).toBe(start + 100_000);
    expect(renew.msg.type).toBe(MSG.Renew);
    expect(renew.dst).toBe(ALL_SERVERS);
    expect(renew.msg.serverId).not.toBeNull();
    expect(renew.msg.ia?.addresses).toEqual([OFFERED]);
    // Renew retransmits from REN_TIMEOUT (10 s) until T2 (its MRD).
    h.advanceTo(start + 160_000 - 1);
    const renews = h.sent.filter((s) => s.msg.type === MSG.Renew);
    expect(renews.length).toBeGreaterThanOrEqual(3);
    expect(renews[1].at - renews[0].at).toBeGreaterThanOrEqual(9_000);
    expect(renews[1].at - renews[0].at).toBeLessThanOrEqual(11_000);
    expect(h.client.state).toBe(Dhcp6State.Renewing);
    const rebind = h.untilSent(h.sent.length + 1);
    expect(rebind.at).toBe(start + 160_000);
    expect(rebind.msg.type).toBe(MSG.Rebind);
    expect(rebind.dst).toBe(ALL_SERVERS);
    expect(rebind.msg.serverId).toBeNull();
    // No server answers: at the valid lifetime the address goes and the client solicits again.
    h.advanceTo(start + 300_000);
    expect(h.removed).toEqual([OFFERED]);
    expect(h.events).toContainEqual(expect.objectContaining({ type: 'expired', lease: null }));
    expect(h.client.lease).toBeNull();
    expect(h.dns.at(-1)).toEqual({ servers: [], domains: [] });
    expect(h.client.state).toBe(Dhcp6State.Soliciting);
  });

  it('a Reply to Renew extends the lifetimes (renewed) and a Reply to Rebind too (rebound)', () => {
    const h = new Harness();
    h.bind();
    const renew = h.untilSent(h.sent.length + 1).msg;
    const at = h.now;
    h.input(
      answer(renew, MSG.Reply, [
        iaNa(IAID, 100, 160, [{ address: OFFERED, preferred: 200, valid: 300 }]),
      ]),
    );
    expect(h.client.state).toBe(Dhcp6State.Bound);
    expect(h.events.at(-1)?.type).toBe('renewed');
    expect(h.added.at(-1)).toEqual({
      address: OFFERED,
      preferredUntil: at + 200_000,
      validUntil: at + 300_000,
    });
    h.advanceTo(at + 160_000);
    const rebind = h.sent.filter((s) => s.msg.type === MSG.Rebind).at(-1);
    expect(rebind).toBeDefined();
    h.input(
      answer(rebind!.msg, MSG.Reply, [
        iaNa(IAID, 100, 160, [{ address: OFFERED, preferred: 200, valid: 300 }]),
      ]),
    );
    expect(h.events.at(-1)?.type).toBe('rebound');
    expect(h.removed).toEqual([]);
  });

  it('renews by unicast when the server gave a Unicast option, by multicast after UseMulticast', () => {
    const h = new Harness();
    h.bind({ extra: [{ kind: 'Unicast', address: 'fd00::1' }] });
    const renew = h.untilSent(h.sent.length + 1);
    expect(renew.dst).toBe('fd00::1');
    h.input(answer(renew.msg, MSG.Reply, [statusCode(STATUS.UseMulticast)]));
    expect(h.lastSent().msg.type).toBe(MSG.Renew);
    expect(h.lastSent().dst).toBe(ALL_SERVERS);
  });

  it('requests again when the Renew reply says NoBinding', () => {
    const h = new Harness();
    h.bind();
    const renew = h.untilSent(h.sent.length + 1).msg;
    h.input(answer(renew, MSG.Reply, [iaNa(IAID, 0, 0, [], STATUS.NoBinding)]));
    expect(h.client.state).toBe(Dhcp6State.Requesting);
    const request = h.lastSent().msg;
    expect(request.type).toBe(MSG.Request);
    expect(request.ia?.addresses).toEqual([OFFERED]);
  });

  it('picks T1/T2 from the shortest preferred lifetime when the server sends 0 (0.5, 0.8)', () => {
    const h = new Harness();
    h.bind({ t1: 0, t2: 0, preferred: 1000, valid: 2000 });
    expect([h.client.lease?.t1, h.client.lease?.t2]).toEqual([500, 800]);
  });
});

describe('DHCPv6 client: Decline and Release (RFC 8415 §18.2.7, §18.2.8)', () => {
  it('declines an address DAD found in use, then solicits again', () => {
    const h = new Harness();
    h.start('stateful');
    const solicit = h.untilSent(1).msg;
    const ia = iaNa(IAID, 100, 160, [{ address: OFFERED, preferred: 200, valid: 300 }]);
    h.input(answer(solicit, MSG.Advertise, [ia, { kind: 'Preference', value: 255 }]));
    h.input(answer(h.lastSent().msg, MSG.Reply, [ia]));
    h.client.dadResult(parseIpv6(OFFERED) as Uint8Array, true, h.now);
    h.collect();
    expect(h.client.state).toBe(Dhcp6State.Declining);
    expect(h.removed).toEqual([OFFERED]);
    const decline = h.lastSent();
    expect(decline.msg.type).toBe(MSG.Decline);
    expect(decline.msg.serverId).not.toBeNull();
    expect(decline.msg.ia?.addresses).toEqual([OFFERED]);
    expect(h.events).toContainEqual(expect.objectContaining({ type: 'declined' }));
    expect(h.events.some((e) => e.type === 'bound')).toBe(false);
    // DEC_MAX_RC: 4 transmissions without an answer.
    h.untilSent(h.sent.length + 3);
    expect(h.sent.filter((s) => s.msg.type === MSG.Decline)).toHaveLength(4);
    h.untilSent(h.sent.length + 1);
    expect(h.lastSent().msg.type).toBe(MSG.Solicit);
  });

  it('a DAD verdict about an address not being checked changes nothing', () => {
    const h = new Harness();
    h.bind();
    h.client.dadResult(parseIpv6(OFFERED) as Uint8Array, true, h.now); // not pending: ignored
    h.collect();
    expect(h.client.state).toBe(Dhcp6State.Bound);
  });

  it('releases: addresses removed at once, Release with the Server ID and the addresses, retransmitted up to 4 times', () => {
    const h = new Harness();
    h.bind();
    h.client.release(h.now);
    h.collect();
    expect(h.removed).toEqual([OFFERED]);
    const release = h.lastSent().msg;
    expect(release.type).toBe(MSG.Release);
    expect(release.serverId).not.toBeNull();
    expect(release.ia?.addresses).toEqual([OFFERED]);
    h.advanceTo(h.now + 60_000);
    expect(h.sent.filter((s) => s.msg.type === MSG.Release)).toHaveLength(4);
    expect(h.client.state).toBe(Dhcp6State.Stopped);
  });
});

describe('DHCPv6 client: stateless (RFC 8415 §18.2.6)', () => {
  it('asks with Information-Request, takes DNS servers and domains, refreshes after the Information Refresh Time (at least 600 s)', () => {
    const h = new Harness();
    h.start('stateless');
    const req = h.untilSent(1);
    expect(req.at).toBeLessThanOrEqual(Dhcp6Timing.INF_MAX_DELAY);
    expect(req.msg.type).toBe(MSG.InformationRequest);
    expect(req.msg.ia).toBeNull();
    expect(req.msg.oro).toEqual(
      expect.arrayContaining([
        OPT.DnsServers,
        OPT.DomainList,
        OPT.InformationRefreshTime,
        OPT.InfMaxRt,
      ]),
    );
    const at = h.now;
    h.input(
      answer(req.msg, MSG.Reply, [
        { kind: 'DnsServers', servers: ['fd00::53'] },
        domainList(['lab.test']),
        { kind: 'InformationRefreshTime', seconds: 100 },
      ]),
    );
    expect(h.client.state).toBe(Dhcp6State.Informed);
    expect(h.dns.at(-1)).toEqual({ servers: ['fd00::53'], domains: ['lab.test'] });
    expect(h.events).toContainEqual(expect.objectContaining({ type: 'informed' }));
    expect(h.client.nextTimeout()).toBe(at + 600_000);
    const again = h.untilSent(2);
    expect(again.at).toBeGreaterThanOrEqual(at + 600_000);
    expect(again.at).toBeLessThanOrEqual(at + 600_000 + Dhcp6Timing.INF_MAX_DELAY);
    expect(again.msg.type).toBe(MSG.InformationRequest);
    expect(again.msg.xid).not.toBe(req.msg.xid);
  });

  it('defaults the refresh to 86400 s, and switches to stateful when asked', () => {
    const h = new Harness();
    h.start('stateless');
    const req = h.untilSent(1).msg;
    const at = h.now;
    h.input(answer(req, MSG.Reply, [{ kind: 'DnsServers', servers: ['fd00::53'] }]));
    expect(h.client.nextTimeout()).toBe(at + Dhcp6Timing.IRT_DEFAULT);
    h.start('stateful');
    expect(h.client.state).toBe(Dhcp6State.Soliciting);
    h.start('stateless'); // stateful covers it: ignored
    expect(h.client.state).toBe(Dhcp6State.Soliciting);
  });
});

describe('DHCPv6 client: hostile and broken replies are counted drops', () => {
  it('drops wrong transaction ids, missing Server IDs, foreign Client IDs, other servers, bad types', () => {
    const h = new Harness();
    h.start('stateful');
    const solicit = h.untilSent(1).msg;
    const ia = iaNa(IAID, 100, 160, [{ address: OFFERED, preferred: 200, valid: 300 }]);
    h.input(answer({ ...solicit, xid: solicit.xid ^ 1 }, MSG.Advertise, [ia]));
    h.input(
      serverMessage(MSG.Advertise, solicit.xid, [{ kind: 'ClientId', ...solicit.clientId! }, ia]),
    );
    h.input(
      answer(
        { ...solicit, clientId: { duidType: 3, duid: Uint8Array.from([0, 1, 9, 9, 9, 9, 9, 9]) } },
        MSG.Advertise,
        [ia],
      ),
    );
    h.input(serverMessage(MSG.Advertise, solicit.xid, [{ kind: 'ServerId', ...SERVER_DUID }, ia]));
    h.input(answer(solicit, MSG.Reconfigure, [ia]));
    h.input(answer(solicit, MSG.Reply, [ia])); // no Rapid Commit: a Reply to Solicit is no answer
    h.input(Uint8Array.from([MSG.Advertise, 0, 0])); // truncated
    h.input(Uint8Array.from([MSG.RelayReply, 0, ...new Array(32).fill(0)]));
    const bad = answer(solicit, MSG.Advertise, [ia]);
    h.input(bad.subarray(0, bad.length - 3)); // an option cut short
    h.input(
      answer(solicit, MSG.Advertise, [
        iaNa(IAID + 1, 0, 0, [{ address: OFFERED, preferred: 1, valid: 2 }]),
      ]),
    );
    // An address with preferred > valid, and a link-local one, are discarded (§21.6).
    h.input(
      answer(solicit, MSG.Advertise, [
        iaNa(IAID, 0, 0, [
          { address: OFFERED, preferred: 300, valid: 200 },
          { address: 'fe80::5', preferred: 100, valid: 200 },
        ]),
      ]),
    );
    expect(h.client.stats().drops).toEqual({
      wrong_xid: 1,
      no_server_id: 1,
      wrong_client_id: 2,
      unexpected_type: 1,
      not_waiting: 1,
      truncated: 1,
      relay_message: 1,
      malformed_options: 1,
      no_addresses: 2,
    });
    expect(h.client.state).toBe(Dhcp6State.Soliciting);
    expect(h.sent).toHaveLength(1);

    // In REQUESTING, a Reply from another server is not the answer.
    h.input(answer(solicit, MSG.Advertise, [ia, { kind: 'Preference', value: 255 }]));
    const request = h.lastSent().msg;
    h.input(
      serverMessage(MSG.Reply, request.xid, [
        { kind: 'ClientId', ...request.clientId! },
        { kind: 'ServerId', duidType: 3, duid: Uint8Array.from([0, 1, 6, 6, 6, 6, 6, 6]) },
        ia,
      ]),
    );
    expect(h.client.stats().drops.wrong_server).toBe(1);
    // T1 > T2 (both non-zero): the IA is discarded (§21.4).
    h.input(
      answer(request, MSG.Reply, [
        iaNa(IAID, 200, 100, [{ address: OFFERED, preferred: 300, valid: 400 }]),
      ]),
    );
    expect(h.client.stats().drops.bad_times).toBe(1);
    expect(h.client.state).toBe(Dhcp6State.Requesting);
  });

  it('a Reply to Request with NoAddrsAvail or NotOnLink solicits again, backing off when it repeats', () => {
    const h = new Harness();
    h.start('stateful');
    const ia = iaNa(IAID, 100, 160, [{ address: OFFERED, preferred: 200, valid: 300 }]);
    for (const status of [STATUS.NoAddrsAvail, STATUS.NotOnLink]) {
      const solicit = h.untilSent(h.sent.length + 1).msg;
      expect(solicit.type).toBe(MSG.Solicit);
      h.input(answer(solicit, MSG.Advertise, [ia, { kind: 'Preference', value: 255 }]));
      const request = h.lastSent().msg;
      h.input(
        status === STATUS.NotOnLink
          ? answer(request, MSG.Reply, [statusCode(status)])
          : answer(request, MSG.Reply, [iaNa(IAID, 0, 0, [], status)]),
      );
      expect(h.events.at(-1)).toMatchObject({
        type: 'status',
        state: Dhcp6State.Requesting,
        status,
      });
    }
    // The second failure in a row waits 1 s before soliciting.
    expect(h.client.state).toBe(Dhcp6State.Idle);
    const before = h.now;
    const next = h.untilSent(h.sent.length + 1);
    expect(next.msg.type).toBe(MSG.Solicit);
    expect(next.at - before).toBeGreaterThanOrEqual(1000);
  });

  it('never throws on random bytes in any state, and counts each as received', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 120 }), { minLength: 1, maxLength: 20 }),
        fc.constantFrom<'stateful' | 'stateless' | 'bound'>('stateful', 'stateless', 'bound'),
        (datagrams, where) => {
          const h = new Harness();
          if (where === 'bound') h.bind();
          else h.untilSent((h.start(where), 1));
          const before = h.client.stats().received;
          for (const d of datagrams) {
            // Some with the right transaction id, so the option walk is reached.
            const xid = h.lastSent().msg.xid;
            if (d.length >= 4 && d[0] % 2 === 0) {
              d[0] = d[0] % 4 === 0 ? MSG.Reply : MSG.Advertise;
              d[1] = xid >>> 16;
              d[2] = (xid >>> 8) & 0xff;
              d[3] = xid & 0xff;
            }
            h.input(d);
          }
          const s = h.client.stats();
          expect(s.received - before).toBe(datagrams.length);
        },
      ),
      { numRuns: 200, seed: 6 },
    );
  });
});
