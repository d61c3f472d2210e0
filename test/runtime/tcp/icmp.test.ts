/**
 * ICMP errors reaching TCP over IPv4 (and the ICMPv6 ones not in tcp6.test.ts), on two stacks
 * in memory: path MTU discovery (RFC 1191: DF on segments, "fragmentation needed" lowers the
 * path MTU and the MSS, the plateau guess, the 552-byte floor), hard errors that end a
 * connection attempt with Linux's errno, soft errors reported when the connection times out,
 * and errors that do not match a connection's send window ignored (RFC 5927).
 */
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../../src/codec/address.js';
import { ethernet, icmp, ipv4, tcp } from '../../../src/generated/index.js';
import { plateauBelow } from '../../../src/runtime/ipv4/ipv4.js';
import { IP_A, IP_B, makePair, randomBytes, runUntil, sha256, type Pair } from './helpers.js';

const { IpProtocol } = ipv4;
const U = icmp.IcmpUnreachableCode;
const A = parseIpv4(IP_A);
const ROUTER = parseIpv4('10.0.0.254');

/** An ICMP error from ROUTER to A about `quote` (an IPv4 datagram A sent), handed to A. */
function icmpToA(p: Pair, type: number, code: number, quote: Uint8Array, mtu = 0): void {
  const out = new Uint8Array(20 + 8 + quote.length);
  out.set(quote, 28);
  icmp.encodeIcmpUnreachable({ type, code, unused: 0, nextHopMtu: mtu }, out, 20, quote.length);
  ipv4.encodeIpv4(
    {
      version: 4,
      dscp: 0,
      ecn: 0,
      identification: 1,
      flags: 0,
      fragmentOffset: 0,
      ttl: 64,
      protocol: IpProtocol.ICMP,
      src: ROUTER,
      dst: A,
      options: new Uint8Array(0),
    },
    out,
    0,
    8 + quote.length,
  );
  p.a.ipv4.receive(out, 0, out.length);
}

/** Every IPv4 TCP segment in `frames`: its IP length, DF, and TCP payload length. */
function segments(frames: Uint8Array[]) {
  const eth = new ethernet.EthernetView();
  const ip = new ipv4.Ipv4View();
  const seg = new tcp.TcpView();
  const out: Array<{ ipLength: number; df: boolean; payload: number }> = [];
  for (const f of frames) {
    if (eth.wrap(f) !== null || eth.etherType !== ethernet.EtherType.IPv4) continue;
    if (ip.wrap(f, eth.payloadOffset, eth.payloadLength) !== null) continue;
    if (ip.protocol !== IpProtocol.TCP) continue;
    expect(seg.wrap(f, ip.payloadOffset, ip.payloadLength)).toBeNull();
    out.push({
      ipLength: ip.totalLength,
      df: (ip.flags & ipv4.Ipv4Flags.DF) !== 0,
      payload: seg.payloadLength,
    });
  }
  return out;
}

/**
 * A's link behind a router whose next link carries `mtu`: larger IPv4 datagrams with DF are
 * dropped and answered with "fragmentation needed" giving `reported` (RFC 1191), as a router
 * does. Records what gets through.
 */
function narrowPath(p: Pair, mtu: number, reported: number) {
  const through: Uint8Array[] = [];
  const state = { on: false, errors: 0, firstError: -1 };
  const send = p.linkA.send.bind(p.linkA);
  p.linkA.send = (bytes, offset, length) => {
    const frame = bytes.slice(offset, offset + length);
    const df = (frame[14 + 6] & 0x40) !== 0;
    if (state.on && length - 14 > mtu && frame[14 + 9] === IpProtocol.TCP && df) {
      state.errors++;
      p.clock.setTimer(1, () => {
        if (state.firstError < 0) state.firstError = through.length;
        icmpToA(
          p,
          icmp.IcmpType.DestinationUnreachable,
          U.FragmentationNeeded,
          frame.slice(14, 14 + 28),
          reported,
        );
      });
      return true;
    }
    through.push(frame);
    return send(bytes, offset, length);
  };
  return { through, state };
}

async function bulk(p: Pair, data: Buffer, midway: () => void) {
  p.tcpB.listen(7, (s) => s.pipe(s));
  const back: Buffer[] = [];
  let ended = false;
  let error: Error | null = null;
  const c = p.tcpA.connect({ host: IP_B, port: 7 });
  c.on('data', (d: Buffer) => back.push(d));
  c.on('end', () => (ended = true));
  c.on('error', (e) => (error = e));
  c.write(data.subarray(0, 1 << 19));
  await runUntil(p.clock, () => Buffer.concat(back).length >= 1 << 19);
  midway();
  c.end(data.subarray(1 << 19));
  await runUntil(p.clock, () => ended || error !== null);
  if (error) throw error;
  return Buffer.concat(back);
}

describe('path MTU discovery over IPv4 (RFC 1191)', () => {
  it('sends TCP with DF; a "fragmentation needed" mid-transfer lowers the MSS, nothing is lost', async () => {
    const p = makePair(11, { delay: 2 });
    const path = narrowPath(p, 1000, 1000);
    const data = randomBytes(2 << 20, 11);
    const back = await bulk(p, data, () => (path.state.on = true));
    expect(sha256(back)).toBe(sha256(data));
    expect(path.state.errors).toBeGreaterThan(0);
    expect(p.a.ipv4.pathMtu(parseIpv4(IP_B))).toBe(1000);
    expect(p.a.stats().icmp.fragmentationNeededReceived).toBe(path.state.errors);
    const stats = p.tcpA.stats();
    expect(stats.pathMtuDecreases).toBe(1);
    expect(stats.timeouts).toBe(0);
    const all = segments(path.through);
    expect(all.every((s) => s.df)).toBe(true);
    const after = segments(path.through.slice(path.state.firstError));
    // 1000 - 20 - 20 - 12 bytes of timestamps.
    expect(Math.max(...after.map((s) => s.payload))).toBe(948);
    expect(Math.max(...after.map((s) => s.ipLength))).toBeLessThanOrEqual(1000);
  });

  it('guesses the plateau below the datagram when the router gives no MTU (RFC 1191 §7)', async () => {
    expect(plateauBelow(1500)).toBe(1492);
    expect(plateauBelow(1492)).toBe(1006);
    expect(plateauBelow(60)).toBe(68);
    const p = makePair(12, { delay: 2 });
    narrowPath(p, 1100, 0);
    const data = randomBytes(1 << 20, 12);
    const back = await bulk(p, data, () => undefined);
    expect(sha256(back)).toBe(sha256(data));
  });

  it('takes no path MTU below 552 and sends to such a path without DF', async () => {
    const p = makePair(13, { delay: 2 });
    const path = narrowPath(p, 1000, 300);
    const data = randomBytes(1 << 20, 13);
    // The router keeps answering for datagrams it cannot carry; without DF ours get through.
    const back = await bulk(p, data, () => (path.state.on = true));
    expect(sha256(back)).toBe(sha256(data));
    expect(p.a.ipv4.pathMtu(parseIpv4(IP_B))).toBe(552);
    const after = segments(path.through.slice(path.state.firstError + 1));
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((s) => !s.df && s.ipLength <= 552)).toBe(true);
  });

  it('ignores a "fragmentation needed" about a datagram that was not ours', () => {
    const p = makePair(14);
    const quote = new Uint8Array(28);
    ipv4.encodeIpv4(
      {
        version: 4,
        dscp: 0,
        ecn: 0,
        identification: 1,
        flags: ipv4.Ipv4Flags.DF,
        fragmentOffset: 0,
        ttl: 64,
        protocol: IpProtocol.TCP,
        src: parseIpv4('10.0.0.77'),
        dst: parseIpv4(IP_B),
        options: new Uint8Array(0),
      },
      quote,
      0,
      8,
    );
    icmpToA(p, icmp.IcmpType.DestinationUnreachable, U.FragmentationNeeded, quote, 600);
    expect(p.a.stats().icmp.drops.badFragmentationNeeded).toBe(1);
    expect(p.a.ipv4.pathMtu(parseIpv4(IP_B))).toBe(1500);
  });
});

describe('an ICMP black hole (RFC 4821)', () => {
  it('lowers the MSS after repeated timeouts when large segments vanish without an error', async () => {
    const p = makePair(15, { delay: 2 });
    let on = false;
    const send = p.linkA.send.bind(p.linkA);
    const through: Uint8Array[] = [];
    p.linkA.send = (bytes, offset, length) => {
      if (on && length - 14 > 1000) return true; // dropped, nobody says why
      through.push(bytes.slice(offset, offset + length));
      return send(bytes, offset, length);
    };
    const data = randomBytes(1 << 20, 15);
    const back = await bulk(p, data, () => (on = true));
    expect(sha256(back)).toBe(sha256(data));
    const stats = p.tcpA.stats();
    expect(stats.timeouts).toBeGreaterThanOrEqual(3);
    expect(stats.blackholeMssDrops).toBeGreaterThan(0);
    expect(Math.max(...segments(through.slice(-50)).map((s) => s.ipLength))).toBeLessThanOrEqual(
      1000,
    );
  });

  it('probes back up (RFC 4821 search) to the largest size the black hole lets through', async () => {
    const p = makePair(17, { delay: 2 });
    let on = false;
    const send = p.linkA.send.bind(p.linkA);
    const through: Uint8Array[] = [];
    // IP datagrams over 1200 bytes vanish: the fallback halves the MSS to 730, then the search
    // must climb back to a size between 1192 and 1200 bytes of IP (within the 8-byte threshold).
    p.linkA.send = (bytes, offset, length) => {
      if (on && length - 14 > 1200) return true;
      through.push(bytes.slice(offset, offset + length));
      return send(bytes, offset, length);
    };
    const data = randomBytes(4 << 20, 17);
    const back = await bulk(p, data, () => (on = true));
    expect(sha256(back)).toBe(sha256(data));
    const stats = p.tcpA.stats();
    expect(stats.blackholeMssDrops).toBe(1);
    expect(stats.mtuProbes).toBeGreaterThan(stats.mtuProbesAcked);
    expect(stats.mtuProbesAcked).toBeGreaterThanOrEqual(3);
    const last = segments(through.slice(-50)).map((s) => s.ipLength);
    expect(Math.max(...last)).toBeLessThanOrEqual(1200);
    expect(Math.max(...last)).toBeGreaterThanOrEqual(1192);
  });

  it('can be turned off (blackholeMss 0): the connection then times out', async () => {
    const p = makePair(16, { delay: 2 }, { blackholeMss: 0, dataRetries: 5 });
    let on = false;
    const send = p.linkA.send.bind(p.linkA);
    p.linkA.send = (bytes, offset, length) =>
      on && length - 14 > 1000 ? true : send(bytes, offset, length);
    await expect(bulk(p, randomBytes(1 << 20, 16), () => (on = true))).rejects.toThrow(/ETIMEDOUT/);
    expect(p.tcpA.stats().blackholeMssDrops).toBe(0);
  });
});

describe('ICMP errors ending or marking TCP connections', () => {
  /** A connects to B:9, whose SYNs a firewall drops; resolves with the SYN A sent. */
  async function blockedConnect(p: Pair) {
    const syns: Uint8Array[] = [];
    const send = p.linkA.send.bind(p.linkA);
    p.linkA.send = (bytes, offset, length) => {
      const f = bytes.slice(offset, offset + length);
      if (f[12] === 0x08 && f[13] === 0x00 && f[14 + 9] === IpProtocol.TCP) {
        syns.push(f);
        return true;
      }
      return send(bytes, offset, length);
    };
    let error: NodeJS.ErrnoException | null = null;
    const c = p.tcpA.connect({ host: IP_B, port: 9 });
    c.on('error', (e) => (error = e));
    await runUntil(p.clock, () => syns.length > 0, 100);
    return { quote: syns[0].slice(14, 14 + 28), error: () => error };
  }

  for (const [code, errno] of [
    [U.Port, 'ECONNREFUSED'],
    [U.Protocol, 'ENOPROTOOPT'],
    [U.Host, 'EHOSTUNREACH'],
    [U.Net, 'ENETUNREACH'],
    [U.CommunicationProhibited, 'EHOSTUNREACH'],
  ] as const) {
    it(`ends a connection attempt on unreachable code ${code} with ${errno}, as Linux`, async () => {
      const p = makePair(20 + code);
      const c = await blockedConnect(p);
      icmpToA(p, icmp.IcmpType.DestinationUnreachable, code, c.quote);
      await runUntil(p.clock, () => c.error() !== null, 100);
      expect(c.error()?.code).toBe(errno);
      expect(p.tcpA.stats().icmpAborts).toBe(1);
      expect(p.tcpA.stats().connections).toBe(0);
    });
  }

  it('ignores an error whose quoted sequence number is outside what we sent (RFC 5927)', async () => {
    const p = makePair(30);
    const c = await blockedConnect(p);
    const forged = c.quote.slice();
    forged[20 + 4] ^= 0x40;
    icmpToA(p, icmp.IcmpType.DestinationUnreachable, U.Port, forged);
    // Cut to less than the 8 bytes of TCP header that name the connection.
    icmpToA(p, icmp.IcmpType.DestinationUnreachable, U.Port, c.quote.slice(0, 24));
    expect(p.tcpA.stats().drops.icmpIgnored).toBe(2);
    await runUntil(p.clock, () => false, 500);
    expect(c.error()).toBeNull();
  });

  it('keeps a soft error on an established connection and reports it when it times out', async () => {
    const p = makePair(31, { delay: 1 });
    p.tcpB.listen(7, (s) => s.resume());
    let error: NodeJS.ErrnoException | null = null;
    const c = p.tcpA.connect({ host: IP_B, port: 7 });
    c.on('error', (e) => (error = e));
    await runUntil(p.clock, () => !c.connecting, 1000);
    // From now on everything A sends is lost, and a router says the host is unreachable.
    const sent: Uint8Array[] = [];
    p.linkA.send = (bytes, offset, length) => {
      sent.push(bytes.slice(offset, offset + length));
      return true;
    };
    c.write('hello');
    await runUntil(p.clock, () => sent.length > 0, 100);
    icmpToA(p, icmp.IcmpType.DestinationUnreachable, U.Host, sent[0].slice(14, 14 + 28));
    expect(p.tcpA.stats().icmpSoftErrors).toBe(1);
    expect(error).toBeNull();
    await runUntil(p.clock, () => error !== null, 3_600_000, 1000);
    expect(error!.code).toBe('EHOSTUNREACH');
  });
});
