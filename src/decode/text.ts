/**
 * `pktstack decode` default output: one line per frame in the spirit of tcpdump -n, e.g.
 *
 *   12:10:31.722149 IP 10.77.0.2.52634 > 10.77.0.1.8080: Flags [S], seq 1378088075, win 64240,
 *     options [mss 1460,sackOK,TS val 1321668227 ecr 0,nop,wscale 10], length 0
 *   12:10:31.722160 ARP, Request who-has 10.77.0.1 tell 10.77.0.2, length 28
 *   12:10:31.722170 IP 10.77.0.2.39537 > 10.77.0.1.53: DNS 14677+ A? www.fx.test (52)
 *
 * (printed on one line). Times are UTC. A frame that failed to decode ends with
 * `[error CODE layer.field @offset]` after whatever decoded before the failure; the layer that
 * failed (or a header an incomplete datagram cuts) is shown in part before it, as
 * `layer (field value, ...)` with the fixed fields the bytes hold up to the failing one.
 */
import { formatIpv4, formatIpv6, formatMac } from '../codec/address.js';
import { dhcp, dns, gre, icmp, ppp, tcp } from '../generated/index.js';
import type { CaptureDecoder } from './capture.js';
import { arpAnySizeJSON } from './json.js';
import { ednsOf } from './edns.js';
import { lldpIds } from './lldp.js';

export interface FrameTime {
  tsSec: number;
  tsNanos: number;
}

const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV4 = 0x0800;
const ARP_REQUEST = 1;
const ARP_REPLY = 2;
const IPV4_MF = 1;
const IPV4_DF = 2;
const ICMP_ECHO_REPLY = 0;
const ICMP_ECHO_REQUEST = 8;
/** Enough of a DNS line: a busy response is summarised, not listed in full. */
const DNS_MAX_ANSWERS_SHOWN = 4;

export function formatTime(t: FrameTime): string {
  const day = t.tsSec % 86400;
  const h = Math.floor(day / 3600);
  const m = Math.floor((day % 3600) / 60);
  const s = day % 60;
  const us = Math.floor(t.tsNanos / 1000);
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(us, 6)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export function frameToText(d: CaptureDecoder, t: FrameTime, origLen: number): string {
  const time = formatTime(t);
  if (d.error !== null && d.error.code === 'E_UNSUPPORTED_LINKTYPE') {
    return `${time} link type ${d.linkType} (not Ethernet), length ${origLen} ${errorText(d)}`;
  }
  if (!d.has('ethernet')) return `${time} length ${origLen} ${errorText(d)}`;
  const line = frameLine(d, origLen) + partialText(d);
  return d.error === null ? `${time} ${line}` : `${time} ${line} ${errorText(d)}`;
}

function partialText(d: CaptureDecoder): string {
  const fields = d.partialFields();
  if (fields === null) return '';
  const shown = Object.entries(fields).map(([k, v]) => `${k} ${String(v)}`);
  return ` ${d.partialLayer} (${shown.length > 0 ? shown.join(', ') : 'no field whole'})`;
}

/** The frame's line without time and error (also a tunnel's inner frame). */
function frameLine(d: CaptureDecoder, origLen: number): string {
  const eth = d.ethernet;
  if (d.has('arp')) return arpText(d);
  if (d.has('lldp')) {
    const ids = lldpIds(d.lldp);
    const ttl = d.lldp.ttl >= 0 ? `, ttl ${d.lldp.ttl}s` : '';
    return `${formatMac(eth.src)} > ${formatMac(eth.dst)}, LLDP, chassis ${ids.chassisId ?? '?'}, port ${ids.portId ?? '?'}${ttl}, length ${d.lldp.headerLength}`;
  }
  if (d.has('mpls')) {
    const carried = d.has('ipv4')
      ? ipv4Text(d)
      : d.has('ipv6')
        ? ipv6Text(d)
        : `length ${d.mpls.payloadLength}`;
    return `${mplsText(d)} ${carried}`;
  }
  if (d.has('ipv4')) return ipv4Text(d);
  if (d.has('ipv6')) return ipv6Text(d);
  if (eth.etherType === ETHERTYPE_ARP || eth.etherType === ETHERTYPE_IPV4) {
    return `${formatMac(eth.src)} > ${formatMac(eth.dst)}, ethertype ${eth.etherType === ETHERTYPE_ARP ? 'ARP' : 'IPv4'}`;
  }
  return `${formatMac(eth.src)} > ${formatMac(eth.dst)}, ethertype 0x${eth.etherType.toString(16).padStart(4, '0')}, length ${origLen}`;
}

/** What a tunnel carried: the inner frame's line (`inner` starts at Ethernet or IPv4). */
function innerText(inner: CaptureDecoder): string {
  if (inner.has('ethernet'))
    return `${formatMac(inner.ethernet.src)} > ${formatMac(inner.ethernet.dst)}, ${frameLine(inner, inner.ethernet.byteLength)}`;
  if (inner.has('ipv4')) return ipv4Text(inner);
  if (inner.has('ipv6')) return ipv6Text(inner);
  return 'undecoded';
}

/** tcpdump's label stack: `MPLS (label 29, tc 6, [S], ttl 255)`, entries outermost first. */
function mplsText(d: CaptureDecoder): string {
  const m = d.mpls;
  const entries: string[] = [];
  for (let i = 0; i < m.entriesCount; i++) {
    const tc = m.entriesTc(i) !== 0 ? `, tc ${m.entriesTc(i)}` : '';
    const bottom = m.entriesS(i) !== 0 ? ', [S]' : '';
    entries.push(`(label ${m.entriesLabel(i)}${tc}${bottom}, ttl ${m.entriesTtl(i)})`);
  }
  return `MPLS ${entries.join(', ')}`;
}

function errorText(d: CaptureDecoder): string {
  const e = d.error;
  return e === null ? '' : `[error ${e.code} ${e.layer}.${e.field} @${e.offset}]`;
}

function arpText(d: CaptureDecoder): string {
  const a = d.arp;
  const len = d.ethernet.payloadLength;
  if (d.arpAnySize) {
    const g = d.arpAny;
    const at = arpAnySizeJSON(d);
    return `ARP, op ${g.op}, hardware type ${g.htype} (${g.hlen} bytes), protocol type 0x${g.ptype.toString(16).padStart(4, '0')} (${g.plen} bytes), ${at.sha} ${at.spa} > ${at.tha} ${at.tpa}, length ${len}`;
  }
  if (a.op === ARP_REQUEST)
    return `ARP, Request who-has ${formatIpv4(a.tpa)} tell ${formatIpv4(a.spa)}, length ${len}`;
  if (a.op === ARP_REPLY)
    return `ARP, Reply ${formatIpv4(a.spa)} is-at ${formatMac(a.sha)}, length ${len}`;
  return `ARP, op ${a.op} ${formatIpv4(a.spa)} > ${formatIpv4(a.tpa)}, length ${len}`;
}

function ipv4Text(d: CaptureDecoder): string {
  const ip = d.ip;
  const src = formatIpv4(ip.src);
  const dst = formatIpv4(ip.dst);
  if (d.has('gre')) return `IP ${src} > ${dst}: ${greText(d)}`;
  if (d.inner !== null && !d.has('udp')) return `IP ${src} > ${dst}: ${innerText(d.inner)}`;
  if (d.has('igmp')) return `IP ${src} > ${dst}: ${igmpText(d)}${fragText(d)}`;
  if (ip.fragmentOffset !== 0 || (!d.has('icmp') && !d.has('udp') && !d.has('tcp'))) {
    return `IP ${src} > ${dst}: ip-proto-${ip.protocol}${fragText(d)}, length ${ip.payloadLength}`;
  }
  if (d.has('icmp')) return `IP ${src} > ${dst}: ${icmpText(d)}${fragText(d)}`;
  return transportText(d, 'IP', src, dst, fragText(d));
}

/**
 * tcpdump's IPv6 line: `IP6 src.port > dst.port: ...` (`[ext ...]` naming the extension headers
 * on the way, when there are any).
 */
function ipv6Text(d: CaptureDecoder): string {
  const ip = d.ipv6;
  const src = formatIpv6(ip.bytes, ip.srcOffset);
  const dst = formatIpv6(ip.bytes, ip.dstOffset);
  const jumbo = d.jumbogram ? ', jumbogram' : '';
  const ext = ipv6ExtText(d);
  if (d.inner !== null && !d.has('udp'))
    return `IP6 ${src} > ${dst}:${ext}${jumbo} ${innerText(d.inner)}`;
  if (d.has('icmpv6'))
    return `IP6 ${src} > ${dst}:${ext}${jumbo} ICMP6, ${d.icmpv6.describe()}, length ${d.l4Length}`;
  if (!d.has('udp') && !d.has('tcp')) {
    const last = d.ipv6ExtCount > 0 ? d.ipv6Exts[d.ipv6ExtCount - 1] : null;
    const next =
      last === null
        ? ip.nextHeader
        : last.name === 'fraghdr'
          ? last.fragment.nextHeader
          : last.name === 'routing'
            ? last.routing.head.nextHeader
            : last.options.nextHeader;
    return `IP6 ${src} > ${dst}:${ext} next-header ${next}${jumbo}, length ${d.l4Length}`;
  }
  return transportText(d, 'IP6', src, dst, jumbo, ext);
}

/** The extension headers on the way, tcpdump-like: ` HBH DSTOPT srcrt frag (id 2, off 1432, MF)`. */
function ipv6ExtText(d: CaptureDecoder): string {
  let s = '';
  for (let i = 0; i < d.ipv6ExtCount; i++) {
    const e = d.ipv6Exts[i];
    if (e.name === 'hopopts') s += ' HBH';
    else if (e.name === 'dstopts') s += ' DSTOPT';
    else if (e.name === 'routing')
      s += ` srcrt (type ${e.routing.head.routingType}, segleft ${e.routing.head.segmentsLeft})`;
    else {
      const f = e.fragment;
      s += ` frag (id ${f.identification}, off ${f.fragmentOffset * 8}${f.more !== 0 ? ', MF' : ''})`;
    }
  }
  return s;
}

/** The UDP or TCP part of an IP line (`tail` goes after the transport's length). */
function transportText(
  d: CaptureDecoder,
  ip: string,
  src: string,
  dst: string,
  tail: string,
  ext = '',
): string {
  if (d.has('udp')) {
    const u = d.udp;
    const head = `${ip} ${src}.${u.srcPort} > ${dst}.${u.dstPort}:${ext}`;
    if (d.has('dhcp')) return `${head} ${dhcpText(d)}, length ${u.payloadLength}`;
    if (d.has('dns')) return `${head} ${dnsText(d)} (${u.payloadLength})`;
    if (d.has('dhcpv6')) return `${head} DHCPv6 ${d.dhcpv6.describe()}, length ${u.payloadLength}`;
    if (d.has('vxlan')) {
      const inner = d.inner === null ? '' : `: ${innerText(d.inner)}`;
      return `${head} VXLAN, vni ${d.vxlan.vni}${inner}`;
    }
    if (d.has('geneve')) {
      const g = d.geneve;
      const inner = d.inner === null ? '' : `: ${innerText(d.inner)}`;
      const flags = `${g.oam ? 'O' : ''}${g.critical ? 'C' : ''}`;
      return `${head} Geneve${flags === '' ? '' : ` [${flags}]`}, vni ${g.vni}, options ${g.optLen * 4} bytes${inner}`;
    }
    return `${head} UDP, length ${u.payloadLength}${tail}`;
  }
  const s = d.tcp;
  const head = `${ip} ${src}.${s.srcPort} > ${dst}.${s.dstPort}:${ext} Flags [${tcpFlagsText(s.flags)}]`;
  const ack = (s.flags & tcp.TcpFlags.ACK) !== 0 ? `, ack ${s.ack}` : '';
  const opts = tcpOptionsText(d);
  const dnsPart = d.has('dns') ? `: ${dnsText(d)}` : '';
  return `${head}, seq ${s.seq}${ack}, win ${s.window}${opts}, length ${d.tcpPayloadLength}${tail}${dnsPart}`;
}

/** tcpdump's GRE line: version, the words present, then what it carries (PPP in PPTP). */
function greText(d: CaptureDecoder): string {
  const g = d.gre;
  const proto = gre.nameOfGreProtocol(g.protocolType) ?? `0x${g.protocolType.toString(16)}`;
  const parts = [`GREv${g.version}`, `proto ${proto}`];
  if (g.hasKey) parts.push(`key=0x${g.key.toString(16)}`);
  if (g.hasKeyCallId) parts.push(`call ${g.keyCallId}`);
  if (g.hasSequence) parts.push(`seq ${g.sequence}`);
  if (g.hasAck) parts.push(`ack ${g.ack}`);
  if (g.hasChecksum)
    parts.push(`sum 0x${g.checksum.toString(16)}${g.checksumValid ? '' : ' (bad)'}`);
  const ppp = d.has('ppp') ? `: PPP ${pppName(d.ppp.protocol)}, length ${d.ppp.payloadLength}` : '';
  const inner = d.inner === null ? '' : `: ${innerText(d.inner)}`;
  return `${parts.join(', ')}, length ${g.payloadLength}${ppp}${inner}`;
}

function pppName(protocol: number): string {
  return ppp.nameOfPppProtocol(protocol) ?? `0x${protocol.toString(16).padStart(4, '0')}`;
}

function fragText(d: CaptureDecoder): string {
  const ip = d.ip;
  const offloaded = d.offloaded ? `, IP total length 0 (offloaded, ${d.offloadedLength})` : '';
  if ((ip.flags & IPV4_MF) === 0 && ip.fragmentOffset === 0) return offloaded;
  const mf = (ip.flags & IPV4_MF) !== 0 ? ', MF' : '';
  const df = (ip.flags & IPV4_DF) !== 0 ? ', DF' : '';
  return ` (frag id ${ip.identification}, off ${ip.fragmentOffset * 8}${mf}${df})${offloaded}`;
}

/** tcpdump's flag letters, in its order. */
const TCP_FLAG_LETTERS: ReadonlyArray<readonly [number, string]> = [
  [tcp.TcpFlags.FIN, 'F'],
  [tcp.TcpFlags.SYN, 'S'],
  [tcp.TcpFlags.RST, 'R'],
  [tcp.TcpFlags.PSH, 'P'],
  [tcp.TcpFlags.ACK, '.'],
  [tcp.TcpFlags.URG, 'U'],
  [tcp.TcpFlags.ECE, 'E'],
  [tcp.TcpFlags.CWR, 'W'],
  [tcp.TcpFlags.AE, 'e'],
];

export function tcpFlagsText(flags: number): string {
  let s = '';
  for (const [bit, letter] of TCP_FLAG_LETTERS) if ((flags & bit) !== 0) s += letter;
  return s === '' ? 'none' : s;
}

function tcpOptionsText(d: CaptureDecoder): string {
  const c = d.tcp.options();
  const parts: string[] = [];
  while (c.next()) {
    switch (c.kind) {
      case tcp.TcpOptionKind.EOL:
        parts.push('eol');
        break;
      case tcp.TcpOptionKind.NOP:
        parts.push('nop');
        break;
      case tcp.TcpOptionKind.MSS:
        parts.push(`mss ${c.mss.value}`);
        break;
      case tcp.TcpOptionKind.WindowScale:
        parts.push(`wscale ${c.windowScale.shift}`);
        break;
      case tcp.TcpOptionKind.SackPermitted:
        parts.push('sackOK');
        break;
      case tcp.TcpOptionKind.Sack: {
        const s = c.sack;
        const blocks: string[] = [];
        for (let i = 0; i < s.blocksCount; i++)
          blocks.push(`{${s.blocksLeft(i)}:${s.blocksRight(i)}}`);
        parts.push(`sack ${s.blocksCount} ${blocks.join('')}`);
        break;
      }
      case tcp.TcpOptionKind.Timestamps:
        parts.push(`TS val ${c.timestamps.tsval} ecr ${c.timestamps.tsecr}`);
        break;
      default:
        parts.push(`opt-${c.kind}:${c.length}`);
    }
  }
  return parts.length === 0 ? '' : `, options [${parts.join(',')}]`;
}

function igmpText(d: CaptureDecoder): string {
  const g = d.igmp;
  let more = '';
  if (g.layout === 'igmpv3Query') more = addressList(g.igmpv3Query);
  if (g.layout === 'igmpv3Report') {
    const records: string[] = [];
    const c = g.igmpv3Report.records();
    while (c.next()) records.push(`${c.item.describe()}${addressList(c.item)}`);
    if (records.length > 0) more = ` [${records.join('; ')}]`;
  }
  return `IGMP ${g.describe()}${more}, length ${d.ipv4.payloadLength}`;
}

/** An IGMPv3 source list as ` [a, b]` (nothing when empty). */
function addressList(v: { sourcesCount: number; sources(i: number): number }): string {
  if (v.sourcesCount === 0) return '';
  const list = Array.from({ length: v.sourcesCount }, (_, i) => formatIpv4(v.sources(i)));
  return ` [${list.join(', ')}]`;
}

function icmpText(d: CaptureDecoder): string {
  const m = d.icmp;
  const len = d.ip.payloadLength;
  if (m.type === ICMP_ECHO_REQUEST || m.type === ICMP_ECHO_REPLY) {
    const what = m.type === ICMP_ECHO_REQUEST ? 'request' : 'reply';
    return `ICMP echo ${what}, id ${m.identifier}, seq ${m.sequence}, length ${len}`;
  }
  const name = icmp.nameOfIcmpType(m.type) ?? `type ${m.type}`;
  return `ICMP ${name}, code ${m.code}, length ${len}`;
}

function dhcpText(d: CaptureDecoder): string {
  const v = d.dhcp;
  const type =
    v.messageType >= 0
      ? (dhcp.nameOfDhcpMessageType(v.messageType) ?? `type ${v.messageType}`)
      : `BOOTP op ${v.op}`;
  const xid = v.xid.toString(16).padStart(8, '0');
  const your = v.yiaddr !== 0 ? `, yiaddr ${formatIpv4(v.yiaddr)}` : '';
  return `DHCP ${type}, xid 0x${xid}${your}`;
}

function dnsText(d: CaptureDecoder): string {
  const v = d.dns;
  const flags = `${v.rd ? '+' : ''}${v.aa ? '*' : ''}${v.tc ? '|' : ''}`;
  const q = v.questions();
  let question = '';
  if (q.next()) question = ` ${typeName(q.item.type)}? ${q.item.nameText() || '.'}`;
  if (!v.qr) return `DNS ${v.id}${flags}${question}${ednsText(v)}`;
  const rcode = v.rcode === 0 ? '' : ` ${dns.nameOfDnsRcode(v.rcode) ?? `rcode ${v.rcode}`}`;
  const answers: string[] = [];
  const r = v.answers();
  while (r.next() && answers.length < DNS_MAX_ANSWERS_SHOWN)
    answers.push(`${typeName(r.item.type)} ${rdataText(r.item)}`);
  const counts = ` ${v.ancount}/${v.nscount}/${v.arcount}`;
  return `DNS ${v.id}${flags}${rcode}${question}${counts}${answers.length > 0 ? ' ' + answers.join(', ') : ''}${ednsText(v)}`;
}

/** The OPT record, tcpdump-like: ` [EDNS udp 1232 DO, ECS 192.0.2.0/24/0, COOKIE]`. */
function ednsText(v: dns.DnsView): string {
  const e = ednsOf(v);
  if (e === null) return '';
  const parts = [`EDNS udp ${e.udpPayloadSize}${e.dnssecOk ? ' DO' : ''}`];
  if (e.version !== 0) parts.push(`version ${e.version}`);
  for (const o of e.options) {
    if (o.address !== undefined) parts.push(`ECS ${o.address}/${o.sourcePrefix}/${o.scopePrefix}`);
    else if (o.client !== undefined) parts.push(o.server === '' ? 'COOKIE' : 'COOKIE+server');
    else parts.push(`option ${o.code} (${o.length})`);
  }
  return ` [${parts.join(', ')}]`;
}

function typeName(type: number): string {
  return dns.nameOfDnsType(type) ?? `TYPE${type}`;
}

/** Record data in the layout its type selects (specs/dns.pkt), one record at a time. */
const rdata = new dns.DnsRecordRdataLayouts();

/** A record's data as tcpdump shows it: A, names, MX and the first TXT string; else its size. */
function rdataText(rr: dns.DnsRecordView): string {
  if (rdata.wrap(rr) === null) {
    switch (rdata.layout) {
      case 'dnsA':
        return formatIpv4(rdata.dnsA.address);
      case 'dnsTarget':
        return rdata.dnsTarget.targetText() || '.';
      case 'dnsMx':
        return `${rdata.dnsMx.preference} ${rdata.dnsMx.exchangeText() || '.'}`;
      case 'dnsTxt': {
        const c = rdata.dnsTxt.strings();
        if (!c.next()) break;
        const s = c.item;
        return JSON.stringify(
          String.fromCharCode(...rr.bytes.subarray(s.dataOffset, s.dataOffset + s.dataLength)),
        );
      }
      default:
        break;
    }
  }
  return `(${rr.rdataLength} bytes)`;
}
