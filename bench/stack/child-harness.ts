/**
 * What the in-process bench children (tcp-alloc-child.ts, rx-frames-child.ts, tx-child.ts)
 * share: the addresses of the stack and of the fake peer they play, the frames that introduce
 * the peer and carry its segments, and the measurement of one run (CPU time and bytes
 * allocated, exact).
 */
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { SYN } from '../../src/fsm/segment.js';
import { arp, ethernet, ipv4, tcp as codec } from '../../src/generated/index.js';
import type { FrameReceiver } from '../../src/runtime/link/link.js';
import { loadNativeCopy } from '../../src/runtime/link/native.js';

/** The stack under test (10.0.0.2) and the peer the child plays (10.0.0.1), and their MACs. */
export const US = 0x0a000002;
export const PEER = 0x0a000001;
export const OUR_MAC = 0x020000000002;
export const PEER_MAC = 0x020000000001;

/**
 * Reads the TCP segment in an Ethernet frame the stack sent, on the generated views (IPv4 only:
 * the children speak nothing else). `tcp` holds the segment after a non-null `seqOf`.
 */
export class FrameReader {
  readonly ethernet = new ethernet.EthernetView();
  readonly ipv4 = new ipv4.Ipv4View();
  readonly tcp = new codec.TcpView();

  /** The segment's sequence number as its int32 bit pattern (never boxed), or null: not TCP. */
  seqOf(bytes: Uint8Array, offset: number, length: number): number | null {
    const e = this.ethernet;
    if (e.wrap(bytes, offset, length) !== null || e.etherType !== ethernet.EtherType.IPv4)
      return null;
    const ip = this.ipv4;
    if (ip.wrap(bytes, e.payloadOffset, e.payloadLength) !== null) return null;
    if (ip.protocol !== ipv4.IpProtocol.TCP) return null;
    const t = this.tcp;
    if (t.wrap(bytes, ip.payloadOffset, ip.payloadLength) !== null) return null;
    return t.seqBits;
  }
}

/** As on a TAP: long copies through the addon's memmove, where it is built ('js' otherwise). */
export function copyMode(): 'native' | 'js' {
  return loadNativeCopy() ? 'native' : 'js';
}

/** The child runs with --expose-gc (tcp.ts starts it so): GC before each measurement. */
export function exposedGc(): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  return gc;
}

/**
 * The peer asks for our address: ARP learns its MAC from the request (RFC 826), so our replies
 * go out rather than waiting for resolution. Leaves `frame` starting with the peer's Ethernet
 * header for IPv4.
 */
export function introducePeer(rx: FrameReceiver, frame: Uint8Array): void {
  const eth: ethernet.EthernetFields = { dst: OUR_MAC, src: PEER_MAC, etherType: 0x0806 };
  ethernet.encodeEthernet(eth, frame, 0);
  arp.encodeArp(
    { htype: 1, ptype: 0x0800, hlen: 6, plen: 4, op: 1, sha: PEER_MAC, spa: PEER, tha: 0, tpa: US },
    frame,
    14,
  );
  rx.receive(frame, 0, 14 + 28);
  rx.batchEnd();
  eth.etherType = 0x0800;
  ethernet.encodeEthernet(eth, frame, 0);
}

/** The IPv4 header of the peer's datagrams (length and checksum filled in per frame). */
export function peerIpv4(): ipv4.Ipv4Fields {
  return {
    version: 4,
    dscp: 0,
    ecn: 0,
    identification: 0,
    flags: 2,
    fragmentOffset: 0,
    ttl: 64,
    protocol: 6,
    src: PEER,
    dst: US,
    options: new Uint8Array(0),
  };
}

/** The peer's TCP header, to port 9 (discard), starting as a SYN; re-used for every segment. */
export function peerTcp(options = new Uint8Array(0)): codec.TcpFields {
  return {
    srcPort: 40000,
    dstPort: 9,
    seq: 0,
    ack: 0,
    flags: SYN,
    window: 65535,
    urgentPointer: 0,
    options,
  };
}

export interface Measured {
  /** Bytes allocated: the used heap's growth plus what every GC inside the run freed. */
  bytes: number;
  gcs: number;
  /** CPU time of this process (user + system): another process's slice is not ours. */
  ns: number;
}

/**
 * Measures one run after a GC: v8.GCProfiler has the used heap before and after each GC, so a
 * GC in the loop (the receive slabs' external memory starts some) hides nothing.
 */
export async function measured(run: () => Promise<void>): Promise<Measured> {
  const gc = exposedGc();
  await new Promise((f) => setImmediate(f));
  gc();
  const profiler = new GCProfiler();
  profiler.start();
  const before = getHeapStatistics().used_heap_size;
  const t0 = process.cpuUsage();
  await run();
  const cpu = process.cpuUsage(t0);
  const after = getHeapStatistics().used_heap_size;
  let freed = 0;
  const { statistics } = profiler.stop();
  for (const g of statistics) {
    freed += g.beforeGC.heapStatistics.usedHeapSize - g.afterGC.heapStatistics.usedHeapSize;
  }
  return {
    bytes: after - before + freed,
    gcs: statistics.length,
    ns: (cpu.user + cpu.system) * 1000,
  };
}

export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}
