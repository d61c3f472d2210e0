/**
 * The resolver's transport on the user-space stack: one UDP socket per query try, bound to the
 * random port the resolver drew, and ICMP port-unreachable errors routed back to the socket
 * whose query caused them (so a server with nothing on port 53 fails fast with ECONNREFUSED
 * instead of timing out).
 */
import { icmp, ipv4, udp } from '../../generated/index.js';
import type { Clock } from '../clock/clock.js';
import type { IcmpErrorReceiver } from '../icmp/icmp.js';
import type { UdpSocket } from '../udp/socket.js';
import type { UdpDelivery, UdpSocketType } from '../udp/types.js';
import {
  Resolver,
  type DnsSocket,
  type DnsSocketHandler,
  type DnsTransport,
  type ResolverOptions,
} from './resolver.js';

/** The parts of a Stack the transport uses (a Stack fits). */
export interface DnsHost {
  readonly clock: Clock;
  readonly udp: { createSocket(type?: UdpSocketType): UdpSocket };
  readonly icmp: {
    registerErrorReceiver(protocol: number, receiver: IcmpErrorReceiver | null): void;
  };
}

/**
 * Routes the stack's ICMP errors about UDP to the query tries by local port. The ICMP layer
 * takes one error receiver per protocol, so every transport on a stack shares this one (ports
 * are unique per stack, so one map serves them all).
 */
class UdpErrorRouter implements IcmpErrorReceiver {
  readonly handlers = new Map<number, DnsSocketHandler>();
  private readonly ip = new ipv4.Ipv4View();
  private readonly udp = new udp.UdpView();

  /** `bytes[at, at + length)` is the quoted IPv4 datagram, header first. */
  icmpError(
    type: number,
    code: number,
    _from: number,
    bytes: Uint8Array,
    at: number,
    length: number,
  ): void {
    if (type !== icmp.IcmpType.DestinationUnreachable || code !== icmp.IcmpUnreachableCode.Port)
      return;
    // The quote is the datagram cut after 8 bytes of UDP: both headers, the data cut off.
    const ip = this.ip;
    const datagram = this.udp;
    if (ip.wrapPartial(bytes, at, length) !== null) return;
    if (datagram.wrapPartial(bytes, ip.payloadOffset, ip.payloadLength) !== null) return;
    this.handlers.get(datagram.srcPort)?.unreachable(ip.dst, datagram.dstPort);
  }
}

const routers = new WeakMap<object, UdpErrorRouter>();

export class StackDnsTransport implements DnsTransport {
  /** Local port → handler of the query try using it (shared per stack, see UdpErrorRouter). */
  private readonly handlers: Map<number, DnsSocketHandler>;

  /**
   * `icmpErrors`: take the stack's ICMP error reports for UDP. Leave it false when something
   * else must receive them (then an unreachable server shows as a timeout).
   */
  constructor(
    private readonly host: DnsHost,
    icmpErrors = true,
  ) {
    let router = routers.get(host.icmp);
    if (router === undefined) {
      router = new UdpErrorRouter();
      if (icmpErrors) {
        host.icmp.registerErrorReceiver(ipv4.IpProtocol.UDP, router);
        routers.set(host.icmp, router);
      }
    }
    this.handlers = router.handlers;
  }

  open(port: number, handler: DnsSocketHandler): DnsSocket | null {
    // Its servers are IPv4 addresses (DnsSocketHandler takes the sender as a number).
    const socket = this.host.udp.createSocket('udp4');
    try {
      socket.bind(port);
    } catch {
      socket.close();
      return null; // taken: the resolver draws another port
    }
    this.handlers.set(port, handler);
    socket.setReceiver({
      receive: (d: UdpDelivery) => handler.message(d.bytes, d.offset, d.length, d.src, d.srcPort),
    });
    return {
      send: (bytes, address, dstPort) => {
        // Errors (no route, closed) surface as a timeout of this try, like lost datagrams.
        socket.send(bytes, dstPort, address, () => undefined);
      },
      close: () => {
        this.handlers.delete(port);
        socket.close();
      },
    };
  }
}

/** Resolver options for a stack: the stack supplies the clock and the transport. */
export type StackResolverOptions = Omit<ResolverOptions, 'clock' | 'transport'> & {
  /** Fail at once on an ICMP port unreachable from the server (default true). */
  icmpErrors?: boolean;
};

/** A resolver whose queries go through the stack `host` (its clock, its UDP). */
export function createStackResolver(host: DnsHost, options: StackResolverOptions = {}): Resolver {
  const { icmpErrors, ...rest } = options;
  return new Resolver({
    ...rest,
    clock: host.clock,
    transport: new StackDnsTransport(host, icmpErrors ?? true),
  });
}
