/**
 * DNS message parts the generated DNS view delegates to (RFC 1035 §4.1): name validation with
 * compression pointers, question and resource-record cursors, names as text, and the encoder
 * with name compression.
 *
 * Limits when following a name: at most 255 bytes on the wire (labels, length bytes and the root
 * byte), labels of at most 63 bytes, label types 01/10 rejected, and every compression pointer
 * must point strictly before the start of the label run it ends (so a walk always moves
 * backwards and terminates), with at most MAX_JUMPS jumps as a second guard.
 */
import { type DecodeError, fail, newDecodeError } from './errors.js';
import { formatHex, formatIpv4, formatIpv6, readIpv4 } from './address.js';

export const MAX_NAME_LENGTH = 255;
export const MAX_LABEL_LENGTH = 63;
export const MAX_JUMPS = 128;

const EMPTY = new Uint8Array(0);

/** Sections of `records()`, in wire order. */
export const DnsSection = { Answer: 0, Authority: 1, Additional: 2 } as const;

const SECTION_FIELDS = ['answers', 'authority', 'additional'] as const;
const SECTION_NAME_FIELDS = ['answers.name', 'authority.name', 'additional.name'] as const;

/**
 * Validates the name at `pos` (following pointers) and returns the index just after it in
 * place, or -1 after filling `error`. Allocates nothing.
 */
export function walkName(
  bytes: Uint8Array,
  msgOffset: number,
  msgLength: number,
  pos: number,
  error: DecodeError,
  field: string,
): number {
  const msgEnd = msgOffset + msgLength;
  let p = pos;
  let segmentStart = pos;
  let after = -1;
  let wireLength = 1; // the root byte
  let jumps = 0;
  for (;;) {
    if (p >= msgEnd) {
      fail(error, 'E_TRUNCATED', field, p);
      return -1;
    }
    const b = bytes[p];
    if (b === 0) return after < 0 ? p + 1 : after;
    const kind = b & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= msgEnd) {
        fail(error, 'E_TRUNCATED', field, p);
        return -1;
      }
      const target = msgOffset + (((b & 0x3f) << 8) | bytes[p + 1]);
      if (after < 0) after = p + 2;
      if (target >= segmentStart || ++jumps > MAX_JUMPS) {
        fail(error, 'E_POINTER_LOOP', field, p);
        return -1;
      }
      p = target;
      segmentStart = target;
      continue;
    }
    if (kind !== 0) {
      fail(error, 'E_BAD_NAME', field, p);
      return -1;
    }
    wireLength += b + 1;
    if (wireLength > MAX_NAME_LENGTH) {
      fail(error, 'E_BAD_NAME', field, p);
      return -1;
    }
    if (p + 1 + b > msgEnd) {
      fail(error, 'E_TRUNCATED', field, p);
      return -1;
    }
    p += 1 + b;
  }
}

/** Index after the name at `pos` without following pointers; -1 when it runs past `end`. */
function skipName(bytes: Uint8Array, pos: number, end: number): number {
  let p = pos;
  while (p < end) {
    const b = bytes[p];
    if (b === 0) return p + 1;
    if ((b & 0xc0) === 0xc0) return p + 2 <= end ? p + 2 : -1;
    if ((b & 0xc0) !== 0) return -1;
    p += 1 + b;
  }
  return -1;
}

/** wrap() step: validates `count` questions from `pos`; returns the index after them or -1. */
export function walkDnsQuestions(
  bytes: Uint8Array,
  msgOffset: number,
  msgLength: number,
  pos: number,
  count: number,
  error: DecodeError,
): number {
  const msgEnd = msgOffset + msgLength;
  let p = pos;
  for (let i = 0; i < count; i++) {
    p = walkName(bytes, msgOffset, msgLength, p, error, 'questions.name');
    if (p < 0) return -1;
    if (p + 4 > msgEnd) {
      fail(error, 'E_TRUNCATED', 'questions', p);
      return -1;
    }
    p += 4;
  }
  return p;
}

/** wrap() step: validates `count` resource records from `pos`; returns the index after them or -1. */
export function walkDnsRecords(
  bytes: Uint8Array,
  msgOffset: number,
  msgLength: number,
  pos: number,
  answers: number,
  authority: number,
  additional: number,
  error: DecodeError,
): number {
  const msgEnd = msgOffset + msgLength;
  const total = answers + authority + additional;
  let p = pos;
  for (let i = 0; i < total; i++) {
    const section = i < answers ? 0 : i < answers + authority ? 1 : 2;
    p = walkName(bytes, msgOffset, msgLength, p, error, SECTION_NAME_FIELDS[section]);
    if (p < 0) return -1;
    if (p + 10 > msgEnd) {
      fail(error, 'E_TRUNCATED', SECTION_FIELDS[section], p);
      return -1;
    }
    const rdlength = (bytes[p + 8] << 8) | bytes[p + 9];
    if (p + 10 + rdlength > msgEnd) {
      fail(error, 'E_TRUNCATED', SECTION_FIELDS[section], p + 8);
      return -1;
    }
    p += 10 + rdlength;
  }
  return p;
}

/** Non-allocating cursor over the question section. */
export class DnsQuestionCursor {
  /** Absolute offset of the question's name (for readName). */
  nameOffset = 0;
  type = 0;
  class = 0;
  /** Index of the current question. */
  index = -1;
  bytes: Uint8Array = EMPTY;
  msgOffset = 0;
  msgLength = 0;
  private pos = 0;
  private remaining = 0;

  reset(bytes: Uint8Array, msgOffset: number, msgLength: number, pos: number, count: number): this {
    this.bytes = bytes;
    this.msgOffset = msgOffset;
    this.msgLength = msgLength;
    this.pos = pos;
    this.remaining = count;
    this.index = -1;
    return this;
  }

  next(): boolean {
    if (this.remaining <= 0) return false;
    const end = this.msgOffset + this.msgLength;
    const after = skipName(this.bytes, this.pos, end);
    if (after < 0 || after + 4 > end) {
      this.remaining = 0;
      return false;
    }
    const b = this.bytes;
    this.nameOffset = this.pos;
    this.type = (b[after] << 8) | b[after + 1];
    this.class = (b[after + 2] << 8) | b[after + 3];
    this.pos = after + 4;
    this.remaining--;
    this.index++;
    return true;
  }
}

/** Non-allocating cursor over answers, then authority, then additional records. */
export class DnsRecordCursor {
  nameOffset = 0;
  type = 0;
  class = 0;
  ttl = 0;
  rdataOffset = 0;
  rdataLength = 0;
  /** DnsSection of the current record. */
  section = 0;
  /** Index within all records. */
  index = -1;
  bytes: Uint8Array = EMPTY;
  msgOffset = 0;
  msgLength = 0;
  private pos = 0;
  private answers = 0;
  private authority = 0;
  private total = 0;

  reset(
    bytes: Uint8Array,
    msgOffset: number,
    msgLength: number,
    pos: number,
    answers: number,
    authority: number,
    additional: number,
  ): this {
    this.bytes = bytes;
    this.msgOffset = msgOffset;
    this.msgLength = msgLength;
    this.pos = pos;
    this.answers = answers;
    this.authority = authority;
    this.total = answers + authority + additional;
    this.index = -1;
    return this;
  }

  next(): boolean {
    if (this.index + 1 >= this.total) return false;
    const end = this.msgOffset + this.msgLength;
    const b = this.bytes;
    const after = skipName(b, this.pos, end);
    if (after < 0 || after + 10 > end) {
      this.total = 0;
      return false;
    }
    const rdlength = (b[after + 8] << 8) | b[after + 9];
    if (after + 10 + rdlength > end) {
      this.total = 0;
      return false;
    }
    this.index++;
    this.section =
      this.index < this.answers ? 0 : this.index < this.answers + this.authority ? 1 : 2;
    this.nameOffset = this.pos;
    this.type = (b[after] << 8) | b[after + 1];
    this.class = (b[after + 2] << 8) | b[after + 3];
    this.ttl = readIpv4(b, after + 4);
    this.rdataOffset = after + 10;
    this.rdataLength = rdlength;
    this.pos = after + 10 + rdlength;
    return true;
  }
}

function labelText(bytes: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) {
    const c = bytes[off + i];
    if (c === 0x2e || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c > 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\' + String(c).padStart(3, '0');
  }
  return s;
}

const readNameError = newDecodeError('dns');

/**
 * The name at `nameOffset` as dotted text without the trailing dot (root = ""), following
 * compression pointers with the limits above. Dots and backslashes inside labels are escaped
 * with a backslash, other non-printable bytes as \DDD (RFC 1035 §5.1). Allocates the string; a
 * malformed name returns a DecodeError (a fresh copy, safe to keep).
 */
export function readName(
  bytes: Uint8Array,
  msgOffset: number,
  msgLength: number,
  nameOffset: number,
): string | DecodeError {
  if (walkName(bytes, msgOffset, msgLength, nameOffset, readNameError, 'name') < 0) {
    return { ...readNameError };
  }
  let p = nameOffset;
  let name = '';
  for (;;) {
    const b = bytes[p];
    if (b === 0) return name;
    if ((b & 0xc0) === 0xc0) {
      p = msgOffset + (((b & 0x3f) << 8) | bytes[p + 1]);
      continue;
    }
    name += (name === '' ? '' : '.') + labelText(bytes, p + 1, b);
    p += 1 + b;
  }
}

function nameOrNull(
  bytes: Uint8Array,
  msgOffset: number,
  msgLength: number,
  at: number,
): string | null {
  const n = readName(bytes, msgOffset, msgLength, at);
  return typeof n === 'string' ? n : null;
}

// ---------------------------------------------------------------------------------------------
// Values (allocating): used by toJSON(), decodeDns() and encodeDns().

export interface DnsQuestion {
  /** Dotted, no trailing dot, root = "". */
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  /**
   * Record data. Names inside NS, CNAME, PTR, MX and SOA data are stored uncompressed, so the
   * value does not depend on where the record sat in the original message.
   */
  rdata: Uint8Array;
}

export interface DnsQuestionJSON {
  name: string | null;
  type: number;
  class: number;
}

export interface DnsRecordJSON {
  name: string | null;
  type: number;
  class: number;
  ttl: number;
  address?: string;
  cname?: string | null;
  ns?: string | null;
  ptr?: string | null;
  preference?: number;
  exchange?: string | null;
  txt?: string[];
  mname?: string | null;
  rname?: string | null;
  serial?: number;
  refresh?: number;
  retry?: number;
  expire?: number;
  minimum?: number;
  rdata?: string;
}

export const DNS_TYPE_A = 1;
export const DNS_TYPE_NS = 2;
export const DNS_TYPE_CNAME = 5;
export const DNS_TYPE_SOA = 6;
export const DNS_TYPE_PTR = 12;
export const DNS_TYPE_MX = 15;
export const DNS_TYPE_TXT = 16;
export const DNS_TYPE_AAAA = 28;

export function dnsQuestionsToJSON(cursor: DnsQuestionCursor): DnsQuestionJSON[] {
  const list: DnsQuestionJSON[] = [];
  while (cursor.next()) {
    list.push({
      name: nameOrNull(cursor.bytes, cursor.msgOffset, cursor.msgLength, cursor.nameOffset),
      type: cursor.type,
      class: cursor.class,
    });
  }
  return list;
}

function recordJSON(c: DnsRecordCursor): DnsRecordJSON {
  const b = c.bytes;
  const name = (at: number): string | null => nameOrNull(b, c.msgOffset, c.msgLength, at);
  const r: DnsRecordJSON = { name: name(c.nameOffset), type: c.type, class: c.class, ttl: c.ttl };
  const at = c.rdataOffset;
  const len = c.rdataLength;
  switch (c.type) {
    case DNS_TYPE_A:
      if (len === 4) r.address = formatIpv4(readIpv4(b, at));
      else r.rdata = formatHex(b, at, len);
      return r;
    case DNS_TYPE_AAAA:
      if (len === 16) r.address = formatIpv6(b, at);
      else r.rdata = formatHex(b, at, len);
      return r;
    case DNS_TYPE_CNAME:
      r.cname = name(at);
      return r;
    case DNS_TYPE_NS:
      r.ns = name(at);
      return r;
    case DNS_TYPE_PTR:
      r.ptr = name(at);
      return r;
    case DNS_TYPE_MX:
      if (len >= 3) {
        r.preference = (b[at] << 8) | b[at + 1];
        r.exchange = name(at + 2);
      } else r.rdata = formatHex(b, at, len);
      return r;
    case DNS_TYPE_TXT: {
      const txt: string[] = [];
      let p = at;
      while (p < at + len) {
        const n = Math.min(b[p], at + len - p - 1);
        let s = '';
        for (let i = 0; i < n; i++) s += String.fromCharCode(b[p + 1 + i]);
        txt.push(s);
        p += 1 + n;
      }
      r.txt = txt;
      return r;
    }
    case DNS_TYPE_SOA: {
      const mnameEnd = walkName(b, c.msgOffset, c.msgLength, at, readNameError, 'rdata');
      const rnameEnd =
        mnameEnd < 0 ? -1 : walkName(b, c.msgOffset, c.msgLength, mnameEnd, readNameError, 'rdata');
      if (rnameEnd < 0 || rnameEnd + 20 > at + len) {
        r.rdata = formatHex(b, at, len);
        return r;
      }
      r.mname = name(at);
      r.rname = name(mnameEnd);
      r.serial = readIpv4(b, rnameEnd);
      r.refresh = readIpv4(b, rnameEnd + 4);
      r.retry = readIpv4(b, rnameEnd + 8);
      r.expire = readIpv4(b, rnameEnd + 12);
      r.minimum = readIpv4(b, rnameEnd + 16);
      return r;
    }
    default:
      r.rdata = formatHex(b, at, len);
      return r;
  }
}

/** The answer section as toJSON() shows it (authority and additional are left out). */
export function dnsAnswersToJSON(cursor: DnsRecordCursor): DnsRecordJSON[] {
  const list: DnsRecordJSON[] = [];
  while (cursor.next()) {
    if (cursor.section !== DnsSection.Answer) break;
    list.push(recordJSON(cursor));
  }
  return list;
}

export function decodeDnsQuestions(cursor: DnsQuestionCursor): DnsQuestion[] {
  const list: DnsQuestion[] = [];
  while (cursor.next()) {
    const name = readName(cursor.bytes, cursor.msgOffset, cursor.msgLength, cursor.nameOffset);
    list.push({
      name: typeof name === 'string' ? name : '',
      type: cursor.type,
      class: cursor.class,
    });
  }
  return list;
}

/** Appends the uncompressed wire form of the name at `at` to `out`; false when malformed. */
function expandName(
  bytes: Uint8Array,
  msgOffset: number,
  msgLength: number,
  at: number,
  out: number[],
): number {
  const end = walkName(bytes, msgOffset, msgLength, at, readNameError, 'rdata');
  if (end < 0) return -1;
  let p = at;
  for (;;) {
    const b = bytes[p];
    if (b === 0) {
      out.push(0);
      return end;
    }
    if ((b & 0xc0) === 0xc0) {
      p = msgOffset + (((b & 0x3f) << 8) | bytes[p + 1]);
      continue;
    }
    for (let i = 0; i <= b; i++) out.push(bytes[p + i]);
    p += 1 + b;
  }
}

/** Record data with embedded names decompressed (NS, CNAME, PTR, MX, SOA); raw otherwise. */
function portableRdata(c: DnsRecordCursor): Uint8Array {
  const b = c.bytes;
  const at = c.rdataOffset;
  const len = c.rdataLength;
  const raw = (): Uint8Array => b.slice(at, at + len);
  const out: number[] = [];
  switch (c.type) {
    case DNS_TYPE_NS:
    case DNS_TYPE_CNAME:
    case DNS_TYPE_PTR: {
      const end = expandName(b, c.msgOffset, c.msgLength, at, out);
      return end === at + len ? Uint8Array.from(out) : raw();
    }
    case DNS_TYPE_MX: {
      if (len < 3) return raw();
      out.push(b[at], b[at + 1]);
      const end = expandName(b, c.msgOffset, c.msgLength, at + 2, out);
      return end === at + len ? Uint8Array.from(out) : raw();
    }
    case DNS_TYPE_SOA: {
      const m = expandName(b, c.msgOffset, c.msgLength, at, out);
      const r = m < 0 ? -1 : expandName(b, c.msgOffset, c.msgLength, m, out);
      if (r < 0 || r + 20 !== at + len) return raw();
      for (let i = 0; i < 20; i++) out.push(b[r + i]);
      return Uint8Array.from(out);
    }
    default:
      return raw();
  }
}

/** The records of one section as values. */
export function decodeDnsRecords(cursor: DnsRecordCursor, section: number): DnsRecord[] {
  const list: DnsRecord[] = [];
  while (cursor.next()) {
    if (cursor.section < section) continue;
    if (cursor.section > section) break;
    const name = readName(cursor.bytes, cursor.msgOffset, cursor.msgLength, cursor.nameOffset);
    list.push({
      name: typeof name === 'string' ? name : '',
      type: cursor.type,
      class: cursor.class,
      ttl: cursor.ttl,
      rdata: portableRdata(cursor),
    });
  }
  return list;
}

// ---------------------------------------------------------------------------------------------
// Encoding with name compression.

/** Splits dotted text (with the escapes readName produces) into label byte arrays. */
export function nameLabels(name: string): number[][] | null {
  if (name === '' || name === '.') return [];
  const labels: number[][] = [];
  let label: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch === 0x5c) {
      const digits = name.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(digits)) {
        label.push(Number(digits) & 0xff);
        i += 3;
      } else if (i + 1 < name.length) {
        label.push(name.charCodeAt(i + 1) & 0xff);
        i += 1;
      } else return null;
    } else if (ch === 0x2e) {
      if (label.length === 0) return null;
      labels.push(label);
      label = [];
    } else label.push(ch & 0xff);
  }
  if (label.length > 0) labels.push(label);
  let wire = 1;
  for (const l of labels) {
    if (l.length > MAX_LABEL_LENGTH) return null;
    wire += 1 + l.length;
  }
  return wire > MAX_NAME_LENGTH ? null : labels;
}

/**
 * Remembers where name suffixes were written so later names can point at them. The encoder
 * resets it per message. This path allocates (suffix keys, a Map with at most MAX_SUFFIXES
 * entries); DNS encoding is not a per-packet hot path in this stack.
 */
export class DnsNameCompressor {
  static readonly MAX_SUFFIXES = 64;
  private readonly suffixes = new Map<string, number>();

  reset(): void {
    this.suffixes.clear();
  }

  /** Writes `name` at `pos` (message at `msgOffset`); returns the index after it or -1. */
  write(name: string, out: Uint8Array, msgOffset: number, pos: number): number {
    const labels = nameLabels(name);
    if (labels === null) return -1;
    const keys: string[] = [];
    for (let i = 0; i < labels.length; i++) {
      keys.push(
        labels
          .slice(i)
          // Case-sensitive on purpose: a pointer copies the earlier name's case, and a
          // decoded message must come back with the names it was given.
          .map((l) => String.fromCharCode(...l))
          .join('.'),
      );
    }
    let p = pos;
    for (let i = 0; i < labels.length; i++) {
      const target = this.suffixes.get(keys[i]);
      if (target !== undefined) {
        if (p + 2 > out.length) return -1;
        out[p] = 0xc0 | (target >> 8);
        out[p + 1] = target;
        return p + 2;
      }
      const rel = p - msgOffset;
      if (rel < 0x4000 && this.suffixes.size < DnsNameCompressor.MAX_SUFFIXES)
        this.suffixes.set(keys[i], rel);
      const l = labels[i];
      if (p + 1 + l.length > out.length) return -1;
      out[p] = l.length;
      for (let k = 0; k < l.length; k++) out[p + 1 + k] = l[k];
      p += 1 + l.length;
    }
    if (p + 1 > out.length) return -1;
    out[p] = 0;
    return p + 1;
  }
}

/**
 * Writes `name` at `out[pos]` uncompressed (the encoder of the DSL's `dns_name`); returns the
 * index after it, or -1 when it is no valid name or does not fit.
 */
export function writeName(name: string, out: Uint8Array, pos: number): number {
  const labels = nameLabels(name);
  if (labels === null) return -1;
  let p = pos;
  for (const l of labels) {
    if (p + 1 + l.length > out.length) return -1;
    out[p] = l.length;
    for (let k = 0; k < l.length; k++) out[p + 1 + k] = l[k];
    p += 1 + l.length;
  }
  if (p + 1 > out.length) return -1;
  out[p] = 0;
  return p + 1;
}

function put16(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 8;
  out[at + 1] = v;
}

export function encodeDnsQuestions(
  list: readonly DnsQuestion[],
  out: Uint8Array,
  msgOffset: number,
  pos: number,
  compressor: DnsNameCompressor,
): number {
  let p = pos;
  for (const q of list) {
    p = compressor.write(q.name, out, msgOffset, p);
    if (p < 0 || p + 4 > out.length) return -1;
    put16(out, p, q.type);
    put16(out, p + 2, q.class);
    p += 4;
  }
  return p;
}

export function encodeDnsRecords(
  list: readonly DnsRecord[],
  out: Uint8Array,
  msgOffset: number,
  pos: number,
  compressor: DnsNameCompressor,
): number {
  let p = pos;
  for (const r of list) {
    p = compressor.write(r.name, out, msgOffset, p);
    if (p < 0 || p + 10 + r.rdata.length > out.length || r.rdata.length > 0xffff) return -1;
    put16(out, p, r.type);
    put16(out, p + 2, r.class);
    out[p + 4] = r.ttl >>> 24;
    out[p + 5] = r.ttl >>> 16;
    out[p + 6] = r.ttl >>> 8;
    out[p + 7] = r.ttl;
    put16(out, p + 8, r.rdata.length);
    out.set(r.rdata, p + 10);
    p += 10 + r.rdata.length;
  }
  return p;
}
