/**
 * Segments through the wire format: the state machine's Segment is written with the generated
 * encoder, parsed back with the generated TcpView and `readSegment`, and only then handed to
 * the peer. The FSM tests build Segments directly, so a field lost between the parser and the
 * state machine (SACK blocks, window, options) shows up only here.
 */
import { describe, expect, it } from 'vitest';
import { newSegment, type Segment } from '../../../src/fsm/segment.js';
import { tcp } from '../../../src/generated/index.js';
import { OptionWriter, readSegment } from '../../../src/runtime/tcp/wire.js';
import { Net, pattern, rng, type SentSegment } from '../../fsm/harness.js';

const SRC = 0x0a000001;
const DST = 0x0a000002;
const writer = new OptionWriter();
const view = new tcp.TcpView();

/** Segment -> bytes (generated encoder) -> TcpView -> readSegment -> a fresh Segment. */
function viaWire(seg: Segment, payload: Uint8Array): Segment {
  const options = writer.write(seg);
  const out = new Uint8Array(20 + options.length + payload.length);
  out.set(payload, 20 + options.length);
  const n = tcp.encodeTcp(
    {
      srcPort: 1000,
      dstPort: 80,
      seq: seg.seq,
      ack: seg.ack,
      flags: seg.flags,
      window: seg.window,
      urgentPointer: 0,
      options: options.slice(),
    },
    out,
    0,
    payload.length,
    SRC,
    DST,
  );
  expect(n).toBe(20 + options.length);
  expect(view.wrap(out)).toBeNull();
  const back = newSegment();
  readSegment(view, back);
  return back;
}

/** A Net whose every segment crosses the wire format before it reaches the peer. */
function wireNet(): Net {
  const net = new Net();
  const sent = net.sent.bind(net);
  net.sent = (from, seg, payload) => sent(from, viaWire(seg, payload), payload);
  return net;
}

describe('TCP segments through the generated codec', () => {
  it('carries received SACK blocks from the option bytes into the Segment', () => {
    const seg = newSegment();
    seg.seq = 100;
    seg.ack = 5000;
    seg.flags = 0x10;
    seg.window = 1000;
    seg.hasTimestamps = true;
    seg.tsVal = 7;
    seg.tsEcr = 3;
    seg.sackBlocks[0] = 6000;
    seg.sackBlocks[1] = 7000;
    seg.sackBlocks[2] = 0xfffff000;
    seg.sackBlocks[3] = 0x10;
    seg.sackCount = 2;
    const back = viaWire(seg, new Uint8Array(0));
    expect(back.sackCount).toBe(2);
    expect(Array.from(back.sackBlocks.slice(0, 4))).toEqual([6000, 7000, 0xfffff000, 0x10]);
    expect([back.seq, back.ack, back.window, back.tsVal, back.tsEcr]).toEqual([
      100, 5000, 1000, 7, 3,
    ]);
  });

  // Seeded loss on a->b data only: every ACK (and its SACK blocks) reaches the sender, so with
  // SACK working the sender resends the holes and nothing the receiver already holds.
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`resends only the holes on a lossy link (seed ${seed})`, () => {
      const net = wireNet();
      net.handshake();
      const r = rng(seed);
      const firstSent = new Set<number>();
      // Bytes the receiver holds (seq -> time it arrived), from segments that got through.
      const arrived = new Map<number, number>();
      net.filter = (s: SentSegment) => {
        if (s.from !== 'a' || s.dataLength === 0) return 'pass';
        const first = !firstSent.has(s.seq);
        firstSent.add(s.seq);
        if (first && r() < 0.05) return 'drop';
        if (!arrived.has(s.seq)) arrived.set(s.seq, s.time + net.latency);
        return 'pass';
      };
      const data = pattern(200 * 1460, seed);
      net.transfer('a', data);
      expect(Buffer.compare(net.hostB.data(), data)).toBe(0);
      const resent = net
        .sentBy('a')
        .filter((s, i, all) => s.dataLength > 0 && all.findIndex((o) => o.seq === s.seq) < i);
      expect(resent.length).toBeGreaterThan(0);
      // A resend of bytes that had reached the receiver a round trip earlier is a resend the
      // SACK blocks should have prevented.
      const needless = resent.filter((s) => {
        const at = arrived.get(s.seq);
        return at !== undefined && at + net.latency <= s.time;
      });
      expect(needless).toEqual([]);
    });
  }
});
