/**
 * RFC 6724 destination address selection as a pure function: each rule on its own (given the
 * source address we would use for each destination), the default policy table, the site rows
 * of RFC 6724 §10.6, and properties over random inputs.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseIpv4, parseIpv6 } from '../../../src/codec/address.js';
import {
  DEFAULT_POLICY,
  ipv4Mapped,
  policyOf,
  selectionScope,
  sortDestinations,
  withSitePolicy,
  type AddressSelection,
  type DestinationSource,
} from '../../../src/runtime/dns/order.js';

/** An address as the rules read it: IPv4 mapped, IPv6 as is. */
function bytes(text: string): Uint8Array {
  const v4 = parseIpv4(text);
  if (v4 >= 0) return ipv4Mapped(v4);
  const v6 = parseIpv6(text);
  if (v6 === null) throw new Error(text);
  return v6;
}

/** Source text "fd00::2/64" (deprecated with a trailing "!"), or null for none. */
type SourceSpec = string | null;

function source(spec: SourceSpec): DestinationSource | null {
  if (spec === null) return null;
  const deprecated = spec.endsWith('!');
  const [addr, len] = spec.replace('!', '').split('/');
  const v4 = parseIpv4(addr) >= 0;
  return {
    address: bytes(addr),
    prefixLength: (v4 ? 96 : 0) + Number(len),
    deprecated,
  };
}

/** A selection that knows the source of each destination in `sources` (text → spec). */
function selection(sources: Record<string, SourceSpec>, policy = DEFAULT_POLICY): AddressSelection {
  const table = new Map(Object.entries(sources).map(([d, s]) => [bytes(d).join(','), source(s)]));
  return {
    sourceFor: (dst) => table.get(dst.join(',')) ?? null,
    policy: () => policy,
    configured: () => ({ ipv4: true, ipv6: true }),
  };
}

function order(sources: Record<string, SourceSpec>, policy = DEFAULT_POLICY): string[] {
  return sortDestinations(Object.keys(sources), bytes, selection(sources, policy));
}

describe('RFC 6724 destination ordering, rule by rule', () => {
  it('rule 1: a destination we have no source for goes last', () => {
    expect(order({ 'fd00::1': null, '10.0.0.7': '10.0.0.2/24' })).toEqual(['10.0.0.7', 'fd00::1']);
    expect(order({ '10.0.0.7': null, '2001:db8::1': '2001:db8::2/64' })).toEqual([
      '2001:db8::1',
      '10.0.0.7',
    ]);
  });

  it('rule 2: without a global IPv6 address (only link-local), IPv4 comes first', () => {
    expect(order({ '2001:db8::1': 'fe80::2/64', '192.0.2.7': '10.0.0.2/24' })).toEqual([
      '192.0.2.7',
      '2001:db8::1',
    ]);
  });

  it('rule 6: with a global IPv6 address, IPv6 (::/0, 40) before IPv4 (::ffff:0:0/96, 35)', () => {
    expect(order({ '192.0.2.7': '10.0.0.2/24', '2001:db8::1': '2001:db8::2/64' })).toEqual([
      '2001:db8::1',
      '192.0.2.7',
    ]);
  });

  it('rule 6: a unique local destination (precedence 3) after IPv4, unless of our site (§10.6)', () => {
    const sources = { 'fd00::1': 'fd00::2/64', '10.0.0.7': '10.0.0.2/24' };
    expect(order(sources)).toEqual(['10.0.0.7', 'fd00::1']);
    const site = withSitePolicy(DEFAULT_POLICY, [bytes('fd00::2')]);
    expect(order(sources, site)).toEqual(['fd00::1', '10.0.0.7']);
    // Another site's ULA keeps precedence 3, and its label no longer matches our source's.
    expect(order({ 'fd11::1': 'fd00::2/64', '10.0.0.7': '10.0.0.2/24' }, site)).toEqual([
      '10.0.0.7',
      'fd11::1',
    ]);
  });

  it('rule 3: a destination whose source is deprecated goes after one whose source is not', () => {
    expect(
      order({ '2001:db8:1::1': '2001:db8:1::2/64!', '2001:db8:2::1': '2001:db8:2::2/64' }),
    ).toEqual(['2001:db8:2::1', '2001:db8:1::1']);
  });

  it('rule 5 before rule 6: a label match (IPv4 from IPv4) beats higher precedence', () => {
    // 2001:db8::1 (label 1) would be sent from a ULA (label 13): no match.
    expect(order({ '2001:db8::1': 'fd00::2/64', '10.0.0.7': '10.0.0.2/24' })).toEqual([
      '10.0.0.7',
      '2001:db8::1',
    ]);
  });

  it('rule 8: the smaller scope first when all else ties', () => {
    expect(order({ '2001:db8::1': '2001:db8::2/64', 'fe80::1': 'fe80::2/64' })).toEqual([
      'fe80::1',
      '2001:db8::1',
    ]);
  });

  it("rule 9: the longest prefix shared with its source, up to the source's prefix length", () => {
    expect(
      order({ '2001:db8:1::1': '2001:db8:2::5/64', '2001:db8:2::1': '2001:db8:2::5/64' }),
    ).toEqual(['2001:db8:2::1', '2001:db8:1::1']);
    // Both inside the source's /64: beyond it nothing counts, so the input order stays.
    expect(
      order({ '2001:db8:2::9': '2001:db8:2::8/64', '2001:db8:2::7': '2001:db8:2::8/64' }),
    ).toEqual(['2001:db8:2::9', '2001:db8:2::7']);
    // IPv4: our own subnet first; other subnets keep their (round-robin) order.
    expect(
      order({
        '192.0.2.9': '10.0.0.2/24',
        '198.51.100.1': '10.0.0.2/24',
        '10.0.0.7': '10.0.0.2/24',
      }),
    ).toEqual(['10.0.0.7', '192.0.2.9', '198.51.100.1']);
  });

  it('rule 9 compares within one family only', () => {
    // A table where IPv6 and IPv4 tie on precedence: only rule 9 could tell them apart, and
    // across families it does not apply, so the input order stays.
    const flat = [
      { prefix: bytes('::'), prefixLength: 0, precedence: 35, label: 1 },
      { prefix: bytes('::ffff:0.0.0.0'), prefixLength: 96, precedence: 35, label: 4 },
    ];
    const s = { '2001:db8::1': '2001:db8:ffff::2/64', '10.0.0.7': '10.0.0.2/24' };
    expect(order(s, flat)).toEqual(['2001:db8::1', '10.0.0.7']);
    // Within one family it does: the destination sharing more of its source's prefix first.
    expect(
      order(
        { '2001:db8::1': '2001:db8:ffff::2/64', '2001:db8:ffff::9': '2001:db8:ffff::2/64' },
        flat,
      ),
    ).toEqual(['2001:db8:ffff::9', '2001:db8::1']);
  });
});

describe('RFC 6724 tables and scopes', () => {
  it('default policy rows by longest prefix', () => {
    const p = (t: string) => policyOf(bytes(t), DEFAULT_POLICY);
    expect([p('::1').precedence, p('::1').label]).toEqual([50, 0]);
    expect([p('2001:db8::1').precedence, p('2001:db8::1').label]).toEqual([40, 1]);
    expect([p('10.0.0.1').precedence, p('10.0.0.1').label]).toEqual([35, 4]);
    expect([p('2002:c000:201::1').precedence, p('2002:c000:201::1').label]).toEqual([30, 2]);
    expect([p('2001:0:1::1').precedence, p('2001:0:1::1').label]).toEqual([5, 5]);
    expect([p('fd00::1').precedence, p('fd00::1').label]).toEqual([3, 13]);
    expect([p('::1.2.3.4').precedence, p('::1.2.3.4').label]).toEqual([1, 3]);
    expect([p('fec0::1').precedence, p('fec0::1').label]).toEqual([1, 11]);
    expect([p('3ffe::1').precedence, p('3ffe::1').label]).toEqual([1, 12]);
  });

  it('site rows: one per /48 of our ULAs, none for other addresses', () => {
    const site = withSitePolicy(DEFAULT_POLICY, [
      bytes('fd00::2'),
      bytes('fd00:0:0:1::2'),
      bytes('fd12:3456:789a::1'),
      bytes('2001:db8::2'),
      bytes('fe80::2'),
    ]);
    expect(site.length).toBe(DEFAULT_POLICY.length + 2);
    expect(policyOf(bytes('fd00:0:0:5::1'), site)).toMatchObject({ precedence: 45, label: 14 });
    expect(policyOf(bytes('fd12:3456:789a:1::1'), site)).toMatchObject({ precedence: 45 });
    expect(policyOf(bytes('fd12:3456:789b::1'), site)).toMatchObject({ precedence: 3 });
    expect(withSitePolicy(DEFAULT_POLICY, [bytes('2001:db8::2')])).toBe(DEFAULT_POLICY);
  });

  it('scopes: IPv4 loopback and 169.254/16 are link-local, other IPv4 global (§3.1)', () => {
    expect(selectionScope(bytes('127.0.0.1'))).toBe(2);
    expect(selectionScope(bytes('169.254.3.4'))).toBe(2);
    expect(selectionScope(bytes('10.0.0.1'))).toBe(14);
    expect(selectionScope(bytes('fe80::1'))).toBe(2);
    expect(selectionScope(bytes('fd00::1'))).toBe(14);
    expect(selectionScope(bytes('ff05::1'))).toBe(5);
  });
});

describe('RFC 6724 ordering properties', () => {
  const addressArb = fc.oneof(
    fc.constantFrom('10.0.0.7', '192.0.2.1', '169.254.1.1', '198.51.100.4'),
    fc.constantFrom('fd00::1', 'fd11::1', '2001:db8::1', '2001:db8:1::1', 'fe80::1', '2002::1'),
  );
  const sourceArb = fc.constantFrom<SourceSpec>(
    null,
    '10.0.0.2/24',
    'fd00::2/64',
    'fd00::2/64!',
    '2001:db8::2/64',
    'fe80::2/64',
  );

  it('gives a permutation, is stable on ties, and sorting again changes nothing', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(addressArb, sourceArb), { selector: (t) => t[0], maxLength: 8 }),
        fc.boolean(),
        (pairs, site) => {
          const sources = Object.fromEntries(pairs);
          const policy = site ? withSitePolicy(DEFAULT_POLICY, [bytes('fd00::2')]) : DEFAULT_POLICY;
          const once = order(sources, policy);
          expect([...once].sort()).toEqual(Object.keys(sources).sort());
          const again = sortDestinations(once, bytes, selection(sources, policy));
          expect(again).toEqual(once);
          // Those with no source are exactly the tail.
          const none = once.filter((d) => sources[d] === null);
          expect(once.slice(once.length - none.length)).toEqual(none);
        },
      ),
      { numRuns: 300, seed: 6724 },
    );
  });
});
