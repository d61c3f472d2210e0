/**
 * The connection table under one greedy peer: per-peer caps on connections and half-open
 * entries, and eviction from a full table (TIME-WAIT first, then the longest idle). The TCP
 * layer runs alone on a virtual clock; peers are addresses whose segments the test builds with
 * the generated encoder, reading our SYN-ACKs back to complete handshakes.
 */
import { describe, expect, it } from 'vitest';
import { ACK, FIN, RST, SYN } from '../../../src/fsm/segment.js';
import { tcp } from '../../../src/generated/index.js';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { SendStatus, type Ipv4Delivery, type Ipv4Sender } from '../../../src/runtime/layers.js';
import {
  TcpLayer,
  type TcpEviction,
  type TcpLayerOptions,
} from '../../../src/runtime/tcp/layer.js';
import type { TcpSocket } from '../../../src/runtime/tcp/index.js';

const US = 0x0a000002;

interface Sent {
  dst: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
}

function setup(options: TcpLayerOptions) {
  const clock = new VirtualClock();
  const sent: Sent[] = [];
  const view = new tcp.TcpView();
  const ip: Ipv4Sender = {
    address: US,
    maxPayload: 1480,
    send(dst, _protocol, buf, off, len) {
      expect(view.wrap(buf, off, len)).toBeNull();
      sent.push({
        dst,
        srcPort: view.srcPort,
        dstPort: view.dstPort,
        seq: view.seq,
        ack: view.ack,
        flags: view.flags,
      });
      return SendStatus.Sent;
    },
  };
  const layer = new TcpLayer(ip, clock, {
    isnKey: new Uint8Array(16),
    cookieKey: new Uint8Array(16),
    ...options,
  });
  const accepted: TcpSocket[] = [];
  const errors: string[] = [];
  layer.listen(80, (s) => {
    accepted.push(s);
    s.on('error', (e: NodeJS.ErrnoException) => errors.push(String(e.code)));
  });
  const frame = new Uint8Array(60);
  const segment = (peer: number, port: number, flags: number, seq: number, ack: number) => {
    const n = tcp.encodeTcp(
      {
        srcPort: port,
        dstPort: 80,
        seq,
        ack,
        flags,
        window: 65535,
        urgentPointer: 0,
        options: new Uint8Array(0),
      },
      frame,
      0,
      0,
      peer,
      US,
    );
    const d: Ipv4Delivery = {
      src: peer,
      dst: US,
      protocol: 6,
      ttl: 64,
      toBroadcast: false,
      bytes: frame,
      offset: 0,
      length: n,
      datagramOffset: 0,
      datagramLength: n,
      frame: null,
    };
    layer.receive(d);
  };
  const lastTo = (peer: number, port: number) =>
    [...sent].reverse().find((s) => s.dst === peer && s.dstPort === port);
  /** SYN, our SYN-ACK, ACK: an established connection from peer:port (false if no SYN-ACK). */
  const open = (peer: number, port: number): boolean => {
    segment(peer, port, SYN, 1000, 0);
    const synAck = lastTo(peer, port);
    if (synAck === undefined || synAck.flags !== (SYN | ACK)) return false;
    segment(peer, port, ACK, 1001, (synAck.seq + 1) >>> 0);
    return true;
  };
  return { clock, layer, sent, accepted, errors, segment, lastTo, open };
}

const peer = (n: number) => 0x0a000100 + n;

describe('per-peer limits', () => {
  it('refuses a peer past maxConnectionsPerPeer while others still connect', async () => {
    const t = setup({ maxConnections: 100, maxConnectionsPerPeer: 5 });
    for (let i = 0; i < 5; i++) expect(t.open(peer(1), 40000 + i)).toBe(true);
    await Promise.resolve();
    expect(t.open(peer(1), 40005)).toBe(false);
    expect(t.layer.stats().drops.peerLimit).toBe(1);
    expect(t.open(peer(2), 40000)).toBe(true);
    await Promise.resolve();
    expect(t.accepted).toHaveLength(6);
  });

  it("answers a peer's SYNs past its half-open share with cookies, which still connect", () => {
    const t = setup({ maxHalfOpenPerPeer: 2 });
    t.segment(peer(1), 41000, SYN, 1000, 0);
    t.segment(peer(1), 41001, SYN, 1000, 0);
    expect(t.layer.stats().synCookiesSent).toBe(0);
    expect(t.open(peer(1), 41002)).toBe(true);
    const stats = t.layer.stats();
    expect(stats.synCookiesSent).toBe(1);
    expect(stats.synCookiesAccepted).toBe(1);
    // Another peer is not held to the first one's share.
    t.segment(peer(2), 41000, SYN, 1000, 0);
    expect(t.layer.stats().synCookiesSent).toBe(1);
  });
});

describe('listener input checks', () => {
  it('drops SYN+FIN (Linux does; scanners use it), answering nothing', () => {
    const t = setup({});
    t.segment(peer(1), 44000, SYN | FIN, 1000, 0);
    expect(t.sent).toHaveLength(0);
    expect(t.layer.stats().drops.synFin).toBe(1);
    expect(t.layer.stats().connections).toBe(0);
  });
});

describe('a full table makes room', () => {
  it('evicts TIME-WAIT first, then the longest-idle connection, and refuses only when neither exists', async () => {
    const t = setup({ maxConnections: 3, maxConnectionsPerPeer: 3, evictIdleMs: 60_000 });
    const evicted: TcpEviction[] = [];
    t.layer.onEvict = (e) => evicted.push(e);
    for (let i = 0; i < 3; i++) expect(t.open(peer(1), 42000 + i)).toBe(true);
    await Promise.resolve();
    // We close the first connection; the peer acknowledges and closes: we hold TIME-WAIT.
    t.accepted[0].end();
    await new Promise((r) => setImmediate(r));
    const fin = t.lastTo(peer(1), 42000) as Sent;
    expect(fin.flags & FIN).toBe(FIN);
    t.segment(peer(1), 42000, FIN | ACK, 1001, (fin.seq + 1) >>> 0);
    expect(t.layer.stats().timeWait).toBe(1);
    t.clock.advance(1000);
    expect(t.open(peer(2), 42000)).toBe(true);
    expect(evicted.map((e) => [e.reason, e.remotePort, e.state])).toEqual([
      ['time-wait', 42000, 'TIME-WAIT'],
    ]);
    // Full again, nobody idle long enough: refused.
    expect(t.open(peer(3), 42000)).toBe(false);
    expect(t.layer.stats().drops.tableFull).toBe(1);
    // A minute later the oldest idle connection goes (RST to its peer, ECONNABORTED here).
    t.clock.advance(60_000);
    expect(t.open(peer(3), 42000)).toBe(true);
    expect(evicted[1]).toMatchObject({ reason: 'idle', remotePort: 42001, state: 'ESTABLISHED' });
    expect(evicted[1].idleMs).toBeGreaterThanOrEqual(60_000);
    expect(
      t.sent.some((s) => s.dst === peer(1) && s.dstPort === 42001 && (s.flags & RST) !== 0),
    ).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(t.errors).toContain('ECONNABORTED');
    const stats = t.layer.stats();
    expect(stats.evictions).toEqual({ timeWait: 1, idle: 1 });
    expect(stats.connections).toBe(3);
  });

  it('keeps traffic-carrying connections over idle ones: activity moves them to the young end', () => {
    const t = setup({ maxConnections: 2, maxConnectionsPerPeer: 2, evictIdleMs: 10_000 });
    const evicted: TcpEviction[] = [];
    t.layer.onEvict = (e) => evicted.push(e);
    expect(t.open(peer(1), 43000)).toBe(true);
    expect(t.open(peer(1), 43001)).toBe(true);
    t.clock.advance(20_000);
    // The first connection speaks again (a pure ACK is activity too).
    const ours = t.lastTo(peer(1), 43000) as Sent;
    t.segment(peer(1), 43000, ACK, 1001, ours.seq);
    expect(t.open(peer(2), 43000)).toBe(true);
    expect(evicted.map((e) => e.remotePort)).toEqual([43001]);
  });
});
