/**
 * Names users ask for (RFC 1035 §2.3.4): checked and put in canonical form before any query is
 * built. Reading names out of responses (compression pointers, loop and length limits) is the
 * codec's job: `dns.readName` / `walkName` in src/codec/dns.ts.
 */

/** RFC 1035 §2.3.4: 63 octets per label, 255 per name on the wire. */
export const MAX_LABEL = 63;
export const MAX_WIRE_NAME = 255;

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
