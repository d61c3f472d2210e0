/**
 * Round-trip properties of the ICMPv6/ND/MLD messages (specs/icmpv6.pkt) and DHCPv6
 * (specs/dhcpv6.pkt), from random valid values: typed ND option and DHCPv6 option items (nested
 * options included) encode and decode back to themselves, and so do their bytes; every message's
 * Fields encode (lengths and the checksum over the IPv6 pseudo-header derived) and decode back,
 * the checksum verifying; the checksum-updating setters (RFC 1624) keep it verifying, IPv6
 * address fields included. Hostile input is test/codec/icmpv6.test.ts's and dhcpv6.test.ts's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDecodeError } from '../../src/codec/errors.js';
import { dhcpv6, icmpv6 } from '../../src/generated/index.js';
import { payload, u8 } from './arbitraries.js';
import {
  dhcpv6Fields,
  dhcpv6Options,
  dhcpv6RelayFields,
  ICMPV6_MESSAGES,
  ipv6Bytes,
  ndOptions,
} from './icmpv6-arbitraries.js';

const RUNS = { numRuns: 200 };

describe('ND options', () => {
  it('items encode and decode back to themselves, and so do their bytes', () => {
    fc.assert(
      fc.property(ndOptions, ({ list, bytes }) => {
        expect(bytes.length % 8).toBe(0);
        expect(icmpv6.validateNdOptions(bytes, 0, bytes.length)).toBe(-1);
        expect(icmpv6.decodeNdOptions(bytes, 0, bytes.length)).toEqual(list);
        const again = new Uint8Array(bytes.length);
        icmpv6.encodeNdOptions(icmpv6.decodeNdOptions(bytes, 0, bytes.length), again, 0);
        expect(again).toEqual(bytes);
      }),
      RUNS,
    );
  });
});

describe('DHCPv6 options', () => {
  it('items (nested options included) encode and decode back to themselves', () => {
    fc.assert(
      fc.property(dhcpv6Options, ({ list, bytes }) => {
        expect(dhcpv6.validateDhcpv6Options(bytes, 0, bytes.length)).toBe(-1);
        expect(dhcpv6.decodeDhcpv6Options(bytes, 0, bytes.length)).toEqual(list);
      }),
      RUNS,
    );
  });

  it('messages and relay messages round-trip', () => {
    fc.assert(
      fc.property(dhcpv6Fields, dhcpv6RelayFields, (m, r) => {
        const out = new Uint8Array(64 + m.options.length + r.options.length);
        const n = dhcpv6.encodeDhcpv6(m, out, 0);
        expect(dhcpv6.decodeDhcpv6(out, 0, n)).toEqual(m);
        const k = dhcpv6.encodeDhcpv6Relay(r, out, 0);
        expect(dhcpv6.decodeDhcpv6Relay(out, 0, k)).toEqual(r);
      }),
      RUNS,
    );
  });
});

describe('ICMPv6 messages', () => {
  const mod = icmpv6 as unknown as Record<string, unknown>;
  for (const [name, c] of Object.entries(ICMPV6_MESSAGES)) {
    const decode = mod[`decode${c.message}`] as (b: Uint8Array, o: number, l: number) => unknown;
    const View = mod[`${c.message}View`] as new () => {
      wrap(b: Uint8Array, o?: number, l?: number): unknown;
      checksumValidWithIpv6(s: Uint8Array, so: number, d: Uint8Array, dof: number): boolean;
    } & Record<string, unknown>;
    it(`${name}: Fields encode (checksum over the pseudo-header) and decode back`, () => {
      fc.assert(
        fc.property(
          c.fields,
          ipv6Bytes,
          ipv6Bytes,
          payload,
          u8,
          ipv6Bytes,
          (f, src, dst, bytes, code, target) => {
            const data = c.payload === true ? bytes : new Uint8Array(0);
            const out = new Uint8Array(4096);
            const header = c.encode(f, out, 0, 0, src, 0, dst, 0);
            expect(header).toBeGreaterThan(0);
            // With the payload after the header (the caller's part), checksummed too.
            out.set(data, header);
            const whole = c.encode(f, out, 0, data.length, src, 0, dst, 0);
            expect(whole).toBe(header);
            const back = decode(out, 0, header + data.length);
            expect(isDecodeError(back)).toBe(false);
            const { checksum: _ignored, ...rest } = back as Record<string, unknown>;
            const expected: Record<string, unknown> = { ...f };
            if ('sources' in expected) expected.numSources = (f.sources as unknown[]).length;
            expect(rest).toMatchObject(expected);
            const v = new View();
            expect(v.wrap(out, 0, header + data.length)).toBeNull();
            expect(v.checksumValidWithIpv6(src, 0, dst, 0)).toBe(true);
            // The checksum-updating setters keep it verifying, an IPv6 address field's too.
            (v.setCodeUpdatingChecksum as (x: number) => void).call(v, code);
            expect(v.checksumValidWithIpv6(src, 0, dst, 0)).toBe(true);
            const setTarget = v.setTargetUpdatingChecksum as
              ((b: Uint8Array, o: number) => boolean) | undefined;
            if (setTarget !== undefined) {
              expect(setTarget.call(v, target, 0)).toBe(true);
              expect(v.checksumValidWithIpv6(src, 0, dst, 0)).toBe(true);
              expect(setTarget.call(v, target, 1)).toBe(false);
            }
          },
        ),
        RUNS,
      );
    });
  }
});
