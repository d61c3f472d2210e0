/**
 * Broken .pkt snippets → the exact report: `file:line:col: message`, the source line, and a
 * caret under the column. The model is built without generating any code.
 */
import { describe, expect, it } from 'vitest';
import { loadAll, loadSpec } from '../../codegen/generate.js';
import { SpecError } from '../../codegen/spec-error.js';

/** [what, spec text, expected first line of the report]; the caret is checked separately. */
const CASES: Array<[string, string, string]> = [
  [
    'missing semicolon',
    'message X { a: u8 }',
    `x.pkt:1:19: syntax error: expected ";", "quotes", "uncompressed", "select", "format", "if", "when", "checksum", "derive", "enum", or "("`,
  ],
  ['unknown type', 'message X { a: u17; }', "x.pkt:1:16: unknown type 'u17'"],
  [
    'bit width 0',
    'message X { a: bits(0); b: bits(8); }',
    'x.pkt:1:21: bit width 0 out of range 1..32',
  ],
  ['bit width 33', 'message X { a: bits(33); }', 'x.pkt:1:21: bit width 33 out of range 1..32'],
  [
    'bits without width',
    'message X { a: bits; }',
    'x.pkt:1:16: bits() takes one number: the width in bits',
  ],
  ['duplicate field', 'message X { a: u8; a: u16; }', "x.pkt:1:20: duplicate field 'a'"],
  [
    'unknown field in a length',
    'message X { a: u8; p: payload(b - 1); }',
    "x.pkt:1:31: unknown field 'b'",
  ],
  [
    'misaligned byte field',
    'message X { a: bits(4); b: u8; }',
    "x.pkt:1:25: field 'b' starts at bit 4: bit fields before it must fill whole bytes",
  ],
  [
    'bit fields not filling a byte',
    'message X { a: bits(4); }',
    'x.pkt:1:13: bit fields end at bit 4: they must fill whole bytes',
  ],
  [
    'bit run over 32 bits',
    'message X { a: bits(12); b: bits(30); c: bits(6); }',
    'x.pkt:1:26: bit fields from bit 0 to 42 span more than 4 bytes without a byte boundary',
  ],
  ['unknown enum', 'message X { a: u8 enum Nope; }', "x.pkt:1:24: unknown enum 'Nope'"],
  [
    'enum value too wide',
    'enum E : u8 { A = 300 }\nmessage X { a: u8; }',
    "x.pkt:1:15: value 300 does not fit the enum's 8-bit base type",
  ],
  [
    'enum too wide for its field',
    'enum E : u8 { A = 20 }\nmessage X { a: bits(4) enum E; b: bits(4); }',
    "x.pkt:2:29: enum 'E' member A = 20 does not fit 4 bits",
  ],
  [
    'unknown enum member in dispatch',
    'enum E : u8 { A = 1 }\nmessage X { a: u8 enum E; dispatch a { B => x } }',
    "x.pkt:2:40: enum 'E' has no member 'B'",
  ],
  [
    'duplicate dispatch value',
    'message X { a: u8; dispatch a { 1 => x, 1 => y } }',
    'x.pkt:1:41: value 1 appears twice in dispatch',
  ],
  [
    'dispatch condition on an unknown field',
    'message X { a: u8; dispatch a when b == 0 { 1 => x } }',
    "x.pkt:1:36: unknown field 'b'",
  ],
  [
    'unknown error code',
    'message X { a: u8; assert a > 1 else E_NOPE at a; }',
    "x.pkt:1:38: unknown error code 'E_NOPE' (one of E_TRUNCATED, E_BAD_LENGTH, E_BAD_VALUE, E_BAD_OPTION, E_BAD_NAME, E_POINTER_LOOP, E_BAD_POINTER)",
  ],
  [
    'assert at unknown field',
    'message X { a: u8; assert a > 1 else E_BAD_VALUE at b; }',
    "x.pkt:1:53: unknown field 'b'",
  ],
  ['derive of unknown field', 'message X { a: u8 derive b + 1; }', "x.pkt:1:26: unknown field 'b'"],
  [
    'derive cycle',
    'message X { a: u8 derive b; b: u8 derive a; }',
    "x.pkt:1:13: derive cycle through 'a'",
  ],
  [
    'field after the payload',
    'message X { p: payload(rest); a: u8; }',
    "x.pkt:1:31: field 'a' cannot follow the payload (the caller's part)",
  ],
  [
    'region after rest',
    'message X { a: u8; p: payload(rest); q: payload(rest); }',
    "x.pkt:1:38: field 'q' follows 'p', which takes the rest of the message",
  ],
  ['unknown json entry', 'message X { a: u8; json a, zz; }', "x.pkt:1:28: unknown field 'zz'"],
  [
    'unknown describe placeholder',
    'message X { a: u8; describe "{a} {q}"; }',
    "x.pkt:1:35: unknown field 'q'",
  ],
  [
    'checksum on a u8',
    'message X { a: u8 checksum(header); }',
    'x.pkt:1:19: an Internet checksum field must be a byte-aligned big-endian u16',
  ],
  [
    'unknown checksum option',
    'message X { c: u16 checksum(header, fast); }',
    'x.pkt:1:37: unknown checksum option (pseudo_ipv4(protocol), pseudo_ipv6(nextHeader) or zero_is_none)',
  ],
  [
    'a type the DSL does not have',
    'message X { a: u8; o: tlv_list(foo, rest); }',
    "x.pkt:1:23: unknown type 'tlv_list'",
  ],
  [
    'len of a fixed field',
    'message X { a: u8 derive len(a); }',
    "x.pkt:1:30: len() needs a variable-length field; 'a' is fixed",
  ],
  [
    'payloadLength outside derive',
    'message X { a: u8 when payloadLength > 1; }',
    'x.pkt:1:24: payloadLength is only known when encoding (use it in derive)',
  ],
  [
    'unknown function',
    'message X { a: u8 derive max(a, 1); }',
    "x.pkt:1:26: unknown function 'max' (len() and count() exist)",
  ],
  [
    'reserved name',
    'message X { offset: u8; }',
    "x.pkt:1:13: 'offset' is a reserved name (the generated view or DSL uses it)",
  ],
  [
    'byte array used as a number',
    'message X { a: bytes(4); assert a == 1 else E_BAD_VALUE at a; }',
    "x.pkt:1:33: field 'a' is a byte array, not a number",
  ],
  ['no message', 'enum E : u8 { A = 1 }', 'x.pkt:1:22: a spec must declare a message'],
  [
    'two dispatching messages',
    'message A { a: u8; dispatch a { 1 => x } }\nmessage B { b: u8; dispatch b { 1 => x } }',
    'x.pkt:2:20: only one message per spec may have a dispatch',
  ],
  [
    'second line',
    'message X {\n  a: u8;\n  b: u8 enum;\n}',
    'x.pkt:3:13: syntax error: expected an identifier',
  ],
  // Types and formats (u64, ipv6, format of byte arrays).
  [
    'format of the wrong size',
    'message X { a: bytes(4) format mac; }',
    'x.pkt:1:32: format mac needs a 6-byte array, not 4 bytes',
  ],
  [
    'unknown byte-array format',
    'message X { a: bytes(4) format ipv5; }',
    "x.pkt:1:32: unknown format 'ipv5' (byte arrays support mac, ipv4, ipv6, hex, hwaddr(length))",
  ],
  [
    'format with arguments it does not take',
    'message X { a: bytes(16) format ipv6(1); }',
    "x.pkt:1:33: unknown format 'ipv6(...)' (byte arrays support mac, ipv4, ipv6, hex, hwaddr(length))",
  ],
  [
    'u64 in an expression',
    'message X { a: u64; p: payload(a - 8); }',
    "x.pkt:1:32: an expression needs a field of at most 48 bits; 'a' is u64",
  ],
  [
    'enum on an ipv6 field',
    'enum E : u8 { A = 1 }\nmessage X { a: ipv6 enum E; }',
    "x.pkt:2:21: enum needs a field of at most 48 bits; 'a' is ipv6",
  ],
  [
    'dispatch on a u64',
    'message X { a: u64; dispatch a { 1 => x } }',
    "x.pkt:1:30: dispatch needs a field of at most 48 bits; 'a' is u64",
  ],
  // Conditional presence and fields at a computed offset.
  [
    'bit field after a variable part',
    'message X { n: u8; b: bytes(n); a: bits(4); c: bits(4); }',
    "x.pkt:1:33: fixed-size field 'a' cannot follow the variable-length 'b'",
  ],
  [
    'field after a rest-length part',
    'message X { b: bytes(rest); a: u16; }',
    "x.pkt:1:29: field 'a' follows 'b', which takes the rest of the message",
  ],
  [
    'conditional bit field',
    'message X { f: u8; a: bits(8) if f == 1; }',
    "x.pkt:1:23: a conditional field must be u8, u16, u32, u16le, u32le, ipv4, mac, u64, ipv6 or bytes(N), not 'bits'",
  ],
  [
    'checksum at a computed offset with a pseudo-header',
    'message X { f: u8; g: u8; c: u16 checksum(message, pseudo_ipv4(47)) if f == 1; }',
    "x.pkt:1:34: a checksum at a computed offset ('c') takes no pseudo-header or zero_is_none",
  ],
  [
    'checksum at an odd computed offset',
    'message X { f: u8; c: u16 checksum(message) if f == 1; }',
    "x.pkt:1:27: checksum 'c' must sit at an even offset: the fixed part before it is 1 bytes",
  ],
  [
    'checksum after a variable part',
    'message X { n: u8; z: u8; b: bytes(n); c: u16 checksum(header); }',
    "x.pkt:1:47: checksum 'c' must sit at an even offset: 'b' before it has no fixed even size",
  ],
  [
    'conditional checksum wider than 16 bits',
    'message X { f: u8; g: u8; c: u32 checksum(message) if f == 1; }',
    'x.pkt:1:34: an Internet checksum field must be a byte-aligned big-endian u16',
  ],
  [
    'attribute on a conditional field',
    'message X { f: u8; a: u16 if f == 1 derive 3; }',
    "x.pkt:1:37: attribute 'derive' is not allowed on a conditional field ('a')",
  ],
  [
    'conditional field in a length before it',
    'message X { f: u8; p: bytes(a); a: u8 if f == 1; }',
    "x.pkt:1:29: 'a' is at a computed offset (conditional or after a variable part); only fields of the fixed part, or in a length or count those before it, can be used here",
  ],
  [
    'field after a variable part read before it is decoded',
    'message X { n: u8; p: bytes(a); a: u8; }',
    "x.pkt:1:29: 'a' is at a computed offset (conditional or after a variable part); only fields of the fixed part, or in a length or count those before it, can be used here",
  ],
  [
    'field after a variable part in an assert',
    'message X { n: u8; p: bytes(n); a: u8; assert a == 1 else E_BAD_VALUE at n; }',
    "x.pkt:1:47: 'a' is at a computed offset (conditional or after a variable part); only fields of the fixed part, or in a length or count those before it, can be used here",
  ],
  [
    'derive on a conditional field',
    'message X { f: u8; a: u8 if f == 1 derive 3; }',
    "x.pkt:1:36: attribute 'derive' is not allowed on a conditional field ('a')",
  ],
  [
    'array item that can be 0 bytes',
    'message X { n: u8; items: array(Y, count(n)); } message Y { b: bytes(rest); }',
    "x.pkt:1:33: message 'Y' cannot be nested: its 'b' takes the rest of the bytes, so its own fields do not say where it ends",
  ],

  [
    'condition on an unknown field',
    'message X { a: u16 if g == 1; }',
    "x.pkt:1:23: unknown field 'g'",
  ],
  [
    'presence test name taken',
    'message X { f: bits(1); hasKey: bits(7); key: u32 if f == 1; }',
    "x.pkt:1:42: field 'hasKey' has the name the view gives 'key' (its presence test): rename 'key'",
  ],
  [
    'when that reads like presence',
    'message X { k: bits(1); r: bits(7); key: u32 when k == 1; }',
    "x.pkt:1:46: 'when k == 1' only marks the value meaningless (the field is always on the wire); for a field the k bit adds, write 'if k == 1'; if it is always there, write 'when k != 0'",
  ],
  // Arrays.
  [
    'unknown array item type',
    'message X { n: u8; a: array(u7, count(n)); }',
    "x.pkt:1:29: array item type must be u8, u16, u32, ipv4, ipv6, mac, a message of this spec or a { field group }, not 'u7'",
  ],
  [
    'array with two bounds',
    'message X { n: u8; a: array(u16, count(n), 4); }',
    'x.pkt:1:44: array() takes the item type and one bound: count(expr), a byte length, rest or until condition',
  ],
  [
    'until over an unknown item field',
    'message X { a: array({ v: bits(7); e: bits(1); }, until z == 1); }',
    "x.pkt:1:57: 'z' is not a field of the items of 'a' (an until condition reads the item's fields)",
  ],
  [
    'until over a 48-bit item field',
    'message X { a: array({ v: u8; w: mac; }, until w == 1); }',
    "x.pkt:1:48: an until condition needs a field of at most 32 bits; 'w' is mac",
  ],
  [
    'until with a function',
    'message X { a: array(ipv4, until len(a) == 1); }',
    "x.pkt:1:34: an until condition reads the item's fields only",
  ],
  [
    'until over message items',
    'message M { v: u8; }\nmessage X { a: array(M, until v == 1); }',
    "x.pkt:2:25: until needs items of one size, read in place: declare the items of 'a' as a { field group }, not message 'M'",
  ],
  [
    'peek without a payload',
    'message X { k: u8; dispatch peek(bits(4)) { 4 => y } }',
    "x.pkt:1:29: peek() reads the payload's first bits, and this message has no payload field",
  ],
  [
    'peek of an address',
    'message X { k: u8; p: payload(rest); dispatch peek(mac) { 4 => y } }',
    "x.pkt:1:52: peek() reads an unsigned big-endian number: bits(n), u8, u16 or u32, not 'mac'",
  ],
  [
    'peek of a little-endian number',
    'message X { k: u8; p: payload(rest); dispatch peek(u16le) { 4 => y } }',
    "x.pkt:1:52: peek() reads an unsigned big-endian number: bits(n), u8, u16 or u32, not 'u16le'",
  ],
  [
    'peek of too many bits',
    'message X { k: u8; p: payload(rest); dispatch peek(bits(33)) { 4 => y } }',
    'x.pkt:1:57: peek() reads 1 to 32 bits, not 33',
  ],
  [
    'peek value too wide',
    'message X { k: u8; p: payload(rest); dispatch peek(bits(4)) { 16 => y } }',
    'x.pkt:1:63: value 16 does not fit the 4 bits peek() reads',
  ],
  [
    'peek value by name',
    'message X { k: u8; p: payload(rest); dispatch peek(bits(4)) { A => y } }',
    "x.pkt:1:63: 'A' is not a number (peek() values are numbers)",
  ],
  [
    'peek value twice',
    'message X { k: u8; p: payload(rest); dispatch peek(u8) { 4 => y, 4 => z } }',
    'x.pkt:1:66: value 4 appears twice in dispatch',
  ],
  [
    'field named like the peek getter',
    'message X { payloadPeek: u8; }',
    "x.pkt:1:13: 'payloadPeek' is a reserved name (the generated view or DSL uses it)",
  ],
  [
    'array count() without an expression',
    'message X { n: u8; a: array(ipv4, count()); }',
    'x.pkt:1:35: count() takes one expression: the number of items',
  ],
  [
    'empty array item group',
    'message X { n: u8; a: array({}, rest); }',
    "x.pkt:1:23: array 'a' needs at least one field per item",
  ],
  [
    'count() of a field that is not an array',
    'message X { n: u8 derive count(b); b: bytes(n); }',
    "x.pkt:1:32: count() needs an array; 'b' is not one",
  ],
  [
    'count() outside derive',
    'message X { n: u8; a: array(u16, count(n)); p: payload(count(a)); }',
    'x.pkt:1:56: count() is only allowed in derive',
  ],
  [
    'array in a list element with a bound of its own',
    'list L { k: u8; l: u8; kind k; length l counts element; A = 1 { x: array(u16, 4); } }\nmessage X { a: list(L, rest); }',
    'x.pkt:1:79: an array in a list element fills the rest of the element: array(T, rest)',
  ],
  // Nested messages.
  [
    'message that contains itself',
    'message X { a: u8; b: X; }',
    "x.pkt:1:23: message 'X' contains itself (X > X)",
  ],
  [
    'messages that contain each other',
    'message A { a: u8; b: B; }\nmessage B { c: u8; d: array(A, rest); }',
    "x.pkt:2:29: message 'A' contains itself (A > B > A)",
  ],
  [
    'nested message with a payload',
    'message I { a: u8; p: payload(rest); }\nmessage X { i: I; }',
    "x.pkt:2:16: message 'I' cannot be nested: its 'p' takes the rest of the bytes, so its own fields do not say where it ends",
  ],
  [
    'nested message with arguments',
    'message I { a: u8; }\nmessage X { i: I(3); }',
    "x.pkt:2:16: message 'I' takes no arguments",
  ],
  [
    'nested message with a pseudo-header checksum',
    'message I { a: u16 checksum(message, pseudo_ipv4(6)); }\nmessage X { i: I; }',
    "x.pkt:2:16: message 'I' cannot be nested: its checksum needs a pseudo-header",
  ],
  [
    'len() of an array of messages',
    'message I { a: u8; b: bytes(a); }\nmessage X { n: u8 derive len(r); r: array(I, n); }',
    "x.pkt:2:30: len() of 'r' is not known before encoding (its items are messages of their own sizes); derive a count with count(r)",
  ],
  // IPv6 pseudo-header checksums.
  [
    'pseudo_ipv6 without a next header value',
    'message X { a: u16 checksum(message, pseudo_ipv6(x)); }',
    'x.pkt:1:38: pseudo_ipv6() takes the next header value (0..255)',
  ],
  [
    'pseudo_ipv6 twice',
    'message X { a: u16 checksum(message, pseudo_ipv6(6), pseudo_ipv6(17)); }',
    'x.pkt:1:54: duplicate pseudo_ipv6()',
  ],
  [
    'dns_name with arguments',
    'message X { a: u8; n: dns_name(3); }',
    'x.pkt:1:23: dns_name takes no arguments',
  ],
  [
    'uncompressed on a number',
    'message X { a: u8 uncompressed; }',
    'x.pkt:1:19: uncompressed is only for DNS names (dns_name)',
  ],
  [
    'uncompressed on bytes',
    'message X { a: u8; b: bytes(a) uncompressed; }',
    "x.pkt:1:32: attribute 'uncompressed' is not allowed on variable-length 'b'",
  ],
  [
    'uncompressed twice',
    'message X { n: dns_name uncompressed uncompressed; }',
    "x.pkt:1:38: duplicate attribute 'uncompressed'",
  ],
  // Lists (docs/dsl.md, "Lists").
  [
    'list without header fields',
    'list L { A = 1; }',
    "x.pkt:1:6: list 'L' needs header fields (at least a kind and a length)",
  ],
  [
    'list without kind',
    'list L { k: u8; n: u8; length n counts body; A = 1 {} }',
    "x.pkt:1:6: list 'L' needs 'kind <field>;'",
  ],
  [
    'list without length',
    'list L { k: u8; n: u8; kind k; A = 1 {} }',
    "x.pkt:1:6: list 'L' needs 'length <field> [unit n] counts element|body;'",
  ],
  [
    'kind not a header field',
    'list L { k: u8; n: u8; kind z; length n counts body; A = 1 {} }',
    "x.pkt:1:29: 'z' is not a header field of list 'L'",
  ],
  [
    'kind field an address',
    'list L { k: ipv4; n: u8; kind k; length n counts body; A = 1 {} }',
    "x.pkt:1:31: 'k' must be a number field",
  ],
  [
    'kind and length the same',
    'list L { k: u8; n: u8; kind k; length k counts body; A = 1 {} }',
    'x.pkt:1:39: the kind and length fields must differ',
  ],
  [
    'length without counts',
    'list L { k: u8; n: u8; kind k; length n; A = 1 {} }',
    "x.pkt:1:32: say what the length counts: 'counts element' (header included) or 'counts body'",
  ],
  [
    'length unit 0',
    'list L { k: u8; n: u8; kind k; length n unit 0 counts body; A = 1 {} }',
    'x.pkt:1:32: length unit 0 out of range 1..256',
  ],
  [
    'duplicate align',
    'list L { k: u8; n: u8; kind k; length n counts body; align 4; align 2; A = 1 {} }',
    'x.pkt:1:63: duplicate align',
  ],
  [
    'align 0',
    'list L { k: u8; n: u8; kind k; length n counts body; align 0; A = 1 {} }',
    'x.pkt:1:54: align must be at least 1',
  ],
  [
    'duplicate lenient',
    'list L { k: u8; n: u8; kind k; length n counts body; lenient; lenient; A = 1 {} }',
    'x.pkt:1:63: duplicate lenient',
  ],
  [
    'lenient list counted',
    'list L { k: u8; n: u8; kind k; length n counts body; lenient; A = 1 {} }\nmessage M { c: u8; o: list(L, count(c)); }',
    "x.pkt:2:31: lenient list 'L' needs one area of known length (where would it stop?)",
  ],
  [
    'kind too wide',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 300 {} }',
    'x.pkt:1:58: kind 300 does not fit the 8-bit kind field',
  ],
  [
    'kind name without enum',
    'list L { k: u8; n: u8; kind k; length n counts body; A = Foo {} }',
    "x.pkt:1:58: 'Foo' is not a number (the kind field has no enum)",
  ],
  [
    'kind enum without member',
    'enum E : u8 { P = 0 } list L { k: u8 enum E; n: u8; kind k; length n counts body; A = Foo {} }',
    "x.pkt:1:87: enum 'E' has no member 'Foo'",
  ],
  [
    'duplicate element',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 {} A = 2 {} }',
    "x.pkt:1:63: duplicate element 'A'",
  ],
  [
    'duplicate kind',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 {} B = 1 {} }',
    "x.pkt:1:67: kind 1 is already element 'A'",
  ],
  [
    'two end elements',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 0 end; B = 255 end; }',
    'x.pkt:1:65: a list can have only one end element',
  ],
  [
    'one-byte element, kind not first',
    'list L { n: u8; k: u8; kind k; length n counts body; P = 0; }',
    "x.pkt:1:54: one-byte element 'P' needs the kind field to be the header's first byte",
  ],
  [
    'variable field not last',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { x: array(u8, rest); v: u8; } }',
    'x.pkt:1:62: only the last field of an element may be variable-length',
  ],
  [
    'element repeats header field',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { k: u8; } }',
    "x.pkt:1:54: element field 'k' repeats a header field",
  ],
  [
    'element size the unit cannot say',
    'list L { k: u8; n: u8; kind k; length n unit 4 counts element; A = 1 { v: u8; } }',
    "x.pkt:1:64: element 'A' is 3 bytes, which its length in units of 4 cannot say",
  ],
  [
    'unknown element field type',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: u64; } }',
    "x.pkt:1:65: unknown element 'A' field type 'u64' (u8, u16, u32, bits(n), ipv4, ipv6, mac; a variable part is array(T, rest) or list(Name, rest))",
  ],
  [
    'attribute in an element',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: u8 derive 1; } }',
    "x.pkt:1:68: attribute 'derive' is not allowed in an element 'A'",
  ],
  [
    'reserved name in an element',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { offset: u8; } }',
    "x.pkt:1:62: 'offset' is a reserved name in a list element",
  ],
  [
    'element bits not filling bytes',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: bits(3); } }',
    "x.pkt:1:62: the bit fields of the element 'A' end at bit 3: they must fill whole bytes",
  ],
  [
    'element field after bits mid-byte',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: bits(3); w: u8; x: bits(5); } }',
    "x.pkt:1:74: field 'w' starts at bit 3: bit fields before it must fill whole bytes",
  ],
  [
    'array item type',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: array(u64, rest); } }',
    "x.pkt:1:71: array item type must be u8, u16, u32, ipv4, ipv6, mac or a { field group }, not 'u64'",
  ],
  [
    'empty array group',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: array({}, rest); } }',
    "x.pkt:1:65: array 'v' needs at least one field per item",
  ],
  [
    'duplicate summary',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: u8; } summary s = A.v; summary s = A.v; }',
    "x.pkt:1:96: duplicate summary 's'",
  ],
  [
    'summary of an unknown element',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: u8; } summary s = B.v; }',
    "x.pkt:1:83: unknown element 'B'",
  ],
  [
    'max on a scalar summary',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: u8; } summary s = A.v max 2; }',
    "x.pkt:1:71: 'max' is for array summaries; 'v' is a scalar",
  ],
  [
    'summary wider than 32 bits',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: mac; } summary s = A.v; }',
    "x.pkt:1:86: a summary holds at most 32 bits; 'v' has 48",
  ],
  [
    'array summary without max',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: array(u16, rest); } summary s = A.v; }',
    "x.pkt:1:85: an array summary needs 'max n' (the items it keeps)",
  ],
  [
    'summary of an unknown field',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: u8; } summary s = A.w; }',
    "x.pkt:1:85: element 'A' has no field or array 'w'",
  ],
  [
    'list() of a number',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 {} } message X { a: u8; b: bytes(4); o: list(3, rest); }',
    'x.pkt:1:105: list() first argument is a list name',
  ],
  [
    'unknown list',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 {} } message X { a: u8; b: bytes(4); o: list(Q, rest); }',
    "x.pkt:1:105: unknown list 'Q'",
  ],
  [
    'list() without bound',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 {} } message X { a: u8; b: bytes(4); o: list(L); }',
    'x.pkt:1:100: list() needs a bound: a byte length, rest, count(field) or end',
  ],
  [
    'count() of a number',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 {} } message X { a: u8; b: bytes(4); o: list(L, count(3)); }',
    'x.pkt:1:108: count() takes the field holding the element count',
  ],
  [
    'end bound without end element',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 {} } message X { a: u8; b: bytes(4); o: list(L, end); }',
    "x.pkt:1:108: list 'L' has no end element to stop at",
  ],
  [
    'not a continue()',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 {} } message X { a: u8; b: bytes(4); o: list(L, rest, more); }',
    'x.pkt:1:114: expected continue(field, condition)',
  ],
  [
    'continue() into a number field',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: u8; } summary s = A.v; } message X { a: u8; b: bytes(4); o: list(L, rest, continue(a, s == 1)); }',
    "x.pkt:1:148: 'a' must be a byte array",
  ],
  [
    'continue() of a count-bounded list',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: u8; } summary s = A.v; } message X { a: u8; b: bytes(4); o: list(L, count(a), continue(b, s == 1)); }',
    'x.pkt:1:143: a list bounded by count() or end cannot continue elsewhere',
  ],
  [
    'continue() on no summary',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: u8; } summary s = A.v; } message X { a: u8; b: bytes(4); o: list(L, rest, continue(b, t == 1)); }',
    "x.pkt:1:151: 't' is not a scalar summary of list 'L'",
  ],
  [
    'continue() reading more than summaries',
    'list L { k: u8; n: u8; kind k; length n counts body; A = 1 { v: u8; } summary s = A.v; } message X { a: u8; b: bytes(4); o: list(L, rest, continue(b, A.v == 1)); }',
    "x.pkt:1:151: a continuation condition reads the list's summaries only",
  ],
  [
    "a field named like a region's length",
    'message X { n: u8; xLength: u8; x: bytes(n); }',
    "x.pkt:1:33: field 'xLength' has the name the view gives 'x' (its length): rename 'x'",
  ],
  [
    "a presence test's name, declared after the field",
    'message X { k: bits(1); r: bits(7); key: u32 if k == 1; hasKey: u8; }',
    "x.pkt:1:57: field 'hasKey' has the name the view gives 'key' (its presence test): rename it",
  ],
  [
    "a 32-bit field's int32 accessor",
    'message X { srcBits: u8; src: ipv4; }',
    "x.pkt:1:26: field 'srcBits' has the name the view gives 'src' (its int32 bits): rename 'src'",
  ],
  [
    'unknown byte order',
    'message X endian(be, mid) { a: u16; }',
    "x.pkt:1:22: unknown byte order 'mid' (be or le)",
  ],
  [
    'byte order twice',
    'message X endian(le, le) { a: u16; }',
    "x.pkt:1:22: byte order 'le' listed twice",
  ],
  [
    'no byte order',
    'message X endian() { a: u16; }',
    'x.pkt:1:11: endian() needs a byte order: be, le or both',
  ],
  [
    'explicit byte order in an endian message',
    'message X endian(be, le) { a: u32le; }',
    "x.pkt:1:31: 'u32le' in an endian(...) message: write u32, the order comes from endian()",
  ],
  [
    'bits in a little-endian copy',
    'message X endian(le) { a: bits(4); b: bits(12); }',
    "x.pkt:1:27: 'bits' has no little-endian form: an endian(..., le) message takes u8, u16, u32, addresses and byte regions",
  ],
  [
    'dispatch in an endian message',
    'message X endian(be) { a: u8; p: payload(rest); dispatch a { 1 => y, } }',
    'x.pkt:1:49: an endian(...) message cannot dispatch: it is not a layer of a frame',
  ],
  [
    'a message declared as an unknown one',
    'message Y = X with { a: u8; }',
    "x.pkt:1:13: 'Y' is declared as 'X', which this spec does not declare",
  ],
  [
    'a message declared as one below it',
    'message Y = X with { a: u8; }\nmessage X { a: u16; }',
    "x.pkt:1:13: 'X' must be declared before 'Y', which is declared as it",
  ],
  [
    'a message declared as itself',
    'message X = X with { a: u8; }',
    "x.pkt:1:13: a message cannot be declared as itself ('X')",
  ],
  [
    'with replaces a field the base does not have',
    'message X { a: u8; }\nmessage Y = X with { b: u8; }',
    "x.pkt:2:22: 'X' has no field 'b' to replace (a message declared as another changes the members it names)",
  ],
  [
    'with replaces a field twice',
    'message X { a: u8; }\nmessage Y = X with { a: u16; a: u32; }',
    "x.pkt:2:30: field 'a' is replaced twice",
  ],
  [
    'with replaces an assert the base does not have',
    'message X { a: u8; b: u8; assert a == 1 else E_BAD_VALUE at a; }\nmessage Y = X with { assert b == 0 else E_BAD_VALUE at b; }',
    "x.pkt:2:56: 'X' has no assert at 'b' to replace",
  ],
  [
    'with replaces the describe twice',
    'message X { a: u8; }\nmessage Y = X with { describe "a"; describe "b"; }',
    'x.pkt:2:36: describe is replaced twice',
  ],
  [
    'dispatch in with',
    'message X { a: u8; p: payload(rest); dispatch a { 1 => y, } }\nmessage Y = X with { dispatch a { 2 => y, } }',
    "x.pkt:2:22: 'Y' dispatches like 'X', which it is declared as: no dispatch in 'with'",
  ],
  [
    'a replacement breaks the base',
    'message X { a: u8; p: payload(a); }\nmessage Y = X with { a: u64; }',
    "x.pkt:1:31: an expression needs a field of at most 48 bits; 'a' is u64",
  ],
  [
    'an endian(be, le) message nested in another',
    'message X endian(be, le) { a: u16; }\nmessage Y { x: X; }',
    "x.pkt:2:16: message 'X' cannot be nested: endian(be, le) takes its byte order when it is wrapped",
  ],
  [
    'a checksum in an endian(be, le) message',
    'message X endian(be, le) { a: u16; c: u16 checksum(header); }',
    'x.pkt:1:43: an Internet checksum field must be a byte-aligned big-endian u16',
  ],
  [
    'a copy clashes with a message',
    'message XLe { a: u8; }\nmessage X endian(le) { a: u16; }',
    "x.pkt:2:9: duplicate message 'XLe'",
  ],
  [
    'ipv6 in a list header',
    'list L { k: u8; n: u8; a: ipv6; kind k; length n counts element; A = 1 {} } message X { a: u8; }',
    'x.pkt:1:27: an ipv6 field cannot be in the list header (only in an element body)',
  ],
  [
    'ipv6 in an array group',
    'list L { k: u8; n: u8; kind k; length n counts element; A = 1 { s: array({ a: ipv6; }, rest); } } message X { a: u8; }',
    'x.pkt:1:79: an ipv6 field cannot be in an array item (only in an element body)',
  ],
  [
    'unknown nested list',
    'list L { k: u8; n: u8; kind k; length n counts element; A = 1 { o: list(M, rest); } } message X { a: u8; }',
    "x.pkt:1:73: unknown list 'M'",
  ],
  [
    'nested list with a bound',
    'list L { k: u8; n: u8; kind k; length n counts element; A = 1 { o: list(L, 4); } } message X { a: u8; }',
    'x.pkt:1:68: a nested list is list(Name, rest): it fills the rest of the element',
  ],
  [
    'nested list not last',
    'list L { k: u8; n: u8; kind k; length n counts element; A = 1 { o: list(L, rest); b: u8; } } message X { a: u8; }',
    'x.pkt:1:68: a nested list(Name, rest) can only be the last field of an element',
  ],
  [
    'attribute on a nested list',
    'list L { k: u8; n: u8; kind k; length n counts element; A = 1 { o: list(L, rest) enum E; } } enum E : u8 { A = 1 } message X { a: u8; }',
    "x.pkt:1:82: attribute 'enum' is not allowed on a nested list",
  ],
  [
    'nested list with summaries',
    'list L { k: u8; n: u8; kind k; length n counts element; A = 1 { o: list(M, rest); } } list M { k: u8; n: u8; kind k; length n counts element; B = 1 { v: u8; } summary v = B.v; } message X { a: u8; }',
    "x.pkt:1:73: list 'M' has summaries, so it cannot be nested in an element",
  ],
  [
    'element body not a whole number of units (counts body)',
    'list L { k: u8; n: bits(8); kind k; length n unit 4 counts body; A = 1 { v: u16; } } message X { a: u8; }',
    "x.pkt:1:66: element 'A' is 4 bytes, which its length in units of 4 cannot say",
  ],
  [
    'element not a whole number of 8-octet units',
    'list L { k: u8; n: bits(8); kind k; length n unit 8 counts element; A = 1 { v: u16; w: u32; x: u32; y: u32; z: u32; q: u32; r: u32; s: u32; t: u32; } } message X { a: u8; }',
    "x.pkt:1:69: element 'A' is 36 bytes, which its length in units of 8 cannot say",
  ],
  [
    'element longer than its length field can say',
    'list L { k: u8; n: bits(2); x: bits(6); kind k; length n counts element; A = 1 { v: u8; w: u8; x2: u8; } } message X { a: u8; }',
    "x.pkt:1:74: element 'A' is 5 bytes, more than its 2-bit length field can say",
  ],
  [
    'select target that is no message',
    'message X { a: u8; p: payload(rest); select a { 1 => Y } }',
    "x.pkt:1:54: select target 'Y' is not a message of this spec",
  ],
  [
    'a message selecting itself',
    'message X { a: u8; p: payload(rest); select a { 1 => X } }',
    "x.pkt:1:54: a message cannot select itself ('X')",
  ],
  [
    'select target without the field where the head has it',
    'message Y { b: u8; a: u8; }\nmessage X { a: u8; p: payload(rest); select a { 1 => Y } }',
    "x.pkt:2:54: select target 'Y' must have field 'a' where 'X' has it (bit 0, 8 bits)",
  ],
  [
    'select target whose field is narrower',
    'message Y { a: bits(4); b: bits(4); }\nmessage X { a: u8; p: payload(rest); select a { 1 => Y } }',
    "x.pkt:2:54: select target 'Y' must have field 'a' where 'X' has it (bit 0, 8 bits)",
  ],
  [
    "'_' before the last case",
    'message Y { a: u8; }\nmessage X { a: u8; p: payload(rest); select a { _ => Y, 1 => Y } }',
    "x.pkt:2:49: '_' without a condition must be the last case",
  ],
  [
    'select value taken by an earlier case',
    'message Y { a: u8; }\nmessage Z { a: u8; }\nmessage X { a: u8; p: payload(rest); select a { 1 | 2 => Y, 2 => Z } }',
    'x.pkt:3:61: value 2 is taken by an earlier case of the select',
  ],
  [
    'two selects in a message',
    'message Y { a: u8; }\nmessage X { a: u8; p: payload(rest); select a { 1 => Y } select a { 2 => Y } }',
    'x.pkt:2:58: a message can have only one select',
  ],
  [
    'select in an endian message',
    'message Y { a: u8; }\nmessage X endian(be) { a: u8; p: payload(rest); select a { 1 => Y } }',
    'x.pkt:2:49: an endian(...) message cannot select: its layouts would need a byte order each',
  ],
  [
    'unknown enum member in select',
    'enum E : u8 { A = 1 }\nmessage Y { a: u8 enum E; }\nmessage X { a: u8 enum E; p: payload(rest); select a { B => Y } }',
    "x.pkt:3:56: enum 'E' has no member 'B'",
  ],
  [
    'select on an unknown field',
    'message Y { a: u8; }\nmessage X { a: u8; p: payload(rest); select b { 1 => Y } }',
    "x.pkt:2:45: unknown field 'b'",
  ],
  [
    'select on a region that is not bytes',
    'message Y { a: u8; }\nmessage X { a: u8; r: payload(rest) select a { 1 => Y }; }',
    "x.pkt:2:37: select is only allowed on a byte region (bytes(n)); 'r' is not one",
  ],
  [
    'region select target with a payload',
    'message Y { a: u8; p: payload(rest); }\nmessage X { a: u8; n: u8; r: bytes(n) select a { 1 => Y }; }',
    "x.pkt:2:55: select target 'Y' has a payload: the bytes of 'r' must hold all of it",
  ],
  [
    'quotes on a number',
    'message X { a: u8 quotes y; }',
    "x.pkt:1:19: quotes is only allowed on a payload or byte region; 'a' is not one",
  ],
  [
    'quotes on an array',
    'message X { n: u8; p: array(u16, n) quotes y; }',
    "x.pkt:1:37: quotes is only allowed on a payload or byte region; 'p' is not one",
  ],
  [
    'two quoted packets',
    'message X { a: u8; b: bytes(a) quotes y; payload: payload(rest) quotes y; }',
    "x.pkt:1:65: a message quotes one packet at most ('b' quotes one already)",
  ],
  [
    'quotes outside a select',
    'message X { a: u8; payload: payload(rest) quotes y; }',
    "x.pkt:1:50: 'X' quotes a packet but is neither a select's head nor one of its layouts",
  ],
];

function report(source: string): string {
  try {
    loadSpec('x.pkt', source);
  } catch (e) {
    if (e instanceof SpecError) return e.format();
    throw e;
  }
  return '(no error)';
}

describe('spec errors', () => {
  for (const [what, source, first] of CASES) {
    it(what, () => {
      const lines = report(source).split('\n');
      expect(lines[0]).toBe(first);
      // Line 2 is the source line, line 3 a caret under the reported column.
      const [, line, col] = /^x\.pkt:(\d+):(\d+):/.exec(lines[0]) ?? [];
      expect(lines[1]).toBe(source.split('\n')[Number(line) - 1]);
      expect(lines[2]).toBe(`${' '.repeat(Number(col) - 1)}^`);
    });
  }

  it('accepts every committed spec', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const dir = new URL('../../specs/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.pkt'));
    expect(files.sort()).toEqual([
      'arp.pkt',
      'dhcp.pkt',
      'dhcpv6.pkt',
      'dns.pkt',
      'edns.pkt',
      'ethernet.pkt',
      'geneve.pkt',
      'gre.pkt',
      'icmp.pkt',
      'icmpv6.pkt',
      'igmp.pkt',
      'ipv4.pkt',
      'ipv6.pkt',
      'ipv6frag.pkt',
      'ipv6opts.pkt',
      'ipv6route.pkt',
      'lldp.pkt',
      'mpls.pkt',
      'pcap.pkt',
      'ppp.pkt',
      'tcp.pkt',
      'udp.pkt',
      'virtio.pkt',
      'vlan.pkt',
      'vxlan.pkt',
    ]);
    for (const f of files)
      expect(() => loadSpec(`specs/${f}`, readFileSync(new URL(f, dir), 'utf8'))).not.toThrow();
  });
});

/**
 * Dispatch graph errors, found across specs: [what, specs (file → text), layer table, expected
 * first line]. The reported file is a spec (caret at its dispatch case or keyword) or the table.
 */
const LEAF = 'message Leaf { a: u8; }';
const chain = (n: number): Record<string, string> =>
  Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      `l${i}.pkt`,
      i + 1 < n
        ? `message L${i} { k: u8; payload: payload(rest); dispatch k { 1 => l${i + 1}, } }`
        : LEAF,
    ]),
  );
const GRAPH_CASES: Array<[string, Record<string, string>, string, string]> = [
  [
    'unknown dispatch target',
    { 'a.pkt': 'message A { k: u8; payload: payload(rest); dispatch k { 1 => nope, } }' },
    '',
    "a.pkt:1:62: dispatch target 'nope' is not a spec in specs/",
  ],
  [
    'unknown quoted packet',
    {
      'a.pkt':
        'message A { k: u8; payload: payload(rest); select k { 1 => B, } } message B { k: u8; q: payload(rest) quotes nope; }',
    },
    '',
    "a.pkt:1:110: quoted packet 'nope' is not a spec in specs/",
  ],
  [
    'several roots, none declared',
    {
      'a.pkt': 'message A { k: u8; payload: payload(rest); dispatch k { 1 => c, } }',
      'b.pkt': 'message B { k: u8; payload: payload(rest); dispatch k { 2 => c, } }',
      'c.pkt': LEAF,
    },
    '',
    "b.pkt:1:44: several dispatch roots (a, b): name the ones a frame may start at with 'root NAME' lines in frame.layers",
  ],
  [
    'no root: every dispatching spec is a target',
    {
      'a.pkt': 'message A { k: u8; payload: payload(rest); dispatch k { 1 => b, } }',
      'b.pkt': 'message B { k: u8; payload: payload(rest); dispatch k { 2 => a, } }',
    },
    '',
    "a.pkt:1:44: no dispatch root: every spec that dispatches is the target of another; name the one a frame starts at with a 'root NAME' line in frame.layers",
  ],
  [
    'a dispatching spec no root reaches',
    {
      'a.pkt': 'message A { k: u8; payload: payload(rest); dispatch k { 1 => c, } }',
      'b.pkt': 'message B { k: u8; payload: payload(rest); dispatch k { 2 => c, } }',
      'c.pkt': LEAF,
    },
    'root a\n',
    "b.pkt:1:44: no root reaches b's dispatch, so FrameDecoder would skip it: add 'root b' to frame.layers",
  ],
  [
    'more layers than the layer bits hold',
    chain(31),
    '',
    'l29.pkt:1:64: too many layers: l30 would need layer id 30, past the 30 the FrameLayer bits hold',
  ],
  [
    'root that does not dispatch',
    {
      'a.pkt': 'message A { k: u8; payload: payload(rest); dispatch k { 1 => c, } }',
      'c.pkt': LEAF,
    },
    'root a\nroot c\n',
    "frame.layers:2:1: root 'c' is not a spec that dispatches",
  ],
  [
    'malformed layer table line',
    chain(2),
    'layer l0 = 0\nlayer l1: 1\n',
    "frame.layers:2:1: expected 'layer NAME = ID', 'layer NAME = ID cold' or 'root NAME'",
  ],
  [
    'a word after the layer id that is not cold',
    chain(2),
    'layer l0 = 0\nlayer l1 = 1 hot\n',
    "frame.layers:2:14: expected 'cold' or the end of the line after the layer id, not 'hot'",
  ],
  [
    'the first root marked cold',
    chain(2),
    'layer l0 = 0   cold\nlayer l1 = 1\n',
    "frame.layers:1:16: layer 'l0' cannot be cold: it is the first root, which decode() itself decodes",
  ],
  [
    'a tag marked cold',
    {
      'eth.pkt': 'message Eth { t: u8; payload: payload(rest); dispatch t { 1 => c, 2 => tag, } }',
      'tag.pkt': 'message Tag { t: u8; payload: payload(rest); dispatch t { 1 => c, 2 => tag, } }',
      'c.pkt': LEAF,
    },
    'root eth\nlayer eth = 0\nlayer tag = 1 cold\nlayer c = 2\n',
    "frame.layers:3:15: layer 'tag' cannot be cold: it is a tag, taken in its parent's loop",
  ],
  [
    'layer id reused',
    chain(2),
    '// ids\nlayer l0 = 0\nlayer gone = 1\nlayer l1 = 1\n',
    "frame.layers:4:1: layer id 1 is already 'gone' (ids are never reused)",
  ],
  [
    'layer id past the bits',
    chain(2),
    'layer l0 = 0\n  layer l1 = 30\n',
    'frame.layers:2:14: layer id 30 out of range 0..29',
  ],
];

/** `import` across specs: [what, specs (file → text), expected first line]. */
const ENUM_B = 'enum E : u8 { A = 1, } message B { e: u8 enum E; }';
const IMPORT_CASES: Array<[string, Record<string, string>, string]> = [
  [
    'import from a spec that is not there',
    { 'a.pkt': 'import E from nosuch; message A { x: u8; }' },
    "a.pkt:1:15: cannot import from 'nosuch': no spec nosuch.pkt beside this one",
  ],
  [
    'import of an enum the spec does not declare',
    { 'a.pkt': 'import E, F from b; message A { x: u8; }', 'b.pkt': ENUM_B },
    "a.pkt:1:11: spec 'b' declares no enum 'F'",
  ],
  [
    'import of an enum the spec itself imports',
    {
      'a.pkt': 'import E from c; message A { x: u8; }',
      'b.pkt': ENUM_B,
      'c.pkt': 'import E from b; message C { x: u8; }',
    },
    "a.pkt:1:8: spec 'c' declares no enum 'E' (it imports it from b; import it from there)",
  ],
  [
    'an enum imported twice',
    { 'a.pkt': 'import E from b; import E from b; message A { x: u8; }', 'b.pkt': ENUM_B },
    "a.pkt:1:25: enum 'E' is imported twice",
  ],
  [
    'an enum both imported and declared',
    { 'a.pkt': 'import E from b;\nenum E : u8 { A = 1, }\nmessage A { x: u8; }', 'b.pkt': ENUM_B },
    "a.pkt:2:6: enum 'E' is already imported from b",
  ],
  [
    'an import from itself',
    { 'a.pkt': 'import E from a; enum E : u8 { A = 1, } message A { x: u8; }' },
    'a.pkt:1:15: a spec cannot import from itself',
  ],
  [
    'an import cycle',
    {
      'a.pkt': 'import E from b; enum F : u8 { A = 1, } message A { x: u8; }',
      'b.pkt': 'import F from a; enum E : u8 { A = 1, } message B { x: u8; }',
    },
    'b.pkt:1:15: import cycle: a → b → a',
  ],
];

describe('import errors', () => {
  for (const [what, specs, first] of IMPORT_CASES) {
    it(what, () => {
      const lines = graphReport(specs, '').split('\n');
      expect(lines[0]).toBe(first);
      const [, file, line, col] = /^([\w.]+):(\d+):(\d+):/.exec(lines[0]) ?? [];
      expect(lines[1]).toBe(specs[file].split('\n')[Number(line) - 1]);
      expect(lines[2]).toBe(`${' '.repeat(Number(col) - 1)}^`);
    });
  }

  it('resolves an imported enum in fields, expressions and dispatch', () => {
    const { models } = loadAll(
      [
        { file: 'b.pkt', source: ENUM_B },
        {
          file: 'a.pkt',
          source:
            'import E from b; message A { e: u8 enum E; assert e == E.A else E_BAD_VALUE at e; payload: payload(rest); dispatch e { A => b, } }',
        },
      ],
      { file: 'frame.layers', source: 'root a\n' },
    );
    const a = models.find((m) => m.module === 'a');
    expect(a?.importedEnums.map((e) => [e.name, e.module])).toEqual([['E', 'b']]);
    expect(a?.messages[0].dispatch?.cases[0].values).toEqual([1]);
  });
});

function graphReport(specs: Record<string, string>, table: string): string {
  try {
    loadAll(
      Object.entries(specs).map(([file, source]) => ({ file, source })),
      { file: 'frame.layers', source: table },
    );
  } catch (e) {
    if (e instanceof SpecError) return e.format();
    throw e;
  }
  return '(no error)';
}

describe('dispatch graph errors', () => {
  for (const [what, specs, table, first] of GRAPH_CASES) {
    it(what, () => {
      const lines = graphReport(specs, table).split('\n');
      expect(lines[0]).toBe(first);
      const [, file, line, col] = /^([\w.]+):(\d+):(\d+):/.exec(lines[0]) ?? [];
      const source = file === 'frame.layers' ? table : specs[file];
      expect(lines[1]).toBe(source.split('\n')[Number(line) - 1]);
      expect(lines[2]).toBe(`${' '.repeat(Number(col) - 1)}^`);
    });
  }

  it('accepts a tunnel back to an outer layer, a self-dispatch that is not a tag, and a tag', () => {
    const { graph } = loadAll(
      Object.entries({
        'eth.pkt':
          'message Eth { t: u8; payload: payload(rest); dispatch t { 1 => ip, 2 => tag, } }',
        'tag.pkt':
          'message Tag { t: u8; payload: payload(rest); dispatch t { 1 => ip, 2 => tag, } }',
        'ip.pkt':
          'message Ip { p: u8; payload: payload(rest); dispatch p { 4 => ip, 17 => tun, } }',
        'tun.pkt': 'message Tun { v: u8; payload: payload(rest); dispatch v { 0 => eth, } }',
      }).map(([file, source]) => ({ file, source })),
      { file: 'frame.layers', source: 'root eth\n' },
    );
    expect(graph?.roots).toEqual(['eth']);
    expect(graph?.tunnelTargets).toEqual(['eth', 'ip']);
    expect(graph?.layers.map((l) => [l.module, l.id, l.tag])).toEqual([
      ['eth', 0, false],
      ['ip', 1, false],
      ['tag', 2, true],
      ['tun', 3, false],
    ]);
    expect(graph?.table).toBe(
      'root eth\nlayer eth = 0\nlayer ip = 1\nlayer tag = 2\nlayer tun = 3\n',
    );
  });
  it("keeps a shim (a layer dispatching to its parents' payload layers) on its parents' level", () => {
    const { graph } = loadAll(
      Object.entries({
        'eth.pkt':
          'message Eth { t: u8; payload: payload(rest); dispatch t { 1 => ip, 2 => shim, } }',
        'shim.pkt':
          'message Shim { s: u8; payload: payload(rest); dispatch peek(bits(4)) { 4 => ip, } }',
        'ip.pkt':
          'message Ip { p: u8; payload: payload(rest); dispatch p { 4 => ip, 47 => tun, } }',
        'tun.pkt':
          'message Tun { v: u8; payload: payload(rest); dispatch v { 0 => eth, 1 => shim2, 4 => ip, } }',
        'shim2.pkt': 'message Shim2 { s: u8; payload: payload(rest); dispatch s { 4 => ip, } }',
      }).map(([file, source]) => ({ file, source })),
      { file: 'frame.layers', source: 'root eth\n' },
    );
    expect(graph?.layers.map((l) => [l.module, l.shim])).toEqual([
      ['eth', false],
      ['ip', false],
      ['shim', true],
      ['tun', false],
      ['shim2', true],
    ]);
    // The shim's IPv4 is Ethernet's (no tunnel); the one after a tunnel's shim is a tunnel's.
    expect(graph?.tunnels).toEqual(['ip>ip', 'shim2>ip', 'tun>eth', 'tun>ip']);
  });
});
