import { describe, expect, it } from 'vitest';
import type { TcpConnection } from '../../../src/fsm/tcp.js';
import type { TcpSocket } from '../../../src/runtime/tcp/index.js';
import { IP_A, IP_B, makePair, randomBytes, runUntil, sha256, type Pair } from './helpers.js';

/** Starts an echo server on b:7 and sends `data` from a; resolves with what came back. */
async function echoRound(
  p: Pair,
  data: Buffer,
  limitMs = 600_000,
): Promise<{ sent: string; serverGot: string; back: Buffer }> {
  const serverChunks: Buffer[] = [];
  p.tcpB.listen(7, (s) => {
    s.on('data', (c: Buffer) => serverChunks.push(c));
    s.pipe(s);
  });
  const back: Buffer[] = [];
  let ended = false;
  let error: Error | null = null;
  const c = p.tcpA.connect({ host: IP_B, port: 7 });
  c.on('data', (d: Buffer) => back.push(d));
  c.on('end', () => (ended = true));
  c.on('error', (e) => (error = e));
  c.end(data);
  await runUntil(p.clock, () => ended || error !== null, limitMs);
  if (error) throw error;
  return {
    sent: sha256(data),
    serverGot: sha256(Buffer.concat(serverChunks)),
    back: Buffer.concat(back),
  };
}

describe('TCP over two in-memory stacks', () => {
  it('connects, echoes 1 MB and closes cleanly', async () => {
    const p = makePair(1, { delay: 5 });
    let closed = 0;
    const data = randomBytes(1 << 20, 1);
    let accepted: TcpSocket | null = null;
    p.tcpB.listen(9000, (s) => {
      accepted = s;
      expect(s.remoteAddress).toBe(IP_A);
      s.on('close', () => closed++);
      s.pipe(s);
    });
    const c = p.tcpA.connect({ host: IP_B, port: 9000 });
    let connected = false;
    c.on('connect', () => (connected = true));
    c.on('close', () => closed++);
    const back: Buffer[] = [];
    c.on('data', (d: Buffer) => back.push(d));
    c.end(data);
    await runUntil(p.clock, () => closed === 2);
    expect(connected).toBe(true);
    expect(accepted).not.toBeNull();
    expect(c.remotePort).toBe(9000);
    expect(sha256(Buffer.concat(back))).toBe(sha256(data));
    const stats = p.tcpA.stats();
    expect(stats.activeOpens).toBe(1);
    expect(stats.retransmits).toBe(0);
    expect(p.tcpB.stats().passiveOpens).toBe(1);
  });

  for (const seed of [1, 2, 3]) {
    it(`transfers 1 MB with identical SHA-256 through 5-20% loss, duplication, reordering, corruption (seed ${seed})`, async () => {
      const loss = [0.05, 0.1, 0.2][seed - 1];
      const p = makePair(seed, { loss, duplicate: 0.02, reorder: 0.03, corrupt: 0.01, delay: 2 });
      const data = randomBytes(1 << 20, seed);
      const r = await echoRound(p, data);
      expect(r.serverGot).toBe(r.sent);
      expect(sha256(r.back)).toBe(r.sent);
      expect(p.tcpA.stats().retransmits + p.tcpB.stats().retransmits).toBeGreaterThan(0);
      // Segments carrying SACK blocks still fit the MTU: none fragmented, none refused (DF).
      for (const s of [p.a.stats(), p.b.stats()]) {
        expect(s.ipv4.fragmentsSent).toBe(0);
        expect(s.ipv4.drops.tooBig).toBe(0);
      }
    });
  }

  it('echoes 256 KiB intact for many more seeds, loss 0-20%, NewReno and CUBIC', async () => {
    for (let seed = 30; seed < 38; seed++) {
      const loss = ((seed - 30) / 7) * 0.2;
      const p = makePair(
        seed,
        { loss, duplicate: 0.02, reorder: 0.02, corrupt: 0.01, delay: 3 },
        { congestion: seed % 2 === 0 ? 'cubic' : 'newreno' },
      );
      const data = randomBytes(256 * 1024, seed);
      const r = await echoRound(p, data);
      expect(r.serverGot).toBe(r.sent);
      expect(sha256(r.back)).toBe(r.sent);
    }
  });

  it('refuses a connection to a closed port with ECONNREFUSED', async () => {
    const p = makePair(4);
    const c = p.tcpA.connect({ host: IP_B, port: 81 });
    let err: NodeJS.ErrnoException | null = null;
    c.on('error', (e) => (err = e));
    await runUntil(p.clock, () => err !== null, 10_000);
    expect(err!.code).toBe('ECONNREFUSED');
    expect(p.tcpB.stats().drops.noListener).toBe(1);
  });

  it('times out with ETIMEDOUT when nothing answers', async () => {
    const p = makePair(5);
    p.tcpB.listen(80);
    // Every SYN vanishes (ARP still answers: a neighbour that never does is EHOSTUNREACH).
    const send = p.linkA.send.bind(p.linkA);
    p.linkA.send = (bytes, offset, length) =>
      bytes[offset + 12] === 0x08 && bytes[offset + 13] === 0 && bytes[offset + 14 + 9] === 6
        ? true
        : send(bytes, offset, length);
    const c = p.tcpA.connect({ host: IP_B, port: 80 });
    let err: NodeJS.ErrnoException | null = null;
    c.on('error', (e) => (err = e));
    await runUntil(p.clock, () => err !== null, 200_000, 1000);
    expect(err!.code).toBe('ETIMEDOUT');
    // SYN at 0, 1, 3, 7, 15, 31, 63 s; the last wait is capped at the 60 s maximum RTO.
    expect(p.clock.now()).toBeGreaterThanOrEqual(123_000);
    expect(p.clock.now()).toBeLessThan(125_000);
  });

  it('reports ECONNRESET when the peer resets', async () => {
    const p = makePair(6);
    p.tcpB.listen(80, (s) => {
      s.once('data', () => s.resetAndDestroy());
    });
    const c = p.tcpA.connect({ host: IP_B, port: 80 });
    let err: NodeJS.ErrnoException | null = null;
    c.on('error', (e) => (err = e));
    c.write('hello');
    await runUntil(p.clock, () => err !== null, 10_000);
    expect(err!.code).toBe('ECONNRESET');
  });

  it('applies backpressure: a paused reader closes the window, resuming drains everything', async () => {
    const p = makePair(7, {}, { rcvBuf: 64 * 1024, sndBuf: 64 * 1024 });
    let server: TcpSocket | null = null;
    const got: Buffer[] = [];
    p.tcpB.listen(80, (s) => {
      server = s;
      s.pause();
      s.on('data', (d: Buffer) => got.push(d));
    });
    const c = p.tcpA.connect({ host: IP_B, port: 80 });
    const data = randomBytes(1 << 20, 7);
    let off = 0;
    let full = false;
    const pump = (): void => {
      while (off < data.length) {
        const chunk = data.subarray(off, off + 16384);
        off += chunk.length;
        if (!c.write(chunk)) {
          full = true;
          c.once('drain', pump);
          return;
        }
      }
      c.end();
    };
    pump();
    await runUntil(p.clock, () => false, 5_000);
    expect(full).toBe(true);
    expect(off).toBeLessThan(data.length);
    // The receiver holds at most its buffer (plus one window-rounding unit).
    expect(server!.readableLength).toBeLessThanOrEqual(64 * 1024 + 1024);
    server!.resume();
    let ended = false;
    server!.on('end', () => (ended = true));
    await runUntil(p.clock, () => ended, 600_000);
    expect(sha256(Buffer.concat(got))).toBe(sha256(data));
  });

  it('serves through SYN cookies when the half-open queue is full', async () => {
    const p = makePair(8, { delay: 1 }, { synBacklog: 0 });
    let cookieConn: TcpConnection | null = null;
    p.tcpB.listen(81, (s) => {
      const entry = (s as unknown as { backend: { conn: TcpConnection } }).backend;
      cookieConn = entry.conn;
    });
    p.tcpA.connect({ host: IP_B, port: 81 }).on('error', () => undefined);
    const data = randomBytes(100_000, 8);
    const r = await echoRound(p, data);
    expect(sha256(r.back)).toBe(r.sent);
    expect(p.tcpB.stats().synCookiesSent).toBe(2); // both connections (ports 7 and 81)
    expect(p.tcpB.stats().synCookiesAccepted).toBe(2);
    // Window scale, SACK and timestamps survived the cookie (kept in the SYN-ACK's timestamp).
    expect(cookieConn).not.toBeNull();
    expect(cookieConn!.tsEnabled).toBe(true);
    expect(cookieConn!.sackEnabled).toBe(true);
    expect(cookieConn!.sndShift).toBe(3);
  });

  it('emits timeout after idle time and keeps the connection', async () => {
    const p = makePair(9);
    p.tcpB.listen(80);
    const c = p.tcpA.connect({ host: IP_B, port: 80 });
    let timeouts = 0;
    c.setTimeout(1000, () => timeouts++);
    await runUntil(p.clock, () => timeouts > 0, 5000, 50);
    expect(timeouts).toBe(1);
    expect(c.destroyed).toBe(false);
    expect(c.readyState).toBe('open');
  });

  it('half-close: the server keeps sending after the client ends', async () => {
    const p = makePair(10, { delay: 1 });
    p.tcpB.listen(
      80,
      (s) => {
        s.on('data', () => undefined);
        s.on('end', () => {
          s.write('after your FIN');
          s.end();
        });
      },
      { allowHalfOpen: true },
    );
    const c = p.tcpA.connect({ host: IP_B, port: 80, allowHalfOpen: true });
    const got: Buffer[] = [];
    let closed = false;
    c.on('data', (d: Buffer) => got.push(d));
    c.on('close', () => (closed = true));
    c.end('bye');
    await runUntil(p.clock, () => closed, 10_000);
    expect(Buffer.concat(got).toString()).toBe('after your FIN');
    expect(p.tcpA.stats().timeWait).toBe(1);
  });

  it('bounds the connection table: SYNs beyond maxConnections are dropped and counted', async () => {
    // The one peer may hold the whole table here: what is tested is the table's own bound.
    const p = makePair(11, {}, {}, { maxConnections: 3, maxConnectionsPerPeer: 10 });
    let accepted = 0;
    p.tcpB.listen(80, () => accepted++);
    const clients = [1, 2, 3, 4, 5].map(() => p.tcpA.connect({ host: IP_B, port: 80 }));
    for (const c of clients) c.on('error', () => undefined);
    await runUntil(p.clock, () => false, 3000);
    expect(accepted).toBe(3);
    expect(p.tcpB.stats().drops.tableFull).toBeGreaterThan(0);
    expect(p.tcpB.stats().connections).toBe(3);
  });

  it('a new SYN takes over a TIME-WAIT connection (RFC 6191) on the same 4-tuple', async () => {
    const p = makePair(12, { delay: 1 });
    let served = 0;
    // The server closes first, so the server side holds TIME-WAIT.
    p.tcpB.listen(80, (s) => {
      served++;
      s.on('error', () => undefined);
      s.end('bye');
    });
    for (let round = 0; round < 2; round++) {
      const c = p.tcpA.connect({ host: IP_B, port: 80, localPort: 40000 });
      let closed = false;
      c.on('data', () => undefined);
      c.on('close', () => (closed = true));
      await runUntil(p.clock, () => closed, 10_000);
      expect(closed).toBe(true);
      await runUntil(p.clock, () => false, 100); // let the last ACK land
      expect(p.tcpB.stats().timeWait).toBe(1);
    }
    expect(served).toBe(2);
  });
});
