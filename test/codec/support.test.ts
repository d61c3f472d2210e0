/** The hand-written support the generated codecs import: checksums, addresses, option lists. */
import { describe, expect, it } from 'vitest';
import {
  copySummed,
  internetChecksum,
  internetChecksumFrom,
  onesComplementSum,
  pseudoHeaderSum,
} from '../../src/codec/checksum.js';
import {
  formatHwAddr,
  formatIpv4,
  formatIpv6,
  formatMac,
  parseIpv4,
  parseMac,
  readIpv4,
  readMac,
  writeIpv4,
  writeMac,
} from '../../src/codec/address.js';
import { dhcp, tcp } from '../../src/generated/index.js';

describe('Internet checksum', () => {
  it('matches the RFC 1071 example', () => {
    const bytes = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(onesComplementSum(bytes, 0, 8)).toBe(0xddf2);
    expect(internetChecksum(bytes, 0, 8)).toBe(0x220d);
  });

  it('pads an odd byte and verifies to 0 over a region holding its checksum', () => {
    const bytes = Uint8Array.from([0x45, 0x00, 0x00, 0x1c, 0x12, 0x00, 0x00, 0xab]);
    const sum = internetChecksum(bytes, 0, 7);
    expect(sum).toBe(~(0x4500 + 0x001c + 0x1200 + 0x0000 + 0x0000) & 0xffff);
    const withSum = Uint8Array.from([...bytes.subarray(0, 6), sum >> 8, sum & 0xff]);
    expect(internetChecksum(withSum, 0, 8)).toBe(0);
  });

  it('folds sums of large buffers correctly', () => {
    const big = new Uint8Array(65534).fill(0xff);
    expect(onesComplementSum(big, 0, big.length)).toBe(0xffff);
    const slow = (b: Uint8Array): number => {
      let s = 0;
      for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (b[i + 1] ?? 0);
      while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
      return s;
    };
    const mixed = Uint8Array.from({ length: 40001 }, (_, i) => (i * 7919) & 0xff);
    expect(onesComplementSum(mixed, 0, mixed.length)).toBe(slow(mixed));
  });

  it('sums a region while copying it, and the rest after it, at even and odd distances', () => {
    // A message of head, copied region and rest: the encoders' split sum must equal the
    // checksum of the whole written message, whatever the lengths' parities.
    for (const [headLength, regionLength, restLength] of [
      [20, 20, 0],
      [8, 12, 33],
      [7, 5, 9],
      [6, 3, 4],
      [3, 0, 1],
      [4, 70, 5],
      [5, 71, 6],
    ]) {
      const message = Uint8Array.from(
        { length: headLength + regionLength + restLength },
        (_, i) => (i * 151 + 7) & 0xff,
      );
      const out = new Uint8Array(message.length + 2);
      out.set(message.subarray(0, headLength), 1);
      out.set(message.subarray(headLength + regionLength), 1 + headLength + regionLength);
      const head = onesComplementSum(message, 0, headLength & ~1);
      const odd = (headLength & 1) !== 0 ? message[headLength - 1] << 8 : 0;
      const region = message.subarray(headLength, headLength + regionLength);
      let initial = head + odd + copySummed(region, out, 1 + headLength, headLength);
      initial = (initial & 0xffff) + (initial >>> 16);
      expect(out.subarray(1, 1 + message.length)).toEqual(message);
      const rest = headLength + regionLength;
      expect(internetChecksumFrom(out, 1 + rest, restLength, initial, rest)).toBe(
        internetChecksum(message, 0, message.length),
      );
    }
  });

  it('sums the IPv4 pseudo-header', () => {
    expect(pseudoHeaderSum(0x0a000001, 0x0a000002, 6, 40)).toBe(0x0a00 + 1 + 0x0a00 + 2 + 6 + 40);
  });
});

describe('addresses', () => {
  it('round-trips IPv4 and MAC numbers through bytes and text', () => {
    const b = new Uint8Array(6);
    writeIpv4(b, 1, 0xc0a80101);
    expect(readIpv4(b, 1)).toBe(0xc0a80101);
    expect(formatIpv4(0xc0a80101)).toBe('192.168.1.1');
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('256.1.1.1')).toBe(-1);
    expect(parseIpv4('1.2.3')).toBe(-1);
    writeMac(b, 0, 0xffffffffffff);
    expect(readMac(b, 0)).toBe(0xffffffffffff);
    writeMac(b, 0, 0x020000000001);
    expect(formatMac(readMac(b, 0))).toBe('02:00:00:00:00:01');
    expect(parseMac('AA-bb-cc-dd-ee-ff')).toBe(0xaabbccddeeff);
    expect(parseMac('aa:bb')).toBe(-1);
  });

  it('formats hardware addresses of any length and IPv6', () => {
    const b = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(formatHwAddr(b, 0, 6, 16)).toBe('01:02:03:04:05:06');
    expect(formatHwAddr(b, 0, 3, 16)).toBe('01:02:03');
    expect(formatHwAddr(b, 0, 200, 8)).toBe('01:02:03:04:05:06:07:08');
    const v6 = new Uint8Array(16);
    v6[0] = 0x20;
    v6[1] = 0x01;
    v6[2] = 0x0d;
    v6[3] = 0xb8;
    v6[15] = 1;
    expect(formatIpv6(v6, 0)).toBe('2001:db8::1');
    expect(formatIpv6(new Uint8Array(16), 0)).toBe('::');
  });
});

describe('TCP options (generated from the TcpOptions list)', () => {
  it('encodes every kind, pads with EOL, and refuses what does not fit', () => {
    const out = new Uint8Array(64);
    const n = tcp.encodeTcpOptions(
      [
        { kind: 'MSS', value: 1460 },
        { kind: 'SackPermitted' },
        { kind: 'Timestamps', tsval: 0xdeadbeef, tsecr: 1 },
        { kind: 'NOP' },
        { kind: 'WindowScale', shift: 7 },
      ],
      out,
      0,
    );
    expect([...out.subarray(0, n)]).toEqual([
      2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 1, 3, 3, 7,
    ]);
    expect(tcp.encodeTcpOptions([{ kind: 'raw', bytes: Uint8Array.of(30, 3, 9) }], out, 0)).toBe(4);
    expect([...out.subarray(0, 4)]).toEqual([30, 3, 9, 0]);
    const blocks = Array.from({ length: 32 }, (_, i) => ({ left: i, right: i + 1 }));
    // 2 + 8 * 32 bytes do not fit the 8-bit length.
    expect(tcp.encodeTcpOptions([{ kind: 'Sack', blocks }], new Uint8Array(300), 0)).toBe(-1);
    expect(tcp.encodeTcpOptions([{ kind: 'Sack', blocks }], out, 0)).toBe(-1);
  });

  it('reads malformed lists safely and reports them', () => {
    const s = new tcp.TcpOptionsSummary();
    const bytes = Uint8Array.from([1, 2, 4, 0, 0xb4, 1, 0, 0]);
    expect(tcp.validateTcpOptions(bytes, 0, 8, s)).toBe(-1);
    expect(s.mss).toBe(0xb4);
    expect(tcp.validateTcpOptions(Uint8Array.from([1, 2, 1]), 0, 3, s)).toBe(1);
    expect(tcp.validateTcpOptions(Uint8Array.from([3, 9, 0, 0]), 0, 4, s)).toBe(0);
    const c = new tcp.TcpOptionsCursor('tcp', 'options').reset(
      Uint8Array.from([8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 3, 1]),
      0,
      12,
    );
    expect(c.next() && [c.kind, c.timestamps.tsval, c.timestamps.tsecr]).toEqual([8, 1, 2]);
    expect(c.next()).toBe(false);
    expect(c.error).toEqual({ code: 'E_BAD_OPTION', layer: 'tcp', field: 'options', offset: 10 });
    // A typed view of an element of another kind reads zeros, never the neighbours.
    c.reset(Uint8Array.from([3, 3, 7]), 0, 3);
    expect(c.next() && [c.windowScale.shift, c.mss.value, c.timestamps.tsval]).toEqual([7, 0, 0]);
  });

  it('decodes to items that encode to the same bytes, padding and unknown kinds included', () => {
    const b = Uint8Array.from([2, 4, 5, 0xb4, 30, 3, 9, 1, 0, 0, 7, 0]);
    const items = tcp.decodeTcpOptions(b, 0, b.length);
    expect(items).toEqual([
      { kind: 'MSS', value: 1460 },
      { kind: 'raw', bytes: Uint8Array.of(30, 3, 9) },
      { kind: 'NOP' },
      { kind: 'EOL' },
      { kind: 'raw', bytes: Uint8Array.of(0, 7, 0) },
    ]);
    const out = new Uint8Array(12);
    expect(tcp.encodeTcpOptions(items, out, 0)).toBe(12);
    expect(out).toEqual(b);
  });
});

describe('DHCP options', () => {
  /** A minimal DHCP message: fixed part, magic, then `options`; `file` holds `fileOptions`. */
  function message(options: number[], fileOptions: number[] = []): Uint8Array {
    const b = new Uint8Array(240 + options.length);
    b[0] = 1;
    b[1] = 1;
    b[2] = 6;
    b.set(fileOptions, 108);
    b.set([0x63, 0x82, 0x53, 0x63], 236);
    b.set(options, 240);
    return b;
  }

  it('follows overload into file and then sname, and records the summaries', () => {
    const bytes = message([53, 1, 3, 52, 1, 3, 255], [12, 2, 0x68, 0x69, 255]);
    bytes.set([51, 4, 0, 0, 14, 16, 255], 44);
    const v = new dhcp.DhcpView();
    expect(v.wrap(bytes)).toBeNull();
    expect(v.messageType).toBe(3);
    expect(v.overload).toBe(3);
    expect(v.leaseTime).toBe(3600);
    expect(v.serverId).toBe(-1);
    const codes = v.toJSON().options.map((o) => o.code);
    expect(codes).toEqual([53, 52, 255, 12, 255, 51, 255]);
    const cursor = v.options();
    const offsets: number[] = [];
    while (cursor.next()) {
      offsets.push(cursor.offset);
      if (cursor.kind === dhcp.DhcpOption.HostName) {
        expect(cursor.hostName.nameOffset).toBe(108 + 2);
        expect(cursor.hostName.nameLength).toBe(2);
      }
    }
    expect(offsets).toEqual([240, 243, 246, 108, 112, 44, 50]);
  });

  it("opens file and sname only for the options field's overload", () => {
    // Overload in file does not open sname (RFC 2131 §4.1), and without one file is not walked.
    const v = new dhcp.DhcpView();
    expect(v.wrap(message([53, 1, 1, 255], [52, 1, 2, 255]))).toBeNull();
    expect(v.toJSON().options.map((o) => o.code)).toEqual([53, 255]);
  });

  it('rejects an option running past its area, in options and in file', () => {
    const v = new dhcp.DhcpView();
    expect(v.wrap(message([53, 5, 1]))?.code).toBe('E_BAD_OPTION');
    expect(v.wrap(message([52, 1, 1, 255], [12, 200, 1]))).toMatchObject({
      code: 'E_BAD_OPTION',
      field: 'file',
      offset: 108,
    });
    const s = new dhcp.DhcpOptionsSummary();
    expect(dhcp.validateDhcpOptions(Uint8Array.from([0, 0, 255, 99]), 0, 4, s)).toBe(-1);
  });

  it('rejects a declared option whose length disagrees with its type, at its offset', () => {
    const v = new dhcp.DhcpView();
    expect(v.wrap(message([53, 1, 1, 1, 3, 255, 255, 255, 255]))).toMatchObject({
      code: 'E_BAD_OPTION',
      field: 'options',
      offset: 243,
    });
    // Unknown codes are kept raw whatever their length.
    expect(v.wrap(message([53, 1, 1, 200, 3, 1, 2, 3, 255]))).toBeNull();
  });

  it('shows common option values, and encodes them back', () => {
    const bytes = Uint8Array.from([
      1, 4, 255, 255, 255, 0, 3, 8, 10, 0, 0, 1, 10, 0, 0, 2, 51, 4, 0, 0, 14, 16, 55, 2, 1, 3, 255,
    ]);
    const c = new dhcp.DhcpOptionsCursor('dhcp', 'options').reset(bytes, 0, bytes.length);
    expect(dhcp.dhcpOptionsToJSON(c)).toEqual([
      { code: 1, length: 4, mask: '255.255.255.0' },
      { code: 3, length: 8, addresses: ['10.0.0.1', '10.0.0.2'] },
      { code: 51, length: 4, seconds: 3600 },
      { code: 55, length: 2, codes: '0103' },
      { code: 255 },
    ]);
    const items = dhcp.decodeDhcpOptions(bytes, 0, bytes.length);
    expect(items.slice(0, 2)).toEqual([
      { kind: 'SubnetMask', mask: 0xffffff00 },
      { kind: 'Router', addresses: [0x0a000001, 0x0a000002] },
    ]);
    const out = new Uint8Array(bytes.length);
    expect(dhcp.encodeDhcpOptions(items, out, 0)).toBe(bytes.length);
    expect(out).toEqual(bytes);
  });
});
