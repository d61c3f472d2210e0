/**
 * Local delivery: datagrams to our own addresses, 127.0.0.0/8 or ::1 never touch the link
 * (Linux routes them through `lo`). The network layer writes its header as for the wire, then
 * hands the whole datagram here; a copy waits in a bounded queue and is received on a later turn
 * of the event loop (setImmediate), never inside the send that produced it: a transport that
 * answers what it receives would otherwise re-enter itself, and a busy loopback flow must not
 * starve timers and I/O. Each turn ends like a link batch (`batchEnd`), so coalesced ACKs go out.
 */

/** A network layer that takes its own datagrams back (no martian checks: they never left). */
export interface LocalReceiver {
  receiveLocal(bytes: Uint8Array, offset: number, length: number): void;
}

export interface LoopbackStats {
  /** Datagrams delivered locally. */
  packets: number;
  /** Datagrams refused because `limit` were already waiting (Linux: netdev_max_backlog). */
  drops: number;
}

interface Waiting {
  to: LocalReceiver;
  bytes: Uint8Array;
}

export class Loopback {
  readonly stats: LoopbackStats = { packets: 0, drops: 0 };
  private queue: Waiting[] = [];
  private pending: ReturnType<typeof setImmediate> | null = null;
  private closed = false;

  constructor(
    /** Runs after each turn's deliveries (the stack's batch-end listeners). */
    private readonly batchEnd: () => void,
    /** Most datagrams waiting at once (Linux's netdev_max_backlog: 1000). */
    private readonly limit = 1000,
  ) {}

  /** Queues a copy of `bytes[offset, +length)` for `to`; false (counted) when the queue is full. */
  send(to: LocalReceiver, bytes: Uint8Array, offset: number, length: number): boolean {
    if (this.closed || this.queue.length >= this.limit) {
      this.stats.drops++;
      return false;
    }
    this.queue.push({ to, bytes: bytes.slice(offset, offset + length) });
    this.pending ??= setImmediate(this.drain);
    return true;
  }

  /** Drops what waits and refuses more (stack shutdown). */
  close(): void {
    this.closed = true;
    this.queue = [];
    if (this.pending !== null) clearImmediate(this.pending);
    this.pending = null;
  }

  private readonly drain = (): void => {
    this.pending = null;
    // What the deliveries send back waits for the next turn.
    const batch = this.queue;
    this.queue = [];
    for (const w of batch) {
      if (this.closed) return;
      this.stats.packets++;
      w.to.receiveLocal(w.bytes, 0, w.bytes.length);
    }
    this.batchEnd();
  };
}
