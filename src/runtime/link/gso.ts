/**
 * Software GSO: cuts a TCP super-frame (what TSO hands a link: one IPv4 or IPv6 TCP segment of
 * many MSS, a virtio header saying gso_type and gso_size) into frames of at most gso_size payload
 * bytes, as Linux's tcp_gso_segment does, and completes the partial checksum of a frame sent
 * with NeedsCsum. A link whose far end takes no offloads (a memory link's peer without them)
 * runs its large frames through here; everything is read and written through the generated
 * views, each header copied once per segment, and nothing is allocated per frame.
 */
import { ethernet, ipv4, ipv6, tcp, virtio } from '../../generated/index.js';
import { copyBytes } from '../../util/bytes.js';
import type { FrameMeta } from './offload.js';

const { VirtioGsoType, VirtioNetFlags } = virtio;
const { TcpFlags } = tcp;
const TCP = ipv4.IpProtocol.TCP;
/** Flags only the last segment keeps (FIN, PSH) and only the first (CWR), as tcp_gso_segment. */
const LAST_ONLY = TcpFlags.FIN | TcpFlags.PSH;
const FIRST_ONLY = TcpFlags.CWR;

/** Where the frames go: returns false when the next hop refused one. */
export type FrameOut = (bytes: Uint8Array, offset: number, length: number) => boolean;

export class GsoSegmenter {
  private readonly eth = new ethernet.EthernetView();
  private readonly ip4 = new ipv4.Ipv4View();
  private readonly ip6 = new ipv6.Ipv6View();
  private readonly seg = new tcp.TcpView();
  private readonly out4 = new ipv4.Ipv4View();
  private readonly out6 = new ipv6.Ipv6View();
  private readonly outTcp = new tcp.TcpView();
  /** One segment's frame at a time (the next hop copies what it keeps). */
  private readonly out: Uint8Array;

  /** `maxFrame`: the largest frame the next hop takes (its MTU plus the Ethernet header). */
  constructor(readonly maxFrame: number) {
    this.out = new Uint8Array(maxFrame);
  }

  /**
   * Whether a frame with `meta` must come through here before a hop without offloads takes it:
   * a super-frame, or a partial checksum.
   */
  static needed(meta: FrameMeta): boolean {
    return meta.gsoType !== VirtioGsoType.None || (meta.flags & VirtioNetFlags.NeedsCsum) !== 0;
  }

  /**
   * Sends the frame at `bytes[offset..+length)` described by `meta` to `emit` as plain frames:
   * cut into gso_size pieces for a TCP super-frame, in one piece with its checksum completed
   * otherwise. Returns the frames emitted, or -1 for one it cannot handle (not Ethernet + IPv4
   * or IPv6 + TCP, an IPv6 extension header, a segment size that makes frames above maxFrame).
   */
  segment(
    bytes: Uint8Array,
    offset: number,
    length: number,
    meta: FrameMeta,
    emit: FrameOut,
  ): number {
    const eth = this.eth;
    if (eth.wrap(bytes, offset, length) !== null) return -1;
    const etherType = eth.etherType;
    const ipOffset = eth.payloadOffset;
    let tcpOffset: number;
    let tcpLength: number;
    let v4: boolean;
    if (etherType === ethernet.EtherType.IPv4) {
      const ip = this.ip4;
      if (ip.wrap(bytes, ipOffset, eth.payloadLength) !== null || ip.protocol !== TCP) return -1;
      if (ip.fragmentOffset !== 0 || (ip.flags & ipv4.Ipv4Flags.MF) !== 0) return -1;
      v4 = true;
      tcpOffset = ip.payloadOffset;
      tcpLength = ip.payloadLength;
    } else if (etherType === ethernet.EtherType.IPv6) {
      const ip = this.ip6;
      if (ip.wrap(bytes, ipOffset, eth.payloadLength) !== null || ip.nextHeader !== TCP) return -1;
      v4 = false;
      tcpOffset = ip.payloadOffset;
      tcpLength = ip.payloadLength;
    } else {
      return -1;
    }
    const seg = this.seg;
    if (seg.wrap(bytes, tcpOffset, tcpLength) !== null) return -1;
    const payloadOffset = seg.payloadOffset;
    const payload = seg.payloadLength;
    const headers = payloadOffset - offset;
    const mss = meta.gsoType === VirtioGsoType.None ? Math.max(payload, 1) : meta.gsoSize;
    if (mss <= 0 || headers + Math.min(mss, payload) > this.maxFrame) return -1;
    const out = this.out;
    const ipAt = ipOffset - offset;
    const tcpAt = tcpOffset - offset;
    const seq0 = seg.seq;
    const flags = seg.flags;
    const id0 = v4 ? this.ip4.identification : 0;
    let n = 0;
    for (let done = 0; n === 0 || done < payload; done += mss) {
      const size = Math.min(mss, payload - done);
      const total = headers + size;
      copyBytes(bytes, offset, out, 0, headers);
      copyBytes(bytes, payloadOffset + done, out, headers, size);
      // The copied IP header still declares the whole super-frame: wrapPartial() takes it as
      // cut, and the new length delimits it again.
      if (v4) {
        const ip = this.out4;
        if (
          ip.wrapPartial(out, ipAt, total - ipAt) !== null ||
          ip.setTotalLengthUpdatingChecksum(total - ipAt) !== null
        )
          return -1;
        // One IP ID per segment, counting up from the super-frame's (as the kernel's GSO).
        ip.setIdentificationUpdatingChecksum((id0 + n) & 0xffff);
      } else {
        const ip = this.out6;
        if (
          ip.wrapPartial(out, ipAt, total - ipAt) !== null ||
          ip.setPayloadLen(total - tcpAt) !== null
        )
          return -1;
      }
      const t = this.outTcp;
      if (t.wrap(out, tcpAt, total - tcpAt) !== null) return -1;
      t.setSeq((seq0 + done) >>> 0);
      let f = flags;
      if (done + size < payload) f &= ~LAST_ONLY;
      if (n > 0) f &= ~FIRST_ONLY;
      t.setFlags(f);
      if (v4) t.setChecksumWith(this.out4.srcBits, this.out4.dstBits);
      else
        t.setChecksumWithIpv6(out, ipAt + ipv6.IPV6_OFFSETS.src, out, ipAt + ipv6.IPV6_OFFSETS.dst);
      n++;
      if (!emit(out, 0, total)) return n;
    }
    return n;
  }
}
