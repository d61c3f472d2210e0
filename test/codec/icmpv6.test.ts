/**
 * ICMPv6, Neighbor Discovery and MLD (specs/icmpv6.pkt) on the messages of the next-protocol
 * captures: each message is read with the view of its layout (Icmpv6Layouts, from the spec's
 * select) and compared with tshark's oracle line (test/golden/compare.ts's ICMPv6 comparison);
 * the ND option list (8-octet units counting the whole option, unknown types raw) round-trips
 * byte for byte;
 * a length-0 option is E_BAD_OPTION; every message re-encodes to its bytes, checksum included;
 * truncated and bit-flipped messages never throw or read outside the bytes.
 *
 * The IPv6 header is located here by hand (a test fixture walk, not a decoder): its 40 bytes,
 * then at most a hop-by-hop header (MLD reports carry the router alert in one).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { icmpv6 } from '../../src/generated/index.js';
import { compareFrame, type OracleFrame } from '../golden/compare.js';
import { hostileProperty, type AnyView } from '../codegen/hostile.js';
import { FIXTURE_DIR, readPcapFrames } from './helpers.js';

const NEXT = join(FIXTURE_DIR, '..', 'next');
const CAPTURES = [
  'tcpdump-icmpv6.pcap',
  'tcpdump-icmpv6-rfc7112.pcap',
  'zeek-chksums-ip6-icmp6-bad-chksum.pcap',
  'zeek-communityid-icmp6.pcap',
  'zeek-icmp-icmp6-destunreach-ip6ext-trunc.pcap',
  'zeek-icmp-icmp6-nd-options.pcap',
  'zeek-icmp-icmp6-nd-short-options.pcap',
  'zeek-icmp-icmp6-neighbor-solicit.pcap',
  'zeek-icmp-icmp6-redirect-hdr-opt.pcap',
  'zeek-icmp-icmp6-toobig.pcap',
  'zeek-ipv6-http-atomic-frag.pcap',
];
const ETHERTYPE_IPV6 = 0x86dd;
const NEXT_HEADER_ICMPV6 = 58;
const NEXT_HEADER_HOP_BY_HOP = 0;

interface Message {
  where: string;
  frame: Uint8Array;
  /** The ICMPv6 message: offset and length in `frame`. */
  offset: number;
  length: number;
  oracle: OracleFrame;
}

/** ICMPv6 messages of the captures: after the IPv6 header and at most a hop-by-hop header. */
function messages(): Message[] {
  const out: Message[] = [];
  for (const file of CAPTURES) {
    const frames = readPcapFrames(join(NEXT, 'pcap', file));
    const oracle = readFileSync(join(NEXT, 'oracle', file.replace(/\.pcap$/, '.jsonl')), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as OracleFrame);
    frames.forEach((frame, i) => {
      if (((frame[12] << 8) | frame[13]) !== ETHERTYPE_IPV6 || oracle[i].icmpv6 === undefined)
        return;
      let next = frame[20];
      let at = 54;
      if (next === NEXT_HEADER_HOP_BY_HOP) {
        next = frame[at];
        at += (frame[at + 1] + 1) * 8;
      }
      if (next !== NEXT_HEADER_ICMPV6) return;
      const payloadLength = (frame[18] << 8) | frame[19];
      const length = Math.min(frame.length, 54 + payloadLength) - at;
      out.push({ where: `${file}#${i + 1}`, frame, offset: at, length, oracle: oracle[i] });
    });
  }
  return out;
}

const ALL = messages();
const src = (m: Message): Uint8Array => m.frame.subarray(22, 38);
const dst = (m: Message): Uint8Array => m.frame.subarray(38, 54);

describe('ICMPv6 on the captures, against tshark', () => {
  it('finds the messages', () => {
    expect(ALL.length).toBeGreaterThan(90);
  });

  it('decodes every message as tshark does (a cut one: the fields before the cut)', () => {
    const d = new icmpv6.Icmpv6Layouts();
    const problems: string[] = [];
    for (const m of ALL) {
      const err = d.wrap(m.frame, m.offset, m.length);
      const malformed = m.oracle.malformed;
      if ((err !== null) !== malformed)
        problems.push(`${m.where}: error ${JSON.stringify(err)}, tshark malformed ${malformed}`);
      const layer =
        err === null
          ? (d.toJSON(src(m), dst(m)) as unknown as Record<string, unknown>)
          : (d.prefixDecoder(m.frame, m.offset, m.length, err.field) as Record<string, unknown>);
      const ours = {
        frame: m.oracle.n,
        layers: { icmpv6: layer },
        partial: err === null ? undefined : 'icmpv6',
        error: err,
      };
      const theirs = { ...m.oracle, icmpv6: { ...m.oracle.icmpv6 } };
      // The invoking packet of an error message is the IPv6 layer's to decode (not here).
      delete theirs.icmpv6.quoted;
      problems.push(
        ...compareFrame('', ours, { n: m.oracle.n, icmpv6: theirs.icmpv6 } as OracleFrame),
      );
    }
    expect(problems).toEqual([]);
  });

  it('shows each ND option the way its type declares it', () => {
    const m = ALL.find((x) => x.where === 'tcpdump-icmpv6.pcap#1') as Message;
    const v = new icmpv6.NdRouterAdvertisementView();
    expect(v.wrap(m.frame, m.offset, m.length)).toBeNull();
    const opts = v.toJSON().options;
    expect(opts.map((o) => o.type)).toEqual([3, 25, 31, 5, 1, 7, 8]);
    const rdnss = opts[1] as { servers: string[]; lifetime: number };
    expect(rdnss.servers.length).toBe(2);
    const c = v.options();
    expect(c.next()).toBe(true);
    expect(c.prefixInformation.prefixLength).toBe(72);
    expect(c.prefixInformation.onLink).toBe(1);
    expect(c.prefixInformation.prefixOffset).toBe(c.offset + 16);
  });
});

describe('ND options (a list in 8-octet units)', () => {
  it('round-trips every option list of the captures byte for byte', () => {
    let lists = 0;
    for (const m of ALL) {
      const d = new icmpv6.Icmpv6Layouts();
      if (d.wrap(m.frame, m.offset, m.length) !== null) continue;
      const v = d.view as unknown as { optionsOffset?: number; optionsLength: number };
      if (v.optionsOffset === undefined || v.optionsLength === 0) continue;
      const items = icmpv6.decodeNdOptions(m.frame, v.optionsOffset, v.optionsLength);
      const out = new Uint8Array(v.optionsLength);
      expect(icmpv6.encodeNdOptions(items, out, 0), m.where).toBe(v.optionsLength);
      expect(out, m.where).toEqual(
        m.frame.subarray(v.optionsOffset, v.optionsOffset + v.optionsLength),
      );
      lists++;
    }
    expect(lists).toBeGreaterThan(20);
  });

  it('encodes typed items with derived lengths, padded to the unit', () => {
    const items: icmpv6.NdOptionsItem[] = [
      { kind: 'SourceLinkLayerAddress', address: Uint8Array.of(2, 0, 0x5e, 0x10, 0x20, 0x30) },
      { kind: 'Mtu', reserved: 0, mtu: 1500 },
      { kind: 'RecursiveDnsServer', reserved: 0, lifetime: 600, servers: ['2001:db8::53', '::1'] },
      {
        kind: 'DnsSearchList',
        reserved: 0,
        lifetime: 600,
        domains: Uint8Array.of(3, 0x6f, 0x72, 0x67, 0),
      },
    ];
    const out = new Uint8Array(80);
    const n = icmpv6.encodeNdOptions(items, out, 0);
    expect(n).toBe(8 + 8 + 40 + 16);
    expect([out[0], out[1], out[8], out[9], out[16], out[17], out[56], out[57]]).toEqual([
      1, 1, 5, 1, 25, 5, 31, 2,
    ]);
    // The DNSSL body is zero-padded to the unit; decode gives the padded bytes back.
    const back = icmpv6.decodeNdOptions(out, 0, n);
    expect(back[2]).toEqual(items[2]);
    expect(icmpv6.validateNdOptions(out, 0, n)).toBe(-1);
    // Text that is no IPv6 address fails the encode.
    expect(
      icmpv6.encodeNdOptions(
        [{ kind: 'RecursiveDnsServer', reserved: 0, lifetime: 0, servers: ['nope'] }],
        out,
        0,
      ),
    ).toBe(-1);
  });

  it('refuses a length-0 option (E_BAD_OPTION at it) and a size its type cannot have', () => {
    const m = ALL.find((x) => x.where === 'zeek-icmp-icmp6-nd-options.pcap#2') as Message;
    const bytes = m.frame.slice(m.offset, m.offset + m.length);
    const v = new icmpv6.NdNeighborAdvertisementView();
    expect(v.wrap(bytes)).toBeNull();
    bytes[25] = 0;
    expect(v.wrap(bytes)).toMatchObject({ code: 'E_BAD_OPTION', field: 'options', offset: 24 });
    bytes[24] = icmpv6.NdOptionType.Mtu;
    bytes[25] = 2;
    expect(v.wrap(bytes)).toMatchObject({ code: 'E_BAD_OPTION', offset: 24 });
  });
});

describe('ICMPv6 messages', () => {
  it('re-encodes every whole message of the captures, checksum computed', () => {
    let n = 0;
    for (const m of ALL) {
      const d = new icmpv6.Icmpv6Layouts();
      if (d.wrap(m.frame, m.offset, m.length) !== null || d.layout === null) continue;
      if (m.oracle.icmpv6?.checksum_status !== 'good') continue;
      const bytes = m.frame.subarray(m.offset, m.offset + m.length);
      const { decode, encode } = CODEC[d.layout];
      const f = decode(bytes) as { checksum?: number };
      // What follows the header is the caller's payload.
      const header = bytes.length - ((d.view as { payloadLength?: number }).payloadLength ?? 0);
      const out = new Uint8Array(bytes.length);
      out.set(bytes.subarray(header), header);
      delete f.checksum;
      expect(encode(f, out, 0, bytes.length - header, src(m), 0, dst(m), 0), m.where).toBe(header);
      expect(out, m.where).toEqual(bytes);
      n++;
    }
    expect(n).toBeGreaterThan(80);
  });

  it('never throws or reads outside the bytes, truncated and bit-flipped', () => {
    const d = new icmpv6.Icmpv6Layouts();
    const byLayout = new Map<string, Uint8Array[]>();
    for (const m of ALL) {
      if (d.wrap(m.frame, m.offset, m.length) !== null) continue;
      const layout = d.layout ?? 'head';
      const list = byLayout.get(layout) ?? [];
      list.push(m.frame.slice(m.offset, m.offset + m.length));
      byLayout.set(layout, list);
    }
    expect(byLayout.size).toBeGreaterThanOrEqual(11);
    let seed = 6001;
    for (const [layout, samples] of byLayout) {
      const make = (): AnyView => VIEW[layout as keyof typeof VIEW]() as unknown as AnyView;
      hostileProperty(make, samples, seed++, (view) => {
        const c = (view as unknown as { options?: () => icmpv6.NdOptionsCursor }).options?.();
        if (c !== undefined) JSON.stringify(icmpv6.ndOptionsToJSON(c));
      });
      for (const s of samples) {
        for (let cut = 0; cut <= s.length; cut++) icmpv6.decodeNdOptions(s, 0, cut);
      }
    }
  });
});

type Encode = (
  f: object,
  out: Uint8Array,
  offset: number,
  payloadLength: number,
  src: Uint8Array,
  srcOffset: number,
  dst: Uint8Array,
  dstOffset: number,
) => number;
const CODEC: Record<icmpv6.Icmpv6Layout, { decode: (b: Uint8Array) => object; encode: Encode }> = {
  icmpv6Echo: { decode: icmpv6.decodeIcmpv6Echo, encode: icmpv6.encodeIcmpv6Echo as Encode },
  icmpv6Error: { decode: icmpv6.decodeIcmpv6Error, encode: icmpv6.encodeIcmpv6Error as Encode },
  icmpv6PacketTooBig: {
    decode: icmpv6.decodeIcmpv6PacketTooBig,
    encode: icmpv6.encodeIcmpv6PacketTooBig as Encode,
  },
  icmpv6ParameterProblem: {
    decode: icmpv6.decodeIcmpv6ParameterProblem,
    encode: icmpv6.encodeIcmpv6ParameterProblem as Encode,
  },
  ndRouterSolicitation: {
    decode: icmpv6.decodeNdRouterSolicitation,
    encode: icmpv6.encodeNdRouterSolicitation as Encode,
  },
  ndRouterAdvertisement: {
    decode: icmpv6.decodeNdRouterAdvertisement,
    encode: icmpv6.encodeNdRouterAdvertisement as Encode,
  },
  ndNeighborSolicitation: {
    decode: icmpv6.decodeNdNeighborSolicitation,
    encode: icmpv6.encodeNdNeighborSolicitation as Encode,
  },
  ndNeighborAdvertisement: {
    decode: icmpv6.decodeNdNeighborAdvertisement,
    encode: icmpv6.encodeNdNeighborAdvertisement as Encode,
  },
  ndRedirect: { decode: icmpv6.decodeNdRedirect, encode: icmpv6.encodeNdRedirect as Encode },
  mld: { decode: icmpv6.decodeMld, encode: icmpv6.encodeMld as Encode },
  mldv2Query: { decode: icmpv6.decodeMldv2Query, encode: icmpv6.encodeMldv2Query as Encode },
  mldv2Report: { decode: icmpv6.decodeMldv2Report, encode: icmpv6.encodeMldv2Report as Encode },
};
const VIEW = {
  head: () => new icmpv6.Icmpv6View(),
  icmpv6Echo: () => new icmpv6.Icmpv6EchoView(),
  icmpv6Error: () => new icmpv6.Icmpv6ErrorView(),
  icmpv6PacketTooBig: () => new icmpv6.Icmpv6PacketTooBigView(),
  icmpv6ParameterProblem: () => new icmpv6.Icmpv6ParameterProblemView(),
  ndRouterSolicitation: () => new icmpv6.NdRouterSolicitationView(),
  ndRouterAdvertisement: () => new icmpv6.NdRouterAdvertisementView(),
  ndNeighborSolicitation: () => new icmpv6.NdNeighborSolicitationView(),
  ndNeighborAdvertisement: () => new icmpv6.NdNeighborAdvertisementView(),
  ndRedirect: () => new icmpv6.NdRedirectView(),
  mld: () => new icmpv6.MldView(),
  mldv2Query: () => new icmpv6.Mldv2QueryView(),
  mldv2Report: () => new icmpv6.Mldv2ReportView(),
};
