/**
 * The fast-path additions of the views and encoders: TCP options recorded by wrap() (they must
 * agree with the cursor), MAC halves, stale-zero getters after a failed wrap(), and patching
 * timestamps into an encoded option block (it must equal a fresh encodeOptions()).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ethernet, tcp } from '../../src/generated/index.js';
import { findKindLengthOption, validateKindLengthList } from '../../src/codec/options.js';

/** A 20-byte TCP header followed by `options` (padded to 4 bytes with EOL). */
function segment(options: number[]): Uint8Array {
  const padded = [...options];
  while (padded.length % 4 !== 0) padded.push(0);
  const b = new Uint8Array(20 + padded.length);
  b[12] = ((20 + padded.length) / 4) << 4;
  b.set(padded, 20);
  return b;
}

/** The well-known options as the cursor sees them (last one wins; SACK edges of the last). */
function viaCursor(v: tcp.TcpView) {
  const r = { mss: -1, ws: -1, sp: false, tsval: -1, tsecr: -1, sack: [] as number[] };
  const o = v.options();
  while (o.next()) {
    if (o.kind === 2 && o.length === 4) r.mss = o.mss;
    else if (o.kind === 3 && o.length === 3) r.ws = o.windowScale;
    else if (o.sackPermitted) r.sp = true;
    else if (o.kind === 5) {
      r.sack = [];
      for (let i = 0; i < o.sackCount; i++) r.sack.push(o.sackLeft(i), o.sackRight(i));
    } else if (o.kind === 8 && o.length === 10) {
      r.tsval = o.tsval;
      r.tsecr = o.tsecr;
    }
  }
  return r;
}

function viaView(v: tcp.TcpView) {
  const sack: number[] = [];
  for (let i = 0; i < v.sackCount; i++) sack.push(v.sackLeft(i), v.sackRight(i));
  expect([...v.sackEdges.subarray(0, 2 * v.sackCount)]).toEqual(sack);
  return {
    mss: v.mss,
    ws: v.windowScale,
    sp: v.sackPermitted,
    tsval: v.tsval,
    tsecr: v.tsecr,
    sack,
  };
}

const option = fc.oneof(
  fc.constant([1]),
  fc.tuple(fc.integer({ min: 0, max: 0xffff })).map(([m]) => [2, 4, m >> 8, m & 0xff]),
  fc.integer({ min: 0, max: 14 }).map((s) => [3, 3, s]),
  fc.constant([4, 2]),
  fc
    .array(fc.integer({ min: 0, max: 255 }), { minLength: 8, maxLength: 8 })
    .chain((tsBytes) => fc.constant([8, 10, ...tsBytes])),
  fc
    .array(fc.integer({ min: 0, max: 255 }), { minLength: 8, maxLength: 24 })
    .map((edges) => [5, 2 + edges.length, ...edges]),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 6 }).map((d) => [30, 2 + d.length, ...d]),
);

describe('TcpView: options recorded by wrap()', () => {
  it('agree with the cursor on any valid option list', () => {
    const v = new tcp.TcpView();
    fc.assert(
      fc.property(fc.array(option, { maxLength: 6 }), (list) => {
        const flat = list.flat();
        fc.pre(flat.length <= 40);
        const b = segment(flat);
        expect(v.wrap(b)).toBeNull();
        expect(viaView(v)).toEqual(viaCursor(v));
      }),
    );
  });

  it('reads a Linux SYN option block, and reports absence as -1', () => {
    const v = new tcp.TcpView();
    const b = segment([2, 4, 5, 0xb4, 4, 2, 8, 10, 0xff, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7]);
    expect(v.wrap(b)).toBeNull();
    expect([v.mss, v.sackPermitted, v.tsval, v.tsecr, v.windowScale]).toEqual([
      1460,
      true,
      0xff000001,
      2,
      7,
    ]);
    expect(v.wrap(segment([]))).toBeNull();
    expect([v.mss, v.windowScale, v.sackPermitted, v.tsval, v.tsecr, v.sackCount]).toEqual([
      -1,
      -1,
      false,
      -1,
      -1,
      0,
    ]);
  });

  it('leaves every getter at zero or absent after a failed wrap()', () => {
    const v = new tcp.TcpView();
    const good = segment([8, 10, 1, 2, 3, 4, 5, 6, 7, 8]);
    good[4] = 0xff;
    expect(v.wrap(good)).toBeNull();
    expect(v.seq).toBeGreaterThan(0);
    const bad = segment([8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 2, 9]);
    bad[4] = 0xff;
    expect(v.wrap(bad)?.code).toBe('E_BAD_OPTION');
    expect([v.seq, v.srcPort, v.tsval, v.mss, v.sackCount]).toEqual([0, 0, -1, -1, 0]);
  });
});

describe('EthernetView: MAC halves', () => {
  it('split the 48-bit number into hi16 and lo32', () => {
    const v = new ethernet.EthernetView();
    const b = Uint8Array.from([0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 2, 0, 0, 0, 0, 1, 8, 0]);
    expect(v.wrap(b)).toBeNull();
    expect([v.dstHi, v.dstLo, v.dst]).toEqual([0xfedc, 0xba987654, 0xfedcba987654]);
    expect([v.srcHi, v.srcLo, v.src]).toEqual([0x0200, 1, 0x020000000001]);
    expect(v.wrap(b, 0, 13)).not.toBeNull();
    expect([v.dstHi, v.dstLo, v.dst, v.etherType]).toEqual([0, 0, 0, 0]);
  });

  it('round-trips any MAC through encodeEthernet', () => {
    const v = new ethernet.EthernetView();
    const out = new Uint8Array(14);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (mac) => {
        expect(
          ethernet.encodeEthernet({ dst: mac, src: 2 ** 48 - 1 - mac, etherType: 0x0800 }, out, 0),
        ).toBe(14);
        expect(v.wrap(out)).toBeNull();
        expect([v.dst, v.src, v.dstHi * 2 ** 32 + v.dstLo]).toEqual([mac, 2 ** 48 - 1 - mac, mac]);
      }),
    );
  });
});

describe('tcp.writeTimestamps', () => {
  it('patches an encoded block to what encodeOptions() writes for the new values', () => {
    const list = (tsval: number, tsecr: number): tcp.TcpOption[] => [
      { kind: 'mss', value: 1460 },
      { kind: 'sackPermitted' },
      { kind: 'timestamps', tsval, tsecr },
      { kind: 'nop' },
      { kind: 'windowScale', shift: 7 },
    ];
    const block = new Uint8Array(40);
    const n = tcp.encodeOptions(list(0, 0), block, 0);
    const at = tcp.findOption(block, 0, n, tcp.TcpOptionKind.Timestamps);
    expect(at).toBe(6);
    const fresh = new Uint8Array(40);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer(), (tsval, tsecr) => {
        // Either representation of a 32-bit value: uint32, or int32 with the same bits.
        tcp.writeTimestamps(block, at, tsval, tsecr);
        tcp.encodeOptions(list(tsval, tsecr >>> 0), fresh, 0);
        expect(block).toEqual(fresh);
      }),
    );
  });

  it('findOption stops at EOL and at a list it cannot delimit', () => {
    const b = Uint8Array.from([1, 2, 4, 5, 0xb4, 0, 8, 10]);
    expect(findKindLengthOption(b, 0, b.length, 2)).toBe(1);
    expect(findKindLengthOption(b, 0, b.length, 8)).toBe(-1);
    const cut = Uint8Array.from([3, 3, 7, 8, 10, 0]);
    expect(validateKindLengthList(cut, 0, cut.length)).toBe(3);
    expect(findKindLengthOption(cut, 0, cut.length, 5)).toBe(-1);
    expect(findKindLengthOption(cut, 0, cut.length, 8)).toBe(-1);
    expect(findKindLengthOption(cut, 0, cut.length, 3)).toBe(0);
  });
});
