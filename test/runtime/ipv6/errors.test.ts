/**
 * The IPv6 receive rules that end in an ICMPv6 error or a silent drop, and the errors we act on:
 * unknown options by their high bits (RFC 8200 §4.2), fragment checks (§4.5), atomic fragments
 * (RFC 6946), Packet Too Big and the path MTU (RFC 8201), the error rate limit (RFC 4443 §2.4).
 * Packets are built with the generated encoders and handed to the stack's IPv6 layer.
 */
import { describe, expect, it } from 'vitest';
import { parseIpv6 } from '../../../src/codec/address.js';
import { icmpv6, ipv4, ipv6, ipv6frag, ipv6opts } from '../../../src/generated/index.js';
import type { Icmpv6EchoReply } from '../../../src/runtime/ipv6/icmpv6.js';
import { icmpMessages, pair, v6 } from './harness.js';

const { IpProtocol } = ipv4;
const T = icmpv6.Icmpv6Type;
const A = parseIpv6('fd00::a') as Uint8Array;
const B = parseIpv6('fd00::b') as Uint8Array;

/** An IPv6 packet from A to `dst` with `body` after the header, body built by `write`. */
function packet(
  nextHeader: number,
  bodyLength: number,
  write: (out: Uint8Array, at: number) => void,
  dst: Uint8Array = B,
): Uint8Array {
  const out = new Uint8Array(40 + bodyLength);
  write(out, 40);
  ipv6.encodeIpv6(
    { version: 6, trafficClass: 0, flowLabel: 0, nextHeader, hopLimit: 64, src: A, dst },
    out,
    0,
    bodyLength,
  );
  return out;
}

/** An echo request (8-byte header + `data`) at out[at], checksummed for A → dst. */
function echoAt(out: Uint8Array, at: number, data: number, dst: Uint8Array = B): void {
  icmpv6.encodeIcmpv6Echo(
    { type: T.EchoRequest, code: 0, identifier: 9, sequence: 1 },
    out,
    at,
    data,
    A,
    0,
    dst,
    0,
  );
}

/** A hop-by-hop header holding one option of `type` (2 bytes of data, padded to 8). */
function hopByHopAt(out: Uint8Array, at: number, type: number, next: number): number {
  const options = new Uint8Array(6);
  const n = ipv6opts.encodeIpv6Options(
    [
      { kind: 'raw', bytes: Uint8Array.of(type, 2, 0, 0) },
      { kind: 'PadN', padding: new Uint8Array(0) },
    ],
    options,
    0,
  );
  expect(n).toBe(6);
  return ipv6opts.encodeIpv6OptionsHeader({ nextHeader: next, options }, out, at);
}

function setup() {
  const p = pair();
  p.clock.advance(3000);
  const replies: Icmpv6EchoReply[] = [];
  v6(p.a).icmp.echoListener = (r) => replies.push(r);
  const deliver = (bytes: Uint8Array): void => {
    v6(p.b).ip.receive(bytes, 0, bytes.length);
    p.clock.advance(10);
  };
  const sentByB = (type: number) => icmpMessages(p.wire.b).filter(([t]) => t === type);
  return { ...p, replies, deliver, sentByB };
}

describe('unknown hop-by-hop options, by their two high bits (RFC 8200 §4.2)', () => {
  it.each([
    [0x1e, 'skips it and processes the packet', 1, 0],
    [0x5e, 'drops the packet silently', 0, 0],
    [0x9e, 'drops it and sends a parameter problem, code 2', 0, 1],
    [0xde, 'drops it and sends a parameter problem unless to multicast', 0, 1],
  ])('option type 0x%s %s', (type, _what, replies, problems) => {
    const s = setup();
    s.deliver(
      packet(IpProtocol.HopByHop, 8 + 8 + 4, (out, at) => {
        hopByHopAt(out, at, type, IpProtocol.ICMPv6);
        echoAt(out, at + 8, 4);
      }),
    );
    expect(v6(s.b).icmp.stats.echoRequests).toBe(replies);
    const pp = s.sentByB(T.ParameterProblem);
    expect(pp).toHaveLength(problems);
    if (problems > 0) {
      expect(pp[0][1]).toBe(icmpv6.Icmpv6ParameterProblemCode.UnrecognizedOption);
      const frame = s.wire.b[s.wire.b.length - 1];
      const view = new icmpv6.Icmpv6ParameterProblemView();
      expect(view.wrap(frame, 54, frame.length - 54)).toBeNull();
      // The option's first byte: IPv6 header, then the hop-by-hop header's two bytes.
      expect(view.pointer).toBe(40 + 2);
    }
  });

  it('answers type 10xxxxxx even when sent to a multicast group, 11xxxxxx not', () => {
    for (const [type, expected] of [
      [0x9e, 1],
      [0xde, 0],
    ]) {
      const s = setup();
      const group = parseIpv6('ff02::1') as Uint8Array;
      s.deliver(
        packet(
          IpProtocol.HopByHop,
          8 + 8,
          (out, at) => {
            hopByHopAt(out, at, type, IpProtocol.ICMPv6);
            echoAt(out, at + 8, 0, group);
          },
          group,
        ),
      );
      expect(s.sentByB(T.ParameterProblem)).toHaveLength(expected);
    }
  });

  it('takes hop-by-hop only first: one after another header is a parameter problem, code 1', () => {
    const s = setup();
    s.deliver(
      packet(IpProtocol.DestOptions, 8 + 8 + 8, (out, at) => {
        hopByHopAt(out, at, 0x1e, IpProtocol.HopByHop);
        hopByHopAt(out, at + 8, 0x1e, IpProtocol.ICMPv6);
        echoAt(out, at + 16, 0);
      }),
    );
    const pp = s.sentByB(T.ParameterProblem);
    expect(pp).toHaveLength(1);
    expect(pp[0][1]).toBe(icmpv6.Icmpv6ParameterProblemCode.UnrecognizedNextHeader);
    expect(v6(s.b).icmp.stats.echoRequests).toBe(0);
  });
});

describe('fragments (RFC 8200 §4.5, RFC 6946, RFC 7112)', () => {
  const fragment = (
    offset8: number,
    more: number,
    id: number,
    next: number,
    data: number,
    body?: (out: Uint8Array, at: number) => void,
  ) =>
    packet(IpProtocol.Fragment, 8 + data, (out, at) => {
      ipv6frag.encodeIpv6Fragment(
        {
          nextHeader: next,
          reserved: 0,
          fragmentOffset: offset8,
          reserved2: 0,
          more,
          identification: id,
        },
        out,
        at,
      );
      body?.(out, at + 8);
    });

  it('takes an atomic fragment (offset 0, M clear) as the whole packet', () => {
    const s = setup();
    s.deliver(fragment(0, 0, 1, IpProtocol.ICMPv6, 8 + 16, (out, at) => echoAt(out, at, 16)));
    expect(v6(s.b).icmp.stats.echoRequests).toBe(1);
    expect(s.replies).toHaveLength(1);
  });

  it('refuses a non-final fragment whose length is not a multiple of 8, pointing at the payload length', () => {
    const s = setup();
    s.deliver(fragment(0, 1, 2, IpProtocol.ICMPv6, 8 + 13, (out, at) => echoAt(out, at, 13)));
    const pp = s.sentByB(T.ParameterProblem);
    expect(pp).toHaveLength(1);
    expect(pp[0][1]).toBe(icmpv6.Icmpv6ParameterProblemCode.ErroneousHeader);
    const frame = s.wire.b[s.wire.b.length - 1];
    const view = new icmpv6.Icmpv6ParameterProblemView();
    expect(view.wrap(frame, 54, frame.length - 54)).toBeNull();
    expect(view.pointer).toBe(ipv6.IPV6_OFFSETS.payloadLen);
    expect(v6(s.b).ip.stats.drops.fragInvalid).toBe(1);
  });

  it('refuses a fragment reaching past 65535 bytes, pointing at its fragment offset', () => {
    const s = setup();
    s.deliver(fragment(8190, 0, 3, IpProtocol.ICMPv6, 64));
    const frame = s.wire.b[s.wire.b.length - 1];
    const view = new icmpv6.Icmpv6ParameterProblemView();
    expect(view.wrap(frame, 54, frame.length - 54)).toBeNull();
    expect(view.pointer).toBe(40 + ipv6frag.IPV6FRAGMENT_OFFSETS.fragmentOffset);
  });

  it('refuses a first fragment without the whole header chain (RFC 7112): code 3, pointer 0', () => {
    const s = setup();
    // A destination options header announcing 16 bytes, cut after 8.
    s.deliver(
      fragment(0, 1, 4, IpProtocol.DestOptions, 8, (out, at) => {
        out[at] = IpProtocol.ICMPv6;
        out[at + 1] = 1;
      }),
    );
    const pp = s.sentByB(T.ParameterProblem);
    expect(pp).toHaveLength(1);
    expect(pp[0][1]).toBe(icmpv6.Icmpv6ParameterProblemCode.IncompleteHeaderChain);
  });
});

describe('packet too big and the path MTU (RFC 8201)', () => {
  function tooBig(s: ReturnType<typeof setup>, mtu: number, quoteFrom: Uint8Array[]): void {
    const sent = quoteFrom[quoteFrom.length - 1].subarray(14);
    const quote = sent.subarray(0, Math.min(sent.length, 1232));
    const out = new Uint8Array(40 + 8 + quote.length);
    out.set(quote, 48);
    icmpv6.encodeIcmpv6PacketTooBig(
      { type: T.PacketTooBig, code: 0, mtu },
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
    v6(s.a).ip.receive(out, 0, out.length);
  }

  it('lowers the path MTU to what the error says (never below 1280) and fragments to it', () => {
    const s = setup();
    v6(s.a).icmp.sendEchoRequest(B, 1, 1, new Uint8Array(1400));
    s.clock.advance(10);
    expect(v6(s.a).ip.pathMtu(B)).toBe(1500);
    tooBig(s, 1000, s.wire.a);
    expect(v6(s.a).icmp.stats.packetTooBigReceived).toBe(1);
    expect(v6(s.a).ip.pathMtu(B)).toBe(1280);
    const before = s.wire.a.length;
    v6(s.a).icmp.sendEchoRequest(B, 1, 2, new Uint8Array(1400));
    s.clock.advance(10);
    const frames = s.wire.a.slice(before);
    expect(frames).toHaveLength(2);
    for (const f of frames) expect(f.length - 14).toBeLessThanOrEqual(1280);
    const view = new ipv6.Ipv6View();
    expect(view.wrap(frames[0], 14)).toBeNull();
    expect(view.nextHeader).toBe(IpProtocol.Fragment);
  });

  it('forgets the lowered MTU after 10 minutes', () => {
    const s = setup();
    v6(s.a).icmp.sendEchoRequest(B, 1, 1, new Uint8Array(1400));
    s.clock.advance(10);
    tooBig(s, 1300, s.wire.a);
    expect(v6(s.a).ip.pathMtu(B)).toBe(1300);
    s.clock.advance(10 * 60_000 + 10);
    expect(v6(s.a).ip.pathMtu(B)).toBe(1500);
  });

  it('ignores a packet too big about a packet that was not ours', () => {
    const s = setup();
    v6(s.a).icmp.sendEchoRequest(B, 1, 1, new Uint8Array(100));
    s.clock.advance(10);
    // Quote one of B's packets instead: its source is not one of A's addresses.
    tooBig(s, 1280, s.wire.b);
    expect(v6(s.a).ip.pathMtu(B)).toBe(1500);
  });
});

describe('the ICMPv6 error rate limit (RFC 4443 §2.4(f))', () => {
  it('sends at most a burst of errors at once, then refills over time', () => {
    const s = setup();
    // B knows A's link address first, so no error waits in (or is refused by) the ND queue.
    v6(s.a).icmp.sendEchoRequest(B, 1, 1, new Uint8Array(8));
    s.clock.advance(100);
    expect(s.replies).toHaveLength(1);
    const unknown = () => packet(253, 8, () => undefined);
    for (let i = 0; i < 100; i++) v6(s.b).ip.receive(unknown(), 0, 48);
    s.clock.advance(10);
    const stats = v6(s.b).icmp.stats;
    expect(stats.errorsSent).toBe(20);
    expect(stats.drops.rateLimited).toBe(80);
    s.clock.advance(1000);
    for (let i = 0; i < 100; i++) v6(s.b).ip.receive(unknown(), 0, 48);
    expect(stats.errorsSent).toBe(40);
  });

  it('never answers an error with an error', () => {
    const s = setup();
    // A destination unreachable from A to B behind a hop-by-hop option that asks for a report.
    s.deliver(
      packet(IpProtocol.HopByHop, 8 + 8, (out, at) => {
        hopByHopAt(out, at, 0x9e, IpProtocol.ICMPv6);
        icmpv6.encodeIcmpv6Error(
          { type: T.DestinationUnreachable, code: 4, unused: 0 },
          out,
          at + 8,
          0,
          A,
          0,
          B,
          0,
        );
      }),
    );
    expect(s.sentByB(T.ParameterProblem)).toHaveLength(0);
  });
});

describe('reassembly in the stack', () => {
  it('answers a 4000-byte echo: fragments both ways, data intact', () => {
    const s = setup();
    const data = new Uint8Array(4000).map((_, i) => (i * 7) & 0xff);
    const before = s.wire.a.length;
    v6(s.a).icmp.sendEchoRequest(B, 3, 4, data);
    s.clock.advance(100);
    const view = new ipv6.Ipv6View();
    const fragments = s.wire.a
      .slice(before)
      .filter((f) => view.wrap(f, 14) === null && view.nextHeader === IpProtocol.Fragment);
    expect(fragments).toHaveLength(3);
    expect(s.replies).toHaveLength(1);
    const r = s.replies[0];
    expect(r.bytes.subarray(r.dataOffset, r.dataOffset + r.dataLength)).toEqual(data);
    expect(v6(s.b).ip.stats.reassembled).toBe(1);
    expect(v6(s.a).ip.stats.reassembled).toBe(1);
  });

  it('sends time exceeded (code 1) when a packet is not whole after 60 s, quoting its first fragment', () => {
    const s = setup();
    v6(s.a).icmp.sendEchoRequest(B, 1, 1, new Uint8Array(8));
    s.clock.advance(100);
    const first = packet(IpProtocol.Fragment, 8 + 1024, (out, at) =>
      ipv6frag.encodeIpv6Fragment(
        {
          nextHeader: IpProtocol.ICMPv6,
          reserved: 0,
          fragmentOffset: 0,
          reserved2: 0,
          more: 1,
          identification: 77,
        },
        out,
        at,
      ),
    );
    s.deliver(first);
    s.clock.advance(59_000);
    expect(s.sentByB(T.TimeExceeded)).toHaveLength(0);
    s.clock.advance(2_000);
    const te = s.sentByB(T.TimeExceeded);
    expect(te).toHaveLength(1);
    expect(te[0][1]).toBe(icmpv6.Icmpv6TimeExceededCode.FragmentReassembly);
    expect(te[0][3]).toBe('fd00::a');
    expect(v6(s.b).ip.stats.drops.reassemblyTimeout).toBe(1);
  });
});
