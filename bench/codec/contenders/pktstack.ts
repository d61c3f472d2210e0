// pktstack's generated codecs (src/generated/), used the way the runtime uses them: one view per
// layer, re-pointed at every frame with wrap(), typed getters (TCP options too: wrap() records
// the well-known ones); encoding
// through encodeEthernet/encodeIpv4/encodeTcp with the derived fields (ihl, totalLength,
// dataOffset, both checksums) left to the encoders; the options are built once by
// tcp.encodeTcpOptions() from an item list, and the timestamps, which change every frame as
// they do in a real stack, are rewritten in place per frame through the generated Timestamps
// element view's setters.
import { ethernet, frame, ipv4, tcp } from '../../../src/generated/index.js';
import type { Contender } from '../contender.js';
import type { Corpus } from '../corpus.js';
import {
  ENC_DST_IP,
  ENC_DST_MAC,
  ENC_IP_FLAGS,
  ENC_MSS,
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

const ETH_IPV4 = ethernet.EtherType.IPv4;
const IP_TCP = ipv4.IpProtocol.TCP;
const { FrameDecoder, FrameLayer } = frame;

// The workload's layers, as every contender decodes them: FrameDecoder would also walk the
// DHCP and DNS messages in UDP and the VLAN tags, which no other contender does.
const decoder = new FrameDecoder(
  FrameLayer.ethernet |
    FrameLayer.arp |
    FrameLayer.ipv4 |
    FrameLayer.ipv6 |
    FrameLayer.icmp |
    FrameLayer.udp |
    FrameLayer.tcp,
);

function decodePass(corpus: Corpus): number {
  const bytes = corpus.bytes;
  const offsets = corpus.offsets;
  const lengths = corpus.lengths;
  const d = decoder;
  const { ethernet: e, arp: a, ipv4: ip, ipv6: ip6, tcp: t, udp: u, icmp: c } = d;
  let acc = 0;
  for (let f = 0; f < corpus.count; f++) {
    const err = d.decode(bytes, offsets[f], lengths[f]);
    const layers = d.layers;
    if ((layers & FrameLayer.ethernet) === 0) {
      acc = mix(acc, FRAME_ERROR);
      continue;
    }
    // A MAC's two halves (what mixMac() folds), read as integers without float arithmetic.
    acc = mix(mix(acc, e.dstHi), e.dstLo);
    acc = mix(mix(acc, e.srcHi), e.srcLo);
    acc = mix(acc, e.etherType);
    if ((layers & FrameLayer.ipv4) !== 0) {
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
    } else if ((layers & FrameLayer.ipv6) !== 0) {
      acc = mix(acc, ip6.version);
      acc = mix(acc, ip6.trafficClass);
      acc = mix(acc, ip6.flowLabel);
      acc = mix(acc, ip6.payloadLen);
      acc = mix(acc, ip6.nextHeader);
      acc = mix(acc, ip6.hopLimit);
      acc = mix(acc, ip6.srcInt0);
      acc = mix(acc, ip6.srcInt1);
      acc = mix(acc, ip6.srcInt2);
      acc = mix(acc, ip6.srcInt3);
      acc = mix(acc, ip6.dstInt0);
      acc = mix(acc, ip6.dstInt1);
      acc = mix(acc, ip6.dstInt2);
      acc = mix(acc, ip6.dstInt3);
    } else if ((layers & FrameLayer.arp) !== 0) {
      acc = mix(acc, a.htype);
      acc = mix(acc, a.ptype);
      acc = mix(acc, a.hlen);
      acc = mix(acc, a.plen);
      acc = mix(acc, a.op);
      acc = mix(mix(acc, a.shaHi), a.shaLo);
      acc = mix(acc, a.spa);
      acc = mix(mix(acc, a.thaHi), a.thaLo);
      acc = mix(acc, a.tpa);
      continue;
    } else {
      // A frame some layer rejects folds FRAME_ERROR in place of that layer (see workload.ts).
      if (err !== null) acc = mix(acc, FRAME_ERROR);
      continue;
    }
    if ((layers & FrameLayer.tcp) !== 0) {
      // The well-known options wrap() recorded while validating the list (the cursor,
      // t.options(), is for walking every option in order).
      let sack = 0;
      const edges = t.sack; // left, right of block 0, then of block 1, ...
      const n = 2 * t.sackCount;
      for (let i = 0; i < n; i++) sack = mix(sack, edges[i]);
      acc = mix(acc, t.srcPort);
      acc = mix(acc, t.dstPort);
      acc = mix(acc, t.seq);
      acc = mix(acc, t.ack);
      acc = mix(acc, t.dataOffset);
      acc = mix(acc, t.flags);
      acc = mix(acc, t.window);
      acc = mix(acc, t.checksum);
      acc = mix(acc, t.urgentPointer);
      acc = mix(acc, t.payloadLength);
      acc = mix(acc, t.mss);
      acc = mix(acc, t.windowScale);
      acc = mix(acc, t.sackPermitted ? 1 : 0);
      acc = mix(acc, sack);
      acc = mix(acc, t.tsval);
      acc = mix(acc, t.tsecr);
    } else if ((layers & FrameLayer.udp) !== 0) {
      acc = mix(acc, u.srcPort);
      acc = mix(acc, u.dstPort);
      acc = mix(acc, u.length);
      acc = mix(acc, u.checksum);
    } else if ((layers & FrameLayer.icmp) !== 0) {
      acc = mix(acc, c.type);
      acc = mix(acc, c.code);
      acc = mix(acc, c.checksum);
      acc = mix(acc, c.identifier);
      acc = mix(acc, c.sequence);
    } else if (err !== null) acc = mix(acc, FRAME_ERROR);
  }
  return acc;
}

// ---- encoder -----------------------------------------------------------------------------------

function createEncoder(): (i: number, out: Uint8Array) => number {
  const eth: ethernet.EthernetFields = { dst: ENC_DST_MAC, src: ENC_SRC_MAC, etherType: ETH_IPV4 };
  const ip: ipv4.Ipv4Fields = {
    version: 4,
    dscp: 0,
    ecn: 0,
    identification: 0,
    flags: ENC_IP_FLAGS,
    fragmentOffset: 0,
    ttl: ENC_TTL,
    protocol: IP_TCP,
    src: ENC_SRC_IP,
    dst: ENC_DST_IP,
    options: new Uint8Array(0),
  };
  const optionList: tcp.TcpOptionsItem[] = [
    { kind: 'MSS', value: ENC_MSS },
    { kind: 'SackPermitted' },
    { kind: 'Timestamps', tsval: 0, tsecr: 0 },
    { kind: 'NOP' },
    { kind: 'WindowScale', shift: ENC_WSCALE },
  ];
  const optionBytes = new Uint8Array(40);
  const optionLength = tcp.encodeTcpOptions(optionList, optionBytes, 0);
  if (optionLength < 0) throw new Error('encode workload options do not fit');
  const seg: tcp.TcpFields = {
    srcPort: ENC_SRC_PORT,
    dstPort: 0,
    seq: 0,
    ack: 0,
    flags: ENC_TCP_FLAGS,
    window: ENC_WINDOW,
    urgentPointer: 0,
    options: optionBytes.subarray(0, optionLength),
  };
  // A stack encodes its option block once per connection and patches the timestamps per
  // segment, through a Timestamps view pointed at the option the cursor finds.
  const cursor = new tcp.TcpOptionsCursor('tcp', 'options').reset(optionBytes, 0, optionLength);
  const ts = new tcp.TcpOptionsTimestampsView();
  while (cursor.next()) {
    if (cursor.kind === tcp.TcpOptionKind.Timestamps) ts.point(optionBytes, cursor.offset);
  }
  if (ts.bytes !== optionBytes) throw new Error('encode workload options have no timestamps');
  const ipHeader = ipv4.ipv4HeaderLength(ip);
  return (i: number, out: Uint8Array): number => {
    ip.identification = encIdentification(i);
    seg.dstPort = encDstPort(i);
    seg.seq = encSeq(i) >>> 0;
    seg.ack = encAck(i) >>> 0;
    ts.tsval = encTsval(i);
    ts.tsecr = encTsecr(i);
    const l2 = ethernet.encodeEthernet(eth, out, 0);
    const l4 = tcp.encodeTcp(seg, out, l2 + ipHeader, 0, ENC_SRC_IP, ENC_DST_IP);
    const l3 = ipv4.encodeIpv4(ip, out, l2, l4);
    return l2 + l3 + l4;
  };
}

export async function create(): Promise<Contender> {
  return { name: 'pktstack', decodePass, encode: { encodeFrame: createEncoder() } };
}
