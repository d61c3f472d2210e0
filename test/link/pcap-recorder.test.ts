import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/runtime/clock/virtual.js';
import { createMemoryLinkPair } from '../../src/runtime/link/memory.js';
import { PcapRecorderLink, recordPcap } from '../../src/runtime/link/pcap-recorder.js';
import { PcapWriter } from '../../src/pcap/writer.js';

const dir = mkdtempSync(join(tmpdir(), 'pkt-pcap-w-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hasTshark = (() => {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** An Ethernet frame carrying a UDP datagram: `payload` bytes of `tag`, valid checksums off. */
function udpFrame(src: number, dst: number, tag: number, payload: number): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + payload);
  f.set([0, 0, 0, 0, 0, dst, 0, 0, 0, 0, 0, src, 0x08, 0x00], 0);
  f[0] = 2;
  f[6] = 2;
  const ip = [0x45, 0, 0, 28 + payload, 0, tag, 0, 0, 64, 17, 0, 0, 10, 0, 0, src, 10, 0, 0, dst];
  ip[2] = (28 + payload) >> 8;
  ip[3] = (28 + payload) & 0xff;
  f.set(ip, 14);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (f[14 + i] << 8) | f[15 + i];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  f[24] = (~sum >> 8) & 0xff;
  f[25] = ~sum & 0xff;
  f.set([0x30, 0x39, 0, 7, (8 + payload) >> 8, (8 + payload) & 0xff, 0, 0], 34);
  f.fill(tag, 42);
  return f;
}

describe('pcap writer', () => {
  it('writes the classic header and records with µs timestamps and snap-length cuts', () => {
    const path = join(dir, 'w.pcap');
    const w = PcapWriter.open(path, { snapLength: 64, bufferBytes: 100 });
    w.write(new Uint8Array(60).fill(1), 0, 60, 1_700_000_000_123.456);
    w.write(new Uint8Array(200).fill(2), 10, 100, 1_700_000_001_000);
    w.close();
    w.close();
    const b = readFileSync(path);
    expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect([b.readUInt16LE(4), b.readUInt16LE(6)]).toEqual([2, 4]);
    expect(b.readUInt32LE(16)).toBe(64);
    expect(b.readUInt32LE(20)).toBe(1);
    expect([
      b.readUInt32LE(24),
      b.readUInt32LE(28),
      b.readUInt32LE(32),
      b.readUInt32LE(36),
    ]).toEqual([1_700_000_000, 123_456, 60, 60]);
    const second = 24 + 16 + 60;
    expect([
      b.readUInt32LE(second),
      b.readUInt32LE(second + 4),
      b.readUInt32LE(second + 8),
      b.readUInt32LE(second + 12),
    ]).toEqual([1_700_000_001, 0, 64, 100]);
    expect(b.length).toBe(second + 16 + 64);
    expect(() => w.write(new Uint8Array(60), 0, 60)).toThrow(/closed/);
  });

  it('rejects a bad snap length', () => {
    expect(() => new PcapWriter(openSync(join(dir, 'x.pcap'), 'w'), { snapLength: 0 })).toThrow(
      RangeError,
    );
  });
});

describe('pcap recorder link', () => {
  it.skipIf(!hasTshark)(
    'records both directions, readable by tshark with nothing malformed',
    () => {
      const clock = new VirtualClock({ start: 1_700_000_000_000 });
      const [a, b] = createMemoryLinkPair({ macA: 0x020000000001, macB: 0x020000000002, clock });
      const path = join(dir, 'both.pcap');
      const rec = recordPcap(a, path, { timestamp: () => clock.now() });
      const got: number[] = [];
      rec.setReceiver({ receive: (bytes, o) => got.push(bytes[o + 19]), batchEnd: () => {} });
      b.setReceiver({
        receive(bytes, o, len) {
          // Answer each frame with a copy whose IP id is +100 (a recognisable reply).
          const reply = udpFrame(2, 1, bytes[o + 19] + 100, len - 42);
          b.send(reply, 0, reply.length);
        },
        batchEnd() {},
      });
      for (let i = 1; i <= 5; i++) {
        const f = udpFrame(1, 2, i, 10 * i);
        expect(rec.send(f, 0, f.length)).toBe(true);
        clock.advance(1);
        clock.advance(1);
      }
      expect(got).toEqual([101, 102, 103, 104, 105]);
      expect(rec.stats().recordedFrames).toBe(10);
      rec.closeFileSync();
      const out = execFileSync(
        'tshark',
        [
          '-r',
          path,
          '-T',
          'fields',
          '-e',
          'frame.time_epoch',
          '-e',
          'eth.src',
          '-e',
          'ip.id',
          '-e',
          'udp.length',
          '-e',
          '_ws.malformed',
        ],
        {
          encoding: 'utf8',
        },
      );
      const rows = out
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
      expect(rows).toHaveLength(10);
      expect(rows.map((r) => Number(r[2]))).toEqual([1, 101, 2, 102, 3, 103, 4, 104, 5, 105]);
      expect(rows[0][1]).toBe('02:00:00:00:00:01');
      expect(rows[1][1]).toBe('02:00:00:00:00:02');
      expect(Number(rows[0][0])).toBeCloseTo(1_700_000_000, 3);
      // The reply is delivered in the same virtual instant; the next request goes 2 ms later.
      expect(Number(rows[1][0])).toBeCloseTo(1_700_000_000, 3);
      expect(Number(rows[2][0])).toBeCloseTo(1_700_000_000.002, 3);
      expect(rows.every((r) => (r[4] ?? '') === '')).toBe(true);
    },
  );

  it('does not record frames the inner link refused, and survives a failing file', () => {
    const clock = new VirtualClock();
    const [a] = createMemoryLinkPair({ macA: 1, macB: 2, clock, queueFrames: 1 });
    const errors: Error[] = [];
    const rec = recordPcap(a, join(dir, 'refused.pcap'));
    const f = udpFrame(1, 2, 1, 10);
    expect(rec.send(f, 0, f.length)).toBe(true);
    expect(rec.send(f, 0, f.length)).toBe(false); // queue of 1 is full
    expect(rec.stats().recordedFrames).toBe(1);
    rec.closeFileSync();
    // A writer whose file is closed under it: recording stops with one error, sending goes on.
    const [c] = createMemoryLinkPair({ macA: 1, macB: 2, clock });
    const fd = openSync(join(dir, 'broken.pcap'), 'w');
    const broken = new PcapWriter(fd, { snapLength: 64, bufferBytes: 1 });
    const rec2 = new PcapRecorderLink(c, broken, { onError: (e) => errors.push(e) });
    closeSync(fd); // the file goes away under the writer: its next flush fails with EBADF
    expect(rec2.send(f, 0, f.length)).toBe(true);
    expect(rec2.send(f, 0, f.length)).toBe(true);
    expect(errors).toHaveLength(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('EBADF');
    expect(rec2.stats().recordingFailed).toBe(true);
  });
});
