/**
 * IPv6 support in src/codec: RFC 5952 text (formatIpv6), RFC 4291 parsing (parseIpv6 and the
 * allocation-free writeIpv6), address comparison, and the RFC 8200 §8.1 pseudo-header sum.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatIpv6,
  ipv6Equals,
  parseIpv6,
  putIpv6,
  u64FromHalves,
  writeIpv6,
} from '../../src/codec/address.js';
import { ipv6PseudoHeaderSum, onesComplementSum } from '../../src/codec/checksum.js';
import { encodeIpv6 } from '../../src/generated/ipv6.js';

function words(...w: number[]): Uint8Array {
  const b = new Uint8Array(16);
  w.forEach((x, i) => {
    b[2 * i] = x >>> 8;
    b[2 * i + 1] = x & 0xff;
  });
  return b;
}

describe('formatIpv6 (RFC 5952)', () => {
  it.each([
    // §4.2.1: the longest run of zero groups is shortened.
    [words(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), '2001:db8::1'],
    // §4.2.3: of equal runs, the first one.
    [words(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), '2001:db8::1:0:0:1'],
    // The longer run wins even when it comes second.
    [words(0x2001, 0, 0, 1, 0, 0, 0, 1), '2001:0:0:1::1'],
    // §4.2.2: a single zero group is not shortened.
    [words(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), '2001:db8:0:1:1:1:1:1'],
    // §4.1: no leading zeros; §4.3: lowercase.
    [words(0x2001, 0x0db8, 0x00aa, 0xabcd, 0xef, 0, 0, 0x0c0), '2001:db8:aa:abcd:ef::c0'],
    [words(0, 0, 0, 0, 0, 0, 0, 0), '::'],
    [words(0, 0, 0, 0, 0, 0, 0, 1), '::1'],
    [words(0xfe80, 0, 0, 0, 0, 0, 0, 0), 'fe80::'],
    [words(1, 2, 3, 4, 5, 6, 7, 8), '1:2:3:4:5:6:7:8'],
    // §5: IPv4-mapped addresses end in dotted decimal.
    [words(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201), '::ffff:192.0.2.1'],
    // Not mapped (IPv4-compatible, deprecated): plain hex.
    [words(0, 0, 0, 0, 0, 0, 0xc000, 0x0201), '::c000:201'],
  ])('%#: %s', (bytes, text) => {
    expect(formatIpv6(bytes, 0)).toBe(text);
    expect(parseIpv6(text)).toEqual(bytes);
  });

  it('reads at an offset', () => {
    const b = new Uint8Array(20);
    b.set(words(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2), 3);
    expect(formatIpv6(b, 3)).toBe('2001:db8::2');
  });
});

describe('parseIpv6 / writeIpv6', () => {
  it('accepts every RFC 4291 text form, any case', () => {
    expect(parseIpv6('2001:DB8::A')).toEqual(words(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa));
    expect(parseIpv6('2001:0db8:0000:0000:0000:0000:0000:0001')).toEqual(
      words(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
    );
    expect(parseIpv6('1:2:3:4:5:6:7::')).toEqual(words(1, 2, 3, 4, 5, 6, 7, 0));
    expect(parseIpv6('::2:3:4:5:6:7:8')).toEqual(words(0, 2, 3, 4, 5, 6, 7, 8));
    expect(parseIpv6('::1.2.3.4')).toEqual(words(0, 0, 0, 0, 0, 0, 0x102, 0x304));
    expect(parseIpv6('1:2:3:4:5:6:1.2.3.4')).toEqual(words(1, 2, 3, 4, 5, 6, 0x102, 0x304));
  });

  it.each([
    '',
    ':',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '12345::',
    '1:',
    ':1::',
    'g::',
    '::1.2.3',
    '::1.2.3.256',
    '::1.2.3.4:5',
    '1:2:3:4:5:6:7:1.2.3.4',
    ' ::1',
  ])('refuses %j', (text) => {
    expect(parseIpv6(text)).toBeNull();
  });

  it('writes in place, and refuses an offset without 16 bytes of room', () => {
    const out = new Uint8Array(20).fill(0xee);
    expect(writeIpv6(out, 2, 'fe80::1')).toBe(true);
    expect(out.subarray(2, 18)).toEqual(words(0xfe80, 0, 0, 0, 0, 0, 0, 1));
    expect([out[0], out[1], out[18], out[19]]).toEqual([0xee, 0xee, 0xee, 0xee]);
    expect(writeIpv6(out, 5, '::')).toBe(false);
    expect(writeIpv6(out, -1, '::')).toBe(false);
  });

  it('format then parse is the identity on any 16 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const text = formatIpv6(b, 0);
        expect(parseIpv6(text)).toEqual(b);
        expect(text).toBe(text.toLowerCase());
        expect(text).not.toMatch(/(^|:)0[0-9a-f]/);
      }),
      { seed: 4291, numRuns: 500 },
    );
  });
});

describe('putIpv6: an encoder takes text or 16 bytes', () => {
  it('writes 16 bytes as given and refuses other lengths or no room', () => {
    const out = new Uint8Array(20);
    const addr = words(0xfd00, 0, 0, 0, 0, 0, 0, 2);
    expect(putIpv6(out, 2, addr)).toBe(true);
    expect(out.subarray(2, 18)).toEqual(addr);
    expect(putIpv6(out, 0, new Uint8Array(15))).toBe(false);
    expect(putIpv6(out, 5, addr)).toBe(false);
    expect(putIpv6(out, 0, 'fd00::3')).toBe(true);
    expect(formatIpv6(out, 0)).toBe('fd00::3');
  });

  it('encodes the same header from text and from bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (src, dst) => {
          const head = { version: 6, trafficClass: 0, flowLabel: 0, nextHeader: 58, hopLimit: 255 };
          const a = new Uint8Array(40);
          const b = new Uint8Array(40);
          expect(encodeIpv6({ ...head, src, dst }, a, 0, 0)).toBe(40);
          expect(
            encodeIpv6({ ...head, src: formatIpv6(src, 0), dst: formatIpv6(dst, 0) }, b, 0, 0),
          ).toBe(40);
          expect(a).toEqual(b);
        },
      ),
    );
  });
});

describe('ipv6Equals, u64FromHalves', () => {
  it('compares 16 bytes at two offsets, false when either is out of bounds', () => {
    const a = new Uint8Array(20);
    const b = new Uint8Array(18);
    a.set(words(1, 2, 3, 4, 5, 6, 7, 8), 4);
    b.set(words(1, 2, 3, 4, 5, 6, 7, 8), 2);
    expect(ipv6Equals(a, 4, b, 2)).toBe(true);
    b[17] ^= 1;
    expect(ipv6Equals(a, 4, b, 2)).toBe(false);
    expect(ipv6Equals(a, 5, b, 2)).toBe(false);
    expect(ipv6Equals(a, 4, b, 3)).toBe(false);
  });

  it('builds a bigint from uint32 or int32 halves', () => {
    expect(u64FromHalves(0xffffffff, 0xffffffff)).toBe(2n ** 64n - 1n);
    expect(u64FromHalves(-1, 1)).toBe(0xffffffff00000001n);
  });
});

describe('ipv6PseudoHeaderSum (RFC 8200 §8.1)', () => {
  it('equals the one-complement sum of the pseudo-header laid out in bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 40, maxLength: 40 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 255 }),
        (addrs, length, nh) => {
          const pseudo = new Uint8Array(40 + 8);
          pseudo.set(addrs.subarray(0, 32), 0);
          new DataView(pseudo.buffer).setUint32(32, length);
          pseudo[39] = nh;
          const expected = onesComplementSum(pseudo, 0, 40);
          expect(ipv6PseudoHeaderSum(addrs, 0, addrs, 16, nh, length)).toBe(expected);
        },
      ),
      { seed: 8200, numRuns: 300 },
    );
  });

  it('takes source and destination from different buffers (home address, routing header)', () => {
    const src = new Uint8Array(20);
    const dst = new Uint8Array(16);
    src.set(words(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 4);
    dst.set(words(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2), 0);
    // 0x2001 + 0xdb8 + 1 + 0x2001 + 0xdb8 + 2 + 17 + 8
    const sum = 0x2001 * 2 + 0xdb8 * 2 + 3 + 17 + 8;
    expect(ipv6PseudoHeaderSum(src, 4, dst, 0, 17, 8)).toBe(sum);
  });
});
