// The practical limit: a hand-written decoder and encoder straight over a Uint8Array, with the
// same guarantees the generated codecs give (every length checked before it is used, option
// lists validated, nothing read outside the frame, nothing allocated) and the same value
// semantics (MACs as 48-bit numbers, IPv4 addresses as uint32). No views, no getters, one pass
// over the TCP options. Anything the generated code does beyond this is overhead.
import type { Contender } from '../contender.js';
import type { Corpus } from '../corpus.js';
import {
  ENC_DST_IP,
  ENC_DST_MAC,
  ENC_IP_FLAGS,
  ENC_MSS,
  ENC_OPTIONS_LENGTH,
  ENC_SRC_IP,
  ENC_SRC_MAC,
  ENC_SRC_PORT,
  ENC_TCP_FLAGS,
  ENC_TTL,
  ENC_WINDOW,
  ENC_WSCALE,
  FRAME_ERROR,
  encAck,
  encDstPort,
  encIdentification,
  encSeq,
  encTsecr,
  encTsval,
  mix,
} from '../workload.js';

function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}
/**
 * A 32-bit field as an int32: mix() folds it exactly like the uint32, and an int32 stays a small
 * integer when it crosses a call that V8 did not inline (a uint32 above 2**31 would be boxed as a
 * heap number: an allocation).
 */
function s32(b: Uint8Array, at: number): number {
  return (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
}
/** A MAC folded as hi16, lo32: what mixMac does with the contract's 48-bit number. */
function mixMacAt(acc: number, b: Uint8Array, at: number): number {
  return mix(mix(acc, u16(b, at)), s32(b, at + 2));
}

function decodeArp(b: Uint8Array, p: number, n: number, acc: number): number {
  if (n < 28) return mix(acc, FRAME_ERROR);
  acc = mix(acc, u16(b, p));
  acc = mix(acc, u16(b, p + 2));
  acc = mix(acc, b[p + 4]);
  acc = mix(acc, b[p + 5]);
  acc = mix(acc, u16(b, p + 6));
  acc = mixMacAt(acc, b, p + 8);
  acc = mix(acc, s32(b, p + 14));
  acc = mixMacAt(acc, b, p + 18);
  return mix(acc, s32(b, p + 24));
}

function decodeIcmp(b: Uint8Array, p: number, n: number, acc: number): number {
  if (n < 8) return mix(acc, FRAME_ERROR);
  acc = mix(acc, b[p]);
  acc = mix(acc, b[p + 1]);
  acc = mix(acc, u16(b, p + 2));
  acc = mix(acc, u16(b, p + 4));
  return mix(acc, u16(b, p + 6));
}

function decodeUdp(b: Uint8Array, p: number, n: number, acc: number): number {
  if (n < 8) return mix(acc, FRAME_ERROR);
  const length = u16(b, p + 4);
  if (length < 8 || length > n) return mix(acc, FRAME_ERROR);
  acc = mix(acc, u16(b, p));
  acc = mix(acc, u16(b, p + 2));
  acc = mix(acc, length);
  return mix(acc, u16(b, p + 6));
}

function decodeTcp(b: Uint8Array, p: number, n: number, acc: number): number {
  if (n < 20) return mix(acc, FRAME_ERROR);
  const dataOffset = b[p + 12] >> 4;
  const hl = dataOffset << 2;
  if (dataOffset < 5 || hl > n) return mix(acc, FRAME_ERROR);
  let mss = -1;
  let ws = -1;
  let sackPermitted = 0;
  let sack = 0;
  let tsval = -1;
  let tsecr = -1;
  const end = p + hl;
  for (let k = p + 20; k < end;) {
    const kind = b[k];
    if (kind === 0) break;
    if (kind === 1) {
      k++;
      continue;
    }
    if (k + 1 >= end) return mix(acc, FRAME_ERROR);
    const len = b[k + 1];
    if (len < 2 || k + len > end) return mix(acc, FRAME_ERROR);
    if (kind === 2 && len === 4) mss = u16(b, k + 2);
    else if (kind === 3 && len === 3) ws = b[k + 2];
    else if (kind === 4 && len === 2) sackPermitted = 1;
    else if (kind === 5) {
      for (let j = k + 2; j + 8 <= k + len; j += 8) sack = mix(mix(sack, s32(b, j)), s32(b, j + 4));
    } else if (kind === 8 && len === 10) {
      tsval = s32(b, k + 2);
      tsecr = s32(b, k + 6);
    }
    k += len;
  }
  acc = mix(acc, u16(b, p));
  acc = mix(acc, u16(b, p + 2));
  acc = mix(acc, s32(b, p + 4));
  acc = mix(acc, s32(b, p + 8));
  acc = mix(acc, dataOffset);
  acc = mix(acc, ((b[p + 12] & 1) << 8) | b[p + 13]);
  acc = mix(acc, u16(b, p + 14));
  acc = mix(acc, u16(b, p + 16));
  acc = mix(acc, u16(b, p + 18));
  acc = mix(acc, n - hl);
  acc = mix(acc, mss);
  acc = mix(acc, ws);
  acc = mix(acc, sackPermitted);
  acc = mix(acc, sack);
  acc = mix(acc, tsval);
  return mix(acc, tsecr);
}

/** IPv4 options must delimit cleanly (EOL, NOP, or kind-length-value inside the area). */
function ipv4OptionsValid(b: Uint8Array, k: number, end: number): boolean {
  while (k < end) {
    const kind = b[k];
    if (kind === 0) return true;
    if (kind === 1) {
      k++;
      continue;
    }
    if (k + 1 >= end) return false;
    const len = b[k + 1];
    if (len < 2 || k + len > end) return false;
    k += len;
  }
  return true;
}

function decodeIpv4(b: Uint8Array, p: number, n: number, acc: number): number {
  if (n < 20) return mix(acc, FRAME_ERROR);
  const version = b[p] >> 4;
  const ihl = b[p] & 15;
  const hl = ihl << 2;
  const totalLength = u16(b, p + 2);
  if (version !== 4 || ihl < 5 || hl > n || totalLength < hl || totalLength > n) {
    return mix(acc, FRAME_ERROR);
  }
  if (hl > 20 && !ipv4OptionsValid(b, p + 20, p + hl)) return mix(acc, FRAME_ERROR);
  const flagsFragment = u16(b, p + 6);
  const protocol = b[p + 9];
  acc = mix(acc, version);
  acc = mix(acc, ihl);
  acc = mix(acc, b[p + 1] >> 2);
  acc = mix(acc, b[p + 1] & 3);
  acc = mix(acc, totalLength);
  acc = mix(acc, u16(b, p + 4));
  acc = mix(acc, flagsFragment >> 13);
  acc = mix(acc, flagsFragment & 0x1fff);
  acc = mix(acc, b[p + 8]);
  acc = mix(acc, protocol);
  acc = mix(acc, u16(b, p + 10));
  acc = mix(acc, s32(b, p + 12));
  acc = mix(acc, s32(b, p + 16));
  const q = p + hl;
  const qn = totalLength - hl;
  if (protocol === 6) return decodeTcp(b, q, qn, acc);
  if (protocol === 17) return decodeUdp(b, q, qn, acc);
  if (protocol === 1) return decodeIcmp(b, q, qn, acc);
  return acc;
}

function decodeIpv6(b: Uint8Array, p: number, n: number, acc: number): number {
  if (n < 40) return mix(acc, FRAME_ERROR);
  const version = b[p] >> 4;
  const payloadLen = u16(b, p + 4);
  if (version !== 6 || payloadLen > n - 40) return mix(acc, FRAME_ERROR);
  const nextHeader = b[p + 6];
  acc = mix(acc, version);
  acc = mix(acc, (u16(b, p) >> 4) & 0xff);
  acc = mix(acc, ((b[p + 1] & 15) << 16) | u16(b, p + 2));
  acc = mix(acc, payloadLen);
  acc = mix(acc, nextHeader);
  acc = mix(acc, b[p + 7]);
  acc = mix(acc, s32(b, p + 8));
  acc = mix(acc, s32(b, p + 12));
  acc = mix(acc, s32(b, p + 16));
  acc = mix(acc, s32(b, p + 20));
  acc = mix(acc, s32(b, p + 24));
  acc = mix(acc, s32(b, p + 28));
  acc = mix(acc, s32(b, p + 32));
  acc = mix(acc, s32(b, p + 36));
  if (nextHeader === 6) return decodeTcp(b, p + 40, payloadLen, acc);
  if (nextHeader === 17) return decodeUdp(b, p + 40, payloadLen, acc);
  return acc;
}

function decodePass(corpus: Corpus): number {
  const b = corpus.bytes;
  const offsets = corpus.offsets;
  const lengths = corpus.lengths;
  let acc = 0;
  for (let f = 0; f < corpus.count; f++) {
    const o = offsets[f];
    const n = lengths[f];
    if (n < 14) {
      acc = mix(acc, FRAME_ERROR);
      continue;
    }
    acc = mixMacAt(acc, b, o);
    acc = mixMacAt(acc, b, o + 6);
    const etherType = u16(b, o + 12);
    acc = mix(acc, etherType);
    if (etherType === 0x0800) acc = decodeIpv4(b, o + 14, n - 14, acc);
    else if (etherType === 0x86dd) acc = decodeIpv6(b, o + 14, n - 14, acc);
    else if (etherType === 0x0806) acc = decodeArp(b, o + 14, n - 14, acc);
  }
  return acc;
}

// ---- encoder -----------------------------------------------------------------------------------
// Straight-line byte stores (no helper calls: V8 stops inlining small helpers once a function
// is this long, and ~30 calls cost more than the stores), then the two checksums over the
// written bytes.

/** One's-complement sum of 16-bit words (not yet folded), starting from `sum`. */
export function onesSum(b: Uint8Array, at: number, length: number, sum: number): number {
  const end = at + (length & ~1);
  for (let k = at; k < end; k += 2) sum += (b[k] << 8) | b[k + 1];
  if (length & 1) sum += b[end] << 8;
  return sum;
}
/** Folds a sum to 16 bits and complements it: the Internet checksum (RFC 1071). */
export function foldChecksum(sum: number): number {
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
export function pseudoHeaderSum(
  src: number,
  dst: number,
  protocol: number,
  length: number,
): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + length;
}

/**
 * What a hand-written stack keeps per connection: addresses split once into the integers it
 * writes, ports, window, option values. A plain object read on every frame (not module
 * constants, which V8 would fold into the code and so flatter the limit).
 */
interface Connection {
  dstMacHi: number;
  dstMacLo: number;
  srcMacHi: number;
  srcMacLo: number;
  srcIp: number;
  dstIp: number;
  srcPort: number;
  ttl: number;
  ipFlags: number;
  tcpFlags: number;
  window: number;
  mss: number;
  wscale: number;
}

function newConnection(): Connection {
  return {
    dstMacHi: (ENC_DST_MAC / 0x100000000) | 0,
    dstMacLo: ENC_DST_MAC | 0,
    srcMacHi: (ENC_SRC_MAC / 0x100000000) | 0,
    srcMacLo: ENC_SRC_MAC | 0,
    srcIp: ENC_SRC_IP | 0,
    dstIp: ENC_DST_IP | 0,
    srcPort: ENC_SRC_PORT,
    ttl: ENC_TTL,
    ipFlags: ENC_IP_FLAGS,
    tcpFlags: ENC_TCP_FLAGS,
    window: ENC_WINDOW,
    mss: ENC_MSS,
    wscale: ENC_WSCALE,
  };
}

const TCP_LENGTH = 20 + ENC_OPTIONS_LENGTH;

function encodeFrame(c: Connection, i: number, out: Uint8Array): number {
  const id = encIdentification(i);
  const dstPort = encDstPort(i);
  const seq = encSeq(i);
  const ack = encAck(i);
  const tsval = encTsval(i);
  const tsecr = encTsecr(i);
  // Ethernet
  out[0] = c.dstMacHi >> 8;
  out[1] = c.dstMacHi;
  out[2] = c.dstMacLo >> 24;
  out[3] = c.dstMacLo >> 16;
  out[4] = c.dstMacLo >> 8;
  out[5] = c.dstMacLo;
  out[6] = c.srcMacHi >> 8;
  out[7] = c.srcMacHi;
  out[8] = c.srcMacLo >> 24;
  out[9] = c.srcMacLo >> 16;
  out[10] = c.srcMacLo >> 8;
  out[11] = c.srcMacLo;
  out[12] = 0x08;
  out[13] = 0x00;
  // IPv4, no options
  out[14] = 0x45;
  out[15] = 0;
  out[16] = (20 + TCP_LENGTH) >> 8;
  out[17] = 20 + TCP_LENGTH;
  out[18] = id >> 8;
  out[19] = id;
  out[20] = c.ipFlags << 5;
  out[21] = 0;
  out[22] = c.ttl;
  out[23] = 6;
  out[24] = 0;
  out[25] = 0;
  out[26] = c.srcIp >>> 24;
  out[27] = c.srcIp >> 16;
  out[28] = c.srcIp >> 8;
  out[29] = c.srcIp;
  out[30] = c.dstIp >>> 24;
  out[31] = c.dstIp >> 16;
  out[32] = c.dstIp >> 8;
  out[33] = c.dstIp;
  const ipSum = foldChecksum(onesSum(out, 14, 20, 0));
  out[24] = ipSum >> 8;
  out[25] = ipSum;
  // TCP
  out[34] = c.srcPort >> 8;
  out[35] = c.srcPort;
  out[36] = dstPort >> 8;
  out[37] = dstPort;
  out[38] = seq >> 24;
  out[39] = seq >> 16;
  out[40] = seq >> 8;
  out[41] = seq;
  out[42] = ack >> 24;
  out[43] = ack >> 16;
  out[44] = ack >> 8;
  out[45] = ack;
  out[46] = (TCP_LENGTH >> 2) << 4;
  out[47] = c.tcpFlags;
  out[48] = c.window >> 8;
  out[49] = c.window;
  out[50] = 0;
  out[51] = 0;
  out[52] = 0;
  out[53] = 0;
  // Options, in Linux's SYN-ACK order: MSS, SACK-permitted, timestamps, NOP, window scale.
  out[54] = 2;
  out[55] = 4;
  out[56] = c.mss >> 8;
  out[57] = c.mss;
  out[58] = 4;
  out[59] = 2;
  out[60] = 8;
  out[61] = 10;
  out[62] = tsval >> 24;
  out[63] = tsval >> 16;
  out[64] = tsval >> 8;
  out[65] = tsval;
  out[66] = tsecr >> 24;
  out[67] = tsecr >> 16;
  out[68] = tsecr >> 8;
  out[69] = tsecr;
  out[70] = 1;
  out[71] = 3;
  out[72] = 3;
  out[73] = c.wscale;
  const tcpSum = foldChecksum(
    onesSum(out, 34, TCP_LENGTH, pseudoHeaderSum(c.srcIp, c.dstIp, 6, TCP_LENGTH)),
  );
  out[50] = tcpSum >> 8;
  out[51] = tcpSum;
  return 34 + TCP_LENGTH;
}

export async function create(): Promise<Contender> {
  const conn = newConnection();
  return {
    name: 'limit',
    decodePass,
    encode: { encodeFrame: (i: number, out: Uint8Array): number => encodeFrame(conn, i, out) },
  };
}
