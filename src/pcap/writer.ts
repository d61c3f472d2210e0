/**
 * Writer for classic pcap files (the libpcap format tcpdump, tshark and Wireshark read):
 * LINKTYPE_ETHERNET, microsecond timestamps, little-endian (specs/pcap.pkt's PcapFile and
 * PcapRecord, encoded little-endian).
 *
 * Records are copied into one preallocated buffer that is written out when full, so recording a
 * frame allocates nothing. All file I/O is synchronous on purpose: `close()` can then run from a
 * signal or 'exit' handler and still leave a complete file. The buffer bounds how much a crash
 * can lose; call `flush()` for more.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pcap } from '../generated/index.js';

const GLOBAL_HEADER_LENGTH = pcap.PCAPFILE_FIXED_SIZE;
const RECORD_HEADER_LENGTH = pcap.PCAPRECORD_FIXED_SIZE;

export interface PcapWriterOptions {
  /** Longest frame stored whole; longer ones are cut, keeping the original length (default 65535). */
  snapLength?: number;
  /** Buffer size in bytes (default 256 KiB); at least one full record. */
  bufferBytes?: number;
}

/** Wall-clock milliseconds with sub-millisecond precision (Date.now() has only whole ms). */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export class PcapWriter {
  /** Frames recorded and bytes of frame data written (after any cut to the snap length). */
  frames = 0;
  bytes = 0;
  private readonly buffer: Uint8Array;
  /** One record header, re-filled for every frame (nothing allocated per frame). */
  private readonly record: pcap.PcapRecordFields = { tsSec: 0, tsFraction: 0, origLen: 0 };
  private used = 0;
  private closed = false;
  private readonly snapLength: number;

  /** Creates (truncating) `path` and writes the file header. */
  static open(path: string, options: PcapWriterOptions = {}): PcapWriter {
    return new PcapWriter(openSync(path, 'w'), options);
  }

  /** Writes to an open file descriptor, which the writer then owns and closes. */
  constructor(
    private readonly fd: number,
    options: PcapWriterOptions = {},
  ) {
    this.snapLength = options.snapLength ?? 65535;
    if (!Number.isInteger(this.snapLength) || this.snapLength < 1 || this.snapLength > 262144)
      throw new RangeError(`bad snap length ${this.snapLength} (1..262144)`);
    const size = Math.max(
      options.bufferBytes ?? 256 * 1024,
      RECORD_HEADER_LENGTH + this.snapLength,
      GLOBAL_HEADER_LENGTH,
    );
    this.buffer = new Uint8Array(size);
    this.used = pcap.encodePcapFile(
      {
        magic: pcap.PcapMagic.Microseconds,
        versionMajor: 2,
        versionMinor: 4,
        thiszone: 0, // timestamps are UTC
        sigfigs: 0,
        snaplen: this.snapLength,
        linkTypeWord: pcap.LinkType.Ethernet,
      },
      this.buffer,
      0,
      true,
    );
  }

  /** Appends one frame seen at `timestampMs` (milliseconds since the Unix epoch). */
  write(
    bytes: Uint8Array,
    offset: number,
    length: number,
    timestampMs: number = wallClockMs(),
  ): void {
    if (this.closed) throw new Error('pcap writer is closed');
    const caplen = Math.min(length, this.snapLength);
    if (this.used + RECORD_HEADER_LENGTH + caplen > this.buffer.length) this.flush();
    const micros = Math.max(0, Math.round(timestampMs * 1000));
    const seconds = Math.floor(micros / 1_000_000);
    const at = this.used;
    const r = this.record;
    r.tsSec = seconds;
    r.tsFraction = micros - seconds * 1_000_000;
    r.origLen = length;
    this.buffer.set(bytes.subarray(offset, offset + caplen), at + RECORD_HEADER_LENGTH);
    pcap.encodePcapRecord(r, this.buffer, at, caplen, true);
    this.used = at + RECORD_HEADER_LENGTH + caplen;
    this.frames++;
    this.bytes += caplen;
  }

  /** Writes everything buffered to the file. */
  flush(): void {
    let done = 0;
    while (done < this.used) done += writeSync(this.fd, this.buffer, done, this.used - done);
    this.used = 0;
  }

  /** Flushes and closes the file; safe to call more than once and from an 'exit' handler. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }
}
