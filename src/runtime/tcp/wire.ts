/**
 * TCP segments between the wire and the state machine's numeric record, using the generated
 * codec: `TcpView` and the option summaries its wrap() records on the way in (nothing
 * allocated), `encodeTcpOptions` from reused items on the way out (nothing allocated either).
 */
import { clearArray } from '../arrays.js';
import { tcp } from '../../generated/index.js';
import { MAX_SACK_BLOCKS, SYN, clearSegment, type Segment } from '../../fsm/segment.js';

/** Fills `seg` from a wrapped view (header, options, payload pointing into `view.bytes`). */
export function readSegment(view: tcp.TcpView, seg: Segment): void {
  clearSegment(seg);
  seg.seq = view.seq;
  seg.ack = view.ack;
  // URG, ECE, CWR, AE are not used: keep the classic control bits only.
  seg.flags = view.flags & 0x3f;
  seg.window = view.window;
  // RFC 9293 §3.7.1: MSS, window scale and SACK-permitted mean something only in a SYN.
  if ((seg.flags & SYN) !== 0) {
    if (view.mss > 0) seg.mss = view.mss;
    if (view.windowScale >= 0) seg.windowScale = view.windowScale;
    if (view.sackPermitted) seg.sackPermitted = true;
  }
  const n = Math.min(view.sackCount, MAX_SACK_BLOCKS);
  for (let i = 0; i < n; i++) {
    seg.sackBlocks[2 * i] = view.sackLeft(i);
    seg.sackBlocks[2 * i + 1] = view.sackRight(i);
  }
  seg.sackCount = n;
  if (view.tsval >= 0) {
    seg.hasTimestamps = true;
    seg.tsVal = view.tsval;
    seg.tsEcr = view.tsecr;
  }
  seg.data = view.bytes;
  seg.dataOffset = view.payloadOffset;
  seg.dataLength = view.payloadLength;
}

type Item<K extends tcp.TcpOptionsItem['kind']> = Extract<tcp.TcpOptionsItem, { kind: K }>;

/**
 * Writes the option area for `seg` into one of eleven preallocated buffers (0..40 bytes in
 * steps of 4) and returns it. Layouts follow what Linux sends, so captures look familiar:
 * SYN: MSS, SACK-permitted + timestamps (or NOP NOP + one of them), NOP + window scale;
 * otherwise: NOP NOP timestamps, then NOP NOP SACK blocks. The items are reused: nothing is
 * allocated per segment.
 */
export class OptionWriter {
  private readonly buffers: Uint8Array[] = [];
  private readonly scratch = new Uint8Array(40);
  private readonly items: tcp.TcpOptionsItem[] = [];
  private readonly nop: Item<'NOP'> = { kind: 'NOP' };
  private readonly mss: Item<'MSS'> = { kind: 'MSS', value: 0 };
  private readonly sackPermitted: Item<'SackPermitted'> = { kind: 'SackPermitted' };
  private readonly windowScale: Item<'WindowScale'> = { kind: 'WindowScale', shift: 0 };
  private readonly timestamps: Item<'Timestamps'> = { kind: 'Timestamps', tsval: 0, tsecr: 0 };
  private readonly blocks: Array<{ left: number; right: number }> = [];
  /** One SACK item per block count (1..MAX_SACK_BLOCKS), sharing the block objects. */
  private readonly sacks: Array<Item<'Sack'>> = [];

  constructor() {
    for (let i = 0; i <= 10; i++) this.buffers.push(new Uint8Array(i * 4));
    for (let i = 0; i < MAX_SACK_BLOCKS; i++) this.blocks.push({ left: 0, right: 0 });
    for (let i = 0; i <= MAX_SACK_BLOCKS; i++)
      this.sacks.push({ kind: 'Sack', blocks: this.blocks.slice(0, i) });
  }

  write(seg: Segment): Uint8Array {
    const items = this.items;
    clearArray(items);
    if ((seg.flags & SYN) !== 0) {
      if (seg.mss >= 0) {
        this.mss.value = seg.mss;
        items.push(this.mss);
      }
      if (seg.hasTimestamps) {
        this.timestamps.tsval = seg.tsVal;
        this.timestamps.tsecr = seg.tsEcr;
        if (seg.sackPermitted) items.push(this.sackPermitted, this.timestamps);
        else items.push(this.nop, this.nop, this.timestamps);
      } else if (seg.sackPermitted) {
        items.push(this.nop, this.nop, this.sackPermitted);
      }
      if (seg.windowScale >= 0) {
        this.windowScale.shift = seg.windowScale;
        items.push(this.nop, this.windowScale);
      }
    } else {
      if (seg.hasTimestamps) {
        this.timestamps.tsval = seg.tsVal;
        this.timestamps.tsecr = seg.tsEcr;
        items.push(this.nop, this.nop, this.timestamps);
      }
      // Beside timestamps, 3 blocks fill the 40 bytes.
      const room = seg.hasTimestamps ? 3 : MAX_SACK_BLOCKS;
      const n = Math.min(seg.sackCount, room, MAX_SACK_BLOCKS);
      if (n > 0) {
        for (let i = 0; i < n; i++) {
          this.blocks[i].left = seg.sackBlocks[2 * i];
          this.blocks[i].right = seg.sackBlocks[2 * i + 1];
        }
        items.push(this.nop, this.nop, this.sacks[n]);
      }
    }
    // The layouts above fit in 40 bytes, so this never fails.
    const length = Math.max(0, tcp.encodeTcpOptions(items, this.scratch, 0));
    const b = this.buffers[length >>> 2];
    // A copy loop, not set(subarray()): a subarray would be an allocation per segment.
    for (let i = 0; i < length; i++) b[i] = this.scratch[i];
    return b;
  }
}
