/**
 * The DSL's `dns_name` primitive (RFC 1035 §4.1.4): the walk the generated views run in wrap(),
 * the text their `<name>Text()` gives, and the writer their encoders call with the names the
 * message has so far (NameCompression), so that each name ends in a pointer where it can. Everything else about
 * DNS messages (header, questions, records, record data) is declared in specs/dns.pkt.
 *
 * Limits when following a name: at most 255 bytes on the wire (labels, length bytes and the root
 * byte), labels of at most 63 bytes, label types 01/10 rejected, every compression pointer
 * inside the message (E_BAD_POINTER), and pointing strictly before the start of the label run it ends (so a walk always moves
 * backwards and terminates), with at most MAX_JUMPS jumps as a second guard.
 */
import { type DecodeError, fail, newDecodeError } from './errors.js';

export const MAX_NAME_LENGTH = 255;
export const MAX_LABEL_LENGTH = 63;
export const MAX_JUMPS = 128;

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
      // Outside the message is a broken pointer, not a loop: a server (or forger) that
      // miscounts offsets is a different fault from one building a cycle.
      if (target >= msgEnd) {
        fail(error, 'E_BAD_POINTER', field, p);
        return -1;
      }
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

/** The name writeName() is writing, as wire labels ending in the root byte. */
const wire = new Uint8Array(MAX_NAME_LENGTH);
/** Where each of its labels starts in `wire`. */
const labelStarts = new Uint8Array(MAX_NAME_LENGTH >> 1);
/** Bytes of `wire` parseName() filled, the root byte included. */
let wireLength = 0;

/**
 * Puts the wire form of `name` (dotted text, readName's escapes, a final dot allowed, "" and "."
 * the root) in `wire` and its label starts in `labelStarts`; returns the label count, or -1 when
 * it is no valid name. Allocates nothing.
 */
function parseName(name: string): number {
  const n = name === '.' ? 0 : name.length;
  let labels = 0;
  let start = 0; // the current label's length byte
  let p = 1;
  for (let i = 0; i < n; i++) {
    let ch = name.charCodeAt(i);
    if (ch === 0x2e) {
      if (p === start + 1) return -1; // an empty label
      wire[start] = p - start - 1;
      labelStarts[labels++] = start;
      start = p++;
      continue;
    }
    if (ch === 0x5c) {
      if (i + 1 >= n) return -1;
      const d0 = name.charCodeAt(i + 1) - 0x30;
      const d1 = name.charCodeAt(i + 2) - 0x30;
      const d2 = name.charCodeAt(i + 3) - 0x30;
      if (d0 >= 0 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) {
        ch = d0 * 100 + d1 * 10 + d2;
        i += 3;
      } else {
        ch = name.charCodeAt(i + 1);
        i += 1;
      }
    }
    if (p - start > MAX_LABEL_LENGTH || p >= MAX_NAME_LENGTH) return -1;
    wire[p++] = ch & 0xff;
  }
  if (p > start + 1) {
    wire[start] = p - start - 1;
    labelStarts[labels++] = start;
    start = p;
  }
  if (start >= MAX_NAME_LENGTH) return -1;
  wire[start] = 0;
  wireLength = start + 1;
  return labels;
}

/**
 * Splits dotted text (with the escapes readName produces; a final dot allowed, "" and "." the
 * root) into label byte arrays, or null when it is no name. Allocates (writeName does not).
 */
export function nameLabels(name: string): number[][] | null {
  const labels = parseName(name);
  if (labels < 0) return null;
  const out: number[][] = [];
  for (let i = 0; i < labels; i++) {
    const at = labelStarts[i];
    out.push([...wire.subarray(at + 1, at + 1 + wire[at])]);
  }
  return out;
}

/**
 * Most names one message offers as pointer targets: the search per name stays bounded, and a
 * name past them is still written, only not pointed at.
 */
export const MAX_COMPRESSION_TARGETS = 64;
/** A pointer holds a 14-bit offset; targets stay below 0x3FFF from the message start. */
const POINTER_LIMIT = 0x3fff;

/**
 * True when the labels of `wire` from `at` (uncompressed, root-terminated) are the name at
 * `out[t]`, whose pointers (written by the same message's encoder, so backwards) count from
 * `origin`. Bytes compare exactly, case included.
 */
function sameName(at: number, out: Uint8Array, t: number, origin: number): boolean {
  let s = at;
  let q = t;
  for (;;) {
    let len = out[q];
    while ((len & 0xc0) === 0xc0) {
      q = origin + (((len & 0x3f) << 8) | out[q + 1]);
      len = out[q];
    }
    if (wire[s] !== len) return false;
    if (len === 0) return true;
    for (let k = 1; k <= len; k++) if (wire[s + k] !== out[q + k]) return false;
    s += len + 1;
    q += len + 1;
  }
}

/**
 * The names a DNS message's encoder has written so far (RFC 1035 §4.1.4), so that a later name
 * ends in a pointer to an earlier copy of its longest tail that has one. The outermost encoder
 * resets it at the message start; writeName() consults it and offers the label runs it writes.
 * Targets are label starts already written, so every pointer goes backwards, and each lies less
 * than 0x3FFF bytes from the message start; at most MAX_COMPRESSION_TARGETS are kept. Labels
 * compare byte for byte: DNS compares names case-insensitively, but each name must decode to
 * the text it was given (resolvers matching a 0x20-randomised question check its case), so
 * names that differ in case only are both written out. Reused: allocates nothing.
 */
export class NameCompression {
  private out: Uint8Array = new Uint8Array(0);
  private origin = 0;
  private readonly targets = new Int32Array(MAX_COMPRESSION_TARGETS);
  private count = 0;

  /** Starts a message at `out[origin]` with no names written; returns itself. */
  reset(out: Uint8Array, origin: number): this {
    this.out = out;
    this.origin = origin;
    this.count = 0;
    return this;
  }

  /**
   * A name written in `out` that is `wire`'s labels from `at` on, as a pointer value; -1 for
   * none (or when this message is not being written in `out`).
   */
  find(out: Uint8Array, at: number): number {
    if (out !== this.out) return -1;
    for (let i = 0; i < this.count; i++) {
      const t = this.targets[i];
      if (sameName(at, this.out, t, this.origin)) return t - this.origin;
    }
    return -1;
  }

  /** Offers the label run just written at `out[at]` as a target. */
  add(out: Uint8Array, at: number): void {
    if (out !== this.out || this.count === MAX_COMPRESSION_TARGETS) return;
    if (at < this.origin || at - this.origin >= POINTER_LIMIT) return;
    this.targets[this.count++] = at;
  }
}

/**
 * Writes `name` at `out[pos]` (the encoder of the DSL's `dns_name`); returns the index after it,
 * or -1 when it is no valid name or does not fit. With `names`, the message's names so far, it
 * ends in a pointer to the longest tail already written, and its own label runs become targets;
 * without (a name the spec marks `uncompressed`, or an encoder called on its own), it is written
 * whole. Allocates nothing.
 */
export function writeName(
  name: string,
  out: Uint8Array,
  pos: number,
  names?: NameCompression,
): number {
  const labels = parseName(name);
  if (labels < 0) return -1;
  let written = labels;
  let pointer = -1;
  if (names !== undefined) {
    for (let i = 0; i < labels; i++) {
      pointer = names.find(out, labelStarts[i]);
      if (pointer >= 0) {
        written = i;
        break;
      }
    }
  }
  const plain = pointer >= 0 ? labelStarts[written] : wireLength;
  const end = pos + plain + (pointer >= 0 ? 2 : 0);
  if (pos < 0 || end > out.length) return -1;
  for (let k = 0; k < plain; k++) out[pos + k] = wire[k];
  if (pointer >= 0) {
    out[pos + plain] = 0xc0 | (pointer >> 8);
    out[pos + plain + 1] = pointer & 0xff;
  }
  if (names !== undefined) for (let i = 0; i < written; i++) names.add(out, pos + labelStarts[i]);
  return end;
}
