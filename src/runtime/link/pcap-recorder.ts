import { PcapWriter, wallClockMs, type PcapWriterOptions } from '../../pcap/writer.js';
import type { FrameReceiver, Link, LinkStats } from './link.js';
import type { FrameMeta, LinkOffloads } from './offload.js';

export interface PcapRecorderOptions extends PcapWriterOptions {
  /** Timestamp source in ms since the epoch (default: wall clock). Pass one built on a VirtualClock for reproducible files. */
  timestamp?: () => number;
  /** Called once if writing the file fails; recording then stops but the link keeps working. */
  onError?: (error: Error) => void;
}

export interface PcapRecorderStats extends LinkStats {
  recordedFrames: number;
  recordingFailed: boolean;
}

/**
 * A Link middleware that records every frame both ways into a pcap file: received frames as they
 * reach the stack, sent frames once the inner link accepted them (a frame it dropped never hit
 * the wire). It wraps another Link and is used exactly like it.
 */
export class PcapRecorderLink implements Link, FrameReceiver {
  readonly mac: number;
  readonly mtu: number;
  /**
   * The inner link's: frames pass through unchanged, so the file holds what crossed it (TCP
   * super-frames whole and partial checksums as they are, as `tcpdump -i tap0` shows them).
   */
  readonly offloads: LinkOffloads | undefined;
  readonly rxMeta: FrameMeta | undefined;
  readonly txMeta: FrameMeta | undefined;
  private receiver: FrameReceiver | undefined;
  private readonly timestamp: () => number;
  private failed = false;
  private closed = false;

  constructor(
    private readonly inner: Link,
    private readonly writer: PcapWriter,
    private readonly options: PcapRecorderOptions = {},
  ) {
    this.mac = inner.mac;
    this.mtu = inner.mtu;
    this.offloads = inner.offloads;
    this.rxMeta = inner.rxMeta;
    this.txMeta = inner.txMeta;
    this.timestamp = options.timestamp ?? wallClockMs;
    inner.setReceiver(this);
  }

  send(bytes: Uint8Array, offset: number, length: number): boolean {
    const sent = this.inner.send(bytes, offset, length);
    if (sent) this.record(bytes, offset, length);
    return sent;
  }

  setReceiver(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }

  /** From the inner link: record, then pass up. */
  receive(bytes: Uint8Array, offset: number, length: number): void {
    this.record(bytes, offset, length);
    this.receiver?.receive(bytes, offset, length);
  }

  batchEnd(): void {
    this.receiver?.batchEnd();
  }

  stats(): PcapRecorderStats {
    return {
      ...this.inner.stats(),
      recordedFrames: this.writer.frames,
      recordingFailed: this.failed,
    };
  }

  /** Writes buffered records to the file now (the file is complete up to here). */
  flush(): void {
    if (!this.failed && !this.closed) this.guard(() => this.writer.flush());
  }

  /** Closes the file synchronously: for signal and 'exit' handlers. The inner link stays open. */
  closeFileSync(): void {
    if (this.closed) return;
    this.closed = true;
    this.guard(() => this.writer.close());
  }

  async close(): Promise<void> {
    await this.inner.close();
    this.closeFileSync();
  }

  // Inline try/catch rather than a helper taking a closure: this runs for every frame.
  private record(bytes: Uint8Array, offset: number, length: number): void {
    if (this.failed || this.closed) return;
    try {
      this.writer.write(bytes, offset, length, this.timestamp());
    } catch (error) {
      this.fail(error);
    }
  }

  private guard(io: () => void): void {
    try {
      io();
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    this.failed = true;
    this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Wraps `link` so every frame both ways is also written to the pcap file at `path`. */
export function recordPcap(
  link: Link,
  path: string,
  options: PcapRecorderOptions = {},
): PcapRecorderLink {
  // A 64 KiB super-frame is longer than the default snap length: keep it whole, as tcpdump's
  // default (262144) does.
  const o = link.offloads;
  const big = o !== undefined && (o.tso4 || o.tso6) && options.snapLength === undefined;
  const writerOptions = big ? { ...options, snapLength: 262144 } : options;
  return new PcapRecorderLink(link, PcapWriter.open(path, writerOptions), options);
}
