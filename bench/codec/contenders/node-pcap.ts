// node_pcap's JavaScript decoders (`pcap/decode`, no native capture involved): one
// EthernetPacket per frame, which builds the IPv4/ARP and ICMP/UDP/TCP objects below it, MAC and
// IPv4 addresses as small arrays. Its ICMP decoder stops after the checksum, so the echo
// identifier and sequence are read from the frame bytes to keep the workload the same. It has
// no encoder.
import { createRequire } from 'node:module';
import type { Contender } from '../contender.js';
import type { Corpus } from '../corpus.js';
import { FRAME_ERROR, mix } from '../workload.js';

interface Addr {
  addr: number[];
}
interface Ipv4Flags {
  reserved: boolean;
  doNotFragment: boolean;
  moreFragments: boolean;
}
interface TcpFlags {
  nonce: boolean;
  cwr: boolean;
  ece: boolean;
  urg: boolean;
  ack: boolean;
  psh: boolean;
  rst: boolean;
  syn: boolean;
  fin: boolean;
}
interface TcpOptions {
  mss: number | null;
  window_scale: number | null;
  sack_ok: boolean | null;
  sack: [number, number][] | null;
  timestamp: number | null;
  echo: number | null;
}
interface Tcp {
  sport: number;
  dport: number;
  seqno: number;
  ackno: number;
  headerLength: number;
  flags: TcpFlags;
  windowSize: number;
  checksum: number;
  urgentPointer: number;
  options: TcpOptions;
  dataLength: number;
}
interface Udp {
  sport: number;
  dport: number;
  length: number;
  checksum: number;
}
interface Icmp {
  type: number;
  code: number;
  checksum: number;
}
interface Ipv4 {
  version: number;
  headerLength: number;
  diffserv: number;
  length: number;
  identification: number;
  flags: Ipv4Flags;
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  headerChecksum: number;
  saddr: Addr;
  daddr: Addr;
  payload: Tcp | Udp | Icmp | undefined;
}
interface Ipv6 {
  version: number;
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  saddr: Addr;
  daddr: Addr;
  payload: Tcp | Udp | undefined;
}
interface Arp {
  htype: number;
  ptype: number;
  hlen: number;
  plen: number;
  operation: number;
  sender_ha: Addr;
  sender_pa: Addr;
  target_ha: Addr;
  target_pa: Addr;
}
interface EthernetPacket {
  dhost: Addr;
  shost: Addr;
  ethertype: number;
  payload: Ipv4 | Ipv6 | Arp | null;
  decode(buf: Buffer, offset: number): EthernetPacket;
}
interface PcapDecode {
  EthernetPacket: new (emitter: null) => EthernetPacket;
}

function b(x: boolean | null): number {
  return x === true ? 1 : 0;
}
function mixMacAddr(acc: number, a: Addr): number {
  const m = a.addr;
  acc = mix(acc, (m[0] << 8) | m[1]);
  return mix(acc, (m[2] << 24) | (m[3] << 16) | (m[4] << 8) | m[5]);
}
function ipv4Of(a: Addr): number {
  const m = a.addr;
  return (m[0] << 24) | (m[1] << 16) | (m[2] << 8) | m[3];
}

/** Folds the four 32-bit words of an IPv6 address held as 16 bytes. */
function mixIpv6Addr(acc: number, a: Addr): number {
  const m = a.addr;
  for (let i = 0; i < 16; i += 4)
    acc = mix(acc, (m[i] << 24) | (m[i + 1] << 16) | (m[i + 2] << 8) | m[i + 3]);
  return acc;
}

function foldTcp(acc: number, t: Tcp, dataLength: number): number {
  const f = t.flags;
  const o = t.options;
  let sack = 0;
  if (o.sack !== null) for (const [l, r] of o.sack) sack = mix(mix(sack, l), r);
  acc = mix(acc, t.sport);
  acc = mix(acc, t.dport);
  acc = mix(acc, t.seqno);
  acc = mix(acc, t.ackno);
  acc = mix(acc, t.headerLength >> 2);
  acc = mix(
    acc,
    (b(f.nonce) << 8) |
      (b(f.cwr) << 7) |
      (b(f.ece) << 6) |
      (b(f.urg) << 5) |
      (b(f.ack) << 4) |
      (b(f.psh) << 3) |
      (b(f.rst) << 2) |
      (b(f.syn) << 1) |
      b(f.fin),
  );
  acc = mix(acc, t.windowSize);
  acc = mix(acc, t.checksum);
  acc = mix(acc, t.urgentPointer);
  acc = mix(acc, dataLength);
  acc = mix(acc, o.mss ?? -1);
  acc = mix(acc, o.window_scale ?? -1);
  acc = mix(acc, b(o.sack_ok));
  acc = mix(acc, sack);
  acc = mix(acc, o.timestamp ?? -1);
  return mix(acc, o.echo ?? -1);
}

function foldIpv4(acc: number, ip: Ipv4, frame: Buffer): number {
  acc = mix(acc, ip.version);
  acc = mix(acc, ip.headerLength >> 2);
  acc = mix(acc, ip.diffserv >> 2);
  acc = mix(acc, ip.diffserv & 3);
  acc = mix(acc, ip.length);
  acc = mix(acc, ip.identification);
  acc = mix(
    acc,
    (b(ip.flags.reserved) << 2) | (b(ip.flags.doNotFragment) << 1) | b(ip.flags.moreFragments),
  );
  acc = mix(acc, ip.fragmentOffset >> 3);
  acc = mix(acc, ip.ttl);
  acc = mix(acc, ip.protocol);
  acc = mix(acc, ip.headerChecksum);
  acc = mix(acc, ipv4Of(ip.saddr));
  acc = mix(acc, ipv4Of(ip.daddr));
  const p = ip.payload;
  if (p === undefined) return acc;
  if (ip.protocol === 6) return foldTcp(acc, p as Tcp, (p as Tcp).dataLength);
  if (ip.protocol === 17) return foldUdp(acc, p as Udp);
  if (ip.protocol === 1) {
    const c = p as Icmp;
    acc = mix(acc, c.type);
    acc = mix(acc, c.code);
    acc = mix(acc, c.checksum);
    const at = 14 + ip.headerLength; // node_pcap does not decode the echo fields
    acc = mix(acc, frame.readUInt16BE(at + 4));
    return mix(acc, frame.readUInt16BE(at + 6));
  }
  return acc;
}

function foldUdp(acc: number, u: Udp): number {
  acc = mix(acc, u.sport);
  acc = mix(acc, u.dport);
  acc = mix(acc, u.length);
  return mix(acc, u.checksum);
}

function foldIpv6(acc: number, ip: Ipv6): number {
  acc = mix(acc, ip.version);
  acc = mix(acc, ip.trafficClass);
  acc = mix(acc, ip.flowLabel);
  acc = mix(acc, ip.payloadLength);
  acc = mix(acc, ip.nextHeader);
  acc = mix(acc, ip.hopLimit);
  acc = mixIpv6Addr(acc, ip.saddr);
  acc = mixIpv6Addr(acc, ip.daddr);
  const p = ip.payload;
  if (p === undefined) return acc;
  if (ip.nextHeader === 6) {
    // node_pcap hands TCP the frame's length minus 40 (not minus the Ethernet header too), so
    // its dataLength is 14 too long; the payload length comes from the IPv6 header instead.
    const t = p as Tcp;
    return foldTcp(acc, t, ip.payloadLength - t.headerLength);
  }
  if (ip.nextHeader === 17) return foldUdp(acc, p as Udp);
  return acc;
}

function foldArp(acc: number, a: Arp): number {
  acc = mix(acc, a.htype);
  acc = mix(acc, a.ptype);
  acc = mix(acc, a.hlen);
  acc = mix(acc, a.plen);
  acc = mix(acc, a.operation);
  acc = mixMacAddr(acc, a.sender_ha);
  acc = mix(acc, ipv4Of(a.sender_pa));
  acc = mixMacAddr(acc, a.target_ha);
  return mix(acc, ipv4Of(a.target_pa));
}

export async function create(): Promise<Contender> {
  const require = createRequire(import.meta.url);
  const { EthernetPacket } = require('pcap/decode') as PcapDecode;
  function decodePass(corpus: Corpus): number {
    const frames = corpus.frames;
    let acc = 0;
    for (let f = 0; f < corpus.count; f++) {
      const frame = frames[f];
      let e: EthernetPacket;
      try {
        e = new EthernetPacket(null).decode(frame, 0);
      } catch {
        acc = mix(acc, FRAME_ERROR);
        continue;
      }
      acc = mixMacAddr(acc, e.dhost);
      acc = mixMacAddr(acc, e.shost);
      acc = mix(acc, e.ethertype);
      if (e.ethertype === 0x0800) acc = foldIpv4(acc, e.payload as Ipv4, frame);
      else if (e.ethertype === 0x86dd) acc = foldIpv6(acc, e.payload as Ipv6);
      else if (e.ethertype === 0x0806) acc = foldArp(acc, e.payload as Arp);
    }
    return acc;
  }
  return {
    name: 'node_pcap',
    decodePass,
    encode: null,
    note: 'ICMP echo id/seq read from the bytes (node_pcap stops at the checksum); IPv6 TCP payload length from the IPv6 header (its own is 14 off); no length checks',
  };
}
