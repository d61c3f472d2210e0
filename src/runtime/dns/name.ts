/**
 * Domain names on the wire (RFC 1035 §3.1, §4.1.4): checking and encoding the names we ask
 * for, and reading names out of responses with compression pointers followed under strict
 * limits, so a hostile response can neither loop us nor make us read outside the message.
 */

/** RFC 1035 §2.3.4: 63 octets per label, 255 per name on the wire. */
export const MAX_LABEL = 63;
export const MAX_WIRE_NAME = 255;
/**
 * Pointer jumps allowed while reading one name. A legitimate name needs at most one jump per
 * label it shares, and a 255-byte name has at most 127 labels; beyond this it is a loop.
 */
export const MAX_POINTER_JUMPS = 127;

export type NameError = 'E_BAD_NAME' | 'E_POINTER_LOOP' | 'E_TRUNCATED';

/**
 * Checks a name given by a user and returns it in canonical form (lower case, no trailing
 * dot), or null when it cannot be asked for: empty labels, a label over 63 bytes, over 255
 * bytes on the wire, or characters outside printable ASCII (no IDNA here).
 */
export function canonicalName(name: string): string | null {
  let n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n.length === 0 || n.length + 2 > MAX_WIRE_NAME) return null;
  n = n.toLowerCase();
  let labelLength = 0;
  for (let i = 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c === 0x2e) {
      if (labelLength === 0) return null;
      labelLength = 0;
      continue;
    }
    if (c <= 0x20 || c >= 0x7f || c === 0x5c) return null; // controls, space, DEL, backslash
    if (++labelLength > MAX_LABEL) return null;
  }
  return labelLength === 0 ? null : n;
}

/** Bytes a canonical name takes on the wire (labels + length bytes + root). */
export function wireNameLength(name: string): number {
  return name.length + 2;
}

/** Writes a canonical name (from canonicalName) uncompressed; returns the offset after it. */
export function writeName(name: string, out: Uint8Array, offset: number): number {
  let lengthAt = offset;
  let i = offset + 1;
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    if (c === 0x2e) {
      out[lengthAt] = i - lengthAt - 1;
      lengthAt = i++;
    } else {
      out[i++] = c;
    }
  }
  out[lengthAt] = i - lengthAt - 1;
  out[i++] = 0;
  return i;
}

/** A name read from a message: its text and where the record continues after it. */
export interface ReadName {
  /** Lower-cased, dot-separated, no trailing dot; "" for the root. Odd bytes are \DDD escaped. */
  name: string;
  /** Offset just past the name as it sits at the read position (past the first pointer). */
  end: number;
}

/**
 * Reads the name at `offset` of the message `msg[0, length)`. Follows compression pointers
 * with a jump limit and a 255-byte limit; every byte read is bounds-checked first.
 */
export function readName(msg: Uint8Array, length: number, offset: number): ReadName | NameError {
  let pos = offset;
  let end = -1;
  let wire = 1; // the root byte
  let jumps = 0;
  let name = '';
  // Where the current run of labels began. Real encoders only point back at names written
  // earlier, so each jump must land strictly before the run it leaves: that makes targets
  // strictly decreasing, which rules out every loop (a loop must revisit a position).
  let runStart = offset;
  while (true) {
    if (pos >= length) return 'E_TRUNCATED';
    const len = msg[pos];
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= length) return 'E_TRUNCATED';
      if (++jumps > MAX_POINTER_JUMPS) return 'E_POINTER_LOOP';
      if (end === -1) end = pos + 2;
      const target = ((len & 0x3f) << 8) | msg[pos + 1];
      if (target >= runStart) return 'E_POINTER_LOOP';
      pos = target;
      runStart = target;
      continue;
    }
    if (kind !== 0) return 'E_BAD_NAME'; // 0x40 / 0x80 label types are obsolete (RFC 6891 §5)
    if (len === 0) {
      if (end === -1) end = pos + 1;
      return { name, end };
    }
    wire += len + 1;
    if (wire > MAX_WIRE_NAME) return 'E_BAD_NAME';
    if (pos + 1 + len > length) return 'E_TRUNCATED';
    if (name.length > 0) name += '.';
    for (let i = pos + 1; i <= pos + len; i++) {
      let c = msg[i];
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) name += String.fromCharCode(c);
      else name += '\\' + String(c).padStart(3, '0');
    }
    pos += len + 1;
  }
}
