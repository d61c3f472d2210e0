/**
 * DNS record data in `pktstack decode --json`: each answer's RDATA read with the record data
 * message its type names (specs/dns.pkt), wrapped with the DNS message start as origin so the
 * names' compression pointers resolve. Data that is not exactly one such message is left out
 * (the record still shows its type and rdlength).
 */
import type { DecodeError } from '../codec/errors.js';
import { dns } from '../generated/index.js';

interface RdataView {
  wrap(bytes: Uint8Array, offset: number, length: number, origin?: number): DecodeError | null;
  messageLength: number;
  toJSON(): object;
}

const target = new dns.DnsTargetView();
/** The record data view of each type that has one (NS, CNAME and PTR share one layout). */
const BY_TYPE = new Map<number, RdataView>([
  [dns.DnsType.A, new dns.DnsAView()],
  [dns.DnsType.AAAA, new dns.DnsAaaaView()],
  [dns.DnsType.NS, target],
  [dns.DnsType.CNAME, target],
  [dns.DnsType.PTR, target],
  [dns.DnsType.MX, new dns.DnsMxView()],
  [dns.DnsType.SOA, new dns.DnsSoaView()],
  [dns.DnsType.SRV, new dns.DnsSrvView()],
  [dns.DnsType.TXT, new dns.DnsTxtView()],
  [dns.DnsType.NAPTR, new dns.DnsNaptrView()],
]);

/** The record's data as its type's message shows it, or null (no such message, or it does not fit). */
export function rdataJSON(rr: dns.DnsRecordView): object | null {
  const v = BY_TYPE.get(rr.type);
  if (v === undefined) return null;
  if (v.wrap(rr.bytes, rr.rdataOffset, rr.rdataLength, rr.nameOrigin) !== null) return null;
  return v.messageLength === rr.rdataLength ? v.toJSON() : null;
}

/** The answer section, each record with its decoded `data` where its type has a message. */
export function answersJSON(view: dns.DnsView): object[] {
  const out: object[] = [];
  const c = view.answers();
  while (c.next()) {
    const data = rdataJSON(c.item);
    out.push(data === null ? c.item.toJSON() : { ...c.item.toJSON(), data });
  }
  return out;
}
