/**
 * Cost of the whole receive path per frame, in a child process started by tcp.ts with
 * `--expose-gc --max-semi-space-size=128 --min-semi-space-size=128`: a Stack on a fake link fed
 * pre-built Ethernet frames (IPv4, TCP, 1448 bytes of in-order data each) in batches of 32 like
 * TAP wakeups, through `FrameReceiver.receive` — Ethernet, IPv4 (header checksum, addresses),
 * TCP (checksum, demux, state machine) and an `onread` reader (or, with `data`, a 'data'
 * handler) — its replies (ACKs) counted and dropped by the link. Where tcp-alloc-child.ts starts
 * at the TCP layer, this one starts at the frame: the figure that the layers below TCP move.
 * Printed: ns and bytes allocated per frame (the measurement's own loop subtracted, as there),
 * medians (and the fastest) of interleaved rounds, CPU time.
 */
import { ACK, SYN } from '../../src/fsm/segment.js';
import { ipv4, tcp as codec } from '../../src/generated/index.js';
import { RealClock } from '../../src/runtime/clock/real.js';
import type { FrameReceiver, Link, LinkStats } from '../../src/runtime/link/link.js';
import { Stack } from '../../src/runtime/stack.js';
import {
  copyMode,
  exposedGc,
  FrameReader,
  introducePeer,
  measured,
  median,
  OUR_MAC,
  PEER,
  peerIpv4,
  peerTcp,
  US,
} from './child-harness.js';

const COPY = copyMode();

exposedGc();
const N = Number(process.argv[2] ?? 200_000);
const MODE = process.argv[3] ?? 'onread';
if (MODE !== 'data' && MODE !== 'onread') throw new Error(`mode ${MODE}: data or onread`);
/** Payload bytes per frame (argv[4], default 1448): small ones show the per-frame header work. */
const MSS = Number(process.argv[4] ?? 1448);
const BATCH = 32;

let lastSeq = 0;
let sent = 0;
const sentTcp = new FrameReader();
let receiver: FrameReceiver | null = null;
const link: Link = {
  mac: OUR_MAC,
  mtu: 1500,
  send(bytes, offset, length) {
    sent++;
    // The TCP sequence number of what we sent, as its int32 bit pattern so that no heap number
    // is made per reply.
    const seq = sentTcp.seqOf(bytes, offset, length);
    if (seq !== null) lastSeq = seq;
    return true;
  },
  setReceiver(r) {
    receiver = r;
  },
  stats(): LinkStats {
    return { rxFrames: 0, rxBytes: 0, txFrames: sent, txBytes: 0, txDropped: 0 };
  },
  close: () => Promise.resolve(),
};
const stack = new Stack({ link, clock: new RealClock({ unrefTimers: true }), ip: '10.0.0.2/24' });
const layer = stack.tcp;
layer.coalesceAcks = true;
let consumed = 0;
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
const rx = receiver as FrameReceiver | null;
if (rx === null) throw new Error('the stack set no receiver');

const frame = new Uint8Array(14 + 20 + 20 + MSS);
introducePeer(rx, frame);
const ip = peerIpv4();
const fields = peerTcp();
/** Builds a frame from the peer and, when `deliver`, hands it to the stack. */
function feed(seq: number, ack: number, flags: number, len: number, deliver = true): void {
  fields.seq = seq >>> 0;
  fields.ack = ack >>> 0;
  fields.flags = flags;
  fields.checksum = undefined;
  fields.dataOffset = undefined;
  const n = codec.encodeTcp(fields, frame, 34, len, PEER, US);
  ip.totalLength = undefined;
  ip.checksum = undefined;
  ipv4.encodeIpv4(ip, frame, 14, n + len);
  if (deliver) rx!.receive(frame, 0, 34 + n + len);
}

let seq = 1000;
let fed = 0;
feed(seq, 0, SYN, 0);
rx.batchEnd();
const ack = (lastSeq + 1) >>> 0; // acknowledge our SYN-ACK
seq++;
feed(seq, ack, ACK, 0);
rx.batchEnd();

/** As in tcp-alloc-child.ts: batches between event-loop turns; without `deliver`, the harness. */
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
        rx!.batchEnd();
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

await run(50_000, true); // warm-up: JIT, stream buffers at steady state
await run(50_000, false);
/** Rounds of harness then stack, interleaved: the machine is shared, so the median is reported. */
const ROUNDS = 5;
const ns: number[] = [];
const bytes: number[] = [];
let gcs = 0;
for (let r = 0; r < ROUNDS; r++) {
  const harness = await measured(() => run(N, false));
  const total = await measured(() => run(N, true));
  ns.push((total.ns - harness.ns) / N);
  bytes.push((total.bytes - harness.bytes) / N);
  gcs += total.gcs;
}
if (consumed !== fed * MSS) throw new Error(`delivered ${consumed} of ${fed * MSS} bytes`);
process.stdout.write(
  JSON.stringify({
    copy: COPY,
    mode: MODE,
    frames: N,
    payload: MSS,
    rounds: ROUNDS,
    bytesPerFrame: median(bytes),
    nsPerFrame: median(ns),
    nsPerFrameMin: Math.min(...ns),
    nsRounds: ns.map(Math.round),
    gcsInLoop: gcs,
    repliesPerFrame: sent / fed,
  }) + '\n',
);
