/**
 * A UDP echo service (RFC 862) on the zero-copy path: each datagram is copied once into a
 * preallocated buffer behind the header headroom and sent back from there. No allocation per
 * datagram, which is what `pktstack run --udp-echo` and the stack benchmark rely on.
 */
import { copyBytes } from '../../util/bytes.js';
import type { UdpDatagramReceiver, UdpDelivery } from './types.js';
import type { UdpLayer } from './udp.js';
import type { UdpSocket } from './socket.js';
import { UDP_IPV6_MAX_PAYLOAD, UDP_SEND_HEADROOM } from './udp.js';

/**
 * Source ports below this get no echo, like BSD inetd's small services (dg_badinput): port 0
 * cannot be answered, and the well-known ones are other services (echo, chargen, daytime...),
 * whose answer would come back to be echoed again, forever.
 */
const LOWEST_ECHOED_PORT = 512;

export class UdpEchoServer implements UdpDatagramReceiver {
  readonly socket: UdpSocket;
  echoed = 0;
  /** Datagrams from ports below 512 (0, or another service: an echo loop), not answered. */
  refused = 0;
  /** Room for the largest datagram of either family (IPv6's). */
  private readonly buffer = new Uint8Array(UDP_SEND_HEADROOM + UDP_IPV6_MAX_PAYLOAD);

  /** Listens on `port` over IPv4 and, when the stack has it, IPv6. */
  constructor(udp: UdpLayer, port: number) {
    this.socket = udp.createSocket().bind(port);
    this.socket.setReceiver(this);
  }

  receive(d: UdpDelivery): void {
    // Never echo broadcasts or multicasts (an echo storm between two echo servers is the
    // classic failure).
    if (d.toBroadcast) return;
    if (d.srcPort < LOWEST_ECHOED_PORT) {
      this.refused++;
      return;
    }
    copyBytes(d.bytes, d.offset, this.buffer, UDP_SEND_HEADROOM, d.length);
    // Sent back from the address it came to, so the verified checksum stays valid (see
    // UdpLayer.sendInPlace); a datagram without one is answered with a computed one.
    this.socket.replyInPlace(
      d,
      this.buffer,
      UDP_SEND_HEADROOM,
      d.length,
      d.checksum !== 0 ? d.checksum : -1,
    );
    this.echoed++;
  }

  close(): void {
    this.socket.close();
  }
}
