/**
 * DNS messages as the stub resolver writes and reads them (RFC 1035 §4): one-question queries
 * with RD set, and responses checked against the query (id, QR, opcode, question) before any of
 * their records are believed. Every read is bounds-checked; failures are values, not exceptions.
 */
import { readName, wireNameLength, writeName, type NameError } from './name.js';

export const DnsType = { A: 1, NS: 2, CNAME: 5, SOA: 6, AAAA: 28 } as const;
export const DnsClass = { IN: 1 } as const;
export const DnsRcode = {
  NoError: 0,
  FormErr: 1,
  ServFail: 2,
  NxDomain: 3,
  NotImp: 4,
  Refused: 5,
} as const;

const HEADER = 12;
const FLAG_QR = 0x8000;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const OPCODE_MASK = 0x7800;

/** Builds a standard query for `name` (canonical, see canonicalName) and `qtype`, class IN. */
export function buildQuery(id: number, name: string, qtype: number): Uint8Array {
  const out = new Uint8Array(HEADER + wireNameLength(name) + 4);
  out[0] = (id >>> 8) & 0xff;
  out[1] = id & 0xff;
  out[2] = FLAG_RD >>> 8;
  out[5] = 1; // qdcount
  let i = writeName(name, out, HEADER);
  out[i++] = qtype >>> 8;
  out[i++] = qtype & 0xff;
  out[i++] = 0;
  out[i] = DnsClass.IN;
  return out;
}

/**
 * Why a datagram is not the answer to our query. These are ignored (and counted), never
 * reported as errors: a spoofer or a stray late answer must not be able to fail a lookup.
 */
export type DnsMismatch = 'short' | 'not_response' | 'wrong_id' | 'wrong_opcode' | 'wrong_question';

/** Why a response that did answer our question cannot be used (reported as EBADRESP). */
export type DnsParseFailure = 'truncated' | 'pointer-loop' | 'bad-name' | 'malformed';

export interface DnsRecord {
  /** Owner name, canonical (lower case, no trailing dot). */
  name: string;
  type: number;
  ttl: number;
  /** A: the address. */
  address: number;
  /** CNAME: the target name. */
  target: string;
  /** SOA: the MINIMUM field (RFC 2308 §4: the negative caching TTL bound). */
  soaMinimum: number;
}

export interface DnsResponse {
  rcode: number;
  /** TC: the server cut the answer short (we do not retry over TCP; the caller reports it). */
  truncated: boolean;
  authoritative: boolean;
  answers: DnsRecord[];
  authority: DnsRecord[];
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function nameFailure(e: NameError): DnsParseFailure {
  if (e === 'E_POINTER_LOOP') return 'pointer-loop';
  if (e === 'E_BAD_NAME') return 'bad-name';
  return 'malformed';
}

/**
 * Checks that `msg[0, length)` answers query (`id`, `qname`, `qtype`, class IN). Returns the
 * offset where the answer section starts, or why it does not match.
 */
export function matchResponse(
  msg: Uint8Array,
  length: number,
  id: number,
  qname: string,
  qtype: number,
): number | DnsMismatch {
  if (length < HEADER || length > msg.length) return 'short';
  const flags = u16(msg, 2);
  if ((flags & FLAG_QR) === 0) return 'not_response';
  if (u16(msg, 0) !== id) return 'wrong_id';
  if ((flags & OPCODE_MASK) !== 0) return 'wrong_opcode';
  if (u16(msg, 4) !== 1) return 'wrong_question';
  const q = readName(msg, length, HEADER);
  if (typeof q === 'string') return 'wrong_question';
  if (q.end + 4 > length) return 'wrong_question';
  if (q.name !== qname || u16(msg, q.end) !== qtype || u16(msg, q.end + 2) !== DnsClass.IN)
    return 'wrong_question';
  return q.end + 4;
}

/** Reads `count` records from `at`; returns the offset after them or a failure. */
function readRecords(
  msg: Uint8Array,
  length: number,
  at: number,
  count: number,
  into: DnsRecord[],
): number | DnsParseFailure {
  let pos = at;
  for (let k = 0; k < count; k++) {
    const owner = readName(msg, length, pos);
    if (typeof owner === 'string') return nameFailure(owner);
    pos = owner.end;
    if (pos + 10 > length) return 'malformed';
    const type = u16(msg, pos);
    const cls = u16(msg, pos + 2);
    const rawTtl = u32(msg, pos + 4);
    const rdlength = u16(msg, pos + 8);
    const rdata = pos + 10;
    const rdataEnd = rdata + rdlength;
    if (rdataEnd > length) return 'malformed';
    pos = rdataEnd;
    if (cls !== DnsClass.IN) continue;
    const record: DnsRecord = {
      name: owner.name,
      type,
      // RFC 2181 §8: a TTL with the top bit set is treated as zero.
      ttl: rawTtl > 0x7fffffff ? 0 : rawTtl,
      address: 0,
      target: '',
      soaMinimum: 0,
    };
    if (type === DnsType.A) {
      if (rdlength !== 4) return 'malformed';
      record.address = u32(msg, rdata);
    } else if (type === DnsType.CNAME) {
      const target = readName(msg, length, rdata);
      if (typeof target === 'string') return nameFailure(target);
      if (target.end !== rdataEnd) return 'malformed';
      record.target = target.name;
    } else if (type === DnsType.SOA) {
      const mname = readName(msg, length, rdata);
      if (typeof mname === 'string') return nameFailure(mname);
      const rname = readName(msg, length, mname.end);
      if (typeof rname === 'string') return nameFailure(rname);
      if (rname.end + 20 !== rdataEnd) return 'malformed';
      record.soaMinimum = u32(msg, rname.end + 16);
    } else {
      continue; // other types are skipped: we only need A, CNAME and SOA
    }
    into.push(record);
  }
  return pos;
}

/**
 * Reads a response already matched by matchResponse (`answersAt` is its result). A truncated
 * response is returned with `truncated` set and no records: its sections may be cut anywhere.
 * The additional section is not read (a stub resolver has no use for glue).
 */
export function parseResponse(
  msg: Uint8Array,
  length: number,
  answersAt: number,
): DnsResponse | DnsParseFailure {
  const flags = u16(msg, 2);
  const response: DnsResponse = {
    rcode: flags & 0x0f,
    truncated: (flags & FLAG_TC) !== 0,
    authoritative: (flags & 0x0400) !== 0,
    answers: [],
    authority: [],
  };
  if (response.truncated) return response;
  const afterAnswers = readRecords(msg, length, answersAt, u16(msg, 6), response.answers);
  if (typeof afterAnswers === 'string') return afterAnswers;
  const afterAuthority = readRecords(msg, length, afterAnswers, u16(msg, 8), response.authority);
  if (typeof afterAuthority === 'string') return afterAuthority;
  return response;
}
