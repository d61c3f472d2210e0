// restructure (declarative Structs, decode and encode through stream objects). Sub-byte fields
// are read as whole bytes and split in the fold: restructure's only sub-byte type, Bitfield,
// yields booleans. TCP options are a VersionedStruct keyed on the kind byte inside a byte-length
// Array. Encoding goes through the same Structs into a reused buffer (an EncodeStream rewound
// per frame); restructure cannot compute checksums, so those are filled in by hand afterwards
// with the same routines the `limit` encoder uses.
import * as r from 'restructure';
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
import { foldChecksum, onesSum, pseudoHeaderSum } from './limit.js';

interface Ethernet {
  dstHi: number;
  dstLo: number;
  srcHi: number;
  srcLo: number;
  etherType: number;
}
interface Arp {
  htype: number;
  ptype: number;
  hlen: number;
  plen: number;
  op: number;
  shaHi: number;
  shaLo: number;
  spa: number;
  thaHi: number;
  thaLo: number;
  tpa: number;
}
interface Ipv4 {
  versionIhl: number;
  tos: number;
  totalLength: number;
  identification: number;
  flagsFragment: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: number;
  dst: number;
  options: Uint8Array;
}
interface Ipv6 {
  versionClassFlow: number;
  payloadLen: number;
  nextHeader: number;
  hopLimit: number;
  src0: number;
  src1: number;
  src2: number;
  src3: number;
  dst0: number;
  dst1: number;
  dst2: number;
  dst3: number;
}
interface TcpOption {
  version: number;
  len?: number;
  mss?: number;
  shift?: number;
  blocks?: { left: number; right: number }[];
  tsval?: number;
  tsecr?: number;
}
interface Tcp {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  offsetFlags: number;
  window: number;
  checksum: number;
  urgentPointer: number;
  options: TcpOption[];
}
interface Udp {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number;
}
interface Icmp {
  type: number;
  code: number;
  checksum: number;
  identifier: number;
  sequence: number;
}

const EthernetT = new r.Struct({
  dstHi: r.uint16be,
  dstLo: r.uint32be,
  srcHi: r.uint16be,
  srcLo: r.uint32be,
  etherType: r.uint16be,
});
const ArpT = new r.Struct({
  htype: r.uint16be,
  ptype: r.uint16be,
  hlen: r.uint8,
  plen: r.uint8,
  op: r.uint16be,
  shaHi: r.uint16be,
  shaLo: r.uint32be,
  spa: r.uint32be,
  thaHi: r.uint16be,
  thaLo: r.uint32be,
  tpa: r.uint32be,
});
const Ipv4T = new r.Struct({
  versionIhl: r.uint8,
  tos: r.uint8,
  totalLength: r.uint16be,
  identification: r.uint16be,
  flagsFragment: r.uint16be,
  ttl: r.uint8,
  protocol: r.uint8,
  checksum: r.uint16be,
  src: r.uint32be,
  dst: r.uint32be,
  options: new r.Buffer(function (this: Record<string, number>) {
    return (this.versionIhl & 15) * 4 - 20;
  }),
});
const Ipv6T = new r.Struct({
  versionClassFlow: r.uint32be,
  payloadLen: r.uint16be,
  nextHeader: r.uint8,
  hopLimit: r.uint8,
  src0: r.uint32be,
  src1: r.uint32be,
  src2: r.uint32be,
  src3: r.uint32be,
  dst0: r.uint32be,
  dst1: r.uint32be,
  dst2: r.uint32be,
  dst3: r.uint32be,
});
const SackBlockT = new r.Struct({ left: r.uint32be, right: r.uint32be });
const TcpOptionT = new r.VersionedStruct(r.uint8, {
  0: {},
  1: {},
  2: { len: r.uint8, mss: r.uint16be },
  3: { len: r.uint8, shift: r.uint8 },
  4: { len: r.uint8 },
  5: {
    len: r.uint8,
    blocks: new r.Array(SackBlockT, function (this: Record<string, number>) {
      return (this.len - 2) >> 3;
    }),
  },
  8: { len: r.uint8, tsval: r.uint32be, tsecr: r.uint32be },
});
const TcpT = new r.Struct({
  srcPort: r.uint16be,
  dstPort: r.uint16be,
  seq: r.uint32be,
  ack: r.uint32be,
  offsetFlags: r.uint16be,
  window: r.uint16be,
  checksum: r.uint16be,
  urgentPointer: r.uint16be,
  options: new r.Array(
    TcpOptionT,
    function (this: Record<string, number>) {
      return (this.offsetFlags >> 12) * 4 - 20;
    },
    'bytes',
  ),
});
const UdpT = new r.Struct({
  srcPort: r.uint16be,
  dstPort: r.uint16be,
  length: r.uint16be,
  checksum: r.uint16be,
});
const IcmpT = new r.Struct({
  type: r.uint8,
  code: r.uint8,
  checksum: r.uint16be,
  identifier: r.uint16be,
  sequence: r.uint16be,
});

function foldTcp(acc: number, t: Tcp, payloadLength: number): number {
  let mss = -1;
  let ws = -1;
  let sackPermitted = 0;
  let sack = 0;
  let tsval = -1;
  let tsecr = -1;
  for (const o of t.options) {
    if (o.version === 2 && o.mss !== undefined) mss = o.mss;
    else if (o.version === 3 && o.shift !== undefined) ws = o.shift;
    else if (o.version === 4) sackPermitted = 1;
    else if (o.version === 5 && o.blocks !== undefined) {
      for (const b of o.blocks) sack = mix(mix(sack, b.left), b.right);
    } else if (o.version === 8 && o.tsval !== undefined && o.tsecr !== undefined) {
      tsval = o.tsval;
      tsecr = o.tsecr;
    }
  }
  acc = mix(acc, t.srcPort);
  acc = mix(acc, t.dstPort);
  acc = mix(acc, t.seq);
  acc = mix(acc, t.ack);
  acc = mix(acc, t.offsetFlags >> 12);
  acc = mix(acc, t.offsetFlags & 0x1ff);
  acc = mix(acc, t.window);
  acc = mix(acc, t.checksum);
  acc = mix(acc, t.urgentPointer);
  acc = mix(acc, payloadLength);
  acc = mix(acc, mss);
  acc = mix(acc, ws);
  acc = mix(acc, sackPermitted);
  acc = mix(acc, sack);
  acc = mix(acc, tsval);
  return mix(acc, tsecr);
}

function decodeIpv4(acc: number, s: r.DecodeStream, ipStart: number): number {
  const ip = Ipv4T.decode(s) as Ipv4;
  const ihl = ip.versionIhl & 15;
  acc = mix(acc, ip.versionIhl >> 4);
  acc = mix(acc, ihl);
  acc = mix(acc, ip.tos >> 2);
  acc = mix(acc, ip.tos & 3);
  acc = mix(acc, ip.totalLength);
  acc = mix(acc, ip.identification);
  acc = mix(acc, ip.flagsFragment >> 13);
  acc = mix(acc, ip.flagsFragment & 0x1fff);
  acc = mix(acc, ip.ttl);
  acc = mix(acc, ip.protocol);
  acc = mix(acc, ip.checksum);
  acc = mix(acc, ip.src);
  acc = mix(acc, ip.dst);
  s.pos = ipStart + ihl * 4;
  if (ip.protocol === 1) {
    const c = IcmpT.decode(s) as Icmp;
    acc = mix(acc, c.type);
    acc = mix(acc, c.code);
    acc = mix(acc, c.checksum);
    acc = mix(acc, c.identifier);
    return mix(acc, c.sequence);
  }
  return decodeTransport(acc, s, ip.protocol, ip.totalLength - ihl * 4);
}

function decodeTransport(acc: number, s: r.DecodeStream, protocol: number, length: number): number {
  if (protocol === 6) {
    const t = TcpT.decode(s) as Tcp;
    return foldTcp(acc, t, length - (t.offsetFlags >> 12) * 4);
  }
  if (protocol === 17) {
    const u = UdpT.decode(s) as Udp;
    acc = mix(acc, u.srcPort);
    acc = mix(acc, u.dstPort);
    acc = mix(acc, u.length);
    return mix(acc, u.checksum);
  }
  return acc;
}

function decodeIpv6(acc: number, s: r.DecodeStream): number {
  const ip = Ipv6T.decode(s) as Ipv6;
  const vcf = ip.versionClassFlow;
  acc = mix(acc, vcf >>> 28);
  acc = mix(acc, (vcf >>> 20) & 0xff);
  acc = mix(acc, vcf & 0xfffff);
  acc = mix(acc, ip.payloadLen);
  acc = mix(acc, ip.nextHeader);
  acc = mix(acc, ip.hopLimit);
  acc = mix(acc, ip.src0);
  acc = mix(acc, ip.src1);
  acc = mix(acc, ip.src2);
  acc = mix(acc, ip.src3);
  acc = mix(acc, ip.dst0);
  acc = mix(acc, ip.dst1);
  acc = mix(acc, ip.dst2);
  acc = mix(acc, ip.dst3);
  return decodeTransport(acc, s, ip.nextHeader, ip.payloadLen);
}

function decodeArp(acc: number, s: r.DecodeStream): number {
  const a = ArpT.decode(s) as Arp;
  acc = mix(acc, a.htype);
  acc = mix(acc, a.ptype);
  acc = mix(acc, a.hlen);
  acc = mix(acc, a.plen);
  acc = mix(acc, a.op);
  acc = mix(mix(acc, a.shaHi), a.shaLo);
  acc = mix(acc, a.spa);
  acc = mix(mix(acc, a.thaHi), a.thaLo);
  return mix(acc, a.tpa);
}

function decodePass(corpus: Corpus): number {
  const frames = corpus.frames;
  let acc = 0;
  for (let f = 0; f < corpus.count; f++) {
    try {
      const s = new r.DecodeStream(frames[f]);
      const e = EthernetT.decode(s) as Ethernet;
      acc = mix(mix(acc, e.dstHi), e.dstLo);
      acc = mix(mix(acc, e.srcHi), e.srcLo);
      acc = mix(acc, e.etherType);
      if (e.etherType === 0x0800) acc = decodeIpv4(acc, s, 14);
      else if (e.etherType === 0x86dd) acc = decodeIpv6(acc, s);
      else if (e.etherType === 0x0806) acc = decodeArp(acc, s);
    } catch {
      acc = mix(acc, FRAME_ERROR);
    }
  }
  return acc;
}

// ---- encoder -----------------------------------------------------------------------------------

function createEncoder(): (i: number, out: Uint8Array) => number {
  const eth: Ethernet = {
    dstHi: Math.floor(ENC_DST_MAC / 0x100000000),
    dstLo: ENC_DST_MAC % 0x100000000,
    srcHi: Math.floor(ENC_SRC_MAC / 0x100000000),
    srcLo: ENC_SRC_MAC % 0x100000000,
    etherType: 0x0800,
  };
  const tcpLength = 20 + ENC_OPTIONS_LENGTH;
  const ip: Ipv4 = {
    versionIhl: 0x45,
    tos: 0,
    totalLength: 20 + tcpLength,
    identification: 0,
    flagsFragment: ENC_IP_FLAGS << 13,
    ttl: ENC_TTL,
    protocol: 6,
    checksum: 0,
    src: ENC_SRC_IP,
    dst: ENC_DST_IP,
    options: new Uint8Array(0),
  };
  const ts: TcpOption = { version: 8, len: 10, tsval: 0, tsecr: 0 };
  const tcp: Tcp = {
    srcPort: ENC_SRC_PORT,
    dstPort: 0,
    seq: 0,
    ack: 0,
    offsetFlags: ((tcpLength >> 2) << 12) | ENC_TCP_FLAGS,
    window: ENC_WINDOW,
    checksum: 0,
    urgentPointer: 0,
    options: [
      { version: 2, len: 4, mss: ENC_MSS },
      { version: 4, len: 2 },
      ts,
      { version: 1 },
      { version: 3, len: 3, shift: ENC_WSCALE },
    ],
  };
  let stream: r.EncodeStream | null = null;
  let streamBuffer: Uint8Array | null = null;
  return (i: number, out: Uint8Array): number => {
    if (streamBuffer !== out || stream === null) {
      stream = new r.EncodeStream(out);
      streamBuffer = out;
    }
    stream.pos = 0;
    ip.identification = encIdentification(i);
    tcp.dstPort = encDstPort(i);
    tcp.seq = encSeq(i) >>> 0;
    tcp.ack = encAck(i) >>> 0;
    ts.tsval = encTsval(i) >>> 0;
    ts.tsecr = encTsecr(i) >>> 0;
    EthernetT.encode(stream, eth);
    Ipv4T.encode(stream, ip);
    TcpT.encode(stream, tcp);
    const ipSum = foldChecksum(onesSum(out, 14, 20, 0));
    out[24] = ipSum >> 8;
    out[25] = ipSum;
    const pseudo = pseudoHeaderSum(ENC_SRC_IP, ENC_DST_IP, 6, tcpLength);
    const tcpSum = foldChecksum(onesSum(out, 34, tcpLength, pseudo));
    out[50] = tcpSum >> 8;
    out[51] = tcpSum;
    return stream.pos;
  };
}

export async function create(): Promise<Contender> {
  return {
    name: 'restructure',
    decodePass,
    encode: { encodeFrame: createEncoder() },
    note: 'checksums filled in by hand after encoding (restructure has no checksum support)',
  };
}
