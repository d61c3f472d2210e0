/**
 * Resolver errors shaped like Node's `dns` errors (`err.code`, `err.syscall`, `err.hostname`,
 * message "queryA ENOTFOUND example.invalid"), so code written for `dns.resolve4` or
 * `dns.lookup` handles ours unchanged. `reason` says more precisely what happened where Node's
 * code is coarse (EBADRESP covers a truncated reply, a pointer loop, a bad name...).
 */

/** The subset of Node's `dns` error codes this resolver produces. */
export type DnsErrorCode =
  | 'ENOTFOUND'
  | 'ENODATA'
  | 'ETIMEOUT'
  | 'ECONNREFUSED'
  | 'ESERVFAIL'
  | 'EREFUSED'
  | 'ENOTIMP'
  | 'EFORMERR'
  | 'EBADRESP'
  | 'EBADNAME'
  | 'EBADFAMILY'
  | 'ECANCELLED'
  /** lookup's (getaddrinfo's) code for server trouble: timeouts, SERVFAIL, refusals. */
  | 'EAI_AGAIN';

export type DnsErrorReason =
  | 'nxdomain'
  | 'nodata'
  | 'timeout'
  | 'port-unreachable'
  | 'servfail'
  | 'refused'
  | 'notimp'
  | 'formerr'
  | 'rcode'
  | 'truncated'
  | 'pointer-loop'
  | 'bad-pointer'
  | 'bad-name'
  | 'malformed'
  | 'bad-rdata'
  | 'cname-loop'
  | 'cname-chain-too-long'
  | 'invalid-hostname'
  | 'no-servers'
  | 'no-local-port'
  | 'cancelled';

export class DnsError extends Error {
  readonly code: DnsErrorCode;
  readonly syscall: string;
  readonly hostname: string;
  readonly reason: DnsErrorReason;
  /** The server (IPv4 or IPv6 text) whose answer caused this, when one did. */
  readonly server: string | undefined;
  /** libuv's errno for lookup's getaddrinfo codes (ENOTFOUND -3008, EAI_AGAIN -3001), as node's. */
  errno: number | undefined;

  constructor(
    code: DnsErrorCode,
    syscall: string,
    hostname: string,
    reason: DnsErrorReason,
    server?: string,
  ) {
    super(`${syscall} ${code} ${hostname}${detail(reason)}`);
    this.name = 'Error';
    this.code = code;
    this.syscall = syscall;
    this.hostname = hostname;
    this.reason = reason;
    this.server = server;
    this.errno = undefined;
  }

  /** The same failure as seen through another API (`getaddrinfo` for lookup) or name. */
  as(syscall: string, code: DnsErrorCode = this.code, hostname = this.hostname): DnsError {
    return new DnsError(code, syscall, hostname, this.reason, this.server);
  }
}

function detail(reason: DnsErrorReason): string {
  switch (reason) {
    case 'truncated':
      return ' (response truncated: TC set, and TCP fallback is not supported)';
    case 'pointer-loop':
      return ' (name compression pointer loop in response)';
    case 'bad-pointer':
      return ' (name compression pointer past the end of the response)';
    case 'bad-name':
      return ' (malformed or oversize name in response)';
    case 'cname-loop':
      return ' (CNAME loop)';
    case 'cname-chain-too-long':
      return ' (CNAME chain too long)';
    case 'no-servers':
      return ' (no DNS servers configured)';
    case 'no-local-port':
      return ' (no free local UDP port)';
    case 'port-unreachable':
      return ' (server port unreachable)';
    case 'bad-rdata':
      return ' (record data of the wrong size for its type)';
    default:
      return '';
  }
}
