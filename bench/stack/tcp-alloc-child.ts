/**
 * Bytes allocated per received TCP data segment, in a child process started by tcp.ts with
 * `--expose-gc --max-semi-space-size=128 --min-semi-space-size=128`: a TcpLayer fed pre-built,
 * in-order 1448-byte segments from a fake peer (its replies go nowhere), in batches of 32 like
 * TAP wakeups, the socket consumed by a no-op 'data' handler. After a warm-up the heap is
 * collected, N segments are pushed through, and the growth of the used heap divided by N is the
 * cost. What remains is a Buffer per batch and connection (the batch's data as one view of the
 * receive slab, see src/runtime/tcp/rx-slab.ts), the slab's own objects, and the stream's
 * bookkeeping. The slabs are external memory: their pressure starts GCs inside the loop, so the
 * figure is a lower bound when gcsInLoop > 0.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { ACK, SYN } from '../../src/fsm/segment.js';
import { tcp as codec } from '../../src/generated/index.js';
import { VirtualClock } from '../../src/runtime/clock/virtual.js';
import { SendStatus, type Ipv4Delivery, type Ipv4Sender } from '../../src/runtime/layers.js';
import { TcpLayer } from '../../src/runtime/tcp/layer.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const N = Number(process.argv[2] ?? 200_000);
const US = 0x0a000002;
const PEER = 0x0a000001;
const MSS = 1448;
const BATCH = 32;

let lastSeq = 0;
let sentSegments = 0;
const sender: Ipv4Sender = {
  address: US,
  maxPayload: 1480,
  send(_dst, _protocol, buf, off) {
    sentSegments++;
    lastSeq =
      ((buf[off + 4] << 24) | (buf[off + 5] << 16) | (buf[off + 6] << 8) | buf[off + 7]) >>> 0;
    return SendStatus.Sent;
  },
};
const layer = new TcpLayer(sender, new VirtualClock(), {
  rcvBuf: 1 << 22,
  isnKey: new Uint8Array(16),
});
layer.coalesceAcks = true;
let consumed = 0;
layer.listen(9, (s) => s.on('data', (d: Buffer) => (consumed += d.length)));

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
};
const fields: codec.TcpFields = {
  srcPort: 40000,
  dstPort: 9,
  seq: 0,
  ack: 0,
  flags: SYN,
  window: 65535,
  urgentPointer: 0,
  options: new Uint8Array(0),
};
function feed(seq: number, ack: number, flags: number, len: number): void {
  fields.seq = seq >>> 0;
  fields.ack = ack >>> 0;
  fields.flags = flags;
  fields.checksum = undefined;
  fields.dataOffset = undefined;
  const n = codec.encodeTcp(fields, frame, 0, len, PEER, US);
  delivery.length = n + len;
  delivery.datagramLength = n + len;
  layer.receive(delivery);
}

let seq = 1000;
feed(seq, 0, SYN, 0);
const ack = (lastSeq + 1) >>> 0; // acknowledge our SYN-ACK
seq++;
feed(seq, ack, ACK, 0);

/** Feeds `count` segments in batches, letting the event loop turn between batches (as between
 * TAP wakeups) so the socket's stream machinery runs. */
async function stream(count: number): Promise<void> {
  for (let i = 0; i < count; i += BATCH) {
    for (let j = 0; j < BATCH; j++) {
      feed(seq, ack, ACK, MSS);
      seq = (seq + MSS) >>> 0;
    }
    layer.batchEnd();
    await new Promise((f) => setImmediate(f));
  }
}

let gcs = 0;
const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
obs.observe({ entryTypes: ['gc'] });

await stream(50_000); // warm-up: JIT, stream buffers at steady state
await new Promise((f) => setImmediate(f));
gc();
const gcsBefore = gcs;
const before = getHeapStatistics().used_heap_size;
const t0 = process.hrtime.bigint();
await stream(N);
const ns = Number(process.hrtime.bigint() - t0);
const after = getHeapStatistics().used_heap_size;
await new Promise((f) => setImmediate(f));
obs.disconnect();
process.stdout.write(
  JSON.stringify({
    segments: N,
    bytesPerSegment: (after - before) / N,
    nsPerSegment: ns / N,
    gcsInLoop: gcs - gcsBefore,
    acksPerSegment: sentSegments / (N + 50_000),
    delivered: consumed,
    expected: (N + 50_000) * MSS,
  }) + '\n',
);
