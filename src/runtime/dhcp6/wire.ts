/**
 * DHCPv6 messages as the client sends and reads them (RFC 8415 §8, §21), on top of the
 * generated codec of specs/dhcpv6.pkt (`Dhcpv6View`, the `Dhcpv6Options` list, the DUID bodies
 * and the domain list). The state machine in client.ts only sees the plain `Dhcp6ServerMessage`
 * record and the `Dhcp6ClientMessage` it asks to have encoded.
 *
 * The view checks every option's bounds and every declared option's length up front, nested
 * ones included; what is malformed (or hostile) yields a reason string, never an exception.
 */
import { arp, dhcpv6, udp } from '../../generated/index.js';
import { copyIpv6 } from '../../codec/address.js';
import { ipv6Text, isLinkLocal, isLoopback, isMulticast, isUnspecified } from '../ipv6/address.js';

export const Dhcp6MessageType = dhcpv6.Dhcpv6MessageType;
export const Dhcp6OptionCode = dhcpv6.Dhcpv6OptionCode;
export const Dhcp6StatusCode = dhcpv6.Dhcpv6StatusCode;
export const Dhcp6DuidType = dhcpv6.Dhcpv6DuidType;
export const DHCP6_CLIENT_PORT = udp.UdpPort.DHCPv6Client;
export const DHCP6_SERVER_PORT = udp.UdpPort.DHCPv6Server;
/** The hardware type of a DUID-LL/LLT made from an Ethernet MAC (ARP's, RFC 826). */
export const DUID_HARDWARE_ETHERNET = arp.ArpHardware.Ethernet;
/** Lifetimes and times in options: 0xffffffff seconds is infinity (RFC 8415 §7.7). */
export const INFINITY_SECONDS = 0xffffffff;
/** DUID-LLT's time counts from midnight UTC, 1 January 2000 (RFC 8415 §11.2). */
export const DUID_TIME_EPOCH_MS = Date.UTC(2000, 0, 1);

/** A DUID: its type and the identifier after it (RFC 8415 §11). */
export interface Dhcp6Duid {
  type: number;
  id: Uint8Array;
}

/** DUID-LL (type 3) from a MAC: stable for the interface, needs no storage. */
export function duidLl(mac: number): Dhcp6Duid {
  const id = new Uint8Array(dhcpv6.DHCPV6DUIDLL_FIXED_SIZE);
  dhcpv6.encodeDhcpv6DuidLl({ hardwareType: DUID_HARDWARE_ETHERNET, linkLayerAddress: mac }, id, 0);
  return { type: Dhcp6DuidType.Ll, id };
}

/** DUID-LLT (type 1) from a MAC and the time it was made (seconds since 2000, mod 2^32). */
export function duidLlt(mac: number, time: number): Dhcp6Duid {
  const id = new Uint8Array(dhcpv6.DHCPV6DUIDLLT_FIXED_SIZE);
  dhcpv6.encodeDhcpv6DuidLlt(
    { hardwareType: DUID_HARDWARE_ETHERNET, time: time >>> 0, linkLayerAddress: mac },
    id,
    0,
  );
  return { type: Dhcp6DuidType.Llt, id };
}

export function duidEquals(a: Dhcp6Duid, b: Dhcp6Duid): boolean {
  if (a.type !== b.type || a.id.length !== b.id.length) return false;
  for (let i = 0; i < a.id.length; i++) if (a.id[i] !== b.id[i]) return false;
  return true;
}

/** RFC 8415 §11.1: a DUID is at most 128 bytes after its type. */
export const MAX_DUID_LENGTH = 128;

/** The IAID of our one IA_NA: the low 32 bits of the MAC (stable per interface, §12). */
export function iaidFromMac(mac: number): number {
  return (mac % 2 ** 32) >>> 0;
}

/** Why a datagram was not taken as a server message; used as the drop counter's key. */
export type Dhcp6ParseFailure =
  'truncated' | 'malformed_options' | 'relay_message' | 'bad_domain_list' | 'bad_duid';

export interface Dhcp6OfferedAddress {
  address: Uint8Array;
  /** Seconds; 0xffffffff is infinite. */
  preferredLifetime: number;
  validLifetime: number;
}

/** Our IA_NA as a server returned it. */
export interface Dhcp6IaReply {
  iaid: number;
  t1: number;
  t2: number;
  addresses: Dhcp6OfferedAddress[];
  /** The IA's Status Code (Success when absent). */
  status: number;
  statusMessage: string | null;
  /** IA Address options left out: unusable address, preferred > valid lifetime (§21.6). */
  ignoredAddresses: number;
}

/** What the client needs from an Advertise or Reply. Absent numbers are -1. */
export interface Dhcp6ServerMessage {
  msgType: number;
  transactionId: number;
  serverId: Dhcp6Duid | null;
  clientId: Dhcp6Duid | null;
  /** Preference option (0 when absent, §18.2.1). */
  preference: number;
  /** The message's own Status Code (Success when absent). */
  status: number;
  statusMessage: string | null;
  /** The first IA_NA carrying `iaid`, or null. */
  ia: Dhcp6IaReply | null;
  dnsServers: Uint8Array[];
  domains: string[];
  /** Information Refresh Time (seconds), SOL_MAX_RT, INF_MAX_RT; -1 when absent. */
  refreshTime: number;
  solMaxRt: number;
  infMaxRt: number;
  /** Server Unicast option: where the server takes unicast messages (§18.2.10, §21.12). */
  unicast: Uint8Array | null;
}

const view = new dhcpv6.Dhcpv6View();
const domainView = new dhcpv6.Dhcpv6DomainListView();
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** An address a server may sensibly assign to a host (not ::, loopback, multicast, link-local). */
export function isAssignable(a: Uint8Array, off = 0): boolean {
  return (
    !isUnspecified(a, off) && !isLoopback(a, off) && !isMulticast(a, off) && !isLinkLocal(a, off)
  );
}

function duidOf(o: {
  duidType: number;
  duidOffset: number;
  duidLength: number;
  bytes: Uint8Array;
}): Dhcp6Duid {
  return { type: o.duidType, id: o.bytes.slice(o.duidOffset, o.duidOffset + o.duidLength) };
}

function parseIa(ia: dhcpv6.Dhcpv6OptionsIaNaView): Dhcp6IaReply {
  const out: Dhcp6IaReply = {
    iaid: ia.iaid >>> 0,
    t1: ia.t1 >>> 0,
    t2: ia.t2 >>> 0,
    addresses: [],
    status: Dhcp6StatusCode.Success,
    statusMessage: null,
    ignoredAddresses: 0,
  };
  let statusSeen = false;
  const c = ia.options();
  while (c.next()) {
    if (c.kind === Dhcp6OptionCode.StatusCode && !statusSeen) {
      statusSeen = true;
      const s = c.statusCode;
      out.status = s.status;
      out.statusMessage = utf8.decode(
        s.bytes.subarray(s.messageOffset, s.messageOffset + s.messageLength),
      );
    } else if (c.kind === Dhcp6OptionCode.IaAddr) {
      const a = c.iaAddr;
      const preferred = a.preferredLifetime >>> 0;
      const valid = a.validLifetime >>> 0;
      // §21.6: a preferred lifetime above the valid one is discarded; so is an address that
      // could not be ours, and (§18.2.10.1) an address whose own status says it failed.
      let addrStatus: number = Dhcp6StatusCode.Success;
      const inner = a.options();
      while (inner.next())
        if (inner.kind === Dhcp6OptionCode.StatusCode) {
          addrStatus = inner.statusCode.status;
          break;
        }
      if (preferred > valid || !isAssignable(a.bytes, a.addressOffset) || addrStatus !== 0) {
        out.ignoredAddresses++;
        continue;
      }
      const address = new Uint8Array(16);
      copyIpv6(a.bytes, a.addressOffset, address, 0);
      out.addresses.push({ address, preferredLifetime: preferred, validLifetime: valid });
    }
  }
  return out;
}

/**
 * Reads a server message (Advertise, Reply, or whatever type it claims: the client checks),
 * taking the IA_NA whose IAID is `iaid`. Never throws, never reads past `length`.
 */
export function parseDhcp6ServerMessage(
  bytes: Uint8Array,
  offset: number,
  length: number,
  iaid: number,
): Dhcp6ServerMessage | Dhcp6ParseFailure {
  const v = view;
  const err = v.wrap(bytes, offset, length);
  if (err !== null) {
    if (err.code === 'E_TRUNCATED' && err.field !== 'options') return 'truncated';
    if (err.field === 'msgType') return 'relay_message';
    return 'malformed_options';
  }
  const m: Dhcp6ServerMessage = {
    msgType: v.msgType,
    transactionId: v.transactionId,
    serverId: null,
    clientId: null,
    preference: 0,
    status: Dhcp6StatusCode.Success,
    statusMessage: null,
    ia: null,
    dnsServers: [],
    domains: [],
    refreshTime: -1,
    solMaxRt: -1,
    infMaxRt: -1,
    unicast: null,
  };
  let statusSeen = false;
  const c = v.options();
  // The first occurrence of each option counts.
  while (c.next()) {
    switch (c.kind) {
      case Dhcp6OptionCode.ServerId:
        if (m.serverId === null) m.serverId = duidOf(c.serverId);
        break;
      case Dhcp6OptionCode.ClientId:
        if (m.clientId === null) m.clientId = duidOf(c.clientId);
        break;
      case Dhcp6OptionCode.Preference:
        if (m.preference === 0) m.preference = c.preference.value;
        break;
      case Dhcp6OptionCode.StatusCode:
        if (!statusSeen) {
          statusSeen = true;
          const s = c.statusCode;
          m.status = s.status;
          m.statusMessage = utf8.decode(
            s.bytes.subarray(s.messageOffset, s.messageOffset + s.messageLength),
          );
        }
        break;
      case Dhcp6OptionCode.IaNa:
        if (m.ia === null && c.iaNa.iaid >>> 0 === iaid) m.ia = parseIa(c.iaNa);
        break;
      case Dhcp6OptionCode.DnsServers: {
        const d = c.dnsServers;
        if (m.dnsServers.length > 0) break;
        for (let i = 0; i < d.serversCount; i++) {
          const a = new Uint8Array(16);
          d.copyServers(i, a, 0);
          m.dnsServers.push(a);
        }
        break;
      }
      case Dhcp6OptionCode.DomainList: {
        if (m.domains.length > 0) break;
        const d = c.domainList;
        if (domainView.wrap(d.bytes, d.domainsOffset, d.domainsLength) !== null)
          return 'bad_domain_list';
        const names = domainView.domains();
        while (names.next()) {
          const name = names.item.nameText();
          if (name !== '') m.domains.push(name);
        }
        break;
      }
      case Dhcp6OptionCode.InformationRefreshTime:
        if (m.refreshTime < 0) m.refreshTime = c.informationRefreshTime.seconds >>> 0;
        break;
      case Dhcp6OptionCode.SolMaxRt:
        if (m.solMaxRt < 0) m.solMaxRt = c.solMaxRt.seconds >>> 0;
        break;
      case Dhcp6OptionCode.InfMaxRt:
        if (m.infMaxRt < 0) m.infMaxRt = c.infMaxRt.seconds >>> 0;
        break;
      case Dhcp6OptionCode.Unicast: {
        const u = c.unicast;
        if (m.unicast === null && !isMulticast(u.bytes, u.addressOffset)) {
          m.unicast = new Uint8Array(16);
          copyIpv6(u.bytes, u.addressOffset, m.unicast, 0);
        }
        break;
      }
      default:
        break;
    }
  }
  if (
    (m.serverId !== null && m.serverId.id.length > MAX_DUID_LENGTH) ||
    (m.clientId !== null && m.clientId.id.length > MAX_DUID_LENGTH)
  )
    return 'bad_duid';
  return m;
}

/** An address we hold or were offered, as a client names it in an IA_NA. */
export interface Dhcp6IaAddressParam {
  address: Uint8Array;
}

/** Everything a client message carries; options left undefined are omitted. */
export interface Dhcp6ClientMessage {
  msgType: number;
  transactionId: number;
  clientId: Dhcp6Duid;
  serverId?: Dhcp6Duid;
  /** Milliseconds since the client began this exchange (§21.9: sent in hundredths). */
  elapsedMs: number;
  optionRequest?: readonly number[];
  /** Our IA_NA; T1 and T2 are sent as 0 (the server decides, §21.4). */
  ia?: { iaid: number; addresses: readonly Dhcp6IaAddressParam[] };
}

/** Largest client message we build: a few options and a handful of addresses. */
const MAX_CLIENT_MESSAGE = 1024;

/** Encodes a client message into a new buffer (DHCPv6 is not a hot path). */
export function encodeDhcp6ClientMessage(m: Dhcp6ClientMessage): Uint8Array {
  const items: dhcpv6.Dhcpv6OptionsItem[] = [
    { kind: 'ClientId', duidType: m.clientId.type, duid: m.clientId.id },
  ];
  if (m.serverId !== undefined)
    items.push({ kind: 'ServerId', duidType: m.serverId.type, duid: m.serverId.id });
  items.push({
    kind: 'ElapsedTime',
    time: Math.min(Math.max(0, Math.floor(m.elapsedMs / 10)), 0xffff),
  });
  if (m.optionRequest !== undefined) items.push({ kind: 'OptionRequest', codes: m.optionRequest });
  if (m.ia !== undefined)
    items.push({
      kind: 'IaNa',
      iaid: m.ia.iaid,
      t1: 0,
      t2: 0,
      // §21.6: lifetimes in a client's message are 0; the server ignores them.
      options: m.ia.addresses.slice(0, 16).map((a) => ({
        kind: 'IaAddr' as const,
        address: ipv6Text(a.address),
        preferredLifetime: 0,
        validLifetime: 0,
        options: [],
      })),
    });
  const scratch = new Uint8Array(MAX_CLIENT_MESSAGE);
  // DUIDs are at most 128 bytes (parse refuses longer ones) and addresses at most 16: it fits.
  const options = scratch.subarray(0, Math.max(0, dhcpv6.encodeDhcpv6Options(items, scratch, 0)));
  const out = new Uint8Array(dhcpv6.DHCPV6_FIXED_SIZE + options.length);
  dhcpv6.encodeDhcpv6(
    { msgType: m.msgType, transactionId: m.transactionId & 0xffffff, options },
    out,
    0,
  );
  return out;
}
