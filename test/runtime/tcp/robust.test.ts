import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tcp } from '../../../src/generated/index.js';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import { SendStatus, type Ipv4Delivery, type Ipv4Sender } from '../../../src/runtime/layers.js';
import { TcpLayer } from '../../../src/runtime/tcp/layer.js';

const US = 0x0a000002;
const PEER = 0x0a000001;

function layer(): { tcp: TcpLayer; sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const ipv4: Ipv4Sender = {
    address: US,
    maxPayload: 1480,
    send(_dst, _proto, buf, off, len) {
      sent.push(buf.slice(off, off + len));
      return SendStatus.Sent;
    },
  };
  return { tcp: new TcpLayer(ipv4, new VirtualClock(), { isnKey: new Uint8Array(16) }), sent };
}

function delivery(bytes: Uint8Array): Ipv4Delivery {
  return {
    src: PEER,
    dst: US,
    protocol: 6,
    ttl: 64,
    toBroadcast: false,
    bytes,
    offset: 0,
    length: bytes.length,
    datagramOffset: 0,
    datagramLength: bytes.length,
  };
}

describe('TCP layer receive path under hostile input', () => {
  it('counts garbage as malformed or bad-checksum, never throws', () => {
    const { tcp: t } = layer();
    t.listen(80);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        t.receive(delivery(bytes));
      }),
      { numRuns: 2000, seed: 1 },
    );
    const s = t.stats();
    expect(s.drops.malformed + s.drops.badChecksum).toBeGreaterThan(1900);
  });

  it('handles well-formed segments with random fields and option bytes', () => {
    const { tcp: t, sent } = layer();
    t.listen(80);
    const out = new Uint8Array(200);
    fc.assert(
      fc.property(
        fc.record({
          srcPort: fc.integer({ min: 1, max: 0xffff }),
          dstPort: fc.constantFrom(80, 81),
          seq: fc.integer({ min: 0, max: 0xffffffff }),
          ack: fc.integer({ min: 0, max: 0xffffffff }),
          flags: fc.integer({ min: 0, max: 0xff }),
          window: fc.integer({ min: 0, max: 0xffff }),
          options: fc.uint8Array({ maxLength: 40 }).map((o) => {
            const padded = new Uint8Array(Math.ceil(o.length / 4) * 4);
            padded.set(o);
            return padded;
          }),
          payload: fc.uint8Array({ maxLength: 64 }),
        }),
        (f) => {
          const headerLength = 20 + f.options.length;
          out.set(f.payload, headerLength);
          const n = tcp.encodeTcp(
            { ...f, urgentPointer: 0, dataOffset: undefined, checksum: undefined },
            out,
            0,
            f.payload.length,
            PEER,
            US,
          );
          t.receive(delivery(out.slice(0, n + f.payload.length)));
        },
      ),
      { numRuns: 2000, seed: 2 },
    );
    const s = t.stats();
    expect(s.segmentsIn).toBe(2000);
    // SYNs opened half-open connections (bounded by the backlog, then cookies); strays got RSTs.
    expect(s.connections).toBeLessThanOrEqual(128);
    expect(s.resetsSent).toBeGreaterThan(0);
    for (const seg of sent) {
      const v = new tcp.TcpView();
      expect(v.wrap(seg)).toBeNull();
      expect(v.checksumValidWith(US, PEER)).toBe(true);
    }
  });
});
