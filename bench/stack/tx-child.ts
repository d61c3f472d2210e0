/**
 * Cost of the send path per data segment, in a child process started by tcp.ts with
 * `--expose-gc --max-semi-space-size=128 --min-semi-space-size=128`: a Stack on a fake link
 * whose application writes one 64 KiB Buffer over and over (never modified, so reusing it is
 * allowed) into a socket, as fast as the stream takes it ('drain'); a fake peer acknowledges
 * everything sent, once per batch (a TAP wakeup), with a 64 KiB window (44 segments a batch). What a segment costs:
 * the write into the send buffer, segmentation (the copy into the frame), the TCP and IPv4
 * headers and checksums, the link's send (counted, dropped) and the peer's ACKs (through the
 * receive path, a few per 100 segments). Printed: ns (CPU time) and bytes allocated per data
 * segment, the measurement's own loop subtracted, medians of interleaved rounds.
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
/** Bytes per write() (argv[3], default 64 KiB). */
const WRITE = Number(process.argv[3] ?? 65536);

/** The end of the highest data sent (signed, as read from the wire: no heap number per frame). */
let sentEnd = 0;
let dataSegments = 0;
let ourIss = 0;
const sentTcp = new FrameReader();
let receiver: FrameReceiver | null = null;
const link: Link = {
  mac: OUR_MAC,
  mtu: 1500,
  send(bytes, offset, length) {
    const seq = sentTcp.seqOf(bytes, offset, length);
    if (seq === null) return true;
    const t = sentTcp.tcp;
    const data = t.payloadLength;
    if ((t.flags & SYN) !== 0) ourIss = seq;
    if (data > 0) {
      dataSegments++;
      sentEnd = (seq + data) | 0;
    }
    return true;
  },
  setReceiver(r) {
    receiver = r;
  },
  stats(): LinkStats {
    return { rxFrames: 0, rxBytes: 0, txFrames: 0, txBytes: 0, txDropped: 0 };
  },
  close: () => Promise.resolve(),
};
const stack = new Stack({
  link,
  clock: new RealClock({ unrefTimers: true }),
  ip: '10.0.0.2/24',
});
const layer = stack.tcp;
layer.coalesceAcks = true;
const chunk = Buffer.alloc(WRITE, 0x5a);
let writing = false;
layer.listen(9, (s) => {
  const fill = (): void => {
    while (writing && s.write(chunk));
  };
  s.on('drain', fill);
  s.on('data', () => undefined);
  s.on('error', () => undefined);
  startWriting = () => {
    writing = true;
    fill();
  };
});
let startWriting = (): void => undefined;
const rx = receiver as FrameReceiver | null;
if (rx === null) throw new Error('the stack set no receiver');

const frame = new Uint8Array(14 + 20 + 40);
introducePeer(rx, frame);
const ip = peerIpv4();
const synOptions = new Uint8Array(4);
codec.encodeTcpOptions([{ kind: 'MSS', value: 1460 }], synOptions, 0);
const fields = peerTcp(synOptions);
function feed(seq: number, ack: number, flags: number, deliver = true): void {
  fields.seq = seq >>> 0;
  fields.ack = ack >>> 0;
  fields.flags = flags;
  fields.checksum = undefined;
  fields.dataOffset = undefined;
  const n = codec.encodeTcp(fields, frame, 34, 0, PEER, US);
  ip.totalLength = undefined;
  ip.checksum = undefined;
  ipv4.encodeIpv4(ip, frame, 14, n);
  if (deliver) rx!.receive(frame, 0, 34 + n);
}

const peerSeq = 1000;
feed(peerSeq, 0, SYN);
rx.batchEnd();
fields.options = new Uint8Array(0);
feed(peerSeq + 1, ourIss + 1, ACK);
rx.batchEnd();
startWriting();

/** ACK rounds until `count` more data segments went out; without `deliver`, the harness. */
function run(count: number, deliver: boolean): Promise<void> {
  return new Promise((done) => {
    const target = dataSegments + count;
    let rounds = 0;
    const round = (): void => {
      feed(peerSeq + 1, sentEnd, ACK, deliver);
      if (deliver) rx!.batchEnd();
      rounds++;
      // Without the stack the harness stops after as many rounds as the last real run took.
      if (deliver ? dataSegments < target : rounds < harnessRounds) setImmediate(round);
      else {
        if (deliver) harnessRounds = rounds;
        setImmediate(done);
      }
    };
    round();
  });
}
let harnessRounds = 0;

await run(50_000, true); // warm-up: JIT, congestion window open, stream at steady state
const ROUNDS = 5;
const ns: number[] = [];
const bytes: number[] = [];
let gcs = 0;
for (let r = 0; r < ROUNDS; r++) {
  const before = dataSegments;
  const total = await measured(() => run(N, true));
  const segments = dataSegments - before;
  const harness = await measured(() => run(0, false));
  ns.push((total.ns - harness.ns) / segments);
  bytes.push((total.bytes - harness.bytes) / segments);
  gcs += total.gcs;
}
process.stdout.write(
  JSON.stringify({
    copy: COPY,
    write: WRITE,
    segments: N,
    rounds: ROUNDS,
    bytesPerSegment: median(bytes),
    nsPerSegment: median(ns),
    nsPerSegmentMin: Math.min(...ns),
    nsRounds: ns.map(Math.round),
    gcsInLoop: gcs,
    segmentsPerAck: N / harnessRounds,
  }) + '\n',
);
