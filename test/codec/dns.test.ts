/**
 * DNS names: compression pointers followed with limits (255-byte names, 63-byte labels, label
 * types, pointers must go backwards, jump limit), escapes in text form, and what the encoders
 * refuse (compression: dns-compression.test.ts); the declared sections on hostile counts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDecodeError } from '../../src/codec/errors.js';
import { nameLabels, readName } from '../../src/codec/dns.js';
import { dns } from '../../src/generated/index.js';
import { answersJSON } from '../../src/decode/dns.js';
import { dnsFields } from './arbitraries.js';

/** A 12-byte header with the given counts, then `body`. */
function message(body: number[], qd = 1, an = 0): Uint8Array {
  return Uint8Array.from([0x12, 0x34, 0x81, 0x80, 0, qd, 0, an, 0, 0, 0, 0, ...body]);
}

function label(text: string): number[] {
  return [text.length, ...[...text].map((c) => c.charCodeAt(0))];
}

function error(bytes: Uint8Array): { code: string; field: string; offset: number } | null {
  const v = new dns.DnsView();
  const e = v.wrap(bytes);
  return e === null ? null : { code: e.code, field: e.field, offset: e.offset };
}

describe('readName and DnsView.wrap()', () => {
  it('reads plain and compressed names', () => {
    // question www.example.com A IN; answer name = pointer to offset 16 (example.com).
    const q = [...label('www'), ...label('example'), ...label('com'), 0, 0, 1, 0, 1];
    const a = [0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1];
    const bytes = message([...q, ...a], 1, 1);
    const v = new dns.DnsView();
    expect(v.wrap(bytes)).toBeNull();
    const json = v.toJSON();
    expect(json.questions).toEqual([{ name: 'www.example.com', type: 1, class: 1 }]);
    expect(json.answers).toEqual([
      { name: 'example.com', type: 1, class: 1, ttl: 60, rdlength: 4 },
    ]);
    const c = v.answers();
    expect(c.next()).toBe(true);
    expect([c.item.nameText(), c.item.rdataOffset, c.item.rdataLength]).toEqual([
      'example.com',
      bytes.length - 4,
      4,
    ]);
    expect(readName(bytes, 0, bytes.length, 12)).toBe('www.example.com');
  });

  it('reads the root name as ""', () => {
    const bytes = message([0, 0, 2, 0, 1]);
    expect(readName(bytes, 0, bytes.length, 12)).toBe('');
  });

  it('rejects a pointer to itself or forward (loop guard)', () => {
    expect(error(message([0xc0, 12, 0, 1, 0, 1]))).toEqual({
      code: 'E_POINTER_LOOP',
      field: 'name',
      offset: 12,
    });
    // Two labels then a pointer back to the first label: a cycle through labels.
    expect(error(message([...label('a'), 0xc0, 12, 0, 1, 0, 1]))?.code).toBe('E_POINTER_LOOP');
    expect(error(message([0xc0, 20, 0, 1, 0, 1, 0, 0, 0]))?.code).toBe('E_POINTER_LOOP');
  });

  it('reports a pointer past the end of the message as E_BAD_POINTER, not a loop', () => {
    // Message is 12 + 6 bytes; the pointer targets offset 0x3fff.
    expect(error(message([0xff, 0xff, 0, 1, 0, 1]))).toEqual({
      code: 'E_BAD_POINTER',
      field: 'name',
      offset: 12,
    });
    // The first byte past the end is already out of range.
    expect(error(message([0xc0, 18, 0, 1, 0, 1]))?.code).toBe('E_BAD_POINTER');
    expect(error(message([0xc0, 17, 0, 1, 0, 1]))?.code).toBe('E_POINTER_LOOP');
  });

  it('follows a chain of backward pointers', () => {
    // 12: "a" root; 15: "b" -> 12; 19: "c" -> 15 ... question at the end points to the last.
    const body = [...label('a'), 0];
    let prev = 12;
    for (const l of ['b', 'c', 'd']) {
      const at = 12 + body.length;
      body.push(...label(l), 0xc0, prev);
      prev = at;
    }
    const q = 12 + body.length;
    body.push(0xc0, prev, 0, 1, 0, 1);
    const bytes = message(body, 0);
    expect(readName(bytes, 0, bytes.length, q)).toBe('d.c.b.a');
  });

  it('limits names to 255 bytes and labels to 63', () => {
    const long: number[] = [];
    for (let i = 0; i < 5; i++) long.push(...label('x'.repeat(50)));
    expect(error(message([...long, 0, 0, 1, 0, 1]))?.code).toBe('E_BAD_NAME');
    // A 64-byte length byte has the 01 label type: rejected.
    expect(error(message([0x40, ...new Array(64).fill(0x61), 0, 0, 1, 0, 1]))?.code).toBe(
      'E_BAD_NAME',
    );
    expect(error(message([0x80, 1, 0, 0, 1, 0, 1]))?.code).toBe('E_BAD_NAME');
    // 4 labels of 63 = 256 wire bytes with the root: one too many.
    const max: number[] = [];
    for (let i = 0; i < 3; i++) max.push(...label('y'.repeat(63)));
    max.push(...label('y'.repeat(61)));
    expect(error(message([...max, 0, 0, 1, 0, 1]))).toBeNull();
    const over = [...max];
    over[over.length - 62] = 62;
    over.push(0x79);
    expect(error(message([...over, 0, 0, 1, 0, 1]))?.code).toBe('E_BAD_NAME');
  });

  it('reports names and sections that run past the message', () => {
    expect(error(message([...label('abc')]))).toEqual({
      code: 'E_TRUNCATED',
      field: 'name',
      offset: 16,
    });
    expect(error(message([0, 0, 1]))?.field).toBe('class');
    const rr = [0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 9, 1, 2];
    expect(error(message(rr, 0, 1))).toEqual({ code: 'E_TRUNCATED', field: 'rdata', offset: 23 });
  });

  it('escapes dots, backslashes and unprintable bytes, and reads them back', () => {
    const bytes = message([4, 0x61, 0x2e, 0x5c, 0x07, ...label('com'), 0, 0, 1, 0, 1]);
    const name = readName(bytes, 0, bytes.length, 12);
    expect(name).toBe('a\\.\\\\\\007.com');
    expect(nameLabels(name as string)).toEqual([
      [0x61, 0x2e, 0x5c, 7],
      [0x63, 0x6f, 0x6d],
    ]);
  });

  it('returns a DecodeError for a malformed name', () => {
    const bytes = message([0xc0, 12, 0, 1, 0, 1]);
    const r = readName(bytes, 0, bytes.length, 12);
    expect(isDecodeError(r) && r.code).toBe('E_POINTER_LOOP');
  });
});

describe('encoder', () => {
  it('writes the counts and record lengths it derives, a repeated name as a pointer', () => {
    const out = new Uint8Array(512);
    const n = dns.encodeDns(
      {
        id: 1,
        qr: 1,
        opcode: 0,
        aa: 0,
        tc: 0,
        rd: 1,
        ra: 1,
        z: 0,
        rcode: 0,
        questions: [{ name: 'www.example.com', type: 1, class: 1 }],
        answers: [
          { name: 'www.example.com', type: 1, class: 1, ttl: 5, rdata: Uint8Array.of(1, 2, 3, 4) },
        ],
        authority: [],
        additional: [],
      },
      out,
      0,
    );
    const name = [...label('www'), ...label('example'), ...label('com'), 0];
    expect([...out.subarray(0, n)]).toEqual([
      0,
      1,
      0x81,
      0x80,
      0,
      1,
      0,
      1,
      0,
      0,
      0,
      0,
      ...name,
      0,
      1,
      0,
      1,
      0xc0,
      12,
      0,
      1,
      0,
      1,
      0,
      0,
      0,
      5,
      0,
      4,
      1,
      2,
      3,
      4,
    ]);
  });

  it('refuses names it cannot encode', () => {
    const out = new Uint8Array(600);
    for (const name of ['a'.repeat(64), 'a..b', Array(130).fill('ab').join('.')])
      expect(dns.encodeDnsQuestion({ name, type: 1, class: 1 }, out, 0)).toBe(-1);
    expect(
      dns.encodeDnsQuestion({ name: 'ok.example', type: 1, class: 1 }, new Uint8Array(4), 0),
    ).toBe(-1);
  });
});

/**
 * The sections as the item views delimit them, one wrap() after another: what DnsView.wrap()
 * must accept (and where the message ends) or refuse (with the first item's error).
 */
function sectionsByItemViews(
  b: Uint8Array,
  length: number,
): { error: { code: string; field: string; offset: number } | null; end: number } {
  const q = new dns.DnsQuestionView();
  const r = new dns.DnsRecordView();
  const count = (at: number): number => (b[at] << 8) | b[at + 1];
  let pos = 12;
  const sections: Array<[dns.DnsQuestionView | dns.DnsRecordView, number]> = [
    [q, count(4)],
    [r, count(6)],
    [r, count(8)],
    [r, count(10)],
  ];
  for (const [view, n] of sections)
    for (let i = 0; i < n; i++) {
      const e = view.wrap(b, pos, length - pos, 0);
      if (e !== null) return { error: { code: e.code, field: e.field, offset: e.offset }, end: -1 };
      pos += view.messageLength;
    }
  return { error: null, end: pos };
}

describe('the section walk', () => {
  it('accepts and refuses exactly what the item views do, with their error', () => {
    fc.assert(
      fc.property(
        dnsFields,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (f, flips, cut) => {
          const out = new Uint8Array(4096);
          const n = dns.encodeDns(f, out, 0);
          const b = out.slice(0, n);
          for (const [i, v] of flips) b[12 + (i % Math.max(1, n - 12))] = v;
          if (flips.length > 0 && cut % 2 === 0) b[5 + 2 * (cut % 4)] = cut & 0xff; // a count
          const length = 12 + (cut % (n - 11));
          const want = sectionsByItemViews(b, length);
          const v = new dns.DnsView();
          const e = v.wrap(b, 0, length);
          expect(e === null ? null : { code: e.code, field: e.field, offset: e.offset }).toEqual(
            want.error,
          );
          if (e === null) expect(v.messageLength).toBe(want.end - 0);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('hostile counts', () => {
  it('fails a header claiming 65535 of each section in a tiny message with a typed error', () => {
    const bytes = Uint8Array.from([
      0, 1, 0x81, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
    ]);
    expect(error(bytes)).toEqual({ code: 'E_TRUNCATED', field: 'type', offset: 13 });
  });

  it('walks 65535 questions that are there, each a pointer back, in bounded time', () => {
    // One real name at 12, then questions whose names are pointers to it.
    const body = [...label('a'), 0, 0, 1, 0, 1];
    for (let i = 1; i < 0xffff; i++) body.push(0xc0, 12, 0, 1, 0, 1);
    const bytes = message(body, 0);
    bytes[4] = 0xff;
    bytes[5] = 0xff;
    const v = new dns.DnsView();
    expect(v.wrap(bytes)).toBeNull();
    expect(v.questionsCount).toBe(0xffff);
    const c = v.questions();
    let n = 0;
    while (c.next()) n++;
    expect(n).toBe(0xffff);
  });
});

describe('record data views (dns_name with an origin)', () => {
  // Header, question example.com A IN at 12, then an MX RDATA at 29 whose exchange is
  // "mail" + a pointer back to example.com (offset 12 of the message).
  const q = [...label('example'), ...label('com'), 0, 0, 1, 0, 1];
  const mx = [0, 10, ...label('mail'), 0xc0, 12];
  const msg = message([...q, ...mx]);
  const at = 12 + q.length;

  it('follows pointers back to the message start given as origin', () => {
    const v = new dns.DnsMxView();
    expect(v.wrap(msg, at, mx.length, 0)).toBeNull();
    expect(v.preference).toBe(10);
    expect(v.exchangeText()).toBe('mail.example.com');
    expect(v.messageLength).toBe(mx.length);
    expect(v.toJSON()).toEqual({ preference: 10, exchange: 'mail.example.com' });
  });

  it('refuses a pointer before the origin, or an origin past the data', () => {
    const v = new dns.DnsMxView();
    // By default the origin is the view's start: offset 12 from there is past the record.
    expect(v.wrap(msg, at, mx.length)).toMatchObject({ code: 'E_BAD_POINTER', field: 'exchange' });
    expect(v.wrap(msg, at, mx.length, at + 1)).toMatchObject({
      code: 'E_BAD_NAME',
      field: 'exchange',
    });
  });

  it('reports a cut name and a cut fixed tail', () => {
    const soa = [...label('ns'), 0xc0, 12, ...label('admin'), 0xc0, 12, ...new Array(20).fill(0)];
    const m = message([...q, ...soa]);
    const v = new dns.DnsSoaView();
    expect(v.wrap(m, at, soa.length, 0)).toBeNull();
    expect([v.mnameText(), v.rnameText(), v.minimum]).toEqual([
      'ns.example.com',
      'admin.example.com',
      0,
    ]);
    expect(v.wrap(m, at, 3, 0)).toMatchObject({ code: 'E_TRUNCATED', field: 'mname' });
    expect(v.wrap(m, at, soa.length - 1, 0)).toMatchObject({
      code: 'E_TRUNCATED',
      field: 'minimum',
    });
  });
});

describe('record data by type in decode --json', () => {
  it("reads each answer with its type's message, names through pointers into the message", () => {
    const q = [...label('example'), ...label('com'), 0, 0, 15, 0, 1];
    const mx = [0, 10, ...label('mail'), 0xc0, 12];
    const txt = [2, 0x68, 0x69, 0];
    const rr = (type: number, data: number[]): number[] => [
      0xc0,
      12,
      0,
      type,
      0,
      1,
      0,
      0,
      0,
      9,
      0,
      data.length,
      ...data,
    ];
    const bytes = message([...q, ...rr(15, mx), ...rr(16, txt), ...rr(1, [1, 2, 3])], 1, 3);
    const v = new dns.DnsView();
    expect(v.wrap(bytes)).toBeNull();
    const base = { name: 'example.com', class: 1, ttl: 9 };
    expect(answersJSON(v)).toEqual([
      {
        ...base,
        type: 15,
        rdlength: mx.length,
        data: { preference: 10, exchange: 'mail.example.com' },
      },
      { ...base, type: 16, rdlength: 4, data: { strings: [{ length: 2 }, { length: 0 }] } },
      // An A record of 3 bytes is no DnsA: shown without data.
      { ...base, type: 1, rdlength: 3 },
    ]);
  });
});
