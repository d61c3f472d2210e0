/**
 * The servers a resolver asks: IPv4 or IPv6, given by the user (`setServers`) or learnt from
 * the network (a DHCP lease, a DHCPv6 reply, router advertisements' RDNSS option, RFC 8106),
 * each source with its own list and lifetime. The user's servers come first, then each
 * source's in the order the sources first reported; a server listed twice is asked once.
 */
import { formatIpv4, ipv6Equals, parseIpv4, parseIpv6 } from '../../codec/address.js';
import { ipv6Text } from '../ipv6/address.js';

/** A server; `text` is node:dns's getServers form ("10.0.0.1", "[fd00::1]:5353" off port 53). */
export type DnsServerAddress =
  | { readonly family: 4; readonly v4: number; readonly text: string; readonly port: number }
  | { readonly family: 6; readonly v6: Uint8Array; readonly text: string; readonly port: number };

/** What a datagram's sender is, as the transport reports it: IPv4 as a number, IPv6 as 16 bytes. */
export type DnsPeer = number | Uint8Array;

/**
 * A server as text ("10.0.0.1", "fd00::1", with a port as node:dns takes it: "10.0.0.1:5353",
 * "[fd00::1]:5353"), an IPv4 number, or 16 IPv6 bytes.
 */
export type DnsServerInput = string | number | Uint8Array;

/** Most servers one source may add (RFC 8106 §5.3.1 suggests keeping three per source). */
export const MAX_SERVERS_PER_SOURCE = 8;
/** Most sources kept (each router advertising RDNSS is one); the oldest goes first. */
export const MAX_SOURCES = 16;

/** The server `s` as the resolver keeps it; throws TypeError for text that is not an address. */
export function parseServer(s: DnsServerInput): DnsServerAddress {
  if (typeof s === 'number') {
    if (!Number.isInteger(s) || s < 0 || s > 0xffffffff)
      throw new TypeError(`not an IPv4 address: ${s}`);
    return { family: 4, v4: s >>> 0, text: formatIpv4(s >>> 0), port: 53 };
  }
  if (s instanceof Uint8Array) {
    if (s.length !== 16) throw new TypeError(`an IPv6 address is 16 bytes, not ${s.length}`);
    return { family: 6, v6: s.slice(), text: ipv6Text(s), port: 53 };
  }
  let host = s;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  const v4port = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(s);
  if (bracketed !== null) {
    host = bracketed[1];
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (v4port !== null) {
    host = v4port[1];
    port = Number(v4port[2]);
  }
  if (!(port >= 1 && port <= 65535)) throw new TypeError(`bad port in DNS server ${s}`);
  const v4 = parseIpv4(host);
  if (v4 >= 0) {
    const text = formatIpv4(v4);
    return { family: 4, v4, text: port === 53 ? text : `${text}:${port}`, port };
  }
  // The stack has one link: a zone index ("fe80::1%eth0") could only name it.
  const v6 = host.includes('%') ? null : parseIpv6(host);
  if (v6 === null) throw new TypeError(`not an IPv4 or IPv6 address: ${s}`);
  const text = ipv6Text(v6);
  return { family: 6, v6, text: port === 53 ? text : `[${text}]:${port}`, port };
}

/** Whether a datagram from `peer` comes from `server`'s address. */
export function isServer(server: DnsServerAddress, peer: DnsPeer): boolean {
  if (server.family === 4) return typeof peer === 'number' && peer >>> 0 === server.v4;
  return typeof peer !== 'number' && ipv6Equals(server.v6, 0, peer, 0);
}

interface Source {
  servers: DnsServerAddress[];
  /** Clock ms after which the source's servers are no longer asked (RFC 8106 lifetime). */
  expiresAt: number;
}

export class DnsServerList {
  private fixed: DnsServerAddress[] = [];
  /** Map order is first-report order (a replaced list keeps its place). */
  private readonly sources = new Map<string, Source>();

  /** Replaces the user's servers; throws TypeError (and changes nothing) for a bad one. */
  setFixed(servers: ReadonlyArray<DnsServerInput>): void {
    this.fixed = servers.map(parseServer);
  }

  /**
   * Replaces what `source` told us. An empty list, or a lifetime of 0, withdraws it. Bad
   * entries throw TypeError and change nothing.
   */
  setSource(
    source: string,
    servers: ReadonlyArray<DnsServerInput>,
    lifetimeMs: number,
    now: number,
  ): void {
    const parsed = servers.slice(0, MAX_SERVERS_PER_SOURCE).map(parseServer);
    if (parsed.length === 0 || !(lifetimeMs > 0)) {
      this.sources.delete(source);
      return;
    }
    const existing = this.sources.get(source);
    if (existing !== undefined) {
      existing.servers = parsed;
      existing.expiresAt = now + lifetimeMs;
      return;
    }
    this.sources.set(source, { servers: parsed, expiresAt: now + lifetimeMs });
    while (this.sources.size > MAX_SOURCES) {
      this.sources.delete(this.sources.keys().next().value as string);
    }
  }

  /** The servers to ask now, in order, each once (expired sources dropped on the way). */
  current(now: number): DnsServerAddress[] {
    const out: DnsServerAddress[] = [...this.fixed];
    for (const [name, s] of this.sources) {
      if (now >= s.expiresAt) {
        this.sources.delete(name);
        continue;
      }
      for (const server of s.servers)
        if (!out.some((o) => o.text === server.text)) out.push(server);
    }
    return out;
  }
}
