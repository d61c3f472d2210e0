/**
 * Hand-built test frames, independent of the generated codecs, so the tests check the runtime
 * against a second, deliberately simple reading of the RFCs. Test-only: allocation is fine here.
 */

export const STACK_MAC = 0x020000000002;
export const PEER_MAC = 0x020000000001;
export const BROADCAST = 0xffffffffffff;
export const STACK_IP = ip('10.0.0.2');
export const PEER_IP = ip('10.0.0.1');

export function ip(text: string): number {
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function checksum(
  bytes: Uint8Array,
  offset = 0,
  length = bytes.length - offset,
  initial = 0,
): number {
  let sum = initial;
  for (let i = 0; i + 1 < length; i += 2) sum += (bytes[offset + i] << 8) | bytes[offset + i + 1];
  if (length % 2 === 1) sum += bytes[offset + length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
function put32(b: Uint8Array, o: number, v: number): void {
  put16(b, o, Math.floor(v / 0x10000) & 0xffff);
  put16(b, o + 2, v & 0xffff);
}
function putMac(b: Uint8Array, o: number, mac: number): void {
  put16(b, o, Math.floor(mac / 0x100000000));
  put32(b, o + 2, mac % 0x100000000);
}
export function get16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
export function get32(b: Uint8Array, o: number): number {
  return get16(b, o) * 0x10000 + get16(b, o + 2);
}
export function getMac(b: Uint8Array, o: number): number {
  return get16(b, o) * 0x100000000 + get32(b, o + 2);
}

export function ethernetFrame(
  dst: number,
  src: number,
  etherType: number,
  payload: Uint8Array,
): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  putMac(f, 0, dst);
  putMac(f, 6, src);
  put16(f, 12, etherType);
  f.set(payload, 14);
  return f;
}

export interface ArpPacket {
  op: number;
  sha: number;
  spa: number;
  tha: number;
  tpa: number;
}

export function arpPacket(p: ArpPacket): Uint8Array {
  const b = new Uint8Array(28);
  put16(b, 0, 1);
  put16(b, 2, 0x0800);
  b[4] = 6;
  b[5] = 4;
  put16(b, 6, p.op);
  putMac(b, 8, p.sha);
  put32(b, 14, p.spa);
  putMac(b, 18, p.tha);
  put32(b, 24, p.tpa);
  return b;
}

export function parseArp(frame: Uint8Array): ArpPacket & { dstMac: number } {
  return {
    dstMac: getMac(frame, 0),
    op: get16(frame, 14 + 6),
    sha: getMac(frame, 14 + 8),
    spa: get32(frame, 14 + 14),
    tha: getMac(frame, 14 + 18),
    tpa: get32(frame, 14 + 24),
  };
}

export interface Ipv4Packet {
  src: number;
  dst: number;
  protocol: number;
  payload: Uint8Array;
  ttl?: number;
  id?: number;
  /** Fragment offset in bytes (multiple of 8). */
  fragmentOffset?: number;
  moreFragments?: boolean;
  dontFragment?: boolean;
  options?: Uint8Array;
  /** Overrides the computed total length field. */
  totalLength?: number;
  badChecksum?: boolean;
}

export function ipv4Packet(p: Ipv4Packet): Uint8Array {
  const options = p.options ?? new Uint8Array(0);
  const hl = 20 + options.length;
  const b = new Uint8Array(hl + p.payload.length);
  b[0] = 0x40 | (hl / 4);
  put16(b, 2, p.totalLength ?? b.length);
  put16(b, 4, p.id ?? 1);
  const flags = (p.moreFragments ? 0x2000 : 0) | (p.dontFragment ? 0x4000 : 0);
  put16(b, 6, flags | ((p.fragmentOffset ?? 0) / 8));
  b[8] = p.ttl ?? 64;
  b[9] = p.protocol;
  put32(b, 12, p.src);
  put32(b, 16, p.dst);
  b.set(options, 20);
  put16(b, 10, checksum(b, 0, hl) ^ (p.badChecksum ? 0x5555 : 0));
  b.set(p.payload, hl);
  return b;
}

export interface ParsedIpv4 {
  src: number;
  dst: number;
  protocol: number;
  ttl: number;
  id: number;
  totalLength: number;
  headerLength: number;
  fragmentOffset: number;
  moreFragments: boolean;
  dontFragment: boolean;
  checksumOk: boolean;
  payload: Uint8Array;
}

/** Reads the IPv4 datagram in an Ethernet frame. */
export function parseIpv4(frame: Uint8Array): ParsedIpv4 {
  const b = frame.subarray(14);
  const hl = (b[0] & 15) * 4;
  const totalLength = get16(b, 2);
  const word = get16(b, 6);
  return {
    src: get32(b, 12),
    dst: get32(b, 16),
    protocol: b[9],
    ttl: b[8],
    id: get16(b, 4),
    totalLength,
    headerLength: hl,
    fragmentOffset: (word & 0x1fff) * 8,
    moreFragments: (word & 0x2000) !== 0,
    dontFragment: (word & 0x4000) !== 0,
    checksumOk: checksum(b, 0, hl) === 0,
    payload: b.slice(hl, totalLength),
  };
}

export function icmpEcho(type: number, id: number, seq: number, data: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + data.length);
  b[0] = type;
  put16(b, 4, id);
  put16(b, 6, seq);
  b.set(data, 8);
  put16(b, 2, checksum(b));
  return b;
}

function pseudoSum(src: number, dst: number, protocol: number, length: number): number {
  return (
    Math.floor(src / 0x10000) +
    (src & 0xffff) +
    Math.floor(dst / 0x10000) +
    (dst & 0xffff) +
    protocol +
    length
  );
}

export function udpDatagram(
  src: number,
  dst: number,
  srcPort: number,
  dstPort: number,
  payload: Uint8Array,
  opts: { zeroChecksum?: boolean; badChecksum?: boolean; length?: number } = {},
): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  put16(b, 0, srcPort);
  put16(b, 2, dstPort);
  put16(b, 4, opts.length ?? b.length);
  b.set(payload, 8);
  if (!opts.zeroChecksum) {
    let sum = checksum(b, 0, b.length, pseudoSum(src, dst, 17, b.length));
    if (sum === 0) sum = 0xffff;
    if (opts.badChecksum) sum ^= 0x00ff;
    put16(b, 6, sum);
  }
  return b;
}

export function udpChecksumOk(src: number, dst: number, udp: Uint8Array): boolean {
  if (get16(udp, 6) === 0) return true;
  return checksum(udp, 0, udp.length, pseudoSum(src, dst, 17, udp.length)) === 0;
}

/** A frame carrying an IPv4 datagram from the peer to the stack. */
export function peerIpFrame(
  p: Omit<Ipv4Packet, 'src' | 'dst'> & { src?: number; dst?: number },
  dstMac = STACK_MAC,
): Uint8Array {
  return ethernetFrame(dstMac, PEER_MAC, 0x0800, ipv4Packet({ src: PEER_IP, dst: STACK_IP, ...p }));
}

export function pattern(length: number, seed = 1): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}
