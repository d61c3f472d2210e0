/**
 * The fast-path additions of the views and encoders: TCP options recorded by wrap() (they must
 * agree with the cursor), MAC halves, stale-zero getters after a failed wrap(), and patching
 * timestamps into an encoded option block (it must equal a fresh encodeTcpOptions()).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ethernet, tcp } from '../../src/generated/index.js';

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
    if (o.kind === tcp.TcpOptionKind.MSS) r.mss = o.mss.value;
    else if (o.kind === tcp.TcpOptionKind.WindowScale) r.ws = o.windowScale.shift;
    else if (o.kind === tcp.TcpOptionKind.SackPermitted) r.sp = true;
    else if (o.kind === tcp.TcpOptionKind.Sack) {
      const s = o.sack;
      r.sack = [];
      for (let i = 0; i < Math.min(s.blocksCount, 4); i++)
        r.sack.push(s.blocksLeft(i), s.blocksRight(i));
    } else if (o.kind === tcp.TcpOptionKind.Timestamps) {
      r.tsval = o.timestamps.tsval;
      r.tsecr = o.timestamps.tsecr;
    }
  }
  return r;
}

function viaView(v: tcp.TcpView) {
  const sack: number[] = [];
  for (let i = 0; i < v.sackCount; i++) sack.push(v.sackLeft(i), v.sackRight(i));
  expect([...v.sack.subarray(0, 2 * v.sackCount)]).toEqual(sack);
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
    .array(fc.integer({ min: 0, max: 255 }), { minLength: 8, maxLength: 32 })
    .map((edges) => edges.slice(0, edges.length - (edges.length % 8)))
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
      { seed: 0x7c9, numRuns: 300 },
    );
  });

  it('ends the (lenient) list at an element whose length disagrees with its body, at its offset', () => {
    const v = new tcp.TcpView();
    // NOP, then an MSS of length 5, a SACK of 1.5 blocks, a timestamps of length 9.
    for (const bad of [
      [1, 2, 5, 0, 0, 0],
      [1, 5, 14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [1, 8, 9, 0, 0, 0, 0, 0, 0, 0],
    ]) {
      expect(v.wrap(segment(bad))).toBeNull();
      expect(v.optionsMalformedAt).toBe(21);
      expect([v.mss, v.sackCount, v.tsval]).toEqual([-1, 0, -1]);
    }
  });

  it("keeps the options before a malformed one, as Linux's tcp_parse_options does", () => {
    const v = new tcp.TcpView();
    // MSS 1460, window scale 7, then an option whose length (9) runs past the header.
    expect(v.wrap(segment([2, 4, 5, 0xb4, 1, 3, 3, 7, 8, 9, 0, 0]))).toBeNull();
    expect([v.mss, v.windowScale, v.optionsMalformedAt]).toEqual([1460, 7, 28]);
    expect(v.wrap(segment([2, 4, 5, 0xb4]))).toBeNull();
    expect(v.optionsMalformedAt).toBe(-1);
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
    // Cut inside the options the data offset declares.
    const bad = segment([8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1]).subarray(0, 26);
    bad[4] = 0xff;
    expect(v.wrap(bad)?.code).toBe('E_TRUNCATED');
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

describe('TcpOptionsTimestampsView setters', () => {
  it('patch an encoded block to what encodeTcpOptions() writes for the new values', () => {
    const list = (tsval: number, tsecr: number): tcp.TcpOptionsItem[] => [
      { kind: 'MSS', value: 1460 },
      { kind: 'SackPermitted' },
      { kind: 'Timestamps', tsval, tsecr },
      { kind: 'NOP' },
      { kind: 'WindowScale', shift: 7 },
    ];
    const block = new Uint8Array(40);
    const n = tcp.encodeTcpOptions(list(0, 0), block, 0);
    const c = new tcp.TcpOptionsCursor('tcp', 'options').reset(block, 0, n);
    let at = -1;
    while (c.next()) if (c.kind === tcp.TcpOptionKind.Timestamps) at = c.offset;
    expect(at).toBe(6);
    const ts = new tcp.TcpOptionsTimestampsView().point(block, at);
    const fresh = new Uint8Array(40);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer(), (tsval, tsecr) => {
        // Either representation of a 32-bit value: uint32, or int32 with the same bits.
        ts.tsval = tsval;
        ts.tsecr = tsecr;
        tcp.encodeTcpOptions(list(tsval, tsecr >>> 0), fresh, 0);
        expect(block).toEqual(fresh);
        expect([ts.tsval, ts.tsecr]).toEqual([tsval, tsecr >>> 0]);
      }),
      { seed: 0x15, numRuns: 200 },
    );
  });

  it('the cursor stops at EOL and at a list it cannot delimit', () => {
    const b = Uint8Array.from([1, 2, 4, 5, 0xb4, 0, 8, 10]);
    const c = new tcp.TcpOptionsCursor('tcp', 'options').reset(b, 0, b.length);
    const kinds: number[] = [];
    while (c.next()) kinds.push(c.kind);
    expect(kinds).toEqual([1, 2, 0]);
    const cut = Uint8Array.from([3, 3, 7, 8, 10, 0]);
    expect(tcp.validateTcpOptions(cut, 0, cut.length, new tcp.TcpOptionsSummary())).toBe(3);
    c.reset(cut, 0, cut.length);
    expect(c.next() && c.kind).toBe(3);
    expect(c.next()).toBe(false);
    expect(c.error).toEqual({ code: 'E_BAD_OPTION', layer: 'tcp', field: 'options', offset: 3 });
  });
});
