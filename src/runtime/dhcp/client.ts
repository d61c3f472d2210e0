/**
 * The DHCP client state machine (RFC 2131 §4.4, figure 5), sans-IO: it never touches a socket,
 * a timer or the wall clock. The owner feeds it received messages (`input`), the time
 * (`tick`), and ARP probe results (`probeResult`); it answers with actions collected in a queue
 * (`drain()`): messages to send, an address probe to run, the configuration to apply, events.
 * `nextTimeout()` says when it next wants `tick`.
 *
 *   INIT ─DISCOVER─▶ SELECTING ─OFFER/REQUEST─▶ REQUESTING ─ACK─▶ CHECKING ─free─▶ BOUND
 *   INIT-REBOOT ─REQUEST─▶ REBOOTING ─ACK─▶ CHECKING          └─in use: DECLINE─▶ INIT (10 s)
 *   BOUND ─T1─▶ RENEWING (unicast) ─T2─▶ REBINDING (broadcast) ─expiry─▶ INIT
 *   any NAK ─▶ INIT
 */
import {
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  DhcpMessageType,
  DhcpOption,
  encodeDhcpRequest,
  ethernetClientId,
  parseDhcpReply,
  type DhcpParseFailure,
  type DhcpReply,
  type DhcpRequestParams,
} from './wire.js';

export const DhcpState = {
  Init: 'INIT',
  Selecting: 'SELECTING',
  Requesting: 'REQUESTING',
  InitReboot: 'INIT-REBOOT',
  Rebooting: 'REBOOTING',
  Checking: 'CHECKING',
  Bound: 'BOUND',
  Renewing: 'RENEWING',
  Rebinding: 'REBINDING',
  Stopped: 'STOPPED',
} as const;
export type DhcpState = (typeof DhcpState)[keyof typeof DhcpState];

/** An accepted lease. Times are in seconds as the server gave them; `startedAt` is clock ms. */
export interface DhcpLease {
  address: number;
  /** 0 when the server sent no subnet mask (the owner then derives a classful default). */
  netmask: number;
  /** First router, or 0 when none. */
  gateway: number;
  routers: number[];
  dns: number[];
  domainName: string | null;
  serverId: number;
  /** Seconds; 0xffffffff = infinite. */
  leaseTime: number;
  renewalTime: number;
  rebindingTime: number;
  /** Clock ms when the REQUEST that obtained this lease was first sent (RFC 2131 §4.4.1). */
  startedAt: number;
}

export type DhcpEvent =
  | { type: 'bound'; lease: DhcpLease }
  | { type: 'renewed'; lease: DhcpLease }
  | { type: 'rebound'; lease: DhcpLease }
  | { type: 'expired'; lease: DhcpLease }
  | { type: 'nak'; state: DhcpState; serverId: number; message: string | null }
  | { type: 'declined'; address: number; serverId: number }
  | { type: 'released'; address: number; serverId: number }
  /** No answer yet: `attempt` transmissions so far in `state`, next in `nextInMs`. */
  | { type: 'retrying'; state: DhcpState; attempt: number; nextInMs: number }
  /** A transaction ran out of retransmissions; the client falls back to INIT. */
  | { type: 'gave-up'; state: DhcpState };

export type DhcpAction =
  /** Send `bytes` from UDP port 68 to `dst`:67; `src` 0 means "from 0.0.0.0" (no lease yet). */
  | { type: 'send'; bytes: Uint8Array; src: number; dst: number; srcPort: number; dstPort: number }
  /** Check with ARP whether `address` is in use; answer with `probeResult`. */
  | { type: 'probe'; address: number }
  /** Configure the interface with `lease`, or remove the DHCP address when null. */
  | { type: 'configure'; lease: DhcpLease | null }
  | { type: 'event'; event: DhcpEvent };

export interface DhcpClientOptions {
  /** Our MAC (48-bit number). */
  mac: number;
  /** Returns a uniform number in [0, 1); injected so tests are deterministic. */
  random: () => number;
  hostname?: string;
  /** Option 61; default: type 1 (Ethernet) and the MAC. */
  clientId?: { type: number; id: Uint8Array };
  /** Option 57; default 1500 - 28 (IP + UDP headers of a 1500-byte MTU). */
  maxMessageSize?: number;
  /** A previously leased address: start in INIT-REBOOT and ask for it again. */
  rememberedAddress?: number;
  /** ARP-check an offered address before using it (RFC 2131 §4.4.1). Default true. */
  probe?: boolean;
  /** REQUEST transmissions in REQUESTING/REBOOTING before falling back to INIT. Default 4. */
  maxRequestAttempts?: number;
}

/** Parameters we ask servers for (option 55). */
export const PARAMETER_REQUEST_LIST: readonly number[] = [
  DhcpOption.SubnetMask,
  DhcpOption.Router,
  DhcpOption.DomainNameServer,
  DhcpOption.DomainName,
  DhcpOption.BroadcastAddress,
  DhcpOption.LeaseTime,
  DhcpOption.RenewalTime,
  DhcpOption.RebindingTime,
];

const BROADCAST = 0xffffffff;
const INFINITE_LEASE = 0xffffffff;
/** RFC 2131 §4.4.5: renewing/rebinding retransmissions wait at least 60 s. */
const MIN_RENEW_RETRY_MS = 60_000;
/** RFC 2131 §3.1.5: after a DECLINE, wait at least 10 s before restarting. */
const DECLINE_WAIT_MS = 10_000;
/** Shortest lease we accept as given (seconds); shorter ones are stretched to this. */
export const MIN_LEASE_SECONDS = 20;
/** RFC 2131 §4.1: the first retransmission waits 4 s, doubling up to 64 s, randomized ±1 s. */
const FIRST_BACKOFF_MS = 4_000;
const MAX_BACKOFF_MS = 64_000;

/** Why a received datagram was dropped; `stats().dropped` counts each. */
export type DhcpDropReason =
  | DhcpParseFailure
  | 'wrong_xid'
  | 'wrong_chaddr'
  | 'unexpected_type'
  | 'not_waiting'
  | 'no_server_id'
  | 'wrong_server'
  | 'bad_address'
  | 'no_lease_time';

export interface DhcpClientStats {
  sent: number;
  received: number;
  accepted: number;
  dropped: Partial<Record<DhcpDropReason, number>>;
}

/** Retransmission delay for the n-th retransmission (0-based): 4, 8, 16, 32, 64, 64 … s ± 1 s. */
export function backoffDelayMs(attempt: number, random: () => number): number {
  const base = Math.min(FIRST_BACKOFF_MS * 2 ** Math.min(attempt, 5), MAX_BACKOFF_MS);
  return base + (random() * 2 - 1) * 1000;
}

/** An address a server may sensibly hand out to a host (not 0/8, loopback, multicast, broadcast). */
export function isUsableHostAddress(a: number): boolean {
  const first = a >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}

export class DhcpClient {
  private readonly opts: Required<Omit<DhcpClientOptions, 'hostname' | 'rememberedAddress'>> &
    Pick<DhcpClientOptions, 'hostname' | 'rememberedAddress'>;
  private actions: DhcpAction[] = [];
  private stateValue: DhcpState = DhcpState.Init;
  private xid = 0;
  /** Transmissions in the current transaction (for backoff and give-up). */
  private attempts = 0;
  /** Clock ms of the transaction's first transmission (lease start, `secs` field). */
  private transactionStart = 0;
  /** Deadline of the current state's retransmission / wait timer (Infinity = none). */
  private deadline = Infinity;
  private offer: DhcpReply | null = null;
  /** The lease we hold (BOUND/RENEWING/REBINDING) or are checking (CHECKING). */
  private leaseValue: DhcpLease | null = null;
  /** NAKs since the last successful bind: repeated refusals back off instead of spinning. */
  private consecutiveNaks = 0;
  /** The address asked for in REBOOTING. */
  private rebootAddress = 0;
  private readonly counters: DhcpClientStats = { sent: 0, received: 0, accepted: 0, dropped: {} };

  constructor(options: DhcpClientOptions) {
    this.opts = {
      mac: options.mac,
      random: options.random,
      hostname: options.hostname,
      clientId: options.clientId ?? ethernetClientId(options.mac),
      maxMessageSize: options.maxMessageSize ?? 1472,
      rememberedAddress: options.rememberedAddress,
      probe: options.probe ?? true,
      maxRequestAttempts: options.maxRequestAttempts ?? 4,
    };
  }

  get state(): DhcpState {
    return this.stateValue;
  }

  /** The lease in force (BOUND, RENEWING, REBINDING), else null. */
  get lease(): DhcpLease | null {
    const s = this.stateValue;
    return s === DhcpState.Bound || s === DhcpState.Renewing || s === DhcpState.Rebinding
      ? this.leaseValue
      : null;
  }

  stats(): DhcpClientStats {
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  /** Takes the queued actions (the caller performs them in order). */
  drain(): DhcpAction[] {
    const out = this.actions;
    this.actions = [];
    return out;
  }

  /** Starts acquisition: INIT-REBOOT when an address is remembered, INIT otherwise. */
  start(now: number): void {
    if (
      this.opts.rememberedAddress !== undefined &&
      isUsableHostAddress(this.opts.rememberedAddress)
    ) {
      this.enterRebooting(now, this.opts.rememberedAddress);
    } else {
      this.enterSelecting(now);
    }
  }

  /** When `tick` should next be called (clock ms), or Infinity. */
  nextTimeout(): number {
    const l = this.leaseValue;
    if (this.stateValue === DhcpState.Bound)
      return l === null ? Infinity : this.leaseTime(l, l.renewalTime);
    return this.deadline;
  }

  tick(now: number): void {
    // Loop: a long jump of the clock may pass several deadlines (T1, T2 and expiry at once).
    for (let guard = 0; guard < 8 && now >= this.nextTimeout(); guard++) this.onTimeout(now);
  }

  /** A UDP datagram received on port 68 (payload only). `src` is the IP source address. */
  input(bytes: Uint8Array, offset: number, length: number, now: number): void {
    this.counters.received++;
    const parsed = parseDhcpReply(bytes, offset, length);
    if (typeof parsed === 'string') return this.drop(parsed);
    const reply = parsed;
    const s = this.stateValue;
    if (
      s === DhcpState.Init ||
      s === DhcpState.InitReboot ||
      s === DhcpState.Bound ||
      s === DhcpState.Checking ||
      s === DhcpState.Stopped
    )
      return this.drop('not_waiting');
    if (reply.xid !== this.xid) return this.drop('wrong_xid');
    if (reply.chaddr !== this.opts.mac) return this.drop('wrong_chaddr');
    // RFC 2131 §4.3.1/§4.3.2: OFFER, ACK and NAK all carry the server identifier.
    if (reply.serverId === -1) return this.drop('no_server_id');
    if (s === DhcpState.Selecting) {
      if (reply.messageType !== DhcpMessageType.Offer) return this.drop('unexpected_type');
      if (!isUsableHostAddress(reply.yiaddr)) return this.drop('bad_address');
      this.counters.accepted++;
      return this.enterRequesting(now, reply);
    }
    if (reply.messageType === DhcpMessageType.Nak) {
      if (
        s === DhcpState.Requesting &&
        this.offer !== null &&
        reply.serverId !== this.offer.serverId
      )
        return this.drop('wrong_server');
      this.counters.accepted++;
      return this.onNak(now, reply);
    }
    if (reply.messageType !== DhcpMessageType.Ack) return this.drop('unexpected_type');
    if (s === DhcpState.Requesting && this.offer !== null && reply.serverId !== this.offer.serverId)
      return this.drop('wrong_server');
    if (!isUsableHostAddress(reply.yiaddr)) return this.drop('bad_address');
    if (reply.leaseTime === -1) return this.drop('no_lease_time');
    this.counters.accepted++;
    this.onAck(now, reply);
  }

  /** The answer to a `probe` action: whether some other host answered ARP for `address`. */
  probeResult(address: number, inUse: boolean, now: number): void {
    const l = this.leaseValue;
    if (this.stateValue !== DhcpState.Checking || l === null || l.address !== address) return;
    if (!inUse) return this.bind(now, l, 'bound');
    // RFC 2131 §4.4.1: the address is taken; tell the server and start over after 10 s.
    this.send(
      {
        messageType: DhcpMessageType.Decline,
        xid: this.xid,
        secs: 0,
        broadcast: false,
        ciaddr: 0,
        mac: this.opts.mac,
        clientId: this.opts.clientId,
        requestedAddress: address,
        serverId: l.serverId,
        message: 'address in use (ARP)',
      },
      0,
      BROADCAST,
    );
    this.emit({ type: 'declined', address, serverId: l.serverId });
    this.leaseValue = null;
    this.offer = null;
    this.stateValue = DhcpState.Init;
    this.deadline = now + DECLINE_WAIT_MS;
  }

  /** Clean shutdown: releases a held lease (RFC 2131 §4.4.6) and stops. */
  release(now: number): void {
    const l = this.lease;
    if (l !== null) {
      this.xid = this.newXid();
      this.send(
        {
          messageType: DhcpMessageType.Release,
          xid: this.xid,
          secs: 0,
          broadcast: false,
          ciaddr: l.address,
          mac: this.opts.mac,
          clientId: this.opts.clientId,
          serverId: l.serverId,
        },
        l.address,
        l.serverId,
      );
      this.actions.push({ type: 'configure', lease: null });
      this.emit({ type: 'released', address: l.address, serverId: l.serverId });
    }
    this.stop(now);
  }

  /** Stops without releasing (the lease stays valid at the server until it expires). */
  stop(_now: number): void {
    this.stateValue = DhcpState.Stopped;
    this.deadline = Infinity;
    this.leaseValue = null;
    this.offer = null;
  }

  // ---- transitions -------------------------------------------------------------------------

  private onTimeout(now: number): void {
    const l = this.leaseValue;
    switch (this.stateValue) {
      case DhcpState.Init:
        return this.enterSelecting(now);
      case DhcpState.InitReboot:
        return this.enterSelecting(now);
      case DhcpState.Selecting:
        return this.retransmit(now, Infinity);
      case DhcpState.Requesting:
      case DhcpState.Rebooting:
        return this.retransmit(now, this.opts.maxRequestAttempts);
      case DhcpState.Bound:
        if (l !== null) return this.enterRenewing(now, l);
        return;
      case DhcpState.Renewing:
      case DhcpState.Rebinding:
        if (l === null) return;
        if (now >= this.leaseTime(l, l.leaseTime)) return this.expire(now, l);
        if (this.stateValue === DhcpState.Renewing && now >= this.leaseTime(l, l.rebindingTime))
          return this.enterRebinding(now, l);
        return this.sendRenewRequest(now, l);
      default:
        this.deadline = Infinity;
    }
  }

  private retransmit(now: number, maxAttempts: number): void {
    if (this.attempts >= maxAttempts) {
      this.emit({ type: 'gave-up', state: this.stateValue });
      return this.enterSelecting(now);
    }
    if (this.stateValue === DhcpState.Selecting) this.sendDiscover(now);
    else if (this.stateValue === DhcpState.Rebooting) this.sendRebootRequest(now);
    else this.sendSelectingRequest(now);
    this.emit({
      type: 'retrying',
      state: this.stateValue,
      attempt: this.attempts,
      nextInMs: this.deadline - now,
    });
  }

  private enterSelecting(now: number): void {
    this.stateValue = DhcpState.Selecting;
    this.xid = this.newXid();
    this.attempts = 0;
    this.transactionStart = now;
    this.offer = null;
    this.leaseValue = null;
    this.sendDiscover(now);
  }

  private enterRequesting(now: number, offer: DhcpReply): void {
    this.stateValue = DhcpState.Requesting;
    this.offer = offer;
    this.attempts = 0;
    this.transactionStart = now;
    this.sendSelectingRequest(now);
  }

  private enterRebooting(now: number, address: number): void {
    this.stateValue = DhcpState.Rebooting;
    this.xid = this.newXid();
    this.attempts = 0;
    this.transactionStart = now;
    this.offer = null;
    this.leaseValue = null;
    this.rebootAddress = address;
    this.sendRebootRequest(now);
  }

  private enterRenewing(now: number, l: DhcpLease): void {
    this.stateValue = DhcpState.Renewing;
    this.xid = this.newXid();
    this.attempts = 0;
    this.transactionStart = now;
    this.sendRenewRequest(now, l);
  }

  private enterRebinding(now: number, l: DhcpLease): void {
    this.stateValue = DhcpState.Rebinding;
    this.xid = this.newXid();
    this.attempts = 0;
    this.transactionStart = now;
    this.sendRenewRequest(now, l);
  }

  private expire(now: number, l: DhcpLease): void {
    this.actions.push({ type: 'configure', lease: null });
    this.emit({ type: 'expired', lease: l });
    this.enterSelecting(now);
  }

  private onNak(now: number, reply: DhcpReply): void {
    const from = this.stateValue;
    const hadLease = this.lease !== null;
    this.emit({ type: 'nak', state: from, serverId: reply.serverId, message: reply.message });
    if (hadLease) this.actions.push({ type: 'configure', lease: null });
    this.leaseValue = null;
    this.offer = null;
    this.consecutiveNaks++;
    // Restart at once after one NAK; if servers keep refusing, back off so we do not spin.
    if (this.consecutiveNaks <= 1) return this.enterSelecting(now);
    this.stateValue = DhcpState.Init;
    this.deadline = now + backoffDelayMs(this.consecutiveNaks - 2, this.opts.random);
  }

  private onAck(now: number, reply: DhcpReply): void {
    const from = this.stateValue;
    const lease = this.leaseFrom(reply, this.transactionStart);
    if (from === DhcpState.Renewing || from === DhcpState.Rebinding) {
      return this.bind(now, lease, from === DhcpState.Renewing ? 'renewed' : 'rebound');
    }
    // REQUESTING or REBOOTING: a new address; check that nobody else uses it first.
    if (this.opts.probe) {
      this.stateValue = DhcpState.Checking;
      this.leaseValue = lease;
      this.deadline = Infinity;
      this.actions.push({ type: 'probe', address: lease.address });
      return;
    }
    this.bind(now, lease, 'bound');
  }

  private bind(now: number, lease: DhcpLease, kind: 'bound' | 'renewed' | 'rebound'): void {
    this.stateValue = DhcpState.Bound;
    this.leaseValue = lease;
    this.offer = null;
    this.consecutiveNaks = 0;
    this.deadline = Infinity;
    this.actions.push({ type: 'configure', lease });
    this.emit({ type: kind, lease });
    // A lease whose T1 already passed (slow probe, tiny lease) renews at once.
    if (now >= this.nextTimeout()) this.tick(now);
  }

  private leaseFrom(reply: DhcpReply, startedAt: number): DhcpLease {
    // A lease of a few seconds (or 0) from a broken server would make us renew, expire and
    // rediscover in a tight loop; like dhcpcd, hold every lease for at least 20 s.
    const leaseTime = Math.max(reply.leaseTime, MIN_LEASE_SECONDS);
    let t1 = reply.renewalTime;
    let t2 = reply.rebindingTime;
    if (leaseTime !== INFINITE_LEASE) {
      // RFC 2131 §4.4.5 defaults, also used when the server's values are inconsistent.
      if (t2 === -1 || t2 >= leaseTime) t2 = Math.floor(leaseTime * 0.875);
      if (t1 === -1 || t1 >= t2) t1 = Math.floor(leaseTime * 0.5);
    } else {
      t1 = INFINITE_LEASE;
      t2 = INFINITE_LEASE;
    }
    return {
      address: reply.yiaddr,
      netmask: reply.subnetMask === -1 ? 0 : reply.subnetMask,
      gateway: reply.routers.length > 0 ? reply.routers[0] : 0,
      routers: reply.routers,
      dns: reply.dnsServers,
      domainName: reply.domainName,
      serverId: reply.serverId,
      leaseTime,
      renewalTime: t1,
      rebindingTime: t2,
      startedAt,
    };
  }

  /** Clock ms at which `seconds` into the lease falls (Infinity for an infinite lease). */
  private leaseTime(l: DhcpLease, seconds: number): number {
    if (l.leaseTime === INFINITE_LEASE || seconds === INFINITE_LEASE) return Infinity;
    return l.startedAt + seconds * 1000;
  }

  // ---- messages ----------------------------------------------------------------------------

  private sendDiscover(now: number): void {
    this.send(
      {
        ...this.common(DhcpMessageType.Discover, now),
        broadcast: true,
        ciaddr: 0,
        // Ask for our previous address again if we had one (a hint; the server may ignore it).
        requestedAddress: this.opts.rememberedAddress,
      },
      0,
      BROADCAST,
    );
    this.armBackoff(now);
  }

  private sendSelectingRequest(now: number): void {
    const offer = this.offer;
    if (offer === null) return this.enterSelecting(now);
    this.send(
      {
        ...this.common(DhcpMessageType.Request, now),
        broadcast: true,
        ciaddr: 0,
        requestedAddress: offer.yiaddr,
        serverId: offer.serverId,
      },
      0,
      BROADCAST,
    );
    this.armBackoff(now);
  }

  private sendRebootRequest(now: number): void {
    this.send(
      {
        ...this.common(DhcpMessageType.Request, now),
        broadcast: true,
        ciaddr: 0,
        requestedAddress: this.rebootAddress,
      },
      0,
      BROADCAST,
    );
    this.armBackoff(now);
  }

  /** RENEWING: unicast to the server; REBINDING: broadcast. Both from our address, ciaddr set. */
  private sendRenewRequest(now: number, l: DhcpLease): void {
    const renewing = this.stateValue === DhcpState.Renewing;
    this.send(
      { ...this.common(DhcpMessageType.Request, now), broadcast: false, ciaddr: l.address },
      l.address,
      renewing ? l.serverId : BROADCAST,
    );
    // RFC 2131 §4.4.5: retry after half the time left to T2 (renewing) or to expiry
    // (rebinding), but not sooner than 60 s; never sleep past that boundary itself.
    const boundary = this.leaseTime(l, renewing ? l.rebindingTime : l.leaseTime);
    const wait = Math.max((boundary - now) / 2, MIN_RENEW_RETRY_MS);
    this.deadline = Math.min(now + wait, boundary);
  }

  private common(
    messageType: DhcpRequestParams['messageType'],
    now: number,
  ): Omit<DhcpRequestParams, 'broadcast' | 'ciaddr'> {
    this.attempts++;
    return {
      messageType,
      xid: this.xid,
      secs: (now - this.transactionStart) / 1000,
      mac: this.opts.mac,
      clientId: this.opts.clientId,
      hostname: this.opts.hostname,
      parameterRequestList: PARAMETER_REQUEST_LIST,
      maxMessageSize: this.opts.maxMessageSize,
    };
  }

  private armBackoff(now: number): void {
    this.deadline = now + backoffDelayMs(this.attempts - 1, this.opts.random);
  }

  private send(p: DhcpRequestParams, src: number, dst: number): void {
    const bytes = encodeDhcpRequest(p);
    this.counters.sent++;
    this.actions.push({
      type: 'send',
      bytes,
      src,
      dst,
      srcPort: DHCP_CLIENT_PORT,
      dstPort: DHCP_SERVER_PORT,
    });
  }

  private emit(event: DhcpEvent): void {
    this.actions.push({ type: 'event', event });
  }

  private drop(reason: DhcpDropReason): void {
    const d = this.counters.dropped;
    d[reason] = (d[reason] ?? 0) + 1;
  }

  private newXid(): number {
    return Math.floor(this.opts.random() * 2 ** 32) >>> 0;
  }
}
