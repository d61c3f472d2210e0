/**
 * An RFC monitor on the wire between two connections: it sees every segment each side sends and
 * every segment each side is handed, and checks what a peer could check, whatever the state
 * machine's internals are:
 * - RFC 9293 §3.8.6: no data beyond the right edge of a window the sender has been offered,
 *   window fields scaled by the shift the receiver announced (RFC 7323 §2.3), never in a SYN;
 *   the receiver never moves the right edge of its window back; the ACK number never goes back
 *   and never acknowledges bytes that did not arrive; no segment larger than the peer's MSS
 *   (§3.7.1, 536 without the option) counting the options it carries (RFC 6691).
 * - RFC 5681 §4.2: an out-of-order segment, or one that fills a gap, is acknowledged at once;
 *   an in-order segment within the delayed-ACK time.
 * - RFC 896 / RFC 1122 §4.2.3.4 (Nagle): with Nagle on, a new segment smaller than the MSS goes
 *   out only when everything sent before it has been acknowledged (a tail loss probe aside).
 * - RFC 7323 §3.2, §4.3: timestamps on every non-RST segment once both SYNs carried them, none
 *   otherwise; TSval never goes back; TSecr echoes a TSval the peer really sent, never going back.
 * - RFC 2018: SACK blocks only when both SYNs permitted it, at most 4 (3 with timestamps), each
 *   above the cumulative ACK and within data that arrived.
 * Scenarios vary loss, duplication, reordering, buffers, options, writes and reads, so the
 * monitor watches recovery, zero windows, probes and closes as well as plain transfers.
 */
import { describe, expect, it } from 'vitest';
import { ACK, FIN, RST, SYN, type Segment } from '../../src/fsm/segment.js';
import { LINUX_TCP_PROFILE, TcpState, type TcpConfig } from '../../src/fsm/tcp.js';
import { Net, pattern, rng, type SentSegment } from './harness.js';

type Side = 'a' | 'b';
const other = (s: Side): Side => (s === 'a' ? 'b' : 'a');
const lt = (x: number, y: number): boolean => ((x - y) | 0) < 0;
const le = (x: number, y: number): boolean => ((x - y) | 0) <= 0;
const add = (x: number, n: number): number => (x + n) >>> 0;

interface SideState {
  syn?: Segment;
  /** Highest right edge (ack + scaled window) of the peer's segments this side was handed. */
  offeredEdge?: number;
  /** Highest ACK this side was handed. */
  unaSeen?: number;
  /** Highest sequence number this side has sent (SND.MAX as the wire shows it). */
  sndMax?: number;
  lastAck?: number;
  lastEdge?: number;
  lastTsVal: number;
  lastTsEcr: number;
  /** TSvals of the peer's segments this side was handed. */
  tsSeen: Set<number>;
  /** Byte ranges of the peer's data this side was handed, offsets from the peer's ISN + 1. */
  got: Array<[number, number]>;
  /** The peer's FIN offset, once handed. */
  finAt: number;
  sentDuringInput: number;
  /** In-order data handed and not yet acknowledged: [end offset, time]. */
  owed: Array<[number, number]>;
  tailProbes: number;
}

class Monitor {
  readonly errors: string[] = [];
  readonly st: Record<Side, SideState>;
  checkDelayedAck = true;

  constructor(
    readonly net: Net,
    private readonly cfg: Record<Side, TcpConfig>,
  ) {
    const fresh = (): SideState => ({
      lastTsVal: -1,
      lastTsEcr: -1,
      tsSeen: new Set(),
      got: [],
      finAt: -1,
      sentDuringInput: 0,
      owed: [],
      tailProbes: 0,
    });
    this.st = { a: fresh(), b: fresh() };
    for (const side of ['a', 'b'] as const) {
      const conn = net[side];
      const input = conn.input.bind(conn);
      conn.input = (seg: Segment, now: number): void => {
        this.handed(side, seg, now);
        const before = this.net.sentBy(side).length;
        input(seg, now);
        this.st[side].sentDuringInput = this.net.sentBy(side).length - before;
        this.afterInput(side, seg, now);
      };
    }
    const sent = net.sent.bind(net);
    net.sent = (from, seg, payload) => {
      this.sending(from, seg, payload.length);
      sent(from, seg, payload);
    };
  }

  private fail(msg: string): void {
    if (this.errors.length < 20) this.errors.push(`t=${this.net.now}: ${msg}`);
  }

  private negotiated(): { ws: boolean; ts: boolean; sack: boolean } | undefined {
    const sa = this.st.a.syn;
    const sb = this.st.b.syn;
    if (sa === undefined || sb === undefined) return undefined;
    return {
      ws: sa.windowScale >= 0 && sb.windowScale >= 0,
      ts: sa.hasTimestamps && sb.hasTimestamps,
      sack: sa.sackPermitted && sb.sackPermitted,
    };
  }

  /** The shift `side`'s window fields carry. */
  private shiftOf(side: Side): number {
    const n = this.negotiated();
    return n?.ws === true ? Math.min(14, this.st[side].syn!.windowScale) : 0;
  }

  private peerIsn(side: Side): number {
    return this.st[other(side)].syn!.seq;
  }

  /** Contiguous bytes `side` holds from the peer's ISN + 1, as an offset. */
  private contiguous(side: Side): number {
    let end = 0;
    for (const [l, r] of [...this.st[side].got].sort((x, y) => x[0] - y[0])) {
      if (l > end) break;
      if (r > end) end = r;
    }
    return end;
  }

  private handed(side: Side, seg: Segment, now: number): void {
    const s = this.st[side];
    const from = other(side);
    if ((seg.flags & RST) !== 0) return;
    if (seg.hasTimestamps) s.tsSeen.add(seg.tsVal);
    if ((seg.flags & SYN) === 0 && this.st[from].syn !== undefined && (seg.flags & ACK) !== 0) {
      const edge = add(seg.ack, seg.window << this.shiftOf(from));
      if (s.offeredEdge === undefined || lt(s.offeredEdge, edge)) s.offeredEdge = edge;
      if (s.unaSeen === undefined || lt(s.unaSeen, seg.ack)) s.unaSeen = seg.ack;
    } else if ((seg.flags & SYN) !== 0 && (seg.flags & ACK) !== 0) {
      const edge = add(seg.ack, seg.window);
      if (s.offeredEdge === undefined || lt(s.offeredEdge, edge)) s.offeredEdge = edge;
      s.unaSeen = seg.ack;
    }
    if (this.st[from].syn === undefined || (seg.flags & SYN) !== 0) return;
    const off = (seg.seq - this.peerIsn(side) - 1) | 0;
    const before = this.contiguous(side);
    // What lies beyond the window this side advertised is not taken (RFC 9293 §3.10.7.4).
    const edgeOff = s.lastEdge === undefined ? Infinity : (s.lastEdge - this.peerIsn(side) - 1) | 0;
    const end = Math.min(off + seg.dataLength, edgeOff);
    if (end > off) s.got.push([off, end]);
    if ((seg.flags & FIN) !== 0) s.finAt = end;
    // For the ACK checks after the input: what this segment did to the contiguous data.
    this.inputKind = seg.dataLength === 0 ? 'none' : off > before ? 'ooo' : 'inorder';
    this.filledGap = seg.dataLength > 0 && off <= before && this.contiguous(side) > end;
    if (this.inputKind === 'inorder' && end > before) s.owed.push([this.contiguous(side), now]);
  }

  private inputKind: 'none' | 'ooo' | 'inorder' = 'none';
  private filledGap = false;

  private afterInput(side: Side, seg: Segment, now: number): void {
    const conn = this.net[side];
    if ((seg.flags & (SYN | RST)) !== 0 || conn.state < TcpState.ESTABLISHED) return;
    const s = this.st[side];
    // RFC 5681 §4.2: immediate ACK of an out-of-order segment and of one that fills a gap.
    if ((this.inputKind === 'ooo' || this.filledGap) && s.sentDuringInput === 0) {
      this.fail(
        `${side} sent no immediate ACK for ${this.inputKind === 'ooo' ? 'out-of-order data' : 'a filled gap'} at ${seg.seq}`,
      );
    }
    if (this.checkDelayedAck) {
      const delay = this.cfg[side].delayedAck;
      for (const [end, at] of s.owed) {
        if (now - at > delay) {
          this.fail(`${side} left data up to offset ${end} unacknowledged for ${now - at} ms`);
          s.owed.length = 0;
          break;
        }
      }
    }
  }

  private sending(from: Side, seg: Segment, len: number): void {
    const s = this.st[from];
    const peer = other(from);
    const conn = this.net[from];
    const tlp = conn.counters.tailProbes !== s.tailProbes;
    s.tailProbes = conn.counters.tailProbes;
    if ((seg.flags & SYN) !== 0) {
      if (s.syn === undefined) s.syn = { ...seg, sackBlocks: [] };
      if (seg.window > 0xffff) this.fail(`${from} SYN window ${seg.window} > 65535`);
      if (len > 0) this.fail(`${from} SYN carries data`);
      return;
    }
    const n = this.negotiated();
    if (n === undefined || (seg.flags & RST) !== 0) return;

    // Timestamps (RFC 7323 §3.2, §4.3).
    if (seg.hasTimestamps !== n.ts)
      this.fail(`${from} timestamps ${seg.hasTimestamps}, negotiated ${n.ts}`);
    if (seg.hasTimestamps) {
      if (lt(seg.tsVal, s.lastTsVal >>> 0) && s.lastTsVal >= 0)
        this.fail(`${from} TSval went back`);
      s.lastTsVal = seg.tsVal;
      if (!s.tsSeen.has(seg.tsEcr))
        this.fail(`${from} TSecr ${seg.tsEcr} was never sent by ${peer}`);
      if (s.lastTsEcr >= 0 && lt(seg.tsEcr, s.lastTsEcr)) this.fail(`${from} TSecr went back`);
      s.lastTsEcr = seg.tsEcr;
    }

    // ACK number and the receive window this side advertises.
    if ((seg.flags & ACK) !== 0) {
      if (s.lastAck !== undefined && lt(seg.ack, s.lastAck)) this.fail(`${from} ACK went back`);
      s.lastAck = seg.ack;
      const got =
        this.contiguous(from) + (s.finAt >= 0 && this.contiguous(from) >= s.finAt ? 1 : 0);
      const acked = (seg.ack - this.peerIsn(from) - 1) | 0;
      if (acked > got) this.fail(`${from} acknowledges offset ${acked}, only ${got} arrived`);
      if (acked >= 0) s.owed = s.owed.filter(([end]) => end > acked);
      const edge = add(seg.ack, seg.window << this.shiftOf(from));
      if (s.lastEdge !== undefined && lt(edge, s.lastEdge)) {
        this.fail(`${from} shrank its window: right edge ${edge} < ${s.lastEdge}`);
      }
      if (s.lastEdge === undefined || lt(s.lastEdge, edge)) s.lastEdge = edge;

      // SACK blocks (RFC 2018).
      if (seg.sackCount > 0) {
        if (!n.sack) this.fail(`${from} sent SACK blocks without SACK-permitted`);
        if (seg.sackCount > (n.ts ? 3 : 4)) this.fail(`${from} sent ${seg.sackCount} SACK blocks`);
        for (let i = 0; i < seg.sackCount; i++) {
          const l = seg.sackBlocks[2 * i];
          const r = seg.sackBlocks[2 * i + 1];
          const lo = (l - this.peerIsn(from) - 1) | 0;
          const hi = (r - this.peerIsn(from) - 1) | 0;
          const held = this.st[from].got.some(([x, y]) => x <= lo && lo < y);
          if (
            !lt(seg.ack, l) ||
            !lt(l, r) ||
            !held ||
            hi > Math.max(...this.st[from].got.map((g) => g[1]))
          ) {
            this.fail(
              `${from} SACK block [${lo}, ${hi}) with ACK at ${acked} is not data that arrived above it`,
            );
          }
        }
      }
    }

    if (len === 0) return;
    // Data: the peer's MSS and the window the peer offered (RFC 9293 §3.7.1, §3.8.6).
    const peerMss = this.st[peer].syn!.mss > 0 ? this.st[peer].syn!.mss : 536;
    // RFC 6691: the MSS leaves out options, so the sender counts those it adds (timestamps 10 + 2
    // NOPs, SACK 2 + 8 per block + 2 NOPs) against it.
    const options = (seg.hasTimestamps ? 12 : 0) + (seg.sackCount > 0 ? 4 + 8 * seg.sackCount : 0);
    if (len + options > peerMss) {
      this.fail(
        `${from} sent ${len} bytes and ${options} option bytes, the peer's MSS is ${peerMss}`,
      );
    }
    const end = add(seg.seq, len);
    if (s.offeredEdge === undefined || lt(s.offeredEdge, end)) {
      this.fail(`${from} sent data to ${end}, beyond the offered right edge ${s.offeredEdge}`);
    }
    const isNew = s.sndMax === undefined || le(s.sndMax, seg.seq);
    // Nagle: a small new segment only with nothing unacknowledged.
    if (
      isNew &&
      !conn.noDelay &&
      !tlp &&
      len < peerMss - 40 &&
      (seg.flags & FIN) === 0 &&
      s.unaSeen !== undefined &&
      lt(s.unaSeen, seg.seq)
    ) {
      this.fail(
        `${from} sent a ${len}-byte segment at ${seg.seq} with data unacknowledged (Nagle)`,
      );
    }
    if (s.sndMax === undefined || lt(s.sndMax, end)) s.sndMax = end;
  }
}

interface Scenario {
  name: string;
  a?: Partial<TcpConfig>;
  b?: Partial<TcpConfig>;
  loss?: number;
  dup?: number;
  jitter?: number;
  bytes: number;
  /** Bytes per application write, and the gap between writes (ms); else one big write. */
  write?: [number, number];
  /** Bytes the receiver reads every 10 ms; else it reads everything at once. */
  read?: number;
  both?: boolean;
  seed: number;
  delayedAckCheck?: boolean;
}

function runScenario(sc: Scenario): Monitor {
  const net = new Net(sc.a ?? {}, sc.b ?? sc.a ?? {});
  const mon = new Monitor(net, { a: configOf(net, 'a'), b: configOf(net, 'b') });
  mon.checkDelayedAck = sc.delayedAckCheck ?? true;
  const r = rng(sc.seed);
  net.jitter = () => (sc.jitter === undefined ? 0 : r() * sc.jitter);
  const lossy = (s: SentSegment): 'pass' | 'drop' | 'dup' => {
    if (s.dataLength === 0 && (s.flags & (SYN | FIN)) === 0) {
      return r() < (sc.loss ?? 0) / 2 ? 'drop' : 'pass';
    }
    const x = r();
    if (x < (sc.loss ?? 0)) return 'drop';
    if (x < (sc.loss ?? 0) + (sc.dup ?? 0)) return 'dup';
    return 'pass';
  };
  if (sc.read !== undefined) net.hostB.autoConsume = false;
  net.handshake();
  net.filter = lossy;
  expect(net.a.state).toBe(TcpState.ESTABLISHED);
  const data = pattern(sc.bytes, sc.seed);
  const back = pattern(sc.both === true ? sc.bytes >>> 1 : 0, sc.seed + 1);
  let off = 0;
  let offB = 0;
  let consumed = 0;
  const [chunk, gap] = sc.write ?? [sc.bytes, 1];
  let nextWrite = net.now;
  const deadline = net.now + 600_000;
  while (net.now < deadline) {
    if (off < data.length && net.now >= nextWrite) {
      off += net.a.send(data, off, Math.min(chunk, data.length - off), net.now);
      nextWrite = net.now + gap;
    }
    if (offB < back.length) offB += net.b.send(back, offB, back.length - offB, net.now);
    net.run(Math.min(gap, 10));
    if (sc.read !== undefined) {
      const n = Math.min(sc.read, net.hostB.receivedBytes - consumed);
      if (n > 0) {
        net.b.consumed(n, net.now);
        consumed += n;
      }
    }
    if (net.hostB.receivedBytes === data.length && net.hostA.receivedBytes === back.length) break;
  }
  expect(Buffer.compare(net.hostB.data(), data)).toBe(0);
  expect(Buffer.compare(net.hostA.data(), back)).toBe(0);
  if (sc.read !== undefined) net.b.consumed(net.hostB.receivedBytes - consumed, net.now);
  net.a.close(net.now);
  net.run(2000);
  net.b.close(net.now);
  net.run(200_000);
  expect(net.a.isClosed()).toBe(true);
  expect(net.b.isClosed()).toBe(true);
  return mon;
}

function configOf(net: Net, side: Side): TcpConfig {
  return (net[side] as unknown as { config: TcpConfig }).config;
}

const M = 1460;
const SCENARIOS: Scenario[] = [
  {
    name: 'both ways, SACK without timestamps, 5% loss, reordering',
    a: { timestamps: false },
    bytes: 200 * M,
    loss: 0.05,
    jitter: 6,
    both: true,
    seed: 13,
    delayedAckCheck: false,
  },
  { name: 'clean bulk, all options', bytes: 300 * M, seed: 1 },
  {
    name: 'bulk both ways, 5% loss',
    bytes: 200 * M,
    loss: 0.05,
    both: true,
    seed: 2,
    delayedAckCheck: false,
  },
  {
    name: '3% loss, reordering, no SACK',
    a: { sack: false },
    bytes: 200 * M,
    loss: 0.03,
    jitter: 15,
    seed: 3,
    delayedAckCheck: false,
  },
  {
    name: '3% loss, no timestamps',
    a: { timestamps: false },
    bytes: 200 * M,
    loss: 0.03,
    seed: 4,
    delayedAckCheck: false,
  },
  {
    name: 'no window scale, small buffers, slow reader',
    a: { windowScale: false, rcvBuf: 16 * 1024 },
    b: { windowScale: false, rcvBuf: 8 * 1024 },
    bytes: 100 * M,
    read: 700,
    seed: 5,
  },
  {
    name: 'scaled window, slow reader, 2% loss',
    b: { rcvBuf: 96 * 1024 },
    bytes: 150 * M,
    read: 3000,
    loss: 0.02,
    seed: 6,
    delayedAckCheck: false,
  },
  { name: 'small writes under Nagle', bytes: 40 * M, write: [300, 2], seed: 7 },
  {
    name: 'small writes under Nagle, 5% loss, CUBIC + PRR',
    a: { congestion: 'cubic', prr: true },
    bytes: 40 * M,
    write: [700, 3],
    loss: 0.05,
    seed: 8,
    delayedAckCheck: false,
  },
  {
    name: 'duplication and reordering',
    bytes: 150 * M,
    dup: 0.05,
    jitter: 8,
    seed: 9,
    delayedAckCheck: false,
  },
  {
    name: 'Linux profile, 4% loss',
    a: LINUX_TCP_PROFILE,
    bytes: 200 * M,
    loss: 0.04,
    seed: 10,
    delayedAckCheck: false,
  },
  {
    name: 'no options at all, 2% loss',
    a: { sack: false, timestamps: false, windowScale: false },
    bytes: 100 * M,
    loss: 0.02,
    seed: 11,
    delayedAckCheck: false,
  },
  {
    name: 'MSS 536, SACK without timestamps, 6% loss',
    a: { mss: 536, timestamps: false },
    bytes: 300 * 536,
    loss: 0.06,
    seed: 12,
    delayedAckCheck: false,
  },
];

describe('an RFC monitor between two connections', () => {
  for (const sc of SCENARIOS) {
    it(sc.name, () => {
      const mon = runScenario(sc);
      expect(mon.errors).toEqual([]);
    });
  }
});
