import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CaptureRecord, PcapError, openCapture } from '../../src/pcap/reader.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

function readAll(bytes: Uint8Array): CaptureRecord[] {
  return [...openCapture(bytes)];
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof PcapError) return e.code;
    throw e;
  }
  return 'no error';
}

/** A little-endian classic pcap file from [payload, origLen] records. */
function pcap(
  records: Array<[Uint8Array, number]>,
  opts: { nanos?: boolean; linkType?: number } = {},
): Uint8Array {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(opts.nanos === true ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(opts.linkType ?? 1, 20);
  parts.push(h);
  records.forEach(([data, origLen], i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1000 + i, 0);
    r.writeUInt32LE(500, 4);
    r.writeUInt32LE(data.length, 8);
    r.writeUInt32LE(origLen, 12);
    parts.push(r, Buffer.from(data));
  });
  return new Uint8Array(Buffer.concat(parts));
}

/** One pcapng block in the given byte order, body padded to 4 bytes. */
function block(type: number, body: Buffer, le: boolean): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const len = 12 + padded.length;
  const b = Buffer.alloc(len);
  const w = (v: number, o: number): number => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  w(type, 0);
  w(len, 4);
  padded.copy(b, 8);
  w(len, len - 4);
  return b;
}
function u32s(le: boolean, ...vals: number[]): Buffer {
  const b = Buffer.alloc(4 * vals.length);
  vals.forEach((v, i) => (le ? b.writeUInt32LE(v, 4 * i) : b.writeUInt32BE(v, 4 * i)));
  return b;
}
function shb(le: boolean): Buffer {
  const body = Buffer.alloc(16);
  if (le) {
    body.writeUInt32LE(0x1a2b3c4d, 0);
    body.writeUInt16LE(1, 4);
  } else {
    body.writeUInt32BE(0x1a2b3c4d, 0);
    body.writeUInt16BE(1, 4);
  }
  body.fill(0xff, 8, 16); // section length -1: unknown
  return block(0x0a0d0d0a, body, le);
}
function idb(le: boolean, linkType: number, snapLen: number, tsresol?: number): Buffer {
  const head = Buffer.alloc(8);
  if (le) {
    head.writeUInt16LE(linkType, 0);
    head.writeUInt32LE(snapLen, 4);
  } else {
    head.writeUInt16BE(linkType, 0);
    head.writeUInt32BE(snapLen, 4);
  }
  const opts: Buffer[] = [];
  if (tsresol !== undefined) {
    const o = Buffer.alloc(8);
    if (le) {
      o.writeUInt16LE(9, 0);
      o.writeUInt16LE(1, 2);
    } else {
      o.writeUInt16BE(9, 0);
      o.writeUInt16BE(1, 2);
    }
    o[4] = tsresol;
    opts.push(o, Buffer.alloc(4)); // opt_endofopt
  }
  return block(1, Buffer.concat([head, ...opts]), le);
}
function epb(
  le: boolean,
  ifId: number,
  ticks: bigint,
  data: Buffer,
  origLen = data.length,
): Buffer {
  const hi = Number(ticks >> 32n);
  const lo = Number(ticks & 0xffffffffn);
  return block(6, Buffer.concat([u32s(le, ifId, hi, lo, data.length, origLen), data]), le);
}

describe('pcap reader on the fixture captures', () => {
  const names = readdirSync(join(FIXTURES, 'pcap')).filter((f) => /\.pcap(ng)?$/.test(f));

  it('finds the fixtures', () => {
    expect(names.length).toBeGreaterThanOrEqual(47);
  });

  it.each(names)('%s: frame count and lengths agree with tshark', (name) => {
    const oracle = readFileSync(
      join(FIXTURES, 'oracle', name.replace(/\.pcap(ng)?$/, '.jsonl')),
      'utf8',
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { caplen: number; len: number });
    const recs = readAll(readFileSync(join(FIXTURES, 'pcap', name)));
    expect(recs.map((r) => [r.caplen, r.origLen])).toEqual(oracle.map((o) => [o.caplen, o.len]));
    for (const r of recs) {
      expect(r.linkType).toBe(1); // includes the fuzzed 0x30000001 / 0x04000001 headers, masked
      expect(r.bytes.length).toBe(r.caplen);
    }
  });

  it('reads big-endian pcap (tcpdump-pptp) and nanosecond pcap timestamps', () => {
    const be = readAll(readFileSync(join(FIXTURES, 'pcap', 'tcpdump-pptp.pcap')));
    expect(be).toHaveLength(23);
    expect(be[0].bytes[12]).toBe(0x08); // EtherType IPv4 at the expected place
    const ns = readAll(readFileSync(join(FIXTURES, 'pcap', 'zeek-http-get-to-ssh-server.pcap')));
    expect([ns[0].tsSec, ns[0].tsNanos]).toEqual([1770126425, 732_560_000]); // tshark: .732560000
    expect(ns.every((r) => r.tsNanos >= 0 && r.tsNanos < 1e9)).toBe(true);
  });

  it('returns views into the file buffer, not copies', () => {
    const file = new Uint8Array(readFileSync(join(FIXTURES, 'pcap', 'zeek-arp-who-has.pcap')));
    const [first] = readAll(file);
    expect(first.bytes.buffer).toBe(file.buffer);
    expect(first.bytes.byteOffset).toBe(file.byteOffset + 24 + 16);
  });
});

describe('pcap reader, synthetic files', () => {
  it('converts microsecond and nanosecond timestamps', () => {
    const [us] = readAll(pcap([[new Uint8Array(20), 20]]));
    expect([us.tsSec, us.tsNanos, us.index]).toEqual([1000, 500_000, 0]);
    const [ns] = readAll(pcap([[new Uint8Array(20), 20]], { nanos: true }));
    expect(ns.tsNanos).toBe(500);
  });

  it('keeps frames whose caplen is below the wire length', () => {
    const recs = readAll(pcap([[new Uint8Array(10), 1500]]));
    expect([recs[0].caplen, recs[0].origLen]).toEqual([10, 1500]);
  });

  it('reports the non-Ethernet link type instead of rejecting the file', () => {
    const r = openCapture(pcap([[new Uint8Array(4), 4]], { linkType: 0x10000065 }));
    expect(r.linkType).toBe(101); // LINKTYPE_RAW after masking the FCS bits
    expect([...r][0].linkType).toBe(101);
  });

  it('pcapng: both byte orders, if_tsresol, SPB, skipped blocks, several sections', () => {
    const frame = Buffer.from([1, 2, 3, 4, 5, 6, 7]);
    const file = Buffer.concat([
      shb(false),
      idb(false, 1, 0, 9), // nanoseconds
      epb(false, 0, 1_700_000_000_123_456_789n, frame, 60),
      block(0x00000005, Buffer.alloc(8), false), // interface statistics: skipped
      block(0x40000bad, Buffer.alloc(4), false), // unknown/custom: skipped
      shb(true),
      idb(true, 1, 4), // default µs, snap length 4
      idb(true, 105, 0, 0x80 | 10), // 2^-10 s ticks
      block(3, Buffer.concat([u32s(true, 7), frame]), true), // SPB: cut to snap length 4
      epb(true, 1, 3n * 1024n + 512n, frame),
    ]);
    const recs = readAll(new Uint8Array(file));
    expect(recs).toHaveLength(3);
    expect(recs[0]).toMatchObject({
      index: 0,
      tsSec: 1_700_000_000,
      tsNanos: 123_456_789,
      caplen: 7,
      origLen: 60,
      linkType: 1,
    });
    expect([...recs[0].bytes]).toEqual([...frame]);
    expect(recs[1]).toMatchObject({ index: 1, caplen: 4, origLen: 7, linkType: 1 });
    expect(recs[2]).toMatchObject({ index: 2, tsSec: 3, tsNanos: 500_000_000, linkType: 105 });
  });
});

describe('pcapng timestamps', () => {
  it('equal the exact 64-bit division for every resolution (10^-k and 2^-n, up to 2^-60)', () => {
    const resolutions = fc.oneof(
      fc.integer({ min: 0, max: 19 }).map((k) => ({ code: k, tps: 10n ** BigInt(k) })),
      fc.integer({ min: 0, max: 60 }).map((n) => ({ code: 0x80 | n, tps: 2n ** BigInt(n) })),
    );
    fc.assert(
      fc.property(
        resolutions,
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.boolean(),
        ({ code, tps }, ticks, le) => {
          const file = Buffer.concat([
            shb(le),
            idb(le, 1, 0, code),
            epb(le, 0, ticks, Buffer.from([1])),
          ]);
          const [r] = readAll(new Uint8Array(file));
          expect([r.tsSec, r.tsNanos]).toEqual([
            Number(ticks / tps),
            Number(((ticks % tps) * 1_000_000_000n) / tps),
          ]);
        },
      ),
      { seed: 0x9c4, numRuns: 500 },
    );
  });
});

describe('pcap reader, bad input', () => {
  const good = pcap([
    [new Uint8Array(60), 60],
    [new Uint8Array(60), 60],
  ]);

  it('zero-length file → E_EMPTY', () => {
    expect(codeOf(() => openCapture(new Uint8Array(0)))).toBe('E_EMPTY');
  });

  it('text or random bytes → E_NOT_PCAP', () => {
    expect(
      codeOf(() => openCapture(new TextEncoder().encode('hello, this is not a capture\n'))),
    ).toBe('E_NOT_PCAP');
  });

  it('truncated file header → E_TRUNCATED', () => {
    expect(codeOf(() => openCapture(good.subarray(0, 2)))).toBe('E_TRUNCATED');
    expect(codeOf(() => openCapture(good.subarray(0, 20)))).toBe('E_TRUNCATED');
    expect(codeOf(() => openCapture(Uint8Array.from(shb(true)).subarray(0, 20)))).toBe(
      'E_TRUNCATED',
    );
  });

  it('unknown pcap major version → E_UNSUPPORTED_VERSION', () => {
    const v = good.slice();
    v[4] = 3;
    expect(codeOf(() => openCapture(v))).toBe('E_UNSUPPORTED_VERSION');
  });

  it('truncated record header or data: earlier frames delivered, then E_TRUNCATED', () => {
    for (const cut of [24 + 76 + 8, 24 + 76 + 16 + 30]) {
      const seen: number[] = [];
      const code = codeOf(() => {
        for (const r of openCapture(good.subarray(0, cut))) seen.push(r.index);
      });
      expect(code).toBe('E_TRUNCATED');
      expect(seen).toEqual([0]);
    }
  });

  it('absurd caplen → E_BAD_RECORD', () => {
    const v = good.slice();
    new DataView(v.buffer).setUint32(24 + 8, 0x7fffffff, true);
    expect(codeOf(() => readAll(v))).toBe('E_BAD_RECORD');
  });

  it('pcapng: bad block length, unknown interface, bad byte-order magic', () => {
    const frame = Buffer.alloc(20);
    const badLen = Buffer.concat([shb(true), idb(true, 1, 0), epb(true, 0, 0n, frame)]);
    badLen.writeUInt32LE(13, shb(true).length + idb(true, 1, 0).length + 4);
    expect(codeOf(() => readAll(new Uint8Array(badLen)))).toBe('E_BAD_BLOCK');
    const noIface = Buffer.concat([shb(true), epb(true, 0, 0n, frame)]);
    expect(codeOf(() => readAll(new Uint8Array(noIface)))).toBe('E_BAD_BLOCK');
    const badMagic = shb(true);
    badMagic[8] ^= 0xff;
    expect(codeOf(() => openCapture(new Uint8Array(badMagic)))).toBe('E_BAD_BLOCK');
    const cut = Buffer.concat([shb(true), idb(true, 1, 0), epb(true, 0, 0n, frame)]);
    expect(codeOf(() => readAll(new Uint8Array(cut.subarray(0, cut.length - 6))))).toBe(
      'E_TRUNCATED',
    );
  });

  it('random, truncated and bit-flipped files only ever raise PcapError', () => {
    const seeds = [
      good,
      new Uint8Array(
        Buffer.concat([shb(false), idb(false, 1, 0, 9), epb(false, 0, 5n, Buffer.alloc(30))]),
      ),
    ];
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc
        .tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(), fc.nat(255))
        .map(([s, cut, at, x]) => {
          const v = s.slice(0, cut % (s.length + 1));
          if (v.length > 0) v[at % v.length] ^= x;
          return v;
        }),
    );
    fc.assert(
      fc.property(arb, (bytes) => {
        try {
          for (const r of openCapture(bytes)) {
            expect(r.bytes.byteOffset + r.bytes.length).toBeLessThanOrEqual(
              bytes.byteOffset + bytes.length,
            );
          }
        } catch (e) {
          expect(e).toBeInstanceOf(PcapError);
        }
      }),
      { numRuns: 2000, seed: 42 },
    );
  });
});
