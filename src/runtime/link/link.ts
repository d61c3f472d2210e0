/**
 * A Link moves whole Ethernet frames between the stack and something else: a TAP device, an
 * in-memory peer, or another Link wrapped by a middleware (pcap recorder, fault injector).
 *
 * Receive is push-based and allocation-free: the link calls `receiver.receive()` once per frame
 * with a view into a buffer the link owns and reuses, so the bytes are valid only during the
 * call. `receiver.batchEnd()` follows each batch (one TAP wakeup, one memory delivery) so
 * upper layers can flush work they coalesced (ACKs, queued writes) once per batch, not per frame.
 */
import type { FrameMeta, LinkOffloads } from './offload.js';

export interface FrameReceiver {
  receive(bytes: Uint8Array, offset: number, length: number): void;
  batchEnd(): void;
}

export interface LinkStats {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  /** Frames the link could not send (queue full, closed, frame larger than the MTU allows). */
  txDropped: number;
}

export interface Link {
  /** The link's own MAC address as a 48-bit number. */
  readonly mac: number;
  /** Largest IP datagram (Ethernet payload) the link carries, e.g. 1500. */
  readonly mtu: number;
  /**
   * Sends one frame (`length` bytes from `offset`). The link copies what it keeps, so the caller
   * may reuse `bytes` as soon as this returns. Returns false when the frame was dropped.
   */
  send(bytes: Uint8Array, offset: number, length: number): boolean;
  /**
   * What the link negotiated (absent: none). With `csum`, received frames may carry partial or
   * already verified checksums; with `tso4`/`tso6`, TCP super-frames up to 64 KiB both ways.
   */
  readonly offloads?: LinkOffloads;
  /**
   * The facts about the frame being delivered (checksum state, GSO segment size), filled before
   * each `receiver.receive()` and cleared after it; one record for the link's lifetime. Absent
   * on links without offloads.
   */
  readonly rxMeta?: FrameMeta;
  /**
   * For a frame that needs the link's offloads (a TCP super-frame, a partial checksum): fill it,
   * with `bytes` set to the buffer passed to `send()`, right before that call, and clear it
   * after. The link takes it only for that buffer, so a frame sent later from elsewhere (a
   * neighbour queue's copy) is never mistaken for it. Present only with `offloads`.
   */
  readonly txMeta?: FrameMeta;
  /** Sets where received frames go (one receiver; a later call replaces it). */
  setReceiver(receiver: FrameReceiver): void;
  stats(): LinkStats;
  /** Stops delivery and releases the device; resolves once everything is flushed/closed. */
  close(): Promise<void>;
}
