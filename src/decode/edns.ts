/**
 * EDNS(0) in `pktstack decode`: the OPT pseudo-record of a DNS message (RFC 6891) and its options,
 * read with the views of specs/edns.pkt. The DNS view's additional section finds the record
 * (a `DnsRecord`); its fields from the type on are an `EdnsOpt`, its RDATA a sequence of `EdnsOption`s,
 * and the client subnet (RFC 7871) and cookie (RFC 7873) options' data are read with their own
 * views. Other options are shown as code, length and raw bytes (colon hex, as tshark does).
 */
import { formatHexColon, formatIpv4, formatIpv6, readIpv4 } from '../codec/address.js';
import { dns, edns } from '../generated/index.js';

export interface EdnsOptionJSON {
  code: number;
  length: number;
  /** The option's data as colon hex. */
  data: string;
  /** Client subnet: address family, source and scope prefix lengths, the address (padded). */
  family?: number;
  sourcePrefix?: number;
  scopePrefix?: number;
  address?: string;
  /** Cookie: the client cookie and the server cookie ("" when there is none). */
  client?: string;
  server?: string;
  /** The option's data does not fit the layout its code names (shown as raw data only). */
  malformed?: true;
}

export interface EdnsJSON {
  udpPayloadSize: number;
  /** The upper 8 bits of the 12-bit extended rcode (the header holds the lower 4). */
  extendedRcode: number;
  version: number;
  dnssecOk: number;
  z: number;
  /** The whole 12-bit rcode: extendedRcode << 4 | the header's rcode. */
  rcode: number;
  options: EdnsOptionJSON[];
}

const opt = new edns.EdnsOptView();
const option = new edns.EdnsOptionView();
const subnet = new edns.EdnsClientSubnetView();
const cookie = new edns.EdnsCookieView();
/** Bytes of the record after its owner name, up to its RDATA: type, class, TTL, RDATA length. */
const RR_FIXED = edns.EDNSOPT_FIXED_SIZE;
/** An address of the family's full width, the subnet option's prefix bytes copied in. */
const address4 = new Uint8Array(4);
const address16 = new Uint8Array(16);

/**
 * The OPT record of the DNS message `view` holds (the first one, as RFC 6891 §6.1.1 allows one), or
 * null when it has none or its fixed part does not decode.
 */
export function ednsOf(view: dns.DnsView): EdnsJSON | null {
  const c = view.additional();
  while (c.next()) {
    const r = c.item;
    if (r.type !== dns.DnsType.OPT) continue;
    const b = r.bytes;
    if (opt.wrap(b, r.typeOffset, RR_FIXED + r.rdataLength) !== null) return null;
    const out: EdnsJSON = {
      ...opt.toJSON(),
      rcode: (opt.extendedRcode << 4) | view.rcode,
      options: [],
    };
    let at = opt.optionsOffset;
    const end = at + opt.optionsLength;
    while (at < end) {
      if (option.wrap(b, at, end - at) !== null) {
        // An option running past the RDATA: what is left, raw.
        out.options.push({
          code: -1,
          length: end - at,
          data: formatHexColon(b, at, end - at),
          malformed: true,
        });
        break;
      }
      out.options.push(optionJSON(b));
      at += option.messageLength;
    }
    return out;
  }
  return null;
}

function optionJSON(b: Uint8Array): EdnsOptionJSON {
  const at = option.dataOffset;
  const len = option.dataLength;
  const o: EdnsOptionJSON = { ...option.toJSON(), data: formatHexColon(b, at, len) };
  if (option.code === edns.EdnsOptionCode.ClientSubnet) {
    if (subnet.wrap(b, at, len) !== null) o.malformed = true;
    else Object.assign(o, subnet.toJSON(), { address: subnetAddress(b) });
  } else if (option.code === edns.EdnsOptionCode.Cookie) {
    if (cookie.wrap(b, at, len) !== null) o.malformed = true;
    else {
      o.client = formatHexColon(b, cookie.clientOffset, cookie.clientLength);
      o.server = formatHexColon(b, cookie.serverOffset, cookie.serverLength);
    }
  }
  return o;
}

/** The subnet's address at its family's width (the prefix bytes, then zeros), or colon hex. */
function subnetAddress(b: Uint8Array): string {
  const n = subnet.addressLength;
  const from = b.subarray(subnet.addressOffset, subnet.addressOffset + n);
  if (subnet.family === edns.EdnsAddressFamily.IPv4 && n <= 4) {
    address4.fill(0).set(from);
    return formatIpv4(readIpv4(address4, 0));
  }
  if (subnet.family === edns.EdnsAddressFamily.IPv6 && n <= 16) {
    address16.fill(0).set(from);
    return formatIpv6(address16, 0);
  }
  return formatHexColon(b, subnet.addressOffset, n);
}
