/**
 * What an ICMP or ICMPv6 error about one of our segments means for its connection: the error
 * a socket reports and whether it is "fatal" (RFC 1122 §4.2.3.9 calls these hard errors). The
 * tables are Linux's (icmp_err_convert in net/ipv4/icmp.c, icmpv6_err_convert in
 * net/ipv6/icmp.c), so that a program sees the errno it would see on Linux.
 *
 * How the layer acts on them (layer.ts): in SYN-SENT any of them ends the attempt with its
 * error, as Linux does; in SYN-RECEIVED a fatal one drops the half-open connection; on a
 * synchronized connection they are soft: remembered, and reported instead of ETIMEDOUT if the
 * connection later times out (RFC 5461 §4.1).
 */
import { icmp, icmpv6 } from '../../generated/index.js';
import type { TcpErrorCode } from './socket.js';

export interface IcmpVerdict {
  code: TcpErrorCode;
  fatal: boolean;
}

const U = icmp.IcmpUnreachableCode;
const v = (code: TcpErrorCode, fatal: boolean): IcmpVerdict => ({ code, fatal });

const UNREACHABLE: ReadonlyMap<number, IcmpVerdict> = new Map([
  [U.Net, v('ENETUNREACH', false)],
  [U.Host, v('EHOSTUNREACH', false)],
  [U.Protocol, v('ENOPROTOOPT', true)],
  [U.Port, v('ECONNREFUSED', true)],
  [U.SourceRouteFailed, v('EOPNOTSUPP', false)],
  [U.NetUnknown, v('ENETUNREACH', true)],
  [U.HostUnknown, v('EHOSTDOWN', true)],
  [U.SourceHostIsolated, v('ENONET', true)],
  [U.NetProhibited, v('ENETUNREACH', true)],
  [U.HostProhibited, v('EHOSTUNREACH', true)],
  [U.NetUnreachableForTos, v('ENETUNREACH', false)],
  [U.HostUnreachableForTos, v('EHOSTUNREACH', false)],
  [U.CommunicationProhibited, v('EHOSTUNREACH', true)],
  [U.HostPrecedenceViolation, v('EHOSTUNREACH', true)],
  [U.PrecedenceCutoff, v('EHOSTUNREACH', true)],
]);

const U6 = icmpv6.Icmpv6UnreachableCode;
const UNREACHABLE6: ReadonlyMap<number, IcmpVerdict> = new Map([
  [U6.NoRoute, v('ENETUNREACH', false)],
  [U6.AdministrativelyProhibited, v('EACCES', true)],
  [U6.BeyondScope, v('EHOSTUNREACH', false)],
  [U6.Address, v('EHOSTUNREACH', false)],
  [U6.Port, v('ECONNREFUSED', true)],
  [U6.SourcePolicy, v('EACCES', true)],
  [U6.RejectRoute, v('EACCES', true)],
]);

const TIME_EXCEEDED = v('EHOSTUNREACH', false);
const PARAMETER_PROBLEM = v('EPROTO', true);

/**
 * An IPv4 ICMP error's meaning, or null when TCP ignores it (fragmentation needed goes to path
 * MTU discovery instead; source quench is deprecated, RFC 6633; unknown codes).
 */
export function icmpVerdict(type: number, code: number): IcmpVerdict | null {
  switch (type) {
    case icmp.IcmpType.DestinationUnreachable:
      return UNREACHABLE.get(code) ?? null;
    case icmp.IcmpType.TimeExceeded:
      return TIME_EXCEEDED;
    case icmp.IcmpType.ParameterProblem:
      return PARAMETER_PROBLEM;
    default:
      return null;
  }
}

/** An ICMPv6 error's meaning, or null (packet too big goes to path MTU discovery). */
export function icmpv6Verdict(type: number, code: number): IcmpVerdict | null {
  switch (type) {
    case icmpv6.Icmpv6Type.DestinationUnreachable:
      return UNREACHABLE6.get(code) ?? v('EPROTO', false);
    case icmpv6.Icmpv6Type.TimeExceeded:
      return TIME_EXCEEDED;
    case icmpv6.Icmpv6Type.ParameterProblem:
      return PARAMETER_PROBLEM;
    default:
      return null;
  }
}
