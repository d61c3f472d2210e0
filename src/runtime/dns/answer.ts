/**
 * What a parsed response says about the name we asked for: addresses (after following the
 * CNAME chain inside the response), a CNAME target still to be asked for, a negative answer
 * with its caching TTL (RFC 2308), or a server failure.
 */
import { DnsRcode, DnsType, type DnsResponse, type DnsValue } from './message.js';
import type { DnsErrorCode, DnsErrorReason } from './errors.js';

export type AnswerOutcome =
  /** The records asked for: addresses for A / AAAA, else node:dns's values (see DnsValue). */
  | { kind: 'addresses'; addresses: DnsValue[]; ttl: number; canonical: string }
  /** The chain ends at `target`, about which the response says nothing: ask for it next. */
  | { kind: 'follow'; target: string; ttl: number; names: string[] }
  /** NXDOMAIN or NODATA; `negativeTtl` is -1 when there was no SOA (then not cached). */
  | { kind: 'negative'; code: 'ENOTFOUND' | 'ENODATA'; negativeTtl: number }
  | { kind: 'failure'; code: DnsErrorCode; reason: DnsErrorReason };

/** Most CNAME hops followed for one lookup, across all the queries it takes. */
export const MAX_CNAME_CHAIN = 8;

/** RFC 2308 §5: the negative TTL is the smaller of the SOA record's TTL and its MINIMUM. */
function negativeTtl(r: DnsResponse): number {
  for (const rr of r.authority) {
    if (rr.type === DnsType.SOA) return Math.min(rr.ttl, rr.soaMinimum);
  }
  return -1;
}

/** The failure an rcode other than NOERROR/NXDOMAIN stands for. */
export function rcodeFailure(rcode: number): AnswerOutcome & { kind: 'failure' } {
  switch (rcode) {
    case DnsRcode.ServFail:
      return { kind: 'failure', code: 'ESERVFAIL', reason: 'servfail' };
    case DnsRcode.Refused:
      return { kind: 'failure', code: 'EREFUSED', reason: 'refused' };
    case DnsRcode.NotImp:
      return { kind: 'failure', code: 'ENOTIMP', reason: 'notimp' };
    case DnsRcode.FormErr:
      return { kind: 'failure', code: 'EFORMERR', reason: 'formerr' };
    default:
      return { kind: 'failure', code: 'EBADRESP', reason: 'rcode' };
  }
}

/**
 * Interprets `r`, the answer for `qname` of type `qtype` (A or AAAA): records of another type
 * do not answer it (an A record says nothing about AAAA: NODATA). `seen` holds the names already
 * visited on this lookup's chain (qname included); `hopsLeft` how many more CNAME hops are
 * allowed.
 */
export function interpretAnswer(
  r: DnsResponse,
  qname: string,
  qtype: number,
  seen: ReadonlySet<string>,
  hopsLeft: number,
): AnswerOutcome {
  if (r.rcode !== DnsRcode.NoError && r.rcode !== DnsRcode.NXDomain) return rcodeFailure(r.rcode);
  let current = qname;
  let ttl = Infinity;
  const names: string[] = [];
  const visited = new Set(seen);
  let hops = 0;
  while (true) {
    const addresses: DnsValue[] = [];
    let addressTtl = Infinity;
    for (const rr of r.answers) {
      if (rr.type === qtype && rr.name === current) {
        addresses.push(rr.value);
        addressTtl = Math.min(addressTtl, rr.ttl);
      }
    }
    if (addresses.length > 0) {
      return { kind: 'addresses', addresses, ttl: Math.min(ttl, addressTtl), canonical: current };
    }
    const cname = r.answers.find((rr) => rr.type === DnsType.CNAME && rr.name === current);
    if (cname === undefined) break;
    if (visited.has(cname.target))
      return { kind: 'failure', code: 'EBADRESP', reason: 'cname-loop' };
    if (++hops > hopsLeft)
      return { kind: 'failure', code: 'EBADRESP', reason: 'cname-chain-too-long' };
    visited.add(cname.target);
    names.push(cname.target);
    ttl = Math.min(ttl, cname.ttl);
    current = cname.target;
  }
  // No address for `current`. NXDOMAIN (about the chain's last name) or NODATA with an SOA is
  // a final negative answer; a chain that just stops needs one more query for its target.
  if (r.rcode === DnsRcode.NXDomain) {
    return { kind: 'negative', code: 'ENOTFOUND', negativeTtl: negativeTtl(r) };
  }
  const soaTtl = negativeTtl(r);
  if (current !== qname && soaTtl === -1) {
    return { kind: 'follow', target: current, ttl, names };
  }
  return { kind: 'negative', code: 'ENODATA', negativeTtl: Math.min(soaTtl, ttl) };
}
