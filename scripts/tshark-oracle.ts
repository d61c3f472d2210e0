/**
 * tshark-oracle.ts CAPTURE > NAME.jsonl
 *
 * Runs tshark (4.0) on a capture with per-frame-only settings and reduces its `-T json` output to
 * the oracle format of test/fixtures/oracle/ and test/fixtures/next/oracle/ (one JSON object per
 * frame; described in /work/shared/pcap/README.md, "Oracle output format" and "Next protocol
 * families"): the frame's layers in wire order (Ethernet, VLAN tags, MPLS labels, ARP/LLDP,
 * IPv4/IPv6 with its extension headers, ICMP/ICMPv6/IGMP/UDP/TCP/GRE, DNS/DHCP/DHCPv6/VXLAN/
 * Geneve), what a tunnel carries nested under `inner`, and tshark's verdicts (checksum status,
 * malformed, short, expert items). test/golden/oracle-reducer.test.ts checks that it rewrites
 * every committed oracle file byte for byte.
 *
 * tshark's JSON repeats keys (one `tcp.options.nop` per NOP, in wire order), which JSON.parse
 * would collapse, so the output is read with a small order-preserving parser below.
 */
import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** tshark settings that make every reported field a fact about one frame alone. */
export const TSHARK_ARGS = [
  '-n',
  '-o',
  'tcp.relative_sequence_numbers:FALSE',
  '-o',
  'tcp.analyze_sequence_numbers:FALSE',
  '-o',
  'tcp.desegment_tcp_streams:FALSE',
  '-o',
  'ip.defragment:FALSE',
  // ip.tso_support keeps its default (TRUE): an IPv4 total length of 0 is read as the rest of the
  // frame, the way tshark shows captures taken before TCP segmentation offload.
  '-o',
  'dns.desegment_dns_messages:FALSE',
  '-o',
  'ip.check_checksum:TRUE',
  '-o',
  'tcp.check_checksum:TRUE',
  '-o',
  'udp.check_checksum:TRUE',
  '-o',
  'eth.fcs:never',
  '-o',
  'arp.detect_duplicate_ips:FALSE',
  '-o',
  'ipv6.defragment:FALSE',
  '-o',
  'ipv6.tso_support:FALSE',
  '-o',
  'ipv6.exthdr_under_root_protocol_tree:FALSE',
  // vendor Ethernet trailer / header heuristics that would eat trailing bytes
  ...[
    'vssmonitoring_eth',
    'ixiatrailer_eth',
    'gmtrailer_eth',
    'gmhdr_eth',
    'f5ethtrailer',
    'tte_eth',
    'fp_eth',
    'f5fileinfo',
  ].flatMap((h) => ['--disable-heuristic', h]),
  '-T',
  'json',
];

// ---- order-preserving JSON ------------------------------------------------------------------

/** A JSON object as its entries in document order (keys may repeat). */
export class Obj {
  constructor(readonly entries: Array<[string, Val]>) {}
  /** First value under `key`, flattening tshark's occasional arrays. */
  get(key: string): Val | undefined {
    for (const [k, v] of this.entries) if (k === key) return Array.isArray(v) ? v[0] : v;
    return undefined;
  }
  str(key: string): string | undefined {
    const v = this.get(key);
    return typeof v === 'string' ? v : undefined;
  }
  obj(key: string): Obj | undefined {
    const v = this.get(key);
    return v instanceof Obj ? v : undefined;
  }
  has(key: string): boolean {
    return this.entries.some(([k]) => k === key);
  }
}
export type Val = string | Obj | Val[];

export function parseOrdered(text: string): Val {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): Val => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: Array<[string, Val]> = [];
      ws();
      if (text[i] === '}') {
        i++;
        return new Obj(entries);
      }
      for (;;) {
        ws();
        const k = str();
        ws();
        i++; // ':'
        entries.push([k, value()]);
        ws();
        if (text[i++] === '}') return new Obj(entries);
      }
    }
    if (c === '[') {
      i++;
      const items: Val[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return items;
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i++] === ']') return items;
      }
    }
    if (c === '"') return str();
    // tshark writes every leaf as a string; keep a bare literal as text all the same
    const start = i;
    while (i < text.length && !',}] \t\r\n'.includes(text[i])) i++;
    return text.slice(start, i);
  };
  return value();
}

/** Every value under `key` anywhere below `v`, in document order. */
function findAll(v: Val, key: string, out: Val[] = []): Val[] {
  if (v instanceof Obj) {
    for (const [k, x] of v.entries) {
      if (k === key) {
        if (Array.isArray(x)) out.push(...x);
        else out.push(x);
      } else findAll(x, key, out);
    }
  } else if (Array.isArray(v)) for (const x of v) findAll(x, key, out);
  return out;
}
function findFirst(v: Val, key: string): string | undefined {
  const all = findAll(v, key);
  return typeof all[0] === 'string' ? all[0] : undefined;
}

// ---- value conversions ----------------------------------------------------------------------

function int(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return undefined;
  const n = s.startsWith('0x') ? parseInt(s.slice(2), 16) : Number(s);
  return Number.isFinite(n) ? n : undefined;
}
/** Number of bytes in tshark's colon-separated hex ("01:02:03" → 3). */
function hexLen(s: string | undefined): number {
  if (s === undefined || s === '') return 0;
  return s.split(':').length;
}
const CHECKSUM_STATUS = ['bad', 'good', 'unverified', 'not_present', 'illegal'];
/** tshark puts `<p>.checksum.status` beside the checksum, or inside its tree when it is 0. */
function checksumStatus(layer: Obj, key: string): string | undefined {
  const n = int(
    layer.str(key) ?? findFirst(layer.obj(key.replace('.status', '_tree')) ?? new Obj([]), key),
  );
  return n === undefined ? undefined : (CHECKSUM_STATUS[n] ?? String(n));
}

type Out = Record<string, unknown>;
/** Sets `out[key]` only when tshark decoded the field (a key is present only when decoded). */
function put(out: Out, key: string, v: unknown): void {
  if (v !== undefined) out[key] = v;
}

// ---- per-layer reducers -----------------------------------------------------------------------

function reduceEth(eth: Obj): Out {
  const o: Out = {};
  put(o, 'dst', eth.str('eth.dst'));
  put(o, 'src', eth.str('eth.src'));
  put(o, 'type', int(eth.str('eth.type')));
  put(o, 'len', int(eth.str('eth.len')));
  o.trailer_len = hexLen(eth.str('eth.padding')) + hexLen(eth.str('eth.trailer'));
  return o;
}

function reduceArp(arp: Obj): Out {
  const o: Out = {};
  put(o, 'htype', int(arp.str('arp.hw.type')));
  put(o, 'ptype', int(arp.str('arp.proto.type')));
  put(o, 'hlen', int(arp.str('arp.hw.size')));
  put(o, 'plen', int(arp.str('arp.proto.size')));
  put(o, 'op', int(arp.str('arp.opcode')));
  put(o, 'sha', arp.str('arp.src.hw_mac') ?? arp.str('arp.src.hw'));
  put(o, 'spa', arp.str('arp.src.proto_ipv4') ?? arp.str('arp.src.proto'));
  put(o, 'tha', arp.str('arp.dst.hw_mac') ?? arp.str('arp.dst.hw'));
  put(o, 'tpa', arp.str('arp.dst.proto_ipv4') ?? arp.str('arp.dst.proto'));
  return o;
}

function reduceIp(ip: Obj): Out {
  const o: Out = {};
  put(o, 'v', int(ip.str('ip.version')));
  put(o, 'hdr_len', int(ip.str('ip.hdr_len')));
  put(o, 'tos', int(ip.str('ip.dsfield') ?? ip.str('ip.tos')));
  put(o, 'len', int(ip.str('ip.len')));
  put(o, 'id', int(ip.str('ip.id')));
  put(o, 'flags', int(ip.str('ip.flags')));
  put(o, 'frag_off', int(ip.str('ip.frag_offset')));
  put(o, 'ttl', int(ip.str('ip.ttl')));
  put(o, 'proto', int(ip.str('ip.proto')));
  put(o, 'checksum', int(ip.str('ip.checksum')));
  put(o, 'checksum_status', checksumStatus(ip, 'ip.checksum.status'));
  put(o, 'src', ip.str('ip.src'));
  put(o, 'dst', ip.str('ip.dst'));
  const hdrLen = int(ip.str('ip.hdr_len'));
  if (hdrLen !== undefined && hdrLen > 20) {
    // option trees are children of the "Options: (N bytes), ..." subtree, one ip.opt.type each
    const types: number[] = [];
    for (const [k, v] of ip.entries) {
      if (k.startsWith('Options') && v instanceof Obj) {
        for (const [, opt] of v.entries) {
          if (!(opt instanceof Obj)) continue;
          const t = int(opt.str('ip.opt.type'));
          if (t !== undefined) types.push(t);
        }
      }
    }
    o.options = types;
  }
  return o;
}

function reduceIcmp(icmp: Obj): Out {
  const o: Out = {};
  put(o, 'type', int(icmp.str('icmp.type')));
  put(o, 'code', int(icmp.str('icmp.code')));
  put(o, 'checksum', int(icmp.str('icmp.checksum')));
  put(o, 'checksum_status', checksumStatus(icmp, 'icmp.checksum.status'));
  put(o, 'id', int(icmp.str('icmp.ident')));
  put(o, 'seq', int(icmp.str('icmp.seq')));
  const qip = icmp.obj('ip');
  if (qip !== undefined) {
    const quoted: Out = { ip: reduceIp(qip) };
    const qudp = icmp.obj('udp');
    const qtcp = icmp.obj('tcp');
    const qicmp = icmp.obj('icmp');
    if (qudp !== undefined) quoted.udp = reduceUdp(qudp);
    if (qtcp !== undefined) quoted.tcp = reduceTcp(qtcp);
    if (qicmp !== undefined) quoted.icmp = reduceIcmp(qicmp);
    o.quoted = quoted;
  }
  return o;
}

function reduceUdp(udp: Obj): Out {
  const o: Out = {};
  put(o, 'srcport', int(udp.str('udp.srcport')));
  put(o, 'dstport', int(udp.str('udp.dstport')));
  put(o, 'len', int(udp.str('udp.length')));
  put(o, 'checksum', int(udp.str('udp.checksum')));
  put(o, 'checksum_status', checksumStatus(udp, 'udp.checksum.status'));
  return o;
}

function reduceTcpOptions(tree: Obj): Out {
  const kinds: number[] = [];
  const o: Out = { kinds };
  for (const [k, v] of tree.entries) {
    // each option is a subtree holding its tcp.option_kind (`…_tree`, or e.g. `mptcp`)
    if (!(v instanceof Obj)) continue;
    void k;
    const kind = int(v.str('tcp.option_kind'));
    if (kind === undefined) continue;
    kinds.push(kind);
    if (kind === 2) put(o, 'mss', int(v.str('tcp.options.mss_val')));
    else if (kind === 3) put(o, 'wscale', int(v.str('tcp.options.wscale.shift')));
    else if (kind === 4) o.sack_perm = true;
    else if (kind === 5) {
      const lefts = findAll(v, 'tcp.options.sack_le');
      const rights = findAll(v, 'tcp.options.sack_re');
      const blocks = (o.sack as number[][] | undefined) ?? [];
      for (let i = 0; i < Math.min(lefts.length, rights.length); i++) {
        blocks.push([int(lefts[i] as string) ?? 0, int(rights[i] as string) ?? 0]);
      }
      o.sack = blocks;
    } else if (kind === 8) {
      put(o, 'tsval', int(v.str('tcp.options.timestamp.tsval')));
      put(o, 'tsecr', int(v.str('tcp.options.timestamp.tsecr')));
    }
    if (kind === 0) break;
  }
  // the shared oracle's key order, whatever the wire order
  const ordered: Out = {};
  for (const k of ['kinds', 'mss', 'wscale', 'sack_perm', 'sack', 'tsval', 'tsecr'])
    if (k in o) ordered[k] = o[k];
  return ordered;
}

function reduceTcp(tcp: Obj): Out {
  const o: Out = {};
  put(o, 'srcport', int(tcp.str('tcp.srcport')));
  put(o, 'dstport', int(tcp.str('tcp.dstport')));
  put(o, 'seq', int(tcp.str('tcp.seq_raw') ?? tcp.str('tcp.seq')));
  put(o, 'ack', int(tcp.str('tcp.ack_raw') ?? tcp.str('tcp.ack')));
  put(o, 'hdr_len', int(tcp.str('tcp.hdr_len')));
  put(o, 'flags', int(tcp.str('tcp.flags')));
  put(o, 'window', int(tcp.str('tcp.window_size_value')));
  put(o, 'checksum', int(tcp.str('tcp.checksum')));
  put(o, 'checksum_status', checksumStatus(tcp, 'tcp.checksum.status'));
  put(o, 'urg', int(tcp.str('tcp.urgent_pointer')));
  const tree = tcp.obj('tcp.options_tree');
  if (tree !== undefined) o.options = reduceTcpOptions(tree);
  put(o, 'payload_len', int(tcp.str('tcp.len')));
  return o;
}

function reduceDhcp(dhcp: Obj): Out {
  const o: Out = {};
  put(o, 'op', int(dhcp.str('dhcp.type')));
  put(o, 'htype', int(dhcp.str('dhcp.hw.type')));
  put(o, 'hlen', int(dhcp.str('dhcp.hw.len')));
  put(o, 'hops', int(dhcp.str('dhcp.hops')));
  put(o, 'xid', int(dhcp.str('dhcp.id')));
  put(o, 'secs', int(dhcp.str('dhcp.secs')));
  put(o, 'flags', int(dhcp.str('dhcp.flags')));
  put(o, 'ciaddr', dhcp.str('dhcp.ip.client'));
  put(o, 'yiaddr', dhcp.str('dhcp.ip.your'));
  put(o, 'siaddr', dhcp.str('dhcp.ip.server'));
  put(o, 'giaddr', dhcp.str('dhcp.ip.relay'));
  put(o, 'chaddr', dhcp.str('dhcp.hw.mac_addr') ?? dhcp.str('dhcp.hw.addr'));
  put(o, 'cookie', dhcp.str('dhcp.cookie'));
  put(o, 'msg_type', int(findFirst(dhcp, 'dhcp.option.dhcp')));
  // each option is a `dhcp.option.type` leaf followed by its `_tree`; tshark labels End's
  // type leaf 0 but puts `dhcp.option.end: 255` in its tree
  const codes: number[] = [];
  const entries = dhcp.entries;
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i];
    if (k !== 'dhcp.option.type' || typeof v !== 'string') continue;
    const next = entries[i + 1];
    const tree =
      next !== undefined && next[0] === 'dhcp.option.type_tree' && next[1] instanceof Obj
        ? next[1]
        : undefined;
    const end = tree?.str('dhcp.option.end');
    const code = end !== undefined ? int(end) : int(v);
    if (code !== undefined) codes.push(code);
  }
  if (codes.length > 0) o.options = codes;
  return o;
}

function dnsName(raw: string | undefined): { name: string | null; name_error?: string } {
  if (raw === undefined) return { name: null };
  if (raw === '<Root>') return { name: '' };
  const m = /^<(.*)>$/.exec(raw);
  if (m !== null) return { name: null, name_error: m[1] };
  return { name: raw };
}

function reduceDns(dns: Obj): Out {
  const o: Out = {};
  put(o, 'tcp_length', int(dns.str('dns.length')));
  put(o, 'id', int(dns.str('dns.id')));
  put(o, 'flags', int(dns.str('dns.flags')));
  put(o, 'qdcount', int(dns.str('dns.count.queries')));
  put(o, 'ancount', int(dns.str('dns.count.answers')));
  put(o, 'nscount', int(dns.str('dns.count.auth_rr')));
  put(o, 'arcount', int(dns.str('dns.count.add_rr')));
  // an empty section shows as `"Queries": ""` when tshark gave up inside it
  if (dns.has('Queries')) {
    const queries = dns.obj('Queries') ?? new Obj([]);
    o.questions = queries.entries
      .filter((e): e is [string, Obj] => e[1] instanceof Obj)
      .map(([, q]) => {
        const r: Out = { ...dnsName(q.str('dns.qry.name')) };
        put(r, 'type', int(q.str('dns.qry.type')));
        put(r, 'class', int(q.str('dns.qry.class')));
        return r;
      });
  }
  // ... while an answer section tshark could not start on is left out
  const answers = dns.obj('Answers');
  if (answers !== undefined) {
    o.answers = answers.entries
      .filter((e): e is [string, Obj] => e[1] instanceof Obj)
      .map(([, a]) => {
        // SRV owners (_service._proto.name) are shown split into three fields
        const service = a.str('dns.srv.service');
        const owner =
          a.str('dns.resp.name') ??
          (service !== undefined
            ? [service, a.str('dns.srv.proto'), a.str('dns.srv.name')]
                .filter((x) => x !== undefined && x !== '<Root>')
                .join('.')
            : undefined);
        const r: Out = { ...dnsName(owner) };
        put(r, 'type', int(a.str('dns.resp.type')));
        return r;
      });
  }
  return o;
}

// ---- frame ------------------------------------------------------------------------------------

const SEVERITY: Record<number, string> = {
  0x100000: 'comment',
  0x200000: 'chat',
  0x400000: 'note',
  0x600000: 'warn',
  0x800000: 'error',
};
const GROUP: Record<number, string> = {
  0x01000000: 'checksum',
  0x02000000: 'sequence',
  0x03000000: 'response_code',
  0x04000000: 'request_code',
  0x05000000: 'undecoded',
  0x06000000: 'reassemble',
  0x07000000: 'malformed',
  0x08000000: 'debug',
  0x09000000: 'protocol',
  0x0a000000: 'security',
  0x0b000000: 'comments',
  0x0c000000: 'decryption',
  0x0d000000: 'assumption',
  0x0e000000: 'deprecated',
  0x0f000000: 'receive',
  0x10000000: 'interface',
  0x11000000: 'dissector_bug',
};
/** Expert groups that describe a relation between frames, not this frame. */
const CROSS_FRAME_GROUPS = new Set(['sequence', 'reassemble']);
/** Expert items in other groups that still compare this frame with earlier ones. */
const CROSS_FRAME_IDS = new Set(['dns.retransmit_request', 'dns.retransmit_response']);

function experts(layers: Obj): Out[] {
  const out: Out[] = [];
  for (const [layer, v] of layers.entries) {
    for (const e of findAll(v, '_ws.expert')) {
      if (!(e instanceof Obj)) continue;
      const severity = SEVERITY[int(e.str('_ws.expert.severity')) ?? -1];
      const group = GROUP[int(e.str('_ws.expert.group')) ?? -1];
      if (severity !== 'warn' && severity !== 'error') continue;
      if (group !== undefined && CROSS_FRAME_GROUPS.has(group)) continue;
      const id = e.entries.find(([k]) => !k.startsWith('_ws.expert.'))?.[0];
      if (id !== undefined && CROSS_FRAME_IDS.has(id)) continue;
      out.push({ layer, id, severity, group, message: e.str('_ws.expert.message') });
    }
  }
  return out;
}

// ---- next protocol families (IPv6, ICMPv6, IGMP, tunnels, ...) -------------------------------

/** How a tshark field value becomes an oracle value. */
type Kind = 'int' | 'bytes' | 'str';

/** Colon-separated hex bytes as one big-endian integer ("00:0a" → 10). */
function bytesInt(s: string | undefined): number | undefined {
  if (s === undefined || s === '') return undefined;
  return parseInt(s.replaceAll(':', ''), 16);
}

function convert(kind: Kind, s: string): unknown {
  if (kind === 'str') return s;
  return kind === 'bytes' ? bytesInt(s) : int(s);
}

/**
 * Copies the leaves of `tree` (its direct entries, in document order) that `fields` names, as
 * tshark field name without `prefix` ('.' → '_'); `<prefix>checksum` brings its status along.
 * A field tshark repeats keeps its first value.
 */
function fieldsOf(tree: Obj, prefix: string, fields: Record<string, Kind>, o: Out = {}): Out {
  for (const [k, v] of tree.entries) {
    if (typeof v !== 'string' || !k.startsWith(prefix)) continue;
    const name = k.slice(prefix.length);
    const kind = fields[name];
    if (kind === undefined) continue;
    const key = name.replaceAll('.', '_');
    if (key in o) continue;
    put(o, key, convert(kind, v));
    if (name === 'checksum')
      put(o, 'checksum_status', checksumStatus(tree, `${prefix}checksum.status`));
  }
  return o;
}

/** Subtrees of `tree` under `key` (tshark names each list entry's tree alike), in order. */
function subtrees(tree: Obj, key: string): Obj[] {
  const out: Obj[] = [];
  for (const [k, v] of tree.entries) {
    if (k !== key) continue;
    for (const x of Array.isArray(v) ? v : [v]) if (x instanceof Obj) out.push(x);
  }
  return out;
}

function reduceVlan(vlan: Obj): Out {
  return fieldsOf(vlan, 'vlan.', {
    priority: 'int',
    dei: 'int',
    id: 'int',
    etype: 'int',
    len: 'int',
  });
}

/** An 802.1ad service tag: listed with the 802.1Q tags (tshark names its EtherType `ieee8021ah`). */
function reduceServiceTag(tag: Obj): Out {
  const o = fieldsOf(tag, 'ieee8021ad.', { priority: 'int', dei: 'int', id: 'int' });
  put(o, 'etype', int(tag.str('ieee8021ah.etype')));
  return o;
}

function reduceMpls(mpls: Obj): Out {
  return fieldsOf(mpls, 'mpls.', { label: 'int', exp: 'int', bottom: 'int', ttl: 'int' });
}

const IPV6_OPTIONS: Record<string, Kind> = { nxt: 'int', len: 'int' };
const IPV6_ROUTING: Record<string, Kind> = {
  nxt: 'int',
  len: 'int',
  type: 'int',
  segleft: 'int',
  'mipv6.home_address': 'str',
  'srh.last_entry': 'int',
  'srh.flags': 'int',
  'srh.tag': 'bytes',
};
const IPV6_FRAGMENT: Record<string, Kind> = {
  nxt: 'int',
  offset: 'int',
  more: 'int',
  ident: 'int',
};

/** One IPv6 extension header tree (`ipv6.hopopts`, ...) as an `ipv6.ext` entry. */
function reduceIpv6Ext(hdr: string, tree: Obj): Out {
  const prefix = `ipv6.${hdr}.`;
  if (hdr === 'fraghdr') return { hdr, ...fieldsOf(tree, prefix, IPV6_FRAGMENT) };
  if (hdr === 'routing') {
    const o: Out = { hdr, ...fieldsOf(tree, prefix, IPV6_ROUTING) };
    const src = findAll(tree, 'ipv6.routing.src.addr');
    if (src.length > 0) o.src_addr = src;
    const srh = findAll(tree, 'ipv6.routing.srh.addr');
    if (srh.length > 0) o.srh_addr = srh;
    return reorder(o, ['hdr', 'nxt', 'len', 'type', 'segleft', 'src_addr']);
  }
  const o: Out = { hdr, ...fieldsOf(tree, prefix, IPV6_OPTIONS) };
  const types: number[] = [];
  for (const opt of subtrees(tree, 'ipv6.opt')) {
    const t = int(opt.str('ipv6.opt.type'));
    if (t !== undefined) types.push(t);
    else if (opt.has('ipv6.opt.pad1')) types.push(0);
    put(o, 'opt_jumbo', int(opt.str('ipv6.opt.jumbo')));
  }
  o.opt_type = types;
  return reorder(o, ['hdr', 'nxt', 'len', 'opt_type']);
}

/** `o` with `first` keys first (in that order), then the rest as they were. */
function reorder(o: Out, first: string[]): Out {
  const out: Out = {};
  for (const k of first) if (k in o) out[k] = o[k];
  for (const k of Object.keys(o)) if (!(k in out)) out[k] = o[k];
  return out;
}

const IPV6_EXT_HEADERS = new Set(['hopopts', 'dstopts', 'routing', 'fraghdr']);

function reduceIpv6(ipv6: Obj): Out {
  const o = fieldsOf(ipv6, 'ipv6.', {
    version: 'int',
    tclass: 'int',
    flow: 'int',
    plen: 'int',
    nxt: 'int',
    hlim: 'int',
    src: 'str',
    dst: 'str',
  });
  const ext: Out[] = [];
  for (const [k, v] of ipv6.entries) {
    const hdr = k.slice('ipv6.'.length);
    if (k.startsWith('ipv6.') && IPV6_EXT_HEADERS.has(hdr) && v instanceof Obj)
      ext.push(reduceIpv6Ext(hdr, v));
  }
  if (ext.length > 0) o.ext = ext;
  return o;
}

const ICMPV6_FIELDS: Record<string, Kind> = {
  type: 'int',
  code: 'int',
  checksum: 'int',
  mtu: 'int',
  pointer: 'int',
  'echo.identifier': 'int',
  'echo.sequence_number': 'int',
  'nd.ra.cur_hop_limit': 'int',
  'nd.ra.flag': 'int',
  'nd.ra.router_lifetime': 'int',
  'nd.ra.reachable_time': 'int',
  'nd.ra.retrans_timer': 'int',
  'nd.ns.target_address': 'str',
  'nd.na.flag': 'int',
  'nd.na.target_address': 'str',
  'nd.rd.target_address': 'str',
  'rd.na.destination_address': 'str',
  'mld.maximum_response_delay': 'int',
  'mld.maximum_response_code': 'int',
  'mld.multicast_address': 'str',
  'mld.flag': 'int',
  'mld.qqi': 'int',
  'mld.nb_sources': 'int',
  'mldr.nb_mcast_records': 'int',
};
const ICMPV6_OPTION: Record<string, Kind> = {
  type: 'int',
  length: 'int',
  linkaddr: 'str',
  'prefix.length': 'int',
  'prefix.flag': 'int',
  'prefix.valid_lifetime': 'int',
  'prefix.preferred_lifetime': 'int',
  prefix: 'str',
  mtu: 'int',
};
const MLDV2_RECORD: Record<string, Kind> = {
  record_type: 'int',
  aux_data_len: 'int',
  nb_sources: 'int',
  multicast_address: 'str',
};

function reduceIcmpv6(icmp: Obj): Out {
  const o = fieldsOf(icmp, 'icmpv6.', ICMPV6_FIELDS);
  const records = subtrees(icmp, 'icmpv6.mldr.mar').map((r) =>
    fieldsOf(r, 'icmpv6.mldr.mar.', MLDV2_RECORD),
  );
  if (records.length > 0) o.mldr_mar = records;
  const opts = subtrees(icmp, 'icmpv6.opt').map((t) => fieldsOf(t, 'icmpv6.opt.', ICMPV6_OPTION));
  if (opts.length > 0) o.opt = opts;
  const quoted = reduceQuoted(icmp);
  if (quoted !== undefined) o.quoted = quoted;
  return o;
}

/** The datagram an ICMP(v6) error quotes: its network and transport headers. */
function reduceQuoted(icmp: Obj): Out | undefined {
  const q: Out = {};
  for (const [k, v] of icmp.entries) {
    if (!(v instanceof Obj) || k in q) continue;
    if (k === 'ip') q.ip = reduceIp(v);
    else if (k === 'ipv6') q.ipv6 = reduceIpv6(v);
    else if (k === 'udp') q.udp = reduceUdp(v);
    else if (k === 'tcp') q.tcp = reduceTcp(v);
    else if (k === 'icmp') q.icmp = reduceIcmp(v);
    else if (k === 'icmpv6') q.icmpv6 = reduceIcmpv6(v);
  }
  return Object.keys(q).length > 0 ? q : undefined;
}

const IGMP_FIELDS: Record<string, Kind> = {
  version: 'int',
  type: 'int',
  max_resp: 'int',
  checksum: 'int',
  maddr: 'str',
  s: 'int',
  qrv: 'int',
  qqic: 'int',
  num_src: 'int',
  num_grp_recs: 'int',
};
const IGMP_RECORD: Record<string, Kind> = {
  record_type: 'int',
  aux_data_len: 'int',
  num_src: 'int',
  maddr: 'str',
};

function reduceIgmp(igmp: Obj): Out {
  const o = fieldsOf(igmp, 'igmp.', IGMP_FIELDS);
  // group records are subtrees labelled "Group Record : ..."
  const records = igmp.entries
    .filter((e): e is [string, Obj] => e[1] instanceof Obj && e[1].has('igmp.record_type'))
    .map(([, r]) => fieldsOf(r, 'igmp.', IGMP_RECORD));
  if (records.length > 0) o.records = records;
  return o;
}

function reduceGre(gre: Obj): Out {
  return fieldsOf(gre, 'gre.', {
    flags_and_version: 'int',
    proto: 'int',
    checksum: 'int',
    offset: 'int',
    key: 'int',
    'key.payload_length': 'int',
    'key.call_id': 'int',
    sequence_number: 'int',
    ack_number: 'int',
  });
}

function reduceVxlan(vxlan: Obj): Out {
  return fieldsOf(vxlan, 'vxlan.', { flags: 'int', vni: 'int', next_proto: 'int' });
}

function reduceGeneve(geneve: Obj): Out {
  const o = fieldsOf(geneve, 'geneve.', {
    version: 'int',
    'option.length': 'int',
    flags: 'int',
    proto_type: 'int',
    vni: 'int',
  });
  const options = subtrees(geneve.obj('geneve.options_tree') ?? new Obj([]), 'geneve.option_tree');
  if (options.length > 0)
    o.option = options.map((t) =>
      fieldsOf(t, 'geneve.option.', { class: 'int', type: 'int', flags: 'int', length: 'int' }),
    );
  return o;
}

function reduceLldp(lldp: Obj): Out {
  const types: number[] = [];
  const lens: number[] = [];
  const o: Out = { tlv_type: types, tlv_len: lens };
  for (const [, tlv] of lldp.entries) {
    if (!(tlv instanceof Obj)) continue;
    const t = int(tlv.str('lldp.tlv.type'));
    const l = int(tlv.str('lldp.tlv.len'));
    if (t !== undefined) types.push(t);
    if (l !== undefined) lens.push(l);
    put(o, 'chassis_subtype', o.chassis_subtype ?? int(tlv.str('lldp.chassis.subtype')));
    put(o, 'port_subtype', o.port_subtype ?? int(tlv.str('lldp.port.subtype')));
    put(o, 'time_to_live', o.time_to_live ?? int(tlv.str('lldp.time_to_live')));
  }
  return o;
}

function reduceDhcpv6(dhcpv6: Obj): Out {
  const o = fieldsOf(dhcpv6, 'dhcpv6.', {
    msgtype: 'int',
    xid: 'int',
    hopcount: 'int',
    linkaddr: 'str',
    peeraddr: 'str',
  });
  const codes: number[] = [];
  for (const opt of subtrees(dhcpv6, 'dhcpv6.option.type_str_tree')) {
    const code = int(opt.str('dhcpv6.option.type'));
    if (code !== undefined) codes.push(code);
  }
  o.option_type = codes;
  return o;
}

// ---- frame ------------------------------------------------------------------------------------

/** Reported layers, by tshark layer name. */
const REDUCE: Record<string, (tree: Obj) => Out> = {
  eth: reduceEth,
  vlan: reduceVlan,
  ieee8021ad: reduceServiceTag,
  mpls: reduceMpls,
  arp: reduceArp,
  lldp: reduceLldp,
  ip: reduceIp,
  ipv6: reduceIpv6,
  icmp: reduceIcmp,
  icmpv6: reduceIcmpv6,
  igmp: reduceIgmp,
  udp: reduceUdp,
  tcp: reduceTcp,
  gre: reduceGre,
  dns: reduceDns,
  dhcp: reduceDhcp,
  dhcpv6: reduceDhcpv6,
  vxlan: reduceVxlan,
  geneve: reduceGeneve,
};
/** Layers kept as a list, one entry per header (VLAN tags, MPLS labels), under this key. */
const STACKED: Record<string, string> = { vlan: 'vlan', ieee8021ad: 'vlan', mpls: 'mpls' };
/** What each layer may follow within one level (undefined: the start of a level). */
const FOLLOWS: Record<string, Array<string | undefined>> = {
  eth: [undefined],
  ieee8021ad: ['eth'],
  vlan: ['eth', 'ieee8021ad', 'vlan'],
  mpls: [undefined, 'eth', 'vlan', 'mpls'],
  arp: [undefined, 'eth', 'vlan'],
  lldp: ['eth', 'vlan'],
  ip: [undefined, 'eth', 'vlan', 'mpls'],
  ipv6: [undefined, 'eth', 'vlan', 'mpls'],
  icmp: ['ip', 'ipv6'],
  icmpv6: ['ip', 'ipv6'],
  igmp: ['ip', 'ipv6'],
  udp: ['ip', 'ipv6'],
  tcp: ['ip', 'ipv6'],
  gre: ['ip', 'ipv6', 'udp'],
  dns: ['udp', 'tcp'],
  dhcp: ['udp', 'tcp'],
  dhcpv6: ['udp', 'tcp'],
  vxlan: ['udp'],
  geneve: ['udp'],
};
/** Tunnel headers: what follows them is the next level. */
const TUNNEL_HEADERS = new Set(['gre', 'vxlan', 'geneve']);
/** Tunnels without a header of their own: `layer` right after `prev` opens a level. */
function opensLevel(prev: string | undefined, layer: string): boolean {
  if (prev === 'ip' || prev === 'ipv6')
    return layer === 'ip' || layer === 'ipv6' || layer === 'eth';
  if (prev === 'udp') return layer === 'mpls';
  if (prev === 'mpls') return layer === 'eth';
  return false;
}

/**
 * The reported layers of a frame in wire order, what each tunnel carries nested under `inner`
 * (one level per tunnel, with the layers tshark passed through on the way in `via`). Walking
 * stops at the first layer that does not sit where this format reports it (DNS after an ICMP
 * error, anything behind an unreported application layer).
 */
function reduceLayers(layers: Obj, root: Out): void {
  let level = root;
  let prev: string | undefined = 'frame';
  let via: string[] | undefined;
  for (const [name, tree] of layers.entries) {
    if (name === 'frame' || name.startsWith('_ws.') || !(tree instanceof Obj)) continue;
    const reduce = REDUCE[name];
    if (reduce === undefined) {
      if (via === undefined) return;
      via.push(name);
      continue;
    }
    if (via !== undefined || opensLevel(prev, name)) {
      const inner: Out = via !== undefined && via.length > 0 ? { via } : {};
      level.inner = inner;
      level = inner;
      prev = undefined;
      via = undefined;
    }
    if (prev === 'frame') prev = undefined;
    if (!(FOLLOWS[name] ?? []).includes(prev) && !(name in STACKED && prev === name)) return;
    const o = reduce(tree);
    const list = STACKED[name];
    if (list !== undefined) ((level[list] as Out[] | undefined) ?? (level[list] = [])).push(o);
    else level[name] = o;
    if (list === 'vlan' && level.eth !== undefined) {
      // a tagged frame's padding (`eth.padding`) and trailer sit in its VLAN layer
      const eth = level.eth as Out;
      eth.trailer_len =
        (eth.trailer_len as number) +
        hexLen(tree.str('eth.padding')) +
        hexLen(tree.str(`${name}.trailer`));
    }
    prev = name;
    if (TUNNEL_HEADERS.has(name)) via = [];
  }
}

export function reduceFrame(layers: Obj): Out {
  const frame = layers.obj('frame');
  const protocols = frame?.str('frame.protocols') ?? '';
  const o: Out = {
    n: int(frame?.str('frame.number')),
    len: int(frame?.str('frame.len')),
    caplen: int(frame?.str('frame.cap_len')),
    protocols,
  };
  reduceLayers(layers, o);
  o.malformed = layers.has('_ws.malformed');
  // the innermost protocol tshark had entered (an IPv6 extension header counts as one)
  if (o.malformed === true) o.malformed_in = protocols.split(':').at(-1);
  o.short = layers.has('_ws.short');
  o.expert = experts(layers);
  return o;
}

/** tshark's `-T json` output for one capture, reduced to oracle lines (one JSON object each). */
export function reduceTsharkJson(json: string): string {
  const packets = parseOrdered(json);
  if (!Array.isArray(packets)) throw new Error('tshark output is not a JSON array');
  return packets
    .map((p) => {
      const layers = p instanceof Obj ? p.obj('_source')?.obj('layers') : undefined;
      if (layers === undefined) throw new Error('tshark packet without _source.layers');
      return JSON.stringify(reduceFrame(layers)) + '\n';
    })
    .join('');
}

/** Runs tshark with the oracle settings on a capture; its `-T json` output. */
export function runTshark(file: string): string {
  const r = spawnSync('tshark', [...TSHARK_ARGS, '-r', file], {
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`tshark failed on ${file}: ${r.stderr}`);
  return r.stdout;
}

function main(): void {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: tshark-oracle.ts CAPTURE > NAME.jsonl\n');
    process.exit(2);
  }
  writeSync(1, reduceTsharkJson(runTshark(file)));
}

// Run as a script (tshark-edns-oracle.ts imports the parser and settings).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  main();
