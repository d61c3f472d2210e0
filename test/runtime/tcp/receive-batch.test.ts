/**
 * What a TcpLayer does per receive batch (one TAP read, one memory delivery, then batchEnd()).
 * The time it gives the state machine: the segments of a batch share one clock reading, taken
 * at the batch's first segment; the next batch reads the clock again; a host that reports no
 * batch ends gets a reading per segment. An `onread` socket's buffer: filled straight from the
 * segments and handed to the callback once the next segment would not fit, also in the middle
 * of a batch, so a large batch is not copied into the receive slab and then again.
 */
import { describe, expect, it } from 'vitest';
import { ACK, SYN } from '../../../src/fsm/segment.js';
import { tcp as codec } from '../../../src/generated/index.js';
import type { Clock, TimerHandle } from '../../../src/runtime/clock/clock.js';
import { SendStatus, type Ipv4Delivery, type Ipv4Sender } from '../../../src/runtime/layers.js';
import { TcpLayer } from '../../../src/runtime/tcp/layer.js';
import type { SocketBackend, TcpSocket } from '../../../src/runtime/tcp/socket.js';

const US = 0x0a000002;
const PEER = 0x0a000001;
const MSS = 1000;

/** A clock the test sets by hand; counts its readings; timers never fire. */
class HandClock implements Clock {
  t = 0;
  reads = 0;
  now(): number {
    this.reads++;
    return this.t;
  }
  setTimer(): TimerHandle {
    return { cancel: () => {} };
  }
}

/**
 * A layer with one connection from PEER:40000 to port 9, established; segments fed by hand,
 * each `MSS` bytes of a running counter. With `onread`, the server reads into a buffer of that
 * size and `reads` records each callback: its length and whether it came before batchEnd().
 */
function established(coalesceAcks: boolean, onread = 0) {
  const clock = new HandClock();
  const view = new codec.TcpView();
  let synAckSeq = 0;
  const sender: Ipv4Sender = {
    address: US,
    maxPayload: 1480,
    send(_dst, _protocol, buf, off) {
      if (view.wrap(buf, off) === null && view.flags & SYN) synAckSeq = view.seq;
      return SendStatus.Sent;
    },
  };
  const layer = new TcpLayer(sender, clock, { rcvBuf: 1 << 20, isnKey: new Uint8Array(16) });
  layer.coalesceAcks = coalesceAcks;
  let server: TcpSocket | null = null;
  let batchOpen = false;
  const reads: Array<{ bytes: number; inBatch: boolean }> = [];
  const received: number[] = [];
  const readBuffer = new Uint8Array(onread);
  layer.listen(
    9,
    (s) => {
      server = s;
      if (onread === 0) s.on('data', () => {});
    },
    onread === 0
      ? {}
      : {
          onread: () => ({
            buffer: readBuffer,
            callback: (n: number) => {
              reads.push({ bytes: n, inBatch: batchOpen });
              for (let i = 0; i < n; i++) received.push(readBuffer[i]);
            },
          }),
        },
  );
  const frame = new Uint8Array(20 + MSS);
  const delivery: Ipv4Delivery = {
    src: PEER,
    dst: US,
    protocol: 6,
    ttl: 64,
    toBroadcast: false,
    bytes: frame,
    offset: 0,
    length: 0,
    datagramOffset: 0,
    datagramLength: 0,
    frame: null,
  };
  let seq = 1000;
  let sent = 0;
  const segment = (flags: number, len: number): void => {
    for (let i = 0; i < len; i++) frame[20 + i] = sent++ & 0xff;
    const n = codec.encodeTcp(
      {
        srcPort: 40000,
        dstPort: 9,
        seq,
        ack: (synAckSeq + 1) >>> 0,
        flags,
        window: 65535,
        urgentPointer: 0,
        options: new Uint8Array(0),
      },
      frame,
      0,
      len,
      PEER,
      US,
    );
    delivery.length = delivery.datagramLength = n + len;
    batchOpen = true;
    layer.receive(delivery);
    seq = (seq + len + (flags & SYN ? 1 : 0)) >>> 0;
  };
  segment(SYN, 0);
  layer.batchEnd();
  segment(ACK, 0);
  layer.batchEnd();
  batchOpen = false;
  expect(server).not.toBeNull();
  const lastRecv = (): number => {
    let at = NaN;
    const backend = (server as unknown as { backend: SocketBackend }).backend;
    backend.configure((conn) => (at = conn.lastRecv));
    return at;
  };
  const batchEnd = (): void => {
    batchOpen = false;
    layer.batchEnd();
  };
  return { clock, layer, data: () => segment(ACK, MSS), lastRecv, batchEnd, reads, received };
}

describe('the arrival time of received segments', () => {
  it('is one clock reading per batch, taken at its first segment', () => {
    const { clock, layer, data, lastRecv } = established(true);
    clock.t = 100;
    const before = clock.reads;
    for (let i = 0; i < 8; i++) {
      data();
      clock.t += 3; // the clock moves on while the batch is worked through
    }
    // Eight segments, two readings: their arrival, and arming the delayed-ACK timer.
    expect(clock.reads - before).toBe(2);
    expect(lastRecv()).toBe(100);
    layer.batchEnd();
    expect(lastRecv()).toBe(100);
  });

  it('is read again for the next batch', () => {
    const { clock, layer, data, lastRecv } = established(true);
    clock.t = 100;
    data();
    layer.batchEnd();
    clock.t = 750;
    data();
    expect(lastRecv()).toBe(750);
    layer.batchEnd();
    clock.t = 2000;
    data();
    data();
    expect(lastRecv()).toBe(2000);
  });

  it('is read per segment when the host reports no batch ends', () => {
    const { clock, data, lastRecv } = established(false);
    clock.t = 100;
    data();
    clock.t = 130;
    data();
    expect(lastRecv()).toBe(130);
  });
});

describe("an onread socket's buffer within a batch", () => {
  it('goes to the callback as soon as the next segment would not fit, then fills again', () => {
    const { data, batchEnd, reads, received } = established(true, 2500);
    for (let i = 0; i < 10; i++) data();
    // 1000-byte segments into 2500 bytes: handed over at 2000 (then 500 left) and again, never
    // more than one segment's worth spilling, in the middle of the batch.
    expect(reads.length).toBeGreaterThanOrEqual(4);
    expect(reads.every((r) => r.inBatch)).toBe(true);
    batchEnd();
    expect(received.length).toBe(10 * MSS);
    expect(received.every((b, i) => b === (i & 0xff))).toBe(true);
  });

  it('waits for the batch end when the batch fits', () => {
    const { data, batchEnd, reads, received } = established(true, 8000);
    for (let i = 0; i < 3; i++) data();
    expect(reads).toEqual([]);
    batchEnd();
    expect(reads).toEqual([{ bytes: 3 * MSS, inBatch: false }]);
    expect(received.every((b, i) => b === (i & 0xff))).toBe(true);
  });
});
