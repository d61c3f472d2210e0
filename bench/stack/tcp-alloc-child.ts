/**
 * Bytes allocated per received TCP data segment, in a child process started by tcp.ts with
 * `--expose-gc --max-semi-space-size=128 --min-semi-space-size=128`: a TcpLayer fed pre-built,
 * in-order 1448-byte segments from a fake peer (its replies go nowhere), in batches of 32 like
 * TAP wakeups, the socket consumed by a no-op 'data' handler (or, with `onread` as the second
 * argument, by an `onread` callback on one 64 KiB buffer). After a warm-up the heap is
 * collected, N segments are pushed through, and what the heap grew by plus what GCs in the loop
 * freed, less what the same loop allocates without the stack (building the segments, turning
 * the event loop), divided by N, is the cost. What remains is a Buffer per batch and connection (the batch's data as one view
 * of the receive slab, see src/runtime/tcp/rx-slab.ts), the slab's own objects, and the
 * stream's bookkeeping.
 */
import { ACK, SYN } from '../../src/fsm/segment.js';
import { tcp as codec } from '../../src/generated/index.js';
import { RealClock } from '../../src/runtime/clock/real.js';
import { SendStatus, type Ipv4Delivery, type Ipv4Sender } from '../../src/runtime/layers.js';
import { TcpLayer } from '../../src/runtime/tcp/layer.js';
import { copyMode, exposedGc, measured, PEER, peerTcp, US } from './child-harness.js';

const COPY = copyMode();

exposedGc();
const N = Number(process.argv[2] ?? 200_000);
const MSS = 1448;
const BATCH = 32;

let lastSeq = 0;
const sentTcp = new codec.TcpView();
let sentSegments = 0;
const sender: Ipv4Sender = {
  address: US,
  maxPayload: 1480,
  send(_dst, _protocol, buf, off) {
    sentSegments++;
    // Signed: an unsigned value >= 2^31 would be a heap number per segment sent, counted as
    // the stack's allocation.
    if (sentTcp.wrap(buf, off) === null) lastSeq = sentTcp.seqBits;
    return SendStatus.Sent;
  },
};
const layer = new TcpLayer(sender, new RealClock({ unrefTimers: true }), {
  rcvBuf: 1 << 22,
  isnKey: new Uint8Array(16),
});
layer.coalesceAcks = true;
let consumed = 0;
/** 'data' (the stream: a Buffer per batch) or 'onread' (node:net's: one reused buffer). */
const MODE = process.argv[3] ?? 'data';
if (MODE !== 'data' && MODE !== 'onread') throw new Error(`mode ${MODE}: data or onread`);
const readBuffer = new Uint8Array(64 * 1024);
layer.listen(
  9,
  (s) => {
    if (MODE === 'data') s.on('data', (d: Buffer) => (consumed += d.length));
  },
  MODE === 'onread'
    ? { onread: () => ({ buffer: readBuffer, callback: (n: number) => void (consumed += n) }) }
    : {},
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
const fields = peerTcp();
/** Builds a segment from the peer and, when `deliver`, hands it to the layer. */
function feed(seq: number, ack: number, flags: number, len: number, deliver = true): void {
  fields.seq = seq >>> 0;
  fields.ack = ack >>> 0;
  fields.flags = flags;
  fields.checksum = undefined;
  fields.dataOffset = undefined;
  const n = codec.encodeTcp(fields, frame, 0, len, PEER, US);
  delivery.length = n + len;
  delivery.datagramLength = n + len;
  if (deliver) layer.receive(delivery);
}

let seq = 1000;
let fed = 0;
feed(seq, 0, SYN, 0);
const ack = (lastSeq + 1) >>> 0; // acknowledge our SYN-ACK
seq++;
feed(seq, ack, ACK, 0);

/**
 * Feeds `count` segments in batches, letting the event loop turn between batches (as between
 * TAP wakeups) so the socket's stream machinery runs. Without `deliver` it is the same loop
 * without the stack: what the measurement's own work allocates (building each segment, turning
 * the event loop: one Immediate per batch), to be subtracted.
 */
function run(count: number, deliver: boolean): Promise<void> {
  return new Promise((done) => {
    let s = seq;
    let i = 0;
    const batch = (): void => {
      for (let j = 0; j < BATCH; j++) {
        feed(s, ack, ACK, MSS, deliver);
        s = (s + MSS) >>> 0;
      }
      if (deliver) {
        layer.batchEnd();
        fed += BATCH;
      }
      i += BATCH;
      if (i < count) setImmediate(batch);
      else {
        if (deliver) seq = s;
        setImmediate(done);
      }
    };
    batch();
  });
}
const stream = (count: number) => run(count, true);
const idle = (count: number) => run(count, false);

await stream(50_000); // warm-up: JIT, stream buffers at steady state
await idle(50_000);
const harness = await measured(() => idle(N));
const t0 = process.hrtime.bigint();
const total = await measured(() => stream(N));
const ns = Number(process.hrtime.bigint() - t0);
await new Promise((f) => setImmediate(f));
process.stdout.write(
  JSON.stringify({
    copy: COPY,
    mode: MODE,
    segments: N,
    bytesPerSegment: (total.bytes - harness.bytes) / N,
    grossBytesPerSegment: total.bytes / N,
    harnessBytesPerSegment: harness.bytes / N,
    nsPerSegment: ns / N,
    gcsInLoop: total.gcs,
    acksPerSegment: sentSegments / fed,
    delivered: consumed,
    expected: fed * MSS,
  }) + '\n',
);
