// binary-parser (compiles a declarative schema to a JS function). Schemas are written the way
// its README suggests: bit fields for sub-byte fields, choice() for discriminated payloads, an
// array of choice()s for TCP options. MACs are read as uint16 + uint32 (the library has no 48-bit
// integer; a 6-byte `buffer` would allocate a slice). binary-parser 2.x has no encoder.
import { Parser } from 'binary-parser';
import type { Contender } from '../contender.js';
import type { Corpus } from '../corpus.js';
import { FRAME_ERROR, mix } from '../workload.js';

interface TcpOption {
  kind: number;
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
  dataOffset: number;
  flags: number;
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
  payload: Tcp | Udp | Icmp | Record<string, never>;
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
  payload: Tcp | Udp | Record<string, never>;
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
interface Ethernet {
  dstHi: number;
  dstLo: number;
  srcHi: number;
  srcLo: number;
  etherType: number;
  payload: Ipv4 | Ipv6 | Arp | Record<string, never>;
}

function buildParser(): Parser {
  const empty = new Parser();
  const sackBlock = new Parser().uint32be('left').uint32be('right');
  const tcpOption = new Parser().uint8('kind').choice({
    tag: 'kind',
    choices: {
      0: empty,
      1: empty,
      2: new Parser().uint8('len').uint16be('mss'),
      3: new Parser().uint8('len').uint8('shift'),
      4: new Parser().uint8('len'),
      5: new Parser().uint8('len').array('blocks', {
        type: sackBlock,
        length: function (this: { len: number }) {
          return (this.len - 2) >> 3;
        },
      }),
      8: new Parser().uint8('len').uint32be('tsval').uint32be('tsecr'),
    },
    defaultChoice: new Parser().uint8('len').buffer('data', {
      length: function (this: { len: number }) {
        return this.len - 2;
      },
    }),
  });
  const tcp = new Parser()
    .uint16be('srcPort')
    .uint16be('dstPort')
    .uint32be('seq')
    .uint32be('ack')
    .bit4('dataOffset')
    .bit3('reserved')
    .bit9('flags')
    .uint16be('window')
    .uint16be('checksum')
    .uint16be('urgentPointer')
    .array('options', {
      type: tcpOption,
      lengthInBytes: function (this: { dataOffset: number }) {
        return this.dataOffset * 4 - 20;
      },
    });
  const udp = new Parser()
    .uint16be('srcPort')
    .uint16be('dstPort')
    .uint16be('length')
    .uint16be('checksum');
  const icmp = new Parser()
    .uint8('type')
    .uint8('code')
    .uint16be('checksum')
    .uint16be('identifier')
    .uint16be('sequence');
  const ipv4 = new Parser()
    .bit4('version')
    .bit4('ihl')
    .bit6('dscp')
    .bit2('ecn')
    .uint16be('totalLength')
    .uint16be('identification')
    .bit3('flags')
    .bit13('fragmentOffset')
    .uint8('ttl')
    .uint8('protocol')
    .uint16be('checksum')
    .uint32be('src')
    .uint32be('dst')
    .buffer('options', {
      length: function (this: { ihl: number }) {
        return this.ihl * 4 - 20;
      },
    })
    .choice('payload', {
      tag: 'protocol',
      choices: { 1: icmp, 6: tcp, 17: udp },
      defaultChoice: empty,
    });
  const ipv6 = new Parser()
    .bit4('version')
    .bit8('trafficClass')
    .bit20('flowLabel')
    .uint16be('payloadLen')
    .uint8('nextHeader')
    .uint8('hopLimit')
    .int32be('src0')
    .int32be('src1')
    .int32be('src2')
    .int32be('src3')
    .int32be('dst0')
    .int32be('dst1')
    .int32be('dst2')
    .int32be('dst3')
    .choice('payload', {
      tag: 'nextHeader',
      choices: { 6: tcp, 17: udp },
      defaultChoice: empty,
    });
  const arp = new Parser()
    .uint16be('htype')
    .uint16be('ptype')
    .uint8('hlen')
    .uint8('plen')
    .uint16be('op')
    .uint16be('shaHi')
    .uint32be('shaLo')
    .uint32be('spa')
    .uint16be('thaHi')
    .uint32be('thaLo')
    .uint32be('tpa');
  return new Parser()
    .endianness('big')
    .uint16be('dstHi')
    .uint32be('dstLo')
    .uint16be('srcHi')
    .uint32be('srcLo')
    .uint16be('etherType')
    .choice('payload', {
      tag: 'etherType',
      choices: { 0x0800: ipv4, 0x86dd: ipv6, 0x0806: arp },
      defaultChoice: empty,
    });
}

function foldTcp(acc: number, t: Tcp, payloadLength: number): number {
  let mss = -1;
  let ws = -1;
  let sackPermitted = 0;
  let sack = 0;
  let tsval = -1;
  let tsecr = -1;
  for (const o of t.options) {
    if (o.kind === 2 && o.mss !== undefined) mss = o.mss;
    else if (o.kind === 3 && o.shift !== undefined) ws = o.shift;
    else if (o.kind === 4) sackPermitted = 1;
    else if (o.kind === 5 && o.blocks !== undefined) {
      for (const b of o.blocks) sack = mix(mix(sack, b.left), b.right);
    } else if (o.kind === 8 && o.tsval !== undefined && o.tsecr !== undefined) {
      tsval = o.tsval;
      tsecr = o.tsecr;
    }
  }
  acc = mix(acc, t.srcPort);
  acc = mix(acc, t.dstPort);
  acc = mix(acc, t.seq);
  acc = mix(acc, t.ack);
  acc = mix(acc, t.dataOffset);
  acc = mix(acc, t.flags);
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
    const c = ip.payload as Icmp;
    acc = mix(acc, c.type);
    acc = mix(acc, c.code);
    acc = mix(acc, c.checksum);
    acc = mix(acc, c.identifier);
    return mix(acc, c.sequence);
  }
  return foldTransport(acc, ip.protocol, ip.payload, ip.totalLength - ip.ihl * 4);
}

function foldTransport(
  acc: number,
  protocol: number,
  payload: Tcp | Udp | Icmp | Record<string, never>,
  length: number,
): number {
  if (protocol === 6) {
    const t = payload as Tcp;
    return foldTcp(acc, t, length - t.dataOffset * 4);
  }
  if (protocol === 17) {
    const u = payload as Udp;
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
  return foldTransport(acc, ip.nextHeader, ip.payload, ip.payloadLen);
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
  const parser = buildParser();
  function decodePass(corpus: Corpus): number {
    const frames = corpus.frames;
    let acc = 0;
    for (let f = 0; f < corpus.count; f++) {
      let e: Ethernet;
      try {
        e = parser.parse(frames[f]) as Ethernet;
      } catch {
        acc = mix(acc, FRAME_ERROR);
        continue;
      }
      acc = mix(mix(acc, e.dstHi), e.dstLo);
      acc = mix(mix(acc, e.srcHi), e.srcLo);
      acc = mix(acc, e.etherType);
      if (e.etherType === 0x0800) acc = foldIpv4(acc, e.payload as Ipv4);
      else if (e.etherType === 0x86dd) acc = foldIpv6(acc, e.payload as Ipv6);
      else if (e.etherType === 0x0806) acc = foldArp(acc, e.payload as Arp);
    }
    return acc;
  }
  return {
    name: 'binary-parser',
    decodePass,
    encode: null,
    note: 'no length validation beyond what reading needs; throws (caught) on short input',
  };
}
