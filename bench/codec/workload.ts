// The workload every contender runs, defined once so that results are comparable.
//
// DECODE, per frame: Ethernet; then by EtherType ARP, IPv4 or IPv6; under IPv4 by protocol ICMP,
// UDP or TCP, under IPv6 (no extension headers) by next header UDP or TCP (TCP options
// included). Every header field is folded into a 32-bit accumulator with
// mix(), in the order below, so that no engine can drop a read as dead code and so that
// contenders with the same semantics must produce the same checksum (the bench compares them):
//   ethernet dst (hi16, lo32), src (hi16, lo32), etherType
//   arp      htype ptype hlen plen op sha(hi16, lo32) spa tha(hi16, lo32) tpa
//   ipv4     version ihl dscp ecn totalLength identification flags(3 bits)
//            fragmentOffset(8-byte units) ttl protocol checksum src dst
//   ipv6     version trafficClass flowLabel payloadLen nextHeader hopLimit
//            src (four 32-bit words, first to last) dst (likewise)
//   icmp     type code checksum identifier sequence
//   udp      srcPort dstPort length checksum
//   tcp      srcPort dstPort seq ack dataOffset flags(9 bits, AE..FIN) window checksum
//            urgentPointer payloadLength (IP payload minus TCP header), then the options folded by meaning (not by position,
//            because node_pcap keeps no order): mss, windowScale (-1 when absent),
//            sackPermitted (0/1), sack (every block left, right mixed into a sub-accumulator
//            that starts at 0), tsval, tsecr (-1 when absent). NOP/EOL carry no fields.
// A frame some layer rejects mixes FRAME_ERROR instead of the rest of that frame (the corpus is
// well-formed, so no contender should hit it; it keeps the loops honest).
//
// ENCODE, per frame i: one header-only TCP SYN-ACK in IPv4 in Ethernet (74 bytes) with Linux's
// option layout MSS, SACK-permitted, timestamps, NOP, window scale, with the IPv4 header checksum
// and the TCP checksum (pseudo-header) computed, written at offset 0 of a reused buffer. The
// fields that change with i are below; encoders read them through these functions. The 32-bit
// ones return the int32 with the field's bit pattern (`>>> 0` gives the uint32): a uint32 above
// 2**31 returned from a call V8 does not inline is boxed as a heap number, which would put an
// allocation in every contender's loop that is not the contender's.

export const FRAME_ERROR = 0x7eadbeef;

/**
 * The accumulator step: acc * 3 + v modulo 2**32. Order-dependent and lossless (3 is odd, so
 * the step is a bijection), and cheap: `acc + (acc << 1)` compiles to one LEA, so the serial
 * dependency through `acc` costs ~2 cycles per field (Math.imul(acc, 31) measured ~8 ns/frame
 * slower on the limit decoder, which would flatter every contender's ratio to the limit).
 * Accepts uint32 inputs, and any integer below 2**52: the sum is exact in a double and `| 0`
 * keeps it modulo 2**32.
 */
export function mix(acc: number, v: number): number {
  return (acc + (acc << 1) + v) | 0;
}

/**
 * Folds a MAC held as a 48-bit number (the codec contract's representation) as its high 16 and
 * low 32 bits, exactly like mix(mix(acc, hi16), lo32) for contenders that read the two halves.
 */
export function mixMac(acc: number, mac: number): number {
  return mix(mix(acc, (mac / 0x100000000) | 0), mac);
}

// ---- encode workload constants (a server at 10.0.0.2:443 answering 10.0.0.1) -----------------
export const ENC_DST_MAC = 0x02000000_0001; // client
export const ENC_SRC_MAC = 0x02000000_0002; // server
export const ENC_SRC_IP = 0x0a000002;
export const ENC_DST_IP = 0x0a000001;
export const ENC_SRC_PORT = 443;
export const ENC_TTL = 64;
export const ENC_IP_FLAGS = 2; // DF
export const ENC_TCP_FLAGS = 0x12; // SYN|ACK
export const ENC_WINDOW = 65160;
export const ENC_MSS = 1460;
export const ENC_WSCALE = 7;
/** MSS(4) + SACK-permitted(2) + timestamps(10) + NOP(1) + window scale(3). */
export const ENC_OPTIONS_LENGTH = 20;
export const ENC_FRAME_LENGTH = 14 + 20 + 20 + ENC_OPTIONS_LENGTH;

export function encDstPort(i: number): number {
  return 32768 + (i & 0x3fff);
}
export function encSeq(i: number): number {
  return Math.imul(i, 0x9e3779b1);
}
export function encAck(i: number): number {
  return (Math.imul(i ^ 0x5bd1e995, 0x85ebca6b) + 1) | 0;
}
export function encIdentification(i: number): number {
  return i & 0xffff;
}
export function encTsval(i: number): number {
  return (0x10000000 + i) | 0;
}
export function encTsecr(i: number): number {
  return Math.imul(i, 7919);
}
