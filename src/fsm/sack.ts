import { seqDiff, seqGe, seqGt, seqLe, seqLt, seqMax, seqMin } from './seq.js';

/**
 * The sender's SACK scoreboard (RFC 2018, RFC 6675): which byte ranges above SND.UNA the peer
 * has reported holding. Ranges are disjoint, sorted and merged, held in two fixed arrays so
 * updates allocate nothing. When the table is full the highest range is forgotten: dropping
 * SACK information only costs a needless retransmission, never correctness.
 */
export class SackScoreboard {
  readonly capacity: number;
  private readonly starts: Uint32Array;
  private readonly ends: Uint32Array;
  count = 0;
  /** Bytes covered by all ranges. */
  sackedBytes = 0;

  constructor(capacity = 32) {
    this.capacity = capacity;
    this.starts = new Uint32Array(capacity);
    this.ends = new Uint32Array(capacity);
  }

  clear(): void {
    this.count = 0;
    this.sackedBytes = 0;
  }

  /** End of the highest SACKed range (only meaningful when count > 0). */
  get highest(): number {
    return this.ends[this.count - 1];
  }

  rangeStart(i: number): number {
    return this.starts[i];
  }

  rangeEnd(i: number): number {
    return this.ends[i];
  }

  /**
   * Adds a block [left, right) reported by the peer, clipped to (una, sndMax]. Returns true
   * when it covered bytes not already marked (new information, RFC 6675 "DupAck" condition).
   */
  add(left: number, right: number, una: number, sndMax: number): boolean {
    let l = seqMax(left, una);
    let r = seqMin(right, sndMax);
    if (!seqLt(l, r)) return false;
    const before = this.sackedBytes;
    // Find first range whose end >= l (could merge), and last range whose start <= r.
    let i = 0;
    while (i < this.count && seqLt(this.ends[i], l)) i++;
    let j = i;
    while (j < this.count && seqLe(this.starts[j], r)) {
      l = seqMin(l, this.starts[j]);
      r = seqMax(r, this.ends[j]);
      this.sackedBytes -= seqDiff(this.ends[j], this.starts[j]);
      j++;
    }
    // Ranges i..j-1 are merged into [l, r).
    const removed = j - i;
    // Bytes of the highest range forgotten to make room: not a loss of new information.
    let evicted = 0;
    if (removed === 0) {
      if (this.count === this.capacity) {
        if (i === this.count) return false; // would be the highest: forget it instead
        evicted = seqDiff(this.ends[this.count - 1], this.starts[this.count - 1]);
        this.sackedBytes -= evicted;
        this.count--;
      }
      for (let k = this.count; k > i; k--) {
        this.starts[k] = this.starts[k - 1];
        this.ends[k] = this.ends[k - 1];
      }
      this.count++;
    } else if (removed > 1) {
      const shift = removed - 1;
      for (let k = j; k < this.count; k++) {
        this.starts[k - shift] = this.starts[k];
        this.ends[k - shift] = this.ends[k];
      }
      this.count -= shift;
    }
    this.starts[i] = l;
    this.ends[i] = r;
    this.sackedBytes += seqDiff(r, l);
    return this.sackedBytes + evicted > before;
  }

  /** SND.UNA moved to `una`: drop or trim ranges below it. */
  advance(una: number): void {
    let drop = 0;
    while (drop < this.count && seqLe(this.ends[drop], una)) {
      this.sackedBytes -= seqDiff(this.ends[drop], this.starts[drop]);
      drop++;
    }
    if (drop > 0) {
      for (let k = drop; k < this.count; k++) {
        this.starts[k - drop] = this.starts[k];
        this.ends[k - drop] = this.ends[k];
      }
      this.count -= drop;
    }
    if (this.count > 0 && seqLt(this.starts[0], una)) {
      this.sackedBytes -= seqDiff(una, this.starts[0]);
      this.starts[0] = una;
    }
  }

  /** If `seq` lies inside a SACKed range, that range's end; otherwise `seq` itself. */
  skipSacked(seq: number): number {
    for (let i = 0; i < this.count; i++) {
      if (seqLt(seq, this.starts[i])) return seq;
      if (seqLt(seq, this.ends[i])) return this.ends[i];
    }
    return seq;
  }

  /** Start of the first SACKed range above `seq`, or `limit` when there is none before it. */
  nextSackedStart(seq: number, limit: number): number {
    for (let i = 0; i < this.count; i++) {
      if (seqGt(this.starts[i], seq)) return seqMin(this.starts[i], limit);
    }
    return limit;
  }

  /** Bytes SACKed within [a, b). */
  sackedIn(a: number, b: number): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) {
      const l = seqMax(this.starts[i], a);
      const r = seqMin(this.ends[i], b);
      if (seqLt(l, r)) n += seqDiff(r, l);
    }
    return n;
  }

  /** Whether every byte of [a, b) is SACKed. */
  covers(a: number, b: number): boolean {
    return seqGe(this.skipSacked(a), b);
  }
}
