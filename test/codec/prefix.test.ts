/**
 * decode<Message>Prefix(): the fixed fields of a header that failed wrap(), for `pktstack decode`.
 * On any bytes it never throws and never reads outside [offset, offset + length); on a whole
 * header it gives exactly toJSON()'s values for the fields it shows; cut, it gives the fields
 * that lie whole in the bytes; with `last` it stops after that field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arp, dhcp, dns, ethernet, icmp, ipv4, tcp, udp, vlan } from '../../src/generated/index.js';
import { fixturePcaps, readPcapFrames, splitLayers, watched } from './helpers.js';

type Prefix = (bytes: Uint8Array, offset: number, length: number, last?: string) => object;

interface Case {
  prefix: Prefix;
  fixedSize: number;
}

const CASES: Record<string, Case> = {
  ethernet: { prefix: ethernet.decodeEthernetPrefix, fixedSize: ethernet.ETHERNET_FIXED_SIZE },
  ipv4: { prefix: ipv4.decodeIpv4Prefix, fixedSize: ipv4.IPV4_FIXED_SIZE },
  tcp: { prefix: tcp.decodeTcpPrefix, fixedSize: tcp.TCP_FIXED_SIZE },
  udp: { prefix: udp.decodeUdpPrefix, fixedSize: udp.UDP_FIXED_SIZE },
  icmp: { prefix: icmp.decodeIcmpPrefix, fixedSize: icmp.ICMP_FIXED_SIZE },
  arp: { prefix: arp.decodeArpAnySizePrefix, fixedSize: arp.ARPANYSIZE_FIXED_SIZE },
  dhcp: { prefix: dhcp.decodeDhcpPrefix, fixedSize: dhcp.DHCP_FIXED_SIZE },
  dns: { prefix: dns.decodeDnsPrefix, fixedSize: dns.DNS_FIXED_SIZE },
  vlan: { prefix: vlan.decodeVlanPrefix, fixedSize: vlan.VLAN_FIXED_SIZE },
};

describe('decode<Message>Prefix()', () => {
  it.each(Object.keys(CASES))('%s: never throws or reads outside its window', (name) => {
    const c = CASES[name];
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: c.fixedSize + 8 }),
        fc.nat(8),
        fc.integer({ min: -4, max: c.fixedSize + 8 }),
        (body, pad, length) => {
          const bytes = new Uint8Array(pad + body.length);
          bytes.set(body, pad);
          const hi = Math.min(bytes.length, pad + Math.max(0, length));
          const w = watched(bytes, pad, hi);
          const out = c.prefix(w.proxy, pad, length);
          expect(w.outside).toEqual([]);
          expect(typeof out).toBe('object');
        },
      ),
      { seed: 20261201, numRuns: 300 },
    );
  });

  it('gives toJSON() values on whole headers of every fixture layer', () => {
    const views = {
      ethernet: new ethernet.EthernetView(),
      ipv4: new ipv4.Ipv4View(),
      tcp: new tcp.TcpView(),
      udp: new udp.UdpView(),
      icmp: new icmp.IcmpView(),
    };
    let checked = 0;
    for (const path of fixturePcaps()) {
      for (const frame of readPcapFrames(path)) {
        for (const layer of splitLayers(frame)) {
          if (!(layer.name in views)) continue;
          const name = layer.name as keyof typeof views;
          const v = views[name];
          expect(v.wrap(frame, layer.offset, layer.length)).toBeNull();
          const json = v.toJSON() as unknown as Record<string, unknown>;
          const prefix = CASES[name].prefix(frame, layer.offset, layer.length) as Record<
            string,
            unknown
          >;
          expect(Object.keys(prefix).length).toBeGreaterThan(0);
          for (const [k, value] of Object.entries(prefix)) expect(value, k).toEqual(json[k]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('stops where the bytes end and after the field named', () => {
    const c = CASES.ethernet;
    const frame = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00]);
    expect(c.prefix(frame, 0, 14)).toEqual({
      dst: '01:02:03:04:05:06',
      src: '07:08:09:0a:0b:0c',
      etherType: 0x0800,
    });
    expect(c.prefix(frame, 0, 11)).toEqual({ dst: '01:02:03:04:05:06' });
    expect(c.prefix(frame, 0, 14, 'src')).toEqual({
      dst: '01:02:03:04:05:06',
      src: '07:08:09:0a:0b:0c',
    });
    expect(c.prefix(frame, 0, 5)).toEqual({});
    // An IPv4 header with ihl 3: version and ihl, the failing field, and nothing after it.
    const ip = new Uint8Array(20);
    ip[0] = 0x43;
    expect(new ipv4.Ipv4View().wrap(ip)?.field).toBe('ihl');
    expect(ipv4.decodeIpv4Prefix(ip, 0, 20, 'ihl')).toEqual({ version: 4, ihl: 3 });
    // A `when` field shows null when its condition does not hold, as in toJSON().
    const unreachable = new Uint8Array([3, 3, 0, 0, 0, 0, 0, 0]);
    expect(icmp.decodeIcmpPrefix(unreachable, 0, 8)).toEqual({
      type: 3,
      code: 3,
      checksum: 0,
      identifier: null,
      sequence: null,
    });
  });
});
