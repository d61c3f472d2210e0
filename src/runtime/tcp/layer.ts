/**
 * The TCP layer: registered with IPv4 for protocol 6, it validates and decodes segments (the
 * generated codec, no allocation), finds the connection by 4-tuple, drives the pure state
 * machine (`src/fsm/tcp.ts`), arms one clock timer per connection at its next deadline, and
 * turns the machine's output into IPv4 datagrams and socket events.
 *
 * Passive opens: each listener has a cap on half-open (SYN-RECEIVED) connections; beyond it,
 * SYN cookies answer statelessly. The connection table as a whole is capped too, so memory is
 * bounded by maxConnections x (send buffer + receive window).
 */
import { EventEmitter } from 'node:events';
import { formatIpv4, parseIpv4 } from '../../codec/address.js';
import { IsnGenerator } from '../../fsm/isn.js';
import { ACK, RST, SYN, newSegment, resetFor, type Segment } from '../../fsm/segment.js';
import { seqAdd, seqGt } from '../../fsm/seq.js';
import { SynCookies } from '../../fsm/syncookie.js';
import {
  DEFAULT_TCP_CONFIG,
  TcpConnection,
  TcpEvent,
  TcpState,
  type TcpConfig,
  type TcpCounters,
  type TcpHost,
  windowShiftFor,
} from '../../fsm/tcp.js';
import { ipv4 as ipv4Spec, tcp } from '../../generated/index.js';
import type { Clock, TimerHandle } from '../clock/clock.js';
import {
  IPV4_SEND_HEADROOM,
  type Ipv4Delivery,
  type Ipv4Sender,
  type TransportReceiver,
} from '../layers.js';
import type { StatsTree } from '../stats.js';
import { TcpSocket, type SocketBackend, type TcpErrorCode } from './socket.js';
import { OptionWriter, readSegment } from './wire.js';

const HEADER_LENGTH = tcp.TCP_FIXED_SIZE;
const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;
/** Bit of a SYN-cookie SYN-ACK's timestamp that says the peer offered SACK. */
const COOKIE_SACK_BIT = 0x10;

export interface TcpLayerOptions extends Partial<TcpConfig> {
  /** Most connections in the table, TIME-WAIT included (default 10000). */
  maxConnections?: number;
  /** Half-open connections per listener before SYN cookies take over (default 128). */
  synBacklog?: number;
  /** Secret for ISNs (RFC 6528); random by default. Tests pass one for reproducibility. */
  isnKey?: Uint8Array;
  cookieKey?: Uint8Array;
}

export interface TcpLayerStats extends StatsTree {
  segmentsIn: number;
  segmentsOut: number;
  activeOpens: number;
  passiveOpens: number;
  connections: number;
  timeWait: number;
  resetsSent: number;
  synCookiesSent: number;
  synCookiesAccepted: number;
  retransmits: number;
  timeouts: number;
  challengeAcks: number;
  drops: {
    malformed: number;
    badChecksum: number;
    broadcast: number;
    noListener: number;
    tableFull: number;
    badCookie: number;
    sendFailed: number;
  };
}

export interface ConnectOptions {
  host: string | number;
  port: number;
  localPort?: number;
  allowHalfOpen?: boolean;
  noDelay?: boolean;
}

export interface ListenOptions {
  allowHalfOpen?: boolean;
  noDelay?: boolean;
}

/** A listening port: emits 'connection' (socket), 'close'. */
export class TcpServer extends EventEmitter {
  /** Half-open connections (SYN-RECEIVED) right now. */
  halfOpen = 0;
  listening = true;
  constructor(
    private readonly layer: TcpLayer,
    readonly port: number,
    readonly options: ListenOptions,
  ) {
    super();
  }

  address(): { address: string; family: string; port: number } {
    return { address: formatIpv4(this.layer.localAddress), family: 'IPv4', port: this.port };
  }

  /** Stops accepting; existing connections go on (like net.Server.close). */
  close(callback?: () => void): this {
    if (this.listening) {
      this.listening = false;
      this.layer.unlisten(this);
      queueMicrotask(() => this.emit('close'));
    }
    if (callback) queueMicrotask(callback);
    return this;
  }
}

/** Runtime state of one connection: its machine, socket, timer and queued socket work. */
class Entry implements SocketBackend {
  socket: TcpSocket | null = null;
  server: TcpServer | null = null;
  timer: TimerHandle | null = null;
  timerAt = Infinity;
  /** Socket work collected during a state-machine call and run after it returns. */
  chunks: Buffer[] = [];
  events: TcpEvent[] = [];
  spareChunks: Buffer[] = [];
  spareEvents: TcpEvent[] = [];
  inTable = true;
  /** A passive connection handed to its listener (no longer counted as half-open). */
  accepted = false;
  /** The socket was destroyed: delivered data is discarded. */
  released = false;
  settling = false;
  readonly onTimer = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    this.conn.onTimer(this.clock.now());
    this.layer.settle(this);
  };

  constructor(
    readonly layer: TcpLayer,
    readonly conn: TcpConnection,
    readonly clock: Clock,
  ) {}

  get unread(): number {
    return this.conn.rcvUnread;
  }

  send(bytes: Uint8Array, offset: number, length: number): number {
    const n = this.conn.send(bytes, offset, length, this.clock.now());
    this.layer.settle(this);
    return n;
  }

  end(): void {
    this.conn.close(this.clock.now());
    this.layer.settle(this);
  }

  release(abort: boolean): void {
    const now = this.clock.now();
    this.socket = null;
    this.released = true;
    if (!this.conn.isClosed()) {
      if (abort) this.conn.abort(now);
      else {
        this.conn.close(now);
        this.conn.orphan(now);
      }
    }
    this.layer.settle(this);
  }

  readerBuffered(buffered: number): void {
    const consumed = this.conn.rcvUnread - buffered;
    if (consumed > 0) {
      this.conn.consumed(consumed, this.clock.now());
      this.layer.settle(this);
    }
  }

  setNoDelay(noDelay: boolean): void {
    this.conn.setNoDelay(noDelay, this.clock.now());
    this.layer.settle(this);
  }

  setKeepAlive(enable: boolean, initialDelayMs: number): void {
    this.conn.setKeepAlive(enable, initialDelayMs, this.clock.now());
    this.layer.settle(this);
  }
}

export class TcpLayer implements TransportReceiver, TcpHost {
  readonly config: TcpConfig;
  readonly counters: TcpLayerStats = {
    segmentsIn: 0,
    segmentsOut: 0,
    activeOpens: 0,
    passiveOpens: 0,
    connections: 0,
    timeWait: 0,
    resetsSent: 0,
    synCookiesSent: 0,
    synCookiesAccepted: 0,
    retransmits: 0,
    timeouts: 0,
    challengeAcks: 0,
    drops: {
      malformed: 0,
      badChecksum: 0,
      broadcast: 0,
      noListener: 0,
      tableFull: 0,
      badCookie: 0,
      sendFailed: 0,
    },
  };
  private readonly maxConnections: number;
  private readonly synBacklog: number;
  /** remote address → ((remotePort << 16) | localPort) → entry. */
  private readonly table = new Map<number, Map<number, Entry>>();
  private readonly listeners = new Map<number, TcpServer>();
  private readonly isn: IsnGenerator;
  private readonly cookies: SynCookies;
  private readonly view = new tcp.TcpView();
  private readonly rx: Segment = newSegment();
  private readonly reply: Segment = newSegment();
  private readonly optionWriter = new OptionWriter();
  private readonly fields: tcp.TcpFields = {
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    dataOffset: undefined,
    flags: 0,
    window: 0,
    checksum: undefined,
    urgentPointer: 0,
    options: new Uint8Array(0),
  };
  private readonly tx: Uint8Array;
  private nextEphemeral = 0;
  private count = 0;
  /** Set by attachTcp when the stack reports batch ends: ACKs are then coalesced per batch. */
  coalesceAcks = false;
  private inBatch = false;
  private readonly deferred: Entry[] = [];
  private closedCounters = { retransmits: 0, timeouts: 0, challengeAcks: 0 };

  constructor(
    private readonly ipv4: Ipv4Sender,
    private readonly clock: Clock,
    options: TcpLayerOptions = {},
  ) {
    const mss = Math.min(
      options.mss ?? ipv4.maxPayload - HEADER_LENGTH,
      ipv4.maxPayload - HEADER_LENGTH,
    );
    this.config = { ...DEFAULT_TCP_CONFIG, ...options, mss };
    this.maxConnections = options.maxConnections ?? 10_000;
    this.synBacklog = options.synBacklog ?? 128;
    this.isn = new IsnGenerator(options.isnKey);
    this.cookies = new SynCookies(options.cookieKey);
    this.tx = new Uint8Array(IPV4_SEND_HEADROOM + 60 + Math.max(mss, 536));
    this.nextEphemeral = (options.isnKey?.[0] ?? Math.floor(Math.random() * 256)) * 97;
  }

  get localAddress(): number {
    return this.ipv4.address;
  }

  // ================================================================== user API

  listen(
    port: number,
    onConnection?: (socket: TcpSocket) => void,
    options: ListenOptions = {},
  ): TcpServer {
    if (!Number.isInteger(port) || port <= 0 || port > 0xffff) {
      throw new RangeError(`listen: port ${port} is not 1..65535`);
    }
    if (this.listeners.has(port)) {
      throw Object.assign(new Error(`listen EADDRINUSE: port ${port} already has a listener`), {
        code: 'EADDRINUSE',
      });
    }
    const server = new TcpServer(this, port, options);
    if (onConnection) server.on('connection', onConnection);
    this.listeners.set(port, server);
    queueMicrotask(() => server.emit('listening'));
    return server;
  }

  /** @internal */
  unlisten(server: TcpServer): void {
    if (this.listeners.get(server.port) === server) this.listeners.delete(server.port);
  }

  connect(options: ConnectOptions, connectListener?: () => void): TcpSocket {
    const remote = typeof options.host === 'number' ? options.host >>> 0 : parseIpv4(options.host);
    if (remote < 0)
      throw new TypeError(`connect: "${String(options.host)}" is not an IPv4 address`);
    if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 0xffff) {
      throw new RangeError(`connect: port ${options.port} is not 1..65535`);
    }
    const localPort = options.localPort ?? this.ephemeralPort(remote, options.port);
    if (localPort < 0 || this.lookup(remote, options.port, localPort) !== undefined) {
      throw Object.assign(new Error('connect EADDRINUSE: no free local port'), {
        code: 'EADDRINUSE',
      });
    }
    const now = this.clock.now();
    const conn = new TcpConnection(
      this.config,
      this,
      this.localAddress,
      localPort,
      remote,
      options.port,
    );
    const entry = this.insert(conn);
    const socket = new TcpSocket({
      backend: entry,
      localAddress: this.localAddress,
      localPort,
      remoteAddress: remote,
      remotePort: options.port,
      connecting: true,
      allowHalfOpen: options.allowHalfOpen,
    });
    entry.socket = socket;
    if (options.noDelay) conn.noDelay = true;
    if (connectListener) socket.once('connect', connectListener);
    this.counters.activeOpens++;
    if (this.count > this.maxConnections) {
      this.counters.drops.tableFull++;
      conn.abort(now);
      queueMicrotask(() => socket.onError('ECONNREFUSED'));
      this.remove(entry);
      return socket;
    }
    conn.setTimestampOffset(
      this.isn.timestampOffset(this.localAddress, localPort, remote, options.port),
    );
    conn.connect(this.isn.isn(this.localAddress, localPort, remote, options.port, now), now);
    this.settle(entry);
    return socket;
  }

  /** Aggregate counters (live connections' included). */
  stats(): TcpLayerStats {
    let retransmits = this.closedCounters.retransmits;
    let timeouts = this.closedCounters.timeouts;
    let challengeAcks = this.closedCounters.challengeAcks;
    let timeWait = 0;
    for (const ports of this.table.values()) {
      for (const e of ports.values()) {
        retransmits += e.conn.counters.retransmits;
        timeouts += e.conn.counters.timeouts;
        challengeAcks += e.conn.counters.challengeAcks;
        if (e.conn.state === TcpState.TIME_WAIT) timeWait++;
      }
    }
    this.counters.retransmits = retransmits;
    this.counters.timeouts = timeouts;
    this.counters.challengeAcks = challengeAcks;
    this.counters.connections = this.count;
    this.counters.timeWait = timeWait;
    return { ...this.counters, drops: { ...this.counters.drops } };
  }

  /** Aborts every connection (RST) and stops listening. */
  close(): void {
    for (const server of [...this.listeners.values()]) server.close();
    for (const ports of [...this.table.values()]) {
      for (const e of [...ports.values()]) {
        e.conn.abort(this.clock.now());
        this.settle(e);
      }
    }
  }

  // ================================================================== receive path

  receive(d: Ipv4Delivery): void {
    const stats = this.counters;
    stats.segmentsIn++;
    this.inBatch = true;
    if (d.toBroadcast) {
      stats.drops.broadcast++;
      return;
    }
    const view = this.view;
    if (view.wrap(d.bytes, d.offset, d.length) !== null) {
      stats.drops.malformed++;
      return;
    }
    if (!view.checksumValidWith(d.src, d.dst)) {
      stats.drops.badChecksum++;
      return;
    }
    const seg = this.rx;
    readSegment(view, seg);
    const remote = d.src >>> 0;
    const remotePort = view.srcPort;
    const localPort = view.dstPort;
    const now = this.clock.now();
    let entry = this.lookup(remote, remotePort, localPort);
    if (entry !== undefined) {
      const conn = entry.conn;
      const f = seg.flags;
      // RFC 6191: a new SYN may take over a TIME-WAIT connection with a larger seq / timestamp.
      if (
        conn.state === TcpState.TIME_WAIT &&
        (f & (SYN | ACK | RST)) === SYN &&
        this.listeners.has(localPort) &&
        conn.acceptsReuse(seg)
      ) {
        const minIss = seqAdd(conn.sndMax, 128_000);
        this.remove(entry);
        this.passiveOpen(seg, remote, remotePort, localPort, now, minIss);
        return;
      }
      conn.input(seg, now);
      this.settle(entry);
      return;
    }
    const server = this.listeners.get(localPort);
    if (server === undefined || d.dst >>> 0 !== this.localAddress) {
      stats.drops.noListener++;
      this.sendStrayReset(seg, remote, remotePort, localPort);
      return;
    }
    const f = seg.flags;
    if (f & RST) return;
    if (f & ACK) {
      if (!(f & SYN)) {
        entry = this.cookieAck(server, seg, remote, remotePort, localPort, now);
        if (entry !== undefined) return;
      }
      this.sendStrayReset(seg, remote, remotePort, localPort);
      return;
    }
    if (f & SYN) this.passiveOpen(seg, remote, remotePort, localPort, now, -1);
  }

  private passiveOpen(
    seg: Segment,
    remote: number,
    remotePort: number,
    localPort: number,
    now: number,
    minIss: number,
  ): void {
    const server = this.listeners.get(localPort);
    if (server === undefined) return;
    if (server.halfOpen >= this.synBacklog) {
      this.sendCookie(seg, remote, remotePort, localPort, now);
      return;
    }
    if (this.count >= this.maxConnections) {
      this.counters.drops.tableFull++;
      return;
    }
    let iss = this.isn.isn(this.localAddress, localPort, remote, remotePort, now);
    if (minIss >= 0 && !seqGt(iss, minIss)) iss = minIss;
    const entry = this.insertHalfOpen(server, remote, remotePort, localPort);
    entry.conn.listen(iss);
    entry.conn.input(seg, now);
    this.settle(entry);
  }

  /**
   * A new connection for `server`, in the table and counted as half-open (balanced when it
   * leaves SYN-RECEIVED), with its timestamp offset set; the caller opens it.
   */
  private insertHalfOpen(
    server: TcpServer,
    remote: number,
    remotePort: number,
    localPort: number,
  ): Entry {
    const conn = new TcpConnection(
      this.config,
      this,
      this.localAddress,
      localPort,
      remote,
      remotePort,
    );
    const entry = this.insert(conn);
    entry.server = server;
    server.halfOpen++;
    conn.setTimestampOffset(
      this.isn.timestampOffset(this.localAddress, localPort, remote, remotePort),
    );
    return entry;
  }

  /** Answers a SYN statelessly: the ISN is a cookie, only MSS is offered. */
  private sendCookie(
    seg: Segment,
    remote: number,
    remotePort: number,
    localPort: number,
    now: number,
  ): void {
    const peerMss = seg.mss > 0 ? seg.mss : 536;
    const cookie = this.cookies.make(
      this.localAddress,
      localPort,
      remote,
      remotePort,
      seg.seq,
      peerMss,
      now,
    );
    const r = this.reply;
    r.seq = cookie;
    r.ack = seqAdd(seg.seq, 1);
    r.flags = SYN | ACK;
    r.window = Math.min(0xffff, this.config.rcvBuf);
    r.mss = this.config.mss;
    r.windowScale = -1;
    r.sackPermitted = false;
    r.hasTimestamps = false;
    r.sackCount = 0;
    r.dataLength = 0;
    const c = this.config;
    if (c.timestamps && seg.hasTimestamps) {
      // Like Linux: the low 6 bits of our timestamp keep the peer's window scale (15 = none)
      // and SACK-permitted; the final ACK echoes them in TSecr.
      const ws = c.windowScale && seg.windowScale >= 0 ? Math.min(14, seg.windowScale) : 0xf;
      const sack = c.sack && seg.sackPermitted ? COOKIE_SACK_BIT : 0;
      const ts =
        (Math.floor(now) +
          this.isn.timestampOffset(this.localAddress, localPort, remote, remotePort)) >>>
        0;
      r.hasTimestamps = true;
      r.tsVal = (ts - (ts & 0x3f) + ws + sack) >>> 0;
      r.tsEcr = seg.tsVal;
      r.sackPermitted = sack !== 0;
      if (ws !== 0xf) r.windowScale = windowShiftFor(c.rcvBuf);
    }
    this.counters.synCookiesSent++;
    this.transmitRaw(r, remote, remotePort, localPort, null);
  }

  private cookieAck(
    server: TcpServer,
    seg: Segment,
    remote: number,
    remotePort: number,
    localPort: number,
    now: number,
  ): Entry | undefined {
    const iss = seqAdd(seg.ack, -1);
    const peerIsn = seqAdd(seg.seq, -1);
    const mss = this.cookies.check(
      this.localAddress,
      localPort,
      remote,
      remotePort,
      peerIsn,
      iss,
      now,
    );
    if (mss < 0) {
      this.counters.drops.badCookie++;
      return undefined;
    }
    if (this.count >= this.maxConnections) {
      this.counters.drops.tableFull++;
      return undefined;
    }
    this.counters.synCookiesAccepted++;
    const entry = this.insertHalfOpen(server, remote, remotePort, localPort);
    let options: { windowScale: number; sackPermitted: boolean } | undefined;
    if (seg.hasTimestamps) {
      const ws = seg.tsEcr & 0xf;
      options = {
        windowScale: ws === 0xf ? -1 : ws,
        sackPermitted: (seg.tsEcr & COOKIE_SACK_BIT) !== 0,
      };
    }
    entry.conn.acceptCookie(seg, iss, mss, now, options);
    this.settle(entry);
    return entry;
  }

  private sendStrayReset(
    seg: Segment,
    remote: number,
    remotePort: number,
    localPort: number,
  ): void {
    if (!resetFor(seg, this.reply)) return;
    this.counters.resetsSent++;
    this.transmitRaw(this.reply, remote, remotePort, localPort, null);
  }

  // ================================================================== TcpHost

  transmit(conn: TcpConnection, seg: Segment): void {
    if (seg.flags & RST) this.counters.resetsSent++;
    this.transmitRaw(seg, conn.remoteIp, conn.remotePort, conn.localPort, conn);
  }

  deliver(conn: TcpConnection, bytes: Uint8Array, offset: number, length: number): void {
    const entry = conn.owner as Entry;
    if (entry.released) return;
    entry.chunks.push(Buffer.from(bytes.subarray(offset, offset + length)));
  }

  event(conn: TcpConnection, event: TcpEvent): void {
    (conn.owner as Entry).events.push(event);
  }

  deferAck(conn: TcpConnection): boolean {
    if (!this.coalesceAcks || !this.inBatch) return false;
    this.deferred.push(conn.owner as Entry);
    return true;
  }

  /** End of a receive batch (one TAP wakeup): send the ACKs coalesced during it. */
  batchEnd(): void {
    this.inBatch = false;
    const deferred = this.deferred;
    if (deferred.length === 0) return;
    const now = this.clock.now();
    for (let i = 0; i < deferred.length; i++) {
      const entry = deferred[i];
      if (!entry.inTable) continue;
      entry.conn.flushAck(now);
      this.settle(entry);
    }
    deferred.length = 0;
  }

  // ================================================================== internals

  private transmitRaw(
    seg: Segment,
    remote: number,
    remotePort: number,
    localPort: number,
    conn: TcpConnection | null,
  ): void {
    const f = this.fields;
    const options = this.optionWriter.write(seg);
    const headerOffset = IPV4_SEND_HEADROOM;
    const payloadOffset = headerOffset + HEADER_LENGTH + options.length;
    const len = seg.dataLength;
    if (payloadOffset + len > this.tx.length) {
      this.counters.drops.sendFailed++;
      return;
    }
    if (len > 0 && conn !== null) conn.copyPayload(seg.seq, len, this.tx, payloadOffset);
    f.srcPort = localPort;
    f.dstPort = remotePort;
    f.seq = seg.seq;
    f.ack = seg.ack;
    f.flags = seg.flags;
    f.window = seg.window;
    f.options = options;
    f.dataOffset = undefined;
    f.checksum = undefined;
    const header = tcp.encodeTcp(f, this.tx, headerOffset, len, this.localAddress, remote);
    if (header < 0) {
      this.counters.drops.sendFailed++;
      return;
    }
    this.counters.segmentsOut++;
    this.ipv4.send(remote, ipv4Spec.IpProtocol.TCP, this.tx, headerOffset, header + len);
  }

  private lookup(remote: number, remotePort: number, localPort: number): Entry | undefined {
    return this.table.get(remote)?.get(((remotePort << 16) | localPort) >>> 0);
  }

  private insert(conn: TcpConnection): Entry {
    const entry = new Entry(this, conn, this.clock);
    conn.owner = entry;
    let ports = this.table.get(conn.remoteIp);
    if (ports === undefined) {
      ports = new Map();
      this.table.set(conn.remoteIp, ports);
    }
    ports.set(((conn.remotePort << 16) | conn.localPort) >>> 0, entry);
    this.count++;
    return entry;
  }

  private remove(entry: Entry): void {
    if (!entry.inTable) return;
    entry.inTable = false;
    entry.timer?.cancel();
    entry.timer = null;
    const conn = entry.conn;
    if (entry.server !== null && !entry.accepted) entry.server.halfOpen--;
    const c: TcpCounters = conn.counters;
    this.closedCounters.retransmits += c.retransmits;
    this.closedCounters.timeouts += c.timeouts;
    this.closedCounters.challengeAcks += c.challengeAcks;
    const ports = this.table.get(conn.remoteIp);
    if (ports !== undefined) {
      ports.delete(((conn.remotePort << 16) | conn.localPort) >>> 0);
      if (ports.size === 0) this.table.delete(conn.remoteIp);
    }
    this.count--;
  }

  /**
   * After every call into a connection: hand queued data and events to the socket, drop the
   * connection from the table once CLOSED, otherwise (re)arm its timer.
   */
  settle(entry: Entry): void {
    if (entry.settling) return; // socket callbacks re-enter; the outer call finishes the work
    entry.settling = true;
    try {
      for (
        let guard = 0;
        guard < 64 && (entry.chunks.length > 0 || entry.events.length > 0);
        guard++
      ) {
        this.flush(entry);
      }
    } finally {
      entry.settling = false;
    }
    const conn = entry.conn;
    if (conn.isClosed()) {
      this.remove(entry);
      return;
    }
    const at = conn.nextDeadline();
    // Re-arm only when the deadline moved earlier. A timer left armed for a deadline that went
    // away (an ACK sent before the delayed-ACK timeout) fires once and finds nothing to do:
    // cheaper than cancelling and re-creating a timer every other segment.
    if (at === Infinity) return;
    if (entry.timer !== null && entry.timerAt <= at) return;
    entry.timer?.cancel();
    entry.timerAt = at;
    entry.timer = this.clock.setTimer(at - this.clock.now(), entry.onTimer);
  }

  private flush(entry: Entry): void {
    // Swap in the spare arrays so work queued by socket callbacks lands in the other pair.
    const events = entry.events;
    const chunks = entry.chunks;
    entry.events = entry.spareEvents;
    entry.chunks = entry.spareChunks;
    // Order: establishment first, then data, then end-of-stream and errors.
    for (const ev of events) {
      if (ev === TcpEvent.Established) this.onEstablished(entry);
    }
    const socket = entry.socket;
    if (socket !== null) {
      for (const c of chunks) socket.onData(c);
      if (chunks.length > 0) entry.readerBuffered(socket.readableLength);
    }
    for (const ev of events) {
      const s = entry.socket;
      switch (ev) {
        case TcpEvent.SendSpace:
          s?.onSendSpace();
          break;
        case TcpEvent.RemoteFin:
          s?.onRemoteEnd();
          break;
        case TcpEvent.Closed:
          s?.onClosed();
          break;
        case TcpEvent.Reset:
          this.fail(entry, 'ECONNRESET');
          break;
        case TcpEvent.Refused:
          this.fail(entry, 'ECONNREFUSED');
          break;
        case TcpEvent.TimedOut:
          this.fail(entry, 'ETIMEDOUT');
          break;
        default:
          break;
      }
    }
    events.length = 0;
    chunks.length = 0;
    entry.spareEvents = events;
    entry.spareChunks = chunks;
  }

  private fail(entry: Entry, code: TcpErrorCode): void {
    const s = entry.socket;
    entry.socket = null;
    s?.onError(code);
  }

  private onEstablished(entry: Entry): void {
    const conn = entry.conn;
    if (!conn.passive) {
      entry.socket?.onConnected();
      return;
    }
    const server = entry.server;
    if (server === null) return;
    server.halfOpen--;
    entry.accepted = true;
    this.counters.passiveOpens++;
    if (!server.listening) {
      conn.abort(this.clock.now());
      return;
    }
    const socket = new TcpSocket({
      backend: entry,
      localAddress: conn.localIp,
      localPort: conn.localPort,
      remoteAddress: conn.remoteIp,
      remotePort: conn.remotePort,
      connecting: false,
      allowHalfOpen: server.options.allowHalfOpen,
    });
    entry.socket = socket;
    if (server.options.noDelay) conn.setNoDelay(true, this.clock.now());
    server.emit('connection', socket);
  }

  private ephemeralPort(remote: number, remotePort: number): number {
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const port = EPHEMERAL_FIRST + ((this.nextEphemeral + i) % EPHEMERAL_COUNT);
      if (this.lookup(remote, remotePort, port) === undefined && !this.listeners.has(port)) {
        this.nextEphemeral = (this.nextEphemeral + i + 1) % EPHEMERAL_COUNT;
        return port;
      }
    }
    return -1;
  }
}
