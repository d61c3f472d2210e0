import { seqAdd, seqDiff, seqGe, seqGt, seqLe, seqLt } from './seq.js';

/** One queued out-of-order chunk: bytes [seq, seq + data.length). */
interface Chunk {
  seq: number;
  data: Uint8Array;
}

/**
 * The receiver's out-of-order queue: segments that arrived beyond RCV.NXT, kept sorted and
 * non-overlapping (overlaps are trimmed on insert, first arrival wins), bounded in bytes and in
 * chunks. Copies are made only here, on the out-of-order path; in-order data is never copied by
 * the state machine. Also remembers an out-of-order FIN and produces SACK blocks (RFC 2018).
 */
export class ReorderQueue {
  private readonly chunks: Chunk[] = [];
  bytes = 0;
  /** Sequence number of a FIN seen beyond RCV.NXT (its position), or -1. */
  finSeq = -1;
  /** A sequence number inside the most recently updated block, for RFC 2018's first block. */
  private lastSeq = -1;

  constructor(
    private readonly maxBytes: number,
    private readonly maxChunks: number,
  ) {}

  get size(): number {
    return this.chunks.length;
  }

  get empty(): boolean {
    return this.chunks.length === 0 && this.finSeq < 0;
  }

  clear(): void {
    this.chunks.length = 0;
    this.bytes = 0;
    this.finSeq = -1;
    this.lastSeq = -1;
  }

  /**
   * Queues `len` bytes from `src[off..]` that start at `seq` (> RCV.NXT). Returns the number of
   * bytes newly stored (0 when all were duplicates or the queue is full).
   */
  insert(seq: number, src: Uint8Array, off: number, len: number): number {
    let s = seq;
    let o = off;
    let n = len;
    let stored = 0;
    let i = 0;
    const chunks = this.chunks;
    while (n > 0) {
      while (i < chunks.length && seqLe(seqAdd(chunks[i].seq, chunks[i].data.length), s)) i++;
      let gapEnd = n;
      if (i < chunks.length) {
        const c = chunks[i];
        if (seqLe(c.seq, s)) {
          // s lies inside chunk i: skip the overlap.
          const skip = Math.min(n, seqDiff(seqAdd(c.seq, c.data.length), s));
          s = seqAdd(s, skip);
          o += skip;
          n -= skip;
          continue;
        }
        gapEnd = Math.min(n, seqDiff(c.seq, s));
      }
      if (this.bytes + gapEnd > this.maxBytes || chunks.length >= this.maxChunks) break;
      chunks.splice(i, 0, { seq: s, data: src.slice(o, o + gapEnd) });
      this.bytes += gapEnd;
      stored += gapEnd;
      this.lastSeq = s;
      s = seqAdd(s, gapEnd);
      o += gapEnd;
      n -= gapEnd;
      i++;
    }
    return stored;
  }

  /**
   * Hands every chunk that starts at or before `rcvNxt` to `deliver` (trimming what was already
   * received) and returns the new RCV.NXT.
   */
  drain(rcvNxt: number, deliver: (bytes: Uint8Array, off: number, len: number) => void): number {
    let nxt = rcvNxt;
    const chunks = this.chunks;
    let k = 0;
    while (k < chunks.length && seqLe(chunks[k].seq, nxt)) {
      const c = chunks[k];
      const end = seqAdd(c.seq, c.data.length);
      if (seqGt(end, nxt)) {
        const skip = seqDiff(nxt, c.seq);
        deliver(c.data, skip, c.data.length - skip);
        nxt = end;
      }
      this.bytes -= c.data.length;
      k++;
    }
    if (k > 0) chunks.splice(0, k);
    return nxt;
  }

  /**
   * Fills `out` with up to `max` SACK blocks as [left, right) pairs, the block holding the most
   * recently received data first (RFC 2018 §4), then the others in ascending order. Returns the
   * number of blocks.
   */
  sackBlocks(out: number[], max: number): number {
    const chunks = this.chunks;
    if (chunks.length === 0 || max <= 0) return 0;
    let count = 0;
    let firstLeft = -1;
    // The block containing lastSeq goes first.
    if (this.lastSeq >= 0) {
      const b = this.blockAround(this.lastSeq);
      if (b >= 0) {
        out[0] = this.blockLeft;
        out[1] = this.blockRight;
        firstLeft = this.blockLeft;
        count = 1;
      }
    }
    let i = 0;
    while (i < chunks.length && count < max) {
      const left = chunks[i].seq;
      let right = seqAdd(left, chunks[i].data.length);
      i++;
      while (i < chunks.length && chunks[i].seq === right) {
        right = seqAdd(right, chunks[i].data.length);
        i++;
      }
      if (left === firstLeft) continue;
      out[2 * count] = left;
      out[2 * count + 1] = right;
      count++;
    }
    return count;
  }

  private blockLeft = 0;
  private blockRight = 0;

  /** Finds the merged block containing `seq`; sets blockLeft/blockRight, returns its index or -1. */
  private blockAround(seq: number): number {
    const chunks = this.chunks;
    let i = 0;
    while (i < chunks.length) {
      const start = i;
      const left = chunks[i].seq;
      let right = seqAdd(left, chunks[i].data.length);
      i++;
      while (i < chunks.length && chunks[i].seq === right) {
        right = seqAdd(right, chunks[i].data.length);
        i++;
      }
      if (seqGe(seq, left) && seqLt(seq, right)) {
        this.blockLeft = left;
        this.blockRight = right;
        return start;
      }
    }
    return -1;
  }
}
