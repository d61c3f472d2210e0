import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpv6 } from '../../../src/codec/address.js';
import { icmpv6, ipv6, tcp } from '../../../src/generated/index.js';
import { VirtualClock } from '../../../src/runtime/clock/virtual.js';
import {
  SendStatus,
  createIpv6Delivery,
  type Ipv4Delivery,
  type Ipv4Sender,
} from '../../../src/runtime/layers.js';
import { TcpLayer, type TcpIpv6 } from '../../../src/runtime/tcp/layer.js';

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
    frame: null,
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

describe('TCP options that do not parse', () => {
  it('opens a connection from a SYN whose last option is malformed, with the options before it', () => {
    const { tcp: t, sent } = layer();
    t.listen(80);
    const out = new Uint8Array(40);
    // MSS 1000, then a timestamps option whose length (9) runs past the header.
    const options = Uint8Array.from([2, 4, 0x03, 0xe8, 8, 9, 0, 0]);
    const n = tcp.encodeTcp(
      {
        srcPort: 5000,
        dstPort: 80,
        seq: 7,
        ack: 0,
        flags: 0x02,
        window: 1000,
        urgentPointer: 0,
        options,
      },
      out,
      0,
      0,
      PEER,
      US,
    );
    t.receive(delivery(out.slice(0, n)));
    expect(t.stats().optionsCut).toBe(1);
    expect(t.stats().drops.malformed).toBe(0);
    const v = new tcp.TcpView();
    expect(v.wrap(sent[0])).toBeNull();
    expect(v.flags & 0x12).toBe(0x12);
    // No timestamps were taken from the broken option: the SYN-ACK offers none.
    expect(v.tsval).toBe(-1);
  });
});

describe('TCP layer over IPv6 under hostile input', () => {
  const us6 = parseIpv6('fd00::2') as Uint8Array;
  const peer6 = parseIpv6('fd00::1') as Uint8Array;

  function layer6() {
    const { tcp: t } = layer();
    const sent: Uint8Array[] = [];
    const quote = new ipv6.Ipv6View();
    const ip6: TcpIpv6 = {
      maxPayload: 1460,
      send(_dst, _off, _nh, buf, off, len) {
        sent.push(buf.slice(off, off + len));
        return SendStatus.Sent;
      },
      selectSource(_dst, _off, out) {
        out.set(us6);
        return true;
      },
      pathMtu: () => 1500,
      confirmReachable: () => undefined,
      quotedHeader: (bytes, offset, length) =>
        quote.wrapPartial(bytes, offset, length) === null && quote.byteLength >= 40 ? quote : null,
    };
    t.attachIpv6(ip6);
    return { t, sent };
  }

  it('checksums over the IPv6 pseudo-header, counts garbage, answers strays with valid RSTs', () => {
    const { t, sent } = layer6();
    t.listen(80);
    const d = createIpv6Delivery();
    d.src.set(peer6);
    d.dst.set(us6);
    d.nextHeader = 6;
    const out = new Uint8Array(200);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 120 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 0xff }),
        (bytes, valid, flags) => {
          let n = bytes.length;
          if (valid) {
            n = tcp.encodeTcpIpv6(
              {
                srcPort: 4000,
                dstPort: 81,
                seq: 1,
                ack: 2,
                dataOffset: undefined,
                flags,
                window: 100,
                checksum: undefined,
                urgentPointer: 0,
                options: new Uint8Array(0),
              },
              out,
              0,
              0,
              peer6,
              0,
              us6,
              0,
            );
            d.bytes = out;
          } else {
            d.bytes = bytes;
          }
          d.offset = 0;
          d.length = n;
          t.receive6(d);
        },
      ),
      { numRuns: 2000, seed: 3 },
    );
    const s = t.stats();
    expect(s.ipv6SegmentsIn).toBe(2000);
    expect(s.resetsSent).toBeGreaterThan(0);
    const v = new tcp.TcpView();
    for (const seg of sent) {
      expect(v.wrap(seg)).toBeNull();
      expect(v.checksumValidWithIpv6(us6, 0, peer6, 0)).toBe(true);
    }
  });

  it('takes random ICMPv6 error reports without throwing or acting on unknown flows', () => {
    const { t } = layer6();
    fc.assert(
      fc.property(
        fc.constantFrom(icmpv6.Icmpv6Type.PacketTooBig, icmpv6.Icmpv6Type.DestinationUnreachable),
        fc.uint8Array({ maxLength: 100 }),
        (type, bytes) => {
          t.icmpv6Error({
            type,
            code: 4,
            value: 1280,
            bytes,
            quoteOffset: 0,
            quoteLength: bytes.length,
          });
        },
      ),
      { numRuns: 1000, seed: 4 },
    );
    expect(t.stats().icmpAborts).toBe(0);
    expect(t.stats().pathMtuDecreases).toBe(0);
  });
});
