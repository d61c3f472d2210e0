/**
 * DHCPv6 (specs/dhcpv6.pkt) on tcpdump's DHCPv6 captures: each message read with its layout's
 * view (Dhcpv6MessageLayouts, from the spec's select) and compared with tshark's oracle line;
 * options (a list with a 16-bit code and a 16-bit length counting the data) and the options
 * nested in identity
 * associations and addresses decode, round-trip byte for byte and re-encode from typed items;
 * a nested option that cannot be delimited is E_BAD_OPTION at it; nesting deeper than the
 * bound is refused; truncated and bit-flipped messages never throw or read outside the bytes.
 *
 * The UDP payload is located here by hand (a test fixture walk): IPv6's 40 bytes, then UDP's 8.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dhcpv6 } from '../../src/generated/index.js';
import { compareFrame, type OracleFrame } from '../golden/compare.js';
import { hostileProperty, type AnyView } from '../codegen/hostile.js';
import { FIXTURE_DIR, readPcapFrames } from './helpers.js';

const NEXT = join(FIXTURE_DIR, '..', 'next');
const CAPTURES = [
  'tcpdump-dhcpv6-domain-list.pcap',
  'tcpdump-dhcpv6-ia-na.pcap',
  'tcpdump-dhcpv6-mud.pcap',
];
/** Ethernet, IPv6 and UDP headers before the DHCPv6 message in these captures. */
const MESSAGE_OFFSET = 14 + 40 + 8;

interface Message {
  where: string;
  bytes: Uint8Array;
  oracle: OracleFrame;
}

function messages(): Message[] {
  const out: Message[] = [];
  for (const file of CAPTURES) {
    const frames = readPcapFrames(join(NEXT, 'pcap', file));
    const oracle = readFileSync(join(NEXT, 'oracle', file.replace(/\.pcap$/, '.jsonl')), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as OracleFrame);
    frames.forEach((frame, i) => {
      const udpLength = (frame[54 + 4] << 8) | frame[54 + 5];
      out.push({
        where: `${file}#${i + 1}`,
        bytes: frame.slice(MESSAGE_OFFSET, 54 + udpLength),
        oracle: oracle[i],
      });
    });
  }
  return out;
}

const ALL = messages();

describe('DHCPv6 on the captures, against tshark', () => {
  it('decodes every message as tshark does', () => {
    expect(ALL.length).toBe(10);
    const d = new dhcpv6.Dhcpv6MessageLayouts();
    const problems: string[] = [];
    for (const m of ALL) {
      expect(d.wrap(m.bytes, 0, m.bytes.length), m.where).toBeNull();
      const ours = {
        frame: m.oracle.n,
        layers: { dhcpv6: { ...d.view.toJSON() } as Record<string, unknown> },
        error: null,
      };
      problems.push(
        ...compareFrame(m.where, ours, { n: m.oracle.n, dhcpv6: m.oracle.dhcpv6 } as OracleFrame),
      );
    }
    expect(problems).toEqual([]);
  });

  it('reads the options nested in an IA_NA', () => {
    const m = ALL.find((x) => x.where === 'tcpdump-dhcpv6-ia-na.pcap#2') as Message;
    const v = new dhcpv6.Dhcpv6View();
    expect(v.wrap(m.bytes)).toBeNull();
    const c = v.options();
    expect(c.next()).toBe(true);
    expect(c.kind).toBe(dhcpv6.Dhcpv6OptionCode.IaNa);
    const ia = c.iaNa;
    expect([ia.iaid, ia.t1, ia.t2]).toEqual([0x02030405, 3600, 5400]);
    const inner = ia.options();
    expect(inner.next()).toBe(true);
    expect(inner.kind).toBe(dhcpv6.Dhcpv6OptionCode.IaAddr);
    expect(inner.iaAddr.validLifetime).toBe(7200);
    expect(inner.next()).toBe(false);
    expect(inner.error).toBeNull();
    // The outer walk goes on where it was.
    expect(c.next()).toBe(true);
    expect(c.kind).toBe(dhcpv6.Dhcpv6OptionCode.ClientId);
    const json = v.toJSON().options[0] as { options: Array<{ address: string }> };
    expect(json.options[0].address).toBe('2a00:1:1:200:38e6:b22e:c440:acdf');
  });

  it('round-trips every option list byte for byte, nested ones included', () => {
    const d = new dhcpv6.Dhcpv6MessageLayouts();
    for (const m of ALL) {
      expect(d.wrap(m.bytes, 0, m.bytes.length)).toBeNull();
      const v = d.layout === 'dhcpv6Relay' ? d.dhcpv6Relay : d.dhcpv6;
      const items = dhcpv6.decodeDhcpv6Options(m.bytes, v.optionsOffset, v.optionsLength);
      expect(items.some((x) => x.kind === 'raw' && m.oracle.dhcpv6 === undefined)).toBe(false);
      const out = new Uint8Array(v.optionsLength);
      expect(dhcpv6.encodeDhcpv6Options(items, out, 0), m.where).toBe(v.optionsLength);
      expect(out, m.where).toEqual(m.bytes.subarray(v.optionsOffset));
    }
  });
});

describe('DHCPv6 options (a list with lists nested in its elements)', () => {
  const ia: dhcpv6.Dhcpv6OptionsItem = {
    kind: 'IaNa',
    iaid: 7,
    t1: 100,
    t2: 200,
    options: [
      {
        kind: 'IaAddr',
        address: '2001:db8::7',
        preferredLifetime: 300,
        validLifetime: 600,
        options: [{ kind: 'StatusCode', status: 0, message: new TextEncoder().encode('ok') }],
      },
    ],
  };

  it('encodes typed items, nested lengths derived', () => {
    const items: dhcpv6.Dhcpv6OptionsItem[] = [
      { kind: 'ElapsedTime', time: 5 },
      ia,
      { kind: 'DnsServers', servers: ['2001:db8::53'] },
      { kind: 'OptionRequest', codes: [23, 24] },
    ];
    const out = new Uint8Array(200);
    const n = dhcpv6.encodeDhcpv6Options(items, out, 0);
    // 6 + (4 + 12 + (4 + 24 + (4 + 2 + 2))) + 20 + 8
    expect(n).toBe(6 + 52 + 20 + 8);
    expect([out[8], out[9]]).toEqual([0, 48]);
    expect(dhcpv6.validateDhcpv6Options(out, 0, n)).toBe(-1);
    expect(dhcpv6.decodeDhcpv6Options(out, 0, n)).toEqual(items);
    const msg = new Uint8Array(4 + n);
    expect(
      dhcpv6.encodeDhcpv6(
        {
          msgType: dhcpv6.Dhcpv6MessageType.Solicit,
          transactionId: 0xabcdef,
          options: out.subarray(0, n),
        },
        msg,
        0,
      ),
    ).toBe(4 + n);
    const v = new dhcpv6.Dhcpv6View();
    expect(v.wrap(msg)).toBeNull();
    expect(v.transactionId).toBe(0xabcdef);
  });

  it('refuses a nested option that cannot be delimited, at its offset', () => {
    const out = new Uint8Array(100);
    const n = dhcpv6.encodeDhcpv6Options([ia], out, 0);
    // The IAADDR's status code option says 40 bytes of data.
    const status = 4 + 12 + 4 + 24;
    out[status + 3] = 40;
    expect(dhcpv6.validateDhcpv6Options(out, 0, n)).toBe(status);
    const msg = new Uint8Array(4 + n);
    msg[0] = dhcpv6.Dhcpv6MessageType.Request;
    msg.set(out.subarray(0, n), 4);
    const v = new dhcpv6.Dhcpv6View();
    expect(v.wrap(msg)).toMatchObject({
      code: 'E_BAD_OPTION',
      field: 'options',
      offset: 4 + status,
    });
  });

  it('bounds the nesting depth', () => {
    let item: dhcpv6.Dhcpv6OptionsItem = { kind: 'RapidCommit' };
    for (let i = 0; i < 12; i++) item = { kind: 'IaTa', iaid: i, options: [item] };
    const out = new Uint8Array(200);
    const n = dhcpv6.encodeDhcpv6Options([item], out, 0);
    expect(dhcpv6.validateDhcpv6Options(out, 0, n)).toBeGreaterThanOrEqual(0);
    let ok: dhcpv6.Dhcpv6OptionsItem = { kind: 'RapidCommit' };
    for (let i = 0; i < 8; i++) ok = { kind: 'IaTa', iaid: i, options: [ok] };
    const m = dhcpv6.encodeDhcpv6Options([ok], out, 0);
    expect(dhcpv6.validateDhcpv6Options(out, 0, m)).toBe(-1);
  });

  it('never throws or reads outside the bytes, truncated and bit-flipped', () => {
    const d = new dhcpv6.Dhcpv6MessageLayouts();
    const out = new Uint8Array(100);
    const nested = out.slice(0, dhcpv6.encodeDhcpv6Options([ia], out, 0));
    const solicit = new Uint8Array(4 + nested.length);
    solicit[0] = 1;
    solicit.set(nested, 4);
    const plain = [
      solicit,
      ...ALL.filter(
        (m) => d.wrap(m.bytes, 0, m.bytes.length) === null && d.layout === 'dhcpv6',
      ).map((m) => m.bytes),
    ];
    const relays = ALL.filter(
      (m) => d.wrap(m.bytes, 0, m.bytes.length) === null && d.layout === 'dhcpv6Relay',
    ).map((m) => m.bytes);
    // Walks every option at every level through the JSON (the nested cursors included).
    hostileProperty(() => new dhcpv6.Dhcpv6View() as unknown as AnyView, plain, 7101);
    hostileProperty(() => new dhcpv6.Dhcpv6RelayView() as unknown as AnyView, relays, 7102);
    for (const s of [...plain, ...relays])
      for (let cut = 0; cut <= s.length; cut++) {
        dhcpv6.decodeDhcpv6Options(s, 4, Math.max(0, cut - 4));
        dhcpv6.decodeDhcpv6(s, 0, cut);
        dhcpv6.decodeDhcpv6Relay(s, 0, cut);
      }
  });
});

describe('DHCPv6 DUIDs, domain lists and the timer options', () => {
  it('encodes DUID-LL and DUID-LLT bodies as RFC 8415 §11.2/§11.4 lay them out', () => {
    const out = new Uint8Array(16);
    const n = dhcpv6.encodeDhcpv6DuidLl(
      { hardwareType: 1, linkLayerAddress: 0x02000000aa01 },
      out,
      0,
    );
    expect([...out.subarray(0, n)]).toEqual([0, 1, 2, 0, 0, 0, 0xaa, 1]);
    const m = dhcpv6.encodeDhcpv6DuidLlt(
      { hardwareType: 1, time: 0x01020304, linkLayerAddress: 0x02000000aa01 },
      out,
      0,
    );
    expect([...out.subarray(0, m)]).toEqual([0, 1, 1, 2, 3, 4, 2, 0, 0, 0, 0xaa, 1]);
    const v = new dhcpv6.Dhcpv6DuidLltView();
    expect(v.wrap(out, 0, m)).toBeNull();
    expect(v.time).toBe(0x01020304);
    expect(v.linkLayerAddress).toBe(0x02000000aa01);
  });

  it('reads a domain list of uncompressed names, and refuses one cut inside a name', () => {
    const out = new Uint8Array(64);
    const n = dhcpv6.encodeDhcpv6DomainList(
      { domains: [{ name: 'example.com' }, { name: 'lab.test' }] },
      out,
      0,
    );
    expect(n).toBe(13 + 10);
    const v = new dhcpv6.Dhcpv6DomainListView();
    expect(v.wrap(out, 0, n)).toBeNull();
    const names: string[] = [];
    const c = v.domains();
    while (c.next()) names.push(c.item.nameText());
    expect(names).toEqual(['example.com', 'lab.test']);
    expect(v.wrap(out, 0, n - 1)?.code).toBe('E_TRUNCATED');
  });

  it('types the Information Refresh Time, SOL_MAX_RT and INF_MAX_RT options', () => {
    const out = new Uint8Array(64);
    const n = dhcpv6.encodeDhcpv6Options(
      [
        { kind: 'InformationRefreshTime', seconds: 600 },
        { kind: 'SolMaxRt', seconds: 120 },
        { kind: 'InfMaxRt', seconds: 7200 },
      ],
      out,
      0,
    );
    expect(n).toBe(24);
    expect(dhcpv6.decodeDhcpv6Options(out, 0, n)).toEqual([
      { kind: 'InformationRefreshTime', seconds: 600 },
      { kind: 'SolMaxRt', seconds: 120 },
      { kind: 'InfMaxRt', seconds: 7200 },
    ]);
    // A refresh time is four bytes: three is a bad option.
    out[3] = 3;
    expect(dhcpv6.validateDhcpv6Options(out, 0, 7)).toBe(0);
  });
});
