/**
 * The time a TcpLayer gives the state machine for received segments. A host that batches (one
 * TAP read, one memory delivery, then batchEnd()) has the segments of a batch share one clock
 * reading, taken at the batch's first segment; the next batch reads the clock again. A host
 * that reports no batch ends gets a reading per segment.
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

/** A layer with one connection from PEER:40000 to port 9, established; segments fed by hand. */
function established(coalesceAcks: boolean) {
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
  layer.listen(9, (s) => {
    server = s;
    s.on('data', () => {});
  });
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
  const segment = (flags: number, len: number): void => {
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
    layer.receive(delivery);
    seq = (seq + len + (flags & SYN ? 1 : 0)) >>> 0;
  };
  segment(SYN, 0);
  layer.batchEnd();
  segment(ACK, 0);
  layer.batchEnd();
  expect(server).not.toBeNull();
  const lastRecv = (): number => {
    let at = NaN;
    const backend = (server as unknown as { backend: SocketBackend }).backend;
    backend.configure((conn) => (at = conn.lastRecv));
    return at;
  };
  return { clock, layer, data: () => segment(ACK, MSS), lastRecv };
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
