/**
 * Test doubles for the resolver: an in-memory UDP transport whose "network" is a function
 * answering queries, and a byte-level response builder written independently of the resolver's
 * own message code.
 */
import { parseIpv6 } from '../../../src/codec/address.js';
import type { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import type {
  DnsSocket,
  DnsSocketHandler,
  DnsTransport,
} from '../../../src/runtime/dns/resolver.js';

export const ip = (s: string): number => {
  const p = s.split('.').map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
};

export interface SentQuery {
  id: number;
  name: string;
  qtype: number;
  /** An IPv4 server as a number, an IPv6 one as its text. */
  server: number | string;
  /** The socket family the resolver opened for it. */
  family: 4 | 6;
  port: number;
  srcPort: number;
  at: number;
  bytes: Uint8Array;
}

/** What the network does with a query: answer (maybe several datagrams), refuse, or nothing. */
export type Reply =
  | { from?: number | string; fromPort?: number; bytes: Uint8Array; delayMs?: number }
  | { unreachable: true };

/** A sender as the transport reports it: IPv4 as a number, IPv6 as 16 bytes. */
const peer = (a: number | string): number | Uint8Array =>
  typeof a === 'number' ? a : (parseIpv6(a) as Uint8Array);

export class FakeNet implements DnsTransport {
  readonly sent: SentQuery[] = [];
  readonly open_ = new Map<number, DnsSocketHandler>();
  /** Ports refused by open() (to test port re-draws). */
  readonly busy = new Set<number>();
  serve: (q: SentQuery) => Reply[] = () => [];

  constructor(private readonly clock: VirtualClock) {}

  open(port: number, family: 4 | 6, handler: DnsSocketHandler): DnsSocket | null {
    if (this.busy.has(port) || this.open_.has(port)) return null;
    this.open_.set(port, handler);
    return {
      send: (bytes, server, dstPort) => {
        const q = parseQuery(bytes);
        const address = server.family === 4 ? server.v4 : server.text;
        const sent: SentQuery = {
          ...q,
          server: address,
          family,
          port: dstPort,
          srcPort: port,
          at: this.clock.now(),
          bytes,
        };
        this.sent.push(sent);
        for (const r of this.serve(sent)) {
          this.clock.setTimer('unreachable' in r ? 1 : (r.delayMs ?? 5), () => {
            const h = this.open_.get(port);
            if (h === undefined) return;
            if ('unreachable' in r) h.unreachable(peer(address), dstPort);
            else h.message(r.bytes, 0, r.bytes.length, peer(r.from ?? address), r.fromPort ?? 53);
          });
        }
      },
      close: () => {
        this.open_.delete(port);
      },
    };
  }
}

export function parseQuery(b: Uint8Array): { id: number; name: string; qtype: number } {
  const labels: string[] = [];
  let i = 12;
  while (b[i] !== 0) {
    labels.push(String.fromCharCode(...b.subarray(i + 1, i + 1 + b[i])));
    i += b[i] + 1;
  }
  return { id: (b[0] << 8) | b[1], name: labels.join('.'), qtype: (b[i + 1] << 8) | b[i + 2] };
}

export interface RR {
  name: string;
  type: 'A' | 'CNAME' | 'SOA' | 'AAAA' | 'TXT';
  ttl: number;
  /** A: dotted quad; CNAME: target; SOA: the MINIMUM value. */
  data: string | number;
  cls?: number;
}

export function encodeName(name: string): number[] {
  const out: number[] = [];
  for (const l of name.split('.').filter((x) => x.length > 0)) {
    out.push(l.length, ...Array.from(l, (c) => c.charCodeAt(0)));
  }
  out.push(0);
  return out;
}

const be16 = (v: number): number[] => [(v >>> 8) & 255, v & 255];
const be32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

export function encodeRR(rr: RR): number[] {
  let type: number;
  let rdata: number[];
  switch (rr.type) {
    case 'A':
      type = 1;
      rdata = be32(ip(String(rr.data)));
      break;
    case 'CNAME':
      type = 5;
      rdata = encodeName(String(rr.data));
      break;
    case 'SOA':
      type = 6;
      rdata = [
        ...encodeName('ns.test'),
        ...encodeName('admin.test'),
        ...be32(1),
        ...be32(3600),
        ...be32(600),
        ...be32(86400),
        ...be32(Number(rr.data)),
      ];
      break;
    case 'AAAA':
      type = 28;
      rdata = new Array<number>(16).fill(1);
      break;
    default:
      type = 16;
      rdata = [5, 104, 101, 108, 108, 111];
  }
  return [
    ...encodeName(rr.name),
    ...be16(type),
    ...be16(rr.cls ?? 1),
    ...be32(rr.ttl),
    ...be16(rdata.length),
    ...rdata,
  ];
}

export interface ResponseSpec {
  id: number;
  qname: string;
  qtype?: number;
  rcode?: number;
  tc?: boolean;
  answers?: RR[];
  authority?: RR[];
  /** Raw bytes appended after the question instead of encoded answers (hostile tests). */
  rawAnswers?: number[];
  ancount?: number;
}

export function buildResponse(s: ResponseSpec): Uint8Array {
  const answers = s.answers ?? [];
  const authority = s.authority ?? [];
  const flags = 0x8000 | 0x0100 | 0x0080 | (s.tc === true ? 0x0200 : 0) | (s.rcode ?? 0);
  const bytes = [
    ...be16(s.id),
    ...be16(flags),
    ...be16(1),
    ...be16(s.ancount ?? answers.length),
    ...be16(authority.length),
    ...be16(0),
    ...encodeName(s.qname),
    ...be16(s.qtype ?? 1),
    ...be16(1),
  ];
  if (s.rawAnswers !== undefined) bytes.push(...s.rawAnswers);
  for (const rr of answers) bytes.push(...encodeRR(rr));
  for (const rr of authority) bytes.push(...encodeRR(rr));
  return Uint8Array.from(bytes);
}

/** Answers `q` as a server holding `zone` (name → records); unknown names get NXDOMAIN+SOA. */
export function zoneServer(zone: Record<string, RR[]>, soaMinimum = 60) {
  return (q: SentQuery): Reply[] => {
    const records = zone[q.name.toLowerCase()];
    if (records === undefined) {
      return [
        {
          bytes: buildResponse({
            id: q.id,
            qname: q.name,
            qtype: q.qtype,
            rcode: 3,
            authority: [{ name: 'test', type: 'SOA', ttl: 300, data: soaMinimum }],
          }),
        },
      ];
    }
    return [
      { bytes: buildResponse({ id: q.id, qname: q.name, qtype: q.qtype, answers: records }) },
    ];
  };
}
