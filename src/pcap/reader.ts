/**
 * Reader for capture files: classic pcap (both byte orders, microsecond and nanosecond magic)
 * and pcapng (sections in either byte order, interface descriptions with their timestamp
 * resolution, enhanced / simple / obsolete packet blocks; other blocks are skipped).
 *
 * The whole file is one Uint8Array; every record's `bytes` is a subarray of it (no copy).
 * Malformed files raise a `PcapError` with a code and the byte offset of the problem, at open
 * time for the file header and during iteration for records: the records before a damaged one
 * are still delivered, as tcpdump and tshark do.
 *
 * Every header and block is read through the views generated from specs/pcap.pkt, in the byte
 * order the file (or pcapng section) was written in; this module only walks them and turns their
 * DecodeErrors into PcapErrors. Captured lengths above libpcap's MAXIMUM_SNAPLEN (declared in the
 * spec) are E_BAD_RECORD.
 */

import { type DecodeError } from '../codec/errors.js';
import { pcap } from '../generated/index.js';

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

/** LINKTYPE_ETHERNET (specs/pcap.pkt's LinkType.Ethernet). */
export const LINKTYPE_ETHERNET: number = pcap.LinkType.Ethernet;

/** libpcap keeps the link type in the low 26 bits of the file header's word (see specs/pcap.pkt). */
const LINKTYPE_MASK = 0x03ff_ffff;

/** The fields of a failed wrap(), for the reader's own error messages. */
function failed(e: DecodeError): string {
  return `${e.field} (${e.code})`;
}

/**
 * Opens a capture held in memory. Throws `PcapError` when the file header is unusable; iterate
 * the result for the records (iteration throws `PcapError` at the first damaged record).
 */
export function openCapture(file: Uint8Array): CaptureReader {
  if (file.length === 0) throw new PcapError('E_EMPTY', 0, 'empty file');
  if (file.length < 4) throw new PcapError('E_TRUNCATED', 0, 'file too short for a capture header');
  if (blockType(file, 0) === Block.SectionHeader) return new PcapngReader(file);
  // The magic is written in the writer's byte order: the order it reads right in is the file's.
  const isMagic = (m: number | undefined): boolean =>
    m !== undefined && pcap.nameOfPcapMagic(m) !== undefined;
  if (isMagic(pcap.decodePcapFilePrefix(file, 0, 4, 'magic', true).magic))
    return new PcapReader(file, true);
  if (isMagic(pcap.decodePcapFilePrefix(file, 0, 4, 'magic', false).magic))
    return new PcapReader(file, false);
  throw new PcapError('E_NOT_PCAP', 0, 'not a pcap or pcapng file');
}

const BLOCK_HEAD = new pcap.PcapngBlockHeadLeView();

/** The pcapng block type at `off` (the section header's reads the same in either order); -1 past the file. */
function blockType(file: Uint8Array, off: number): number {
  return BLOCK_HEAD.wrap(file, off, 4) === null ? BLOCK_HEAD.type : -1;
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
  private readonly record = new pcap.PcapRecordView();

  constructor(
    private readonly file: Uint8Array,
    private readonly le: boolean,
  ) {
    const h = new pcap.PcapFileView();
    const e = h.wrap(file, 0, file.length, le);
    if (e !== null) {
      if (e.code === 'E_TRUNCATED') {
        throw new PcapError(
          'E_TRUNCATED',
          0,
          `pcap file header truncated (${file.length} of ${pcap.PCAPFILE_FIXED_SIZE} bytes)`,
        );
      }
      throw new PcapError(
        'E_UNSUPPORTED_VERSION',
        e.offset,
        `unsupported pcap version ${h.versionMajor}`,
      );
    }
    this.nanos = h.magic === pcap.PcapMagic.Nanoseconds;
    this.snapLen = h.snaplen;
    this.linkType = h.linkTypeWord & LINKTYPE_MASK;
  }

  *[Symbol.iterator](): Iterator<CaptureRecord> {
    const { file, record, le } = this;
    let off = pcap.PCAPFILE_FIXED_SIZE;
    let index = 0;
    while (off < file.length) {
      const e = record.wrap(file, off, file.length - off, le);
      if (e !== null) {
        if (e.code === 'E_BAD_LENGTH') {
          throw new PcapError(
            'E_BAD_RECORD',
            e.offset,
            `record ${index + 1}: captured length ${record.inclLen} is absurd`,
          );
        }
        if (e.offset < off + pcap.PCAPRECORD_FIXED_SIZE) {
          throw new PcapError('E_TRUNCATED', off, `record ${index + 1}: header truncated`);
        }
        throw new PcapError(
          'E_TRUNCATED',
          e.offset,
          `record ${index + 1}: ${record.inclLen} bytes announced, ${file.length - e.offset} present`,
        );
      }
      const start = record.payloadOffset;
      const caplen = record.payloadLength;
      yield {
        index,
        tsSec: record.tsSec,
        tsNanos: this.nanos ? record.tsFraction : record.tsFraction * 1000,
        caplen,
        origLen: record.origLen,
        bytes: file.subarray(start, start + caplen),
        linkType: this.linkType,
      };
      off = start + caplen;
      index++;
    }
  }
}

/** Timestamp resolution and offset of a pcapng interface. */
interface NgInterface {
  linkType: number;
  snapLen: number;
  ticksPerSecond: bigint;
  /** ticksPerSecond as a number when it is at most 2^32 (then Clock divides exactly without bigints), else 0. */
  ticks: number;
  offsetSeconds: number;
}

/**
 * The views a pcapng reader wraps blocks with, in the byte order of the section the block is
 * in (`le`, which every wrap() is given).
 */
interface SectionViews {
  le: boolean;
  block: pcap.PcapngBlockView;
  idb: pcap.PcapngInterfaceDescriptionView;
  option: pcap.PcapngOptionView;
  tsOffset: pcap.PcapngTsOffsetView;
  epb: pcap.PcapngEnhancedPacketView;
  opb: pcap.PcapngObsoletePacketView;
  spb: pcap.PcapngSimplePacketView;
}

function sectionViews(): SectionViews {
  return {
    le: true,
    block: new pcap.PcapngBlockView(),
    idb: new pcap.PcapngInterfaceDescriptionView(),
    option: new pcap.PcapngOptionView(),
    tsOffset: new pcap.PcapngTsOffsetView(),
    epb: new pcap.PcapngEnhancedPacketView(),
    opb: new pcap.PcapngObsoletePacketView(),
    spb: new pcap.PcapngSimplePacketView(),
  };
}

const SHB = new pcap.PcapngSectionHeaderView();
const { PcapngBlockType: Block, PcapngOptionCode: Option } = pcap;

class PcapngReader implements CaptureReader {
  readonly format = 'pcapng' as const;
  readonly linkType: number;
  private readonly views = sectionViews();

  constructor(private readonly file: Uint8Array) {
    // Validate the first section header now so that a broken file fails at open time.
    const first = this.sectionHeader(0);
    this.linkType = this.firstLinkType(first.views, first.next);
  }

  /** Reads the section header block at `off`: its byte order, and where the next block starts. */
  private sectionHeader(off: number): { views: SectionViews; next: number } {
    const { file } = this;
    const shb = SHB;
    let le = true;
    let e = shb.wrap(file, off, file.length - off, le);
    if (e !== null && e.field === 'byteOrderMagic') {
      le = false;
      e = shb.wrap(file, off, file.length - off, le);
    }
    if (e !== null) {
      if (e.code === 'E_TRUNCATED')
        throw new PcapError('E_TRUNCATED', off, 'pcapng section header truncated');
      if (e.field === 'byteOrderMagic')
        throw new PcapError('E_BAD_BLOCK', e.offset, 'pcapng section header: bad byte-order magic');
      throw new PcapError(
        'E_UNSUPPORTED_VERSION',
        e.offset,
        `unsupported pcapng version ${shb.versionMajor}`,
      );
    }
    const views = this.views;
    views.le = le;
    return { views, next: off + this.blockLength(views, off) };
  }

  /** Total length of the block at `off`, checked against the file and the trailing copy. */
  private blockLength(v: SectionViews, off: number): number {
    const { file } = this;
    const b = v.block;
    const e = b.wrap(file, off, file.length - off, v.le);
    if (e === null) {
      if (b.trailingLength !== b.totalLength) {
        throw new PcapError(
          'E_BAD_BLOCK',
          b.trailingLengthOffset,
          'pcapng block: trailing length differs',
        );
      }
      return b.totalLength;
    }
    if (e.field === 'totalLength' && e.code !== 'E_TRUNCATED') {
      throw new PcapError(
        'E_BAD_BLOCK',
        e.offset,
        `pcapng block length ${b.totalLength} is invalid`,
      );
    }
    if (e.offset < off + pcap.PCAPNGBLOCK_FIXED_SIZE + 4 && file.length - off < 12) {
      throw new PcapError('E_TRUNCATED', off, 'pcapng block header truncated');
    }
    throw new PcapError(
      'E_TRUNCATED',
      off,
      `pcapng block of ${b.totalLength} bytes, ${file.length - off} present (${failed(e)})`,
    );
  }

  private firstLinkType(v: SectionViews, off: number): number {
    const head = pcap.decodePcapngInterfaceDescriptionPrefix(
      this.file,
      off,
      this.file.length - off,
      'linkType',
      v.le,
    );
    return head.type === Block.InterfaceDescription ? (head.linkType ?? -1) : -1;
  }

  private parseInterface(v: SectionViews, off: number): NgInterface {
    const { file } = this;
    const idb = v.idb;
    if (idb.wrap(file, off, file.length - off, v.le) !== null)
      throw new PcapError('E_BAD_BLOCK', off, 'pcapng interface description too short');
    const iface: NgInterface = {
      linkType: idb.linkType,
      snapLen: idb.snapLen,
      ticksPerSecond: 1_000_000n,
      ticks: 1_000_000,
      offsetSeconds: 0,
    };
    const end = idb.optionsOffset + idb.optionsLength;
    const opt = v.option;
    let o = idb.optionsOffset;
    while (o + pcap.PCAPNGOPTION_FIXED_SIZE <= end) {
      if (opt.wrap(file, o, end - o, v.le) !== null)
        throw new PcapError('E_BAD_BLOCK', o, 'pcapng option runs past its block');
      if (opt.code === Option.EndOfOptions) break;
      const value = opt.valueOffset;
      if (opt.code === Option.IfTsresol && opt.length >= 1) {
        const r = file[value];
        const exp = BigInt(r & 0x7f);
        iface.ticksPerSecond = r & 0x80 ? 2n ** exp : 10n ** exp;
        if (iface.ticksPerSecond === 0n || exp > 60n) {
          throw new PcapError('E_BAD_BLOCK', value, `pcapng if_tsresol ${r} is unusable`);
        }
        iface.ticks = iface.ticksPerSecond <= 2n ** 32n ? Number(iface.ticksPerSecond) : 0;
      } else if (
        opt.code === Option.IfTsoffset &&
        opt.length >= 8 &&
        v.tsOffset.wrap(file, value, 8, v.le) === null
      ) {
        const t = v.tsOffset;
        const hi = BigInt(v.le ? t.second : t.first);
        const lo = BigInt(v.le ? t.first : t.second);
        iface.offsetSeconds = Number(BigInt.asIntN(64, (hi << 32n) | lo));
      }
      o += opt.messageLength;
    }
    return iface;
  }

  *[Symbol.iterator](): Iterator<CaptureRecord> {
    const { file } = this;
    let off = 0;
    let v = this.views;
    let interfaces: NgInterface[] = [];
    let index = 0;
    const clock = new Clock();
    while (off < file.length) {
      if (off + 8 > file.length)
        throw new PcapError('E_TRUNCATED', off, 'pcapng block header truncated');
      // A section header announces its own byte order (its type reads the same in both).
      if (blockType(file, off) === Block.SectionHeader) {
        const shb = this.sectionHeader(off);
        v = shb.views;
        interfaces = [];
        off = shb.next;
        continue;
      }
      const len = this.blockLength(v, off);
      const type = v.block.type;
      if (type === Block.InterfaceDescription) {
        interfaces.push(this.parseInterface(v, off));
      } else if (type === Block.EnhancedPacket || type === Block.ObsoletePacket) {
        const p = type === Block.EnhancedPacket ? v.epb : v.opb;
        const e = p.wrap(file, off, len, v.le);
        if (e !== null) {
          if (e.field === 'capturedLength') {
            throw new PcapError(
              'E_TRUNCATED',
              off + 28,
              `record ${index + 1}: ${p.capturedLength} bytes announced, block holds ${len - 32}`,
            );
          }
          throw new PcapError('E_BAD_BLOCK', off, 'pcapng packet block too short');
        }
        const iface = interfaces[p.interfaceId];
        if (iface === undefined) {
          throw new PcapError(
            'E_BAD_BLOCK',
            off + 8,
            `pcapng packet block names unknown interface ${p.interfaceId}`,
          );
        }
        clock.set(p.timestampHigh, p.timestampLow, iface);
        yield {
          index,
          tsSec: clock.seconds,
          tsNanos: clock.nanos,
          caplen: p.capturedLength,
          origLen: p.originalLength,
          bytes: file.subarray(p.dataOffset, p.dataOffset + p.dataLength),
          linkType: iface.linkType,
        };
        index++;
      } else if (type === Block.SimplePacket) {
        const iface = interfaces[0];
        if (iface === undefined)
          throw new PcapError(
            'E_BAD_BLOCK',
            off,
            'pcapng simple packet block before any interface',
          );
        const p = v.spb;
        if (p.wrap(file, off, len, v.le) !== null)
          throw new PcapError('E_BAD_BLOCK', off, 'pcapng simple packet block too short');
        // No captured length: the original length cut by the snap length and by the block.
        let caplen = Math.min(p.originalLength, p.dataLength);
        if (iface.snapLen > 0) caplen = Math.min(caplen, iface.snapLen);
        yield {
          index,
          tsSec: 0,
          tsNanos: 0,
          caplen,
          origLen: p.originalLength,
          bytes: file.subarray(p.dataOffset, p.dataOffset + caplen),
          linkType: iface.linkType,
        };
        index++;
      }
      // Any other block (statistics, name resolution, custom, ...) carries no frame: skip it.
      off += len;
    }
  }
}

/**
 * A pcapng timestamp (64-bit ticks as two uint32 words) as seconds and nanoseconds, without
 * allocating: for a resolution of at most 2^32 ticks per second (every power of ten up to
 * nanoseconds, and 2^-n for n <= 32) by long division in 16-bit digits, where every partial
 * remainder stays below 2^48 and so is exact in a double; finer resolutions go through bigints.
 */
class Clock {
  seconds = 0;
  nanos = 0;

  set(hi: number, lo: number, iface: NgInterface): void {
    const d = iface.ticks;
    if (d === 0) return this.setBig(hi, lo, iface);
    // (x - r) / d is exact: x - r is a multiple of d below 2^53.
    let x = hi >>> 16;
    let r = x % d;
    let q = (x - r) / d;
    x = r * 65536 + (hi & 0xffff);
    r = x % d;
    q = q * 65536 + (x - r) / d;
    x = r * 65536 + (lo >>> 16);
    r = x % d;
    q = q * 65536 + (x - r) / d;
    x = r * 65536 + (lo & 0xffff);
    r = x % d;
    q = q * 65536 + (x - r) / d;
    this.seconds = q + iface.offsetSeconds;
    // floor(r * 10^9 / d) with 10^9 = 5^9 * 2^9: r * 5^9 < 2^32 * 2^21 is exact, then the 2^9.
    const y = r * 1953125;
    const r1 = y % d;
    const z = r1 * 512;
    this.nanos = ((y - r1) / d) * 512 + (z - (z % d)) / d;
  }

  private setBig(hi: number, lo: number, iface: NgInterface): void {
    const ticks = (BigInt(hi) << 32n) | BigInt(lo);
    const tps = iface.ticksPerSecond;
    this.seconds = Number(ticks / tps) + iface.offsetSeconds;
    this.nanos = Number(((ticks % tps) * 1_000_000_000n) / tps);
  }
}
