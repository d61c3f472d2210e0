/**
 * DHCP messages as the client sends and reads them (RFC 2131 §2, RFC 2132), on top of the
 * generated codec (`DhcpView`, the `DhcpOptions` list declared in specs/dhcp.pkt, `encodeDhcp`,
 * `encodeDhcpOptions`). The state machine in client.ts only sees the plain `DhcpReply` record
 * and the `DhcpRequestParams` it asks to have encoded.
 *
 * The view checks every bound up front (options, and `file`/`sname` when overloaded) and every
 * declared option's length against its type, and records the values a client reads (message
 * type, server id, times, addresses) while doing so; anything malformed yields a reason string,
 * never an exception.
 */
import { arp, dhcp, udp } from '../../generated/index.js';

export const DhcpMessageType = dhcp.DhcpMessageType;
export type DhcpMessageType = dhcp.DhcpMessageType;
export const DhcpOption = dhcp.DhcpOption;

export const DHCP_SERVER_PORT = udp.UdpPort.DHCPServer;
export const DHCP_CLIENT_PORT = udp.UdpPort.DHCPClient;
export const BOOTREQUEST = dhcp.DhcpOp.BootRequest;
export const BOOTREPLY = dhcp.DhcpOp.BootReply;
/** The broadcast bit in `flags` (RFC 2131 §4.1): asks servers to broadcast their replies. */
export const FLAG_BROADCAST = dhcp.DhcpFlags.Broadcast;
/** Where options start: after the fixed fields and the magic cookie. */
export const DHCP_OPTIONS_OFFSET = dhcp.DHCP_FIXED_SIZE;
/** RFC 1542 §2.1: BOOTP relays may drop messages shorter than 300 bytes, so pad to that. */
export const DHCP_MIN_MESSAGE = 300;

/** The hardware type DHCP shares with ARP (RFC 1700): `htype`, and option 61's type byte. */
export const HTYPE_ETHERNET = arp.ArpHardware.Ethernet;
/** `hlen` of an Ethernet client: a MAC's 6 bytes. */
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
const chaddrView = new dhcp.DhcpEthernetChaddrView();
/** Delimits the one option wrap() refused, to tell a bad length from a list that runs off. */
const probe = new dhcp.DhcpOptionsCursor('dhcp', 'options');

function asciiText(b: Uint8Array, o: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const c = b[o + i];
    if (c === 0) break; // some servers NUL-terminate strings (RFC 2132 says they should not)
    s += String.fromCharCode(c);
  }
  return s;
}

/** The recorded items of an address-list summary as numbers. */
function addresses(items: Uint32Array, count: number): number[] {
  return Array.from(items.subarray(0, count));
}

/**
 * Why wrap() refused the options: an option that runs past its area is a malformed list; one
 * that is delimited but whose length is wrong for its type (a 3-byte subnet mask) comes from a
 * broken server, and trusting the rest of its message would be unwise. (Overloaded `file` and
 * `sname` areas are not told apart: any failure there is a malformed list.)
 */
function optionFailure(
  bytes: Uint8Array,
  err: { field: string; offset: number },
  end: number,
): DhcpParseFailure {
  if (err.field !== 'options') return 'malformed_options';
  const c = probe.reset(bytes, err.offset, end - err.offset, 1);
  return c.next() ? 'bad_option_length' : 'malformed_options';
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
    return optionFailure(bytes, err, offset + length);
  }
  if (v.op !== BOOTREPLY) return 'not_reply';
  if (v.htype !== HTYPE_ETHERNET || v.hlen !== HLEN_ETHERNET) return 'bad_hardware_type';
  if (v.messageType < 0) return 'no_message_type';
  chaddrView.wrap(bytes, v.chaddrOffset, v.chaddrLength);
  const reply: DhcpReply = {
    messageType: v.messageType,
    xid: v.xid,
    chaddr: chaddrView.mac,
    ciaddr: v.ciaddr,
    yiaddr: v.yiaddr,
    siaddr: v.siaddr,
    serverId: v.serverId,
    leaseTime: v.leaseTime,
    renewalTime: v.renewalTime,
    rebindingTime: v.rebindingTime,
    subnetMask: v.subnetMask,
    broadcastAddress: v.broadcastAddress,
    routers: addresses(v.routers, v.routersCount),
    dnsServers: addresses(v.dnsServers, v.dnsServersCount),
    domainName: null,
    message: null,
  };
  // The texts are no summaries: the cursor walks the options area, then `file` and `sname`
  // when option 52 says so. The first occurrence wins.
  const opts = v.options();
  while (opts.next()) {
    if (opts.kind === DhcpOption.DomainName && reply.domainName === null) {
      const d = opts.domainName;
      if (d.nameLength === 0) return 'bad_option_length';
      reply.domainName = asciiText(bytes, d.nameOffset, d.nameLength);
    } else if (opts.kind === DhcpOption.Message && reply.message === null) {
      const m = opts.message;
      reply.message = asciiText(bytes, m.textOffset, m.textLength);
    }
  }
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
  /** Option 61: a type (a hardware type, or 0) and the identifier. */
  clientId?: { type: number; id: Uint8Array };
  parameterRequestList?: readonly number[];
  maxMessageSize?: number;
  /** Option 56 text, e.g. why we decline. */
  message?: string;
}

/** Longest value one option carries (its length byte is 8 bits). */
const MAX_OPTION_VALUE = 255;

function text(t: string): Uint8Array {
  return Uint8Array.from(t.slice(0, MAX_OPTION_VALUE), (c) => c.charCodeAt(0) & 0x7f);
}

/** Builds the options area: the options, End, then zero padding up to the 300-byte minimum. */
function buildOptions(p: DhcpRequestParams): Uint8Array {
  const items: dhcp.DhcpOptionsItem[] = [{ kind: 'MessageType', type: p.messageType }];
  if (p.clientId !== undefined)
    items.push({
      kind: 'ClientIdentifier',
      type: p.clientId.type,
      id: p.clientId.id.subarray(0, MAX_OPTION_VALUE - 1),
    });
  if (p.requestedAddress !== undefined)
    items.push({ kind: 'RequestedIpAddress', address: p.requestedAddress });
  if (p.serverId !== undefined) items.push({ kind: 'ServerIdentifier', address: p.serverId });
  if (p.maxMessageSize !== undefined)
    items.push({ kind: 'MaxMessageSize', size: Math.min(Math.max(576, p.maxMessageSize), 0xffff) });
  if (p.hostname !== undefined) items.push({ kind: 'HostName', name: text(p.hostname) });
  if (p.parameterRequestList !== undefined)
    items.push({
      kind: 'ParameterRequestList',
      codes: Uint8Array.from(p.parameterRequestList.slice(0, MAX_OPTION_VALUE)),
    });
  if (p.message !== undefined) items.push({ kind: 'Message', text: text(p.message) });
  items.push({ kind: 'End' });
  // Each option is at most 2 + 255 bytes.
  const scratch = new Uint8Array(items.length * (2 + MAX_OPTION_VALUE));
  const n = dhcp.encodeDhcpOptions(items, scratch, 0);
  return scratch.slice(0, Math.max(n, DHCP_MIN_MESSAGE - DHCP_OPTIONS_OFFSET));
}

const EMPTY = new Uint8Array(0);

/** Option 61 for an Ethernet client: hardware type 1, then its MAC (RFC 2132 §9.14). */
export function ethernetClientId(mac: number): { type: number; id: Uint8Array } {
  const chaddr = new Uint8Array(dhcp.DHCPETHERNETCHADDR_FIXED_SIZE);
  dhcp.encodeDhcpEthernetChaddr({ mac, padding: EMPTY }, chaddr, 0);
  return { type: HTYPE_ETHERNET, id: chaddr.subarray(0, HLEN_ETHERNET) };
}

/** Encodes a client message into a new buffer (DHCP is not a hot path). */
export function encodeDhcpRequest(p: DhcpRequestParams): Uint8Array {
  const chaddr = new Uint8Array(dhcp.DHCPETHERNETCHADDR_FIXED_SIZE);
  dhcp.encodeDhcpEthernetChaddr({ mac: p.mac, padding: EMPTY }, chaddr, 0);
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
      options,
    },
    out,
    0,
  );
  return out;
}
