/**
 * TCP over IPv6 between two in-memory stacks on the virtual clock: the same state machine and
 * sockets as over IPv4, with the IPv6 pseudo-header, the IPv6 MSS, dual-stack listeners, and
 * path MTU discovery lowering the segment size mid-transfer (RFC 8201).
 */
import { describe, expect, it } from 'vitest';
import { parseIpv6 } from '../../../src/codec/address.js';
import { ethernet, icmpv6, ipv4, ipv6, tcp } from '../../../src/generated/index.js';
import type { TcpSocket } from '../../../src/runtime/tcp/index.js';
import {
  DAD_DONE_MS,
  IP_A,
  IP_B,
  IP6_A,
  IP6_B,
  makePair,
  randomBytes,
  runUntil,
  sha256,
  type Pair,
} from './helpers.js';

const { IpProtocol } = ipv4;

function pair6(seed: number, faults = {}): Pair {
  const p = makePair(seed, faults, {}, {}, { ipv6: true });
  p.clock.advance(DAD_DONE_MS);
  return p;
}

/** Sends `data` from a to b's echo server at `host`; resolves with what came back. */
async function echo(p: Pair, host: string, data: Buffer, port = 7) {
  let server: TcpSocket | null = null;
  p.tcpB.listen(port, (s) => {
    server = s;
    s.pipe(s);
  });
  const back: Buffer[] = [];
  let ended = false;
  let error: Error | null = null;
  const c = p.tcpA.connect({ host, port });
  c.on('data', (d: Buffer) => back.push(d));
  c.on('end', () => (ended = true));
  c.on('error', (e) => (error = e));
  c.end(data);
  await runUntil(p.clock, () => ended || error !== null);
  if (error) throw error;
  return { client: c, server: server as TcpSocket | null, back: Buffer.concat(back) };
}

/** The TCP segments (over IPv6) in frames a link carried: [payload length, flags, MSS option]. */
function tcp6Segments(frames: Uint8Array[]): Array<{ length: number; mss: number }> {
  const eth = new ethernet.EthernetView();
  const ip = new ipv6.Ipv6View();
  const seg = new tcp.TcpView();
  const out: Array<{ length: number; mss: number }> = [];
  for (const f of frames) {
    if (eth.wrap(f) !== null || eth.etherType !== ethernet.EtherType.IPv6) continue;
    if (ip.wrap(f, eth.payloadOffset, eth.payloadLength) !== null) continue;
    if (ip.nextHeader !== IpProtocol.TCP) continue;
    expect(seg.wrap(f, ip.payloadOffset, ip.payloadLength)).toBeNull();
    expect(seg.checksumValidWithIpv6(f, ip.srcOffset, f, ip.dstOffset)).toBe(true);
    out.push({ length: seg.payloadLength, mss: seg.mss });
  }
  return out;
}

/** Records copies of the frames `p.linkA` sends. */
function recordA(p: Pair): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const send = p.linkA.send.bind(p.linkA);
  p.linkA.send = (bytes, offset, length) => {
    frames.push(bytes.slice(offset, offset + length));
    return send(bytes, offset, length);
  };
  return frames;
}

describe('TCP over IPv6', () => {
  it('echoes 1 MB, reports IPv6 addresses as node:net does, and checksums every segment', async () => {
    const p = pair6(1, { delay: 2 });
    const frames = recordA(p);
    const data = randomBytes(1 << 20, 1);
    const r = await echo(p, IP6_B, data);
    expect(sha256(r.back)).toBe(sha256(data));
    expect(r.client.remoteAddress).toBe(IP6_B);
    expect(r.client.remoteFamily).toBe('IPv6');
    expect(r.client.localAddress).toBe(IP6_A);
    expect(r.client.address()).toEqual({
      address: IP6_A,
      family: 'IPv6',
      port: r.client.localPort,
    });
    expect(r.server?.remoteAddress).toBe(IP6_A);
    expect(r.server?.remoteFamily).toBe('IPv6');
    const segs = tcp6Segments(frames);
    // The SYN offers the IPv6 MSS: 1500 - 40 - 20.
    expect(segs[0].mss).toBe(1440);
    // Full segments: the MSS less the 12 bytes of timestamps.
    expect(Math.max(...segs.map((s) => s.length))).toBe(1428);
    const a = p.tcpA.stats();
    expect(a.ipv6SegmentsOut).toBe(segs.length);
    expect(a.ipv6SegmentsIn).toBeGreaterThan(0);
    expect(a.drops.badChecksum).toBe(0);
    expect(p.tcpB.stats().ipv6SegmentsIn).toBe(a.ipv6SegmentsOut);
  });

  it('moves 2 MB intact under 5% loss, duplication and reordering', async () => {
    for (const seed of [3, 4]) {
      const p = pair6(seed, { loss: 0.05, duplicate: 0.02, reorder: 0.05, delay: 3 });
      const data = randomBytes(2 << 20, seed);
      const r = await echo(p, IP6_B, data);
      expect(sha256(r.back)).toBe(sha256(data));
      expect(p.tcpA.stats().retransmits).toBeGreaterThan(0);
      // Segments carrying SACK blocks still fit the MTU: IPv6 fragmented none.
      expect(p.a.stats().ipv6?.fragmentsSent).toBe(0);
      expect(p.b.stats().ipv6?.fragmentsSent).toBe(0);
    }
  });

  it('takes both families on one listener, and keeps them apart with ipv6Only or 0.0.0.0', async () => {
    const p = pair6(5);
    const families: string[] = [];
    const server = p.tcpB.listen(80, (s) => {
      families.push(`${s.remoteFamily} ${s.remoteAddress}`);
      s.end();
    });
    expect(server.address()).toEqual({ address: '::', family: 'IPv6', port: 80 });
    let closed = 0;
    for (const host of [IP6_B, IP_B]) {
      const c = p.tcpA.connect({ host, port: 80 });
      c.resume();
      c.on('close', () => closed++);
    }
    await runUntil(p.clock, () => closed === 2);
    expect(families.sort()).toEqual([`IPv4 ${IP_A}`, `IPv6 ${IP6_A}`]);

    const six = p.tcpB.listen(81, (s) => s.end('six'), { ipv6Only: true });
    const four = p.tcpB.listen(81, (s) => s.end('four'), { host: '0.0.0.0' });
    expect(four.address()).toEqual({ address: IP_B, family: 'IPv4', port: 81 });
    expect(() => p.tcpB.listen(81)).toThrow(/EADDRINUSE/);
    const got: string[] = [];
    for (const host of [IP6_B, IP_B]) {
      const c = p.tcpA.connect({ host, port: 81 });
      c.on('data', (d: Buffer) => got.push(d.toString()));
    }
    await runUntil(p.clock, () => got.length === 2);
    expect(got.sort()).toEqual(['four', 'six']);
    six.close();
    await runUntil(p.clock, () => !six.listening);
    let error: NodeJS.ErrnoException | null = null;
    p.tcpA.connect({ host: IP6_B, port: 81 }).on('error', (e) => (error = e));
    await runUntil(p.clock, () => error !== null);
    expect(error!.code).toBe('ECONNREFUSED');
  });

  it('refuses what cannot work with typed errors: scoped text, no IPv6, no source address', async () => {
    const p = pair6(6);
    expect(() => p.tcpA.connect({ host: 'fe80::1%tap0', port: 1 })).toThrow(/scope/);
    expect(() => p.tcpA.connect({ host: 'fd00::zz', port: 1 })).toThrow(TypeError);
    const v4only = makePair(6);
    expect(() => v4only.tcpA.connect({ host: IP6_B, port: 1 })).toThrow(/EAFNOSUPPORT/);
    // Before DAD completes, no address of ours may be used as a source.
    const early = makePair(7, {}, {}, {}, { ipv6: true });
    let error: NodeJS.ErrnoException | null = null;
    early.tcpA.connect({ host: IP6_B, port: 1 }).on('error', (e) => (error = e));
    await runUntil(early.clock, () => error !== null, 10);
    expect(error!.code).toBe('ENETUNREACH');
  });

  it('ends a connection attempt on ICMPv6 port unreachable, ignores errors for unknown flows', async () => {
    const p = pair6(8);
    // A firewall on the way drops SYNs to port 9 (and answers only with the errors below).
    const syns: Uint8Array[] = [];
    const send = p.linkA.send.bind(p.linkA);
    p.linkA.send = (bytes, offset, length) => {
      const f = bytes.slice(offset, offset + length);
      const tcpAt = 14 + 40;
      if (f.length > tcpAt + 4 && f[14 + 6] === IpProtocol.TCP && f[tcpAt + 3] === 9) {
        syns.push(f);
        return true;
      }
      return send(bytes, offset, length);
    };
    let error: NodeJS.ErrnoException | null = null;
    const c = p.tcpA.connect({ host: IP6_B, port: 9 });
    c.on('error', (e) => (error = e));
    await runUntil(p.clock, () => syns.length > 0, 100);
    const errorAbout = (quote: Uint8Array, type: number, code: number) => {
      const out = new Uint8Array(40 + 8 + quote.length);
      out.set(quote, 48);
      icmpv6.encodeIcmpv6Error(
        { type, code, checksum: undefined, unused: 0 },
        out,
        40,
        quote.length,
        B,
        0,
        A,
        0,
      );
      ipv6.encodeIpv6(
        {
          version: 6,
          trafficClass: 0,
          flowLabel: 0,
          nextHeader: IpProtocol.ICMPv6,
          hopLimit: 64,
          src: B,
          dst: A,
        },
        out,
        0,
        8 + quote.length,
      );
      p.a.ipv6!.ip.receive(out, 0, out.length);
    };
    const quote = syns[0].slice(14);
    // A quote whose sequence number is not ours is ignored (RFC 5927 §4.1).
    const forged = quote.slice();
    forged[40 + 4] ^= 0x80;
    errorAbout(forged, icmpv6.Icmpv6Type.DestinationUnreachable, icmpv6.Icmpv6UnreachableCode.Port);
    expect(p.tcpA.stats().drops.icmpIgnored).toBe(1);
    expect(error).toBeNull();
    errorAbout(quote, icmpv6.Icmpv6Type.DestinationUnreachable, icmpv6.Icmpv6UnreachableCode.Port);
    await runUntil(p.clock, () => error !== null, 100);
    expect(error!.code).toBe('ECONNREFUSED');
    expect(p.tcpA.stats().icmpAborts).toBe(1);
    expect(p.tcpA.stats().connections).toBe(0);
  });

  it('lowers the segment size when a Packet Too Big arrives mid-transfer, and loses no data', async () => {
    const p = pair6(9, { delay: 2 });
    const frames = recordA(p);
    // A path that carries 1280 bytes: A's larger IPv6 packets are dropped by a "router" that
    // answers each with a Packet Too Big quoting it (RFC 8201), as the kernel's forwarding does.
    const send = p.linkA.send.bind(p.linkA);
    let tooBig = 0;
    let dropping = false;
    let firstError = -1;
    p.linkA.send = (bytes, offset, length) => {
      if (!dropping || length <= 14 + 1280) return send(bytes, offset, length);
      tooBig++;
      const quote = bytes.slice(offset + 14, offset + 14 + 1232);
      p.clock.setTimer(1, () => {
        if (firstError < 0) firstError = frames.length;
        const out = new Uint8Array(40 + 8 + quote.length);
        out.set(quote, 48);
        icmpv6.encodeIcmpv6PacketTooBig(
          { type: icmpv6.Icmpv6Type.PacketTooBig, code: 0, mtu: 1280 },
          out,
          40,
          quote.length,
          ROUTER,
          0,
          A,
          0,
        );
        ipv6.encodeIpv6(
          {
            version: 6,
            trafficClass: 0,
            flowLabel: 0,
            nextHeader: IpProtocol.ICMPv6,
            hopLimit: 64,
            src: ROUTER,
            dst: A,
          },
          out,
          0,
          8 + quote.length,
        );
        p.a.ipv6!.ip.receive(out, 0, out.length);
      });
      return true;
    };
    const data = randomBytes(4 << 20, 9);
    p.tcpB.listen(7, (s) => s.pipe(s));
    const back: Buffer[] = [];
    let ended = false;
    const c = p.tcpA.connect({ host: IP6_B, port: 7 });
    c.on('data', (d: Buffer) => back.push(d));
    c.on('end', () => (ended = true));
    c.write(data.subarray(0, 1 << 20));
    await runUntil(p.clock, () => Buffer.concat(back).length >= 1 << 20);
    dropping = true;
    c.end(data.subarray(1 << 20));
    await runUntil(p.clock, () => ended);
    expect(sha256(Buffer.concat(back))).toBe(sha256(data));
    expect(tooBig).toBeGreaterThan(0);
    const stats = p.tcpA.stats();
    expect(stats.pathMtuDecreases).toBe(1);
    expect(p.a.ipv6!.ip.pathMtu(B)).toBe(1280);
    // After the error, A's segments fit 1280: 1280 - 40 - 20 - 12 bytes of payload at most.
    const after = tcp6Segments(frames.slice(firstError));
    expect(Math.max(...after.map((s) => s.length))).toBe(1208);
    expect(stats.timeouts).toBe(0);
  });
});

const A = parseIpv6(IP6_A) as Uint8Array;
const B = parseIpv6(IP6_B) as Uint8Array;
const ROUTER = parseIpv6('fd00::ff') as Uint8Array;
