/**
 * A fake DNS server whose answers are written by the generated encoder (`dns.encodeDns` from
 * specs/dns.pkt), with record data given as values (A, AAAA, CNAME, SOA) or, for hostile tests,
 * as raw bytes. It answers like an authoritative server: the records of the asked type and
 * the CNAMEs on the way, NODATA (NOERROR, SOA in authority) for a name without that type,
 * NXDOMAIN for a name it does not hold.
 */
import { parseIpv4 } from '../../../src/codec/address.js';
import { dns } from '../../../src/generated/index.js';
import type { Reply, SentQuery } from './fake-dns.js';

export interface ZoneRecord {
  name: string;
  type: 'A' | 'AAAA' | 'CNAME' | 'TXT';
  ttl: number;
  /** A / AAAA: the address text; CNAME: the target. */
  data: string;
  /** Record data written as these bytes instead (record data of a wrong size...). */
  rawData?: Uint8Array;
}

const TYPE = { A: dns.DnsType.A, AAAA: dns.DnsType.AAAA, CNAME: dns.DnsType.CNAME, TXT: 16 };

function recordFields(r: ZoneRecord): dns.DnsRecordFields {
  const type = TYPE[r.type];
  let rdata: dns.DnsRecordFields['rdata'];
  if (r.rawData !== undefined) rdata = r.rawData;
  else if (r.type === 'A') rdata = { address: parseIpv4(r.data) };
  else if (r.type === 'AAAA') rdata = { address: r.data };
  else if (r.type === 'CNAME') rdata = { target: r.data };
  else rdata = Uint8Array.of(2, 104, 105);
  return { name: r.name, type, class: dns.DnsClass.IN, ttl: r.ttl, rdata };
}

function soa(minimum: number): dns.DnsRecordFields {
  return {
    name: 'test',
    type: dns.DnsType.SOA,
    class: dns.DnsClass.IN,
    ttl: 300,
    rdata: {
      mname: 'ns.test',
      rname: 'admin.test',
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum,
    },
  };
}

export interface EncodeOptions extends Omit<ResponseParts, 'answers' | 'authority'> {
  answers?: ZoneRecord[];
  /** An SOA with this MINIMUM in the authority section. */
  soaMinimum?: number;
}

/** What an authoritative response to a query holds besides its header's fixed bits. */
export interface ResponseParts {
  rcode?: number;
  tc?: boolean;
  /** The question as sent back (default: the query's). */
  qname?: string;
  qtype?: number;
  answers?: dns.DnsRecordFields[];
  authority?: dns.DnsRecordFields[];
}

/** An authoritative response to `q` (recursion available), written by the generated encoder. */
export function encodeResponse(
  q: { id: number; name: string; qtype: number },
  parts: ResponseParts,
): Uint8Array {
  const out = new Uint8Array(4096);
  const n = dns.encodeDns(
    {
      id: q.id,
      qr: 1,
      opcode: dns.DnsOpcode.Query,
      aa: 1,
      tc: parts.tc === true ? 1 : 0,
      rd: 1,
      ra: 1,
      z: 0,
      rcode: parts.rcode ?? dns.DnsRcode.NoError,
      questions: [
        { name: parts.qname ?? q.name, type: parts.qtype ?? q.qtype, class: dns.DnsClass.IN },
      ],
      answers: parts.answers ?? [],
      authority: parts.authority ?? [],
      additional: [],
    },
    out,
    0,
  );
  if (n < 0) throw new Error('encodeDns failed');
  return out.slice(0, n);
}

/** A response to `q` with `o.answers` as zone records. */
export function encodeAnswer(q: SentQuery, o: EncodeOptions = {}): Uint8Array {
  const { answers, soaMinimum, ...header } = o;
  return encodeResponse(q, {
    ...header,
    answers: (answers ?? []).map(recordFields),
    authority: soaMinimum === undefined ? [] : [soa(soaMinimum)],
  });
}

/**
 * Answers `q` from `zone` (owner name → its records, CNAMEs included). A CNAME is followed
 * within the zone, as a server holding the target does; `openChains` leaves targets for the
 * resolver to ask about.
 */
export function encodedZone(
  zone: Record<string, ZoneRecord[]>,
  options: { soaMinimum?: number; openChains?: boolean } = {},
): (q: SentQuery) => Reply[] {
  const soaMinimum = options.soaMinimum ?? 60;
  return (q) => {
    const answers: ZoneRecord[] = [];
    let name = q.name.toLowerCase();
    for (let hops = 0; hops < 16; hops++) {
      const records = zone[name];
      if (records === undefined) {
        if (answers.length > 0) break; // a chain to a name held elsewhere
        return [{ bytes: encodeAnswer(q, { rcode: dns.DnsRcode.NXDomain, soaMinimum }) }];
      }
      const cname = records.find((r) => r.type === 'CNAME');
      if (cname !== undefined && q.qtype !== dns.DnsType.CNAME) {
        answers.push(cname);
        if (options.openChains === true) break;
        name = cname.data;
        continue;
      }
      answers.push(...records.filter((r) => TYPE[r.type] === q.qtype));
      break;
    }
    const noData = !answers.some((r) => TYPE[r.type] === q.qtype);
    return [
      {
        bytes: encodeAnswer(q, {
          answers,
          soaMinimum: noData && options.openChains !== true ? soaMinimum : undefined,
        }),
      },
    ];
  };
}
