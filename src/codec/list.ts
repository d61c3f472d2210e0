/**
 * What every generated list cursor (`<List>Cursor`) and list element view (`<List><Element>View`)
 * shares, so the generated code holds only what its spec says: the cursor's next() (kinds,
 * lengths, units, end elements) and typed element getters; the window walked, the areas a list
 * continues in and the element's place live here. Nothing allocates after construction.
 */
import { type DecodeError, fail, newDecodeError } from './errors.js';

/**
 * The state of a list walk. A generated cursor's next() reads the element at `pos` in
 * [pos, end), calls nextArea() when the window (or the element count) is used up, and
 * malformed() when an element cannot be delimited.
 */
export abstract class ListCursor {
  /** The current element's kind. */
  kind = -1;
  /** Absolute offset of its first byte. */
  offset = 0;
  /** Its byte length, header included (1 for a one-byte element). */
  length = 0;
  /** The buffer walked. */
  bytes: Uint8Array;
  /** Set when the list cannot be delimited; the cursor stops there. */
  error: DecodeError | null = null;
  /** Where the next element starts, and where the current area ends. */
  protected pos = 0;
  protected end = 0;
  /** Elements left to read (-1: no count). */
  protected remaining = -1;
  /** Further areas the list continues in, as offset, length pairs. */
  private readonly areas: Int32Array;
  private areaCount = 0;
  private areaNext = 0;
  private readonly errorRecord: DecodeError;

  /**
   * `layer` and `field` name the list in errors; `areas` is how many further areas it may
   * continue in; `headerSize` is an element's header (kind and length); `zeros` the buffer of a
   * cursor not yet reset.
   */
  constructor(
    layer: string,
    private readonly field: string,
    areas: number,
    private readonly headerSize: number,
    zeros: Uint8Array,
  ) {
    this.errorRecord = newDecodeError(layer);
    this.areas = new Int32Array(2 * areas);
    this.bytes = zeros;
  }

  /** Re-points the cursor at the list in [offset, offset + length), `count` elements at most (-1: no count); returns itself. */
  reset(bytes: Uint8Array, offset: number, length: number, count = -1): this {
    this.bytes = bytes;
    this.pos = offset;
    this.end = offset + length;
    this.remaining = count;
    this.areaCount = 0;
    this.areaNext = 0;
    this.error = null;
    this.kind = -1;
    this.offset = offset;
    this.length = 0;
    return this;
  }

  /** Adds an area the list continues in once the current ones end. */
  continueIn(offset: number, length: number): this {
    this.areas[2 * this.areaCount] = offset;
    this.areas[2 * this.areaCount + 1] = length;
    this.areaCount++;
    return this;
  }

  /** Absolute offset of the body (after the header). */
  get bodyOffset(): number {
    return this.length === 1 ? this.offset + 1 : this.offset + this.headerSize;
  }

  /** Byte length of the body. */
  get bodyLength(): number {
    return this.length === 1 ? 0 : this.length - this.headerSize;
  }

  /** Advances to the next element; false at the end of the list or on error. */
  abstract next(): boolean;

  /** The current area is used up: moves to the next one; false when none is left. */
  protected nextArea(): boolean {
    if (this.areaNext >= this.areaCount) return false;
    this.pos = this.areas[2 * this.areaNext];
    this.end = this.pos + this.areas[2 * this.areaNext + 1];
    this.areaNext++;
    return true;
  }

  /** The element at `pos` cannot be delimited: stops the walk with E_BAD_OPTION there. */
  protected malformed(pos: number): boolean {
    this.pos = this.end;
    this.areaNext = this.areaCount;
    this.error = fail(this.errorRecord, 'E_BAD_OPTION', this.field, pos);
    return false;
  }
}

/** Where a list element is: what every typed element view holds, re-pointed, never allocated. */
export class ListElement {
  /** The buffer the element is in. */
  bytes: Uint8Array;
  /** Absolute offset of the element's first byte. */
  offset = 0;
  /** Bytes of the element, header included. */
  length: number;

  /** `zeros` and `fixedSize`: the buffer and length of a view pointed at no element. */
  constructor(
    zeros: Uint8Array,
    private readonly fixedSize: number,
  ) {
    this.bytes = zeros;
    this.length = fixedSize;
  }

  /** Re-points the view at the element at `offset` (its fixed size by default); returns itself. */
  point(bytes: Uint8Array, offset: number, length = this.fixedSize): this {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
    return this;
  }
}
