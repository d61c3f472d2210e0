/**
 * Compares one frame of `pktstack decode --json` output with tshark's oracle line for it
 * (test/fixtures/oracle/, format in test/fixtures/PROVENANCE.md), key by key.
 *
 * Only keys tshark reported are compared. Names are mapped (ip.hdr_len = ihl*4, ip.tos =
 * dscp<<2|ecn, tcp.hdr_len = dataOffset*4, dns.flags = the 16 header bits, ...), and
 * `checksum_status` is compared with our `checksumValid`: good → true, bad → false,
 * not_present → UDP checksum field 0, unverified → not compared (tshark could not check).
 *
 * Not compared: `icmp.quoted` (the headers an ICMPv4 error quotes; our ICMP layer carries the
 * quoted datagram as payload and does not decode it: the views refuse a quoted datagram whose
 * length runs past the quote, which is the usual case), `protocols` and the wording of tshark's
 * expert messages (golden.test.ts uses their layer/severity/group to find tshark's verdict).
 *
 * A layer we show only in part (`partial` in our frame: a header that failed validation, or one an
 * incomplete datagram cuts) holds the fixed fields up to the failing one; it is compared on the
 * keys it has (tshark too stops at the failing field, or earlier: it reads some fields out of
 * order, e.g. the TCP header length before the sequence number). IPv4 with total length 0 is
 * compared with tshark's presumed total length (ip.len) through our `offloadedLength`.
 *
 * The result is a list of human-readable mismatches; empty means agreement.
 */

import { tcp } from '../../src/generated/index.js';

export type Json = Record<string, unknown>;

/** The layers of one level of an oracle frame (the frame itself, or a tunnel's `inner`). */
export interface OracleLevel {
  eth?: Json;
  vlan?: Json[];
  mpls?: Json[];
  arp?: Json;
  lldp?: Json;
  ip?: Json;
  ipv6?: Json;
  icmp?: Json;
  icmpv6?: Json;
  igmp?: Json;
  udp?: Json;
  tcp?: Json;
  gre?: Json;
  dhcp?: Json;
  dhcpv6?: Json;
  dns?: Json;
  vxlan?: Json;
  geneve?: Json;
  /** Layers tshark passed through between a tunnel header and what it carries (not reported). */
  via?: string[];
  inner?: OracleLevel;
}

export interface OracleFrame extends OracleLevel {
  n: number;
  len: number;
  caplen: number;
  protocols: string;
  malformed: boolean;
  malformed_in?: string;
  short: boolean;
  expert: Json[];
}

/** Our layers of one level; a tunnel's payload is `inner`, one level deeper. */
export type OurLayers = Record<string, Json | undefined> & { vlan?: Json[]; inner?: OurLayers };

export interface OurFrame {
  frame: number;
  layers: OurLayers;
  partial?: string;
  error: { code: string; layer: string; field: string; offset: number } | null;
}

/**
 * tshark protocol name (oracle layer key) → our layer name, in the oracle's wire order. `inner`
 * is what a tunnel carries (a nested level of layers on both sides).
 */
export const LAYER_OF: Record<string, string> = {
  eth: 'ethernet',
  vlan: 'vlan',
  mpls: 'mpls',
  arp: 'arp',
  lldp: 'lldp',
  ip: 'ipv4',
  ipv6: 'ipv6',
  icmp: 'icmp',
  icmpv6: 'icmpv6',
  igmp: 'igmp',
  udp: 'udp',
  tcp: 'tcp',
  gre: 'gre',
  dhcp: 'dhcp',
  dhcpv6: 'dhcpv6',
  dns: 'dns',
  vxlan: 'vxlan',
  geneve: 'geneve',
  inner: 'inner',
};

/** Depth of each of our layers in the dispatch chain (an error "at or before" compares depths). */
export const DEPTH: Record<string, number> = {
  frame: 0,
  ethernet: 1,
  vlan: 1.5,
  mpls: 1.7,
  arp: 2,
  lldp: 2,
  ipv4: 2,
  ipv6: 2,
  // IPv6 extension headers (our errors name their spec; tshark counts them in ipv6)
  ipv6opts: 2,
  ipv6route: 2,
  ipv6frag: 2,
  icmp: 3,
  icmpv6: 3,
  igmp: 3,
  udp: 3,
  tcp: 3,
  gre: 3.5,
  dhcp: 4,
  dhcpv6: 4,
  dns: 4,
  vxlan: 4,
  geneve: 4,
  inner: 5,
};

const CHECKSUM_VERDICT: Record<string, boolean | undefined> = { good: true, bad: false };

class Diff {
  readonly out: string[] = [];
  /** tshark's name of the layer we show only in part (its missing keys are not compared). */
  partial: string | undefined;
  /** We show the last IPv6 extension header only in part (`partial` is `ipv6ext`). */
  partialIpv6Ext = false;
  /** The tunnel level being compared (`inner.` per level), before every path. */
  prefix = '';
  constructor(readonly where: string) {}

  eq(path: string, ours: unknown, theirs: unknown): void {
    if (theirs === undefined) return;
    if (this.partial !== undefined && path.startsWith(`${this.partial}.`) && absent(ours)) return;
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
      this.out.push(
        `${this.where} ${this.prefix}${path}: ours ${JSON.stringify(ours)}, tshark ${JSON.stringify(theirs)}`,
      );
    }
  }

  checksum(path: string, layer: Json, status: unknown): void {
    if (status === undefined || status === 'unverified') return;
    if (status === 'not_present') {
      this.eq(`${path} (not_present → checksum 0)`, layer.checksum, 0);
      return;
    }
    const verdict = CHECKSUM_VERDICT[status as string];
    if (verdict === undefined)
      this.out.push(`${this.where} ${this.prefix}${path}: unknown tshark status ${String(status)}`);
    else this.eq(path, layer.checksumValid, verdict);
  }
}

/** A key a partial layer does not have (a number derived from one is NaN). */
function absent(v: unknown): boolean {
  return v === undefined || (typeof v === 'number' && Number.isNaN(v));
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : NaN;
}
function list(v: unknown): Json[] {
  return Array.isArray(v) ? (v as Json[]) : [];
}

function compareEth(d: Diff, e: Json, L: OurLayers, t: Json, frame?: OracleFrame): void {
  d.eq('eth.dst', e.dst, t.dst);
  d.eq('eth.src', e.src, t.src);
  d.eq('eth.type', e.etherType, t.type);
  d.eq('eth.len', e.etherType, t.len);
  // Trailer = Ethernet payload beyond the network-layer datagram (and its VLAN tags), known once
  // that decoded (none when the capture, or a lying length, cut the datagram); for the frame's
  // own Ethernet header only.
  if (frame === undefined) return;
  const payload =
    frame.caplen -
    14 -
    4 * list(L.vlan).length -
    4 * list((L.mpls as Json | undefined)?.entries).length;
  const ip = L.ipv4;
  const ip6 = L.ipv6;
  const arp = L.arp;
  // A frame the capture cut shows no trailer: what there is of it is not all there.
  const trailer = (datagram: number): number =>
    frame.caplen < frame.len ? 0 : Math.max(0, payload - datagram);
  if (d.partial === 'ip' || d.partial === 'ipv6') return;
  if (ip !== undefined)
    d.eq('eth.trailer_len', trailer(num(ip.offloadedLength ?? ip.totalLength)), t.trailer_len);
  else if (ip6 !== undefined)
    d.eq('eth.trailer_len', trailer(40 + num(ip6.jumboLength ?? ip6.payloadLen)), t.trailer_len);
  else if (arp !== undefined)
    d.eq('eth.trailer_len', trailer(8 + 2 * num(arp.hlen) + 2 * num(arp.plen)), t.trailer_len);
}

/** 802.1Q / 802.1ad tags, outermost first. */
function compareVlan(d: Diff, tags: Json[], t: Json[]): void {
  d.eq(
    'vlan',
    tags.map((g) => ({ priority: g.pcp, dei: g.dei, id: g.id, etype: g.etherType })),
    t.map((g) => ({ priority: g.priority, dei: g.dei, id: g.id, etype: g.etype ?? g.len })),
  );
}

/** The label stack, outermost entry first (tshark's exp is RFC 5462's traffic class). */
function compareMpls(d: Diff, m: Json, t: Json[]): void {
  d.eq(
    'mpls',
    list(m.entries).map((e) => ({ label: e.label, exp: e.tc, bottom: e.s, ttl: e.ttl })),
    t.map((e) => ({ label: e.label, exp: e.exp, bottom: e.bottom, ttl: e.ttl })),
  );
}

function compareArp(d: Diff, a: Json, t: Json): void {
  for (const k of ['htype', 'ptype', 'hlen', 'plen', 'op', 'sha', 'spa', 'tha', 'tpa'])
    d.eq(`arp.${k}`, a[k], t[k]);
}

function compareIp(d: Diff, ip: Json, t: Json): void {
  d.eq('ip.v', ip.version, t.v);
  d.eq('ip.hdr_len', num(ip.ihl) * 4, t.hdr_len);
  d.eq('ip.tos', (num(ip.dscp) << 2) | num(ip.ecn), t.tos);
  d.eq('ip.len', ip.offloadedLength ?? ip.totalLength, t.len);
  d.eq('ip.id', ip.identification, t.id);
  d.eq('ip.flags', ip.flags, t.flags);
  d.eq('ip.frag_off', ip.fragmentOffset, t.frag_off);
  d.eq('ip.ttl', ip.ttl, t.ttl);
  d.eq('ip.proto', ip.protocol, t.proto);
  d.eq('ip.checksum', ip.checksum, t.checksum);
  d.checksum('ip.checksum_status', ip, t.checksum_status);
  d.eq('ip.src', ip.src, t.src);
  d.eq('ip.dst', ip.dst, t.dst);
  d.eq(
    'ip.options',
    list(ip.options).map((x) => x.type),
    t.options,
  );
}

function compareIpv6(d: Diff, ip: Json, t: Json): void {
  d.eq('ipv6.version', ip.version, t.version);
  d.eq('ipv6.tclass', ip.trafficClass, t.tclass);
  d.eq('ipv6.flow', ip.flowLabel, t.flow);
  d.eq('ipv6.plen', ip.payloadLen, t.plen);
  d.eq('ipv6.nxt', ip.nextHeader, t.nxt);
  d.eq('ipv6.hlim', ip.hopLimit, t.hlim);
  d.eq('ipv6.src', ip.src, t.src);
  d.eq('ipv6.dst', ip.dst, t.dst);
  if (t.ext === undefined && ip.ext === undefined) return;
  const ours = list(ip.ext);
  const theirs = list(t.ext);
  d.eq(
    'ipv6.ext (headers)',
    ours.map((e) => e.hdr),
    theirs.map((e) => e.hdr),
  );
  ours.forEach((e, i) => {
    if (theirs[i] === undefined) return;
    // The header we show in part (the last) has only the fields before the failing one.
    const inPart = d.partialIpv6Ext && i === ours.length - 1;
    compareIpv6Ext(d, `ipv6.ext[${i}]`, e, theirs[i], inPart);
  });
}

/** One IPv6 extension header (tshark's names: RFC 8200 §4 field names, abbreviated). */
function compareIpv6Ext(d: Diff, p: string, e: Json, t: Json, inPart: boolean): void {
  const eq = (key: string, ours: unknown, theirs: unknown): void => {
    if (!(inPart && absent(ours))) d.eq(`${p}.${key}`, ours, theirs);
  };
  eq('nxt', e.nextHeader, t.nxt);
  if (e.hdr === 'fraghdr') {
    eq('offset', e.fragmentOffset, t.offset);
    eq('more', e.more, t.more);
    eq('ident', e.identification, t.ident);
    return;
  }
  eq('len', e.hdrExtLen, t.len);
  if (e.hdr === 'routing') {
    eq('type', e.routingType, t.type);
    eq('segleft', e.segmentsLeft, t.segleft);
    eq('src_addr', e.addresses, t.src_addr);
    eq('mipv6_home_address', e.homeAddress, t.mipv6_home_address);
    eq('srh_last_entry', e.lastEntry, t.srh_last_entry);
    eq('srh_flags', e.flags, t.srh_flags);
    eq('srh_tag', e.tag, t.srh_tag);
    eq('srh_addr', e.segments, t.srh_addr);
    return;
  }
  if (e.options === undefined && inPart) return;
  const options = list(e.options);
  eq(
    'opt_type',
    options.map((o) => o.type),
    t.opt_type,
  );
  eq('opt_jumbo', options.find((o) => o.jumboLength !== undefined)?.jumboLength, t.opt_jumbo);
}

function compareIcmp(d: Diff, m: Json, t: Json): void {
  d.eq('icmp.type', m.type, t.type);
  d.eq('icmp.code', m.code, t.code);
  d.eq('icmp.checksum', m.checksum, t.checksum);
  d.checksum('icmp.checksum_status', m, t.checksum_status);
  d.eq('icmp.id', m.identifier, t.id);
  d.eq('icmp.seq', m.sequence, t.seq);
}

/** tshark's MAC text (`c2:00:54:f5:00:00`) for our plain hex of a byte array. */
function colonHex(v: unknown): unknown {
  return typeof v === 'string' ? (v.match(/../g) ?? []).join(':') : v;
}

/** Our ND option (NdOptions toJSON) in tshark's icmpv6.opt keys (only those tshark gives). */
function ndOption(o: Json): Json {
  const out: Json = { type: o.type, length: o.length };
  if (o.address !== undefined) out.linkaddr = colonHex(o.address);
  if (o.mtu !== undefined) out.mtu = o.mtu;
  if (o.prefix !== undefined) {
    out.prefix_length = o.prefixLength;
    out.prefix_flag =
      (num(o.onLink) << 7) |
      (num(o.autonomous) << 6) |
      (num(o.routerAddress) << 5) |
      num(o.reserved1);
    out.prefix_valid_lifetime = o.validLifetime;
    out.prefix_preferred_lifetime = o.preferredLifetime;
    out.prefix = o.prefix;
  }
  return out;
}

/**
 * ICMPv6 (specs/icmpv6.pkt): our layer is the view of the message's layout (echo, error, ND,
 * MLD), so each tshark key maps to the field of that layout: the RA flag byte and the NA flag
 * word are our bit fields recomposed, ND options are compared element by element on the keys
 * tshark shows, MLDv2 records likewise.
 */
function compareIcmpv6(d: Diff, m: Json, t: Json): void {
  const quoted = (t.quoted as Json | undefined)?.ipv6 as Json | undefined;
  if (quoted !== undefined) {
    const ours = (m.quoted as Json | undefined)?.ipv6 as Json | undefined;
    const outer = d.prefix;
    d.prefix = `${outer}icmpv6.quoted.`;
    if (ours === undefined) d.out.push(`${d.where} ${d.prefix}ipv6: tshark decoded it, we did not`);
    else compareIpv6(d, ours, quoted);
    d.prefix = outer;
  }
  d.eq('icmpv6.type', m.type, t.type);
  d.eq('icmpv6.code', m.code, t.code);
  d.eq('icmpv6.checksum', m.checksum, t.checksum);
  d.checksum('icmpv6.checksum_status', m, t.checksum_status);
  d.eq('icmpv6.echo_identifier', m.identifier, t.echo_identifier);
  d.eq('icmpv6.echo_sequence_number', m.sequence, t.echo_sequence_number);
  d.eq('icmpv6.mtu', m.mtu, t.mtu);
  d.eq('icmpv6.pointer', m.pointer, t.pointer);
  d.eq('icmpv6.nd_ra_cur_hop_limit', m.curHopLimit, t.nd_ra_cur_hop_limit);
  d.eq(
    'icmpv6.nd_ra_flag',
    (num(m.managed) << 7) |
      (num(m.other) << 6) |
      (num(m.homeAgent) << 5) |
      (num(m.preference) << 3) |
      (num(m.proxy) << 2) |
      num(m.reserved),
    t.nd_ra_flag,
  );
  d.eq('icmpv6.nd_ra_router_lifetime', m.routerLifetime, t.nd_ra_router_lifetime);
  d.eq('icmpv6.nd_ra_reachable_time', m.reachableTime, t.nd_ra_reachable_time);
  d.eq('icmpv6.nd_ra_retrans_timer', m.retransTimer, t.nd_ra_retrans_timer);
  d.eq('icmpv6.nd_ns_target_address', m.target, t.nd_ns_target_address);
  d.eq(
    'icmpv6.nd_na_flag',
    m.router === undefined
      ? NaN
      : ((num(m.router) << 31) |
          (num(m.solicited) << 30) |
          (num(m.override) << 29) |
          num(m.reserved)) >>>
          0,
    t.nd_na_flag,
  );
  d.eq('icmpv6.nd_na_target_address', m.target, t.nd_na_target_address);
  d.eq('icmpv6.nd_rd_target_address', m.target, t.nd_rd_target_address);
  d.eq('icmpv6.rd_na_destination_address', m.destination, t.rd_na_destination_address);
  d.eq('icmpv6.mld_maximum_response_delay', m.maxResponseDelay, t.mld_maximum_response_delay);
  d.eq('icmpv6.mld_maximum_response_code', m.maxResponseCode, t.mld_maximum_response_code);
  d.eq('icmpv6.mld_multicast_address', m.multicastAddress, t.mld_multicast_address);
  d.eq('icmpv6.mld_flag', (num(m.reserved2) << 4) | (num(m.s) << 3) | num(m.qrv), t.mld_flag);
  d.eq('icmpv6.mld_qqi', m.qqic, t.mld_qqi);
  d.eq('icmpv6.mld_nb_sources', m.numSources, t.mld_nb_sources);
  d.eq('icmpv6.mldr_nb_mcast_records', m.numRecords, t.mldr_nb_mcast_records);
  if (t.mldr_mar !== undefined && !(d.partial === 'icmpv6' && m.records === undefined)) {
    d.eq(
      'icmpv6.mldr_mar',
      list(m.records).map((r) => ({
        record_type: r.recordType,
        aux_data_len: r.auxDataLen,
        nb_sources: r.numSources,
        multicast_address: r.multicastAddress,
      })),
      t.mldr_mar,
    );
  }
  if (t.opt !== undefined && !(d.partial === 'icmpv6' && m.options === undefined)) {
    const theirs = list(t.opt);
    const ours = list(m.options).map(ndOption);
    d.eq(
      'icmpv6.opt',
      ours.map((o, i) => {
        const keys = Object.keys(theirs[i] ?? o);
        return Object.fromEntries(keys.map((k) => [k, o[k]]));
      }),
      theirs,
    );
  }
}

/** IGMP version as tshark classifies a message: by type, and for queries by length (RFC 3376 §7.1). */
function igmpVersion(m: Json): number | undefined {
  switch (m.type) {
    case 0x11:
      return m.qqic !== undefined ? 3 : m.maxRespCode === 0 ? 1 : 2;
    case 0x12:
      return 1;
    case 0x16:
    case 0x17:
      return 2;
    case 0x22:
      return 3;
    default:
      return undefined;
  }
}

function compareIgmp(d: Diff, m: Json, t: Json): void {
  d.eq('igmp.version', igmpVersion(m), t.version);
  d.eq('igmp.type', m.type, t.type);
  d.eq('igmp.max_resp', m.maxRespCode, t.max_resp);
  d.eq('igmp.checksum', m.checksum, t.checksum);
  d.checksum('igmp.checksum_status', m, t.checksum_status);
  d.eq('igmp.maddr', m.group, t.maddr);
  d.eq('igmp.s', m.s, t.s);
  d.eq('igmp.qrv', m.qrv, t.qrv);
  d.eq('igmp.qqic', m.qqic, t.qqic);
  d.eq('igmp.num_src', m.numSources, t.num_src);
  d.eq('igmp.num_grp_recs', m.numGroupRecords, t.num_grp_recs);
  if (m.records !== undefined) {
    d.eq(
      'igmp.records',
      list(m.records).map((r) => ({
        record_type: r.recordType,
        aux_data_len: r.auxDataLen,
        num_src: r.numSources,
        maddr: r.group,
      })),
      t.records,
    );
  }
}

/** VXLAN (RFC 7348): tshark shows the 16 flag bits as one number. */
function compareVxlan(d: Diff, v: Json, t: Json): void {
  d.eq(
    'vxlan.flags',
    (num(v.flagsHigh) << 12) | (num(v.vniValid) << 11) | num(v.flagsLow),
    t.flags,
  );
  d.eq('vxlan.vni', v.vni, t.vni);
}

/**
 * GRE (RFC 2784/2890, PPTP's RFC 2637): tshark shows the 16 flag and version bits as one number,
 * and only the words present.
 */
function compareGre(d: Diff, g: Json, t: Json): void {
  d.eq(
    'gre.flags_and_version',
    // A GRE header shown in part (refused at its R bit) has no version.
    g.version === undefined
      ? NaN
      : (num(g.c) << 15) |
          (num(g.r) << 14) |
          (num(g.k) << 13) |
          (num(g.s) << 12) |
          (num(g.strictSourceRoute) << 11) |
          (num(g.recursion) << 8) |
          (num(g.a) << 7) |
          (num(g.flags) << 3) |
          num(g.version),
    t.flags_and_version,
  );
  d.eq('gre.proto', g.protocolType, t.proto);
  d.eq('gre.checksum', g.checksum, t.checksum);
  d.checksum('gre.checksum_status', g, t.checksum_status);
  d.eq('gre.offset', g.reserved1, t.offset);
  d.eq('gre.key', g.key, t.key);
  d.eq('gre.key_payload_length', g.keyPayloadLength, t.key_payload_length);
  d.eq('gre.key_call_id', g.keyCallId, t.key_call_id);
  d.eq('gre.sequence_number', g.sequence, t.sequence_number);
  d.eq('gre.ack_number', g.ack, t.ack_number);
}

/**
 * Geneve (RFC 8926): tshark shows the options' length in bytes, the O, C and reserved bits as one
 * flags byte, and each option's length in bytes, its 4-byte header included.
 */
function compareGeneve(d: Diff, g: Json, t: Json): void {
  d.eq('geneve.version', g.version, t.version);
  d.eq('geneve.option_length', num(g.optLen) * 4, t.option_length);
  d.eq('geneve.flags', (num(g.oam) << 7) | (num(g.critical) << 6) | num(g.reserved0), t.flags);
  d.eq('geneve.proto_type', g.protocolType, t.proto_type);
  d.eq('geneve.vni', g.vni, t.vni);
  if (d.partial === 'geneve' && g.options === undefined) return;
  d.eq(
    'geneve.option',
    list(g.options).map((o) => ({
      class: o.optionClass,
      type: o.type,
      flags: o.reserved,
      length: 4 + num(o.length) * 4,
    })),
    t.option ?? [],
  );
}

/** LLDP: tshark lists every TLV's type and length, and shows the mandatory TLVs' values. */
function compareLldp(d: Diff, l: Json, t: Json): void {
  if (!(d.partial === 'lldp' && l.tlvs === undefined)) {
    d.eq(
      'lldp.tlv_type',
      list(l.tlvs).map((x) => x.type),
      t.tlv_type,
    );
    d.eq(
      'lldp.tlv_len',
      list(l.tlvs).map((x) => x.length),
      t.tlv_len,
    );
  }
  const known = (v: unknown): unknown => (v === -1 ? undefined : v);
  d.eq('lldp.chassis_subtype', known(l.chassisSubtype), t.chassis_subtype);
  d.eq('lldp.port_subtype', known(l.portSubtype), t.port_subtype);
  d.eq('lldp.time_to_live', known(l.ttl), t.time_to_live);
}

function compareUdp(d: Diff, u: Json, t: Json): void {
  d.eq('udp.srcport', u.srcPort, t.srcport);
  d.eq('udp.dstport', u.dstPort, t.dstport);
  d.eq('udp.len', u.length, t.len);
  d.eq('udp.checksum', u.checksum, t.checksum);
  d.checksum('udp.checksum_status', u, t.checksum_status);
}

/** Our TCP option list reduced to tshark's summary (kinds up to the first EOL, first values). */
export function tcpOptionsSummary(options: Json[]): Json {
  const s: Json = { kinds: [] as number[] };
  for (const opt of options) {
    const kind = num(opt.kind);
    (s.kinds as number[]).push(kind);
    if (kind === tcp.TcpOptionKind.MSS && s.mss === undefined) s.mss = opt.value;
    if (kind === tcp.TcpOptionKind.WindowScale && s.wscale === undefined) s.wscale = opt.shift;
    if (kind === tcp.TcpOptionKind.SackPermitted) s.sack_perm = true;
    if (kind === tcp.TcpOptionKind.Sack) {
      const blocks = list(opt.blocks).map((b) => [b.left, b.right]);
      s.sack = [...((s.sack as unknown[]) ?? []), ...blocks];
    }
    if (kind === tcp.TcpOptionKind.Timestamps && s.tsval === undefined) {
      s.tsval = opt.tsval;
      s.tsecr = opt.tsecr;
    }
    if (kind === tcp.TcpOptionKind.EOL) break;
  }
  return s;
}

function compareTcp(d: Diff, c: Json, t: Json): void {
  d.eq('tcp.srcport', c.srcPort, t.srcport);
  d.eq('tcp.dstport', c.dstPort, t.dstport);
  d.eq('tcp.seq', c.seq, t.seq);
  d.eq('tcp.ack', c.ack, t.ack);
  d.eq('tcp.hdr_len', num(c.dataOffset) * 4, t.hdr_len);
  d.eq('tcp.flags', c.flags, t.flags);
  d.eq('tcp.window', c.window, t.window);
  d.eq('tcp.checksum', c.checksum, t.checksum);
  d.checksum('tcp.checksum_status', c, t.checksum_status);
  d.eq('tcp.urg', c.urgentPointer, t.urg);
  d.eq('tcp.payload_len', c.payloadLength, t.payload_len);
  if (t.options !== undefined && !(d.partial === 'tcp' && c.options === undefined)) {
    const ours = tcpOptionsSummary(list(c.options));
    const theirs = t.options as Json;
    for (const k of Object.keys(theirs)) d.eq(`tcp.options.${k}`, ours[k], theirs[k]);
    for (const k of Object.keys(ours))
      if (!(k in theirs)) d.eq(`tcp.options.${k} (tshark has none)`, ours[k], null);
  }
}

function compareDhcp(d: Diff, h: Json, t: Json): void {
  for (const k of [
    'op',
    'htype',
    'hlen',
    'hops',
    'xid',
    'secs',
    'flags',
    'ciaddr',
    'yiaddr',
    'siaddr',
    'giaddr',
    'chaddr',
  ]) {
    d.eq(`dhcp.${k}`, h[k], t[k]);
  }
  // The view accepts only the DHCP magic cookie, so a decoded layer implies it.
  d.eq('dhcp.cookie', '99.130.83.99', t.cookie);
  d.eq('dhcp.msg_type', h.messageType, t.msg_type);
  if (d.partial === 'dhcp' && h.options === undefined) return;
  // tshark lists the options field's options at top level (overloaded file/sname options sit
  // inside option 52's subtree): compare ours up to the options field's End.
  const codes = list(h.options).map((x) => num(x.code));
  const end = codes.indexOf(255);
  d.eq('dhcp.options', end < 0 ? codes : codes.slice(0, end + 1), t.options);
}

/** DHCPv6 (specs/dhcpv6.pkt): tshark lists the codes of the message's own options (not nested ones). */
function compareDhcpv6(d: Diff, h: Json, t: Json): void {
  d.eq('dhcpv6.msgtype', h.msgType, t.msgtype);
  d.eq('dhcpv6.xid', h.transactionId, t.xid);
  d.eq('dhcpv6.hopcount', h.hopCount, t.hopcount);
  d.eq('dhcpv6.linkaddr', h.linkAddress, t.linkaddr);
  d.eq('dhcpv6.peeraddr', h.peerAddress, t.peeraddr);
  if (d.partial === 'dhcpv6' && h.options === undefined) return;
  d.eq(
    'dhcpv6.option_type',
    list(h.options).map((x) => x.code),
    t.option_type,
  );
}

/** The 16 DNS header flag bits from our fields. */
export function dnsFlags(n: Json): number {
  const bit = (v: unknown): number => (v === true || v === 1 ? 1 : 0);
  return (
    (bit(n.qr) << 15) |
    (num(n.opcode) << 11) |
    (bit(n.aa) << 10) |
    (bit(n.tc) << 9) |
    (bit(n.rd) << 8) |
    (bit(n.ra) << 7) |
    (num(n.z ?? 0) << 4) |
    num(n.rcode)
  );
}

function compareDns(d: Diff, n: Json, t: Json): void {
  d.eq('dns.tcp_length', n.tcpLength, t.tcp_length);
  d.eq('dns.id', n.id, t.id);
  d.eq('dns.flags', n.rcode === undefined ? NaN : dnsFlags(n), t.flags);
  d.eq('dns.qdcount', n.qdcount, t.qdcount);
  d.eq('dns.ancount', n.ancount, t.ancount);
  d.eq('dns.nscount', n.nscount, t.nscount);
  d.eq('dns.arcount', n.arcount, t.arcount);
  if (d.partial === 'dns' && n.questions === undefined) return;
  if (t.questions !== undefined) {
    d.eq(
      'dns.questions',
      list(n.questions).map((q) => ({ name: q.name, type: q.type, class: q.class })),
      list(t.questions).map((q) => ({ name: q.name, type: q.type, class: q.class })),
    );
  }
  if (t.answers !== undefined) {
    d.eq(
      'dns.answers',
      list(n.answers).map((a) => ({ name: a.name, type: a.type })),
      list(t.answers).map((a) => ({ name: a.name, type: a.type })),
    );
  }
}

type LayerCompare = (d: Diff, ours: Json, theirs: Json) => void;

/** The comparison of each oracle layer (keys of LAYER_OF; `eth` and `inner` are handled apart). */
const COMPARE: Record<string, LayerCompare> = {
  vlan: compareVlan as unknown as LayerCompare,
  mpls: compareMpls as unknown as LayerCompare,
  arp: compareArp,
  ip: compareIp,
  ipv6: compareIpv6,
  icmp: compareIcmp,
  igmp: compareIgmp,
  icmpv6: compareIcmpv6,
  udp: compareUdp,
  vxlan: compareVxlan,
  gre: compareGre,
  geneve: compareGeneve,
  lldp: compareLldp,
  tcp: compareTcp,
  dhcp: compareDhcp,
  dhcpv6: compareDhcpv6,
  dns: compareDns,
};

/** The layer keys of one oracle level, in its (wire) order. */
function levelKeys(o: OracleLevel): string[] {
  return Object.keys(o).filter((k) => LAYER_OF[k] !== undefined);
}

function compareLevel(
  d: Diff,
  ours: OurFrame,
  L: OurLayers,
  o: OracleLevel,
  frame?: OracleFrame,
): void {
  for (const t of levelKeys(o)) {
    const ourName = LAYER_OF[t];
    const mine = L[ourName];
    const theirs = (o as Record<string, unknown>)[t];
    if (mine === undefined) {
      d.out.push(`${d.where} layer ${d.prefix}${ourName}: tshark decoded it, we did not`);
      continue;
    }
    if (t === 'inner') {
      const outer = d.prefix;
      d.prefix = `${outer}inner.`;
      compareLevel(d, ours, mine as OurLayers, theirs as OracleLevel);
      d.prefix = outer;
    } else if (t === 'eth') compareEth(d, mine, L, theirs as Json, frame);
    else if (COMPARE[t] !== undefined) COMPARE[t](d, mine, theirs as Json);
    else
      d.out.push(
        `${d.where} layer ${d.prefix}${ourName}: decoded on both sides, but test/golden/compare.ts has no comparison for it`,
      );
  }
  const theirs = new Set(levelKeys(o).map((t) => LAYER_OF[t]));
  for (const ourName of Object.keys(L))
    if (
      L[ourName] !== undefined &&
      Object.values(LAYER_OF).includes(ourName) &&
      !theirs.has(ourName)
    )
      d.out.push(`${d.where} layer ${d.prefix}${ourName}: we decoded it, tshark did not`);
}

/**
 * Every key tshark reported for the layers we decoded, compared, level by level (a tunnel's
 * `inner` on both sides); plus layer presence: a layer only one side has is a disagreement (the
 * caller excuses the documented cases, e.g. layers after our reported error, and layers we do not
 * decode yet, see notYetDecoded).
 */
export function compareFrame(file: string, ours: OurFrame, o: OracleFrame): string[] {
  const d = new Diff(`${file}#${o.n}`);
  d.partial = Object.keys(LAYER_OF).find((k) => LAYER_OF[k] === ours.partial);
  d.partialIpv6Ext = ours.partial === 'ipv6ext';
  compareLevel(d, ours, ours.layers, o, o);
  return d.out;
}

/**
 * The first layer of an oracle frame that we have no decoder for yet (`decodable` = the layers
 * CaptureDecoder can produce), outer levels first, as a key path (`ipv6`, `inner.vxlan`); what
 * lies beyond it cannot be compared. Undefined when every layer tshark reported is one we decode.
 */
export function notYetDecoded(
  o: OracleLevel,
  L: OurLayers | undefined,
  decodable: ReadonlySet<string>,
  prefix = '',
): string | undefined {
  for (const t of levelKeys(o)) {
    const ourName = LAYER_OF[t];
    const mine = L?.[ourName];
    if (mine === undefined) {
      if (!decodable.has(ourName)) return prefix + t;
    } else if (t === 'inner' && o.inner !== undefined)
      return notYetDecoded(o.inner, mine as OurLayers, decodable, `${prefix}inner.`);
  }
  return undefined;
}

/**
 * Parts of a layer we decode whose fields tshark reported but we cannot show yet (a construct the
 * DSL does not have): `layer.field` → whether this frame has such a part left undecoded.
 */
export const PENDING_PARTS: Record<string, (ours: Json, theirs: Json) => boolean> = {};

/** The PENDING_PARTS of a frame's top level that are left undecoded. */
export function partsNotYetDecoded(o: OracleLevel, L: OurLayers): string[] {
  return Object.entries(PENDING_PARTS)
    .filter(([path, pending]) => {
      const t = path.split('.')[0];
      const mine = L[LAYER_OF[t]];
      const theirs = (o as Record<string, unknown>)[t];
      return mine !== undefined && theirs !== undefined && pending(mine, theirs as Json);
    })
    .map(([path]) => path);
}

/** Depth of a layer path (`ipv4`, `inner.udp`): tunnel levels first, then DEPTH within one. */
export function depthOf(path: string): number {
  const parts = path.split('.');
  const last = parts[parts.length - 1];
  return (parts.length - 1) * 10 + (DEPTH[LAYER_OF[last] ?? last] ?? DEPTH[last] ?? -1);
}
