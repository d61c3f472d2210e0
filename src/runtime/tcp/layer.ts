/**
 * The TCP layer: registered with IPv4 for protocol 6 (and, once `attachIpv6` is called, with
 * IPv6 for next header 6), it validates and decodes segments (the generated codec, no
 * allocation), finds the connection by 4-tuple, drives the pure state machine
 * (`src/fsm/tcp.ts`), arms one clock timer per connection at its next deadline, and turns the
 * machine's output into IP packets and socket events.
 *
 * Both families share the state machine, the listeners and the caps; what differs lives here:
 * the pseudo-header checksum, the table (IPv4 keyed by the address as a number, IPv6 by a seeded
 * hash of the remote address checked against both addresses) and the MSS (link MTU less 40
 * bytes of IPv6 header). ICMP and ICMPv6 errors reach the connection they quote: path MTU
 * discovery (a "fragmentation needed" or Packet Too Big lowers its MSS, RFC 1191 / RFC 8201),
 * and unreachables that end a connection attempt or are remembered as soft errors.
 *
 * Passive opens: a segment that matches no connection goes to its port's listener state
 * machine (`TcpListener`, src/fsm/tcp/listener.ts), which caps half-open (SYN-RECEIVED)
 * connections per listener and per peer (an IPv4 address, an IPv6 /64), answers with SYN
 * cookies beyond either, checks the ACKs that return them, and says what to do; this layer
 * keeps the table and the peers' shares and does it. The connection table as a whole is capped too, so memory is bounded by maxConnections x (send
 * buffer + receive window), and no peer may hold more than maxConnectionsPerPeer of it. When the
 * table is full, a new connection makes room by evicting, in this order (lwIP's idea of
 * priorities): the least recently active TIME-WAIT connection, else the least recently active
 * connection idle for evictIdleMs; only when neither exists is it refused.
 */
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { copyIpv6, formatIpv4, ipv6Equals, parseIpv4, parseIpv6 } from '../../codec/address.js';
import { IsnGenerator, type TupleAddress } from '../../fsm/isn.js';
import { ACK, RST, SYN, newSegment, resetFor, type Segment } from '../../fsm/segment.js';
import { seqAdd, seqGe, seqGt, seqLt } from '../../fsm/seq.js';
import { SynCookies } from '../../fsm/syncookie.js';
import {
  DEFAULT_TCP_CONFIG,
  LINUX_TCP_PROFILE,
  ListenAction,
  TcpConnection,
  TcpEvent,
  TcpListener,
  TcpState,
  stateName,
  type TcpConfig,
  type TcpCounters,
  type TcpHost,
} from '../../fsm/tcp.js';
import { type FrameDecoder, FrameLayer } from '../../generated/frame.js';
import {
  ethernet,
  icmp,
  icmpv6,
  ipv4 as ipv4Spec,
  ipv6 as ipv6Spec,
  tcp,
  virtio,
} from '../../generated/index.js';
import type { Clock, TimerHandle } from '../clock/clock.js';
import { hashAddress, ipv6Text, prefix64Key } from '../ipv6/address.js';
import type { IcmpErrorReceiver } from '../icmp/icmp.js';
import type { Icmpv6ErrorReport } from '../ipv6/icmpv6.js';
import {
  decodedAs,
  IPV6_MIN_MTU,
  IPV6_SEND_HEADROOM,
  type Ipv4Delivery,
  type Ipv4Sender,
  type Ipv6Delivery,
  type Ipv6Sender,
  type Ipv6TransportReceiver,
  type TransportReceiver,
} from '../layers.js';
import type { StatsTree } from '../stats.js';
import { clearArray } from '../arrays.js';
import { copyBytes } from '../../util/bytes.js';
import { icmpVerdict, icmpv6Verdict, type IcmpVerdict } from './icmp-errors.js';
import {
  TcpSocket,
  type OnReadOptions,
  type SocketBackend,
  type TcpErrorCode,
  type TcpSocketInit,
} from './socket.js';
import { OptionWriter, readSegment } from './wire.js';
import { RxSlab, type RxRun } from './rx-slab.js';
import { FrameMeta } from '../link/offload.js';

const HEADER_LENGTH = tcp.TCP_FIXED_SIZE;
const IPV6_HEADER_LENGTH = ipv6Spec.IPV6_FIXED_SIZE;
const IPV4_HEADER_LENGTH = ipv4Spec.IPV4_FIXED_SIZE;
const ETHERNET_HEADER_LENGTH = ethernet.ETHERNET_FIXED_SIZE;
/**
 * Payload of the largest TCP super-frame over IPv4: a 64 KiB datagram less its header and a
 * TCP header with the most options (the connection rounds it down to whole MSS).
 */
const TSO_MAX_PAYLOAD = 0xffff - IPV4_HEADER_LENGTH - 60;
/** The same over IPv6, whose payload length leaves its own header out. */
const TSO6_MAX_PAYLOAD = 0xffff - 60;

/** ::1 */
function isLoopback6(a: Uint8Array): boolean {
  for (let i = 0; i < 15; i++) if (a[i] !== 0) return false;
  return a[15] === 1;
}

function ipv6Equal(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}
const TCP = ipv4Spec.IpProtocol.TCP;
/** Headroom in front of every segment we build: room for either family's headers. */
const HEADROOM = IPV6_SEND_HEADROOM;
/** How many of the least recently active connections a full table looks at for a TIME-WAIT one. */
const EVICT_SCAN = 64;
/** Forward-progress confirmations to Neighbor Discovery, at most one per connection per this. */
const CONFIRM_INTERVAL_MS = 1000;
/** Linux's default ip_local_port_range, 32768..60999, for connect and listen(0). */
const EPHEMERAL_FIRST = 32768;
const EPHEMERAL_COUNT = 61000 - EPHEMERAL_FIRST;
/**
 * The IPv4 table's keys, signed: a 32-bit value at or above 2^31 is a heap number in V8, and a
 * Map lookup with one allocates it (per segment for a remote port >= 32768 or an address from
 * 128.0.0.0 up); signed 32-bit integers are small integers (Node has no pointer compression).
 */
function portsKey(remotePort: number, localPort: number): number {
  return (remotePort << 16) | localPort;
}

/** What TCP needs from IPv4: sending, and the path MTU when the layer keeps one (Ipv4Layer). */
export interface TcpIpv4 extends Ipv4Sender {
  pathMtu?(dst: number): number;
  /** False when nothing leads to `dst` (the attempt fails with ENETUNREACH at once). */
  hasRoute?(dst: number): boolean;
  /** Our source address towards `dst` (127.0.0.1 towards 127.0.0.0/8). */
  sourceFor?(dst: number): number;
}

/** What TCP needs from IPv6 (see Ipv6Layer). */
export interface TcpIpv6 extends Ipv6Sender {
  /** Largest payload of one unfragmented packet on the link (link MTU - 40). */
  readonly maxPayload: number;
  /** The MTU of the path to `dst` (the link MTU unless a Packet Too Big lowered it). */
  pathMtu(dst: Uint8Array, off?: number): number;
  /**
   * Upper-layer confirmation (RFC 4861 §7.3.1): traffic to `dst` made forward progress, so the
   * neighbor it goes through (`dst` itself on-link, else the router) is reachable.
   */
  confirmReachable(dst: Uint8Array, off: number): void;
  /** The IPv6 header quoted in an ICMPv6 error, or null when cut short. */
  quotedHeader(bytes: Uint8Array, offset: number, length: number): ipv6Spec.Ipv6View | null;
  /** False when nothing leads to `dst` (the attempt fails with ENETUNREACH at once). */
  hasRoute?(dst: Uint8Array, off: number): boolean;
}

/**
 * The addresses of one connection (or of the segment in hand): IPv4 ones as unsigned numbers,
 * IPv6 ones as 16 bytes; only the family's pair is meaningful.
 */
class TcpAddresses {
  ipv6 = false;
  local4 = 0;
  remote4 = 0;
  readonly local6 = new Uint8Array(16);
  readonly remote6 = new Uint8Array(16);

  copyFrom(o: TcpAddresses): this {
    this.ipv6 = o.ipv6;
    this.local4 = o.local4;
    this.remote4 = o.remote4;
    if (o.ipv6) {
      copyIpv6(o.local6, 0, this.local6, 0);
      copyIpv6(o.remote6, 0, this.remote6, 0);
    }
    return this;
  }

  get local(): TupleAddress {
    return this.ipv6 ? this.local6 : this.local4;
  }

  get remote(): TupleAddress {
    return this.ipv6 ? this.remote6 : this.remote4;
  }

  localText(): string {
    return this.ipv6 ? ipv6Text(this.local6) : formatIpv4(this.local4);
  }

  remoteText(): string {
    return this.ipv6 ? ipv6Text(this.remote6) : formatIpv4(this.remote4);
  }

  /** Same pair of addresses (the ports are compared by the caller). */
  equals(o: TcpAddresses): boolean {
    if (this.ipv6 !== o.ipv6) return false;
    if (!this.ipv6) return this.remote4 === o.remote4 && this.local4 === o.local4;
    return ipv6Equals(this.remote6, 0, o.remote6, 0) && ipv6Equals(this.local6, 0, o.local6, 0);
  }
}

export interface TcpLayerOptions extends Partial<TcpConfig> {
  /**
   * 'linux': Linux's congestion control, RTO floor, quick-ACK and slow-start choices
   * (LINUX_TCP_PROFILE) under the options given here; the default is the RFCs' (see there).
   */
  profile?: 'rfc' | 'linux';
  /** Most connections in the table, TIME-WAIT included (default 10000). */
  maxConnections?: number;
  /** Half-open connections per listener before SYN cookies take over (default 128). */
  synBacklog?: number;
  /**
   * Most connections one peer (IPv4 address, IPv6 /64) may have in the table, accepted or
   * opened by us (default a quarter of maxConnections, at least 64 or the whole of a smaller
   * table): one host cannot take every slot.
   */
  maxConnectionsPerPeer?: number;
  /** Half-open connections per peer before its SYNs get cookies (default a quarter of synBacklog, at least 16). */
  maxHalfOpenPerPeer?: number;
  /** A full table may evict a connection that has been idle this long (ms, default 60 s). */
  evictIdleMs?: number;
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
  /** Segments taken with the options before a malformed one (see specs/tcp.pkt: lenient). */
  optionsCut: number;
  /** MSS reductions for a suspected ICMP black hole (repeated timeouts, RFC 4821). */
  blackholeMssDrops: number;
  /** RFC 4821 probes of a larger MSS after such a reduction, and those that passed. */
  mtuProbes: number;
  mtuProbesAcked: number;
  /** Segments received and sent over IPv6 (included in segmentsIn / segmentsOut). */
  ipv6SegmentsIn: number;
  ipv6SegmentsOut: number;
  /** Packet Too Big errors that lowered a connection's segment size (RFC 8201). */
  pathMtuDecreases: number;
  /** Connections ended by an ICMP or ICMPv6 error (RFC 1122 §4.2.3.9; see icmp-errors.ts). */
  icmpAborts: number;
  /** Soft ICMP errors remembered on a connection (reported if it times out). */
  icmpSoftErrors: number;
  drops: {
    malformed: number;
    badChecksum: number;
    /** Sent to a broadcast address or a multicast group. */
    broadcast: number;
    noListener: number;
    tableFull: number;
    badCookie: number;
    sendFailed: number;
    /** ICMP errors about no connection of ours, or quoting a sequence number out of window. */
    icmpIgnored: number;
    /** SYNs (or cookie ACKs) from a peer already holding maxConnectionsPerPeer connections. */
    peerLimit: number;
    /** SYN+FIN to a listener (dropped, as Linux does). */
    synFin: number;
  };
  /** Connections evicted from a full table to make room, by kind. */
  evictions: { timeWait: number; idle: number };
}

/** What `TcpLayer.onEvict` hears about each connection a full table evicted. */
export interface TcpEviction {
  remoteAddress: string;
  remotePort: number;
  localPort: number;
  state: string;
  reason: 'time-wait' | 'idle';
  idleMs: number;
}

/**
 * What `TcpLayer.onConnection` hears: a connection reached ESTABLISHED ('open'), or one that
 * had left the table after being open ('close', with how long it lived and how it ended: the
 * error its socket saw, else 'closed'). Half-open attempts that never completed are not told.
 */
export interface TcpConnectionEvent {
  event: 'open' | 'close';
  direction: 'in' | 'out';
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** 'close' only. */
  durationMs?: number;
  reason?: TcpErrorCode | 'closed';
}

/** A peer's share of the table. */
interface PeerShare {
  connections: number;
  halfOpen: number;
}

export interface ConnectOptions {
  /** An IPv4 address (text or number) or an IPv6 address ("fd00::1"; no %zone: one link). */
  host: string | number;
  port: number;
  localPort?: number;
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  /**
   * As node:net's: `socket.setTimeout(timeout)` from the start, so 'timeout' is emitted after
   * that long without activity (connecting included). It does not abort the attempt.
   */
  timeout?: number;
  /** @internal A socket made before the connection (stack.net resolves names first). */
  socket?: TcpSocket;
  /** As node:net's: received bytes go to this buffer and callback, not to 'data' (OnReadOptions). */
  onread?: OnReadOptions;
}

export interface ListenOptions {
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  /**
   * Which connections the port takes, as node:net's `listen({host})`: by default (or '::')
   * both families, like a dual-stack socket; '0.0.0.0' IPv4 only; one of our addresses only
   * connections to it.
   */
  host?: string;
  /** With host '::' (or none): IPv6 only (IPV6_V6ONLY), leaving the IPv4 port to another server. */
  ipv6Only?: boolean;
  /**
   * `onread` for each accepted socket (node:net has it for sockets it connects only): called
   * once per connection, so connections do not share a buffer.
   */
  onread?: () => OnReadOptions;
}

/** A listening port: emits 'connection' (socket), 'close'. */
export class TcpServer extends EventEmitter {
  listening = true;
  /** @internal The families it takes, and the address it is bound to (null: any of ours). */
  readonly ipv4: boolean;
  readonly ipv6: boolean;
  private readonly bound4: number;
  private readonly bound6: Uint8Array | null;

  constructor(
    private readonly layer: TcpLayer,
    readonly port: number,
    readonly options: ListenOptions,
    /** @internal Its passive opens: the half-open queue and SYN cookies (src/fsm/tcp/listener.ts). */
    readonly listener: TcpListener,
  ) {
    super();
    const host = options.host ?? '::';
    this.bound4 = 0;
    this.bound6 = null;
    if (host === '::') {
      this.ipv4 = options.ipv6Only !== true;
      this.ipv6 = true;
    } else if (host === '0.0.0.0') {
      this.ipv4 = true;
      this.ipv6 = false;
    } else if (host.includes(':')) {
      const a = parseIpv6(host);
      if (a === null) throw new TypeError(`listen: host "${host}" is not an address`);
      this.ipv4 = false;
      this.ipv6 = true;
      this.bound6 = a;
    } else {
      const a = parseIpv4(host);
      if (a < 0) throw new TypeError(`listen: host "${host}" is not an address`);
      this.ipv4 = true;
      this.ipv6 = false;
      this.bound4 = a >>> 0;
    }
  }

  /** Half-open connections (SYN-RECEIVED) right now. */
  get halfOpen(): number {
    return this.listener.halfOpen;
  }

  /** @internal Does a SYN to these addresses belong here? */
  takes(a: TcpAddresses): boolean {
    if (a.ipv6)
      return this.ipv6 && (this.bound6 === null || ipv6Equals(this.bound6, 0, a.local6, 0));
    return this.ipv4 && (this.bound4 === 0 || this.bound4 === a.local4);
  }

  address(): { address: string; family: string; port: number } {
    if (this.bound6 !== null)
      return { address: ipv6Text(this.bound6), family: 'IPv6', port: this.port };
    if (this.ipv6 && this.layer.hasIpv6) return { address: '::', family: 'IPv6', port: this.port };
    const a = this.bound4 !== 0 ? this.bound4 : this.layer.localAddress;
    return { address: formatIpv4(a), family: 'IPv4', port: this.port };
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
class Entry implements SocketBackend, RxRun {
  socket: TcpSocket | null = null;
  /** The next IPv6 connection in this one's hash slot. */
  next6: Entry | null = null;
  /** When we last told Neighbor Discovery this connection made progress (IPv6). */
  confirmedAt = -Infinity;
  /** The last soft ICMP error about this connection, reported if it times out. */
  softError: TcpErrorCode | null = null;
  /** When it reached ESTABLISHED (-1 before), and the error that ended it, if one did. */
  openedAt = -1;
  endedBy: TcpErrorCode | null = null;
  /** The peer it counts against (see TcpLayer.peerKey), and whether as half-open. */
  peer: number | string = 0;
  halfOpenCounted = false;
  /** Place in the layer's activity list (least recently active first), and when it was active. */
  older: Entry | null = null;
  newer: Entry | null = null;
  activeAt = 0;
  server: TcpServer | null = null;
  timer: TimerHandle | null = null;
  timerAt = Infinity;
  /** Socket work collected during a state-machine call and run after it returns. */
  chunks: Buffer[] = [];
  /**
   * The run of in-order data in the layer's receive slab not yet handed over as a chunk (see
   * rx-slab.ts): the deliveries of one receive batch extend it and reach the socket as one Buffer.
   */
  rxSlab: Buffer | null = null;
  rxStart = 0;
  rxEnd = 0;
  /** In the layer's list of entries whose run waits for the batch's end (TcpLayer.rxPending). */
  rxListed = false;
  /** In the layer's list of connections whose ACK waits for the batch's end (deferAck). */
  ackDeferred = false;
  /**
   * An `onread` socket: bytes already copied into its buffer and not yet given to its callback;
   * chunks (and their first one's bytes given) and end-of-stream events that wait while it is
   * paused; whether it was resumed since; whether its buffer is to be handed over at the next
   * settle rather than at the batch's end (see deliver).
   */
  directFill = 0;
  readonly held: Buffer[] = [];
  heldOffset = 0;
  readonly heldEvents: TcpEvent[] = [];
  resumed = false;
  directDue = false;
  /** Bytes handed to the socket (onData), and how many of them were reported consumed. */
  handed = 0;
  reported = 0;
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
    readonly addresses: TcpAddresses,
  ) {}

  get unread(): number {
    return this.conn.rcv.unread;
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
    // Counted against what the socket was given: data still in the run or in a chunk not yet
    // pushed is not consumed, whatever the stream holds at this moment.
    const consumed = this.handed - buffered - this.reported;
    if (consumed > 0) {
      this.reported += consumed;
      this.conn.consumed(consumed, this.layer.time());
      this.layer.settle(this);
    }
  }

  readerResumed(): void {
    this.resumed = true;
    this.layer.settle(this);
  }

  /** Received data waits for the batch's end (in the open run or the `onread` buffer). */
  get rxWaiting(): boolean {
    return this.rxSlab !== null || (this.directFill > 0 && this.socket?.directBuffer() != null);
  }

  setNoDelay(noDelay: boolean): void {
    this.conn.setNoDelay(noDelay, this.clock.now());
    this.layer.settle(this);
  }

  setKeepAlive(enable: boolean, initialDelayMs: number): void {
    this.conn.setKeepAlive(enable, initialDelayMs, this.clock.now());
    this.layer.settle(this);
  }

  configure(apply: (conn: TcpConnection, now: number) => void): void {
    apply(this.conn, this.clock.now());
    this.layer.settle(this);
  }
}

/** Per-connection counters the layer's stats() sums over live and closed connections. */
const SUMMED = [
  'retransmits',
  'timeouts',
  'challengeAcks',
  'blackholeMssDrops',
  'mtuProbes',
  'mtuProbesAcked',
] as const;
type SummedCounter = (typeof SUMMED)[number];

export class TcpLayer implements TransportReceiver, TcpHost, IcmpErrorReceiver {
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
    blackholeMssDrops: 0,
    mtuProbes: 0,
    mtuProbesAcked: 0,
    optionsCut: 0,
    ipv6SegmentsIn: 0,
    ipv6SegmentsOut: 0,
    pathMtuDecreases: 0,
    icmpAborts: 0,
    icmpSoftErrors: 0,
    drops: {
      malformed: 0,
      badChecksum: 0,
      broadcast: 0,
      noListener: 0,
      tableFull: 0,
      badCookie: 0,
      sendFailed: 0,
      icmpIgnored: 0,
      peerLimit: 0,
      synFin: 0,
    },
    evictions: { timeWait: 0, idle: 0 },
  };
  private readonly maxConnections: number;
  private readonly synBacklog: number;
  private readonly maxPerPeer: number;
  private readonly maxHalfOpenPerPeer: number;
  private readonly evictIdleMs: number;
  private readonly peers = new Map<number | string, PeerShare>();
  /** Every entry, least recently active first (eviction candidates come from the old end). */
  private oldest: Entry | null = null;
  private newest: Entry | null = null;
  /** Told of every connection a full table evicts (the CLI logs them). */
  onEvict: ((eviction: TcpEviction) => void) | null = null;
  /** Told of every connection that opens, and of its close (see TcpConnectionEvent). */
  onConnection: ((event: TcpConnectionEvent) => void) | null = null;
  /** IPv4: remote address → portsKey → entry (keys signed, see portsKey). */
  private readonly table = new Map<number, Map<number, Entry>>();
  /** IPv6: seeded hash of (remote address, ports) → entries chained through `next6`. */
  private readonly table6 = new Map<number, Entry>();
  private readonly hashSeed = randomInt(0x7fffffff);
  private readonly listeners4 = new Map<number, TcpServer>();
  private readonly listeners6 = new Map<number, TcpServer>();
  private readonly isn: IsnGenerator;
  private readonly cookies: SynCookies;
  /** A segment the frame decoder did not decode (reassembled, after extension headers). */
  private readonly view = new tcp.TcpView();
  /** Reads the segment an ICMPv6 error quotes (kept apart from the receive path's view). */
  private readonly quoteView = new tcp.TcpView();
  /** The IPv4 header an ICMP error quotes. */
  private readonly quote4 = new ipv4Spec.Ipv4View();
  private readonly rx: Segment = newSegment();
  /**
   * The facts the link gave about the frame being received (checksum state, GSO segment size);
   * the stack sets its link's record here. A record no link fills stands in until then.
   */
  rxMeta: FrameMeta = new FrameMeta();
  /** The gso_size of the segment in hand (0: not a super-frame). */
  private rxGsoSize = 0;
  private readonly reply: Segment = newSegment();
  /** The addresses of the segment being handled (copied into an entry when it opens one). */
  private readonly rxAddresses = new TcpAddresses();
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
  private tx: Uint8Array;
  private ip6: TcpIpv6 | null = null;
  /** IPv6 connections' configuration: the MSS is the IPv6 link's (set by attachIpv6). */
  private config6: TcpConfig;
  /** IPv4 / IPv6 connections' configuration when the link segments for us (enableTso). */
  private configTso: TcpConfig | null = null;
  private configTso6: TcpConfig | null = null;
  /** Where a TCP super-frame's facts go for the link (set with enableTso). */
  private txMeta: FrameMeta | null = null;
  /** Writes a super-frame's partial checksum (over the segment in `tx`). */
  private readonly txView = new tcp.TcpView();
  private nextEphemeral = 0;
  private count = 0;
  /** Set by attachTcp when the stack reports batch ends: ACKs are then coalesced per batch. */
  coalesceAcks = false;
  private inBatch = false;
  /**
   * When the open batch's segments arrived, read at its first segment; null between batches.
   * Null is part of the type on purpose: V8 then keeps the field tagged, so the heap number the
   * clock returned is stored and handed on as it is instead of being boxed again on every use.
   */
  private batchTime: number | null = null;
  private readonly deferred: Entry[] = [];
  /** In-order data on its way to the sockets (ownership: see rx-slab.ts). */
  private readonly rxMemory = new RxSlab(copyBytes);
  /** Entries whose open run is handed over at the batch's end. */
  private readonly rxPending: Entry[] = [];
  /** What connections that are gone added to the SUMMED counters. */
  private readonly closedCounters = Object.fromEntries(SUMMED.map((k) => [k, 0])) as Record<
    SummedCounter,
    number
  >;
  /** What IPv6 registers for next header TCP (a transport has one `receive` per family). */
  readonly ipv6Receiver: Ipv6TransportReceiver = { receive: (d) => this.receive6(d) };
  /**
   * Makes the socket object of each connection: the Node stream by default; the packetdrill
   * interpreter puts its own subclass here to drive connections from an fd table.
   */
  socketFactory: (init: TcpSocketInit) => TcpSocket = (init) => new TcpSocket(init);

  constructor(
    private readonly ipv4: TcpIpv4,
    private readonly clock: Clock,
    private readonly options: TcpLayerOptions = {},
  ) {
    const mss = Math.min(
      options.mss ?? ipv4.maxPayload - HEADER_LENGTH,
      ipv4.maxPayload - HEADER_LENGTH,
    );
    const { profile = 'rfc', ...explicit } = options;
    const base = profile === 'linux' ? LINUX_TCP_PROFILE : {};
    this.config = { ...DEFAULT_TCP_CONFIG, ...base, ...explicit, mss };
    this.config6 = this.config;
    this.maxConnections = options.maxConnections ?? 10_000;
    this.synBacklog = options.synBacklog ?? 128;
    // A quarter of the table (or backlog), but not so few that a small table starves one client.
    this.maxPerPeer =
      options.maxConnectionsPerPeer ??
      Math.max(Math.ceil(this.maxConnections / 4), Math.min(this.maxConnections, 64));
    this.maxHalfOpenPerPeer =
      options.maxHalfOpenPerPeer ??
      Math.max(Math.ceil(this.synBacklog / 4), Math.min(this.synBacklog, 16));
    this.evictIdleMs = options.evictIdleMs ?? 60_000;
    this.isn = new IsnGenerator(options.isnKey);
    this.cookies = new SynCookies(options.cookieKey);
    this.tx = new Uint8Array(HEADROOM + 60 + Math.max(mss, 536));
    this.nextEphemeral = (options.isnKey?.[0] ?? Math.floor(Math.random() * 256)) * 97;
  }

  /** Our IPv4 address. */
  get localAddress(): number {
    return this.ipv4.address;
  }

  get hasIpv6(): boolean {
    return this.ip6 !== null;
  }

  /**
   * Carries TCP over IPv6 too: register `ipv6Receiver` with it for next header 6, and pass
   * ICMPv6 errors to `icmpv6Error`. IPv6 connections get the MSS of the IPv6 link.
   */
  attachIpv6(ip6: TcpIpv6): void {
    this.ip6 = ip6;
    const max = ip6.maxPayload - HEADER_LENGTH;
    const mss = Math.min(this.options.mss ?? max, max);
    this.config6 = { ...this.config, mss };
    if (HEADROOM + 60 + mss > this.tx.length) this.tx = new Uint8Array(HEADROOM + 60 + mss);
  }

  /**
   * The link cuts TCP super-frames into MSS-sized segments (TSO) and completes their
   * checksums, over IPv4 (`v4`) and IPv6 (`v6`, after attachIpv6): connections of those
   * families opened from now on send segments of up to 64 KiB, described to the link through
   * `txMeta`. Connections to this host itself (the loopback) do not.
   */
  enableTso(txMeta: FrameMeta, v4: boolean, v6: boolean): void {
    this.txMeta = txMeta;
    if (v4) this.configTso = { ...this.config, tsoMaxPayload: TSO_MAX_PAYLOAD };
    if (v6 && this.ip6 !== null)
      this.configTso6 = { ...this.config6, tsoMaxPayload: TSO6_MAX_PAYLOAD };
    if (this.tx.length < HEADROOM + 60 + TSO6_MAX_PAYLOAD)
      this.tx = new Uint8Array(HEADROOM + 60 + TSO6_MAX_PAYLOAD);
  }

  private configFor(a: TcpAddresses): TcpConfig {
    if (a.ipv6) {
      const tso6 = this.configTso6;
      return tso6 !== null && !isLoopback6(a.remote6) && !ipv6Equal(a.remote6, a.local6)
        ? tso6
        : this.config6;
    }
    const tso = this.configTso;
    return tso !== null && a.remote4 !== a.local4 && a.remote4 >>> 24 !== 127 ? tso : this.config;
  }

  // ================================================================== user API

  listen(
    port: number,
    onConnection?: (socket: TcpSocket) => void,
    options: ListenOptions = {},
  ): TcpServer {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
      throw new RangeError(`listen: port ${port} is not 0..65535`);
    }
    // 0: a free port from the ephemeral range, as Linux's bind.
    if (port === 0) port = this.freeListenPort();
    const server = new TcpServer(
      this,
      port,
      options,
      new TcpListener(this.synBacklog, this.maxHalfOpenPerPeer, this.cookies, this.isn),
    );
    if ((server.ipv4 && this.listeners4.has(port)) || (server.ipv6 && this.listeners6.has(port))) {
      throw Object.assign(new Error(`listen EADDRINUSE: port ${port} already has a listener`), {
        code: 'EADDRINUSE',
      });
    }
    if (onConnection) server.on('connection', onConnection);
    if (server.ipv4) this.listeners4.set(port, server);
    if (server.ipv6) this.listeners6.set(port, server);
    queueMicrotask(() => server.emit('listening'));
    return server;
  }

  /** @internal */
  unlisten(server: TcpServer): void {
    if (this.listeners4.get(server.port) === server) this.listeners4.delete(server.port);
    if (this.listeners6.get(server.port) === server) this.listeners6.delete(server.port);
    // Handshakes still in SYN-RECEIVED go with the listener, silently, as Linux drops its
    // request sockets: their final ACK then finds no connection and is answered with a reset.
    if (server.halfOpen === 0) return;
    const embryonic: Entry[] = [];
    this.forEachEntry((e) => {
      if (e.server === server && !e.accepted) embryonic.push(e);
    });
    for (const e of embryonic) this.remove(e);
  }

  connect(options: ConnectOptions, connectListener?: () => void): TcpSocket {
    const a = new TcpAddresses();
    const host = options.host;
    if (typeof host === 'string' && host.includes(':')) {
      if (host.includes('%')) {
        throw new TypeError(
          `connect: "${host}": scope ids are not supported (the stack has one link; leave out the %zone)`,
        );
      }
      const remote = parseIpv6(host);
      if (remote === null) throw new TypeError(`connect: "${host}" is not an IPv6 address`);
      if (this.ip6 === null) {
        throw Object.assign(new Error(`connect EAFNOSUPPORT ${host}: IPv6 is not enabled`), {
          code: 'EAFNOSUPPORT',
        });
      }
      a.ipv6 = true;
      copyIpv6(remote, 0, a.remote6, 0);
    } else {
      const remote = typeof host === 'number' ? host >>> 0 : parseIpv4(host);
      if (remote < 0) throw new TypeError(`connect: "${String(host)}" is not an IP address`);
      a.remote4 = remote >>> 0;
      a.local4 = this.ipv4.sourceFor?.(a.remote4) ?? this.localAddress;
    }
    if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 0xffff) {
      throw new RangeError(`connect: port ${options.port} is not 1..65535`);
    }
    // RFC 6724: the source for an IPv6 destination; none (no address yet, DAD not done) fails
    // the attempt like an unreachable network.
    // No route (Linux: connect() fails with ENETUNREACH) likewise.
    const noSource = a.ipv6
      ? !(this.ip6 as TcpIpv6).selectSource(a.remote6, 0, a.local6) ||
        (this.ip6 as TcpIpv6).hasRoute?.(a.remote6, 0) === false
      : this.ipv4.hasRoute?.(a.remote4) === false;
    const localPort = options.localPort ?? this.ephemeralPort(a, options.port);
    if (localPort < 0 || this.lookup(a, options.port, localPort) !== undefined) {
      throw Object.assign(new Error('connect EADDRINUSE: no free local port'), {
        code: 'EADDRINUSE',
      });
    }
    const now = this.clock.now();
    const conn = new TcpConnection(this.configFor(a), this, localPort, options.port);
    const entry = this.insert(conn, a);
    const socket = this.newSocket(
      entry,
      true,
      options.allowHalfOpen,
      options.socket,
      options.onread,
    );
    entry.socket = socket;
    if (options.noDelay) conn.noDelay = true;
    if (connectListener) socket.once('connect', connectListener);
    if (options.timeout !== undefined) socket.setTimeout(options.timeout);
    this.counters.activeOpens++;
    if (noSource || (this.count > this.maxConnections && !this.evictOne(now))) {
      if (!noSource) this.counters.drops.tableFull++;
      conn.abort(now);
      const code: TcpErrorCode = noSource ? 'ENETUNREACH' : 'ECONNREFUSED';
      queueMicrotask(() => socket.onError(code));
      this.remove(entry);
      return socket;
    }
    this.applyPathMtu(entry, now);
    conn.setTimestampOffset(this.isn.timestampOffset(a.local, localPort, a.remote, options.port));
    conn.connect(this.isn.isn(a.local, localPort, a.remote, options.port, now), now);
    this.settle(entry);
    return socket;
  }

  /** Aggregate counters (live connections' included). */
  stats(): TcpLayerStats {
    const c = this.counters;
    for (const k of SUMMED) c[k] = this.closedCounters[k];
    let timeWait = 0;
    this.forEachEntry((e) => {
      for (const k of SUMMED) c[k] += e.conn.counters[k];
      if (e.conn.state === TcpState.TIME_WAIT) timeWait++;
    });
    this.counters.connections = this.count;
    this.counters.timeWait = timeWait;
    return {
      ...this.counters,
      drops: { ...this.counters.drops },
      evictions: { ...this.counters.evictions },
    };
  }

  /**
   * Aborts every connection (RST), destroys their sockets (pending writes fail, later writes
   * too) and stops listening.
   */
  close(): void {
    for (const server of new Set([...this.listeners4.values(), ...this.listeners6.values()]))
      server.close();
    const entries: Entry[] = [];
    this.forEachEntry((e) => entries.push(e));
    for (const e of entries) {
      const socket = e.socket;
      if (socket !== null) socket.resetAndDestroy();
      else {
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
    const view = this.segmentView(d.frame, d.bytes, d.offset, d.length);
    if (view === null) {
      stats.drops.malformed++;
      return;
    }
    // A checksum the link vouches for (verified, or partial: the frame never left this host) is
    // not summed again.
    const meta = this.rxMeta;
    if (!meta.checksumTrusted(d.bytes) && !view.checksumValidWith(d.src, d.dst)) {
      stats.drops.badChecksum++;
      return;
    }
    this.rxGsoSize = meta.segmentSizeOf(d.bytes);
    if (view.optionsMalformedAt >= 0) stats.optionsCut++;
    const a = this.rxAddresses;
    a.ipv6 = false;
    a.remote4 = d.src >>> 0;
    a.local4 = d.dst >>> 0;
    this.input(view, a);
  }

  /** A segment over IPv6 (RFC 8200 §8.1: the checksum covers the IPv6 pseudo-header). */
  receive6(d: Ipv6Delivery): void {
    const stats = this.counters;
    stats.segmentsIn++;
    stats.ipv6SegmentsIn++;
    this.inBatch = true;
    if (d.toMulticast) {
      stats.drops.broadcast++;
      return;
    }
    const view = this.segmentView(d.frame, d.bytes, d.offset, d.length);
    if (view === null) {
      stats.drops.malformed++;
      return;
    }
    const meta = this.rxMeta;
    if (!meta.checksumTrusted(d.bytes) && !view.checksumValidWithIpv6(d.src, 0, d.dst, 0)) {
      stats.drops.badChecksum++;
      return;
    }
    this.rxGsoSize = meta.segmentSizeOf(d.bytes);
    if (view.optionsMalformedAt >= 0) stats.optionsCut++;
    const a = this.rxAddresses;
    a.ipv6 = true;
    copyIpv6(d.src, 0, a.remote6, 0);
    copyIpv6(d.dst, 0, a.local6, 0);
    this.input(view, a);
  }

  /**
   * The segment's header: the frame decoder's view when it decoded these bytes as TCP, else
   * `this.view` wrapped over them; null (malformed) when they are not a TCP header.
   */
  private segmentView(
    frame: FrameDecoder | null,
    bytes: Uint8Array,
    offset: number,
    length: number,
  ): tcp.TcpView | null {
    if (frame !== null && decodedAs(frame, FrameLayer.tcp, frame.tcp, bytes, offset, length))
      return frame.tcp;
    const view = this.view;
    return view.wrap(bytes, offset, length) === null ? view : null;
  }

  /** The segment in `view`, checksum verified, from and to `a`. */
  private input(view: tcp.TcpView, a: TcpAddresses): void {
    const seg = this.rx;
    readSegment(view, seg);
    seg.gsoSize = this.rxGsoSize;
    const remotePort = view.srcPort;
    const localPort = view.dstPort;
    const now = this.arrivalTime();
    const entry = this.lookup(a, remotePort, localPort);
    if (entry !== undefined) {
      const conn = entry.conn;
      const f = seg.flags;
      // RFC 6191: a new SYN may take over a TIME-WAIT connection with a larger seq / timestamp
      // (acceptsReuse is false in every other state).
      if ((f & (SYN | ACK | RST)) === SYN) {
        const server = this.listenerFor(a, localPort);
        if (server !== undefined && conn.acceptsReuse(seg)) {
          const minIss = seqAdd(conn.sndMax, 128_000);
          this.remove(entry);
          this.passiveInput(server, seg, a, remotePort, localPort, now, minIss);
          return;
        }
      }
      this.touch(entry, now);
      if (a.ipv6) {
        const una = conn.sndUna;
        conn.input(seg, now);
        if (conn.sndUna !== una) this.confirmProgress(entry, now);
      } else {
        conn.input(seg, now);
      }
      this.settle(entry);
      return;
    }
    const server = this.listenerFor(a, localPort);
    if (server === undefined) {
      this.counters.drops.noListener++;
      this.sendStrayReset(seg, a, remotePort, localPort);
      return;
    }
    this.passiveInput(server, seg, a, remotePort, localPort, now, -1);
  }

  /** The listener a SYN to `a` and `localPort` goes to (IPv4: only to our own address). */
  private listenerFor(a: TcpAddresses, localPort: number): TcpServer | undefined {
    if (a.ipv6) {
      const server = this.listeners6.get(localPort);
      return server !== undefined && server.takes(a) ? server : undefined;
    }
    if (a.local4 !== this.localAddress && a.local4 >>> 24 !== 127) return undefined;
    const server = this.listeners4.get(localPort);
    return server !== undefined && server.takes(a) ? server : undefined;
  }

  /** RFC 4861 §7.3.1: new data acknowledged confirms the neighbor path (at most once a second). */
  private confirmProgress(entry: Entry, now: number): void {
    if (now - entry.confirmedAt < CONFIRM_INTERVAL_MS) return;
    entry.confirmedAt = now;
    this.ip6?.confirmReachable(entry.addresses.remote6, 0);
  }

  /**
   * A segment for `server` that no connection matches: its listener decides (src/fsm/tcp/
   * listener.ts) and this does what it says. `minIss` >= 0: the SYN takes over a TIME-WAIT
   * connection, whose successor's ISN must lie beyond it (RFC 6191).
   */
  private passiveInput(
    server: TcpServer,
    seg: Segment,
    a: TcpAddresses,
    remotePort: number,
    localPort: number,
    now: number,
    minIss: number,
  ): void {
    const share = this.peers.get(this.peerKey(a));
    const peerFull = share !== undefined && share.connections >= this.maxPerPeer;
    const listener = server.listener;
    const config = a.ipv6 ? this.config6 : this.config;
    const r = this.reply;
    const drops = this.counters.drops;
    switch (
      listener.input(seg, config, a, remotePort, localPort, peerFull, share?.halfOpen ?? 0, now, r)
    ) {
      case ListenAction.Ignore:
        return;
      case ListenAction.Reset:
        this.sendStrayReset(seg, a, remotePort, localPort);
        return;
      case ListenAction.SynFin:
        drops.synFin++;
        return;
      case ListenAction.PeerLimit:
        drops.peerLimit++;
        if (seg.flags & ACK) this.sendStrayReset(seg, a, remotePort, localPort);
        return;
      case ListenAction.BadCookie:
        drops.badCookie++;
        this.sendStrayReset(seg, a, remotePort, localPort);
        return;
      case ListenAction.Cookie:
        this.counters.synCookiesSent++;
        this.transmitRaw(r, a, remotePort, localPort, null);
        return;
      case ListenAction.Open: {
        if (!this.roomFor(now)) return;
        let iss = this.isn.isn(a.local, localPort, a.remote, remotePort, now);
        if (minIss >= 0 && !seqGt(iss, minIss)) iss = minIss;
        const entry = this.insertHalfOpen(server, a, remotePort, localPort, now);
        entry.conn.listen(iss);
        entry.conn.input(seg, now);
        this.settle(entry);
        return;
      }
      case ListenAction.CookieOpen: {
        if (!this.roomFor(now)) {
          this.sendStrayReset(seg, a, remotePort, localPort);
          return;
        }
        this.counters.synCookiesAccepted++;
        const entry = this.insertHalfOpen(server, a, remotePort, localPort, now);
        const iss = listener.cookieIss;
        entry.conn.acceptCookie(seg, iss, listener.cookieMss, now, listener.cookieOptions());
        this.settle(entry);
        return;
      }
    }
  }

  /**
   * A new connection for `server`, in the table and counted as half-open (balanced when it
   * leaves SYN-RECEIVED), with its timestamp offset set; the caller opens it.
   */
  private insertHalfOpen(
    server: TcpServer,
    a: TcpAddresses,
    remotePort: number,
    localPort: number,
    now: number,
  ): Entry {
    const conn = new TcpConnection(this.configFor(a), this, localPort, remotePort);
    const entry = this.insert(conn, new TcpAddresses().copyFrom(a));
    entry.server = server;
    server.listener.halfOpen++;
    entry.halfOpenCounted = true;
    (this.peers.get(entry.peer) as PeerShare).halfOpen++;
    this.applyPathMtu(entry, now);
    conn.setTimestampOffset(this.isn.timestampOffset(a.local, localPort, a.remote, remotePort));
    return entry;
  }

  private sendStrayReset(
    seg: Segment,
    a: TcpAddresses,
    remotePort: number,
    localPort: number,
  ): void {
    if (!resetFor(seg, this.reply)) return;
    this.counters.resetsSent++;
    this.transmitRaw(this.reply, a, remotePort, localPort, null);
  }

  // ================================================================== ICMP errors

  /**
   * An ICMP error (IPv4) quoting a segment we sent; the IPv4 layer has already lowered the path
   * MTU for a "fragmentation needed" (RFC 1191) and passes the value it now holds. The quote
   * holds at least the first 8 bytes of the TCP header (RFC 792): ports and sequence number.
   */
  icmpError(
    type: number,
    code: number,
    _from: number,
    bytes: Uint8Array,
    quoteOffset: number,
    quoteLength: number,
    mtu = 0,
  ): void {
    const q = this.quote4;
    if (q.wrapPartial(bytes, quoteOffset, quoteLength) !== null || q.protocol !== TCP) return;
    const start = q.payloadOffset;
    // A cold path: the prefix decoder allocates, but reads the 8 bytes a view would refuse.
    const th = tcp.decodeTcpPrefix(bytes, start, quoteOffset + quoteLength - start, 'seq');
    if (th.seq === undefined || th.srcPort === undefined || th.dstPort === undefined) {
      this.counters.drops.icmpIgnored++;
      return;
    }
    const a = this.rxAddresses;
    a.ipv6 = false;
    a.local4 = q.src >>> 0;
    a.remote4 = q.dst >>> 0;
    const tooBig =
      type === icmp.IcmpType.DestinationUnreachable &&
      code === icmp.IcmpUnreachableCode.FragmentationNeeded;
    this.connectionError(
      a,
      th.srcPort,
      th.dstPort,
      th.seq,
      tooBig ? mtu : -1,
      icmpVerdict(type, code),
    );
  }

  /**
   * An ICMPv6 error quoting a segment we sent; for a Packet Too Big the IPv6 layer has already
   * lowered the path MTU (RFC 8201), and the error's own MTU bounds the connection's as well.
   */
  icmpv6Error(report: Icmpv6ErrorReport): void {
    const ip6 = this.ip6;
    if (ip6 === null) return;
    const quoted = ip6.quotedHeader(report.bytes, report.quoteOffset, report.quoteLength);
    if (quoted === null || quoted.nextHeader !== TCP) return;
    const start = quoted.payloadOffset;
    const end = report.quoteOffset + report.quoteLength;
    // The quote may stop inside the payload; the header is what matters, read from the quote.
    const v = this.quoteView;
    if (v.wrap(report.bytes, start, end - start) !== null) {
      this.counters.drops.icmpIgnored++;
      return;
    }
    const a = this.rxAddresses;
    a.ipv6 = true;
    copyIpv6(report.bytes, quoted.srcOffset, a.local6, 0);
    copyIpv6(report.bytes, quoted.dstOffset, a.remote6, 0);
    const tooBig = report.type === icmpv6.Icmpv6Type.PacketTooBig;
    const mtu = tooBig
      ? Math.min(Math.max(IPV6_MIN_MTU, report.value), ip6.pathMtu(a.remote6, 0))
      : -1;
    this.connectionError(
      a,
      v.srcPort,
      v.dstPort,
      v.seq,
      mtu,
      icmpv6Verdict(report.type, report.code),
    );
  }

  /**
   * What an ICMP error does to the connection it names. Only one naming a connection of ours,
   * with a sequence number we have sent and not had acknowledged, counts (RFC 5927 §4.1: blind
   * attackers must guess it). `mtu` >= 0: path MTU discovery lowered the path to that (the MSS
   * follows, and what was lost is resent at once). Otherwise `verdict` (icmp-errors.ts): in
   * SYN-SENT the attempt ends with its error (as Linux); in SYN-RECEIVED a fatal one drops the
   * half-open connection; otherwise it is soft, and reported if the connection times out.
   */
  private connectionError(
    a: TcpAddresses,
    localPort: number,
    remotePort: number,
    seq: number,
    mtu: number,
    verdict: IcmpVerdict | null,
  ): void {
    const entry = this.lookup(a, remotePort, localPort);
    const conn = entry?.conn;
    if (
      entry === undefined ||
      conn === undefined ||
      !seqGe(seq, conn.sndUna) ||
      !seqLt(seq, conn.sndMax)
    ) {
      this.counters.drops.icmpIgnored++;
      return;
    }
    const now = this.clock.now();
    if (mtu >= 0) {
      const before = conn.effMss;
      const header = a.ipv6 ? IPV6_HEADER_LENGTH : IPV4_HEADER_LENGTH;
      conn.pathMtuChanged(mtu - header - HEADER_LENGTH, now);
      if (conn.effMss < before) this.counters.pathMtuDecreases++;
      this.settle(entry);
      return;
    }
    if (verdict === null) return;
    if (
      conn.state === TcpState.SYN_SENT ||
      (conn.state === TcpState.SYN_RECEIVED && verdict.fatal)
    ) {
      this.counters.icmpAborts++;
      this.fail(entry, verdict.code);
      conn.abort(now);
      this.settle(entry);
      return;
    }
    entry.softError = verdict.code;
    this.counters.icmpSoftErrors++;
  }

  /** Caps a new connection's segments at what the path to its peer is known to carry. */
  private applyPathMtu(entry: Entry, now: number): void {
    const a = entry.addresses;
    if (a.ipv6) {
      const mtu = (this.ip6 as TcpIpv6).pathMtu(a.remote6, 0);
      entry.conn.pathMtuChanged(mtu - IPV6_HEADER_LENGTH - HEADER_LENGTH, now);
    } else if (this.ipv4.pathMtu !== undefined) {
      const mtu = this.ipv4.pathMtu(a.remote4);
      if (mtu < this.ipv4.maxPayload + IPV4_HEADER_LENGTH)
        entry.conn.pathMtuChanged(mtu - IPV4_HEADER_LENGTH - HEADER_LENGTH, now);
    }
  }

  // ================================================================== TcpHost

  transmit(conn: TcpConnection, seg: Segment): void {
    if (seg.flags & RST) this.counters.resetsSent++;
    const entry = conn.owner as Entry;
    this.transmitRaw(seg, entry.addresses, conn.remotePort, conn.localPort, conn);
  }

  deliver(conn: TcpConnection, bytes: Uint8Array, offset: number, length: number): void {
    const entry = conn.owner as Entry;
    if (entry.released) return;
    // An `onread` socket's own buffer first, while nothing older waits.
    const direct = entry.socket?.directBuffer() ?? null;
    if (
      direct !== null &&
      entry.chunks.length === 0 &&
      entry.rxSlab === null &&
      entry.held.length === 0 &&
      entry.directFill < direct.length
    ) {
      const n = Math.min(length, direct.length - entry.directFill);
      copyBytes(bytes, offset, direct, entry.directFill, n);
      entry.directFill += n;
      // When the room left would not take another segment like this one, the buffer goes to
      // the callback as soon as this segment is processed (settle), not at the batch's end:
      // otherwise the rest of the batch (up to 32 super-frames of 64 KiB) would be copied into
      // the slab and then again into this buffer.
      if (direct.length - entry.directFill < length) entry.directDue = true;
      offset += n;
      length -= n;
    }
    this.rxMemory.append(entry, bytes, offset, length, entry.chunks);
    if (!entry.rxListed && entry.rxWaiting) {
      entry.rxListed = true;
      this.rxPending.push(entry);
    }
  }

  /**
   * The time a received segment arrived. The segments of one batch (one TAP read, one memory
   * delivery) arrived together, so while the host batches (it then owes a batchEnd() after each
   * batch) they share one reading of the clock. In Node every clock read (performance.now(),
   * Date.now()) returns a new 16-byte heap number: read per segment, it was the receive path's
   * only allocation per segment.
   */
  private arrivalTime(): number {
    if (!this.holdingRuns()) return this.clock.now();
    let t = this.batchTime;
    if (t === null) t = this.batchTime = this.clock.now();
    return t;
  }

  /** The open batch's arrival time until its batchEnd() is done, else the clock's reading. */
  time(): number {
    return this.batchTime ?? this.clock.now();
  }

  /** True while runs wait for the batch's end instead of being handed over at each settle. */
  private holdingRuns(): boolean {
    return this.coalesceAcks && this.inBatch;
  }

  event(conn: TcpConnection, event: TcpEvent): void {
    (conn.owner as Entry).events.push(event);
  }

  deferAck(conn: TcpConnection): boolean {
    if (!this.coalesceAcks || !this.inBatch) return false;
    const entry = conn.owner as Entry;
    if (!entry.ackDeferred) {
      entry.ackDeferred = true;
      this.deferred.push(entry);
    }
    return true;
  }

  /** End of a receive batch (one TAP wakeup): send the ACKs coalesced during it. */
  batchEnd(): void {
    this.inBatch = false;
    try {
      // The batch's data first: the reader's chance to open the window the ACKs below advertise.
      const pending = this.rxPending;
      for (let i = 0; i < pending.length; i++) {
        const entry = pending[i];
        entry.rxListed = false;
        if (!entry.rxWaiting) continue;
        if (entry.inTable) this.settle(entry);
        else RxSlab.drop(entry);
      }
      clearArray(pending);
      const deferred = this.deferred;
      if (deferred.length === 0) return;
      const now = this.time();
      for (let i = 0; i < deferred.length; i++) {
        const entry = deferred[i];
        entry.ackDeferred = false;
        if (!entry.inTable) continue;
        entry.conn.flushAck(now);
        this.settle(entry);
      }
      clearArray(deferred);
    } finally {
      this.batchTime = null;
    }
  }

  // ================================================================== internals

  private transmitRaw(
    seg: Segment,
    a: TcpAddresses,
    remotePort: number,
    localPort: number,
    conn: TcpConnection | null,
  ): void {
    const f = this.fields;
    const options = this.optionWriter.write(seg);
    const headerOffset = HEADROOM;
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
    // A super-frame's checksum is left to the link (partial: the pseudo-header's sum only).
    const meta = seg.gsoSize > 0 ? this.txMeta : null;
    f.checksum = meta === null ? undefined : 0;
    if (a.ipv6) {
      const ip6 = this.ip6 as TcpIpv6;
      const header = tcp.encodeTcpIpv6(f, this.tx, headerOffset, len, a.local6, 0, a.remote6, 0);
      if (header < 0) {
        this.counters.drops.sendFailed++;
        return;
      }
      this.counters.segmentsOut++;
      this.counters.ipv6SegmentsOut++;
      if (meta !== null) this.describeSuperFrame(meta, seg, a, headerOffset, header, len);
      ip6.send(a.remote6, 0, TCP, this.tx, headerOffset, header + len, a.local6);
      meta?.clear();
      return;
    }
    const header = tcp.encodeTcp(f, this.tx, headerOffset, len, a.local4, a.remote4);
    if (header < 0) {
      this.counters.drops.sendFailed++;
      return;
    }
    this.counters.segmentsOut++;
    if (meta !== null) this.describeSuperFrame(meta, seg, a, headerOffset, header, len);
    // From the connection's own address: 127.0.0.x answers from where it was reached.
    this.ipv4.send(a.remote4, TCP, this.tx, headerOffset, header + len, a.local4);
    meta?.clear();
  }

  /** The partial checksum and the link's facts of the super-frame encoded in `tx`. */
  private describeSuperFrame(
    meta: FrameMeta,
    seg: Segment,
    a: TcpAddresses,
    headerOffset: number,
    header: number,
    len: number,
  ): void {
    const v = this.txView;
    if (v.wrap(this.tx, headerOffset, header + len) !== null) return;
    if (a.ipv6) v.setPartialChecksumWithIpv6(a.local6, 0, a.remote6, 0);
    else v.setPartialChecksumWith(a.local4, a.remote4);
    const l3 = ETHERNET_HEADER_LENGTH + (a.ipv6 ? IPV6_HEADER_LENGTH : IPV4_HEADER_LENGTH);
    meta.bytes = this.tx;
    meta.flags = virtio.VirtioNetFlags.NeedsCsum;
    meta.gsoType = a.ipv6 ? virtio.VirtioGsoType.TcpV6 : virtio.VirtioGsoType.TcpV4;
    meta.gsoSize = seg.gsoSize;
    meta.hdrLen = l3 + header;
    meta.csumStart = l3;
    meta.csumOffset = tcp.TCP_OFFSETS.checksum;
  }

  private key6(remote: Uint8Array, remotePort: number, localPort: number): number {
    return hashAddress(remote, 0, this.hashSeed ^ ((remotePort << 16) | localPort));
  }

  private lookup(a: TcpAddresses, remotePort: number, localPort: number): Entry | undefined {
    if (!a.ipv6) return this.table.get(a.remote4 | 0)?.get(portsKey(remotePort, localPort));
    let e = this.table6.get(this.key6(a.remote6, remotePort, localPort)) ?? null;
    while (e !== null) {
      const c = e.conn;
      if (c.remotePort === remotePort && c.localPort === localPort && e.addresses.equals(a))
        return e;
      e = e.next6;
    }
    return undefined;
  }

  private insert(conn: TcpConnection, a: TcpAddresses): Entry {
    const entry = new Entry(this, conn, this.clock, a);
    conn.owner = entry;
    entry.peer = this.peerKey(a);
    const share = this.peers.get(entry.peer);
    if (share === undefined) this.peers.set(entry.peer, { connections: 1, halfOpen: 0 });
    else share.connections++;
    this.touch(entry, this.clock.now());
    if (a.ipv6) {
      const key = this.key6(a.remote6, conn.remotePort, conn.localPort);
      entry.next6 = this.table6.get(key) ?? null;
      this.table6.set(key, entry);
    } else {
      let ports = this.table.get(a.remote4 | 0);
      if (ports === undefined) {
        ports = new Map();
        this.table.set(a.remote4 | 0, ports);
      }
      ports.set(portsKey(conn.remotePort, conn.localPort), entry);
    }
    this.count++;
    return entry;
  }

  private remove(entry: Entry): void {
    if (!entry.inTable) return;
    entry.inTable = false;
    entry.timer?.cancel();
    entry.timer = null;
    const conn = entry.conn;
    if (entry.server !== null && !entry.accepted) entry.server.listener.halfOpen--;
    this.leaveHalfOpen(entry);
    const share = this.peers.get(entry.peer);
    if (share !== undefined && --share.connections === 0) this.peers.delete(entry.peer);
    this.unlink(entry);
    if (entry.openedAt >= 0 && this.onConnection !== null) {
      this.onConnection(this.connectionEvent(entry, 'close'));
    }
    const c: TcpCounters = conn.counters;
    for (const k of SUMMED) this.closedCounters[k] += c[k];
    const a = entry.addresses;
    if (a.ipv6) {
      const key = this.key6(a.remote6, conn.remotePort, conn.localPort);
      let e = this.table6.get(key) ?? null;
      let prev: Entry | null = null;
      while (e !== null && e !== entry) {
        prev = e;
        e = e.next6;
      }
      if (e !== null) {
        if (prev !== null) prev.next6 = entry.next6;
        else if (entry.next6 !== null) this.table6.set(key, entry.next6);
        else this.table6.delete(key);
      }
      entry.next6 = null;
    } else {
      const ports = this.table.get(a.remote4 | 0);
      if (ports !== undefined) {
        ports.delete(portsKey(conn.remotePort, conn.localPort));
        if (ports.size === 0) this.table.delete(a.remote4 | 0);
      }
    }
    this.count--;
  }

  /**
   * Whom a connection counts against: an IPv4 address, or an IPv6 /64 (one host commonly holds
   * a whole /64, RFC 4291 §2.5.1, so counting its addresses apart would count nothing).
   */
  private peerKey(a: TcpAddresses): number | string {
    return a.ipv6 ? prefix64Key(a.remote6, 0) : a.remote4;
  }

  private leaveHalfOpen(entry: Entry): void {
    if (!entry.halfOpenCounted) return;
    entry.halfOpenCounted = false;
    const share = this.peers.get(entry.peer);
    if (share !== undefined) share.halfOpen--;
  }

  /** Marks `entry` active now: it moves to the new end of the activity list. */
  private touch(entry: Entry, now: number): void {
    entry.activeAt = now;
    if (this.newest === entry) return;
    this.unlink(entry);
    entry.older = this.newest;
    if (this.newest !== null) this.newest.newer = entry;
    this.newest = entry;
    if (this.oldest === null) this.oldest = entry;
  }

  private unlink(entry: Entry): void {
    if (entry.older !== null) entry.older.newer = entry.newer;
    else if (this.oldest === entry) this.oldest = entry.newer;
    if (entry.newer !== null) entry.newer.older = entry.older;
    else if (this.newest === entry) this.newest = entry.older;
    entry.older = null;
    entry.newer = null;
  }

  /** Room in the table for one more connection, evicting one if it is full. */
  private roomFor(now: number): boolean {
    if (this.count < this.maxConnections || this.evictOne(now)) return true;
    this.counters.drops.tableFull++;
    return false;
  }

  /**
   * Makes room in a full table: the least recently active TIME-WAIT connection among the
   * oldest few, else the least recently active connection if idle for evictIdleMs. Bounded
   * work (EVICT_SCAN entries) so that a SYN flood against a full table stays cheap.
   */
  private evictOne(now: number): boolean {
    let e = this.oldest;
    for (let i = 0; e !== null && i < EVICT_SCAN; i++, e = e.newer) {
      if (e.conn.state === TcpState.TIME_WAIT) {
        this.evict(e, 'time-wait', now);
        return true;
      }
    }
    const old = this.oldest;
    if (old !== null && now - old.activeAt >= this.evictIdleMs) {
      this.evict(old, 'idle', now);
      return true;
    }
    return false;
  }

  private evict(entry: Entry, reason: TcpEviction['reason'], now: number): void {
    const conn = entry.conn;
    if (reason === 'time-wait') this.counters.evictions.timeWait++;
    else this.counters.evictions.idle++;
    this.onEvict?.({
      remoteAddress: entry.addresses.remoteText(),
      remotePort: conn.remotePort,
      localPort: conn.localPort,
      state: stateName(conn.state),
      reason,
      idleMs: now - entry.activeAt,
    });
    this.fail(entry, 'ECONNABORTED');
    conn.abort(now);
    this.settle(entry);
    this.remove(entry);
  }

  private forEachEntry(fn: (e: Entry) => void): void {
    for (const ports of this.table.values()) for (const e of ports.values()) fn(e);
    for (const head of this.table6.values()) {
      for (let e: Entry | null = head; e !== null; e = e.next6) fn(e);
    }
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
        guard < 64 &&
        (entry.chunks.length > 0 ||
          entry.events.length > 0 ||
          entry.resumed ||
          entry.directDue ||
          (entry.rxWaiting && !this.holdingRuns()));
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
    // The open run waits for the batch's end, unless an event must follow its data.
    const due = entry.directDue;
    entry.directDue = false;
    if (!this.holdingRuns() || entry.events.length > 0 || entry.resumed || due)
      this.rxMemory.close(entry, entry.chunks);
    // Swap in the spare arrays so work queued by socket callbacks lands in the other pair.
    const events = entry.events;
    const chunks = entry.chunks;
    entry.events = entry.spareEvents;
    entry.chunks = entry.spareChunks;
    // Order: establishment first, then data, then end-of-stream and errors.
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      if (ev === TcpEvent.Established) this.onEstablished(entry);
    }
    const socket = entry.socket;
    // End of stream after the data an `onread` socket has not taken yet.
    let endWaits = false;
    if (socket !== null && socket.direct) {
      if (!this.holdingRuns() || events.length > 0 || entry.resumed || due) {
        entry.resumed = false;
        this.deliverDirect(entry, socket, chunks);
      } else for (let i = 0; i < chunks.length; i++) entry.held.push(chunks[i]);
      endWaits = entry.directFill > 0 || entry.held.length > 0;
      if (!endWaits && entry.heldEvents.length > 0) this.endStream(entry, entry.heldEvents);
    } else if (socket !== null) {
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i];
        entry.handed += c.length;
        socket.onData(c);
      }
      if (chunks.length > 0) entry.readerBuffered(socket.readableLength);
    }
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      const s = entry.socket;
      switch (ev) {
        case TcpEvent.SendSpace:
          s?.onSendSpace();
          break;
        case TcpEvent.RemoteFin:
        case TcpEvent.Closed:
          if (endWaits) entry.heldEvents.push(ev);
          else if (ev === TcpEvent.RemoteFin) s?.onRemoteEnd();
          else s?.onClosed();
          break;
        case TcpEvent.Reset:
          this.fail(entry, 'ECONNRESET');
          break;
        case TcpEvent.Refused:
          this.fail(entry, 'ECONNREFUSED');
          break;
        case TcpEvent.TimedOut:
          // RFC 5461 §4.1 / Linux: a soft ICMP error seen meanwhile says more than "timed out".
          this.fail(entry, entry.softError ?? 'ETIMEDOUT');
          break;
        default:
          break;
      }
    }
    clearArray(events);
    clearArray(chunks);
    entry.spareEvents = events;
    entry.spareChunks = chunks;
  }

  /**
   * Gives an `onread` socket what waits for it, oldest first: the bytes already in its buffer,
   * then chunks copied into the buffer a buffer's worth at a time, until it pauses.
   */
  private deliverDirect(entry: Entry, socket: TcpSocket, chunks: Buffer[]): void {
    const held = entry.held;
    for (let i = 0; i < chunks.length; i++) held.push(chunks[i]);
    let given = false;
    if (entry.directFill > 0 && socket.directBuffer() !== null) {
      const n = entry.directFill;
      entry.directFill = 0;
      entry.handed += n;
      given = true;
      socket.onDirectData(n);
    }
    while (held.length > 0 && entry.directFill === 0) {
      const buffer = socket.directBuffer();
      if (buffer === null) break;
      const c = held[0];
      const n = Math.min(c.length - entry.heldOffset, buffer.length);
      copyBytes(c, entry.heldOffset, buffer, 0, n);
      entry.heldOffset += n;
      if (entry.heldOffset === c.length) {
        held.shift();
        entry.heldOffset = 0;
      }
      entry.handed += n;
      given = true;
      socket.onDirectData(n);
    }
    if (given) entry.readerBuffered(0);
  }

  /** The end-of-stream events that waited for an `onread` socket's data. */
  private endStream(entry: Entry, events: TcpEvent[]): void {
    while (events.length > 0) {
      const ev = events.shift();
      if (ev === TcpEvent.RemoteFin) entry.socket?.onRemoteEnd();
      else entry.socket?.onClosed();
    }
  }

  private fail(entry: Entry, code: TcpErrorCode): void {
    entry.endedBy ??= code;
    const s = entry.socket;
    entry.socket = null;
    s?.onError(code);
  }

  private onEstablished(entry: Entry): void {
    const conn = entry.conn;
    entry.openedAt = this.clock.now();
    if (this.onConnection !== null) this.onConnection(this.connectionEvent(entry, 'open'));
    if (!conn.passive) {
      entry.socket?.onConnected();
      return;
    }
    const server = entry.server;
    if (server === null) return;
    server.listener.halfOpen--;
    this.leaveHalfOpen(entry);
    entry.accepted = true;
    this.counters.passiveOpens++;
    if (!server.listening) {
      conn.abort(this.clock.now());
      return;
    }
    const socket = this.newSocket(
      entry,
      false,
      server.options.allowHalfOpen,
      undefined,
      server.options.onread?.(),
    );
    entry.socket = socket;
    if (server.options.noDelay) conn.setNoDelay(true, this.clock.now());
    server.emit('connection', socket);
  }

  private connectionEvent(entry: Entry, event: 'open' | 'close'): TcpConnectionEvent {
    const a = entry.addresses;
    const conn = entry.conn;
    const e: TcpConnectionEvent = {
      event,
      direction: conn.passive ? 'in' : 'out',
      localAddress: a.localText(),
      localPort: conn.localPort,
      remoteAddress: a.remoteText(),
      remotePort: conn.remotePort,
    };
    if (event === 'close') {
      e.durationMs = this.clock.now() - entry.openedAt;
      e.reason = entry.endedBy ?? 'closed';
    }
    return e;
  }

  private newSocket(
    entry: Entry,
    connecting: boolean,
    allowHalfOpen?: boolean,
    existing?: TcpSocket,
    onread?: OnReadOptions,
  ): TcpSocket {
    const a = entry.addresses;
    const conn = entry.conn;
    const init: TcpSocketInit = {
      backend: entry,
      family: a.ipv6 ? 'IPv6' : 'IPv4',
      localAddress: a.localText(),
      localPort: conn.localPort,
      remoteAddress: a.remoteText(),
      remotePort: conn.remotePort,
      connecting,
      allowHalfOpen,
      onread,
    };
    if (existing === undefined) return this.socketFactory(init);
    existing.attach(init);
    return existing;
  }

  private freeListenPort(): number {
    const start = randomInt(EPHEMERAL_COUNT);
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const port = EPHEMERAL_FIRST + ((start + i) % EPHEMERAL_COUNT);
      if (!this.listeners4.has(port) && !this.listeners6.has(port)) return port;
    }
    throw Object.assign(new Error('listen EADDRINUSE: no free port'), { code: 'EADDRINUSE' });
  }

  private ephemeralPort(a: TcpAddresses, remotePort: number): number {
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const port = EPHEMERAL_FIRST + ((this.nextEphemeral + i) % EPHEMERAL_COUNT);
      if (
        this.lookup(a, remotePort, port) === undefined &&
        !this.listeners4.has(port) &&
        !this.listeners6.has(port)
      ) {
        this.nextEphemeral = (this.nextEphemeral + i + 1) % EPHEMERAL_COUNT;
        return port;
      }
    }
    return -1;
  }
}
