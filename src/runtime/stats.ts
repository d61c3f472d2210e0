/**
 * Counters for the stack's layers. Each layer owns one plain object of number fields and bumps
 * them in place (`stats.drops.badChecksum++`): no allocation, monomorphic shapes. `stack.stats()`
 * returns a deep copy so callers can diff snapshots.
 */
import type { LinkStats } from './link/link.js';

/** Frames seen by the Ethernet demux/mux. */
export interface EthernetStats {
  rxFrames: number;
  txFrames: number;
  drops: {
    /** Shorter than an Ethernet header. */
    truncated: number;
    /** Unicast to another MAC, or multicast we did not join. */
    notForUs: number;
    /** An EtherType no layer registered for (IPv6, LLDP, ...). */
    unknownEtherType: number;
    /** The link refused the frame on send. */
    linkRefused: number;
  };
}

export interface ArpStats {
  rxPackets: number;
  requestsSent: number;
  repliesSent: number;
  repliesReceived: number;
  gratuitousSent: number;
  /** Datagrams that waited for a resolution and went out once it arrived. */
  queuedSent: number;
  cacheEntries: number;
  /** ARP packets from another host claiming our address (RFC 5227 §2.4). */
  conflicts: number;
  /** Cached neighbours whose MAC a newer packet replaced. */
  macChanges: number;
  drops: {
    truncated: number;
    /** Not Ethernet/IPv4 (htype, ptype, hlen, plen) or an unknown opcode. */
    unsupported: number;
    /** A sender hardware address that is broadcast/multicast, or our own frame looped back. */
    bogusSender: number;
    /** Queued datagrams dropped because their target never answered. */
    unresolved: number;
    /** Datagrams refused because the pending queue (per target or total) was full. */
    queueFull: number;
    /** Resolutions refused because too many targets were already pending. */
    tooManyPending: number;
  };
}

export interface Ipv4Stats {
  rxPackets: number;
  delivered: number;
  txPackets: number;
  fragmentsSent: number;
  fragmentsReceived: number;
  reassembled: number;
  drops: {
    truncated: number;
    badLength: number;
    badVersion: number;
    badOptions: number;
    badChecksum: number;
    /** Destination is neither us nor a broadcast (or is loopback). */
    notForUs: number;
    /** Source is a "martian": broadcast, multicast, loopback, 0/8 or our own (RFC 1122 3.2.1.3). */
    badSource: number;
    /** Loose or strict source route option (a host does not forward: dropped, as Linux). */
    sourceRouted: number;
    /** No transport registered for the protocol number. */
    unknownProtocol: number;
    /** Send: no address configured, destination off-link without a gateway, or ourselves. */
    noRoute: number;
    /** Send: payload larger than an IPv4 datagram can carry. */
    tooBig: number;
    /** A fragment overlapping data already received (whole datagram discarded, as Linux does). */
    fragOverlap: number;
    /** A fragment fully covered by data already received (ignored, datagram kept). */
    fragDuplicate: number;
    /** Fragments whose datagram would exceed 65535 bytes, or conflicting end-of-datagram. */
    fragInvalid: number;
    /** Datagrams discarded because reassembly did not finish in time. */
    reassemblyTimeout: number;
    /** Datagrams discarded to keep reassembly memory under its bound. */
    reassemblyMemory: number;
  };
}

/**
 * The counters fragment reassembly bumps (src/runtime/ip/reassembly.ts), by the names IPv4 uses:
 * Ipv4Stats has them, and so must the IPv6 layer's counters.
 */
export interface ReassemblyCounters {
  reassembled: number;
  drops: {
    fragOverlap: number;
    fragDuplicate: number;
    fragInvalid: number;
    reassemblyTimeout: number;
    reassemblyMemory: number;
  };
}

/** IPv6 reassembly's counters (src/runtime/ipv6/reassembly.ts): IPv4's and two of its own. */
export interface Ipv6ReassemblyCounters extends ReassemblyCounters {
  drops: ReassemblyCounters['drops'] & {
    /**
     * Fragments of a datagram already discarded for an overlap, dropped until it would have
     * timed out (RFC 5722: the fragments not yet received are discarded too).
     */
    fragAfterOverlap: number;
    /** First fragments whose unfragmentable part is longer than the reassembler keeps room for. */
    fragHeaderTooLong: number;
  };
}

export interface IcmpStats {
  rxMessages: number;
  echoRequests: number;
  echoReplies: number;
  unreachableSent: number;
  timeExceededSent: number;
  errorsReceived: number;
  /** "Fragmentation needed" about our datagrams, each lowering a path MTU (RFC 1191). */
  fragmentationNeededReceived: number;
  drops: {
    truncated: number;
    badChecksum: number;
    /** "Fragmentation needed" cut short, or about a datagram not from our address. */
    badFragmentationNeeded: number;
    /** Echo requests sent to a broadcast address (ignored by default, like Linux). */
    broadcastEcho: number;
    /** Error messages suppressed by the rate limit. */
    rateLimited: number;
    /** Types we do not handle (timestamps, redirects, ...). */
    unhandledType: number;
    /** Echo reply could not be sent (no route, ARP queue full...). */
    sendFailed: number;
  };
}

export interface UdpStats {
  rxDatagrams: number;
  txDatagrams: number;
  drops: {
    truncated: number;
    badLength: number;
    badChecksum: number;
    /** Over IPv6 with checksum 0, which is not "none" there (RFC 8200 §8.1). */
    zeroChecksum: number;
    /** No socket bound to the destination port (answered with ICMP port unreachable). */
    noSocket: number;
    /** Send: payload larger than a datagram can carry. */
    tooBig: number;
    /** Send refused by IPv4 or IPv6 (no route or source address, ARP or ND queue full...). */
    sendFailed: number;
  };
}

export interface StackStats {
  link: LinkStats;
  ethernet: EthernetStats;
  arp: ArpStats;
  ipv4: Ipv4Stats;
  icmp: IcmpStats;
  udp: UdpStats;
  /** Counters of a transport plugged in later (TCP), when present. */
  tcp?: StatsTree;
  /** IPv6, ICMPv6 and the neighbor cache, when IPv6 is enabled. */
  ipv6?: Ipv6Stats;
  icmpv6?: Icmpv6Stats;
  nd?: StatsTree;
  /** What IPv6 reassembly holds now (bytes, packets in progress). */
  ipv6Reassembly?: StatsTree;
  /** The DHCPv6 client's counters, when it runs. */
  dhcp6?: StatsTree;
}

/** A tree of counters, the shape every `stats()` returns. */
export interface StatsTree {
  [name: string]: number | StatsTree;
}

/** Deep copy of a counter tree (numbers and nested plain objects only). */
export function snapshotStats<T extends object>(stats: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stats)) {
    out[key] = typeof value === 'object' && value !== null ? snapshotStats(value as object) : value;
  }
  return out as T;
}

/** Sum of every counter under each `drops` object of a tree, for a one-number health check. */
export function totalDrops(stats: object): number {
  let total = 0;
  for (const [key, value] of Object.entries(stats)) {
    if (typeof value !== 'object' || value === null) continue;
    if (key === 'drops') {
      for (const n of Object.values(value)) if (typeof n === 'number') total += n;
    } else {
      total += totalDrops(value as object);
    }
  }
  return total;
}

/**
 * Every drop counter in `stats` by its path without the `drops` step ("tcp.peerLimit",
 * "ipv4.martianSource"), into `out` (reused by a caller that samples often).
 */
export function dropsByReason(
  stats: object,
  out: Map<string, number> = new Map(),
  prefix = '',
): Map<string, number> {
  for (const [key, value] of Object.entries(stats)) {
    if (typeof value !== 'object' || value === null) continue;
    if (key === 'drops') {
      for (const [reason, n] of Object.entries(value)) {
        if (typeof n === 'number') out.set(`${prefix}${reason}`, n);
      }
    } else {
      dropsByReason(value as object, out, `${prefix}${key}.`);
    }
  }
  return out;
}

export function createEthernetStats(): EthernetStats {
  return {
    rxFrames: 0,
    txFrames: 0,
    drops: { truncated: 0, notForUs: 0, unknownEtherType: 0, linkRefused: 0 },
  };
}

export function createArpStats(): ArpStats {
  return {
    rxPackets: 0,
    requestsSent: 0,
    repliesSent: 0,
    repliesReceived: 0,
    gratuitousSent: 0,
    queuedSent: 0,
    cacheEntries: 0,
    conflicts: 0,
    macChanges: 0,
    drops: {
      truncated: 0,
      unsupported: 0,
      bogusSender: 0,
      unresolved: 0,
      queueFull: 0,
      tooManyPending: 0,
    },
  };
}

export function createIpv4Stats(): Ipv4Stats {
  return {
    rxPackets: 0,
    delivered: 0,
    txPackets: 0,
    fragmentsSent: 0,
    fragmentsReceived: 0,
    reassembled: 0,
    drops: {
      truncated: 0,
      badLength: 0,
      badVersion: 0,
      badOptions: 0,
      badChecksum: 0,
      notForUs: 0,
      badSource: 0,
      sourceRouted: 0,
      unknownProtocol: 0,
      noRoute: 0,
      tooBig: 0,
      fragOverlap: 0,
      fragDuplicate: 0,
      fragInvalid: 0,
      reassemblyTimeout: 0,
      reassemblyMemory: 0,
    },
  };
}

/** Zeroed IPv6 reassembly counters (an IPv6 layer's stats carry the same fields). */
export function createIpv6ReassemblyCounters(): Ipv6ReassemblyCounters {
  return {
    reassembled: 0,
    drops: {
      fragOverlap: 0,
      fragDuplicate: 0,
      fragInvalid: 0,
      reassemblyTimeout: 0,
      reassemblyMemory: 0,
      fragAfterOverlap: 0,
      fragHeaderTooLong: 0,
    },
  };
}

export function createIcmpStats(): IcmpStats {
  return {
    rxMessages: 0,
    echoRequests: 0,
    echoReplies: 0,
    unreachableSent: 0,
    timeExceededSent: 0,
    errorsReceived: 0,
    fragmentationNeededReceived: 0,
    drops: {
      truncated: 0,
      badChecksum: 0,
      badFragmentationNeeded: 0,
      broadcastEcho: 0,
      rateLimited: 0,
      unhandledType: 0,
      sendFailed: 0,
    },
  };
}

export function createUdpStats(): UdpStats {
  return {
    rxDatagrams: 0,
    txDatagrams: 0,
    drops: {
      truncated: 0,
      badLength: 0,
      badChecksum: 0,
      zeroChecksum: 0,
      noSocket: 0,
      tooBig: 0,
      sendFailed: 0,
    },
  };
}

/** IPv6's counters: reassembly's (Ipv6ReassemblyCounters, filled by the reassembler) and its own. */
export interface Ipv6Stats extends Ipv6ReassemblyCounters {
  rxPackets: number;
  delivered: number;
  txPackets: number;
  fragmentsSent: number;
  fragmentsReceived: number;
  drops: Ipv6ReassemblyCounters['drops'] & {
    truncated: number;
    badLength: number;
    badVersion: number;
    /** Destination neither one of our addresses nor a group we joined. */
    notForUs: number;
    /** Multicast source (RFC 4291 §2.7). */
    badSource: number;
    /** Hop-by-hop header not first, unknown option asking for a discard, bad options list. */
    badOptions: number;
    /** A routing header with segments left we would have to forward (RFC 8200 §4.4, RFC 5095). */
    badRouting: number;
    /** No handler for the next header (answered with a parameter problem, code 1). */
    unknownNextHeader: number;
    /** Send: no usable source address, or no route (no on-link prefix, no default router). */
    noRoute: number;
    /** Send: payload larger than an IPv6 packet can carry. */
    tooBig: number;
  };
}

export interface Icmpv6Stats {
  rxMessages: number;
  echoRequests: number;
  echoReplies: number;
  errorsSent: number;
  errorsReceived: number;
  packetTooBigReceived: number;
  ndReceived: number;
  ndSent: number;
  mldReportsSent: number;
  /** Redirects taken: a better first hop for one destination (RFC 4861 §8.3). */
  redirectsAccepted: number;
  drops: {
    truncated: number;
    badChecksum: number;
    /** ND message with a hop limit other than 255 or a nonzero code, or invalid per RFC 4861 §6.1/§7.1. */
    badNd: number;
    /** A redirect failing RFC 4861 §8.1 (not from the current first hop, bad target...). */
    badRedirect: number;
    rateLimited: number;
    unhandledType: number;
    sendFailed: number;
  };
}

export function createIpv6Stats(): Ipv6Stats {
  const reassembly = createIpv6ReassemblyCounters();
  return {
    ...reassembly,
    rxPackets: 0,
    delivered: 0,
    txPackets: 0,
    fragmentsSent: 0,
    fragmentsReceived: 0,
    drops: {
      ...reassembly.drops,
      truncated: 0,
      badLength: 0,
      badVersion: 0,
      notForUs: 0,
      badSource: 0,
      badOptions: 0,
      badRouting: 0,
      unknownNextHeader: 0,
      noRoute: 0,
      tooBig: 0,
    },
  };
}

export function createIcmpv6Stats(): Icmpv6Stats {
  return {
    rxMessages: 0,
    echoRequests: 0,
    echoReplies: 0,
    errorsSent: 0,
    errorsReceived: 0,
    packetTooBigReceived: 0,
    ndReceived: 0,
    redirectsAccepted: 0,
    ndSent: 0,
    mldReportsSent: 0,
    drops: {
      truncated: 0,
      badChecksum: 0,
      badNd: 0,
      badRedirect: 0,
      rateLimited: 0,
      unhandledType: 0,
      sendFailed: 0,
    },
  };
}
