/**
 * Memory for in-order TCP data on its way to a socket's stream.
 *
 * Ownership, as node:net has it: a Buffer given to a 'data' listener or returned by `read()`
 * belongs to the application for as long as the application keeps a reference to it, or to any
 * view of it. Applications keep them: `chunks.push(d)` and `Buffer.concat` later, Node's HTTP
 * parser handing out views of the socket's chunk as body chunks that are read much later. A
 * rule like "valid until the listener returns" would corrupt all of those, and nothing tells
 * JavaScript when the last view of a memory region dies (a FinalizationRegistry sees one view
 * object, not the slices made of it). So the bytes of a slab are written once and never again:
 * a slab is filled front to back and, once full, replaced, never rewritten; the GC frees it with
 * the last view over it, as Node's own Buffer pool.
 *
 * What this saves is an object per segment: consecutive deliveries to one connection are
 * consecutive in the slab (a run) and reach the stream as one Buffer when the run is closed
 * (at the end of a receive batch, before an event, or when it reaches MAX_RUN).
 *
 * The zero-garbage path is node:net's other contract, `onread` (see TcpSocket): the bytes are
 * copied into the application's own buffer and are its to use only until its callback returns.
 */

/** Slab size: 180 full-size segments, so the slab's own objects are < 1 B per segment. */
export const RX_SLAB_SIZE = 256 * 1024;
/**
 * The largest run, and the largest delivery copied into a slab (larger ones get a Buffer of
 * their own): a quarter slab, so a slab is at most a quarter empty when it is replaced.
 */
export const RX_MAX_RUN = RX_SLAB_SIZE / 4;

/** A connection's open run: bytes start..end of `slab`, not yet handed to the socket. */
export interface RxRun {
  rxSlab: Buffer | null;
  rxStart: number;
  rxEnd: number;
}

/** Copying without a temporary typed array (see src/util/bytes.ts). */
type Copy = (
  source: Uint8Array,
  sourceOffset: number,
  target: Uint8Array,
  targetOffset: number,
  length: number,
) => void;

export class RxSlab {
  private slab: Buffer;
  private top = 0;

  constructor(
    private readonly copy: Copy,
    private readonly size = RX_SLAB_SIZE,
    private readonly maxRun = RX_MAX_RUN,
  ) {
    this.slab = Buffer.allocUnsafeSlow(size);
  }

  /**
   * Appends `length` bytes to `run`, extending it when it ends where the slab's free space
   * starts; otherwise the run is closed first (`out` gets its Buffer) and a new one begins.
   * Deliveries above maxRun get a Buffer of their own, also pushed to `out` (after the run).
   */
  append(run: RxRun, bytes: Uint8Array, offset: number, length: number, out: Buffer[]): void {
    if (length === 0) return;
    const slab = this.slab;
    if (
      run.rxSlab === slab &&
      run.rxEnd === this.top &&
      run.rxEnd - run.rxStart + length <= this.maxRun &&
      this.top + length <= this.size
    ) {
      this.copy(bytes, offset, slab, this.top, length);
      this.top += length;
      run.rxEnd = this.top;
      return;
    }
    this.close(run, out);
    if (length > this.maxRun) {
      const own = Buffer.allocUnsafeSlow(length);
      this.copy(bytes, offset, own, 0, length);
      out.push(own);
      return;
    }
    if (this.top + length > this.size) {
      // Never reuse: views of the old slab may live on in the application (see above).
      this.slab = Buffer.allocUnsafeSlow(this.size);
      this.top = 0;
    }
    this.copy(bytes, offset, this.slab, this.top, length);
    run.rxSlab = this.slab;
    run.rxStart = this.top;
    this.top += length;
    run.rxEnd = this.top;
  }

  /** Ends `run`: its bytes become one Buffer (a view of the slab) at the end of `out`. */
  close(run: RxRun, out: Buffer[]): void {
    const slab = run.rxSlab;
    if (slab === null) return;
    run.rxSlab = null;
    out.push(slab.subarray(run.rxStart, run.rxEnd));
  }

  /** Forgets `run` (its connection is gone): its bytes stay as they are, unseen. */
  static drop(run: RxRun): void {
    run.rxSlab = null;
  }
}
