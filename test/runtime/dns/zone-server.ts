/**
 * A tiny authoritative DNS server as a function from query bytes to response bytes, written
 * with the generated encoder (specs/dns.pkt), for any UDP socket to serve: the stack's, or
 * node:dgram's on the kernel's loopback (so node:dns and stack.dns can be asked the same zone).
 * It answers the records of the asked type with the CNAMEs on the way, NODATA (SOA in the
 * authority section) for a name without that type, NXDOMAIN for a name it does not hold, and
 * a fixed rcode for names listed in `failures`.
 */
import { parseIpv4 } from '../../../src/codec/address.js';
import { dns } from '../../../src/generated/index.js';
import { encodeResponse } from './encoded-zone.js';
import { parseQuery } from './fake-dns.js';

export type ZoneValue =
  | { type: 'A' | 'AAAA' | 'CNAME' | 'NS' | 'PTR'; data: string }
  | { type: 'MX'; priority: number; exchange: string }
  | { type: 'TXT'; data: string[] }
  | { type: 'SRV'; priority: number; weight: number; port: number; name: string };

export interface Zone {
  records: Record<string, ZoneValue[]>;
  /** Names answered with this rcode (SERVFAIL, REFUSED...). */
  failures?: Record<string, number>;
  ttl?: number;
}

const T = dns.DnsType;
const TYPES: Record<ZoneValue['type'], number> = {
  A: T.A,
  AAAA: T.AAAA,
  CNAME: T.CNAME,
  NS: T.NS,
  PTR: T.PTR,
  MX: T.MX,
  TXT: T.TXT,
  SRV: T.SRV,
};

function rdata(v: ZoneValue): dns.DnsRecordFields['rdata'] {
  switch (v.type) {
    case 'A':
      return { address: parseIpv4(v.data) };
    case 'AAAA':
      return { address: v.data };
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return { target: v.data };
    case 'MX':
      return { preference: v.priority, exchange: v.exchange };
    case 'TXT':
      return { strings: v.data.map((s) => ({ data: Buffer.from(s) })) };
    case 'SRV':
      return { priority: v.priority, weight: v.weight, port: v.port, target: v.name };
  }
}

const SOA: dns.DnsRecordFields = {
  name: 'test',
  type: T.SOA,
  class: dns.DnsClass.IN,
  ttl: 300,
  rdata: {
    mname: 'ns.test',
    rname: 'admin.test',
    serial: 7,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 60,
  },
};

/** The response to `query` (a datagram a client sent), or null when it is no query. */
export function answerQuery(zone: Zone, query: Uint8Array): Uint8Array | null {
  let q: { id: number; name: string; qtype: number };
  try {
    q = parseQuery(query);
  } catch {
    return null;
  }
  const ttl = zone.ttl ?? 300;
  const answers: dns.DnsRecordFields[] = [];
  let rcode: number = dns.DnsRcode.NoError;
  let authority: dns.DnsRecordFields[] = [];
  let name = q.name.toLowerCase();
  const failure = zone.failures?.[name];
  if (failure !== undefined) {
    rcode = failure;
  } else if (q.qtype === T.SOA && name === 'test') {
    answers.push(SOA);
  } else {
    for (let hops = 0; hops < 8; hops++) {
      const records = zone.records[name];
      if (records === undefined) {
        if (answers.length === 0) {
          rcode = dns.DnsRcode.NXDomain;
          authority = [SOA];
        }
        break;
      }
      const cname = records.find((r) => r.type === 'CNAME');
      if (cname !== undefined && q.qtype !== T.CNAME) {
        answers.push({ name, type: T.CNAME, class: dns.DnsClass.IN, ttl, rdata: rdata(cname) });
        name = (cname as { data: string }).data;
        continue;
      }
      const matching = records.filter((r) => TYPES[r.type] === q.qtype);
      for (const r of matching)
        answers.push({ name, type: q.qtype, class: dns.DnsClass.IN, ttl, rdata: rdata(r) });
      if (matching.length === 0) authority = [SOA];
      break;
    }
  }
  return encodeResponse(q, { rcode, answers, authority });
}

/** The zone both the stack-side and node-side DNS tests ask. */
export const TEST_ZONE: Zone = {
  records: {
    'www.test': [
      { type: 'A', data: '10.0.0.80' },
      { type: 'A', data: '10.0.0.81' },
      { type: 'AAAA', data: 'fd00::80' },
    ],
    'alias.test': [{ type: 'CNAME', data: 'www.test' }],
    'v6only.test': [{ type: 'AAAA', data: 'fd00::66' }],
    'mail.test': [
      { type: 'MX', priority: 10, exchange: 'mx1.test' },
      { type: 'MX', priority: 20, exchange: 'mx2.test' },
      { type: 'TXT', data: ['v=spf1 -all'] },
      { type: 'TXT', data: ['two', 'chunks'] },
      { type: 'NS', data: 'ns.test' },
    ],
    '_sip._udp.test': [{ type: 'SRV', priority: 1, weight: 5, port: 5060, name: 'sip.test' }],
    '80.0.0.10.in-addr.arpa': [{ type: 'PTR', data: 'www.test' }],
    '0.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa': [
      { type: 'PTR', data: 'www.test' },
    ],
  },
  failures: { 'broken.test': dns.DnsRcode.ServFail, 'refused.test': dns.DnsRcode.Refused },
};
