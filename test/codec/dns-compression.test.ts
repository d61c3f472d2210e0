/**
 * Name compression on encode (RFC 1035 §4.1.4): encodeDns() ends each name in a pointer to the
 * longest tail already written in the message, shares that state with the question and record
 * encoders, keeps every pointer backwards and below 0x3FFF, and compares labels exactly (case
 * included). Round trips through the decoder, the sizes against uncompressed encoding, and tshark
 * reading a compressed response.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NameCompression, writeName } from '../../src/codec/dns.js';
import { isDecodeError } from '../../src/codec/errors.js';
import { dns, ethernet, ipv4, udp } from '../../src/generated/index.js';
import { PcapWriter } from '../../src/pcap/writer.js';
import { reduceTsharkJson, runTshark } from '../../scripts/tshark-oracle.js';
import {
  dnsAFields,
  dnsAaaaFields,
  dnsFields,
  dnsMxFields,
  dnsName,
  dnsNaptrFields,
  dnsQuestion,
  dnsSoaFields,
  dnsSrvFields,
  dnsTargetFields,
  dnsTxtFields,
} from './arbitraries.js';

function label(text: string): number[] {
  return [text.length, ...[...text].map((c) => c.charCodeAt(0))];
}

function message(
  questions: dns.DnsQuestionFields[],
  answers: dns.DnsRecordFields[],
  authority: dns.DnsRecordFields[] = [],
): dns.DnsFields {
  return {
    id: 0x1234,
    qr: 1,
    opcode: 0,
    aa: 1,
    tc: 0,
    rd: 1,
    ra: 1,
    z: 0,
    rcode: 0,
    questions,
    answers,
    authority,
    additional: [],
  };
}

const a = (name: string, rdata = Uint8Array.of(192, 0, 2, 1)): dns.DnsRecordFields => ({
  name,
  type: 1,
  class: 1,
  ttl: 60,
  rdata,
});

/** Bytes of `f` with every name written whole: its parts encoded one by one, without context. */
function uncompressedLength(f: dns.DnsFields): number {
  const scratch = new Uint8Array(70000);
  let n = 12;
  for (const q of f.questions) n += dns.encodeDnsQuestion(q, scratch, 0);
  for (const r of [...f.answers, ...f.authority, ...f.additional])
    n += dns.encodeDnsRecord(r, scratch, 0);
  return n;
}

/**
 * Every compression pointer in the names of the message at `out[0, n)` (owner names and
 * questions, as the view found them): [where, pointer value].
 */
function pointers(out: Uint8Array, n: number): Array<[number, number]> {
  const v = new dns.DnsView();
  expect(v.wrap(out, 0, n)).toBeNull();
  const found: Array<[number, number]> = [];
  const scan = (start: number): void => {
    let p = start;
    while (out[p] !== 0) {
      if ((out[p] & 0xc0) === 0xc0) {
        found.push([p, ((out[p] & 0x3f) << 8) | out[p + 1]]);
        return;
      }
      p += out[p] + 1;
    }
  };
  const q = v.questions();
  while (q.next()) scan(q.item.nameOffset);
  for (const c of [v.answers(), v.authority(), v.additional()])
    while (c.next()) scan(c.item.nameOffset);
  return found;
}

function roundTrip(f: dns.DnsFields, offset = 0): Uint8Array {
  const out = new Uint8Array(offset + 70000);
  const n = dns.encodeDns(f, out, offset);
  expect(n).toBeGreaterThan(11);
  const got = dns.decodeDns(out, offset, n);
  if (isDecodeError(got)) throw new Error(JSON.stringify(got));
  const withLength = (r: dns.DnsRecordFields): dns.DnsRecordFields => ({
    ...r,
    rdlength: (r.rdata as Uint8Array).length,
  });
  expect(got).toEqual({
    ...f,
    qdcount: f.questions.length,
    ancount: f.answers.length,
    nscount: f.authority.length,
    arcount: f.additional.length,
    answers: f.answers.map(withLength),
    authority: f.authority.map(withLength),
    additional: f.additional.map(withLength),
  });
  return out.slice(offset, offset + n);
}

describe('encodeDns compresses names', () => {
  it('points a repeated name, and a shared tail, at their first copies', () => {
    const bytes = roundTrip(
      message(
        [{ name: 'www.example.com', type: 1, class: 1 }],
        [a('www.example.com'), a('mail.example.com'), a('com')],
      ),
    );
    const question = [...label('www'), ...label('example'), ...label('com'), 0, 0, 1, 0, 1];
    const fixed = [0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1];
    expect([...bytes.subarray(12)]).toEqual([
      ...question,
      ...[0xc0, 12, ...fixed],
      // mail + a pointer to example.com (offset 16)
      ...[...label('mail'), 0xc0, 16, ...fixed],
      // com: offset 24
      ...[0xc0, 24, ...fixed],
    ]);
  });

  it('keeps the root and names without a shared tail whole', () => {
    const f = message([{ name: '', type: 2, class: 1 }], [a(''), a('other.test')]);
    const bytes = roundTrip(f);
    expect(bytes.length).toBe(uncompressedLength(f));
  });

  it('compares labels exactly: names differing in case only are written apart', () => {
    const f = message(
      [{ name: 'WWW.Example.COM', type: 1, class: 1 }],
      [a('www.example.com'), a('www.Example.COM')],
    );
    const bytes = roundTrip(f);
    // the second answer shares Example.COM with the question; the first shares nothing
    // (question 21 bytes from 12, the first answer 31)
    expect(pointers(bytes, bytes.length)).toEqual([[12 + 21 + 31 + 4, 16]]);
  });

  it('never points at a name 0x3FFF or more bytes from the message start', () => {
    const big = new Uint8Array(0x3ff0);
    const f = message(
      [{ name: 'early.example', type: 1, class: 1 }],
      [
        a('filler.example', big),
        // written at about 0x4000: may point back at early.example's tail, is no target itself
        a('late.test'),
        a('late.test'),
        a('x.early.example'),
      ],
    );
    const bytes = roundTrip(f, 5);
    const ps = pointers(bytes, bytes.length);
    for (const [at, value] of ps) {
      expect(value).toBeLessThan(0x3fff);
      expect(value).toBeLessThan(at);
    }
    // both late.test owners are written whole; x.early.example points at early.example (12)
    expect(ps.map(([, v]) => v)).toEqual([18, 12]);
  });

  it('round-trips many distinct names past the target table', () => {
    const answers = Array.from({ length: 150 }, (_, i) => a(`h${i}.zone${i % 7}.example`));
    roundTrip(message([{ name: 'example', type: 1, class: 1 }], answers));
  });

  it('decode(encode(x)) == x, shorter than uncompressed when a name repeats, pointers backwards', () => {
    fc.assert(
      fc.property(dnsFields, fc.nat(9), (f, offset) => {
        const bytes = roundTrip(f, offset);
        const names = [...f.questions, ...f.answers, ...f.authority, ...f.additional]
          .map((x) => x.name.replace(/\.$/, ''))
          .filter((x) => x !== '');
        const repeats = new Set(names).size < names.length;
        const plain = uncompressedLength(f);
        expect(bytes.length).toBeLessThanOrEqual(plain);
        if (repeats) expect(bytes.length).toBeLessThan(plain);
        for (const [at, value] of pointers(bytes, bytes.length)) expect(value).toBeLessThan(at);
      }),
      { numRuns: 300 },
    );
  });

  it('writeName alone (no context) writes the name whole, and refuses what does not fit', () => {
    const out = new Uint8Array(13);
    expect(writeName('a.b', out, 0)).toBe(5);
    expect([...out.subarray(0, 5)]).toEqual([1, 97, 1, 98, 0]);
    const names = new NameCompression().reset(out, 0);
    expect(writeName('a.b', out, 0, names)).toBe(5);
    expect(writeName('x.a.b', out, 5, names)).toBe(9);
    expect([...out.subarray(5, 9)]).toEqual([1, 120, 0xc0, 0]);
    // the pointer form fits where the whole name (7 bytes) would not
    expect(writeName('y.a.b', out, 9, names)).toBe(13);
    expect(writeName('zz.a.b', out, 9, names)).toBe(-1);
    // a context started on other bytes is not consulted
    expect(writeName('a.b', new Uint8Array(8), 0, names)).toBe(5);
  });
});

const tsharkVersion = ((): string | undefined => {
  try {
    return /TShark \(Wireshark\) (\S+)/.exec(
      execFileSync('tshark', ['--version'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    )?.[1];
  } catch {
    return undefined;
  }
})();

describe.skipIf(tsharkVersion === undefined)(
  `tshark reads a compressed response (tshark ${tsharkVersion ?? 'not found'})`,
  () => {
    it('shows every name as encoded', () => {
      const response = message(
        [{ name: 'www.example.com', type: 1, class: 1 }],
        [
          {
            name: 'www.example.com',
            type: 5,
            class: 1,
            ttl: 60,
            rdata: { target: 'web.example.com' },
          },
          a('web.example.com'),
          a('mail.example.com'),
          a('Example.com'),
          {
            name: 'example.com',
            type: 15,
            class: 1,
            ttl: 60,
            rdata: { preference: 5, exchange: 'mail.example.com' },
          },
          {
            name: 'example.com',
            type: 6,
            class: 1,
            ttl: 60,
            rdata: {
              mname: 'ns.example.com',
              rname: 'hostmaster.Example.com',
              serial: 1,
              refresh: 2,
              retry: 3,
              expire: 4,
              minimum: 5,
            },
          },
        ],
      );
      const frame = new Uint8Array(600);
      const dnsAt = 14 + 20 + 8;
      const n = dns.encodeDns(response, frame, dnsAt);
      expect(n).toBeGreaterThan(0);
      const src = 0xc0000201;
      const dst = 0xc0000202;
      udp.encodeUdp({ srcPort: 53, dstPort: 40000 }, frame, 34, n, src, dst);
      ipv4.encodeIpv4(
        {
          version: 4,
          dscp: 0,
          ecn: 0,
          identification: 1,
          flags: 2,
          fragmentOffset: 0,
          ttl: 64,
          protocol: 17,
          src,
          dst,
          options: new Uint8Array(0),
        },
        frame,
        14,
        8 + n,
      );
      ethernet.encodeEthernet(
        { dst: 0x020000000002, src: 0x020000000001, etherType: 0x0800 },
        frame,
        0,
      );
      const dir = mkdtempSync(join(tmpdir(), 'dns-compression-'));
      try {
        const file = join(dir, 'response.pcap');
        const w = PcapWriter.open(file);
        w.write(frame, 0, dnsAt + n, 0);
        w.close();
        const raw = runTshark(file);
        const line = JSON.parse(reduceTsharkJson(raw)) as {
          dns: {
            questions: Array<{ name: string }>;
            answers: Array<{ name: string; type: number }>;
          };
          malformed: boolean;
          expert: unknown[];
        };
        expect(line.dns.questions.map((q) => q.name)).toEqual(['www.example.com']);
        expect(line.dns.answers.map((x) => x.name)).toEqual([
          'www.example.com',
          'web.example.com',
          'mail.example.com',
          'Example.com',
          'example.com',
          'example.com',
        ]);
        // the names inside record data (tshark's JSON, which the oracle reducer leaves out)
        const shown = (key: string): string[] =>
          [...raw.matchAll(new RegExp(`"${key.replace(/\./g, '\\.')}": "([^"]*)"`, 'g'))].map(
            (m) => m[1],
          );
        expect(shown('dns.cname')).toEqual(['web.example.com']);
        expect(shown('dns.mx.mail_exchange')).toEqual(['mail.example.com']);
        expect(shown('dns.soa.mname')).toEqual(['ns.example.com']);
        expect(shown('dns.soa.rname')).toEqual(['hostmaster.Example.com']);
        expect([line.malformed, line.expert]).toEqual([false, []]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

/** Record data as a value of the message its type selects: [type, value]. */
const rdataValue: fc.Arbitrary<[number, dns.DnsRecordRdataFields]> = fc.oneof(
  dnsAFields.map((v): [number, dns.DnsRecordRdataFields] => [1, v]),
  dnsAaaaFields.map((v): [number, dns.DnsRecordRdataFields] => [28, v]),
  fc.tuple(fc.constantFrom(2, 5, 12), dnsTargetFields),
  dnsMxFields.map((v): [number, dns.DnsRecordRdataFields] => [15, v]),
  dnsSoaFields.map((v): [number, dns.DnsRecordRdataFields] => [6, v]),
  dnsSrvFields.map((v): [number, dns.DnsRecordRdataFields] => [33, v]),
  dnsTxtFields.map((v): [number, dns.DnsRecordRdataFields] => [16, v]),
  dnsNaptrFields.map((v): [number, dns.DnsRecordRdataFields] => [35, v]),
);

const valuedRecord: fc.Arbitrary<dns.DnsRecordFields> = fc
  .tuple(dnsName, rdataValue, fc.nat(0xffffffff))
  .map(([name, [type, rdata], ttl]) => ({ name, type, class: 1, ttl, rdata }));

/** Each record of `f`'s sections as its record data message decodes it (bytes when none). */
function recordData(bytes: Uint8Array, offset: number, n: number): unknown[] {
  const v = new dns.DnsView();
  expect(v.wrap(bytes, offset, n)).toBeNull();
  const layouts = new dns.DnsRecordRdataLayouts();
  const out: unknown[] = [];
  for (const c of [v.answers(), v.authority(), v.additional()])
    while (c.next()) {
      const r = c.item;
      // the record data fills rdlength exactly (wrap() checks that too)
      expect(layouts.wrap(r)).toBeNull();
      const at = [r.bytes, r.rdataOffset, r.rdataLength, r.nameOrigin] as const;
      switch (layouts.layout) {
        case 'dnsA':
          out.push(dns.decodeDnsA(at[0], at[1], at[2]));
          break;
        case 'dnsAaaa':
          out.push(dns.decodeDnsAaaa(at[0], at[1], at[2]));
          break;
        case 'dnsTarget':
          out.push(dns.decodeDnsTarget(...at));
          break;
        case 'dnsMx':
          out.push(dns.decodeDnsMx(...at));
          break;
        case 'dnsSoa':
          out.push(dns.decodeDnsSoa(...at));
          break;
        case 'dnsSrv':
          out.push(dns.decodeDnsSrv(...at));
          break;
        case 'dnsTxt':
          out.push(dns.decodeDnsTxt(at[0], at[1], at[2]));
          break;
        case 'dnsNaptr':
          out.push(dns.decodeDnsNaptr(...at));
          break;
        default:
          out.push(r.bytes.slice(r.rdataOffset, r.rdataOffset + r.rdataLength));
      }
    }
  return out;
}

/** What the decoders give for a value: character-strings with their derived length. */
function asDecoded(value: dns.DnsRecordRdataFields | Uint8Array): unknown {
  const withLength = (s: dns.DnsCharacterStringFields): dns.DnsCharacterStringFields => ({
    ...s,
    length: s.data.length,
  });
  if ('strings' in value) return { strings: value.strings.map(withLength) };
  if ('regexp' in value)
    return {
      ...value,
      flags: withLength(value.flags),
      services: withLength(value.services),
      regexp: withLength(value.regexp),
    };
  return value;
}

describe('record data given as values', () => {
  it('compresses CNAME, NS, PTR, MX and SOA names against the message, not SRV or NAPTR targets', () => {
    const f = message(
      [{ name: 'www.example.com', type: 1, class: 1 }],
      [
        {
          name: 'www.example.com',
          type: 5,
          class: 1,
          ttl: 60,
          rdata: { target: 'web.example.com' },
        },
        { name: 'web.example.com', type: 1, class: 1, ttl: 60, rdata: { address: 0xc0000201 } },
        {
          name: 'example.com',
          type: 15,
          class: 1,
          ttl: 60,
          rdata: { preference: 10, exchange: 'web.example.com' },
        },
        {
          name: '_sip._udp.example.com',
          type: 33,
          class: 1,
          ttl: 60,
          rdata: { priority: 1, weight: 2, port: 5060, target: 'web.example.com' },
        },
      ],
    );
    const out = new Uint8Array(512);
    const n = dns.encodeDns(f, out, 0);
    const fixed = (type: number, rdlength: number): number[] => [
      0,
      type,
      0,
      1,
      0,
      0,
      0,
      60,
      0,
      rdlength,
    ];
    const question = [...label('www'), ...label('example'), ...label('com'), 0, 0, 1, 0, 1];
    const cnameAt = 12 + question.length;
    const webAt = cnameAt + 12;
    expect([...out.subarray(12, n)]).toEqual([
      ...question,
      // CNAME: owner -> 12; target "web" + pointer to example.com (16); rdlength 6
      ...[0xc0, 12, ...fixed(5, 6), ...label('web'), 0xc0, 16],
      // A owned by web.example.com: a pointer into the CNAME's record data
      ...[0xc0, webAt, ...fixed(1, 4), 192, 0, 2, 1],
      // MX: owner example.com -> 16, exchange -> the CNAME target
      ...[0xc0, 16, ...fixed(15, 4), 0, 10, 0xc0, webAt],
      // SRV: the owner compresses, the target is written whole (RFC 2782)
      ...[...label('_sip'), ...label('_udp'), 0xc0, 16, ...fixed(33, 23)],
      ...[0, 1, 0, 2, 0x13, 0xc4, ...label('web'), ...label('example'), ...label('com'), 0],
    ]);
    expect(recordData(out, 0, n)).toEqual(f.answers.map((r) => r.rdata));
  });

  it('rdlength is the compressed size; encodeDnsRecord alone writes the names whole', () => {
    const r: dns.DnsRecordFields = {
      name: 'a.example',
      type: 6,
      class: 1,
      ttl: 1,
      rdata: {
        mname: 'ns.a.example',
        rname: 'hostmaster.a.example',
        serial: 1,
        refresh: 2,
        retry: 3,
        expire: 4,
        minimum: 5,
      },
    };
    const out = new Uint8Array(200);
    const alone = dns.encodeDnsRecord(r, out, 0);
    const v = new dns.DnsRecordView();
    expect(v.wrap(out, 0, alone)).toBeNull();
    // ns.a.example (14 bytes) and hostmaster.a.example (22) whole, then five u32
    expect(v.rdlength).toBe(14 + 22 + 20);
    const n = dns.encodeDns(message([], [r, r]), out, 0);
    const records = recordData(out, 0, n);
    expect(records).toEqual([r.rdata, r.rdata]);
    // the second record's data is two pointers and the five numbers
    const m = new dns.DnsView();
    m.wrap(out, 0, n);
    const c = m.answers();
    c.next();
    c.next();
    expect(c.item.rdlength).toBe(2 + 2 + 20);
    // an explicit rdlength is written as given
    expect(dns.encodeDnsRecord({ ...r, rdlength: 7 }, out, 0)).toBeGreaterThan(0);
    expect(v.wrap(out, 0, 200)).toBeNull();
    expect(v.rdlength).toBe(7);
  });

  it('refuses a value for a type that selects no message, and a value too big for out', () => {
    const out = new Uint8Array(64);
    const bad = { name: 'x', type: 99, class: 1, ttl: 1, rdata: { target: 'y' } };
    expect(dns.encodeDnsRecord(bad, out, 0)).toBe(-1);
    const big = { name: 'x', type: 5, class: 1, ttl: 1, rdata: { target: 'y'.repeat(60) } };
    expect(dns.encodeDnsRecord(big, out, 0)).toBe(-1);
  });

  it('round-trips values through the record data views, pointers backwards', () => {
    fc.assert(
      fc.property(
        fc.array(valuedRecord, { maxLength: 6 }),
        fc.array(dnsQuestion, { maxLength: 2 }),
        fc.nat(9),
        (records, questions, offset) => {
          const f = message(questions, records.slice(0, 4), records.slice(4));
          const out = new Uint8Array(offset + 8192);
          const n = dns.encodeDns(f, out, offset);
          expect(n).toBeGreaterThan(11);
          expect(recordData(out, offset, n)).toEqual(records.map((r) => asDecoded(r.rdata)));
          const bytes = out.slice(offset, offset + n);
          for (const [at, value] of pointers(bytes, n)) expect(value).toBeLessThan(at);
        },
      ),
      { numRuns: 300 },
    );
  });
});
