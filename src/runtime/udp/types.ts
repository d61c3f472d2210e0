/** Shapes shared by the UDP layer, its sockets and the users of the zero-copy receive hook. */

/** One received datagram, reused for every delivery: valid only during the call. */
export interface UdpDelivery {
  src: number;
  srcPort: number;
  dst: number;
  dstPort: number;
  /** Sent to a broadcast address (limited or directed). */
  toBroadcast: boolean;
  /** The checksum field as received (0 = none); verified already when non-zero. */
  checksum: number;
  /** The payload is `length` bytes at `offset` in `bytes`. */
  bytes: Uint8Array;
  offset: number;
  length: number;
}

/** The zero-copy receive hook (see `UdpSocket.setReceiver`). */
export interface UdpDatagramReceiver {
  receive(d: UdpDelivery): void;
}

/** Like node:dgram's rinfo. */
export interface UdpRemoteInfo {
  address: string;
  family: 'IPv4';
  port: number;
  size: number;
}

export interface UdpAddressInfo {
  address: string;
  family: 'IPv4';
  port: number;
}

/** Socket errors carry a code, as node:dgram's do. */
export class UdpSocketError extends Error {
  constructor(
    readonly code:
      | 'EADDRINUSE'
      | 'EACCES'
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
