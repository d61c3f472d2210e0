/**
 * A two-endpoint network simulator for the pure state machine: segments travel as cloned
 * records with a fixed one-way latency, time advances event by event, and a test decides per
 * segment whether it is dropped (or rewritten). Deterministic: no real clock, no randomness
 * unless the test brings a seeded one.
 */
import {
  DEFAULT_TCP_CONFIG,
  TcpConnection,
  TcpEvent,
  type TcpConfig,
  type TcpHost,
} from '../../src/fsm/tcp.js';
import { newSegment, type Segment } from '../../src/fsm/segment.js';

export interface SentSegment extends Segment {
  /** 'a' or 'b': who sent it. */
  from: 'a' | 'b';
  time: number;
  payload: Uint8Array;
}

/** mulberry32: small seeded PRNG for loss patterns. */
export function rng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

export function cloneSegment(seg: Segment, payload: Uint8Array): Segment {
  const c = newSegment();
  Object.assign(c, seg);
  c.sackBlocks = seg.sackBlocks.slice();
  c.data = payload;
  c.dataOffset = 0;
  c.dataLength = payload.length;
  return c;
}

class EndpointHost implements TcpHost {
  received: Uint8Array[] = [];
  receivedBytes = 0;
  events: TcpEvent[] = [];
  /** When true, delivered bytes are consumed (window reopens) immediately. */
  autoConsume = true;
  constructor(
    private readonly net: Net,
    private readonly name: 'a' | 'b',
  ) {}
  transmit(conn: TcpConnection, seg: Segment): void {
    const payload = new Uint8Array(seg.dataLength);
    if (seg.dataLength > 0) conn.copyPayload(seg.seq, seg.dataLength, payload, 0);
    this.net.sent(this.name, seg, payload);
  }
  deliver(_conn: TcpConnection, bytes: Uint8Array, offset: number, length: number): void {
    this.received.push(bytes.slice(offset, offset + length));
    this.receivedBytes += length;
    if (this.autoConsume) this.net.pendingConsume.push([this.name, length]);
  }
  event(_conn: TcpConnection, event: TcpEvent): void {
    this.events.push(event);
  }
  data(): Uint8Array {
    return Buffer.concat(this.received);
  }
}

interface InFlight {
  at: number;
  to: 'a' | 'b';
  seg: Segment;
}

export type Filter = (seg: SentSegment) => 'pass' | 'drop' | 'dup';

export class Net {
  now = 0;
  latency = 10;
  readonly log: SentSegment[] = [];
  readonly hostA: EndpointHost;
  readonly hostB: EndpointHost;
  a: TcpConnection;
  b: TcpConnection;
  filter: Filter = () => 'pass';
  /** Extra delay per segment (ms): jitter reorders segments. */
  jitter: () => number = () => 0;
  pendingConsume: Array<['a' | 'b', number]> = [];
  private flight: InFlight[] = [];

  constructor(configA: Partial<TcpConfig> = {}, configB: Partial<TcpConfig> = configA) {
    this.hostA = new EndpointHost(this, 'a');
    this.hostB = new EndpointHost(this, 'b');
    this.a = new TcpConnection({ ...DEFAULT_TCP_CONFIG, ...configA }, this.hostA, 1000, 80);
    this.b = new TcpConnection({ ...DEFAULT_TCP_CONFIG, ...configB }, this.hostB, 80, 1000);
  }

  sent(from: 'a' | 'b', seg: Segment, payload: Uint8Array): void {
    const s = cloneSegment(seg, payload) as SentSegment;
    s.from = from;
    s.time = this.now;
    s.payload = payload;
    this.log.push(s);
    const verdict = this.filter(s);
    if (verdict === 'drop') return;
    const to = from === 'a' ? 'b' : 'a';
    this.flight.push({ at: this.now + this.latency + this.jitter(), to, seg: s });
    if (verdict === 'dup')
      this.flight.push({ at: this.now + this.latency + this.jitter(), to, seg: s });
  }

  /** Injects a segment into `to` right now (an attacker or a test). */
  inject(to: 'a' | 'b', seg: Segment): void {
    (to === 'a' ? this.a : this.b).input(seg, this.now);
    this.flushConsume();
  }

  private flushConsume(): void {
    while (this.pendingConsume.length > 0) {
      const [who, n] = this.pendingConsume.shift() as ['a' | 'b', number];
      (who === 'a' ? this.a : this.b).consumed(n, this.now);
    }
  }

  /** Runs events until `until` (absolute ms) or until nothing is pending. */
  runUntil(until: number, stop?: () => boolean): void {
    for (let guard = 0; guard < 5_000_000; guard++) {
      this.flushConsume();
      if (stop?.()) return;
      let next = Infinity;
      for (const f of this.flight) if (f.at < next) next = f.at;
      next = Math.min(next, this.a.nextDeadline(), this.b.nextDeadline());
      if (next > until || next === Infinity) {
        if (until !== Infinity) this.now = until;
        return;
      }
      this.now = Math.max(this.now, next);
      // Deliver every segment due now, in send order.
      const due = this.flight.filter((f) => f.at <= this.now);
      if (due.length > 0) {
        this.flight = this.flight.filter((f) => f.at > this.now);
        for (const f of due) {
          (f.to === 'a' ? this.a : this.b).input(f.seg, this.now);
          this.flushConsume();
        }
        continue;
      }
      for (const conn of [this.a, this.b]) {
        if (conn.nextDeadline() > this.now) continue;
        conn.onTimer(this.now);
        // The contract hosts rely on: one call handles everything due.
        if (conn.nextDeadline() <= this.now) throw new Error('onTimer left a deadline due');
      }
    }
    throw new Error('simulation did not settle');
  }

  run(ms: number, stop?: () => boolean): void {
    this.runUntil(this.now + ms, stop);
  }

  /** Active open from a, passive at b, run until both are ESTABLISHED. */
  handshake(issA = 1000, issB = 5000): void {
    this.b.listen(issB);
    this.a.connect(issA, this.now);
    this.run(1000);
  }

  /** Writes all of `data` from `who`, feeding more as the send buffer drains; runs until delivered. */
  transfer(who: 'a' | 'b', data: Uint8Array, limitMs = 600_000): void {
    const conn = who === 'a' ? this.a : this.b;
    const peerHost = who === 'a' ? this.hostB : this.hostA;
    const start = peerHost.receivedBytes;
    let off = 0;
    const feed = (): void => {
      if (off < data.length) off += conn.send(data, off, data.length - off, this.now);
    };
    feed();
    const end = this.now + limitMs;
    while (this.now < end && peerHost.receivedBytes - start < data.length) {
      this.runUntil(Math.min(end, this.now + 50), () => {
        feed();
        return false;
      });
      feed();
      if (conn.isClosed()) break;
    }
  }

  sentBy(who: 'a' | 'b'): SentSegment[] {
    return this.log.filter((s) => s.from === who);
  }
}

export function pattern(n: number, seed = 1): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 256) | 0;
  return out;
}
