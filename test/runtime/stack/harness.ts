/**
 * An in-memory test bench: our stack on one end of a memory link pair, a scripted peer on the
 * other, both driven by a VirtualClock. The peer records every frame it receives and, unless
 * told otherwise, answers ARP requests for its own address like a well-behaved host.
 */
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair, type MemoryLink } from '../../../src/runtime/link/memory.js';
import type { FrameReceiver } from '../../../src/runtime/link/link.js';
import { createStack, type Stack, type StackOptions } from '../../../src/runtime/stack.js';
import {
  arpPacket,
  BROADCAST,
  ethernetFrame,
  get16,
  getMac,
  parseArp,
  PEER_IP,
  PEER_MAC,
  STACK_IP,
  STACK_MAC,
} from './frames.js';

export class ScriptedPeer implements FrameReceiver {
  readonly frames: Uint8Array[] = [];
  /** Addresses this peer answers ARP requests for. */
  readonly arpFor = new Set<number>([PEER_IP]);
  batches = 0;

  constructor(
    readonly link: MemoryLink,
    readonly clock: VirtualClock,
  ) {
    link.setReceiver(this);
  }

  receive(bytes: Uint8Array, offset: number, length: number): void {
    const frame = bytes.slice(offset, offset + length);
    this.frames.push(frame);
    if (get16(frame, 12) === 0x0806 && length >= 42) {
      const a = parseArp(frame);
      if (a.op === 1 && this.arpFor.has(a.tpa) && a.spa !== a.tpa) {
        this.link.send(
          ethernetFrame(
            a.sha,
            PEER_MAC,
            0x0806,
            arpPacket({ op: 2, sha: PEER_MAC, spa: a.tpa, tha: a.sha, tpa: a.spa }),
          ),
          0,
          42,
        );
      }
    }
  }

  batchEnd(): void {
    this.batches++;
  }

  /** Sends one frame to the stack and lets the virtual clock deliver it (and any answers). */
  send(frame: Uint8Array): void {
    if (!this.link.send(frame, 0, frame.length))
      throw new Error('memory link refused a test frame');
    this.clock.advance(0);
  }

  /** Sends several frames in one delivery batch. */
  sendBatch(frames: Uint8Array[]): void {
    for (const f of frames)
      if (!this.link.send(f, 0, f.length)) throw new Error('memory link refused a test frame');
    this.clock.advance(0);
  }

  /** Returns and forgets the frames received so far. */
  take(): Uint8Array[] {
    return this.frames.splice(0, this.frames.length);
  }

  /** Frames received of one EtherType (kept). */
  ofType(etherType: number): Uint8Array[] {
    return this.frames.filter((f) => get16(f, 12) === etherType);
  }
}

export interface Bench {
  clock: VirtualClock;
  stack: Stack;
  peer: ScriptedPeer;
  link: MemoryLink;
}

export interface SetupFlags {
  /** The stack learns the peer's MAC first (from an ARP request the peer sends). Default true. */
  knowPeer?: boolean;
}

export function setup(
  options: Partial<StackOptions> & { mtu?: number } = {},
  flags: SetupFlags = {},
): Bench {
  const clock = new VirtualClock();
  const [a, b] = createMemoryLinkPair({
    macA: STACK_MAC,
    macB: PEER_MAC,
    clock,
    mtu: options.mtu ?? 1500,
  });
  const peer = new ScriptedPeer(b, clock);
  const stack = createStack({ ip: '10.0.0.2/24', ...options, link: a, clock });
  clock.advance(0);
  peer.take(); // the gratuitous ARP
  if (flags.knowPeer ?? true) {
    peer.send(
      ethernetFrame(
        BROADCAST,
        PEER_MAC,
        0x0806,
        arpPacket({ op: 1, sha: PEER_MAC, spa: PEER_IP, tha: 0, tpa: STACK_IP }),
      ),
    );
    peer.take();
  }
  return { clock, stack, peer, link: a };
}

export function dstMacOf(frame: Uint8Array): number {
  return getMac(frame, 0);
}
