/**
 * The DHCPv6 client (RFC 8415), sans-IO: it never touches a socket, a timer or the wall clock.
 * The owner feeds it received messages (`input`), the time (`tick`) and the outcome of duplicate
 * address detection for the addresses it assigned (`dadResult`); it answers with actions
 * collected in a queue (`drain()`): messages to send, addresses to add or remove, DNS
 * configuration, events. `nextTimeout()` says when it next wants `tick`.
 *
 * Stateful (IA_NA, §18.2.1-§18.2.8):
 *
 *   SOLICITING ─Advertise─▶ REQUESTING ─Reply─▶ CHECKING (DAD) ─ok─▶ BOUND
 *                                                     └─duplicate: DECLINING ─▶ BOUND | SOLICITING
 *   BOUND ─T1─▶ RENEWING (the server) ─T2─▶ REBINDING (any server) ─valid lifetimes end─▶ SOLICITING
 *   release(): RELEASING ─Reply or 4 tries─▶ STOPPED
 *
 * Stateless (§18.2.6): INFORMING ─Reply─▶ INFORMED ─Information Refresh Time─▶ INFORMING.
 *
 * Every transmission follows §15: the first wait is IRT ± 10 %, then twice the previous ± 10 %,
 * capped near MRT, until MRC transmissions or MRD elapsed.
 */
import {
  DHCP6_CLIENT_PORT,
  DHCP6_SERVER_PORT,
  Dhcp6MessageType,
  Dhcp6OptionCode,
  Dhcp6StatusCode,
  INFINITY_SECONDS,
  duidEquals,
  encodeDhcp6ClientMessage,
  parseDhcp6ServerMessage,
  type Dhcp6ClientMessage,
  type Dhcp6Duid,
  type Dhcp6ParseFailure,
  type Dhcp6ServerMessage,
} from './wire.js';
import { ipv6Equals, parseIpv6 } from '../../codec/address.js';

export const Dhcp6State = {
  Idle: 'IDLE',
  Soliciting: 'SOLICITING',
  Requesting: 'REQUESTING',
  Checking: 'CHECKING',
  Bound: 'BOUND',
  Renewing: 'RENEWING',
  Rebinding: 'REBINDING',
  Declining: 'DECLINING',
  Releasing: 'RELEASING',
  Informing: 'INFORMING',
  Informed: 'INFORMED',
  Stopped: 'STOPPED',
} as const;
export type Dhcp6State = (typeof Dhcp6State)[keyof typeof Dhcp6State];

/** Stateful: addresses (IA_NA) and configuration; stateless: configuration only. */
export type Dhcp6Mode = 'stateful' | 'stateless';

/** ff02::1:2, All_DHCP_Relay_Agents_and_Servers (§7.1). */
export const ALL_DHCP_RELAY_AGENTS_AND_SERVERS = parseIpv6('ff02::1:2') as Uint8Array;

/** RFC 8415 §7.6 transmission and retransmission parameters (milliseconds). */
export const Dhcp6Timing = {
  SOL_MAX_DELAY: 1_000,
  SOL_TIMEOUT: 1_000,
  SOL_MAX_RT: 3_600_000,
  REQ_TIMEOUT: 1_000,
  REQ_MAX_RT: 30_000,
  REQ_MAX_RC: 10,
  REN_TIMEOUT: 10_000,
  REN_MAX_RT: 600_000,
  REB_TIMEOUT: 10_000,
  REB_MAX_RT: 600_000,
  INF_MAX_DELAY: 1_000,
  INF_TIMEOUT: 1_000,
  INF_MAX_RT: 3_600_000,
  REL_TIMEOUT: 1_000,
  REL_MAX_RC: 4,
  DEC_TIMEOUT: 1_000,
  DEC_MAX_RC: 4,
  /** Information Refresh Time default and floor (§21.23). */
  IRT_DEFAULT: 86_400_000,
  IRT_MINIMUM: 600_000,
} as const;

/** SOL_MAX_RT / INF_MAX_RT options are taken between 60 and 86400 s (§21.24, §21.25). */
const MAX_RT_OPTION_MIN = 60;
const MAX_RT_OPTION_MAX = 86_400;
/** How long DAD may take before an unanswered address is taken as free. */
const CHECK_TIMEOUT_MS = 10_000;
/** Restarts after failed exchanges wait 1, 2, 4 ... s, up to this. */
const MAX_RESTART_BACKOFF_MS = 300_000;
/** Addresses we keep from one IA_NA (a bound on a hostile server's list). */
const MAX_ADDRESSES = 8;
const MAX_DNS_SERVERS = 8;
const MAX_DOMAINS = 8;

export interface Dhcp6LeaseAddress {
  address: Uint8Array;
  /** Seconds, as the server gave them (0xffffffff: infinite). */
  preferredLifetime: number;
  validLifetime: number;
  /** Clock ms when the address stops being preferred / valid (Infinity: never). */
  preferredUntil: number;
  validUntil: number;
}

/** The addresses and configuration a server gave us. */
export interface Dhcp6Lease {
  serverId: Dhcp6Duid;
  /** Where the server's Reply came from (its link-local address, or a relay's). */
  server: Uint8Array;
  /** The server's Unicast option: Renew, Release and Decline go there instead of ff02::1:2. */
  unicast: Uint8Array | null;
  iaid: number;
  /** Seconds from `startedAt`; 0xffffffff: never. */
  t1: number;
  t2: number;
  addresses: Dhcp6LeaseAddress[];
  dnsServers: Uint8Array[];
  domains: string[];
  /** Clock ms when the exchange that got (or last extended) the lease began. */
  startedAt: number;
}

/** Configuration from a stateless exchange. */
export interface Dhcp6Information {
  serverId: Dhcp6Duid;
  server: Uint8Array;
  dnsServers: Uint8Array[];
  domains: string[];
  /** Milliseconds until we ask again (Infinity: never). */
  refreshMs: number;
}

export type Dhcp6Event =
  | { type: 'started'; mode: Dhcp6Mode }
  | { type: 'bound'; lease: Dhcp6Lease }
  | { type: 'renewed'; lease: Dhcp6Lease }
  | { type: 'rebound'; lease: Dhcp6Lease }
  /** An address's valid lifetime ended; `lease` is null when it was the last one. */
  | { type: 'expired'; address: Uint8Array; lease: Dhcp6Lease | null }
  | { type: 'declined'; addresses: Uint8Array[]; serverId: Dhcp6Duid }
  | { type: 'released'; addresses: Uint8Array[]; serverId: Dhcp6Duid }
  | { type: 'informed'; info: Dhcp6Information }
  /** A server refused (NoAddrsAvail, NoBinding, NotOnLink, UseMulticast ...) in `state`. */
  | { type: 'status'; state: Dhcp6State; status: number; message: string | null }
  /** No answer yet: `attempt` transmissions so far in `state`, the next in `nextInMs`. */
  | { type: 'retrying'; state: Dhcp6State; attempt: number; nextInMs: number }
  /** An exchange ran out of transmissions (MRC) or time (MRD). */
  | { type: 'gave-up'; state: Dhcp6State };

export type Dhcp6Action =
  /** Send `bytes` from our link-local address, UDP port 546, to `dst` port 547. */
  | { type: 'send'; bytes: Uint8Array; dst: Uint8Array; srcPort: number; dstPort: number }
  /**
   * Add `address` as a /128 with these lifetimes (clock ms), or give a known one new lifetimes.
   * A new one goes through DAD; answer with `dadResult`.
   */
  | { type: 'add-address'; address: Uint8Array; preferredUntil: number; validUntil: number }
  | { type: 'remove-address'; address: Uint8Array }
  /** The DNS servers and search domains in force (empty when none). */
  | { type: 'dns'; servers: Uint8Array[]; domains: string[] }
  | { type: 'event'; event: Dhcp6Event };

export interface Dhcp6ClientOptions {
  /** Client Identifier (a DUID, wire.ts `duidLl` / `duidLlt`). */
  clientId: Dhcp6Duid;
  /** IAID of our IA_NA (wire.ts `iaidFromMac`). */
  iaid: number;
  /** Uniform in [0, 1); injected so tests are deterministic. */
  random: () => number;
}

/** Why a received datagram was dropped; `stats().drops` counts each. */
export type Dhcp6DropReason =
  | Dhcp6ParseFailure
  | 'unexpected_type'
  | 'not_waiting'
  | 'wrong_xid'
  | 'no_server_id'
  | 'wrong_client_id'
  | 'wrong_server'
  | 'no_addresses'
  | 'bad_times'
  | 'status';

export interface Dhcp6ClientStats {
  sent: number;
  received: number;
  accepted: number;
  drops: Partial<Record<Dhcp6DropReason, number>>;
}

/** Options we ask for: DNS servers (23), domains (24), and SOL_MAX_RT, which §21.24 requires. */
const STATEFUL_ORO: readonly number[] = [
  Dhcp6OptionCode.DnsServers,
  Dhcp6OptionCode.DomainList,
  Dhcp6OptionCode.SolMaxRt,
];
/** §18.2.6: Information-Request also asks for the refresh time and INF_MAX_RT. */
const STATELESS_ORO: readonly number[] = [
  Dhcp6OptionCode.DnsServers,
  Dhcp6OptionCode.DomainList,
  Dhcp6OptionCode.InformationRefreshTime,
  Dhcp6OptionCode.InfMaxRt,
];

/** One exchange's retransmission state (§15). */
interface Exchange {
  irt: number;
  mrt: number;
  /** 0: no limit. */
  mrc: number;
  /** Clock ms after which the exchange ends (Infinity: none). */
  mrdAt: number;
  /** The current retransmission timeout. */
  rt: number;
  count: number;
  /** Clock ms of the first transmission (elapsed time counts from it). */
  start: number;
  /** The first RT for Solicit must be above IRT (RAND > 0, §15). */
  positiveFirst: boolean;
}

/** Seconds to clock ms from `from`; infinity stays infinity. */
function at(from: number, seconds: number): number {
  return seconds === INFINITY_SECONDS ? Infinity : from + seconds * 1000;
}

export class Dhcp6Client {
  private actions: Dhcp6Action[] = [];
  private stateValue: Dhcp6State = Dhcp6State.Idle;
  private mode: Dhcp6Mode | null = null;
  private xid = 0;
  private ex: Exchange = {
    irt: 0,
    mrt: 0,
    mrc: 0,
    mrdAt: Infinity,
    rt: 0,
    count: 0,
    start: 0,
    positiveFirst: false,
  };
  /** When the current state's timer fires (Infinity = none). */
  private deadline = Infinity;
  /** Soliciting: when the first RT ends (Advertises are collected until then). */
  private firstRtEnd = Infinity;
  private best: { message: Dhcp6ServerMessage; from: Uint8Array } | null = null;
  /** The lease we hold, check, renew, or (REQUESTING) were offered. */
  private leaseValue: Dhcp6Lease | null = null;
  /** Addresses waiting for DAD, and those DAD found in use. */
  private readonly pendingDad: Uint8Array[] = [];
  private readonly duplicates: Uint8Array[] = [];
  /** DECLINING / RELEASING: the addresses named in the message. */
  private named: Uint8Array[] = [];
  /** Renew, Release, Decline go by multicast after a UseMulticast status (§18.2.10). */
  private useUnicast = true;
  private solMaxRt: number = Dhcp6Timing.SOL_MAX_RT;
  private infMaxRt: number = Dhcp6Timing.INF_MAX_RT;
  private failures = 0;
  /** Whether this lease's 'bound' went out (a Decline right after DAD comes before it). */
  private announced = false;
  private info: Dhcp6Information | null = null;
  private readonly counters: Dhcp6ClientStats = { sent: 0, received: 0, accepted: 0, drops: {} };

  constructor(private readonly opts: Dhcp6ClientOptions) {}

  get state(): Dhcp6State {
    return this.stateValue;
  }

  /** The mode started (null before `start`). */
  get startedMode(): Dhcp6Mode | null {
    return this.mode;
  }

  /** The lease in force (BOUND, RENEWING, REBINDING, DECLINING), else null. */
  get lease(): Dhcp6Lease | null {
    return this.holdsLease() ? this.leaseValue : null;
  }

  /** The last stateless configuration (INFORMED, and INFORMING again at refresh). */
  get information(): Dhcp6Information | null {
    return this.info;
  }

  stats(): Dhcp6ClientStats {
    return { ...this.counters, drops: { ...this.counters.drops } };
  }

  drain(): Dhcp6Action[] {
    const out = this.actions;
    this.actions = [];
    return out;
  }

  /**
   * Starts `mode`. Starting stateful while stateless runs switches to it (an RA's M flag after
   * its O flag); anything else while running is ignored.
   */
  start(now: number, mode: Dhcp6Mode): void {
    if (this.stateValue === Dhcp6State.Stopped) this.mode = null;
    if (this.mode === mode || this.stateValue === Dhcp6State.Releasing) return;
    if (this.mode === 'stateful') return;
    this.mode = mode;
    this.emit({ type: 'started', mode });
    if (mode === 'stateful') this.enterSoliciting(now);
    else this.enterInforming(now);
  }

  nextTimeout(): number {
    let next = this.deadline;
    if (this.holdsLease() && this.leaseValue !== null)
      for (const a of this.leaseValue.addresses) next = Math.min(next, a.validUntil);
    return next;
  }

  tick(now: number): void {
    // A long jump of the clock may pass several deadlines (T1, T2, expiry) at once.
    for (let guard = 0; guard < 16 && now >= this.nextTimeout(); guard++) this.onTimeout(now);
  }

  /** A UDP datagram to port 546 from port 547 (payload only), sent by `src`. */
  input(bytes: Uint8Array, offset: number, length: number, src: Uint8Array, now: number): void {
    this.counters.received++;
    const parsed = parseDhcp6ServerMessage(bytes, offset, length, this.opts.iaid);
    if (typeof parsed === 'string') return this.drop(parsed);
    const m = parsed;
    if (m.msgType !== Dhcp6MessageType.Advertise && m.msgType !== Dhcp6MessageType.Reply)
      return this.drop('unexpected_type'); // Reconfigure included: we never accept it (§18.2.11)
    const s = this.stateValue;
    const waiting =
      s === Dhcp6State.Soliciting
        ? m.msgType === Dhcp6MessageType.Advertise
        : m.msgType === Dhcp6MessageType.Reply &&
          (s === Dhcp6State.Requesting ||
            s === Dhcp6State.Renewing ||
            s === Dhcp6State.Rebinding ||
            s === Dhcp6State.Declining ||
            s === Dhcp6State.Releasing ||
            s === Dhcp6State.Informing);
    if (!waiting || this.ex.count === 0) return this.drop('not_waiting');
    if (m.transactionId !== this.xid) return this.drop('wrong_xid');
    // §16.3, §16.10: Advertise and Reply carry the server's DUID and our Client Identifier.
    if (m.serverId === null) return this.drop('no_server_id');
    if (m.clientId === null || !duidEquals(m.clientId, this.opts.clientId))
      return this.drop('wrong_client_id');
    const l = this.leaseValue;
    if (
      (s === Dhcp6State.Requesting ||
        s === Dhcp6State.Renewing ||
        s === Dhcp6State.Declining ||
        s === Dhcp6State.Releasing) &&
      l !== null &&
      !duidEquals(m.serverId, l.serverId)
    )
      return this.drop('wrong_server');
    switch (s) {
      case Dhcp6State.Soliciting:
        return this.onAdvertise(now, m, src);
      case Dhcp6State.Requesting:
        return this.onRequestReply(now, m, src);
      case Dhcp6State.Renewing:
      case Dhcp6State.Rebinding:
        return this.onRenewReply(now, m, src);
      case Dhcp6State.Declining:
        this.counters.accepted++;
        return this.afterDecline(now);
      case Dhcp6State.Releasing:
        this.counters.accepted++;
        return this.enterStopped();
      default:
        return this.onInformationReply(now, m, src);
    }
  }

  /** DAD's verdict on an address an `add-address` action added: `inUse` means a duplicate. */
  dadResult(address: Uint8Array, inUse: boolean, now: number): void {
    const i = this.pendingDad.findIndex((a) => ipv6Equals(a, 0, address, 0));
    if (i < 0) return;
    this.pendingDad.splice(i, 1);
    if (inUse) this.duplicates.push(address.slice(0, 16));
    if (this.stateValue === Dhcp6State.Checking) {
      if (this.pendingDad.length === 0) this.finishCheck(now);
      return;
    }
    // An address a renewal added: decline it now unless another exchange must finish first.
    if (inUse && (this.stateValue === Dhcp6State.Bound || this.stateValue === Dhcp6State.Renewing))
      this.startDecline(now);
  }

  /** Releases a held lease (§18.2.7): the addresses go at once, the Release is retransmitted. */
  release(now: number): void {
    const l = this.lease;
    if (l === null || l.addresses.length === 0) return this.enterStopped();
    this.named = l.addresses.map((a) => a.address);
    for (const a of this.named) this.actions.push({ type: 'remove-address', address: a });
    l.addresses = [];
    this.emit({ type: 'released', addresses: this.named, serverId: l.serverId });
    this.setDns([], []);
    this.stateValue = Dhcp6State.Releasing;
    this.begin(now, Dhcp6Timing.REL_TIMEOUT, 0, Dhcp6Timing.REL_MAX_RC, Infinity, 0, false);
  }

  /** Stops without releasing (addresses stay until their lifetimes end). */
  stop(): void {
    this.enterStopped();
  }

  // ---- transitions -------------------------------------------------------------------------

  private holdsLease(): boolean {
    const s = this.stateValue;
    return (
      s === Dhcp6State.Bound ||
      s === Dhcp6State.Renewing ||
      s === Dhcp6State.Rebinding ||
      s === Dhcp6State.Declining ||
      s === Dhcp6State.Checking
    );
  }

  private onTimeout(now: number): void {
    if (this.holdsLease() && this.expireAddresses(now)) return;
    if (now < this.deadline) return;
    switch (this.stateValue) {
      case Dhcp6State.Idle:
        this.deadline = Infinity;
        if (this.mode === 'stateful') return this.enterSoliciting(now);
        if (this.mode === 'stateless') return this.enterInforming(now);
        return;
      case Dhcp6State.Soliciting:
        // The first RT ended with Advertises in hand: take the best (§18.2.1).
        if (this.ex.count > 0 && now >= this.firstRtEnd && this.best !== null)
          return this.enterRequesting(now, this.best.message, this.best.from);
        return this.transmit(now);
      case Dhcp6State.Checking:
        // DAD never answered (address removed meanwhile, DAD off): nothing proved a conflict.
        this.pendingDad.length = 0;
        return this.finishCheck(now);
      case Dhcp6State.Bound: {
        const l = this.leaseValue;
        if (l === null) return;
        if (now >= at(l.startedAt, l.t2)) return this.enterRebinding(now, l);
        return this.enterRenewing(now, l);
      }
      case Dhcp6State.Informed:
        return this.enterInforming(now);
      case Dhcp6State.Requesting:
      case Dhcp6State.Renewing:
      case Dhcp6State.Rebinding:
      case Dhcp6State.Declining:
      case Dhcp6State.Releasing:
      case Dhcp6State.Informing:
        return this.transmit(now);
      default:
        this.deadline = Infinity;
    }
  }

  /** Removes addresses whose valid lifetime ended; true when that ended the lease. */
  private expireAddresses(now: number): boolean {
    const l = this.leaseValue;
    if (l === null) return false;
    const gone = l.addresses.filter((a) => a.validUntil <= now);
    if (gone.length === 0) return false;
    l.addresses = l.addresses.filter((a) => a.validUntil > now);
    const last = l.addresses.length === 0;
    for (const a of gone) {
      this.actions.push({ type: 'remove-address', address: a.address });
      this.emit({ type: 'expired', address: a.address, lease: last ? null : l });
    }
    if (!last) return false;
    this.leaseValue = null;
    this.setDns([], []);
    this.enterSoliciting(now);
    return true;
  }

  private enterSoliciting(now: number): void {
    this.stateValue = Dhcp6State.Soliciting;
    this.leaseValue = null;
    this.announced = false;
    this.best = null;
    this.firstRtEnd = Infinity;
    this.pendingDad.length = 0;
    this.duplicates.length = 0;
    this.useUnicast = true;
    this.begin(
      now,
      Dhcp6Timing.SOL_TIMEOUT,
      this.solMaxRt,
      0,
      Infinity,
      this.opts.random() * Dhcp6Timing.SOL_MAX_DELAY,
      true,
    );
  }

  private enterRequesting(now: number, offer: Dhcp6ServerMessage, from: Uint8Array): void {
    const ia = offer.ia;
    this.stateValue = Dhcp6State.Requesting;
    this.best = null;
    this.leaseValue = {
      serverId: offer.serverId as Dhcp6Duid,
      server: from.slice(0, 16),
      unicast: offer.unicast,
      iaid: this.opts.iaid,
      t1: 0,
      t2: 0,
      addresses: (ia?.addresses ?? []).slice(0, MAX_ADDRESSES).map((a) => ({
        ...a,
        preferredUntil: now,
        validUntil: now,
      })),
      dnsServers: [],
      domains: [],
      startedAt: now,
    };
    this.begin(
      now,
      Dhcp6Timing.REQ_TIMEOUT,
      Dhcp6Timing.REQ_MAX_RT,
      Dhcp6Timing.REQ_MAX_RC,
      Infinity,
      0,
      false,
    );
  }

  private enterRenewing(now: number, l: Dhcp6Lease): void {
    this.stateValue = Dhcp6State.Renewing;
    // §18.2.4: MRD is the time left until T2.
    this.begin(
      now,
      Dhcp6Timing.REN_TIMEOUT,
      Dhcp6Timing.REN_MAX_RT,
      0,
      at(l.startedAt, l.t2),
      0,
      false,
    );
  }

  private enterRebinding(now: number, l: Dhcp6Lease): void {
    this.stateValue = Dhcp6State.Rebinding;
    // §18.2.5: MRD is the time left until the valid lifetimes of all addresses end.
    let end = 0;
    for (const a of l.addresses) end = Math.max(end, a.validUntil);
    this.begin(now, Dhcp6Timing.REB_TIMEOUT, Dhcp6Timing.REB_MAX_RT, 0, end, 0, false);
  }

  private enterInforming(now: number): void {
    this.stateValue = Dhcp6State.Informing;
    this.begin(
      now,
      Dhcp6Timing.INF_TIMEOUT,
      this.infMaxRt,
      0,
      Infinity,
      this.opts.random() * Dhcp6Timing.INF_MAX_DELAY,
      false,
    );
  }

  private startDecline(now: number): void {
    const l = this.leaseValue;
    if (l === null || this.duplicates.length === 0) return;
    this.named = this.duplicates.splice(0);
    l.addresses = l.addresses.filter(
      (a) => !this.named.some((d) => ipv6Equals(d, 0, a.address, 0)),
    );
    for (const a of this.named) this.actions.push({ type: 'remove-address', address: a });
    this.emit({ type: 'declined', addresses: this.named, serverId: l.serverId });
    this.stateValue = Dhcp6State.Declining;
    this.begin(now, Dhcp6Timing.DEC_TIMEOUT, 0, Dhcp6Timing.DEC_MAX_RC, Infinity, 0, false);
  }

  private afterDecline(now: number): void {
    const l = this.leaseValue;
    if (l !== null && l.addresses.length > 0)
      return this.bind(now, l, this.announced ? null : 'bound');
    this.leaseValue = null;
    this.setDns([], []);
    this.restart(now);
  }

  private finishCheck(now: number): void {
    const l = this.leaseValue;
    if (l === null) return this.restart(now);
    if (this.duplicates.length > 0) return this.startDecline(now);
    this.bind(now, l, 'bound');
  }

  private bind(now: number, l: Dhcp6Lease, kind: 'bound' | 'renewed' | 'rebound' | null): void {
    this.stateValue = Dhcp6State.Bound;
    this.leaseValue = l;
    this.failures = 0;
    this.ex.count = 0;
    this.deadline = at(l.startedAt, l.t1);
    if (kind !== null) this.emit({ type: kind, lease: l });
    this.announced = true;
    if (this.duplicates.length > 0) this.startDecline(now);
  }

  private enterStopped(): void {
    this.stateValue = Dhcp6State.Stopped;
    this.deadline = Infinity;
    this.ex.count = 0;
    this.leaseValue = null;
    this.best = null;
  }

  /** After a failed exchange: at once the first time, then backing off. */
  private restart(now: number): void {
    this.failures++;
    this.leaseValue = null;
    if (this.failures <= 1) {
      if (this.mode === 'stateless') return this.enterInforming(now);
      return this.enterSoliciting(now);
    }
    this.stateValue = Dhcp6State.Idle;
    this.ex.count = 0;
    this.deadline = now + Math.min(1000 * 2 ** (this.failures - 2), MAX_RESTART_BACKOFF_MS);
  }

  private giveUp(now: number): void {
    const s = this.stateValue;
    this.emit({ type: 'gave-up', state: s });
    const l = this.leaseValue;
    switch (s) {
      case Dhcp6State.Requesting:
        return this.restart(now);
      case Dhcp6State.Renewing:
        if (l !== null) return this.enterRebinding(now, l);
        return this.restart(now);
      case Dhcp6State.Rebinding:
        // The valid lifetimes end now: expireAddresses removes them on this very tick.
        if (l !== null) for (const a of l.addresses) a.validUntil = Math.min(a.validUntil, now);
        if (!this.expireAddresses(now)) this.restart(now);
        return;
      case Dhcp6State.Declining:
        return this.afterDecline(now);
      case Dhcp6State.Releasing:
        return this.enterStopped();
      default:
        return this.restart(now);
    }
  }

  // ---- received messages -------------------------------------------------------------------

  private usableOffer(m: Dhcp6ServerMessage): boolean {
    return m.ia !== null && m.ia.status === Dhcp6StatusCode.Success && m.ia.addresses.length > 0;
  }

  private takeMaxRt(m: Dhcp6ServerMessage): void {
    if (m.solMaxRt >= MAX_RT_OPTION_MIN && m.solMaxRt <= MAX_RT_OPTION_MAX)
      this.solMaxRt = m.solMaxRt * 1000;
    if (m.infMaxRt >= MAX_RT_OPTION_MIN && m.infMaxRt <= MAX_RT_OPTION_MAX)
      this.infMaxRt = m.infMaxRt * 1000;
  }

  private onAdvertise(now: number, m: Dhcp6ServerMessage, from: Uint8Array): void {
    // §18.2.9: SOL_MAX_RT counts even in an Advertise we otherwise ignore.
    this.takeMaxRt(m);
    if (!this.usableOffer(m)) {
      if (m.ia !== null && m.ia.status !== Dhcp6StatusCode.Success)
        this.emit({
          type: 'status',
          state: this.stateValue,
          status: m.ia.status,
          message: m.ia.statusMessage,
        });
      else if (m.status !== Dhcp6StatusCode.Success)
        this.emit({
          type: 'status',
          state: this.stateValue,
          status: m.status,
          message: m.statusMessage,
        });
      return this.drop('no_addresses');
    }
    this.counters.accepted++;
    // Preference 255, or the first RT already over: take it at once; else keep the best.
    if (m.preference === 255 || now >= this.firstRtEnd) return this.enterRequesting(now, m, from);
    if (this.best === null || m.preference > this.best.message.preference)
      this.best = { message: m, from: from.slice(0, 16) };
  }

  private onRequestReply(now: number, m: Dhcp6ServerMessage, from: Uint8Array): void {
    if (m.status === Dhcp6StatusCode.UseMulticast) {
      // Requests go by multicast already: keep retransmitting.
      this.emit({
        type: 'status',
        state: this.stateValue,
        status: m.status,
        message: m.statusMessage,
      });
      return this.drop('status');
    }
    // NotOnLink (§18.2.10.1: solicit again), UnspecFail and the rest: start over.
    if (m.status !== Dhcp6StatusCode.Success) {
      this.counters.accepted++;
      this.emit({
        type: 'status',
        state: this.stateValue,
        status: m.status,
        message: m.statusMessage,
      });
      return this.restart(now);
    }
    const ia = m.ia;
    if (ia === null || ia.status !== Dhcp6StatusCode.Success || ia.addresses.length === 0) {
      this.counters.accepted++;
      this.emit({
        type: 'status',
        state: this.stateValue,
        status: ia === null ? Dhcp6StatusCode.NoAddrsAvail : ia.status,
        message: ia?.statusMessage ?? null,
      });
      return this.restart(now);
    }
    const lease = this.leaseFrom(m, from, ia.t1, ia.t2, this.ex.start);
    if (lease === null) return this.drop('bad_times');
    this.counters.accepted++;
    this.stateValue = Dhcp6State.Checking;
    this.ex.count = 0;
    this.leaseValue = lease;
    this.pendingDad.length = 0;
    this.duplicates.length = 0;
    for (const a of lease.addresses) {
      this.pendingDad.push(a.address);
      this.actions.push({
        type: 'add-address',
        address: a.address,
        preferredUntil: a.preferredUntil,
        validUntil: a.validUntil,
      });
    }
    this.setDns(lease.dnsServers, lease.domains);
    this.deadline = now + CHECK_TIMEOUT_MS;
    // The owner's DAD may answer synchronously while the actions run; CHECKING waits for it.
  }

  private onRenewReply(now: number, m: Dhcp6ServerMessage, from: Uint8Array): void {
    const l = this.leaseValue;
    if (l === null) return this.drop('not_waiting');
    const s = this.stateValue;
    if (m.status === Dhcp6StatusCode.UseMulticast) {
      // §18.2.10: send again, by multicast from now on.
      this.counters.accepted++;
      this.emit({ type: 'status', state: s, status: m.status, message: m.statusMessage });
      this.useUnicast = false;
      return this.transmit(now);
    }
    if (m.status !== Dhcp6StatusCode.Success) {
      // UnspecFail and the like: the exchange goes on retransmitting (§18.2.10).
      this.emit({ type: 'status', state: s, status: m.status, message: m.statusMessage });
      return this.drop('status');
    }
    const ia = m.ia;
    if (ia !== null && ia.status === Dhcp6StatusCode.NoBinding) {
      // §18.2.10.1: the server lost our binding: Request it again, from the server that said so.
      this.counters.accepted++;
      this.emit({ type: 'status', state: s, status: ia.status, message: ia.statusMessage });
      l.serverId = m.serverId as Dhcp6Duid;
      l.server = from.slice(0, 16);
      this.stateValue = Dhcp6State.Requesting;
      this.begin(
        now,
        Dhcp6Timing.REQ_TIMEOUT,
        Dhcp6Timing.REQ_MAX_RT,
        Dhcp6Timing.REQ_MAX_RC,
        Infinity,
        0,
        false,
      );
      return;
    }
    if (ia === null || ia.status !== Dhcp6StatusCode.Success || ia.addresses.length === 0) {
      if (ia !== null && ia.status !== Dhcp6StatusCode.Success)
        this.emit({ type: 'status', state: s, status: ia.status, message: ia.statusMessage });
      return this.drop('no_addresses');
    }
    const fresh = this.leaseFrom(m, from, ia.t1, ia.t2, this.ex.start);
    if (fresh === null) return this.drop('bad_times');
    this.counters.accepted++;
    // §18.2.10.1: new addresses are added, known ones take the new lifetimes, a valid lifetime
    // of 0 removes one, and those the server left out stay as they were.
    const kept = l.addresses.filter(
      (a) => !fresh.addresses.some((f) => ipv6Equals(f.address, 0, a.address, 0)),
    );
    for (const f of fresh.addresses) {
      const known = l.addresses.some((a) => ipv6Equals(a.address, 0, f.address, 0));
      if (f.validLifetime === 0) {
        if (known) this.actions.push({ type: 'remove-address', address: f.address });
        continue;
      }
      if (!known) this.pendingDad.push(f.address);
      this.actions.push({
        type: 'add-address',
        address: f.address,
        preferredUntil: f.preferredUntil,
        validUntil: f.validUntil,
      });
      kept.push(f);
    }
    fresh.addresses = kept.slice(0, MAX_ADDRESSES);
    if (fresh.addresses.length === 0) {
      this.leaseValue = null;
      this.setDns([], []);
      return this.enterSoliciting(now);
    }
    this.setDns(fresh.dnsServers, fresh.domains);
    this.bind(now, fresh, s === Dhcp6State.Renewing ? 'renewed' : 'rebound');
  }

  private onInformationReply(now: number, m: Dhcp6ServerMessage, from: Uint8Array): void {
    this.takeMaxRt(m);
    if (m.status !== Dhcp6StatusCode.Success) {
      this.emit({
        type: 'status',
        state: this.stateValue,
        status: m.status,
        message: m.statusMessage,
      });
      return this.drop('status');
    }
    this.counters.accepted++;
    // §21.23: absent means 86400 s; less than 600 s means 600 s.
    const refreshMs =
      m.refreshTime === INFINITY_SECONDS
        ? Infinity
        : m.refreshTime < 0
          ? Dhcp6Timing.IRT_DEFAULT
          : Math.max(m.refreshTime * 1000, Dhcp6Timing.IRT_MINIMUM);
    const info: Dhcp6Information = {
      serverId: m.serverId as Dhcp6Duid,
      server: from.slice(0, 16),
      dnsServers: m.dnsServers.slice(0, MAX_DNS_SERVERS),
      domains: m.domains.slice(0, MAX_DOMAINS),
      refreshMs,
    };
    this.info = info;
    this.failures = 0;
    this.stateValue = Dhcp6State.Informed;
    this.ex.count = 0;
    this.deadline = now + refreshMs;
    this.setDns(info.dnsServers, info.domains);
    this.emit({ type: 'informed', info });
  }

  /**
   * The lease a Reply describes, or null when its T1/T2 contradict each other (§21.4: T1 > T2,
   * both non-zero, means the client discards the IA). T1 = T2 = 0 leaves the times to us:
   * 0.5 and 0.8 of the shortest preferred lifetime (§18.2.4).
   */
  private leaseFrom(
    m: Dhcp6ServerMessage,
    from: Uint8Array,
    t1In: number,
    t2In: number,
    startedAt: number,
  ): Dhcp6Lease | null {
    if (t1In !== 0 && t2In !== 0 && t1In > t2In) return null;
    const addrs = (m.ia?.addresses ?? []).slice(0, MAX_ADDRESSES);
    let shortest = INFINITY_SECONDS;
    for (const a of addrs)
      if (a.validLifetime !== 0) shortest = Math.min(shortest, a.preferredLifetime);
    let t1 = t1In;
    let t2 = t2In;
    if (shortest === INFINITY_SECONDS) {
      if (t1 === 0) t1 = INFINITY_SECONDS;
      if (t2 === 0) t2 = INFINITY_SECONDS;
    } else {
      // A preferred lifetime of 0 would renew in a tight loop: hold at least a few seconds.
      const base = Math.max(shortest, 10);
      if (t1 === 0) t1 = Math.floor(base * 0.5);
      if (t2 === 0) t2 = Math.floor(base * 0.8);
      if (t1 > t2) t1 = t2;
    }
    return {
      serverId: m.serverId as Dhcp6Duid,
      server: from.slice(0, 16),
      unicast: m.unicast,
      iaid: this.opts.iaid,
      t1,
      t2,
      addresses: addrs.map((a) => ({
        address: a.address,
        preferredLifetime: a.preferredLifetime,
        validLifetime: a.validLifetime,
        preferredUntil: at(startedAt, a.preferredLifetime),
        validUntil: at(startedAt, a.validLifetime),
      })),
      dnsServers: m.dnsServers.slice(0, MAX_DNS_SERVERS),
      domains: m.domains.slice(0, MAX_DOMAINS),
      startedAt,
    };
  }

  // ---- transmission ------------------------------------------------------------------------

  /** Starts an exchange: a new transaction id, the first transmission after `delayMs`. */
  private begin(
    now: number,
    irt: number,
    mrt: number,
    mrc: number,
    mrdAt: number,
    delayMs: number,
    positiveFirst: boolean,
  ): void {
    this.xid = Math.floor(this.opts.random() * 0x1000000) & 0xffffff;
    this.ex = { irt, mrt, mrc, mrdAt, rt: 0, count: 0, start: now, positiveFirst };
    if (delayMs > 0) {
      this.deadline = now + delayMs;
      return;
    }
    this.transmit(now);
  }

  /** RAND of §15: uniform in [-0.1, 0.1] (in (0, 0.1] for Solicit's first RT). */
  private rand(positive: boolean): number {
    const r = this.opts.random();
    return positive ? (1 - r) * 0.1 : (r * 2 - 1) * 0.1;
  }

  /** Sends (or re-sends) the current state's message, or ends the exchange at MRC/MRD. */
  private transmit(now: number): void {
    const ex = this.ex;
    if ((ex.mrc > 0 && ex.count >= ex.mrc) || now >= ex.mrdAt) return this.giveUp(now);
    // A SOL_MAX_RT or INF_MAX_RT option received meanwhile counts from the next RT on.
    if (this.stateValue === Dhcp6State.Soliciting) ex.mrt = this.solMaxRt;
    else if (this.stateValue === Dhcp6State.Informing) ex.mrt = this.infMaxRt;
    if (ex.count === 0) {
      ex.start = now;
      ex.rt = ex.irt + this.rand(ex.positiveFirst) * ex.irt;
    } else {
      ex.rt = 2 * ex.rt + this.rand(false) * ex.rt;
    }
    if (ex.mrt > 0 && ex.rt > ex.mrt) ex.rt = ex.mrt + this.rand(false) * ex.mrt;
    ex.count++;
    this.sendCurrent(now);
    this.deadline = Math.min(now + ex.rt, ex.mrdAt);
    if (this.stateValue === Dhcp6State.Soliciting && ex.count === 1) this.firstRtEnd = now + ex.rt;
    if (ex.count > 1)
      this.emit({
        type: 'retrying',
        state: this.stateValue,
        attempt: ex.count,
        nextInMs: this.deadline - now,
      });
  }

  private sendCurrent(now: number): void {
    const l = this.leaseValue;
    const elapsedMs = now - this.ex.start;
    const base = { transactionId: this.xid, clientId: this.opts.clientId, elapsedMs };
    const ia = (addresses: readonly Uint8Array[]): Dhcp6ClientMessage['ia'] => ({
      iaid: this.opts.iaid,
      addresses: addresses.map((address) => ({ address })),
    });
    const held = l === null ? [] : l.addresses.map((a) => a.address);
    const multicast = ALL_DHCP_RELAY_AGENTS_AND_SERVERS;
    const toServer = l !== null && l.unicast !== null && this.useUnicast ? l.unicast : multicast;
    switch (this.stateValue) {
      case Dhcp6State.Soliciting:
        return this.send(
          { ...base, msgType: Dhcp6MessageType.Solicit, optionRequest: STATEFUL_ORO, ia: ia([]) },
          multicast,
        );
      case Dhcp6State.Requesting:
        if (l === null) return;
        return this.send(
          {
            ...base,
            msgType: Dhcp6MessageType.Request,
            serverId: l.serverId,
            optionRequest: STATEFUL_ORO,
            ia: ia(held),
          },
          multicast,
        );
      case Dhcp6State.Renewing:
        if (l === null) return;
        return this.send(
          {
            ...base,
            msgType: Dhcp6MessageType.Renew,
            serverId: l.serverId,
            optionRequest: STATEFUL_ORO,
            ia: ia(held),
          },
          toServer,
        );
      case Dhcp6State.Rebinding:
        return this.send(
          { ...base, msgType: Dhcp6MessageType.Rebind, optionRequest: STATEFUL_ORO, ia: ia(held) },
          multicast,
        );
      case Dhcp6State.Declining:
        if (l === null) return;
        return this.send(
          { ...base, msgType: Dhcp6MessageType.Decline, serverId: l.serverId, ia: ia(this.named) },
          toServer,
        );
      case Dhcp6State.Releasing:
        if (l === null) return;
        return this.send(
          { ...base, msgType: Dhcp6MessageType.Release, serverId: l.serverId, ia: ia(this.named) },
          toServer,
        );
      case Dhcp6State.Informing:
        return this.send(
          { ...base, msgType: Dhcp6MessageType.InformationRequest, optionRequest: STATELESS_ORO },
          multicast,
        );
      default:
        return;
    }
  }

  private send(m: Dhcp6ClientMessage, dst: Uint8Array): void {
    this.counters.sent++;
    this.actions.push({
      type: 'send',
      bytes: encodeDhcp6ClientMessage(m),
      dst,
      srcPort: DHCP6_CLIENT_PORT,
      dstPort: DHCP6_SERVER_PORT,
    });
  }

  private setDns(servers: Uint8Array[], domains: string[]): void {
    this.actions.push({ type: 'dns', servers, domains });
  }

  private emit(event: Dhcp6Event): void {
    this.actions.push({ type: 'event', event });
  }

  private drop(reason: Dhcp6DropReason): void {
    const d = this.counters.drops;
    d[reason] = (d[reason] ?? 0) + 1;
  }
}
