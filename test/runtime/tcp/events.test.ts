/** The layer's connection events (what `run --log json` prints as tcp.open / tcp.close). */
import { describe, expect, it } from 'vitest';
import type { TcpConnectionEvent } from '../../../src/runtime/tcp/index.js';
import { IP_A, IP_B, makePair, runUntil } from './helpers.js';

describe('TcpLayer.onConnection', () => {
  it('tells each side of an open and of its close, with duration and how it ended', async () => {
    const p = makePair(41, { delay: 5 });
    const a: TcpConnectionEvent[] = [];
    const b: TcpConnectionEvent[] = [];
    p.tcpA.onConnection = (e) => a.push(e);
    p.tcpB.onConnection = (e) => b.push(e);
    p.tcpB.listen(7, (s) => s.pipe(s));
    const c = p.tcpA.connect({ host: IP_B, port: 7 });
    let closed = false;
    c.on('close', () => (closed = true));
    c.on('data', () => c.end());
    c.write('hi');
    await runUntil(p.clock, () => closed && b.length === 2);
    expect(b[0]).toMatchObject({
      event: 'open',
      direction: 'in',
      localAddress: IP_B,
      localPort: 7,
      remoteAddress: IP_A,
      remotePort: c.localPort,
    });
    expect(b[1]).toMatchObject({ event: 'close', direction: 'in', reason: 'closed' });
    expect(b[1].durationMs).toBeGreaterThan(0);
    expect(a[0]).toMatchObject({ event: 'open', direction: 'out', remotePort: 7 });
    // A closed first: its side is in TIME-WAIT, and is told when that ends.
    expect(a).toHaveLength(1);
    await runUntil(p.clock, () => a.length === 2);
    expect(a[1]).toMatchObject({ event: 'close', direction: 'out', reason: 'closed' });
  });

  it('reports a reset as the reason, and says nothing of an attempt that never opened', async () => {
    const p = makePair(42, { delay: 5 });
    const a: TcpConnectionEvent[] = [];
    const b: TcpConnectionEvent[] = [];
    p.tcpA.onConnection = (e) => a.push(e);
    p.tcpB.onConnection = (e) => b.push(e);
    let refused = false;
    p.tcpA.connect({ host: IP_B, port: 9 }).on('error', () => (refused = true));
    await runUntil(p.clock, () => refused);
    expect(a).toEqual([]);
    // A aborts (RST) while B still has data to send: B's side ends in ECONNRESET.
    p.tcpB.listen(7, (s) => {
      s.on('error', () => {});
      s.write(Buffer.alloc(100_000));
    });
    const c = p.tcpA.connect({ host: IP_B, port: 7 });
    c.once('data', () => c.destroy());
    await runUntil(p.clock, () => b.length === 2 && a.length === 2);
    expect(b[1]).toMatchObject({ event: 'close', reason: 'ECONNRESET' });
    expect(a[1]).toMatchObject({ event: 'close', direction: 'out' });
  });
});
