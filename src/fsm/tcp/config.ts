/**
 * What the TCP state machine's parts share: states, events, the configuration and its
 * profiles, the host interface the connection talks to, counters and protocol constants.
 */
import { DEFAULT_RTO_CONFIG, type RtoConfig } from '../rto.js';
import type { Segment } from '../segment.js';
import type { TcpConnection } from './connection.js';

export const TcpState = {
  CLOSED: 0,
  LISTEN: 1,
  SYN_SENT: 2,
  SYN_RECEIVED: 3,
  ESTABLISHED: 4,
  FIN_WAIT_1: 5,
  FIN_WAIT_2: 6,
  CLOSE_WAIT: 7,
  CLOSING: 8,
  LAST_ACK: 9,
  TIME_WAIT: 10,
} as const;
export type TcpState = (typeof TcpState)[keyof typeof TcpState];

const STATE_NAMES = [
  'CLOSED',
  'LISTEN',
  'SYN-SENT',
  'SYN-RECEIVED',
  'ESTABLISHED',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'CLOSE-WAIT',
  'CLOSING',
  'LAST-ACK',
  'TIME-WAIT',
] as const;

export function stateName(s: TcpState): string {
  return STATE_NAMES[s];
}

export const TcpEvent = {
  /** The three-way handshake completed. */
  Established: 1,
  /** The peer sent FIN: no more data will arrive (the readable side ends). */
  RemoteFin: 2,
  /** Acknowledged data left the send buffer: more can be written. */
  SendSpace: 3,
  /** The connection finished normally (from the user's point of view; TIME-WAIT may follow). */
  Closed: 4,
  /** The peer reset an established connection (ECONNRESET). */
  Reset: 5,
  /** The peer refused the connection: RST in reply to our SYN (ECONNREFUSED). */
  Refused: 6,
  /** Retransmissions, SYN retries, keepalive or zero-window probes gave up (ETIMEDOUT). */
  TimedOut: 7,
} as const;
export type TcpEvent = (typeof TcpEvent)[keyof typeof TcpEvent];

export interface TcpConfig {
  /** Largest segment payload we can receive and send (link MTU - 40 for IPv4). */
  mss: number;
  /** Send buffer bytes (unacknowledged + unsent). */
  sndBuf: number;
  /** Receive buffer bytes: the window we offer. */
  rcvBuf: number;
  congestion: 'newreno' | 'cubic';
  /**
   * Most segments one ACK may grow cwnd by in slow start (RFC 3465's L: 2 as RFC 5681 allows;
   * Infinity grows by everything acknowledged, up to ssthresh, as Linux does).
   */
  abcLimit: number;
  /** Grow cwnd only while the flight fills it (RFC 7661's idea; Linux does). Off: always. */
  cwndLimitedGrowth: boolean;
  /**
   * Grow cwnd by what an ACK newly delivers, acknowledged or SACKed, so data SACKed earlier
   * does not count again when the cumulative ACK covers it (Linux's acked_sacked). Off: by
   * the bytes the cumulative ACK covers (RFC 3465).
   */
  deliveredGrowth: boolean;
  /**
   * Proportional Rate Reduction (RFC 6937) for cwnd during SACK recovery, as Linux does: the
   * window falls towards ssthresh in step with what the peer delivers instead of at once.
   * Off: RFC 6675, cwnd = ssthresh on entering recovery.
   */
  prr: boolean;
  rto: RtoConfig;
  /** SYN retransmissions before ETIMEDOUT (Linux: 6). */
  synRetries: number;
  /** SYN-ACK retransmissions before a half-open connection is dropped (Linux: 5). */
  synAckRetries: number;
  /** Data retransmissions (and unanswered zero-window probes) before ETIMEDOUT (Linux: 15). */
  dataRetries: number;
  /** Maximum segment lifetime; TIME-WAIT lasts 2*MSL. */
  msl: number;
  /** How long an orphaned connection may sit in FIN-WAIT-2 (Linux tcp_fin_timeout). */
  finWait2Timeout: number;
  /** Delayed-ACK timeout (RFC 1122/9293: at most 500 ms; RFC 5681: at most 200 ms). */
  delayedAck: number;
  /**
   * In-order data segments ACKed at once when a connection starts, before delayed ACKs begin
   * (Linux's quick-ACK mode, at most 16; it speeds up the peer's slow start). 0: RFC 5681
   * delayed ACKs from the first segment.
   */
  quickAcks: number;
  keepIdle: number;
  keepInterval: number;
  keepCount: number;
  timestamps: boolean;
  sack: boolean;
  windowScale: boolean;
  /** Challenge ACKs (RFC 5961) allowed per connection per second. */
  challengeAckLimit: number;
  /**
   * An ACK for data never sent (SEG.ACK > SND.NXT) is dropped and answered with an ACK, as
   * RFC 9293 §3.10.7.4 and RFC 5961 §5.2 say. Off: dropped silently, as Linux does in
   * ESTABLISHED (tcp_ack's "ack of unsent data"), so it never draws an ACK.
   */
  ackUnsentAck: boolean;
  /**
   * The tail loss probe's timeout with one segment in flight: 'rfc8985' waits 2·SRTT plus the
   * delayed-ACK timeout (RFC 8985 §7.2's WCDelAckT, here our own `delayedAck`), else 2·SRTT, at
   * least 10 ms; 'linux' as tcp_schedule_loss_probe: 2·SRTT + 200 ms, else 2·SRTT + 2 ms.
   */
  lossProbe: 'rfc8985' | 'linux';
  /**
   * Restart from (at most) the initial window after an idle period longer than the RTO
   * (RFC 5681 §4.1's SHOULD; Linux's tcp_slow_start_after_idle, on by default there).
   */
  slowStartAfterIdle: boolean;
  /** Most out-of-order chunks held per connection. */
  reorderMaxChunks: number;
  /**
   * Black-hole fallback (RFC 4821 §7.8's idea, Linux's tcp_mtu_probing=1 and tcp_base_mss):
   * from the BLACKHOLE_TIMEOUTS-th timeout in a row, the path is taken to drop large packets
   * without an ICMP error: the MSS falls to half of what it was (at most this much), and halves
   * again at each further timeout, down to 536. 0 turns it off.
   */
  blackholeMss: number;
  /**
   * Largest payload of one segment handed to the link when the link segments for us (TSO: it
   * cuts the segment into MSS-sized ones on the wire); 0 when it does not, and every segment
   * is at most one MSS. Windows, Nagle and SWS avoidance still decide how much is sent; a
   * segment larger than one MSS is a whole number of MSS unless it ends the data.
   */
  tsoMaxPayload: number;
}

export const DEFAULT_TCP_CONFIG: TcpConfig = {
  mss: 1460,
  sndBuf: 256 * 1024,
  rcvBuf: 256 * 1024,
  congestion: 'newreno',
  abcLimit: 2,
  cwndLimitedGrowth: false,
  deliveredGrowth: false,
  prr: false,
  rto: DEFAULT_RTO_CONFIG,
  synRetries: 6,
  synAckRetries: 5,
  dataRetries: 15,
  msl: 30_000,
  finWait2Timeout: 60_000,
  delayedAck: 40,
  quickAcks: 0,
  keepIdle: 7_200_000,
  keepInterval: 75_000,
  keepCount: 9,
  timestamps: true,
  sack: true,
  windowScale: true,
  challengeAckLimit: 10,
  ackUnsentAck: true,
  lossProbe: 'rfc8985',
  slowStartAfterIdle: true,
  reorderMaxChunks: 512,
  blackholeMss: 1024,
  tsoMaxPayload: 0,
};

/**
 * Linux's choices where ours differ (what packetdrill scripts assume; `profile: 'linux'` on the
 * TCP layer applies them under any explicit option). Our defaults and why:
 * - RTO granularity 1 ms, not 200 ms: Linux's RTO is SRTT + max(200 ms, 4 * RTTVAR), which on
 *   a LAN waits 200 ms for every lost tail; RFC 6298's G is the clock's tick.
 * - No quick-ACK mode: RFC 5681's delayed ACKs from the first segment (one ACK per two).
 * - Slow start grows by at most 2 segments per ACK (RFC 3465's L = 2) and whether or not the
 *   flight fills cwnd; Linux grows by all it newly delivers (data SACKed before counts
 *   once), only while cwnd-limited.
 * - PRR off, NewReno: RFC 6675 recovery and RFC 5681's congestion control are the standards
 *   track; PRR (RFC 6937) and CUBIC (RFC 9438) are there for Linux's timing.
 * - An ACK of unsent data draws an ACK (RFC 9293, RFC 5961 §5.2); Linux drops it silently.
 * - A loss probe waits 2·SRTT (at least 10 ms), plus our delayed-ACK time with one segment out
 *   (RFC 8985 §7.2); Linux adds 200 ms to 2·SRTT with one segment out, else 2 ms.
 * Already Linux's in both: IW10, TLP at 2 * SRTT, the restart window after idle, the 1 ms
 * timestamp tick, window scale from the receive buffer, RST on close with unread data.
 */
export const LINUX_TCP_PROFILE: Readonly<Partial<TcpConfig>> = {
  rto: { ...DEFAULT_RTO_CONFIG, granularity: 200 },
  quickAcks: 16,
  abcLimit: Infinity,
  cwndLimitedGrowth: true,
  deliveredGrowth: true,
  prr: true,
  congestion: 'cubic',
  ackUnsentAck: false,
  lossProbe: 'linux',
};

/** Consecutive timeouts before the black-hole fallback lowers the MSS (Linux: tcp_retries1). */
export const BLACKHOLE_TIMEOUTS = 3;
/** The black-hole fallback's floor: RFC 1122's default MSS, which every IPv4 path carries. */
export const BLACKHOLE_MIN_MSS = 536;
/** The search stops when what might pass and what does are this close (Linux: tcp_probe_threshold). */
export const MTU_PROBE_THRESHOLD = 8;
/** After a search ends, probe up to the first ceiling again this much later (tcp_probe_interval). */
export const MTU_REPROBE_INTERVAL = 600_000;

export interface TcpHost {
  /**
   * Sends one segment. `seg` is reused after the call returns. When `seg.dataLength > 0` the
   * payload is `conn.copyPayload(seg.seq, seg.dataLength, out, off)`.
   */
  transmit(conn: TcpConnection, seg: Segment): void;
  /** In-order data for the application (valid only during the call). */
  deliver(conn: TcpConnection, bytes: Uint8Array, offset: number, length: number): void;
  event(conn: TcpConnection, event: TcpEvent): void;
  /**
   * Optional ACK coalescing: return true to promise a `conn.flushAck(now)` call soon (at the end
   * of the current receive batch), so the every-second-segment ACK can cover the whole batch.
   */
  deferAck?(conn: TcpConnection): boolean;
}

export interface TcpCounters {
  segmentsIn: number;
  segmentsOut: number;
  retransmits: number;
  fastRetransmits: number;
  timeouts: number;
  challengeAcks: number;
  challengeAcksSuppressed: number;
  pawsDrops: number;
  outOfWindow: number;
  reorderDrops: number;
  dupAcksIn: number;
  lostRetransmits: number;
  tailProbes: number;
  /** Times cwnd fell back to the restart window after an idle period (RFC 5681 §4.1). */
  idleRestarts: number;
  /** Resends from SND.UNA because path MTU discovery lowered the segment size. */
  pathMtuRetransmits: number;
  /** Times repeated timeouts lowered the MSS for a suspected black hole (RFC 4821). */
  blackholeMssDrops: number;
  /** RFC 4821 probes sent after a black-hole drop, and those acknowledged (the MSS rose). */
  mtuProbes: number;
  mtuProbesAcked: number;
}

/** TIME-WAIT's TS.Recent stays meaningful for 24 days (RFC 7323 §5.5). */
export const PAWS_IDLE_MS = 24 * 24 * 3600 * 1000;
export const NONE = Infinity;
/** Linux's loss probe allows TCP_RTO_MIN for a delayed ACK with one segment out, else 2 ticks. */
export const LINUX_RTO_MIN = 200;
export const LINUX_TIMEOUT_MIN = 2;
export const DEFAULT_PEER_MSS = 536;
export const TS_OPTION_BYTES = 12;
/** A SACK option's bytes besides its blocks: NOP, NOP, kind, length (RFC 2018 §3). */
export const SACK_OPTION_BASE = 4;
/** Most full segments left unacknowledged while the host coalesces ACKs. */
export const MAX_STRETCH_SEGMENTS = 16;

/** Window-scale shift that lets a 16-bit window express `rcvBuf` (RFC 7323 §2.3, at most 14). */
export function windowShiftFor(rcvBuf: number): number {
  // A 16-bit window already expresses it (and a negative size must not read as 2^32 - n below).
  if (rcvBuf < 0x10000) return 0;
  let s = 0;
  while (s < 14 && rcvBuf >>> s > 0xffff) s++;
  return s;
}
