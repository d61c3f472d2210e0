/**
 * The DSL's `dns_name` primitive (RFC 1035 §4.1.4): the walk the generated views run in wrap(),
 * the text their `<name>Text()` gives and the writer their encoders call. Everything else about
 * DNS messages (header, questions, records, record data) is declared in specs/dns.pkt.
 *
 * Limits when following a name: at most 255 bytes on the wire (labels, length bytes and the root
 * byte), labels of at most 63 bytes, label types 01/10 rejected, and every compression pointer
 * must point strictly before the start of the label run it ends (so a walk always moves
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
