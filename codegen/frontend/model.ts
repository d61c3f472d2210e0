/**
 * The validated spec model: what a back end needs, with every name resolved, every fixed field
 * placed at its bit offset, and the order of checks and derived values worked out. Nothing here
 * knows about TypeScript; a second back end (docs, a dissector) would read the same model.
 */

/** Expressions after resolution. `field` is a fixed scalar field of the same message. */
export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'field'; name: string }
  /** The encoder's payloadLength parameter (only in `derive`). */
  | { kind: 'payloadLength' }
  /** Byte length of a region (decode) or element count / byte length of encode data. */
  | { kind: 'len'; name: string }
  /** The item count of an array (its `Count` getter in a view, the value's length on encode). */
  | { kind: 'count'; name: string }
  | { kind: 'bin'; op: BinaryOp; left: Expr; right: Expr }
  | { kind: 'not'; operand: Expr }
  | { kind: 'in'; operand: Expr; values: number[] }
  /** `test ? then : otherwise` (a conditional field's size, a presence flag's derive). */
  | { kind: 'cond'; test: Expr; then: Expr; otherwise: Expr }
  /** Encode only: true when the caller gave any of these (optional, conditional) fields. */
  | { kind: 'present'; names: string[] };

export type BinaryOp =
  '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

export interface EnumModel {
  name: string;
  /** The spec that declares it, when this one imports it (`import IpProtocol from ipv4;`). */
  module?: string;
  /** Width in bits of the base type. */
  width: number;
  members: Array<{ name: string; value: number }>;
}

export interface ChecksumModel {
  /** `header`: from the message start to the payload; `message`: header and payload. */
  coverage: 'header' | 'message';
  /** IP protocol number for an IPv4 pseudo-header, or null when there is none. */
  pseudoProtocol: number | null;
  /** Next header value for an IPv6 pseudo-header (RFC 8200 §8.1), or null when there is none. */
  pseudoIpv6: number | null;
  /** A stored 0 means "no checksum" (UDP); a computed 0 is then sent as 0xffff. */
  zeroMeansNone: boolean;
}

/** A number-valued field at a fixed bit position in the fixed part of the message. */
export interface ScalarField {
  kind: 'scalar';
  name: string;
  /**
   * `uint`: unsigned integer of at most 32 bits; `mac`: 48-bit address; `ipv4`: 32-bit address;
   * `u64`: 64-bit unsigned (views expose uint32 halves); `ipv6`: 128-bit address (views expose
   * its offset and four 32-bit words).
   */
  type: 'uint' | 'mac' | 'ipv4' | 'u64' | 'ipv6';
  bitOffset: number;
  bitWidth: number;
  littleEndian: boolean;
  /**
   * In the byte order given at run time (a u16/u32 of an `endian(be, le)` message): wrap(), the
   * setters, the encoder and the decoders take `littleEndian`; `littleEndian` above is false.
   */
  anyOrder?: boolean;
  enumName: string | null;
  /** How the encoder computes it when the caller leaves it undefined. */
  derive: Expr | null;
  checksum: ChecksumModel | null;
  /** When false the value is meaningless for this message (toJSON shows null). */
  when: Expr | null;
}

/** A fixed-size byte array in the fixed part (DHCP chaddr/sname/file). */
export interface BytesField {
  kind: 'bytes';
  name: string;
  byteOffset: number;
  size: number;
  /**
   * How describe/json show it: `hwaddr(len)` (a MAC when len is 6, colon hex of len bytes
   * otherwise), `mac`, `ipv4`, `ipv6` (RFC 5952) or `hex`; null: hex.
   */
  format: { name: 'hwaddr'; length: Expr } | { name: 'mac' | 'ipv4' | 'ipv6' | 'hex' } | null;
}

export type FixedField = ScalarField | BytesField;

/**
 * A variable-length part after the fixed fields, in wire order. `length` is an expression over
 * fixed fields, `rest` (to the end of the wrapped bytes) or `walk` (the construct finds its own
 * end, e.g. DNS question lists).
 */
export interface Region {
  name: string;
  construct: RegionConstruct;
  length: Expr | 'rest' | 'walk';
  /** `bytes(n) select field { ... }`: which message of the spec the bytes hold. */
  select?: SelectModel;
  /**
   * `payload(rest) quotes ipv6`: the region holds as much as fits of another packet, from a
   * message of that spec on (an ICMP error's invoking packet), cut by design. `pos`: the name's.
   */
  quotes?: { module: string; pos: number };
}

export type RegionConstruct =
  | { kind: 'payload' }
  | { kind: 'bytes' }
  /**
   * `array(T, bound)`: items one after another. `count` (an expression over fixed fields) is the
   * item count when the spec bounds the array by count(); `until` (an expression over the item's
   * fields, `field` naming them) ends the array at the first item for which it holds, that item
   * included (the region is then walked); else the region's length bounds it.
   */
  | { kind: 'array'; array: ArrayModel; count: Expr | null; until: Expr | null }
  /** Another message of the spec laid out inline; its own fields delimit it. */
  | { kind: 'message'; message: string }
  /** A declared list of messages (see ListModel); `continues` extend it into fixed byte fields. */
  | { kind: 'list'; list: string; bound: ListBound; continues: ListContinuation[] }
  /**
   * A DNS name (RFC 1035 §4.1.4): labels, ending in a root byte or a compression pointer that
   * counts from the DNS message's start (the view's `origin`). Walked and checked in wrap().
   * `compressed`: its encoder may end it in a pointer to a name written before (false for a
   * field declared `uncompressed`, as RFC 2782 and 3403 require of SRV and NAPTR targets).
   */
  | { kind: 'dns_name'; compressed: boolean }
  /**
   * One fixed-size field at a computed offset: after a variable part, or conditional
   * (`key: u32 if k == 1`, then `presence` is the condition and the region is 0 bytes when it
   * does not hold). The field's own offset is 0: the region's start is where it sits.
   */
  | { kind: 'field'; field: ScalarField | BytesField; presence: Expr | null };

/** One step of wrap(): an assertion or a region's bound check, in declaration order. */
export type CheckStep =
  | { kind: 'assert'; expr: Expr; code: string; field: string; byteOffset: number }
  | { kind: 'region'; region: string };

export interface DispatchCase {
  values: number[];
  target: string;
  /** Character index of the target's name in the spec (graph errors point there). */
  pos: number;
}

/**
 * `dispatch peek(T)`: the dispatch value is the payload's first `bitWidth` bits (a view getter,
 * PEEK_GETTER, reads them; -1 when the payload is shorter), not a field of the header.
 */
export interface PeekModel {
  bitWidth: number;
}

/** The view getter a peek dispatch reads (its name is in `DispatchModel.fields`). */
export const PEEK_GETTER = 'payloadPeek';

export interface DispatchModel {
  /** The fields tried in order; with `peek`, the one getter PEEK_GETTER. */
  fields: string[];
  peek: PeekModel | null;
  /** The payload is dispatched only when this holds; null: always. */
  when: Expr | null;
  cases: DispatchCase[];
  /** Character index of the `dispatch` keyword. */
  pos: number;
}

/**
 * One case of a select: when the select field has one of `values` (null: any value) and `when`
 * holds, message `target` lays out the bytes.
 */
export interface SelectCase {
  values: number[] | null;
  when: Expr | null;
  target: string;
  /** Character index of the target's name in the spec. */
  pos: number;
}

/**
 * Which message of the same spec lays out the bytes this message (the head) wraps, by one of
 * its fields: the first case that matches names it; none, the head alone.
 */
export interface SelectModel {
  field: string;
  cases: SelectCase[];
  pos: number;
}

/** A toJSON() entry: a field, a region, or a value the back end knows how to compute. */
export type JsonEntry =
  | { kind: 'scalar'; name: string }
  | { kind: 'bytes'; name: string }
  | { kind: 'region'; name: string }
  | { kind: 'builtin'; name: 'checksumValid' | 'payloadLength' | 'headerLength' }
  /** Values provided by a region's construct (DHCP messageType, DNS answers). */
  | { kind: 'construct'; name: string; region: string };

export type DescribePart = { kind: 'text'; text: string } | { kind: 'value'; entry: JsonEntry };

export interface MessageModel {
  name: string;
  /** The layer name used in errors and JSON: the spec file's base name. */
  layer: string;
  /** Size of the fixed part in bytes. */
  fixedSize: number;
  fields: FixedField[];
  regions: Region[];
  steps: CheckStep[];
  /** The checksum field, when the message has one. */
  checksumField: string | null;
  dispatch: DispatchModel | null;
  /**
   * `message M = Base with { ... }`: the message M is declared as. Its dispatch is Base's, so the
   * module's payloadKind() takes either view.
   */
  derivedFrom: string | null;
  select: SelectModel | null;
  /**
   * `endian(be, le)`: one message in either byte order, chosen when it is wrapped or encoded
   * (the `littleEndian` argument); its u16/u32 fields are `anyOrder`.
   */
  eitherOrder: boolean;
  json: JsonEntry[];
  describe: DescribePart[];
  /** True when the encoder needs the payload length (a derive or a message checksum uses it). */
  encodeNeedsPayloadLength: boolean;
  /** Scalars in the order the encoder must compute them (derive dependencies first). */
  encodeOrder: string[];
}

/**
 * How a list region ends: its byte length (the region's length expression or rest), a number of
 * elements read from a fixed field, or right after its end-marker element.
 */
export type ListBound = { kind: 'bytes' } | { kind: 'count'; field: string } | { kind: 'end' };

/** The list goes on in a fixed byte field when `when` (over the list's summaries) holds. */
export interface ListContinuation {
  field: string;
  when: Expr;
}

/**
 * A field of a list element or array item: a scalar at a bit offset from the element's (item's)
 * first byte. `ipv6` (128 bits) is read in place by offset (never a number).
 */
export interface ElementScalar {
  name: string;
  type: 'uint' | 'mac' | 'ipv4' | 'ipv6';
  bitOffset: number;
  bitWidth: number;
  enumName: string | null;
}

/**
 * The item of an `array(T, ...)`, in a message or a list element: a scalar, a group of named
 * scalars (`{ left: u32; right: u32; }`) or a message of the same spec.
 */
export interface ArrayModel {
  /** Fixed items' fields at bit offsets from the item's start (a scalar item: one, named like the array). */
  item: ElementScalar[];
  /** Bytes per item; 0 for a message whose size comes from its own fields. */
  itemSize: number;
  /** True when the item is a single scalar (`array(ipv4, rest)`). */
  scalarItem: boolean;
  /** The item message's name, or null. */
  message: string | null;
}

/**
 * The variable part that ends an element body: raw bytes (`array(u8, rest)`), an array
 * filling the rest of the element, or a nested list (`list(Name, rest)`: DHCPv6's IA_NA holds
 * options of its own).
 */
export interface ElementTail extends ArrayModel {
  name: string;
  kind: 'bytes' | 'array' | 'list';
  /** The nested list's name (kind 'list'), else ''. */
  list: string;
}

export interface ElementModel {
  name: string;
  kindValue: number;
  /** One byte, the kind alone, no length (EOL, NOP, Pad1). */
  single: boolean;
  /** The end marker: nothing after it is an element (padding, or the list's end). */
  end: boolean;
  /** Body fields after the header, offsets from the element's first byte. */
  fields: ElementScalar[];
  /** Bytes of header and fixed body fields. */
  fixedSize: number;
  tail: ElementTail | null;
}

/**
 * A value recorded while wrap() validates the list: an element's scalar (-1 or a presence flag
 * when absent), whether an element is present, or the items of an element's array (up to max).
 */
export interface SummaryModel {
  name: string;
  element: string;
  kind: 'scalar' | 'present' | 'array';
  /** The element field (scalar) or tail array (array); '' for present. */
  field: string;
  /** The first occurrence counts (else the last). */
  first: boolean;
  /** Array items kept at most. */
  max: number;
}

/**
 * A list of messages whose type is chosen by a kind field in a common header: a type-switched
 * union (TLVs and their relatives). Element size = (length field * unit) plus, when the length
 * counts only the body, the header size.
 */
export interface ListModel {
  name: string;
  /** Common header fields, offsets from the element's first byte. */
  header: ElementScalar[];
  headerSize: number;
  kindField: string;
  lengthField: string;
  unit: number;
  countsHeader: boolean;
  /** The encoder pads the whole list with zero bytes to a multiple of this (1: none). */
  align: number;
  /**
   * A malformed element ends the list instead of failing the message (`lenient;`): what came
   * before it counts (summaries included), and the view tells where it stopped.
   */
  lenient: boolean;
  elements: ElementModel[];
  summaries: SummaryModel[];
}

export interface SpecModel {
  /** Spec file path as given (for headers and error messages). */
  file: string;
  /** The spec's text, for errors the dispatch graph finds across specs. */
  source: string;
  /** Base name: `ipv4` for specs/ipv4.pkt; names the generated module. */
  module: string;
  enums: EnumModel[];
  /** Enums declared by other specs and imported by this one (each with its `module`). */
  importedEnums: EnumModel[];
  lists: ListModel[];
  messages: MessageModel[];
}
