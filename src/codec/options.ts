/**
 * Non-allocating cursors over option lists, used by the generated IPv4, TCP and DHCP views.
 *
 * IPv4 and TCP share one layout (RFC 791 / RFC 9293): kind 0 = end of list (one byte; what
 * follows is padding), kind 1 = no-operation (one byte), every other kind is
 * kind-length-value with the length counting the two header bytes.
 *
 * A view owns one cursor and hands the same object out on every `options()` call; `reset()`
 * re-points it, `next()` advances. wrap() has already validated the list with
 * `validateKindLengthList`, so on a wrapped view the cursor never reports an error; it still
 * checks every bound itself, so it is safe on its own too.
 */
import { type DecodeError, fail, newDecodeError } from './errors.js';
import { formatHex, formatIpv4, readIpv4 } from './address.js';
import { u16, u32 } from './bytes.js';

const EMPTY = new Uint8Array(0);
const ZEROS = new Uint8Array(8);

/**
 * Checks that a kind-length-value list can be delimited. Returns -1 when it can, else the
 * absolute offset of the option that cannot (length < 2, or running past the area).
 */
export function validateKindLengthList(bytes: Uint8Array, offset: number, length: number): number {
  let pos = offset;
  const end = offset + length;
  while (pos < end) {
    const kind = bytes[pos];
    if (kind === 0) return -1;
    if (kind === 1) {
      pos++;
      continue;
    }
    if (pos + 1 >= end) return pos;
    const len = bytes[pos + 1];
    if (len < 2 || pos + len > end) return pos;
    pos += len;
  }
  return -1;
}

/**
 * The well-known TCP options of one segment (RFC 9293, 7323, 2018), recorded by TcpView.wrap()
 * while it validates the list, so a stack reads them without walking the list again. A value
 * is -1 (sackPermitted false, sackCount 0) when the option is absent or has the wrong length;
 * when an option occurs twice the last one counts.
 */
export class TcpOptionValues {
  mss = -1;
  windowScale = -1;
  sackPermitted = false;
  /** True when a timestamps option (kind 8, length 10) is present. */
  hasTimestamps = false;
  /**
   * The timestamps as int32 bit patterns (`>>> 0` gives the uint32): an int32 always fits a
   * property's small-integer representation, where a uint32 above 2**31 would turn the
   * property into a boxed double that every store and load then goes through. TcpView's
   * tsval / tsecr getters give the uint32, or -1 without the option.
   */
  tsvalBits = 0;
  tsecrBits = 0;
  /** Whole blocks of the (last) SACK option, at most 4 (all 40 option bytes hold). */
  sackCount = 0;
  /** Its edges as uint32: left of block i at 2 * i, right at 2 * i + 1. */
  readonly sackEdges = new Uint32Array(8);

  clear(): void {
    this.mss = -1;
    this.windowScale = -1;
    this.sackPermitted = false;
    this.hasTimestamps = false;
    this.sackCount = 0;
  }
}

/**
 * validateKindLengthList() for TCP that also records the well-known options into `values`
 * (cleared first). Returns -1 when the list can be delimited, else the offset of the bad option.
 * The 32-bit timestamps are computed inline (no helper call) and kept as int32 bit patterns.
 */
export function validateTcpOptions(
  bytes: Uint8Array,
  offset: number,
  length: number,
  values: TcpOptionValues,
): number {
  values.clear();
  let pos = offset;
  const end = offset + length;
  while (pos < end) {
    const kind = bytes[pos];
    if (kind === 0) return -1;
    if (kind === 1) {
      pos++;
      continue;
    }
    if (pos + 1 >= end) return pos;
    const len = bytes[pos + 1];
    if (len < 2 || pos + len > end) return pos;
    if (kind === 2 && len === 4) values.mss = (bytes[pos + 2] << 8) | bytes[pos + 3];
    else if (kind === 3 && len === 3) values.windowScale = bytes[pos + 2];
    else if (kind === 4 && len === 2) values.sackPermitted = true;
    else if (kind === 5) recordSack(values, bytes, pos + 2, (len - 2) >> 3);
    else if (kind === 8 && len === 10) {
      values.hasTimestamps = true;
      values.tsvalBits =
        (bytes[pos + 2] << 24) | (bytes[pos + 3] << 16) | (bytes[pos + 4] << 8) | bytes[pos + 5];
      values.tsecrBits =
        (bytes[pos + 6] << 24) | (bytes[pos + 7] << 16) | (bytes[pos + 8] << 8) | bytes[pos + 9];
    }
    pos += len;
  }
  return -1;
}

// SACK blocks are recorded by a separate function (they are rare) so that validateTcpOptions()
// stays small enough for V8 to inline into TcpView.wrap(). It stores the values itself (a
// uint32 returned across a call that is not inlined would be boxed).

function recordSack(values: TcpOptionValues, bytes: Uint8Array, at: number, blocks: number): void {
  const count = Math.min(blocks, 4);
  const edges = values.sackEdges;
  for (let i = 0; i < 2 * count; i++, at += 4) {
    edges[i] = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
  }
  values.sackCount = count;
}

/**
 * Cursor over an IPv4 / TCP style option list. Kept small on purpose: next() and the typed
 * accessors get inlined into callers' hot loops, and V8 inlines by bytecode size.
 */
export class KindLengthOptionCursor {
  /** Option kind (IPv4 calls it "type"): 0 end of list, 1 no-op, else kind-length-value. */
  kind = -1;
  /** Absolute offset of the option's first byte. */
  offset = 0;
  /** Total length including the kind (and length) bytes: 1 for EOL/NOP. */
  length = 0;
  /** Set when the list cannot be delimited; the cursor stops there. */
  error: DecodeError | null = null;
  /** The buffer being walked (the one passed to reset()). */
  bytes: Uint8Array = EMPTY;

  /**
   * Where a timestamps option's values are: this option's bytes when it is one (kind 8, length
   * 10), else eight zero bytes. Lets the TCP accessors read without a length test, which keeps
   * them small enough for V8 to always inline (a 32-bit result is then never boxed).
   */
  protected tsBytes: Uint8Array = ZEROS;
  protected tsAt = 0;
  private pos = 0;
  private end = 0;
  private readonly errorRecord: DecodeError;

  constructor(layer: string) {
    this.errorRecord = newDecodeError(layer);
  }

  /** Re-points the cursor at `length` bytes of options at `offset`; returns itself. */
  reset(bytes: Uint8Array, offset: number, length: number): this {
    this.bytes = bytes;
    this.pos = offset;
    this.end = offset + length;
    this.error = null;
    this.kind = -1;
    this.offset = offset;
    this.length = 0;
    this.tsBytes = ZEROS;
    this.tsAt = 0;
    return this;
  }

  /** Absolute offset of the value (after the kind and length bytes). */
  get valueOffset(): number {
    return this.offset + (this.length > 1 ? 2 : 1);
  }

  /** Length of the value (0 for EOL and NOP). */
  get valueLength(): number {
    return this.length > 1 ? this.length - 2 : 0;
  }

  /** Advances to the next option; false at the end of the list (after EOL) or on error. */
  next(): boolean {
    const pos = this.pos;
    const end = this.end;
    if (pos >= end) return false;
    const kind = this.bytes[pos];
    this.kind = kind;
    this.offset = pos;
    if (kind <= 1) {
      this.length = 1;
      this.tsBytes = ZEROS;
      this.tsAt = 0;
      // Everything after an end-of-list option is padding, not options.
      this.pos = kind === 0 ? end : pos + 1;
      return true;
    }
    const len = pos + 1 < end ? this.bytes[pos + 1] : 0;
    if (len < 2 || pos + len > end) return this.malformed(pos);
    this.length = len;
    this.pos = pos + len;
    if (kind === 8 && len === 10) {
      this.tsBytes = this.bytes;
      this.tsAt = pos + 2;
    } else if (this.tsAt !== 0) {
      this.tsBytes = ZEROS;
      this.tsAt = 0;
    }
    return true;
  }

  private malformed(pos: number): boolean {
    this.pos = this.end;
    this.error = fail(this.errorRecord, 'E_BAD_OPTION', 'options', pos);
    return false;
  }
}

/** IPv4 option types with a value layout this cursor knows. */
export const Ipv4OptionType = {
  EOL: 0,
  NOP: 1,
  RR: 7,
  TS: 68,
  LSRR: 131,
  SSRR: 137,
  RA: 148,
} as const;

export class Ipv4OptionCursor extends KindLengthOptionCursor {
  constructor() {
    super('ipv4');
  }

  /** Route options (RR, LSRR, SSRR): the pointer byte, -1 for other types. */
  get pointer(): number {
    return this.valueLength >= 1 ? this.bytes[this.valueOffset] : -1;
  }

  /** Route options: number of whole addresses in the route data. */
  get routeCount(): number {
    return this.valueLength >= 1 ? ((this.valueLength - 1) / 4) | 0 : 0;
  }

  /** Route options: the i-th address (unsigned 32-bit number). */
  routeAddress(i: number): number {
    return readIpv4(this.bytes, this.valueOffset + 1 + 4 * i);
  }
}

/** One IPv4 option as toJSON() shows it: `{type, length, ...}` in wire order. */
export type Ipv4OptionJSON = {
  type: number;
  length: number;
  pointer?: number;
  addresses?: string[];
  data?: string;
};

export function ipv4OptionsToJSON(cursor: Ipv4OptionCursor): Ipv4OptionJSON[] {
  const list: Ipv4OptionJSON[] = [];
  while (cursor.next()) {
    const item: Ipv4OptionJSON = { type: cursor.kind, length: cursor.length };
    const k = cursor.kind;
    if (k === Ipv4OptionType.RR || k === Ipv4OptionType.LSRR || k === Ipv4OptionType.SSRR) {
      item.pointer = cursor.pointer;
      const addresses: string[] = [];
      for (let i = 0; i < cursor.routeCount; i++)
        addresses.push(formatIpv4(cursor.routeAddress(i)));
      item.addresses = addresses;
    } else if (k !== Ipv4OptionType.EOL && k !== Ipv4OptionType.NOP) {
      item.data = formatHex(cursor.bytes, cursor.valueOffset, cursor.valueLength);
    }
    list.push(item);
  }
  return list;
}

export const TcpOptionKindValues = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WS: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
} as const;

/**
 * Cursor over TCP options with typed accessors for the kinds RFC 9293 / 7323 / 2018 define.
 * An accessor is meaningful when `kind` is its kind; it checks only the option's length (so it
 * never reads past the option) and returns -1 when the length is not its kind's (tsval and
 * tsecr return 0).
 */
export class TcpOptionCursor extends KindLengthOptionCursor {
  constructor() {
    super('tcp');
  }

  /** Maximum segment size (kind 2, length 4). */
  get mss(): number {
    return this.length === 4 ? u16(this.bytes, this.offset + 2) : -1;
  }

  /** Window scale shift (kind 3, length 3). */
  get windowScale(): number {
    return this.length === 3 ? this.bytes[this.offset + 2] : -1;
  }

  /** True for a SACK-permitted option (kind 4, length 2). */
  get sackPermitted(): boolean {
    return this.kind === 4 && this.length === 2;
  }

  /** Timestamp value (kind 8, length 10); 0 for any other option. */
  get tsval(): number {
    return u32(this.tsBytes, this.tsAt);
  }

  /** Timestamp echo reply (kind 8, length 10); 0 for any other option. */
  get tsecr(): number {
    return u32(this.tsBytes, this.tsAt + 4);
  }

  /** Number of whole SACK blocks (kind 5); 0 for other kinds. */
  get sackCount(): number {
    return this.kind === 5 ? (this.length - 2) >> 3 : 0;
  }

  /** Left edge of SACK block i (0 <= i < sackCount). */
  sackLeft(i: number): number {
    return u32(this.bytes, this.offset + 2 + 8 * i);
  }

  /** Right edge of SACK block i (0 <= i < sackCount). */
  sackRight(i: number): number {
    return u32(this.bytes, this.offset + 6 + 8 * i);
  }
}

/** One TCP option as toJSON() shows it: `{kind, ...}` in wire order up to the first EOL. */
export type TcpOptionJSON = {
  kind: number;
  length?: number;
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  sack?: Array<[number, number]>;
  tsval?: number;
  tsecr?: number;
  data?: string;
};

export function tcpOptionsToJSON(cursor: TcpOptionCursor): TcpOptionJSON[] {
  const list: TcpOptionJSON[] = [];
  while (cursor.next()) {
    const kind = cursor.kind;
    if (kind === 0 || kind === 1) {
      list.push({ kind });
      continue;
    }
    const item: TcpOptionJSON = { kind, length: cursor.length };
    if (kind === 2 && cursor.mss >= 0) item.mss = cursor.mss;
    else if (kind === 3 && cursor.windowScale >= 0) item.windowScale = cursor.windowScale;
    else if (cursor.sackPermitted) item.sackPermitted = true;
    else if (kind === 5 && cursor.valueLength % 8 === 0) {
      const sack: Array<[number, number]> = [];
      for (let i = 0; i < cursor.sackCount; i++)
        sack.push([cursor.sackLeft(i), cursor.sackRight(i)]);
      item.sack = sack;
    } else if (kind === 8 && cursor.length === 10) {
      item.tsval = cursor.tsval;
      item.tsecr = cursor.tsecr;
    } else item.data = formatHex(cursor.bytes, cursor.valueOffset, cursor.valueLength);
    list.push(item);
  }
  return list;
}

/** Items accepted by `tcp.encodeOptions()`. */
export type TcpOption =
  | { kind: 'mss'; value: number }
  | { kind: 'windowScale'; shift: number }
  | { kind: 'sackPermitted' }
  | { kind: 'sack'; blocks: ReadonlyArray<readonly [number, number]> }
  | { kind: 'timestamps'; tsval: number; tsecr: number }
  | { kind: 'nop' }
  | { kind: 'eol' }
  | { kind: number; data: Uint8Array };

function put32(out: Uint8Array, off: number, n: number): void {
  out[off] = n >>> 24;
  out[off + 1] = n >>> 16;
  out[off + 2] = n >>> 8;
  out[off + 3] = n;
}

/**
 * Absolute offset of the first option of `kind` in an IPv4 / TCP style list (EOL ends the
 * search), or -1 when there is none or the list cannot be delimited up to and including it
 * (so the option found lies wholly inside the list).
 */
export function findKindLengthOption(
  bytes: Uint8Array,
  offset: number,
  length: number,
  kind: number,
): number {
  let pos = offset;
  const end = offset + length;
  while (pos < end) {
    const k = bytes[pos];
    if (k <= 1) {
      if (k === kind) return pos;
      if (k === 0) return -1;
      pos++;
      continue;
    }
    const len = pos + 1 < end ? bytes[pos + 1] : 0;
    if (len < 2 || pos + len > end) return -1;
    if (k === kind) return pos;
    pos += len;
  }
  return -1;
}

/**
 * Rewrites the values of the timestamps option whose kind byte is at `at` (as found by
 * findKindLengthOption(..., 8)): a stack encodes its option block once per connection and
 * patches the timestamps per segment, instead of encoding the whole list again.
 */
export function writeTcpTimestamps(
  out: Uint8Array,
  at: number,
  tsval: number,
  tsecr: number,
): void {
  out[at + 2] = tsval >> 24;
  out[at + 3] = tsval >> 16;
  out[at + 4] = tsval >> 8;
  out[at + 5] = tsval;
  out[at + 6] = tsecr >> 24;
  out[at + 7] = tsecr >> 16;
  out[at + 8] = tsecr >> 8;
  out[at + 9] = tsecr;
}

/**
 * Writes TCP options at `offset` and pads with zero bytes (EOL) to a multiple of 4, as the data
 * offset needs. Returns the byte count (at most 40); -1 when they do not fit in 40 bytes or in
 * `out`. Raw items (`{kind: number, data}`) are written as kind, 2 + data.length, data.
 */
export function encodeTcpOptions(
  list: readonly TcpOption[],
  out: Uint8Array,
  offset: number,
): number {
  let pos = offset;
  const limit = Math.min(offset + 40, out.length);
  // One pass: each case checks its own room, then writes.
  for (let i = 0; i < list.length; i++) {
    const o = list[i];
    switch (o.kind) {
      case 'mss':
        if (pos + 4 > limit) return -1;
        out[pos] = 2;
        out[pos + 1] = 4;
        out[pos + 2] = o.value >>> 8;
        out[pos + 3] = o.value;
        pos += 4;
        break;
      case 'windowScale':
        if (pos + 3 > limit) return -1;
        out[pos] = 3;
        out[pos + 1] = 3;
        out[pos + 2] = o.shift;
        pos += 3;
        break;
      case 'sackPermitted':
        if (pos + 2 > limit) return -1;
        out[pos] = 4;
        out[pos + 1] = 2;
        pos += 2;
        break;
      case 'sack': {
        const need = 2 + 8 * o.blocks.length;
        if (pos + need > limit) return -1;
        out[pos] = 5;
        out[pos + 1] = need;
        for (let k = 0; k < o.blocks.length; k++) {
          put32(out, pos + 2 + 8 * k, o.blocks[k][0]);
          put32(out, pos + 6 + 8 * k, o.blocks[k][1]);
        }
        pos += need;
        break;
      }
      case 'timestamps':
        if (pos + 10 > limit) return -1;
        out[pos] = 8;
        out[pos + 1] = 10;
        put32(out, pos + 2, o.tsval);
        put32(out, pos + 6, o.tsecr);
        pos += 10;
        break;
      case 'nop':
      case 'eol':
        if (pos + 1 > limit) return -1;
        out[pos] = o.kind === 'nop' ? 1 : 0;
        pos += 1;
        break;
      default: {
        const need = 2 + o.data.length;
        if (pos + need > limit || need > 255) return -1;
        out[pos] = o.kind;
        out[pos + 1] = need;
        out.set(o.data, pos + 2);
        pos += need;
      }
    }
  }
  while ((pos - offset) % 4 !== 0) {
    if (pos >= limit) return -1;
    out[pos++] = 0;
  }
  return pos - offset;
}

// ---------------------------------------------------------------------------------------------
// DHCP (RFC 2132): code 0 = pad (one byte), 255 = end (one byte), others code-length-value with
// the length counting only the value. Option 52 (overload) continues the list in `file` (value
// 1 or 3) and then `sname` (value 2 or 3), each area ending with its own End option (RFC 2131).

export const DHCP_PAD = 0;
export const DHCP_END = 255;
export const DHCP_OVERLOAD = 52;

/** Which area an option was read from. */
export const DhcpOptionArea = { options: 0, file: 1, sname: 2 } as const;

/**
 * Checks that a DHCP option area can be delimited. Returns -1 when it can, else the absolute
 * offset of the option that runs past the area. A missing End is tolerated (seen in the wild).
 */
export function validateDhcpArea(bytes: Uint8Array, offset: number, length: number): number {
  let pos = offset;
  const end = offset + length;
  while (pos < end) {
    const code = bytes[pos];
    if (code === DHCP_END) return -1;
    if (code === DHCP_PAD) {
      pos++;
      continue;
    }
    if (pos + 1 >= end) return pos;
    const len = bytes[pos + 1];
    if (pos + 2 + len > end) return pos;
    pos += 2 + len;
  }
  return -1;
}

/** The overload value (option 52) in an area, 0 when absent. Assumes a validated area. */
export function dhcpOverload(bytes: Uint8Array, offset: number, length: number): number {
  let pos = offset;
  const end = offset + length;
  while (pos < end) {
    const code = bytes[pos];
    if (code === DHCP_END) return 0;
    if (code === DHCP_PAD) {
      pos++;
      continue;
    }
    if (pos + 1 >= end) return 0;
    const len = bytes[pos + 1];
    if (pos + 2 + len > end) return 0;
    if (code === DHCP_OVERLOAD && len >= 1) return bytes[pos + 2] & 3;
    pos += 2 + len;
  }
  return 0;
}

/**
 * Cursor over DHCP options: the options field, then (when option 52 says so) `file`, then
 * `sname`. Pad bytes are skipped; End is reported (code 255, length 1) once per area.
 */
export class DhcpOptionCursor {
  /** Option code. */
  code = -1;
  /** Absolute offset of the code byte. */
  offset = 0;
  /** Total length including code and length bytes (1 for End). */
  length = 0;
  valueOffset = 0;
  valueLength = 0;
  /** DhcpOptionArea of the current option. */
  area = 0;
  error: DecodeError | null = null;

  /** The buffer being walked (the one passed to reset()). */
  bytes: Uint8Array = EMPTY;
  private pos = 0;
  private end = 0;
  private fileOffset = 0;
  private snameOffset = 0;
  private overload = 0;
  private done = true;
  private readonly errorRecord = newDecodeError('dhcp');

  /**
   * Re-points the cursor at the options area (`offset`, `length`) and records where the
   * 128-byte `file` and 64-byte `sname` fields are, for overload.
   */
  reset(
    bytes: Uint8Array,
    offset: number,
    length: number,
    fileOffset: number,
    snameOffset: number,
  ): this {
    this.bytes = bytes;
    this.pos = offset;
    this.end = offset + length;
    this.fileOffset = fileOffset;
    this.snameOffset = snameOffset;
    this.overload = 0;
    this.area = DhcpOptionArea.options;
    this.done = false;
    this.error = null;
    this.code = -1;
    this.offset = offset;
    this.length = 0;
    this.valueOffset = offset;
    this.valueLength = 0;
    return this;
  }

  /** Moves to the next area named by the overload option, or ends the walk. */
  private nextArea(): boolean {
    if (this.area === DhcpOptionArea.options && (this.overload & 1) !== 0) {
      this.area = DhcpOptionArea.file;
      this.pos = this.fileOffset;
      this.end = this.fileOffset + 128;
      return true;
    }
    if (this.area !== DhcpOptionArea.sname && (this.overload & 2) !== 0) {
      this.area = DhcpOptionArea.sname;
      this.pos = this.snameOffset;
      this.end = this.snameOffset + 64;
      return true;
    }
    this.done = true;
    return false;
  }

  next(): boolean {
    const bytes = this.bytes;
    while (!this.done) {
      let pos = this.pos;
      while (pos < this.end && bytes[pos] === DHCP_PAD) pos++;
      this.pos = pos;
      if (pos >= this.end) {
        this.nextArea();
        continue;
      }
      const code = bytes[pos];
      this.code = code;
      this.offset = pos;
      if (code === DHCP_END) {
        this.length = 1;
        this.valueOffset = pos + 1;
        this.valueLength = 0;
        // The rest of this area is padding; the next call moves on to the next area (if any).
        this.pos = this.end;
        return true;
      }
      const len = pos + 1 < this.end ? bytes[pos + 1] : -1;
      if (len < 0 || pos + 2 + len > this.end) {
        this.done = true;
        this.error = fail(this.errorRecord, 'E_BAD_OPTION', 'options', pos);
        return false;
      }
      this.length = 2 + len;
      this.valueOffset = pos + 2;
      this.valueLength = len;
      this.pos = pos + 2 + len;
      // Only an overload option in the main area can open the other areas.
      if (code === DHCP_OVERLOAD && len >= 1 && this.area === DhcpOptionArea.options) {
        this.overload = bytes[pos + 2] & 3;
      }
      return true;
    }
    return false;
  }
}

/** One DHCP option as toJSON() shows it: `{code, length, value?}`; `length` is the value length. */
export type DhcpOptionJSON = {
  code: number;
  length: number;
  value?: number | string | number[] | string[];
};

const DHCP_IPV4_CODES = new Set([1, 16, 28, 32, 50, 54]);
const DHCP_IPV4_LIST_CODES = new Set([
  3, 4, 5, 6, 7, 8, 9, 10, 11, 41, 42, 44, 45, 48, 49, 65, 69, 70, 71, 72, 73, 74, 75, 76,
]);
const DHCP_U32_CODES = new Set([2, 24, 35, 38, 51, 58, 59]);
const DHCP_U16_CODES = new Set([13, 22, 26, 57]);
const DHCP_U8_CODES = new Set([19, 20, 23, 27, 29, 30, 31, 34, 36, 37, 39, 46, 52, 53]);
const DHCP_TEXT_CODES = new Set([12, 14, 15, 17, 18, 40, 47, 56, 60, 64, 66, 67]);

function dhcpValue(
  bytes: Uint8Array,
  code: number,
  off: number,
  len: number,
): DhcpOptionJSON['value'] {
  if (DHCP_IPV4_CODES.has(code) && len === 4) return formatIpv4(readIpv4(bytes, off));
  if (DHCP_IPV4_LIST_CODES.has(code) && len % 4 === 0 && len > 0) {
    const list: string[] = [];
    for (let i = 0; i < len; i += 4) list.push(formatIpv4(readIpv4(bytes, off + i)));
    return list;
  }
  if (DHCP_U32_CODES.has(code) && len === 4) return readIpv4(bytes, off);
  if (DHCP_U16_CODES.has(code) && len === 2) return (bytes[off] << 8) | bytes[off + 1];
  if (DHCP_U8_CODES.has(code) && len === 1) return bytes[off];
  if (code === 55) {
    const list: number[] = [];
    for (let i = 0; i < len; i++) list.push(bytes[off + i]);
    return list;
  }
  if (DHCP_TEXT_CODES.has(code)) {
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(bytes[off + i]);
    return s;
  }
  return formatHex(bytes, off, len);
}

export function dhcpOptionsToJSON(cursor: DhcpOptionCursor): DhcpOptionJSON[] {
  const list: DhcpOptionJSON[] = [];
  while (cursor.next()) {
    if (cursor.code === DHCP_END) {
      list.push({ code: DHCP_END, length: 0 });
      continue;
    }
    list.push({
      code: cursor.code,
      length: cursor.valueLength,
      value: dhcpValue(cursor.bytes, cursor.code, cursor.valueOffset, cursor.valueLength),
    });
  }
  return list;
}

/** Walks `cursor` to the first option `code`; returns the cursor there, or null when absent. */
export function dhcpFindOption(cursor: DhcpOptionCursor, code: number): DhcpOptionCursor | null {
  while (cursor.next()) if (cursor.code === code) return cursor;
  return null;
}
