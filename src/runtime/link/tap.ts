import { constants } from 'node:os';
import type { FrameReceiver, Link, LinkStats } from './link.js';
import { ETHERNET_HEADER_LENGTH } from '../ethernet/ethernet.js';
import { virtio } from '../../generated/index.js';
import {
  tapAddon,
  TxStatus,
  type NativeDevice,
  type NativeHandle,
  type NativeOffloadAttempt,
  type TapAddon,
} from './native.js';
import {
  FrameMeta,
  GSO_MAX_FRAME,
  NO_OFFLOADS,
  offloadsFromTunFlags,
  tunFlagNames,
  type LinkOffloads,
} from './offload.js';

export interface TapOptions {
  /** Interface name, e.g. "tap0" (created if missing, attached if it exists and is free). */
  name: string;
  /** Sets the interface MTU first; by default the current MTU is used. */
  mtu?: number;
  /**
   * Our MAC on this wire: the stack is a separate host behind the TAP, so it must not reuse the
   * kernel side's address. Default: the kernel side's MAC with the last octet plus one, marked
   * locally administered (02:00:00:00:00:01 → 02:00:00:00:00:02).
   */
  mac?: number;
  /** Open the TAP inside this network namespace (a name under /var/run/netns, or a path). */
  netns?: string;
  /** Bring the interface up (default true). */
  up?: boolean;
  /** Frames read per wakeup at most (default 256): bounds latency for everything else on the loop. */
  rxSlots?: number;
  /** Frames queued when the kernel refuses a write for now (default 256). */
  txSlots?: number;
  /** Called once if the device fails (e.g. the interface was deleted); reading stops. */
  onError?: (error: Error) => void;
  /**
   * Open with IFF_VNET_HDR and ask for checksum and TCP segmentation offloads
   * (TUNSETOFFLOAD), taking what the kernel accepts: `link.offloads` says what that was, and
   * its `fallback` why it was less. Default true; false opens the TAP as plain frames (every
   * frame at most MTU-sized, checksums complete both ways).
   */
  offload?: boolean;
}

export interface TapLinkStats extends LinkStats {
  /** Batches handed to the receiver: one per wakeup that read frames. */
  rxBatches: number;
  /** Largest batch seen. rxFrames / rxBatches is the mean frames per wakeup. */
  rxMaxBatch: number;
  /** Frames that arrived with no receiver set (dropped). */
  rxNoReceiver: number;
  rxErrors: number;
  /** Frames that met EAGAIN and waited in the queue; txFlushed of them were sent later. */
  txQueued: number;
  txFlushed: number;
  txQueueFull: number;
  txErrors: number;
  txTooBig: number;
  txDroppedAtClose: number;
  txQueueLength: number;
  /** Frames too short for their virtio header (dropped). */
  rxBadVnetHdr: number;
}

/** An Error from the device with the errno name as `code` (ENOENT, EPERM, EBUSY, ...). */
export interface TapError extends Error {
  code: string;
  errno: number;
}

function deriveStackMac(kernelMac: number): number {
  const last = kernelMac % 256;
  const withLast = kernelMac - last + ((last + 1) % 256);
  const first = Math.floor(withLast / 2 ** 40);
  const rest = withLast % 2 ** 40;
  // Locally administered (bit 1 set), unicast (bit 0 clear).
  return ((first | 0x02) & 0xfe) * 2 ** 40 + rest;
}

/**
 * A Link over a TAP device (or any fd that keeps frame boundaries). Frames arrive in batches: the
 * addon drains the device into one shared buffer and calls `onBatch` once; this class walks the
 * batch and calls the receiver per frame with views into that buffer (no allocation per frame).
 */
export class TapLink implements Link {
  readonly mac: number;
  readonly mtu: number;
  readonly name: string;
  /** MAC of the kernel side of the TAP. */
  readonly kernelMac: number;
  /** The error that stopped the device, if any. */
  error: TapError | undefined;
  readonly offloads: LinkOffloads;
  readonly rxMeta = new FrameMeta();
  /** Present with a virtio header: see Link.txMeta. */
  readonly txMeta: FrameMeta | undefined;

  private readonly addon: TapAddon;
  private readonly handle: NativeHandle;
  private readonly rx: Uint8Array;
  /** Per frame of a batch: its offset in `rx`, then its length. */
  private readonly frames: Int32Array;
  private readonly vnetHdrSize: number;
  private readonly vnetHdr = new virtio.VirtioNetHdrView();
  /** The next written frame's virtio header, in the buffer shared with the addon. */
  private readonly txHeader: Uint8Array;
  /** Whether txHeader holds a header other than all zero (a plain frame's). */
  private txHeaderSet = false;
  private readonly maxFrame: number;
  private readonly maxGsoFrame: number;
  private receiver: FrameReceiver | undefined;
  private closed = false;
  private readonly onError: ((error: Error) => void) | undefined;
  private readonly counters = {
    rxFrames: 0,
    rxBytes: 0,
    rxBatches: 0,
    rxMaxBatch: 0,
    rxNoReceiver: 0,
    rxBadVnetHdr: 0,
    txFrames: 0,
    txBytes: 0,
    txDropped: 0,
    txTooBig: 0,
  };

  /** @internal Use openTap() or openFrameFd(). */
  constructor(
    addon: TapAddon,
    open: (onBatch: (count: number) => void) => NativeDevice,
    mac: number | undefined,
    onError?: (error: Error) => void,
  ) {
    this.addon = addon;
    this.onError = onError;
    const device = open((count) => this.onBatch(count));
    this.handle = device.handle;
    this.name = device.name;
    this.mtu = device.mtu;
    this.kernelMac = device.kernelMac;
    this.mac = mac ?? deriveStackMac(device.kernelMac);
    this.maxFrame = device.mtu + ETHERNET_HEADER_LENGTH;
    this.vnetHdrSize = device.vnetHdrSize;
    this.offloads =
      device.vnetHdrSize === 0 && device.offloadAttempts.length === 0
        ? NO_OFFLOADS
        : offloadsFromTunFlags(
            device.vnetHdrSize > 0,
            device.offloadFlags,
            describeFallback(device.offloadAttempts),
          );
    this.rx = new Uint8Array(device.buffer, 0, device.rxBytes);
    this.txHeader = new Uint8Array(device.buffer, device.txHeaderOffset, device.vnetHdrSize);
    this.txMeta = device.vnetHdrSize > 0 ? new FrameMeta() : undefined;
    this.maxGsoFrame =
      this.offloads.tso4 || this.offloads.tso6
        ? Math.max(GSO_MAX_FRAME, this.maxFrame)
        : this.maxFrame;
    this.frames = new Int32Array(device.buffer, device.rxBytes, 2 * device.rxSlots);
  }

  send(bytes: Uint8Array, offset: number, length: number): boolean {
    const c = this.counters;
    const meta = this.txMeta;
    let max = this.maxFrame;
    if (meta !== undefined) {
      if (meta.bytes === bytes && (meta.flags !== 0 || meta.gsoType !== 0)) {
        meta.writeTo(this.txHeader, 0);
        this.txHeaderSet = true;
        if (meta.gsoType !== 0) max = this.maxGsoFrame;
      } else if (this.txHeaderSet) {
        this.txHeader.fill(0);
        this.txHeaderSet = false;
      }
      meta.bytes = null;
    }
    if (length > max || length < ETHERNET_HEADER_LENGTH) {
      c.txTooBig += length > max ? 1 : 0;
      c.txDropped++;
      return false;
    }
    if (offset < 0 || offset + length > bytes.length) {
      c.txDropped++;
      return false;
    }
    const status = this.addon.write(this.handle, bytes, offset, length);
    if (status === TxStatus.Sent || status === TxStatus.Queued) {
      c.txFrames++;
      c.txBytes += length;
      return true;
    }
    c.txDropped++;
    return false;
  }

  setReceiver(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }

  /** Pauses or resumes reading; while paused, frames wait in (and overflow) the kernel's queue. */
  setReading(on: boolean): void {
    if (!this.closed) this.addon.setReading(this.handle, on);
  }

  stats(): TapLinkStats {
    const n = this.addon.stats(this.handle);
    const c = this.counters;
    return {
      rxFrames: c.rxFrames,
      rxBytes: c.rxBytes,
      txFrames: c.txFrames,
      txBytes: c.txBytes,
      txDropped: c.txDropped + n.txErrors + n.txDroppedAtClose,
      rxBatches: c.rxBatches,
      rxMaxBatch: c.rxMaxBatch,
      rxNoReceiver: c.rxNoReceiver,
      rxBadVnetHdr: c.rxBadVnetHdr,
      rxErrors: n.rxErrors,
      txQueued: n.txQueued,
      txFlushed: n.txFlushed,
      txQueueFull: n.txQueueFull,
      txErrors: n.txErrors,
      txTooBig: c.txTooBig,
      txDroppedAtClose: n.txDroppedAtClose,
      txQueueLength: n.txQueueLength,
    };
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.addon.close(this.handle);
    }
    return Promise.resolve();
  }

  private onBatch(count: number): void {
    if (count < 0) {
      this.fail(-count);
      return;
    }
    const c = this.counters;
    c.rxBatches++;
    if (count > c.rxMaxBatch) c.rxMaxBatch = count;
    const receiver = this.receiver;
    if (receiver === undefined) {
      c.rxNoReceiver += count;
      return;
    }
    const rx = this.rx;
    const frames = this.frames;
    const hdrSize = this.vnetHdrSize;
    for (let i = 0; i < count && !this.closed; i++) {
      const offset = frames[2 * i];
      const length = frames[2 * i + 1];
      if (hdrSize === 0) {
        c.rxFrames++;
        c.rxBytes += length;
        receiver.receive(rx, offset, length);
        continue;
      }
      if (this.vnetHdr.wrap(rx, offset, length) !== null) {
        c.rxBadVnetHdr++;
        continue;
      }
      c.rxFrames++;
      c.rxBytes += length - hdrSize;
      this.rxMeta.readFrom(this.vnetHdr, rx);
      receiver.receive(rx, offset + hdrSize, length - hdrSize);
      this.rxMeta.clear();
    }
    receiver.batchEnd();
  }

  private fail(errno: number): void {
    const code = errnoName(errno);
    const why =
      code === 'EBADF' || code === 'EBADFD'
        ? 'the interface was deleted'
        : code === 'EPIPE' || code === 'ECONNRESET'
          ? 'the other end closed'
          : 'reading failed';
    const error = new Error(`TAP device ${this.name} stopped (${code}): ${why}`) as TapError;
    error.errno = errno;
    error.code = code;
    this.error = error;
    this.onError?.(error);
  }
}

/** Why the kernel gave fewer offloads than asked, from the attempts in order; null if it did not. */
function describeFallback(attempts: readonly NativeOffloadAttempt[]): string | null {
  const refused = attempts.filter((a) => a.error !== '');
  if (refused.length === 0) return null;
  const accepted = attempts.find((a) => a.error === '');
  const steps = refused.map((a) =>
    a.flags === 0
      ? `IFF_VNET_HDR refused (${a.error})`
      : `TUNSETOFFLOAD ${tunFlagNames(a.flags)} refused (${a.error})`,
  );
  const outcome = accepted === undefined ? 'no offloads' : `using ${tunFlagNames(accepted.flags)}`;
  return `${steps.join(', ')}: ${outcome}`;
}

function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(constants.errno)) if (value === errno) return name;
  return `E${errno}`;
}

/**
 * Opens (creating if needed) a TAP device and returns it as a Link. Errors carry `code`:
 * ENOENT (no /dev/net/tun), EPERM (needs root or CAP_NET_ADMIN), EBUSY (another process holds
 * the interface), EINVAL (bad name, or the interface exists but is not a TAP).
 */
export function openTap(options: TapOptions): Promise<TapLink> {
  try {
    const addon = tapAddon();
    const link = new TapLink(
      addon,
      (onBatch) =>
        addon.open(
          {
            name: options.name,
            netns: options.netns,
            mtu: options.mtu,
            up: options.up,
            rxSlots: options.rxSlots,
            txSlots: options.txSlots,
            offload: options.offload ?? true,
          },
          onBatch,
        ),
      options.mac,
      options.onError,
    );
    return Promise.resolve(link);
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

export interface FrameFdOptions {
  /** An fd whose reads and writes are whole frames: a TAP fd opened elsewhere, or a SOCK_SEQPACKET socket. */
  fd: number;
  mtu: number;
  mac: number;
  rxSlots?: number;
  txSlots?: number;
  onError?: (error: Error) => void;
  /**
   * The fd's frames carry a virtio_net_hdr, with these TUN_F_* offloads (a TAP opened with
   * `offload` elsewhere, or a socketpair standing in for one in tests).
   */
  vnetHdr?: boolean;
  offloadFlags?: number;
}

/**
 * A Link over an already-open frame fd, which it takes ownership of. Lets a privileged parent
 * pass a TAP fd to an unprivileged process, and lets tests and benchmarks run the same batch and
 * backpressure code over a socketpair (see `frameSocketPair`) without root.
 */
export function openFrameFd(options: FrameFdOptions): TapLink {
  const addon = tapAddon();
  return new TapLink(
    addon,
    (onBatch) =>
      addon.attachFd(
        {
          fd: options.fd,
          mtu: options.mtu,
          rxSlots: options.rxSlots,
          txSlots: options.txSlots,
          vnetHdr: options.vnetHdr ?? false,
          offloadFlags: options.offloadFlags ?? 0,
        },
        onBatch,
      ),
    options.mac,
    options.onError,
  );
}

/** Two connected non-blocking SOCK_SEQPACKET fds: one frame per message, like a TAP fd. */
export function frameSocketPair(): [number, number] {
  return tapAddon().seqpacketPair();
}

/** Sets the IPv4 address of the kernel's side of a TAP (what `ip addr add` would do). */
export function setKernelIpv4(options: {
  name: string;
  address: number;
  prefixLength: number;
  netns?: string;
}): void {
  tapAddon().setIpv4(options);
}
