/**
 * DNS messages as the stub resolver writes and reads them (RFC 1035 §4), on top of the
 * generated codec (`encodeDns`, `DnsView` with its question and record cursors): one-question
 * queries with RD set, and responses checked against the query (id, QR, opcode, question)
 * before any of their records are believed. Failures are values, not exceptions.
 */
import { dns } from '../../generated/index.js';
import { formatIpv4, formatIpv6 } from '../../codec/address.js';
import type { DecodeError } from '../../codec/errors.js';

export const DnsType = dns.DnsType;
export const DnsClass = dns.DnsClass;
export const DnsRcode = dns.DnsRcode;

const HEADER = dns.DNS_FIXED_SIZE;

/** Builds a standard query for `name` (canonical, see canonicalName) and `qtype`, class IN. */
export function buildQuery(id: number, name: string, qtype: number): Uint8Array {
  const out = new Uint8Array(HEADER + name.length + 2 + 4);
  const n = dns.encodeDns(
    {
      id,
      qr: 0,
      opcode: 0,
      aa: 0,
      tc: 0,
      rd: 1,
      ra: 0,
      z: 0,
      rcode: 0,
      questions: [{ name, type: qtype, class: DnsClass.IN }],
      answers: [],
      authority: [],
      additional: [],
    },
    out,
    0,
  );
  if (n !== out.length) throw new RangeError(`cannot encode a query for "${name}"`);
  return out;
}

/**
 * Why a datagram is not the answer to our query. These are ignored (and counted), never
 * reported as errors: a spoofer or a stray late answer must not be able to fail a lookup.
 */
export type DnsMismatch = 'short' | 'not_response' | 'wrong_id' | 'wrong_opcode' | 'wrong_question';

/** Why a response that did answer our question cannot be used (reported as EBADRESP). */
export type DnsParseFailure =
  'truncated' | 'pointer-loop' | 'bad-pointer' | 'bad-name' | 'malformed' | 'bad-rdata';

export interface DnsRecord {
  /** Owner name, canonical (lower case, no trailing dot). */
  name: string;
  type: number;
  ttl: number;
  /** A or AAAA: the address as text ("10.0.0.7", "fd00::7"). */
  address: string;
  /** CNAME: the target name. */
  target: string;
  /** SOA: the MINIMUM field (RFC 2308 §4: the negative caching TTL bound). */
  soaMinimum: number;
  /** The record as node:dns's resolve* gives it, for the type asked for (see DnsValue). */
  value: DnsValue;
}

/** node:dns's resolveMx / resolveSrv / resolveSoa record shapes. */
export interface MxRecord {
  exchange: string;
  priority: number;
}
export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}
export interface SoaRecord {
  nsname: string;
  hostmaster: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minttl: number;
}

/**
 * One answer as node:dns returns it: address or name text (A, AAAA, CNAME, NS, PTR), the
 * strings of a TXT record, or an MX, SRV or SOA object.
 */
export type DnsValue = string | string[] | MxRecord | SrvRecord | SoaRecord;

export interface DnsResponse {
  rcode: number;
  /** TC: the server cut the answer short (we do not retry over TCP; the caller reports it). */
  truncated: boolean;
  authoritative: boolean;
  answers: DnsRecord[];
  authority: DnsRecord[];
}

/** Reused: one response is read at a time and nothing keeps a reference to these. */
const view = new dns.DnsView();
/** The header and question of a response, read before (and without) its records. */
const head = new dns.DnsHeadView();

function failureOf(e: DecodeError): DnsParseFailure {
  if (e.code === 'E_POINTER_LOOP') return 'pointer-loop';
  if (e.code === 'E_BAD_POINTER') return 'bad-pointer';
  if (e.code === 'E_BAD_NAME') return 'bad-name';
  return 'malformed';
}

/**
 * Checks that `msg[0, length)` answers query (`id`, `qname`, `qtype`, class IN). Returns the
 * offset where the answer section starts, or why it does not match. Only the header and the
 * question are read here, so a response is recognised as ours (or not) even when its records
 * are broken: broken records from the server we asked are an error to report (EBADRESP),
 * anything that is not provably ours is ignored.
 */
export function matchResponse(
  msg: Uint8Array,
  length: number,
  id: number,
  qname: string,
  qtype: number,
): number | DnsMismatch {
  if (length < HEADER || length > msg.length) return 'short';
  const h = head;
  // Only a question that does not decode fails here (the header fits): not ours to believe.
  if (h.wrap(msg, 0, length) !== null) return 'wrong_question';
  if (h.qr === 0) return 'not_response';
  if (h.id !== id) return 'wrong_id';
  if (h.opcode !== dns.DnsOpcode.Query) return 'wrong_opcode';
  if (h.qdcount !== 1) return 'wrong_question';
  const q = h.questions();
  // wrap() walked the name; its text is what the resolver compares, lower-cased.
  if (!q.next() || q.item.nameText().toLowerCase() !== qname) return 'wrong_question';
  if (q.item.type !== qtype || q.item.class !== DnsClass.IN) return 'wrong_question';
  return h.recordsOffset;
}

/** Record data views (specs/dns.pkt), wrapped over a record's RDATA with the message start as origin. */
const a = new dns.DnsAView();
const aaaa = new dns.DnsAaaaView();
const target = new dns.DnsTargetView();
const soa = new dns.DnsSoaView();
const mx = new dns.DnsMxView();
const srv = new dns.DnsSrvView();
const txt = new dns.DnsTxtView();

/**
 * Wraps `v` over the cursor's RDATA (names may point anywhere before it in `msg`): null when the
 * data is exactly one such value, else the failure.
 */
function wrapRdata(
  v: {
    wrap(b: Uint8Array, o: number, l: number, origin: number): DecodeError | null;
    messageLength: number;
  },
  msg: Uint8Array,
  rr: dns.DnsRecordView,
): DnsParseFailure | null {
  const err = v.wrap(msg, rr.rdataOffset, rr.rdataLength, rr.nameOrigin);
  if (err !== null) return err.code === 'E_TRUNCATED' ? 'bad-rdata' : failureOf(err);
  return v.messageLength === rr.rdataLength ? null : 'bad-rdata';
}

/** Wraps an address view (no names inside) over the RDATA, which it must fill exactly. */
function wrapAddress(
  v: { wrap(b: Uint8Array, o: number, l: number): DecodeError | null },
  size: number,
  msg: Uint8Array,
  rr: dns.DnsRecordView,
): DnsParseFailure | null {
  if (rr.rdataLength !== size) return 'bad-rdata';
  return v.wrap(msg, rr.rdataOffset, rr.rdataLength) === null ? null : 'bad-rdata';
}

/** The `qtype` (A or AAAA), CNAME or SOA data of record `c`, or null for other types. */
function readRecord(
  msg: Uint8Array,
  c: dns.DnsRecordView,
  qtype: number,
): DnsRecord | null | DnsParseFailure {
  const type = c.type;
  if (type !== qtype && type !== DnsType.CNAME && type !== DnsType.SOA) return null;
  const record: DnsRecord = {
    // wrap() walked the owner name; the resolver compares names lower-cased.
    name: c.nameText().toLowerCase(),
    type,
    // RFC 2181 §8: a TTL with the top bit set is treated as zero.
    ttl: c.ttl > 0x7fffffff ? 0 : c.ttl,
    address: '',
    target: '',
    soaMinimum: 0,
    value: '',
  };
  // The view checked record bounds, not names inside RDATA: these views check them.
  if (type === DnsType.A) {
    const bad = wrapAddress(a, dns.DNSA_FIXED_SIZE, msg, c);
    if (bad !== null) return bad;
    record.address = formatIpv4(a.address);
    record.value = record.address;
  } else if (type === DnsType.AAAA) {
    const bad = wrapAddress(aaaa, dns.DNSAAAA_FIXED_SIZE, msg, c);
    if (bad !== null) return bad;
    record.address = formatIpv6(msg, aaaa.addressOffset);
    record.value = record.address;
  } else if (type === DnsType.CNAME) {
    const bad = wrapRdata(target, msg, c);
    if (bad !== null) return bad;
    record.target = target.targetText().toLowerCase();
    record.value = record.target;
  } else if (type === DnsType.SOA) {
    const bad = wrapRdata(soa, msg, c);
    if (bad !== null) return bad;
    record.soaMinimum = soa.minimum;
    record.value = {
      nsname: soa.mnameText(),
      hostmaster: soa.rnameText(),
      serial: soa.serial,
      refresh: soa.refresh,
      retry: soa.retry,
      expire: soa.expire,
      minttl: soa.minimum,
    };
  } else if (type === DnsType.PTR || type === DnsType.NS) {
    const bad = wrapRdata(target, msg, c);
    if (bad !== null) return bad;
    record.value = target.targetText();
  } else if (type === DnsType.MX) {
    const bad = wrapRdata(mx, msg, c);
    if (bad !== null) return bad;
    record.value = { exchange: mx.exchangeText(), priority: mx.preference };
  } else if (type === DnsType.SRV) {
    const bad = wrapRdata(srv, msg, c);
    if (bad !== null) return bad;
    record.value = {
      name: srv.targetText(),
      port: srv.port,
      priority: srv.priority,
      weight: srv.weight,
    };
  } else if (type === DnsType.TXT) {
    if (txt.wrap(msg, c.rdataOffset, c.rdataLength) !== null) return 'bad-rdata';
    const strings: string[] = [];
    const cursor = txt.strings();
    while (cursor.next()) {
      const s = cursor.item;
      strings.push(Buffer.from(msg.subarray(s.dataOffset, s.dataOffset + s.dataLength)).toString());
    }
    record.value = strings;
  } else {
    return null; // another type asked for: nothing of it is read
  }
  return record;
}

/**
 * Reads a response already matched by matchResponse. A truncated response is returned with
 * `truncated` set and no records: its sections may be cut anywhere. Records of the additional
 * section, of classes other than IN and of types other than `qtype` (A or AAAA), CNAME and
 * SOA are skipped (a stub resolver has no use for them).
 */
export function parseResponse(
  msg: Uint8Array,
  length: number,
  qtype: number = DnsType.A,
): DnsResponse | DnsParseFailure {
  const h = head;
  if (h.wrap(msg, 0, length) !== null) return 'malformed';
  const response: DnsResponse = {
    rcode: h.rcode,
    truncated: h.tc !== 0,
    authoritative: h.aa !== 0,
    answers: [],
    authority: [],
  };
  if (response.truncated) return response;
  const v = view;
  const err = v.wrap(msg, 0, length);
  if (err !== null) return failureOf(err);
  for (const [c, into] of [
    [v.answers(), response.answers],
    [v.authority(), response.authority],
  ] as const) {
    while (c.next()) {
      if (c.item.class !== DnsClass.IN) continue;
      const r = readRecord(msg, c.item, qtype);
      if (r === null) continue;
      if (typeof r === 'string') return r;
      into.push(r);
    }
  }
  return response;
}
