/**
 * tshark-oracle.ts CAPTURE > NAME.jsonl
 *
 * Runs tshark (4.0) on a capture with per-frame-only settings and reduces its `-T json` output to
 * the oracle format of test/fixtures/oracle/ (one JSON object per frame; see
 * test/fixtures/PROVENANCE.md and ../shared/pcap/README.md): only the outermost Ethernet, ARP,
 * IPv4 and ICMP/UDP/TCP headers, DHCP/DNS directly on that transport, and tshark's verdicts
 * (checksum status, malformed, short, expert items).
 *
 * tshark's JSON repeats keys (one `tcp.options.nop` per NOP, in wire order), which JSON.parse
 * would collapse, so the output is read with a small order-preserving parser below.
 */
import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';

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
class Obj {
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
type Val = string | Obj | Val[];

function parseOrdered(text: string): Val {
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
  if (dns.has('Answers')) {
    const answers = dns.obj('Answers') ?? new Obj([]);
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

export function reduceFrame(layers: Obj): Out {
  const frame = layers.obj('frame');
  const protocols = frame?.str('frame.protocols') ?? '';
  const o: Out = {
    n: int(frame?.str('frame.number')),
    len: int(frame?.str('frame.len')),
    caplen: int(frame?.str('frame.cap_len')),
    protocols,
  };
  const chain = protocols.split(':');
  const eth = layers.obj('eth');
  if (eth !== undefined) o.eth = reduceEth(eth);
  const arp = layers.obj('arp');
  if (arp !== undefined && chain[chain.indexOf('eth') + 2] === 'arp') o.arp = reduceArp(arp);
  const ip = layers.obj('ip');
  const ipAt = chain.indexOf('ip');
  if (ip !== undefined && ipAt >= 0) {
    o.ip = reduceIp(ip);
    const transport = chain[ipAt + 1];
    if (transport === 'icmp' || transport === 'udp' || transport === 'tcp') {
      const t = layers.obj(transport);
      if (t !== undefined) {
        o[transport] =
          transport === 'icmp' ? reduceIcmp(t) : transport === 'udp' ? reduceUdp(t) : reduceTcp(t);
        const app = chain[ipAt + 2];
        if (transport !== 'icmp' && (app === 'dns' || app === 'dhcp')) {
          const a = layers.obj(app);
          if (a !== undefined) o[app] = app === 'dns' ? reduceDns(a) : reduceDhcp(a);
        }
      }
    }
  }
  o.malformed = layers.has('_ws.malformed');
  if (o.malformed === true) {
    const keys = layers.entries.map(([k]) => k);
    const before = keys[keys.indexOf('_ws.malformed') - 1];
    o.malformed_in = before;
  }
  o.short = layers.has('_ws.short');
  o.expert = experts(layers);
  return o;
}

function main(): void {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: tshark-oracle.ts CAPTURE > NAME.jsonl\n');
    process.exit(2);
  }
  const r = spawnSync('tshark', [...TSHARK_ARGS, '-r', file], {
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    process.stderr.write(`tshark failed on ${file}: ${r.stderr}\n`);
    process.exit(1);
  }
  const packets = parseOrdered(r.stdout);
  if (!Array.isArray(packets)) throw new Error('tshark output is not a JSON array');
  for (const p of packets) {
    const layers = p instanceof Obj ? p.obj('_source')?.obj('layers') : undefined;
    if (layers === undefined) throw new Error('tshark packet without _source.layers');
    writeSync(1, JSON.stringify(reduceFrame(layers)) + '\n');
  }
}

main();
