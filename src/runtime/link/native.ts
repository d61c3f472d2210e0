/**
 * Loads the TAP addon (native/tap.c, built by node-gyp into build/Release at `npm ci`) and types
 * its surface. The .node file is found by walking up from this module to the package root, so
 * the same code works from src/ under tsx and from dist/src/ after tsc.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useNativeCopy } from '../../util/bytes.js';

const ADDON_FILE = join('build', 'Release', 'pktstack_tap.node');

/** write() outcomes, as numbered in native/tap.c. */
export const TxStatus = {
  Sent: 0,
  Queued: 1,
  QueueFull: 2,
  Error: 3,
  Closed: 4,
  TooBig: 5,
} as const;

/** An opaque pointer to the native device state. */
export type NativeHandle = { readonly __nativeTapHandle: unique symbol };

/** Called once per batch with the frame count, or with a negative errno when the device failed. */
export type BatchCallback = (count: number) => void;

/** One TUNSETOFFLOAD (or, with flags 0, IFF_VNET_HDR / TUNSETVNETHDRSZ) the kernel was asked. */
export interface NativeOffloadAttempt {
  /** TUN_F_* flags asked for. */
  flags: number;
  /** The errno name it failed with; '' when accepted. */
  error: string;
}

export interface NativeDevice {
  handle: NativeHandle;
  /**
   * Holds `rxBytes` of frames (packed, 64-byte aligned), then per frame of a batch an Int32
   * offset and length (`rxSlots` pairs), then at `txHeaderOffset` the virtio header of the next
   * frame written (when `vnetHdrSize` > 0).
   */
  buffer: ArrayBuffer;
  name: string;
  /** MAC of the kernel's side of the TAP (0 for attachFd). */
  kernelMac: number;
  mtu: number;
  rxSlots: number;
  /** Room one read needs: the largest frame, with its virtio header. */
  slotSize: number;
  rxBytes: number;
  txHeaderOffset: number;
  txSlots: number;
  fd: number;
  /** 0, or the bytes of the virtio_net_hdr in front of every frame both ways. */
  vnetHdrSize: number;
  /** TUN_F_* flags the kernel accepted. */
  offloadFlags: number;
  /** What open() asked the kernel, in order (empty without `offload`, and for attachFd). */
  offloadAttempts: NativeOffloadAttempt[];
}

export interface NativeStats {
  wakeups: number;
  rxFrames: number;
  rxBytes: number;
  rxErrors: number;
  maxBatch: number;
  txDirect: number;
  txQueued: number;
  txFlushed: number;
  txQueueFull: number;
  txErrors: number;
  txDroppedAtClose: number;
  txQueueLength: number;
  lastErrno: number;
}

export interface NativeOpenOptions {
  name: string;
  netns?: string;
  mtu?: number;
  up?: boolean;
  rxSlots?: number;
  txSlots?: number;
  /** Ask for IFF_VNET_HDR and TUNSETOFFLOAD, falling back to what the kernel takes. */
  offload?: boolean;
}

export interface NativeAttachOptions {
  fd: number;
  mtu: number;
  rxSlots?: number;
  txSlots?: number;
  /** The fd's frames carry a virtio_net_hdr, with these TUN_F_* offloads agreed elsewhere. */
  vnetHdr?: boolean;
  offloadFlags?: number;
}

export interface TapAddon {
  open(options: NativeOpenOptions, onBatch: BatchCallback): NativeDevice;
  attachFd(options: NativeAttachOptions, onBatch: BatchCallback): NativeDevice;
  write(handle: NativeHandle, bytes: Uint8Array, offset: number, length: number): number;
  setReading(handle: NativeHandle, on: boolean): void;
  close(handle: NativeHandle): void;
  stats(handle: NativeHandle): NativeStats;
  setIpv4(options: { name: string; address: number; prefixLength: number; netns?: string }): void;
  seqpacketPair(): [number, number];
  /** memmove of a byte range between two Uint8Arrays; false (nothing copied) when out of range. */
  copy(
    source: Uint8Array,
    sourceOffset: number,
    target: Uint8Array,
    targetOffset: number,
    length: number,
  ): boolean;
}

/** Thrown when the addon was never built (no compiler at install time, or --ignore-scripts). */
export class AddonMissingError extends Error {
  readonly code = 'E_ADDON_MISSING';
  constructor(searchedFrom: string) {
    super(
      `the TAP addon is not built (no ${ADDON_FILE} above ${searchedFrom}): ` +
        'run `npm rebuild` in the package (needs build-essential and python3)',
    );
    this.name = 'AddonMissingError';
  }
}

/** Thrown when the built addon predates the source (it lacks what this code calls). */
export class AddonStaleError extends Error {
  readonly code = 'E_ADDON_STALE';
  constructor(file: string, missing: string) {
    super(
      `the TAP addon ${file} is older than its source (it has no ${missing}()): ` +
        'rebuild it with `npm rebuild` in the package',
    );
    this.name = 'AddonStaleError';
  }
}

/** Every function TapAddon declares: one missing means the binary was built from older source. */
const ADDON_FUNCTIONS = [
  'open',
  'attachFd',
  'write',
  'setReading',
  'close',
  'stats',
  'setIpv4',
  'seqpacketPair',
  'copy',
] as const satisfies ReadonlyArray<keyof TapAddon>;

/** The loaded addon, if it has every function TapAddon declares; AddonStaleError otherwise. */
export function checkAddon(loaded: Partial<TapAddon>, file: string): TapAddon {
  for (const name of ADDON_FUNCTIONS)
    if (typeof loaded[name] !== 'function') throw new AddonStaleError(file, name);
  return loaded as TapAddon;
}

function locateAddon(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  let dir = start;
  while (true) {
    const candidate = join(dir, ADDON_FILE);
    if (existsSync(candidate)) return candidate;
    // The package root holds package.json; above it the addon cannot be ours.
    const parent = dirname(dir);
    if (existsSync(join(dir, 'package.json')) || parent === dir) throw new AddonMissingError(start);
    dir = parent;
  }
}

let addon: TapAddon | undefined;

/**
 * The addon, loaded on first use (so code that never opens a TAP never needs it). Loading it
 * also hands the stack's long byte copies to its memmove (see src/util/bytes.ts).
 */
export function tapAddon(): TapAddon {
  if (addon === undefined) {
    const file = locateAddon();
    addon = checkAddon(createRequire(import.meta.url)(file) as Partial<TapAddon>, file);
    useNativeCopy(addon.copy);
  }
  return addon;
}

/** Loads the addon for its copy alone, where it is built; false when it is not. */
export function loadNativeCopy(): boolean {
  try {
    tapAddon();
    return true;
  } catch (e) {
    if (e instanceof AddonMissingError) return false;
    throw e;
  }
}
