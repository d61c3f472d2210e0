/**
 * Golden tests for tunnels: every frame of the captures in test/fixtures/tunnels decodes through
 * FrameDecoder to the fields tshark reported (NAME.jsonl beside each capture), level by level:
 * what a tunnel carries is our `inner`, as it is the oracle's. A frame tshark found short may
 * stop with our error at or before the layer tshark stopped in; layers after it are not compared.
 * An oracle layer we have no spec for yet must be listed in NOT_DECLARED, and nothing past it
 * is expected of us.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIpv4, formatMac } from '../../src/codec/address.js';
import { CaptureDecoder } from '../../src/decode/capture.js';
import { frameToJSON } from '../../src/decode/json.js';
import { frame } from '../../src/generated/index.js';
import { readPcapFrames } from '../codec/helpers.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'tunnels');
const { FrameDecoder, FrameLayer } = frame;
type Decoder = InstanceType<typeof FrameDecoder>;
type Json = Record<string, unknown>;

/** Oracle layers without a spec in specs/ yet: FrameDecoder stops before them. */
const NOT_DECLARED = new Set<string>([]);

/** Oracle key → our layer, and the oracle fields that layer must show. */
const LAYERS: Record<string, { layer: keyof typeof FrameLayer; fields: (d: Decoder) => Json }> = {
  eth: {
    layer: 'ethernet',
    fields: (d) => ({
      dst: formatMac(d.ethernet.dst),
      src: formatMac(d.ethernet.src),
      type: d.ethernet.etherType,
    }),
  },
  ip: {
    layer: 'ipv4',
    fields: (d) => ({
      v: d.ipv4.version,
      hdr_len: d.ipv4.ihl * 4,
      len: d.ipv4.totalLength,
      id: d.ipv4.identification,
      flags: d.ipv4.flags,
      ttl: d.ipv4.ttl,
      proto: d.ipv4.protocol,
      checksum: d.ipv4.checksum,
      src: formatIpv4(d.ipv4.src),
      dst: formatIpv4(d.ipv4.dst),
    }),
  },
  udp: {
    layer: 'udp',
    fields: (d) => ({
      srcport: d.udp.srcPort,
      dstport: d.udp.dstPort,
      len: d.udp.length,
      checksum: d.udp.checksum,
    }),
  },
  vxlan: {
    layer: 'vxlan',
    fields: (d) => ({
      flags: (d.vxlan.flagsHigh << 12) | (d.vxlan.vniValid << 11) | d.vxlan.flagsLow,
      vni: d.vxlan.vni,
    }),
  },
  geneve: {
    layer: 'geneve',
    fields: (d) => ({
      version: d.geneve.version,
      option_length: d.geneve.optLen * 4,
      flags: (d.geneve.oam << 7) | (d.geneve.critical << 6) | d.geneve.reserved0,
      proto_type: d.geneve.protocolType,
      vni: d.geneve.vni,
    }),
  },
  icmp: {
    layer: 'icmp',
    fields: (d) => ({ type: d.icmp.type, code: d.icmp.code, checksum: d.icmp.checksum }),
  },
  arp: {
    layer: 'arp',
    fields: (d) => ({
      htype: d.arp.htype,
      ptype: d.arp.ptype,
      op: d.arp.op,
      sha: formatMac(d.arp.sha),
      spa: formatIpv4(d.arp.spa),
      tha: formatMac(d.arp.tha),
      tpa: formatIpv4(d.arp.tpa),
    }),
  },
  tcp: {
    layer: 'tcp',
    fields: (d) => ({
      srcport: d.tcp.srcPort,
      dstport: d.tcp.dstPort,
      seq: d.tcp.seq,
      ack: d.tcp.ack,
      hdr_len: d.tcp.dataOffset * 4,
      window: d.tcp.window,
      checksum: d.tcp.checksum,
    }),
  },
  dns: {
    layer: 'dns',
    fields: (d) => ({ id: d.dns.id, qdcount: d.dns.qdcount, ancount: d.dns.ancount }),
  },
};

const ORDER = ['eth', 'ip', 'arp', 'udp', 'tcp', 'icmp', 'vxlan', 'geneve', 'dns'];

/** The problems of one nesting level (and the levels inside it). */
function compareLevel(d: Decoder, o: Json, short: boolean, where: string): string[] {
  const problems: string[] = [];
  const keys = Object.keys(o).filter((k) => ORDER.includes(k));
  keys.sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  for (const key of keys) {
    if (NOT_DECLARED.has(key)) {
      if (d.inner !== null) problems.push(`${where}: an inner level past undeclared ${key}`);
      return problems;
    }
    const spec = LAYERS[key];
    if (!d.has(FrameLayer[spec.layer])) {
      // Only a frame tshark found short may stop early, and then with our error.
      if (!short || d.error === null) problems.push(`${where}: ${key} not decoded`);
      return problems;
    }
    const want = o[key] as Json;
    const got = spec.fields(d);
    for (const [k, v] of Object.entries(got)) {
      if (want[k] !== v)
        problems.push(`${where}.${key}.${k}: ours ${String(v)}, tshark ${String(want[k])}`);
    }
  }
  const inner = o.inner as Json | undefined;
  if (inner === undefined) {
    if (d.inner !== null) problems.push(`${where}: an inner level tshark does not have`);
  } else if (d.inner === null) {
    if (!short || d.error === null) problems.push(`${where}: inner level not decoded`);
  } else {
    problems.push(...compareLevel(d.inner, inner, short, `${where}.inner`));
  }
  return problems;
}

const captures = readdirSync(DIR)
  .filter((f) => f.endsWith('.pcap'))
  .sort();

describe('tunnels against the tshark oracle (FrameDecoder, level by level)', () => {
  it('covers the VXLAN captures, three levels deep in one', () => {
    expect(captures).toEqual([
      'tcpdump-vxlan.pcap',
      'zeek-tunnels-geneve-vxlan-dns-truncated.pcap',
      'zeek-tunnels-vxlan-inner-tcp-bad-checksum.pcap',
      'zeek-tunnels-vxlan-triple-v2.pcap',
    ]);
  });

  for (const file of captures) {
    it(file, () => {
      const frames = readPcapFrames(join(DIR, file));
      const oracle = readFileSync(join(DIR, file.replace(/\.pcap$/, '.jsonl')), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Json);
      expect(frames.length).toBe(oracle.length);
      const d = new FrameDecoder();
      let levels = 0;
      frames.forEach((bytes, i) => {
        const o = oracle[i];
        const err = d.decode(bytes);
        const short = o.short === true || o.malformed === true;
        if (!short) expect(err, `frame ${i + 1}`).toBeNull();
        expect(compareLevel(d, o, short, `#${i + 1}`)).toEqual([]);
        for (let l: Decoder | null = d; l !== null; l = l.inner) levels++;
      });
      // Every capture has a tunnel FrameDecoder follows (in frames the capture kept whole: the
      // strict decoder stops at a cut IPv4 datagram).
      if (oracle.some((o) => o.short !== true)) expect(levels).toBeGreaterThan(frames.length);
    });
  }
});

/** `pktstack decode --json` layer → oracle layer, and the values both must show alike. */
const JSON_LAYERS: Record<string, { key: string; same: Array<[string, string]> }> = {
  ethernet: {
    key: 'eth',
    same: [
      ['src', 'src'],
      ['dst', 'dst'],
      ['etherType', 'type'],
    ],
  },
  ipv4: {
    key: 'ip',
    same: [
      ['src', 'src'],
      ['dst', 'dst'],
      ['protocol', 'proto'],
      ['totalLength', 'len'],
    ],
  },
  udp: {
    key: 'udp',
    same: [
      ['srcPort', 'srcport'],
      ['dstPort', 'dstport'],
      ['length', 'len'],
    ],
  },
  vxlan: { key: 'vxlan', same: [['vni', 'vni']] },
  geneve: {
    key: 'geneve',
    same: [
      ['vni', 'vni'],
      ['protocolType', 'proto_type'],
    ],
  },
  tcp: {
    key: 'tcp',
    same: [
      ['srcPort', 'srcport'],
      ['seq', 'seq'],
      ['checksum', 'checksum'],
    ],
  },
  icmp: {
    key: 'icmp',
    same: [
      ['type', 'type'],
      ['code', 'code'],
    ],
  },
  arp: {
    key: 'arp',
    same: [
      ['op', 'op'],
      ['spa', 'spa'],
      ['tpa', 'tpa'],
    ],
  },
  dns: {
    key: 'dns',
    same: [
      ['id', 'id'],
      ['qdcount', 'qdcount'],
    ],
  },
};

/**
 * Our JSON level against the oracle's: the same layers (up to an undeclared one), nested alike. In
 * a frame tshark found short, a layer in the cut part may be missing on our side (an application
 * message in a cut payload is shown only when it is whole).
 */
function compareJson(ours: Json, o: Json, where: string, short: boolean): string[] {
  const problems: string[] = [];
  for (const [layer, { key, same }] of Object.entries(JSON_LAYERS)) {
    const got = ours[layer] as Json | undefined;
    const want = o[key] as Json | undefined;
    if (short && got === undefined) continue;
    if ((got === undefined) !== (want === undefined)) {
      problems.push(`${where}.${layer}: ${got === undefined ? 'missing' : 'not in the oracle'}`);
      continue;
    }
    if (got === undefined || want === undefined) continue;
    for (const [a, b] of same) {
      if (got[a] !== want[b])
        problems.push(`${where}.${layer}.${a}: ${String(got[a])} vs ${String(want[b])}`);
    }
  }
  if (ours.inner !== undefined || o.inner !== undefined) {
    if (ours.inner === undefined || o.inner === undefined)
      problems.push(`${where}.inner: only on one side`);
    else
      problems.push(...compareJson(ours.inner as Json, o.inner as Json, `${where}.inner`, short));
  }
  return problems;
}

describe('pktstack decode --json nests tunnels like the oracle', () => {
  for (const file of captures) {
    it(file, () => {
      const frames = readPcapFrames(join(DIR, file));
      const oracle = readFileSync(join(DIR, file.replace(/\.pcap$/, '.jsonl')), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Json);
      const d = new CaptureDecoder();
      frames.forEach((bytes, i) => {
        // A frame the capture cut decodes with the cut's error, every header shown.
        expect(d.decode(bytes), `frame ${i + 1}`).toBe(oracle[i].short !== true);
        const ours = frameToJSON(d, i + 1);
        expect(compareJson(ours.layers, oracle[i], `#${i + 1}`, oracle[i].short === true)).toEqual(
          [],
        );
      });
    });
  }

  it('stops a tunnel past the depth bound with E_TOO_DEEP', () => {
    const triple = readPcapFrames(join(DIR, 'zeek-tunnels-vxlan-triple-v2.pcap'))[0];
    const d = new CaptureDecoder(2);
    expect(d.decode(triple)).toBe(false);
    expect(d.error).toMatchObject({ code: 'E_TOO_DEEP', layer: 'vxlan', field: 'payload' });
    expect(d.inner?.inner?.has('vxlan')).toBe(true);
    expect(d.inner?.inner?.inner).toBeNull();
  });
});
