/**
 * Loads the TAP addon (native/tap.c, built by node-gyp into build/Release at `npm ci`) and types
 * its surface. The .node file is found by walking up from this module to the package root, so
 * the same code works from src/ under tsx and from dist/src/ after tsc.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export interface NativeDevice {
  handle: NativeHandle;
  /** Holds `rxSlots` frame slots of `slotSize` bytes, then `rxSlots` Int32 frame lengths. */
  buffer: ArrayBuffer;
  name: string;
  /** MAC of the kernel's side of the TAP (0 for attachFd). */
  kernelMac: number;
  mtu: number;
  rxSlots: number;
  slotSize: number;
  txSlots: number;
  fd: number;
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
}

export interface NativeAttachOptions {
  fd: number;
  mtu: number;
  rxSlots?: number;
  txSlots?: number;
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

/** The addon, loaded on first use (so code that never opens a TAP never needs it). */
export function tapAddon(): TapAddon {
  if (addon === undefined) addon = createRequire(import.meta.url)(locateAddon()) as TapAddon;
  return addon;
}
