// Kaitai Struct: the .ksy files in bench/kaitai/ compiled to JavaScript by the
// kaitai-struct-compiler npm package (main.ts compiles them before the children start), run on
// the kaitai-struct runtime. One KaitaiStream per frame; each switch-on payload gets its own
// sub-stream, as Kaitai does. Kaitai's JavaScript target does not serialize, so no encoder.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { KAITAI_OUT } from '../../kaitai/compile.js';
import type { Contender } from '../contender.js';
import type { Corpus } from '../corpus.js';
import { FRAME_ERROR, mix } from '../workload.js';

interface TcpOption {
  kind: number;
  body?: { mss?: number; shift?: number; blocks?: { left: number; right: number }[] } & {
    tsval?: number;
    tsecr?: number;
  };
}
interface Tcp {
  srcPort: number;
  dstPort: number;
  seqNum: number;
  ackNum: number;
  dataOffset: number;
  flags: number;
  window: number;
  checksum: number;
  urgentPointer: number;
  options: { entries: TcpOption[] };
  payloadLength: number;
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
interface Ipv4 {
  version: number;
  ihl: number;
  dscp: number;
  ecn: number;
  totalLength: number;
  identification: number;
  flags: number;
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: number;
  dst: number;
  body: Tcp | Udp | Icmp | Uint8Array;
}
interface Ipv6 {
  version: number;
  trafficClass: number;
  flowLabel: number;
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
  body: Tcp | Udp | Uint8Array;
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
interface EthernetFrame {
  dstHi: number;
  dstLo: number;
  srcHi: number;
  srcLo: number;
  etherType: number;
  body: Ipv4 | Ipv6 | Arp | Uint8Array;
}
type StreamCtor = new (bytes: Uint8Array) => object;
type FrameCtor = new (io: object) => EthernetFrame;

function foldTcp(acc: number, t: Tcp): number {
  let mss = -1;
  let ws = -1;
  let sackPermitted = 0;
  let sack = 0;
  let tsval = -1;
  let tsecr = -1;
  for (const o of t.options.entries) {
    const body = o.body;
    if (o.kind === 4) sackPermitted = 1;
    else if (body === undefined) continue;
    else if (o.kind === 2 && body.mss !== undefined) mss = body.mss;
    else if (o.kind === 3 && body.shift !== undefined) ws = body.shift;
    else if (o.kind === 5 && body.blocks !== undefined) {
      for (const b of body.blocks) sack = mix(mix(sack, b.left), b.right);
    } else if (o.kind === 8 && body.tsval !== undefined && body.tsecr !== undefined) {
      tsval = body.tsval;
      tsecr = body.tsecr;
    }
  }
  acc = mix(acc, t.srcPort);
  acc = mix(acc, t.dstPort);
  acc = mix(acc, t.seqNum);
  acc = mix(acc, t.ackNum);
  acc = mix(acc, t.dataOffset);
  acc = mix(acc, t.flags);
  acc = mix(acc, t.window);
  acc = mix(acc, t.checksum);
  acc = mix(acc, t.urgentPointer);
  acc = mix(acc, t.payloadLength);
  acc = mix(acc, mss);
  acc = mix(acc, ws);
  acc = mix(acc, sackPermitted);
  acc = mix(acc, sack);
  acc = mix(acc, tsval);
  return mix(acc, tsecr);
}

function foldIpv4(acc: number, ip: Ipv4): number {
  acc = mix(acc, ip.version);
  acc = mix(acc, ip.ihl);
  acc = mix(acc, ip.dscp);
  acc = mix(acc, ip.ecn);
  acc = mix(acc, ip.totalLength);
  acc = mix(acc, ip.identification);
  acc = mix(acc, ip.flags);
  acc = mix(acc, ip.fragmentOffset);
  acc = mix(acc, ip.ttl);
  acc = mix(acc, ip.protocol);
  acc = mix(acc, ip.checksum);
  acc = mix(acc, ip.src);
  acc = mix(acc, ip.dst);
  if (ip.protocol === 1) {
    const c = ip.body as Icmp;
    acc = mix(acc, c.type);
    acc = mix(acc, c.code);
    acc = mix(acc, c.checksum);
    acc = mix(acc, c.identifier);
    return mix(acc, c.sequence);
  }
  return foldTransport(acc, ip.protocol, ip.body);
}

function foldTransport(acc: number, protocol: number, body: Tcp | Udp | Icmp | Uint8Array): number {
  if (protocol === 6) return foldTcp(acc, body as Tcp);
  if (protocol === 17) {
    const u = body as Udp;
    acc = mix(acc, u.srcPort);
    acc = mix(acc, u.dstPort);
    acc = mix(acc, u.length);
    return mix(acc, u.checksum);
  }
  return acc;
}

function foldIpv6(acc: number, ip: Ipv6): number {
  acc = mix(acc, ip.version);
  acc = mix(acc, ip.trafficClass);
  acc = mix(acc, ip.flowLabel);
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
  return foldTransport(acc, ip.nextHeader, ip.body);
}

function foldArp(acc: number, a: Arp): number {
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

export async function create(): Promise<Contender> {
  const require = createRequire(import.meta.url);
  const KaitaiStream = require('kaitai-struct/KaitaiStream') as StreamCtor;
  let generated: { EthernetFrame: FrameCtor };
  try {
    generated = require(join(KAITAI_OUT, 'EthernetFrame.js')) as { EthernetFrame: FrameCtor };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`kaitai parsers not compiled (run bench/kaitai/compile.ts): ${why}`);
  }
  const Frame = generated.EthernetFrame;
  function decodePass(corpus: Corpus): number {
    const frames = corpus.frames;
    let acc = 0;
    for (let f = 0; f < corpus.count; f++) {
      let e: EthernetFrame;
      try {
        e = new Frame(new KaitaiStream(frames[f]));
      } catch {
        acc = mix(acc, FRAME_ERROR);
        continue;
      }
      acc = mix(mix(acc, e.dstHi), e.dstLo);
      acc = mix(mix(acc, e.srcHi), e.srcLo);
      acc = mix(acc, e.etherType);
      if (e.etherType === 0x0800) acc = foldIpv4(acc, e.body as Ipv4);
      else if (e.etherType === 0x86dd) acc = foldIpv6(acc, e.body as Ipv6);
      else if (e.etherType === 0x0806) acc = foldArp(acc, e.body as Arp);
    }
    return acc;
  }
  return { name: 'kaitai', decodePass, encode: null };
}
