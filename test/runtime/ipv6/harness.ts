/**
 * Two stacks with IPv6 on an in-memory link and a virtual clock, recording what each sends, and
 * a reader for the ICMPv6 messages in recorded frames (through the generated views).
 */
import { expect } from 'vitest';
import { ethernet, icmpv6, ipv4, ipv6, ipv6opts } from '../../../src/generated/index.js';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair, type MemoryLink } from '../../../src/runtime/link/memory.js';
import { createStack, type Stack } from '../../../src/runtime/stack.js';
import { ipv6Text } from '../../../src/runtime/ipv6/address.js';

export const MAC_A = 0x020000000a0a;
export const MAC_B = 0x020000000b0b;

export function rng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t * 1664525 + 1013904223) >>> 0;
    return t / 4294967296;
  };
}

export interface Wire {
  /** Frames sent by A (`a`) and by B (`b`), as copies. */
  a: Uint8Array[];
  b: Uint8Array[];
}

export function record(link: MemoryLink, into: Uint8Array[]): void {
  const send = link.send.bind(link);
  link.send = (bytes: Uint8Array, offset: number, length: number): boolean => {
    into.push(bytes.slice(offset, offset + length));
    return send(bytes, offset, length);
  };
}

export function pair(options: { macB?: number; ip6A?: string; ip6B?: string; seed?: number } = {}) {
  const clock = new VirtualClock();
  const [la, lb] = createMemoryLinkPair({ macA: MAC_A, macB: options.macB ?? MAC_B, clock });
  const wire: Wire = { a: [], b: [] };
  record(la, wire.a);
  record(lb, wire.b);
  const nd = (seed: number) => ({ random: rng(seed), addressMode: 'eui64' as const });
  const a = createStack({
    link: la,
    clock,
    ipv6: { nd: nd(options.seed ?? 1), neighbors: { random: rng(11) } },
    ip6: options.ip6A ?? 'fd00::a/64',
  });
  const b = createStack({
    link: lb,
    clock,
    ipv6: { nd: nd((options.seed ?? 1) + 1), neighbors: { random: rng(12) } },
    ip6: options.ip6B ?? 'fd00::b/64',
  });
  return { clock, a, b, wire };
}

export function v6(stack: Stack) {
  const parts = stack.ipv6;
  if (parts === null) throw new Error('IPv6 not enabled');
  return parts;
}

/** The ICMPv6 messages in frames, as [type, code, src, dst, hop limit]. */
export function icmpMessages(
  frames: Uint8Array[],
): Array<[number, number, string, string, number]> {
  const eth = new ethernet.EthernetView();
  const ip = new ipv6.Ipv6View();
  const hbh = new ipv6opts.Ipv6OptionsHeaderView();
  const m = new icmpv6.Icmpv6View();
  const out: Array<[number, number, string, string, number]> = [];
  for (const f of frames) {
    if (eth.wrap(f) !== null || eth.etherType !== ethernet.EtherType.IPv6) continue;
    if (ip.wrap(f, eth.payloadOffset, eth.payloadLength) !== null) continue;
    let at = ip.payloadOffset;
    let nh = ip.nextHeader;
    if (nh === ipv4.IpProtocol.HopByHop) {
      expect(hbh.wrap(f, at, ip.payloadLength)).toBeNull();
      nh = hbh.nextHeader;
      at = hbh.payloadOffset;
    }
    if (nh !== ipv4.IpProtocol.ICMPv6) continue;
    expect(m.wrap(f, at, ip.payloadOffset + ip.payloadLength - at)).toBeNull();
    const src = f.slice(ip.srcOffset, ip.srcOffset + 16);
    const dst = f.slice(ip.dstOffset, ip.dstOffset + 16);
    expect(m.checksumValidWithIpv6(src, 0, dst, 0)).toBe(true);
    out.push([m.type, m.code, ipv6Text(src), ipv6Text(dst), ip.hopLimit]);
  }
  return out;
}
