/**
 * GRE (specs/gre.pkt): its checksum sits at a computed offset (present when C is set), so its
 * verify, fill on encode and incremental updates (RFC 1624) work where wrap() found the word;
 * PPTP's enhanced GRE (version 1) and PPP in it, on Zeek's and tcpdump's captures with the
 * values tshark shows.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { internetChecksum } from '../../src/codec/checksum.js';
import { gre, ppp } from '../../src/generated/index.js';
import { greFields } from './arbitraries.js';
import { readPcapFrames } from './helpers.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

/** A GRE message with its payload, the checksum (when C is set) computed by the encoder. */
function message(f: gre.GreFields, body: Uint8Array): Uint8Array {
  const n = gre.greHeaderLength(f);
  const out = new Uint8Array(n + body.length);
  out.set(body, n);
  expect(gre.encodeGre({ ...f, checksum: undefined }, out, 0, body.length)).toBe(n);
  return out;
}

const withChecksum = fc.tuple(
  greFields.map((f) => ({ ...f, c: 1 })),
  fc.uint8Array({ minLength: 1, maxLength: 40 }),
);

describe('GRE checksum at a computed offset', () => {
  it('is filled on encode over header and payload, and verifies', () => {
    fc.assert(
      fc.property(withChecksum, ([f, body]) => {
        const bytes = message(f, body);
        const v = new gre.GreView();
        expect(v.wrap(bytes)).toBeNull();
        expect(v.hasChecksum).toBe(true);
        expect(v.checksumOffset).toBe(4);
        expect(v.checksumPresent).toBe(true);
        expect(v.checksumValid).toBe(true);
        expect(internetChecksum(bytes, 0, bytes.length)).toBe(0);
        expect(v.toJSON().checksumValid).toBe(true);
        // Any flipped bit of the payload breaks it.
        bytes[bytes.length - 1] ^= 1;
        expect(v.checksumValid).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('is absent without C: no word, nothing to verify, null in JSON', () => {
    const bytes = message(
      { ...fc.sample(greFields, { seed: 1, numRuns: 1 })[0], c: 0 },
      Uint8Array.of(9, 9),
    );
    const v = new gre.GreView();
    expect(v.wrap(bytes)).toBeNull();
    expect([v.hasChecksum, v.checksumPresent, v.checksumValid]).toEqual([false, false, true]);
    expect(v.toJSON()).toMatchObject({ checksum: null, checksumValid: null });
  });

  it('a given checksum is written as given (bad ones too)', () => {
    const f = { ...fc.sample(greFields, { seed: 2, numRuns: 1 })[0], c: 1, checksum: 0x1234 };
    const out = new Uint8Array(gre.greHeaderLength(f));
    gre.encodeGre(f, out, 0, 0);
    const v = new gre.GreView();
    expect(v.wrap(out)).toBeNull();
    expect(v.checksum).toBe(0x1234);
  });

  it('updating setters equal a full recomputation, where the word is', () => {
    const fields = ['strictSourceRoute', 'recursion', 'flags', 'protocolType'] as const;
    fc.assert(
      fc.property(
        withChecksum,
        fc.constantFrom(...fields),
        fc.integer({ min: 0, max: 0xffff }),
        ([f, body], field, value) => {
          const bytes = message(f, body);
          const v = new gre.GreView();
          expect(v.wrap(bytes)).toBeNull();
          const set = `set${field.charAt(0).toUpperCase()}${field.slice(1)}UpdatingChecksum`;
          (v as unknown as Record<string, (x: number) => void>)[set](value);
          expect(internetChecksum(bytes, 0, bytes.length)).toBe(0);
          const fresh = new gre.GreView();
          expect(fresh.wrap(bytes)).toBeNull();
          expect(fresh.checksum).toBe(v.checksum);
          expect(fresh.checksumValid).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('updating setters leave a message without the word alone', () => {
    const f = { ...fc.sample(greFields, { seed: 3, numRuns: 1 })[0], c: 0 };
    const bytes = message(f, Uint8Array.of(1, 2, 3));
    const v = new gre.GreView();
    expect(v.wrap(bytes)).toBeNull();
    const before = bytes.slice();
    v.setProtocolTypeUpdatingChecksum(0x6558);
    expect(v.protocolType).toBe(0x6558);
    bytes[2] = before[2];
    bytes[3] = before[3];
    expect(bytes).toEqual(before);
  });

  it('has no updating setter for the flags that add or remove words', () => {
    const v = new gre.GreView() as unknown as Record<string, unknown>;
    for (const flag of ['C', 'K', 'S', 'A', 'Version'])
      expect(v[`set${flag}UpdatingChecksum`]).toBeUndefined();
  });
});

describe('PPTP enhanced GRE (version 1) and PPP in it', () => {
  it('reads the key as payload length and call id, and the acknowledgment number', () => {
    // Ethernet, an 802.1Q tag, IPv6, IPv4 (4in6), then GRE. tshark: gre.flags_and_version
    // 0x3081, key payload length 103, call id 6016, sequence number 430001, ack 539254.
    const frame = readPcapFrames(join(FIXTURES, 'gre', 'zeek-tunnels-gre-pptp.pcap'))[0];
    const at = 14 + 4 + 40 + 20;
    const v = new gre.GreView();
    expect(v.wrap(frame, at)).toBeNull();
    expect([v.version, v.hasKey, v.keyPayloadLength, v.keyCallId]).toEqual([1, false, 103, 6016]);
    expect([v.sequence, v.hasAck, v.ack, v.headerLength]).toEqual([430001, true, 539254, 16]);
    expect(gre.payloadKind(v)).toBe('ppp');
    const p = new ppp.PppView();
    expect(p.wrap(frame, v.payloadOffset, v.payloadLength)).toBeNull();
    expect(p.protocol).toBe(ppp.PppProtocol.IPv4);
    expect(ppp.payloadKind(p)).toBe('ipv4');
    // Re-encoding the value form gives the same header bytes.
    const value = gre.decodeGre(frame, at) as gre.GreFields;
    const out = new Uint8Array(16);
    expect(gre.encodeGre(value, out, 0, 0)).toBe(16);
    expect(out).toEqual(frame.subarray(at, at + 16));
  });

  it('refuses PPP without HDLC-like framing, and GRE with source routing, with typed errors', () => {
    const p = new ppp.PppView();
    expect(p.wrap(Uint8Array.of(0x00, 0x21, 0x45, 0x00))).toMatchObject({
      code: 'E_BAD_VALUE',
      field: 'address',
    });
    const g = new gre.GreView();
    expect(g.wrap(Uint8Array.of(0xc0, 0x00, 0x08, 0x00, 0, 0, 0, 0))).toMatchObject({
      code: 'E_BAD_VALUE',
      field: 'r',
      offset: 0,
    });
  });
});
