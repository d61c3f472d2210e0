/**
 * Offloads a link may offer (a TAP opened with IFF_VNET_HDR, a memory link told to), and the
 * per-frame facts that come with them. The virtio-net header (specs/virtio.pkt) is where a TAP
 * carries those facts; links turn it into a FrameMeta, one record per link reused for every
 * frame, so upper layers read plain fields and nothing is allocated per frame.
 */
import { ethernet, virtio } from '../../generated/index.js';

const { VirtioNetFlags, VirtioGsoType, TunOffload } = virtio;

/**
 * Largest frame on a link with TSO: a 64 KiB IP datagram (the most an IPv4 total length or an
 * IPv6 payload length without a jumbo option says) and its 14-byte Ethernet header.
 */
export const GSO_MAX_FRAME = 65535 + ethernet.ETHERNET_FIXED_SIZE;

/** What a link negotiated. */
export interface LinkOffloads {
  /** Frames carry a virtio_net_hdr on the device (TAP: IFF_VNET_HDR). */
  readonly vnetHdr: boolean;
  /** Partial checksums both ways (TUN_F_CSUM): received ones are trusted, sent ones completed. */
  readonly csum: boolean;
  /** TCP super-frames up to 64 KiB over IPv4 / IPv6 both ways (TUN_F_TSO4 / TUN_F_TSO6). */
  readonly tso4: boolean;
  readonly tso6: boolean;
  /** UDP segmentation (TUN_F_USO4 and TUN_F_USO6); the stack does not use it yet. */
  readonly uso: boolean;
  /** One line for logs, e.g. "vnet-hdr csum tso4 tso6" or "none". */
  readonly summary: string;
  /** Why fewer were negotiated than asked for (null when all were, or none was asked). */
  readonly fallback: string | null;
}

export const NO_OFFLOADS: LinkOffloads = Object.freeze({
  vnetHdr: false,
  csum: false,
  tso4: false,
  tso6: false,
  uso: false,
  summary: 'none',
  fallback: null,
});

/** The LinkOffloads of a set of TUN_F_* flags (`vnetHdr`: carried in a virtio header). */
export function offloadsFromTunFlags(
  vnetHdr: boolean,
  flags: number,
  fallback: string | null,
): LinkOffloads {
  const csum = (flags & TunOffload.Csum) !== 0;
  const tso4 = csum && (flags & TunOffload.Tso4) !== 0;
  const tso6 = csum && (flags & TunOffload.Tso6) !== 0;
  const uso = csum && (flags & TunOffload.Uso4) !== 0 && (flags & TunOffload.Uso6) !== 0;
  const names = [
    vnetHdr ? 'vnet-hdr' : '',
    csum ? 'csum' : '',
    tso4 ? 'tso4' : '',
    tso6 ? 'tso6' : '',
    uso ? 'uso' : '',
  ].filter((n) => n !== '');
  return Object.freeze({
    vnetHdr,
    csum,
    tso4,
    tso6,
    uso,
    summary: names.length === 0 ? 'none' : names.join(' '),
    fallback,
  });
}

/** The TUN_F_* flags a LinkOffloads stands for. */
export function tunFlagsOf(o: LinkOffloads): number {
  return (
    (o.csum ? TunOffload.Csum : 0) |
    (o.tso4 ? TunOffload.Tso4 : 0) |
    (o.tso6 ? TunOffload.Tso6 : 0) |
    (o.uso ? TunOffload.Uso4 | TunOffload.Uso6 : 0)
  );
}

/** "csum tso4 tso6" for a set of TUN_F_* flags (log lines). */
export function tunFlagNames(flags: number): string {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(TunOffload)) if ((flags & bit) !== 0) names.push(name);
  return names.length === 0 ? '0' : names.join('|').toLowerCase();
}

/**
 * What the virtio header said about one frame. A link fills its record before it hands the
 * frame up and clears it afterwards; `bytes` names the buffer the frame lies in, so a reader
 * never takes the record for a datagram that is not that frame (a reassembled one, a loopback
 * one sent while the frame was being handled).
 */
export class FrameMeta implements virtio.VirtioNetHdrFields {
  bytes: Uint8Array | null = null;
  /** VirtioNetFlags. */
  flags = 0;
  /** The ECN bit of gso_type (TUN_F_TSO_ECN), never set by this stack. */
  ecn = 0;
  /** VirtioGsoType (without the ECN bit). */
  gsoType = 0;
  /** Payload bytes per segment of a GSO super-frame (its MSS); 0 for a plain frame. */
  gsoSize = 0;
  hdrLen = 0;
  /** NeedsCsum: the checksum covers the frame from csumStart and sits csumOffset after it. */
  csumStart = 0;
  csumOffset = 0;

  clear(): void {
    this.bytes = null;
    this.flags = 0;
    this.ecn = 0;
    this.gsoType = 0;
    this.gsoSize = 0;
    this.hdrLen = 0;
    this.csumStart = 0;
    this.csumOffset = 0;
  }

  copyFrom(other: FrameMeta): void {
    this.bytes = other.bytes;
    this.flags = other.flags;
    this.ecn = other.ecn;
    this.gsoType = other.gsoType;
    this.gsoSize = other.gsoSize;
    this.hdrLen = other.hdrLen;
    this.csumStart = other.csumStart;
    this.csumOffset = other.csumOffset;
  }

  /** A copy of these facts tied to no buffer (kept with a queued copy of the frame). */
  detached(): FrameMeta {
    const copy = new FrameMeta();
    copy.copyFrom(this);
    copy.bytes = null;
    return copy;
  }

  /** From a header wrapped over `bytes` (the frame follows it there). */
  readFrom(view: virtio.VirtioNetHdrView, bytes: Uint8Array): void {
    this.bytes = bytes;
    this.flags = view.flags;
    this.ecn = view.ecn;
    this.gsoType = view.gsoType;
    this.gsoSize = view.gsoType === VirtioGsoType.None ? 0 : view.gsoSize;
    this.hdrLen = view.hdrLen;
    this.csumStart = view.csumStart;
    this.csumOffset = view.csumOffset;
  }

  /** Writes the header for this record at `offset` (VIRTIONETHDR_FIXED_SIZE bytes). */
  writeTo(out: Uint8Array, offset: number): void {
    virtio.encodeVirtioNetHdr(this, out, offset);
  }

  /**
   * True when the transport checksum of the datagram in `bytes` need not be verified: the
   * frame is this record's and the kernel either verified it (DataValid) or never computed it
   * because it never left this host (NeedsCsum: only the pseudo-header sum is there).
   */
  checksumTrusted(bytes: Uint8Array): boolean {
    return (
      bytes === this.bytes &&
      (this.flags & (VirtioNetFlags.NeedsCsum | VirtioNetFlags.DataValid)) !== 0
    );
  }

  /** True when the frame in `bytes` holds only the pseudo-header's sum (NeedsCsum). */
  checksumPartial(bytes: Uint8Array): boolean {
    return bytes === this.bytes && (this.flags & VirtioNetFlags.NeedsCsum) !== 0;
  }

  /** The MSS of the segments the frame in `bytes` stands for (0: not a GSO super-frame). */
  segmentSizeOf(bytes: Uint8Array): number {
    return bytes === this.bytes ? this.gsoSize : 0;
  }
}
