/**
 * DNS record data in `pktstack decode --json`: each answer's RDATA read with the record data
 * message its type selects (DnsRecord's `rdata ... select type` in specs/dns.pkt; its names'
 * compression pointers resolve from the DNS message start). Data that is not exactly one such
 * message is left out (the record still shows its type and rdlength).
 */
import { dns } from '../generated/index.js';

const rdata = new dns.DnsRecordRdataLayouts();

/** The record's data as its type's message shows it, or null (no such message, or it does not fit). */
export function rdataJSON(rr: dns.DnsRecordView): object | null {
  return rdata.wrap(rr) === null ? rdata.toJSON() : null;
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
