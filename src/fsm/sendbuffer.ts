/**
 * Bytes the application wrote that are not yet acknowledged. Offset 0 is the byte at the
 * sender's buffer base sequence number (the oldest unacknowledged data byte).
 *
 * The buffer keeps references to what the application wrote, as node:net's writes do, rather
 * than a copy: a write of COPY_BELOW bytes or more becomes a chunk, a view of the caller's
 * bytes, until acknowledgements drop it; the one copy in user space is then the one into the
 * frame at segmentation (and again for a retransmission, from the same chunk). The caller must
 * not modify bytes it pushed (docs/library.md, "node:net on the stack"). Shorter writes are copied into
 * blocks of the buffer's own, filled front to back (consecutive short writes extend one chunk)
 * and reused once acknowledged: for them a copy costs less than a chunk's bookkeeping, and a
 * reference would pin memory far larger than the write (Node serves Buffers under 4 KiB from
 * shared 8 KiB slabs). Chunks live in a ring of parallel arrays that grows by doubling, so
 * steady traffic allocates nothing per write or per segment.
 *
 * `capacity` bounds the bytes held (SO_SNDBUF), whichever way they are held; the memory held
 * is at most that plus one open block.
 */
import { copyBytes } from '../util/bytes.js';

/** Writes this long or longer are referenced; shorter ones are copied into own blocks. */
export const COPY_BELOW = 4096;
/** Size of an own block (at most the capacity, for small buffers). */
const BLOCK_SIZE = 16 * 1024;
/** Acknowledged own blocks kept for the next short writes. */
const SPARE_BLOCKS = 2;

const EMPTY = new Uint8Array(0);

export class SendBuffer {
  length = 0;
  private limit: number;
  private readonly blockSize: number;
  /** The chunk ring: bytes[start, end) of `bytes` for each, `head` the oldest, `count` held. */
  private bytes: Uint8Array[];
  private start: number[];
  private end: number[];
  /**
   * Whether the chunk is the latest of an own block: the block is free again once it is
   * acknowledged (chunks go in order, so every earlier chunk of the block went before it).
   */
  private owned: boolean[];
  private head = 0;
  private count = 0;
  /** The own block short writes are copied into, filled up to `blockUsed`; null: none yet. */
  private block: Uint8Array | null = null;
  private blockUsed = 0;
  /** The ring slot of the open block's latest chunk, or -1 when it has none held. */
  private blockTail = -1;
  private readonly spare: Uint8Array[] = [];
  /**
   * Where the last copy() ended up: chunk `cursor` (counted from the head) starts at byte
   * `cursorBase` of the buffer. Segmentation copies in increasing offsets, so each copy starts
   * its search here instead of at the head.
   */
  private cursor = 0;
  private cursorBase = 0;

  /**
   * @param capacity Most bytes held.
   * @param blockSize Size of the own blocks short writes are copied into (default 16 KiB).
   */
  constructor(capacity: number, blockSize = BLOCK_SIZE) {
    this.limit = capacity;
    this.blockSize = Math.max(1, blockSize);
    const slots = 8;
    this.bytes = new Array<Uint8Array>(slots).fill(EMPTY);
    this.start = new Array<number>(slots).fill(0);
    this.end = new Array<number>(slots).fill(0);
    this.owned = new Array<boolean>(slots).fill(false);
  }

  /** Most bytes the buffer holds. */
  get capacity(): number {
    return this.limit;
  }

  /**
   * Changes the capacity (SO_SNDBUF on a live socket). Bytes already held stay: a smaller
   * capacity only stops new writes until acknowledgements bring the length below it.
   */
  resize(capacity: number): void {
    this.limit = Math.max(1, capacity);
  }

  get free(): number {
    return Math.max(0, this.limit - this.length);
  }

  /** Chunks held (referenced writes and own blocks' runs): 0 once everything is dropped. */
  get chunks(): number {
    return this.count;
  }

  /**
   * Takes up to `free` of the `len` bytes at `src[off]`; returns how many were taken. Taken
   * bytes of a long write stay `src`'s: the caller must not change them until they are dropped.
   */
  push(src: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.limit - this.length);
    if (n <= 0) return 0;
    if (n >= COPY_BELOW) this.append(src, off, off + n, false);
    else this.copyIn(src, off, n);
    this.length += n;
    return n;
  }

  /** Drops `n` acknowledged bytes from the front. */
  drop(n: number): void {
    const dropped = Math.min(n, this.length);
    if (dropped <= 0) return;
    this.length -= dropped;
    let k = dropped;
    let removed = 0;
    const mask = this.bytes.length - 1;
    while (k > 0) {
      const h = this.head;
      const size = this.end[h] - this.start[h];
      if (k < size) {
        this.start[h] += k;
        break;
      }
      k -= size;
      this.release(h);
      this.head = (h + 1) & mask;
      this.count--;
      removed++;
    }
    // Chunks after the cursor's moved down by the bytes dropped; the head chunk starts at 0.
    this.cursor -= removed;
    if (this.cursor <= 0) {
      this.cursor = 0;
      this.cursorBase = 0;
    } else {
      this.cursorBase -= dropped;
    }
  }

  /** Copies `len` bytes starting `offset` bytes into the buffer to `out[outOff..]`. */
  copy(offset: number, len: number, out: Uint8Array, outOff: number): void {
    if (offset < 0 || len < 0 || offset + len > this.length) {
      throw new RangeError(`send buffer copy [${offset}, +${len}) outside ${this.length} bytes`);
    }
    if (len === 0) return;
    const mask = this.bytes.length - 1;
    let k = this.cursor;
    let base = this.cursorBase;
    if (offset < base) {
      k = 0;
      base = 0;
    }
    // The chunk holding `offset`.
    let i = (this.head + k) & mask;
    let size = this.end[i] - this.start[i];
    while (offset >= base + size) {
      base += size;
      k++;
      i = (i + 1) & mask;
      size = this.end[i] - this.start[i];
    }
    this.cursor = k;
    this.cursorBase = base;
    let from = this.start[i] + (offset - base);
    let left = len;
    let at = outOff;
    for (;;) {
      const take = Math.min(left, this.end[i] - from);
      copyBytes(this.bytes[i], from, out, at, take);
      left -= take;
      if (left === 0) return;
      at += take;
      i = (i + 1) & mask;
      from = this.start[i];
    }
  }

  /** Copies a short write into the open own block (and new ones as it fills). */
  private copyIn(src: Uint8Array, off: number, n: number): void {
    let done = 0;
    while (done < n) {
      let block = this.block;
      if (block === null || this.blockUsed === block.length) {
        // The full block's latest chunk keeps `owned`: its acknowledgement frees the block.
        block = this.takeBlock();
        this.block = block;
        this.blockUsed = 0;
        this.blockTail = -1;
      }
      const take = Math.min(n - done, block.length - this.blockUsed);
      copyBytes(src, off + done, block, this.blockUsed, take);
      const tail = (this.head + this.count - 1) & (this.bytes.length - 1);
      if (this.count > 0 && tail === this.blockTail) {
        this.end[tail] += take;
      } else {
        if (this.blockTail >= 0) this.owned[this.blockTail] = false;
        this.append(block, this.blockUsed, this.blockUsed + take, true);
        this.blockTail = (this.head + this.count - 1) & (this.bytes.length - 1);
      }
      this.blockUsed += take;
      done += take;
    }
  }

  private takeBlock(): Uint8Array {
    const spare = this.spare.pop();
    if (spare !== undefined) return spare;
    return new Uint8Array(Math.min(this.blockSize, Math.max(this.limit, 1)));
  }

  /** Appends chunk bytes[start, end) at the tail. */
  private append(bytes: Uint8Array, start: number, end: number, owned: boolean): void {
    if (this.count === this.bytes.length) this.grow();
    const i = (this.head + this.count) & (this.bytes.length - 1);
    this.bytes[i] = bytes;
    this.start[i] = start;
    this.end[i] = end;
    this.owned[i] = owned;
    this.count++;
  }

  /** Forgets chunk slot `i` (acknowledged): the caller's bytes are no longer referenced. */
  private release(i: number): void {
    if (this.owned[i]) {
      const bytes = this.bytes[i];
      if (bytes === this.block) {
        // Everything written into the open block is acknowledged: fill it again from the start.
        this.blockUsed = 0;
        this.blockTail = -1;
      } else if (this.spare.length < SPARE_BLOCKS) {
        this.spare.push(bytes);
      }
    }
    this.bytes[i] = EMPTY;
    this.owned[i] = false;
    this.start[i] = 0;
    this.end[i] = 0;
  }

  private grow(): void {
    const old = this.bytes.length;
    const size = old * 2;
    const bytes = new Array<Uint8Array>(size).fill(EMPTY);
    const start = new Array<number>(size).fill(0);
    const end = new Array<number>(size).fill(0);
    const owned = new Array<boolean>(size).fill(false);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & (old - 1);
      bytes[k] = this.bytes[i];
      start[k] = this.start[i];
      end[k] = this.end[i];
      owned[k] = this.owned[i];
    }
    if (this.blockTail >= 0) this.blockTail = (this.blockTail - this.head) & (old - 1);
    this.bytes = bytes;
    this.start = start;
    this.end = end;
    this.owned = owned;
    this.head = 0;
  }
}
