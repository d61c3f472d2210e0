/**
 * DHCP messages as the client sends and reads them (RFC 2131 §2, RFC 2132). The byte-level
 * reading and writing is confined to this file: the state machine in client.ts only sees the
 * plain `DhcpReply` record and the `DhcpRequestParams` it asks to have encoded.
 *
 * Parsing is bounded: every read is checked against the message length first, option lists are
 * walked with an explicit end, and anything malformed yields a reason string, never an exception.
 */

/** Message types (option 53). */
export const DhcpMessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;
export type DhcpMessageType = (typeof DhcpMessageType)[keyof typeof DhcpMessageType];

/** Option codes the client reads or writes. */
export const DhcpOption = {
  Pad: 0,
  SubnetMask: 1,
  Router: 3,
  DomainServer: 6,
  HostName: 12,
  DomainName: 15,
  BroadcastAddress: 28,
  RequestedAddress: 50,
  LeaseTime: 51,
  Overload: 52,
  MessageType: 53,
  ServerId: 54,
  ParameterRequestList: 55,
  Message: 56,
  MaxMessageSize: 57,
  RenewalTime: 58,
  RebindingTime: 59,
  ClientId: 61,
  End: 255,
} as const;

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** The broadcast bit in `flags` (RFC 2131 §4.1): asks servers to broadcast their replies. */
export const FLAG_BROADCAST = 0x8000;
const MAGIC_COOKIE = 0x63825363;
/** Offsets of the fixed BOOTP fields (RFC 2131 figure 1). */
const OFF_OP = 0;
const OFF_HTYPE = 1;
const OFF_HLEN = 2;
const OFF_XID = 4;
const OFF_SECS = 8;
const OFF_FLAGS = 10;
const OFF_CIADDR = 12;
const OFF_YIADDR = 16;
const OFF_SIADDR = 20;
const OFF_GIADDR = 24;
const OFF_CHADDR = 28;
const OFF_SNAME = 44;
const SNAME_LENGTH = 64;
const OFF_FILE = 108;
const FILE_LENGTH = 128;
const OFF_COOKIE = 236;
/** Where options start: after the fixed fields and the magic cookie. */
export const DHCP_OPTIONS_OFFSET = 240;
/** RFC 1542 §2.1: BOOTP relays may drop messages shorter than 300 bytes, so pad to that. */
export const DHCP_MIN_MESSAGE = 300;
/** Large enough for any request this client builds (fixed part + our options, all bounded). */
export const DHCP_MAX_REQUEST = 576;

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

function read32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function write32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function readMac(b: Uint8Array, o: number): number {
  return ((b[o] << 8) | b[o + 1]) * 2 ** 32 + read32(b, o + 2);
}

function writeMac(b: Uint8Array, o: number, mac: number): void {
  const hi = Math.floor(mac / 2 ** 32);
  b[o] = (hi >>> 8) & 0xff;
  b[o + 1] = hi & 0xff;
  write32(b, o + 2, mac % 2 ** 32);
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

function addressList(b: Uint8Array, o: number, n: number): number[] {
  const list: number[] = [];
  for (let i = 0; i + 4 <= n; i += 4) list.push(read32(b, o + i));
  return list;
}

/**
 * Applies one option to `reply`. Returns false when its length is wrong for its type: a server
 * that sends a 3-byte subnet mask is broken, and trusting the rest of its message would be unwise.
 */
function applyOption(reply: DhcpReply, code: number, b: Uint8Array, o: number, n: number): boolean {
  const one32 = n === 4;
  const list32 = n >= 4 && n % 4 === 0;
  switch (code) {
    case DhcpOption.MessageType:
      if (n !== 1) return false;
      if (reply.messageType === -1) reply.messageType = b[o];
      return true;
    case DhcpOption.ServerId:
      if (!one32) return false;
      if (reply.serverId === -1) reply.serverId = read32(b, o);
      return true;
    case DhcpOption.LeaseTime:
      if (!one32) return false;
      if (reply.leaseTime === -1) reply.leaseTime = read32(b, o);
      return true;
    case DhcpOption.RenewalTime:
      if (!one32) return false;
      if (reply.renewalTime === -1) reply.renewalTime = read32(b, o);
      return true;
    case DhcpOption.RebindingTime:
      if (!one32) return false;
      if (reply.rebindingTime === -1) reply.rebindingTime = read32(b, o);
      return true;
    case DhcpOption.SubnetMask:
      if (!one32) return false;
      if (reply.subnetMask === -1) reply.subnetMask = read32(b, o);
      return true;
    case DhcpOption.BroadcastAddress:
      if (!one32) return false;
      if (reply.broadcastAddress === -1) reply.broadcastAddress = read32(b, o);
      return true;
    case DhcpOption.Router:
      if (!list32) return false;
      if (reply.routers.length === 0) reply.routers = addressList(b, o, n);
      return true;
    case DhcpOption.DomainServer:
      if (!list32) return false;
      if (reply.dnsServers.length === 0) reply.dnsServers = addressList(b, o, n);
      return true;
    case DhcpOption.DomainName:
      if (n === 0) return false;
      if (reply.domainName === null) reply.domainName = asciiText(b, o, n);
      return true;
    case DhcpOption.Message:
      if (reply.message === null) reply.message = asciiText(b, o, n);
      return true;
    default:
      return true; // options we do not use are skipped, whatever their content
  }
}

/**
 * Walks one option area [start, end). Returns the overload value (option 52) when present, -1
 * when absent, or a failure. Pad (0) is one byte, End (255) stops the walk.
 */
function walkOptions(
  reply: DhcpReply,
  b: Uint8Array,
  start: number,
  end: number,
  allowOverload: boolean,
): number | DhcpParseFailure {
  let overload = -1;
  let i = start;
  while (i < end) {
    const code = b[i];
    if (code === DhcpOption.End) return overload;
    if (code === DhcpOption.Pad) {
      i++;
      continue;
    }
    if (i + 1 >= end) return 'malformed_options';
    const n = b[i + 1];
    const valueAt = i + 2;
    if (valueAt + n > end) return 'malformed_options';
    if (code === DhcpOption.Overload) {
      if (n !== 1 || !allowOverload) return 'bad_option_length';
      overload = b[valueAt];
    } else if (!applyOption(reply, code, b, valueAt, n)) {
      return 'bad_option_length';
    }
    i = valueAt + n;
  }
  return overload; // RFC 2131 requires an End option; tolerate its absence at the area's end
}

/** Reads a server reply, or says why it is not one. Never throws, never reads past `length`. */
export function parseDhcpReply(
  bytes: Uint8Array,
  offset = 0,
  length = bytes.length - offset,
): DhcpReply | DhcpParseFailure {
  if (length < DHCP_OPTIONS_OFFSET || offset + length > bytes.length) return 'truncated';
  const b =
    offset === 0 && length === bytes.length ? bytes : bytes.subarray(offset, offset + length);
  if (b[OFF_OP] !== BOOTREPLY) return 'not_reply';
  if (b[OFF_HTYPE] !== HTYPE_ETHERNET || b[OFF_HLEN] !== HLEN_ETHERNET) return 'bad_hardware_type';
  if (read32(b, OFF_COOKIE) !== MAGIC_COOKIE) return 'bad_cookie';
  const reply: DhcpReply = {
    messageType: -1,
    xid: read32(b, OFF_XID),
    chaddr: readMac(b, OFF_CHADDR),
    ciaddr: read32(b, OFF_CIADDR),
    yiaddr: read32(b, OFF_YIADDR),
    siaddr: read32(b, OFF_SIADDR),
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
  const overload = walkOptions(reply, b, DHCP_OPTIONS_OFFSET, b.length, true);
  if (typeof overload === 'string') return overload;
  // RFC 2131 §4.1: with option 52, `file` then `sname` carry more options.
  if (overload === 1 || overload === 3) {
    const r = walkOptions(reply, b, OFF_FILE, OFF_FILE + FILE_LENGTH, false);
    if (typeof r === 'string') return r;
  }
  if (overload === 2 || overload === 3) {
    const r = walkOptions(reply, b, OFF_SNAME, OFF_SNAME + SNAME_LENGTH, false);
    if (typeof r === 'string') return r;
  }
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

/** Longest text we put in one option (its length byte is 8 bits). */
const MAX_TEXT_OPTION = 255;

function putText(out: Uint8Array, i: number, code: number, text: string): number {
  const n = Math.min(text.length, MAX_TEXT_OPTION);
  out[i] = code;
  out[i + 1] = n;
  for (let k = 0; k < n; k++) out[i + 2 + k] = text.charCodeAt(k) & 0x7f;
  return i + 2 + n;
}

function putAddress(out: Uint8Array, i: number, code: number, address: number): number {
  out[i] = code;
  out[i + 1] = 4;
  write32(out, i + 2, address);
  return i + 6;
}

/** Bytes needed to encode `p` (so callers can size their buffer; at least 300). */
export function dhcpRequestLength(p: DhcpRequestParams): number {
  let n = DHCP_OPTIONS_OFFSET + 3; // message type
  if (p.requestedAddress !== undefined) n += 6;
  if (p.serverId !== undefined) n += 6;
  if (p.hostname !== undefined) n += 2 + Math.min(p.hostname.length, MAX_TEXT_OPTION);
  if (p.clientId !== undefined) n += 2 + Math.min(p.clientId.length, 255);
  if (p.parameterRequestList !== undefined) n += 2 + Math.min(p.parameterRequestList.length, 255);
  if (p.maxMessageSize !== undefined) n += 4;
  if (p.message !== undefined) n += 2 + Math.min(p.message.length, MAX_TEXT_OPTION);
  n += 1; // end
  return Math.max(n, DHCP_MIN_MESSAGE);
}

/** Encodes a client message into `out` at `offset`; returns its length. */
export function encodeDhcpRequest(p: DhcpRequestParams, out: Uint8Array, offset = 0): number {
  const total = dhcpRequestLength(p);
  if (offset + total > out.length) throw new RangeError('DHCP output buffer too small');
  const b = out.subarray(offset, offset + total);
  b.fill(0);
  b[OFF_OP] = BOOTREQUEST;
  b[OFF_HTYPE] = HTYPE_ETHERNET;
  b[OFF_HLEN] = HLEN_ETHERNET;
  write32(b, OFF_XID, p.xid);
  const secs = Math.min(Math.max(0, Math.floor(p.secs)), 0xffff);
  b[OFF_SECS] = secs >>> 8;
  b[OFF_SECS + 1] = secs & 0xff;
  if (p.broadcast) {
    b[OFF_FLAGS] = FLAG_BROADCAST >>> 8;
  }
  write32(b, OFF_CIADDR, p.ciaddr);
  write32(b, OFF_YIADDR, 0);
  write32(b, OFF_SIADDR, 0);
  write32(b, OFF_GIADDR, 0);
  writeMac(b, OFF_CHADDR, p.mac);
  write32(b, OFF_COOKIE, MAGIC_COOKIE);
  let i = DHCP_OPTIONS_OFFSET;
  b[i++] = DhcpOption.MessageType;
  b[i++] = 1;
  b[i++] = p.messageType;
  if (p.clientId !== undefined) {
    const n = Math.min(p.clientId.length, 255);
    b[i++] = DhcpOption.ClientId;
    b[i++] = n;
    b.set(p.clientId.subarray(0, n), i);
    i += n;
  }
  if (p.requestedAddress !== undefined)
    i = putAddress(b, i, DhcpOption.RequestedAddress, p.requestedAddress);
  if (p.serverId !== undefined) i = putAddress(b, i, DhcpOption.ServerId, p.serverId);
  if (p.maxMessageSize !== undefined) {
    const size = Math.min(Math.max(576, p.maxMessageSize), 0xffff);
    b[i++] = DhcpOption.MaxMessageSize;
    b[i++] = 2;
    b[i++] = size >>> 8;
    b[i++] = size & 0xff;
  }
  if (p.hostname !== undefined) i = putText(b, i, DhcpOption.HostName, p.hostname);
  if (p.parameterRequestList !== undefined) {
    const n = Math.min(p.parameterRequestList.length, 255);
    b[i++] = DhcpOption.ParameterRequestList;
    b[i++] = n;
    for (let k = 0; k < n; k++) b[i++] = p.parameterRequestList[k] & 0xff;
  }
  if (p.message !== undefined) i = putText(b, i, DhcpOption.Message, p.message);
  b[i] = DhcpOption.End;
  return total;
}
