/**
 * DHCP messages as the client sends and reads them (RFC 2131 §2, RFC 2132), on top of the
 * generated codec (`DhcpView`, its option cursor, `encodeDhcp`). The state machine in client.ts
 * only sees the plain `DhcpReply` record and the `DhcpRequestParams` it asks to have encoded.
 *
 * The view checks every bound up front (options, and `file`/`sname` when overloaded); on top
 * of that this module checks each option's length against its type, so anything malformed
 * yields a reason string, never an exception.
 */
import { dhcp } from '../../generated/index.js';
import { readIpv4, readMac, writeMac } from '../../codec/address.js';

export const DhcpMessageType = dhcp.DhcpMessageType;
export type DhcpMessageType = dhcp.DhcpMessageType;
export const DhcpOption = dhcp.DhcpOption;
/** Option 56 (RFC 2132 §9.9), the server's or client's explanation; not in the spec's enum. */
const OPTION_MESSAGE = 56;

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const BOOTREQUEST = dhcp.DhcpOp.BootRequest;
export const BOOTREPLY = dhcp.DhcpOp.BootReply;
/** The broadcast bit in `flags` (RFC 2131 §4.1): asks servers to broadcast their replies. */
export const FLAG_BROADCAST = dhcp.DhcpFlags.Broadcast;
const MAGIC_COOKIE = 0x63825363;
/** Where options start: after the fixed fields and the magic cookie. */
export const DHCP_OPTIONS_OFFSET = dhcp.DHCP_FIXED_SIZE;
/** RFC 1542 §2.1: BOOTP relays may drop messages shorter than 300 bytes, so pad to that. */
export const DHCP_MIN_MESSAGE = 300;

const HTYPE_ETHERNET = 1;
const HLEN_ETHERNET = 6;

/** Why a received message was not accepted as a DHCP reply; used as the drop counter's key. */
export type DhcpParseFailure =
  | 'truncated'
  | 'not_reply'
  | 'bad_hardware_type'
  | 'bad_cookie'
  | 'malformed_options'
  | 'bad_option_length'
  | 'no_message_type';

/** What the client needs from a server reply (OFFER, ACK or NAK). Absent numbers are -1. */
export interface DhcpReply {
  messageType: number;
  xid: number;
  /** Client hardware address as a 48-bit number. */
  chaddr: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  serverId: number;
  /** Seconds; 0xffffffff means infinite. */
  leaseTime: number;
  renewalTime: number;
  rebindingTime: number;
  subnetMask: number;
  broadcastAddress: number;
  routers: number[];
  dnsServers: number[];
  domainName: string | null;
  /** Option 56, the server's explanation (mostly on NAK). */
  message: string | null;
}

/** Reused across parses: one reply is handled at a time and nothing keeps a reference. */
const view = new dhcp.DhcpView();

function addressList(b: Uint8Array, o: number, n: number): number[] {
  const list: number[] = [];
  for (let i = 0; i + 4 <= n; i += 4) list.push(readIpv4(b, o + i));
  return list;
}

function asciiText(b: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = b[o + i];
    if (c === 0) break; // some servers NUL-terminate strings (RFC 2132 says they should not)
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Applies one option to `reply`. Returns false when its length is wrong for its type: a server
 * that sends a 3-byte subnet mask is broken, and trusting the rest of its message would be unwise.
 * The first occurrence of an option wins.
 */
function applyOption(reply: DhcpReply, code: number, b: Uint8Array, o: number, n: number): boolean {
  const one32 = n === 4;
  const list32 = n >= 4 && n % 4 === 0;
  switch (code) {
    case DhcpOption.MessageType:
      if (n !== 1) return false;
      if (reply.messageType === -1) reply.messageType = b[o];
      return true;
    case DhcpOption.ServerIdentifier:
      if (!one32) return false;
      if (reply.serverId === -1) reply.serverId = readIpv4(b, o);
      return true;
    case DhcpOption.LeaseTime:
      if (!one32) return false;
      if (reply.leaseTime === -1) reply.leaseTime = readIpv4(b, o);
      return true;
    case DhcpOption.RenewalTime:
      if (!one32) return false;
      if (reply.renewalTime === -1) reply.renewalTime = readIpv4(b, o);
      return true;
    case DhcpOption.RebindingTime:
      if (!one32) return false;
      if (reply.rebindingTime === -1) reply.rebindingTime = readIpv4(b, o);
      return true;
    case DhcpOption.SubnetMask:
      if (!one32) return false;
      if (reply.subnetMask === -1) reply.subnetMask = readIpv4(b, o);
      return true;
    case DhcpOption.BroadcastAddress:
      if (!one32) return false;
      if (reply.broadcastAddress === -1) reply.broadcastAddress = readIpv4(b, o);
      return true;
    case DhcpOption.Router:
      if (!list32) return false;
      if (reply.routers.length === 0) reply.routers = addressList(b, o, n);
      return true;
    case DhcpOption.DomainNameServer:
      if (!list32) return false;
      if (reply.dnsServers.length === 0) reply.dnsServers = addressList(b, o, n);
      return true;
    case DhcpOption.DomainName:
      if (n === 0) return false;
      if (reply.domainName === null) reply.domainName = asciiText(b, o, n);
      return true;
    case OPTION_MESSAGE:
      if (reply.message === null) reply.message = asciiText(b, o, n);
      return true;
    case DhcpOption.Overload:
      return n === 1;
    default:
      return true; // options we do not use are skipped, whatever their content
  }
}

/** Reads a server reply, or says why it is not one. Never throws, never reads past `length`. */
export function parseDhcpReply(
  bytes: Uint8Array,
  offset = 0,
  length = bytes.length - offset,
): DhcpReply | DhcpParseFailure {
  const v = view;
  const err = v.wrap(bytes, offset, length);
  if (err !== null) {
    if (err.code === 'E_TRUNCATED') return 'truncated';
    if (err.code === 'E_BAD_VALUE') return 'bad_cookie';
    return 'malformed_options';
  }
  if (v.op !== BOOTREPLY) return 'not_reply';
  if (v.htype !== HTYPE_ETHERNET || v.hlen !== HLEN_ETHERNET) return 'bad_hardware_type';
  const reply: DhcpReply = {
    messageType: -1,
    xid: v.xid,
    chaddr: readMac(bytes, v.chaddrOffset),
    ciaddr: v.ciaddr,
    yiaddr: v.yiaddr,
    siaddr: v.siaddr,
    serverId: -1,
    leaseTime: -1,
    renewalTime: -1,
    rebindingTime: -1,
    subnetMask: -1,
    broadcastAddress: -1,
    routers: [],
    dnsServers: [],
    domainName: null,
    message: null,
  };
  // The cursor walks the options area, then `file` and `sname` when option 52 says so.
  const opts = v.options();
  while (opts.next()) {
    const code = opts.code;
    if (code === DhcpOption.End) continue;
    if (!applyOption(reply, code, bytes, opts.valueOffset, opts.valueLength)) {
      return 'bad_option_length';
    }
  }
  if (opts.error !== null) return 'malformed_options';
  if (reply.messageType === -1) return 'no_message_type';
  return reply;
}

/** Everything a client message carries; options left undefined are omitted. */
export interface DhcpRequestParams {
  messageType: DhcpMessageType;
  xid: number;
  /** Seconds since the client began this acquisition or renewal. */
  secs: number;
  /** Ask the server to broadcast its reply (we cannot receive unicast before we have an address). */
  broadcast: boolean;
  ciaddr: number;
  mac: number;
  requestedAddress?: number;
  serverId?: number;
  hostname?: string;
  /** Option 61 bytes (type byte first). */
  clientId?: Uint8Array;
  parameterRequestList?: readonly number[];
  maxMessageSize?: number;
  /** Option 56 text, e.g. why we decline. */
  message?: string;
}

/** Longest value one option carries (its length byte is 8 bits). */
const MAX_OPTION_VALUE = 255;

/** Builds the options area: TLVs, End, then zero padding up to the 300-byte minimum. */
function buildOptions(p: DhcpRequestParams): Uint8Array {
  const list: number[] = [DhcpOption.MessageType, 1, p.messageType];
  const bytesOption = (code: number, value: ArrayLike<number>): void => {
    const n = Math.min(value.length, MAX_OPTION_VALUE);
    list.push(code, n);
    for (let k = 0; k < n; k++) list.push(value[k] & 0xff);
  };
  const addressOption = (code: number, a: number): void => {
    list.push(code, 4, a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff);
  };
  const text = (t: string): number[] => Array.from(t, (c) => c.charCodeAt(0) & 0x7f);
  if (p.clientId !== undefined) bytesOption(DhcpOption.ClientIdentifier, p.clientId);
  if (p.requestedAddress !== undefined)
    addressOption(DhcpOption.RequestedIpAddress, p.requestedAddress);
  if (p.serverId !== undefined) addressOption(DhcpOption.ServerIdentifier, p.serverId);
  if (p.maxMessageSize !== undefined) {
    const size = Math.min(Math.max(576, p.maxMessageSize), 0xffff);
    list.push(DhcpOption.MaxMessageSize, 2, size >>> 8, size & 0xff);
  }
  if (p.hostname !== undefined) bytesOption(DhcpOption.HostName, text(p.hostname));
  if (p.parameterRequestList !== undefined)
    bytesOption(DhcpOption.ParameterRequestList, p.parameterRequestList);
  if (p.message !== undefined) bytesOption(OPTION_MESSAGE, text(p.message));
  list.push(DhcpOption.End);
  const out = new Uint8Array(Math.max(list.length, DHCP_MIN_MESSAGE - DHCP_OPTIONS_OFFSET));
  out.set(list);
  return out;
}

const EMPTY = new Uint8Array(0);

/** Encodes a client message into a new buffer (DHCP is not a hot path). */
export function encodeDhcpRequest(p: DhcpRequestParams): Uint8Array {
  const chaddr = new Uint8Array(16);
  writeMac(chaddr, 0, p.mac);
  const options = buildOptions(p);
  const out = new Uint8Array(DHCP_OPTIONS_OFFSET + options.length);
  dhcp.encodeDhcp(
    {
      op: BOOTREQUEST,
      htype: HTYPE_ETHERNET,
      hlen: HLEN_ETHERNET,
      hops: 0,
      xid: p.xid >>> 0,
      secs: Math.min(Math.max(0, Math.floor(p.secs)), 0xffff),
      flags: p.broadcast ? FLAG_BROADCAST : 0,
      ciaddr: p.ciaddr >>> 0,
      yiaddr: 0,
      siaddr: 0,
      giaddr: 0,
      chaddr,
      sname: EMPTY,
      file: EMPTY,
      magic: MAGIC_COOKIE,
      options,
    },
    out,
    0,
  );
  return out;
}
