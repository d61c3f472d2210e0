/** Shapes shared by the UDP layer, its sockets and the users of the zero-copy receive hook. */

/** An address family, named as node:dgram names them in rinfo and `address()`. */
export type UdpFamily = 'IPv4' | 'IPv6';

/** One received datagram, reused for every delivery: valid only during the call. */
export interface UdpDelivery {
  /** Which network layer it came over: IPv4 fills `src`/`dst`, IPv6 `src6`/`dst6`. */
  family: UdpFamily;
  /** IPv4 source and destination (unsigned 32-bit; 0 for an IPv6 datagram). */
  src: number;
  dst: number;
  /** IPv6 source and destination, 16 bytes each (the IPv6 layer's reused arrays; unset for IPv4). */
  src6: Uint8Array;
  dst6: Uint8Array;
  srcPort: number;
  dstPort: number;
  /** Sent to a broadcast or multicast address rather than to one of ours. */
  toBroadcast: boolean;
  /**
   * The checksum field as received (0 = none, IPv4 only; 0 too when the link handed it over
   * partial, its checksum offload having left it to be completed); verified when non-zero.
   */
  checksum: number;
  /** The payload is `length` bytes at `offset` in `bytes`. */
  bytes: Uint8Array;
  offset: number;
  length: number;
}

/**
 * An ICMP or ICMPv6 error quoting a datagram a socket sent (see `UdpSocket.icmpListener`); the
 * record and its arrays are reused, valid only during the call.
 */
export interface UdpIcmpError {
  family: UdpFamily;
  /** The ICMP (or ICMPv6) type and code. */
  type: number;
  code: number;
  /** Linux's errno for it (icmp_err_convert / icmpv6_err_convert), and whether it is hard. */
  errno: string;
  fatal: boolean;
  /** Where the quoted datagram went: IPv4 `dst`, or IPv6 `dst6` (16 bytes), and its port. */
  dst: number;
  dst6: Uint8Array;
  port: number;
}

/** The zero-copy receive hook (see `UdpSocket.setReceiver`). */
export interface UdpDatagramReceiver {
  receive(d: UdpDelivery): void;
}

/** Like node:dgram's rinfo. */
export interface UdpRemoteInfo {
  address: string;
  family: UdpFamily;
  port: number;
  size: number;
}

export interface UdpAddressInfo {
  address: string;
  family: UdpFamily;
  port: number;
}

/**
 * Which datagrams a socket takes, as node:dgram's `createSocket(type, { ipv6Only })` chooses:
 * 'udp4' IPv4 only; 'udp6' both families unless `ipv6Only`. Without a type, both families.
 */
export type UdpSocketType = 'udp4' | 'udp6';

export interface UdpSocketOptions {
  /** With 'udp6': IPv6 datagrams only (IPV6_V6ONLY), leaving the IPv4 port to another socket. */
  ipv6Only?: boolean;
}

/** Socket errors carry a code, as node:dgram's do. */
export class UdpSocketError extends Error {
  constructor(
    readonly code:
      | 'EADDRINUSE'
      | 'EACCES'
      | 'EAFNOSUPPORT'
      | 'EMSGSIZE'
      | 'EINVAL'
      | 'ENETUNREACH'
      | 'ERR_SOCKET_DGRAM_NOT_RUNNING'
      | 'ERR_SOCKET_ALREADY_BOUND',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'UdpSocketError';
  }
}
