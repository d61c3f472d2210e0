/**
 * The state machine's view of a TCP segment: plain numbers, no wire format. The runtime fills
 * one reused record per received segment from the generated codec's view (options through its
 * cursor) and turns the records the state machine transmits back into bytes.
 */

/** Control bits, as in the header's flags field (RFC 9293 §3.1). */
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;

/** Most SACK blocks a segment can carry (40 option bytes: 2 + 8 * 4 + padding). */
export const MAX_SACK_BLOCKS = 4;

export interface Segment {
  seq: number;
  ack: number;
  flags: number;
  /** The raw 16-bit window field (scaled by the receiver of the segment as negotiated). */
  window: number;
  /** MSS option value, or -1 when absent. */
  mss: number;
  /** Window-scale option shift, or -1 when absent. */
  windowScale: number;
  sackPermitted: boolean;
  hasTimestamps: boolean;
  tsVal: number;
  tsEcr: number;
  /** SACK blocks as [left, right) pairs in `sackBlocks[0..2*sackCount)`. */
  sackCount: number;
  sackBlocks: number[];
  /**
   * Payload: `dataLength` bytes at `dataOffset` in `data` on input. On output the payload is the
   * connection's send data at `seq` (`TcpConnection.copyPayload`), and `data` is unused.
   */
  data: Uint8Array;
  dataOffset: number;
  dataLength: number;
  /**
   * Segmentation offload. Input: the MSS of the segments a GSO super-frame stands for (the
   * kernel's gso_size), 0 for a segment as sent. Output: the size to cut the payload into
   * (TSO) when it is larger, else 0.
   */
  gsoSize: number;
}

const EMPTY = new Uint8Array(0);

export function newSegment(): Segment {
  return {
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    mss: -1,
    windowScale: -1,
    sackPermitted: false,
    hasTimestamps: false,
    tsVal: 0,
    tsEcr: 0,
    sackCount: 0,
    sackBlocks: [0, 0, 0, 0, 0, 0, 0, 0],
    data: EMPTY,
    dataOffset: 0,
    dataLength: 0,
    gsoSize: 0,
  };
}

/** Resets every field of a reused record to "no options, no payload". */
export function clearSegment(seg: Segment): void {
  seg.seq = 0;
  seg.ack = 0;
  seg.flags = 0;
  seg.window = 0;
  seg.mss = -1;
  seg.windowScale = -1;
  seg.sackPermitted = false;
  seg.hasTimestamps = false;
  seg.tsVal = 0;
  seg.tsEcr = 0;
  seg.sackCount = 0;
  seg.data = EMPTY;
  seg.dataOffset = 0;
  seg.dataLength = 0;
  seg.gsoSize = 0;
}

/** Sequence space a segment occupies: data plus one for SYN and one for FIN. */
export function segmentLength(seg: Segment): number {
  return seg.dataLength + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
}

/**
 * Fills `out` with the reset RFC 9293 §3.10.7.1 prescribes for a segment that belongs to no
 * connection: <SEQ=SEG.ACK><CTL=RST> if it had ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
 * Returns false when no reset may be sent (the segment was itself a reset).
 */
export function resetFor(seg: Segment, out: Segment): boolean {
  if (seg.flags & RST) return false;
  clearSegment(out);
  if (seg.flags & ACK) {
    out.seq = seg.ack;
    out.flags = RST;
  } else {
    out.seq = 0;
    out.ack = (seg.seq + segmentLength(seg)) >>> 0;
    out.flags = RST | ACK;
  }
  return true;
}
