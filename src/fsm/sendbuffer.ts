/**
 * Bytes the application wrote that are not yet acknowledged: a ring that grows by doubling up
 * to a fixed capacity (so idle connections stay small). Offset 0 is the byte at the sender's
 * buffer base sequence number (the oldest unacknowledged data byte).
 */
export class SendBuffer {
  private buf: Uint8Array;
  private head = 0;
  length = 0;

  private limit: number;

  constructor(capacity: number, initial = 4096) {
    this.limit = capacity;
    this.buf = new Uint8Array(Math.min(initial, capacity));
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

  /** Appends up to `free` bytes; returns how many were taken. */
  push(src: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.limit - this.length);
    if (n <= 0) return 0;
    if (this.length + n > this.buf.length) this.grow(this.length + n);
    const cap = this.buf.length;
    const tail = (this.head + this.length) % cap;
    const first = Math.min(n, cap - tail);
    this.buf.set(src.subarray(off, off + first), tail);
    if (first < n) this.buf.set(src.subarray(off + first, off + n), 0);
    this.length += n;
    return n;
  }

  /** Drops `n` acknowledged bytes from the front. */
  drop(n: number): void {
    const k = Math.min(n, this.length);
    this.head = (this.head + k) % this.buf.length;
    this.length -= k;
    if (this.length === 0) this.head = 0;
  }

  /** Copies `len` bytes starting `offset` bytes into the buffer to `out[outOff..]`. */
  copy(offset: number, len: number, out: Uint8Array, outOff: number): void {
    if (offset < 0 || len < 0 || offset + len > this.length) {
      throw new RangeError(`send buffer copy [${offset}, +${len}) outside ${this.length} bytes`);
    }
    const cap = this.buf.length;
    const start = (this.head + offset) % cap;
    const first = Math.min(len, cap - start);
    out.set(this.buf.subarray(start, start + first), outOff);
    if (first < len) out.set(this.buf.subarray(0, len - first), outOff + first);
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    size = Math.min(size, this.capacity);
    const next = new Uint8Array(size);
    this.copy(0, this.length, next, 0);
    this.buf = next;
    this.head = 0;
  }
}
