import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { frameSocketPair, openFrameFd, type TapLink } from '../../src/runtime/link/tap.js';
import type { FrameReceiver } from '../../src/runtime/link/link.js';

// The TAP link's batch and backpressure machinery, run over a SOCK_SEQPACKET socketpair (one
// message = one frame, like a TAP fd), so it is tested without root or a kernel device.

const open: TapLink[] = [];
afterEach(async () => {
  for (const link of open.splice(0)) await link.close();
});

function pair(opts: { rxSlots?: number; txSlots?: number } = {}): [TapLink, TapLink] {
  const [fa, fb] = frameSocketPair();
  const a = openFrameFd({ fd: fa, mtu: 1500, mac: 0x020000000001, ...opts });
  const b = openFrameFd({ fd: fb, mtu: 1500, mac: 0x020000000002, ...opts });
  open.push(a, b);
  return [a, b];
}

/** Records each frame's sequence number (bytes 14..17) and the batch sizes. */
function recorder(): FrameReceiver & { seqs: number[]; batches: number[]; lengths: number[] } {
  let inBatch = 0;
  const r = {
    seqs: [] as number[],
    batches: [] as number[],
    lengths: [] as number[],
    receive(bytes: Uint8Array, offset: number, length: number) {
      r.seqs.push(
        ((bytes[offset + 14] << 24) |
          (bytes[offset + 15] << 16) |
          (bytes[offset + 16] << 8) |
          bytes[offset + 17]) >>>
          0,
      );
      r.lengths.push(length);
      inBatch++;
    },
    batchEnd() {
      r.batches.push(inBatch);
      inBatch = 0;
    },
  };
  return r;
}

function numbered(seq: number, length = 100): Uint8Array {
  const f = new Uint8Array(length);
  f[12] = 0x88;
  f[13] = 0xb5; // local experimental EtherType
  f[14] = seq >>> 24;
  f[15] = (seq >>> 16) & 0xff;
  f[16] = (seq >>> 8) & 0xff;
  f[17] = seq & 0xff;
  return f;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('TAP link over a frame socketpair', () => {
  it('delivers a burst in batches: fewer wakeups than frames, bounded by rxSlots', async () => {
    const [a, b] = pair({ rxSlots: 64 });
    const rx = recorder();
    b.setReceiver(rx);
    for (let i = 0; i < 150; i++)
      expect(a.send(numbered(i, 60 + (i % 40)), 0, 60 + (i % 40))).toBe(true);
    await until(() => rx.seqs.length === 150, '150 frames');
    expect(rx.seqs).toEqual([...Array(150).keys()]);
    expect(rx.lengths[39]).toBe(99);
    const st = b.stats();
    expect(st.rxFrames).toBe(150);
    expect(st.rxBatches).toBe(rx.batches.length);
    expect(st.rxBatches).toBeLessThan(150);
    expect(st.rxMaxBatch).toBeLessThanOrEqual(64);
    expect(Math.max(...rx.batches)).toBe(64);
    expect(a.stats()).toMatchObject({
      txFrames: 150,
      txBytes: rx.lengths.reduce((x, y) => x + y, 0),
      txDropped: 0,
    });
  });

  it('queues writes the peer cannot take yet and loses none, in order', async () => {
    const [a, b] = pair({ txSlots: 4096 });
    const rx = recorder();
    b.setReceiver(rx);
    b.setReading(false);
    const total = 3000;
    for (let i = 0; i < total; i++) expect(a.send(numbered(i, 1000), 0, 1000)).toBe(true);
    const mid = a.stats();
    // The socket buffer filled up long before 3000 frames: the rest waits in the native queue.
    expect(mid.txQueued).toBeGreaterThan(0);
    expect(mid.txQueueLength).toBeGreaterThan(0);
    b.setReading(true);
    await until(() => rx.seqs.length === total, `${total} frames`);
    expect(rx.seqs).toEqual([...Array(total).keys()]);
    const st = a.stats();
    expect(st.txFlushed).toBe(st.txQueued);
    expect(st.txQueueLength).toBe(0);
    expect(st.txDropped).toBe(0);
  });

  it('drops and counts when the write queue is full', () => {
    const [a, b] = pair({ txSlots: 8 });
    b.setReading(false);
    let refused = 0;
    for (let i = 0; i < 2000; i++) if (!a.send(numbered(i, 1000), 0, 1000)) refused++;
    const st = a.stats();
    expect(refused).toBeGreaterThan(0);
    expect(st.txQueueFull).toBe(refused);
    expect(st.txDropped).toBe(refused);
    expect(st.txFrames).toBe(2000 - refused);
  });

  it('refuses frames longer than the MTU allows or shorter than a header', () => {
    const [a] = pair();
    expect(a.send(new Uint8Array(1515), 0, 1515)).toBe(false);
    expect(a.send(new Uint8Array(10), 0, 10)).toBe(false);
    expect(a.send(new Uint8Array(100), 50, 60)).toBe(false);
    expect(a.send(new Uint8Array(1514), 0, 1514)).toBe(true);
    expect(a.stats()).toMatchObject({ txDropped: 3, txTooBig: 1, txFrames: 1 });
  });

  it('reports a dead peer once through onError and stops reading', async () => {
    const [fa, fb] = frameSocketPair();
    const errors: Error[] = [];
    const a = openFrameFd({ fd: fa, mtu: 1500, mac: 1, onError: (e) => errors.push(e) });
    const b = openFrameFd({ fd: fb, mtu: 1500, mac: 2 });
    open.push(a);
    await b.close();
    await until(() => errors.length > 0, 'the error');
    expect(a.error?.code).toBe('EPIPE');
    await new Promise((r) => setTimeout(r, 20));
    expect(errors).toHaveLength(1);
  });

  it('close is idempotent, stops delivery, and sending afterwards is a counted drop', async () => {
    const [a, b] = pair();
    const rx = recorder();
    b.setReceiver(rx);
    await b.close();
    await b.close();
    expect(b.send(numbered(1), 0, 100)).toBe(false);
    expect(b.stats().txDropped).toBe(1);
    a.send(numbered(2), 0, 100);
    await new Promise((r) => setTimeout(r, 20));
    expect(rx.seqs).toHaveLength(0);
  });

  it('lets the receiver close the link in the middle of a batch', async () => {
    const [a, b] = pair();
    let seen = 0;
    b.setReceiver({
      receive() {
        if (++seen === 3) void b.close();
      },
      batchEnd() {},
    });
    for (let i = 0; i < 10; i++) a.send(numbered(i), 0, 100);
    await until(() => seen >= 3, 'three frames');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toBe(3);
  });

  it('survives a worker ending with devices still open (the addon unloads only after they close)', async () => {
    const addonPath = join(
      import.meta.dirname,
      '..',
      '..',
      'build',
      'Release',
      'pktstack_tap.node',
    );
    const worker = new Worker(
      `const m = require(${JSON.stringify(addonPath)});
       const [fa, fb] = m.seqpacketPair();
       const a = m.attachFd({ fd: fa, mtu: 1500 }, () => {});
       m.attachFd({ fd: fb, mtu: 1500 }, () => {});
       m.write(a.handle, new Uint8Array(60), 0, 60);
       require('node:worker_threads').parentPort.postMessage('open');`,
      { eval: true },
    );
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    // Before the async cleanup hook, this crashed the process: libuv called a close callback
    // in a library Node had already unloaded.
    await worker.terminate();
    await new Promise((r) => setTimeout(r, 20));
    expect(process.exitCode ?? 0).toBe(0);
  });
});
