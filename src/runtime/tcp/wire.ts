/**
 * TCP segments between the wire and the state machine's numeric record, using the generated
 * codec: `TcpView` plus its option cursor on the way in (nothing allocated), `encodeTcp` with
 * preallocated option buffers on the way out (nothing allocated either).
 */
import { tcp } from '../../generated/index.js';
import { MAX_SACK_BLOCKS, SYN, clearSegment, type Segment } from '../../fsm/segment.js';

const KIND_EOL = 0;
const KIND_NOP = 1;
const KIND_MSS = 2;
const KIND_WS = 3;
const KIND_SACK_PERMITTED = 4;
const KIND_SACK = 5;
const KIND_TIMESTAMPS = 8;

/** Fills `seg` from a wrapped view (header, options, payload pointing into `view.bytes`). */
export function readSegment(view: tcp.TcpView, seg: Segment): void {
  clearSegment(seg);
  seg.seq = view.seq;
  seg.ack = view.ack;
  // URG, ECE, CWR, AE are not used: keep the classic control bits only.
  seg.flags = view.flags & 0x3f;
  seg.window = view.window;
  const opts = view.options();
  while (opts.next()) {
    switch (opts.kind) {
      case KIND_MSS:
        // RFC 9293 §3.7.1: only meaningful in a SYN; ignore elsewhere.
        if (seg.flags & SYN && opts.mss > 0) seg.mss = opts.mss;
        break;
      case KIND_WS:
        if (seg.flags & SYN && opts.windowScale >= 0) seg.windowScale = opts.windowScale;
        break;
      case KIND_SACK_PERMITTED:
        if (seg.flags & SYN && opts.sackPermitted) seg.sackPermitted = true;
        break;
      case KIND_SACK: {
        const n = Math.min(opts.sackCount, MAX_SACK_BLOCKS);
        // A SACK option whose length is not 2 + 8n is malformed: ignore it.
        if ((opts.valueLength & 7) !== 0) break;
        for (let i = 0; i < n; i++) {
          seg.sackBlocks[2 * i] = opts.sackLeft(i);
          seg.sackBlocks[2 * i + 1] = opts.sackRight(i);
        }
        seg.sackCount = n;
        break;
      }
      case KIND_TIMESTAMPS:
        if (opts.length === 10) {
          seg.hasTimestamps = true;
          seg.tsVal = opts.tsval;
          seg.tsEcr = opts.tsecr;
        }
        break;
      default:
        break;
    }
  }
  seg.data = view.bytes;
  seg.dataOffset = view.payloadOffset;
  seg.dataLength = view.payloadLength;
}

/**
 * Writes the option area for `seg` into one of eleven preallocated buffers (0..40 bytes in
 * steps of 4) and returns it. Layouts follow what Linux sends, so captures look familiar:
 * SYN: MSS, SACK-permitted + timestamps (or NOP NOP + one of them), NOP + window scale;
 * otherwise: NOP NOP timestamps, then NOP NOP SACK blocks.
 */
export class OptionWriter {
  private readonly buffers: Uint8Array[] = [];

  constructor() {
    for (let i = 0; i <= 10; i++) this.buffers.push(new Uint8Array(i * 4));
  }

  write(seg: Segment): Uint8Array {
    const isSyn = (seg.flags & SYN) !== 0;
    let len = 0;
    if (isSyn) {
      if (seg.mss >= 0) len += 4;
      if (seg.sackPermitted && seg.hasTimestamps) len += 12;
      else if (seg.sackPermitted || seg.hasTimestamps) len += seg.hasTimestamps ? 12 : 4;
      if (seg.windowScale >= 0) len += 4;
    } else {
      if (seg.hasTimestamps) len += 12;
      if (seg.sackCount > 0) len += 4 + 8 * seg.sackCount;
    }
    if (len > 40) len = 40; // cannot happen with <= 3 SACK blocks beside timestamps
    const b = this.buffers[len >>> 2];
    let p = 0;
    if (isSyn) {
      if (seg.mss >= 0) {
        b[p++] = KIND_MSS;
        b[p++] = 4;
        b[p++] = seg.mss >>> 8;
        b[p++] = seg.mss & 0xff;
      }
      if (seg.sackPermitted && seg.hasTimestamps) {
        b[p++] = KIND_SACK_PERMITTED;
        b[p++] = 2;
        p = writeTimestamps(b, p, seg.tsVal, seg.tsEcr);
      } else if (seg.hasTimestamps) {
        b[p++] = KIND_NOP;
        b[p++] = KIND_NOP;
        p = writeTimestamps(b, p, seg.tsVal, seg.tsEcr);
      } else if (seg.sackPermitted) {
        b[p++] = KIND_NOP;
        b[p++] = KIND_NOP;
        b[p++] = KIND_SACK_PERMITTED;
        b[p++] = 2;
      }
      if (seg.windowScale >= 0) {
        b[p++] = KIND_NOP;
        b[p++] = KIND_WS;
        b[p++] = 3;
        b[p++] = seg.windowScale;
      }
    } else {
      if (seg.hasTimestamps) {
        b[p++] = KIND_NOP;
        b[p++] = KIND_NOP;
        p = writeTimestamps(b, p, seg.tsVal, seg.tsEcr);
      }
      if (seg.sackCount > 0 && p + 4 + 8 * seg.sackCount <= b.length) {
        b[p++] = KIND_NOP;
        b[p++] = KIND_NOP;
        b[p++] = KIND_SACK;
        b[p++] = 2 + 8 * seg.sackCount;
        for (let i = 0; i < 2 * seg.sackCount; i++) p = writeU32(b, p, seg.sackBlocks[i]);
      }
    }
    while (p < b.length) b[p++] = KIND_EOL;
    return b;
  }
}

function writeTimestamps(b: Uint8Array, p: number, tsVal: number, tsEcr: number): number {
  b[p] = KIND_TIMESTAMPS;
  b[p + 1] = 10;
  writeU32(b, p + 2, tsVal);
  return writeU32(b, p + 6, tsEcr);
}

function writeU32(b: Uint8Array, p: number, v: number): number {
  b[p] = v >>> 24;
  b[p + 1] = (v >>> 16) & 0xff;
  b[p + 2] = (v >>> 8) & 0xff;
  b[p + 3] = v & 0xff;
  return p + 4;
}
