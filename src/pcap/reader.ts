/**
 * Reader for capture files: classic pcap (both byte orders, microsecond and nanosecond magic)
 * and pcapng (sections in either byte order, interface descriptions with their timestamp
 * resolution, enhanced / simple / obsolete packet blocks; other blocks are skipped).
 *
 * The whole file is one Uint8Array; every record's `bytes` is a subarray of it (no copy).
 * Malformed files raise a `PcapError` with a code and the byte offset of the problem, at open
 * time for the file header and during iteration for records: the records before a damaged one
 * are still delivered, as tcpdump and tshark do.
 */

export type PcapErrorCode =
  | 'E_EMPTY' // zero-length file
  | 'E_NOT_PCAP' // the first bytes are neither a pcap magic nor a pcapng section header
  | 'E_TRUNCATED' // the file ends inside a header, a record or a block
  | 'E_BAD_RECORD' // a record header is impossible (captured length above any snap length)
  | 'E_BAD_BLOCK' // a pcapng block is impossible (length, unknown interface, bad byte-order magic)
  | 'E_UNSUPPORTED_VERSION'; // a pcap / pcapng major version this reader does not know

export class PcapError extends Error {
  readonly code: PcapErrorCode;
  /** Byte offset in the file where the problem was found. */
  readonly offset: number;

  constructor(code: PcapErrorCode, offset: number, message: string) {
    super(message);
    this.name = 'PcapError';
    this.code = code;
    this.offset = offset;
  }
}

export interface CaptureRecord {
  /** 0-based position of the record in the file. */
  index: number;
  tsSec: number;
  /** Nanoseconds within `tsSec` (0..999_999_999), whatever the file's resolution. */
  tsNanos: number;
  /** Bytes present in the file (`bytes.length`). */
  caplen: number;
  /** Length of the frame on the wire; larger than `caplen` when the snap length cut it. */
  origLen: number;
  /** The captured frame: a view into the file buffer, not a copy. */
  bytes: Uint8Array;
  /** LINKTYPE_* value of the interface the frame was captured on (1 = Ethernet). */
  linkType: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export const LINKTYPE_ETHERNET = 1;

/**
 * Largest captured length accepted, as in libpcap and wiretap (MAXIMUM_SNAPLEN). A record above
 * its file's snap length but below this is still read: tshark reads such records whole, and
 * fuzzed test captures contain them.
 */
export const MAX_CAPLEN = 262_144;

/** libpcap keeps the link type in the low 26 bits; the upper bits carry FCS information. */
const LINKTYPE_MASK = 0x03ff_ffff;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_HEADER_LEN = 24;
const PCAP_RECORD_HEADER_LEN = 16;

const NG_SHB = 0x0a0d0d0a;
const NG_IDB = 0x00000001;
const NG_OPB = 0x00000002; // obsolete Packet Block
const NG_SPB = 0x00000003;
const NG_EPB = 0x00000006;
const NG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const NG_OPT_END = 0;
const NG_OPT_IF_TSRESOL = 9;
const NG_OPT_IF_TSOFFSET = 14;

function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
function u32(b: Uint8Array, o: number, le: boolean): number {
  return le ? u32le(b, o) : u32be(b, o);
}
function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}

/** Timestamp resolution of a pcapng interface: ticks per second as base^exponent. */
interface NgInterface {
  linkType: number;
  snapLen: number;
  ticksPerSecond: bigint;
  offsetSeconds: bigint;
}

/**
 * Opens a capture held in memory. Throws `PcapError` when the file header is unusable; iterate
 * the result for the records (iteration throws `PcapError` at the first damaged record).
 */
export function openCapture(file: Uint8Array): CaptureReader {
  if (file.length === 0) throw new PcapError('E_EMPTY', 0, 'empty file');
  if (file.length < 4) throw new PcapError('E_TRUNCATED', 0, 'file too short for a capture header');
  if (u32le(file, 0) === NG_SHB) return new PcapngReader(file);
  const magicLe = u32le(file, 0);
  const magicBe = u32be(file, 0);
  if (magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS) return new PcapReader(file, true);
  if (magicBe === PCAP_MAGIC_US || magicBe === PCAP_MAGIC_NS) return new PcapReader(file, false);
  throw new PcapError('E_NOT_PCAP', 0, 'not a pcap or pcapng file');
}

export interface CaptureReader extends Iterable<CaptureRecord> {
  readonly format: CaptureFormat;
  /** pcap: the file's link type; pcapng: the first interface's, or -1 before any interface. */
  readonly linkType: number;
}

class PcapReader implements CaptureReader {
  readonly format = 'pcap' as const;
  readonly linkType: number;
  readonly snapLen: number;
  private readonly nanos: boolean;

  constructor(
    private readonly file: Uint8Array,
    private readonly le: boolean,
  ) {
    if (file.length < PCAP_HEADER_LEN) {
      throw new PcapError(
        'E_TRUNCATED',
        0,
        `pcap file header truncated (${file.length} of 24 bytes)`,
      );
    }
    const major = u16(file, 4, le);
    if (major !== 2) {
      throw new PcapError('E_UNSUPPORTED_VERSION', 4, `unsupported pcap version ${major}`);
    }
    this.nanos = u32(file, 0, le) === PCAP_MAGIC_NS;
    this.snapLen = u32(file, 16, le);
    this.linkType = u32(file, 20, le) & LINKTYPE_MASK;
  }

  *[Symbol.iterator](): Iterator<CaptureRecord> {
    const { file, le } = this;
    let off = PCAP_HEADER_LEN;
    let index = 0;
    while (off < file.length) {
      if (off + PCAP_RECORD_HEADER_LEN > file.length) {
        throw new PcapError('E_TRUNCATED', off, `record ${index + 1}: header truncated`);
      }
      const tsSec = u32(file, off, le);
      const frac = u32(file, off + 4, le);
      const caplen = u32(file, off + 8, le);
      const origLen = u32(file, off + 12, le);
      if (caplen > MAX_CAPLEN) {
        throw new PcapError(
          'E_BAD_RECORD',
          off + 8,
          `record ${index + 1}: captured length ${caplen} is absurd`,
        );
      }
      const start = off + PCAP_RECORD_HEADER_LEN;
      if (start + caplen > file.length) {
        throw new PcapError(
          'E_TRUNCATED',
          start,
          `record ${index + 1}: ${caplen} bytes announced, ${file.length - start} present`,
        );
      }
      yield {
        index,
        tsSec,
        tsNanos: this.nanos ? frac : frac * 1000,
        caplen,
        origLen,
        bytes: file.subarray(start, start + caplen),
        linkType: this.linkType,
      };
      off = start + caplen;
      index++;
    }
  }
}

class PcapngReader implements CaptureReader {
  readonly format = 'pcapng' as const;
  readonly linkType: number;

  constructor(private readonly file: Uint8Array) {
    // Validate the first section header now so that a broken file fails at open time.
    const first = this.sectionHeader(0);
    this.linkType = this.firstLinkType(first.le, first.next);
  }

  /** Reads the SHB at `off`: byte order and the offset of the next block. */
  private sectionHeader(off: number): { le: boolean; next: number } {
    const { file } = this;
    if (off + 28 > file.length)
      throw new PcapError('E_TRUNCATED', off, 'pcapng section header truncated');
    const magic = u32le(file, off + 8);
    let le: boolean;
    if (magic === NG_BYTE_ORDER_MAGIC) le = true;
    else if (u32be(file, off + 8) === NG_BYTE_ORDER_MAGIC) le = false;
    else throw new PcapError('E_BAD_BLOCK', off + 8, 'pcapng section header: bad byte-order magic');
    const major = u16(file, off + 12, le);
    if (major !== 1)
      throw new PcapError('E_UNSUPPORTED_VERSION', off + 12, `unsupported pcapng version ${major}`);
    return { le, next: off + this.blockLength(off, le) };
  }

  /** Total length of the block at `off`, checked against the file and the trailing copy. */
  private blockLength(off: number, le: boolean): number {
    const { file } = this;
    if (off + 12 > file.length)
      throw new PcapError('E_TRUNCATED', off, 'pcapng block header truncated');
    const len = u32(file, off + 4, le);
    if (len < 12 || len % 4 !== 0) {
      throw new PcapError('E_BAD_BLOCK', off + 4, `pcapng block length ${len} is invalid`);
    }
    if (off + len > file.length) {
      throw new PcapError(
        'E_TRUNCATED',
        off,
        `pcapng block of ${len} bytes, ${file.length - off} present`,
      );
    }
    if (u32(file, off + len - 4, le) !== len) {
      throw new PcapError('E_BAD_BLOCK', off + len - 4, 'pcapng block: trailing length differs');
    }
    return len;
  }

  private firstLinkType(le: boolean, off: number): number {
    const { file } = this;
    if (off + 12 > file.length) return -1;
    if (u32(file, off, le) !== NG_IDB) return -1;
    return off + 10 <= file.length ? u16(file, off + 8, le) : -1;
  }

  private parseInterface(off: number, len: number, le: boolean): NgInterface {
    const { file } = this;
    if (len < 20) throw new PcapError('E_BAD_BLOCK', off, 'pcapng interface description too short');
    const iface: NgInterface = {
      linkType: u16(file, off + 8, le),
      snapLen: u32(file, off + 12, le),
      ticksPerSecond: 1_000_000n,
      offsetSeconds: 0n,
    };
    const end = off + len - 4;
    let o = off + 16;
    while (o + 4 <= end) {
      const code = u16(file, o, le);
      const optLen = u16(file, o + 2, le);
      const value = o + 4;
      if (value + optLen > end)
        throw new PcapError('E_BAD_BLOCK', o, 'pcapng option runs past its block');
      if (code === NG_OPT_END) break;
      if (code === NG_OPT_IF_TSRESOL && optLen >= 1) {
        const r = file[value];
        const exp = BigInt(r & 0x7f);
        iface.ticksPerSecond = r & 0x80 ? 2n ** exp : 10n ** exp;
        if (iface.ticksPerSecond === 0n || exp > 60n) {
          throw new PcapError('E_BAD_BLOCK', value, `pcapng if_tsresol ${r} is unusable`);
        }
      } else if (code === NG_OPT_IF_TSOFFSET && optLen >= 8) {
        const hi = BigInt(u32(file, value + (le ? 4 : 0), le));
        const lo = BigInt(u32(file, value + (le ? 0 : 4), le));
        iface.offsetSeconds = BigInt.asIntN(64, (hi << 32n) | lo);
      }
      o = value + ((optLen + 3) & ~3);
    }
    return iface;
  }

  *[Symbol.iterator](): Iterator<CaptureRecord> {
    const { file } = this;
    let off = 0;
    let le = true;
    let interfaces: NgInterface[] = [];
    let index = 0;
    while (off < file.length) {
      if (off + 8 > file.length)
        throw new PcapError('E_TRUNCATED', off, 'pcapng block header truncated');
      // A section header announces its own byte order, so test its type before trusting `le`.
      if (u32le(file, off) === NG_SHB) {
        const shb = this.sectionHeader(off);
        le = shb.le;
        interfaces = [];
        off = shb.next;
        continue;
      }
      const type = u32(file, off, le);
      const len = this.blockLength(off, le);
      const bodyEnd = off + len - 4;
      if (type === NG_IDB) {
        interfaces.push(this.parseInterface(off, len, le));
      } else if (type === NG_EPB || type === NG_OPB) {
        if (len < 32) throw new PcapError('E_BAD_BLOCK', off, 'pcapng packet block too short');
        const ifId = type === NG_EPB ? u32(file, off + 8, le) : u16(file, off + 8, le);
        const iface = interfaces[ifId];
        if (iface === undefined) {
          throw new PcapError(
            'E_BAD_BLOCK',
            off + 8,
            `pcapng packet block names unknown interface ${ifId}`,
          );
        }
        const caplen = u32(file, off + 20, le);
        const origLen = u32(file, off + 24, le);
        const start = off + 28;
        if (caplen > bodyEnd - start) {
          throw new PcapError(
            'E_TRUNCATED',
            start,
            `record ${index + 1}: ${caplen} bytes announced, block holds ${bodyEnd - start}`,
          );
        }
        const ticks = (BigInt(u32(file, off + 12, le)) << 32n) | BigInt(u32(file, off + 16, le));
        const { tsSec, tsNanos } = ticksToTime(ticks, iface);
        yield {
          index,
          tsSec,
          tsNanos,
          caplen,
          origLen,
          bytes: file.subarray(start, start + caplen),
          linkType: iface.linkType,
        };
        index++;
      } else if (type === NG_SPB) {
        const iface = interfaces[0];
        if (iface === undefined)
          throw new PcapError(
            'E_BAD_BLOCK',
            off,
            'pcapng simple packet block before any interface',
          );
        if (len < 16)
          throw new PcapError('E_BAD_BLOCK', off, 'pcapng simple packet block too short');
        const origLen = u32(file, off + 8, le);
        const start = off + 12;
        // The SPB has no captured length: it is the original length cut by the snap length and
        // by the block itself.
        let caplen = Math.min(origLen, bodyEnd - start);
        if (iface.snapLen > 0) caplen = Math.min(caplen, iface.snapLen);
        yield {
          index,
          tsSec: 0,
          tsNanos: 0,
          caplen,
          origLen,
          bytes: file.subarray(start, start + caplen),
          linkType: iface.linkType,
        };
        index++;
      }
      // Any other block (statistics, name resolution, custom, ...) carries no frame: skip it.
      off += len;
    }
  }
}

function ticksToTime(ticks: bigint, iface: NgInterface): { tsSec: number; tsNanos: number } {
  const sec = ticks / iface.ticksPerSecond;
  const rem = ticks % iface.ticksPerSecond;
  return {
    tsSec: Number(sec + iface.offsetSeconds),
    tsNanos: Number((rem * 1_000_000_000n) / iface.ticksPerSecond),
  };
}
