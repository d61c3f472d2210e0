/**
 * Golden tests: every frame of every capture in test/fixtures/pcap decodes (in-process, through
 * the same CaptureDecoder + frameToJSON as `pktstack decode --json`) to the values tshark reported
 * for it in test/fixtures/oracle (see compare.ts for the key mapping).
 *
 * Frames tshark marks malformed or short must get an error from us at or before the layer
 * tshark stopped in (malformed_in, or for `short` the innermost of our layers in its protocol
 * chain); a frame tshark found fine must decode without error. Layers after our reported error
 * are absent by design. Everything else that differs must be listed in KNOWN_DIVERGENCES below,
 * each with its reason — so a new difference fails the test instead of passing quietly.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureDecoder } from '../../src/decode/capture.js';
import { frameToJSON } from '../../src/decode/json.js';
import { openCapture } from '../../src/pcap/reader.js';
import {
  DEPTH,
  type Json,
  LAYER_OF,
  type OracleFrame,
  type OurFrame,
  compareFrame,
} from './compare.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

/**
 * Differences we understand and accept. Each rule says why, recognises the problem lines it
 * explains, and lists every frame it is expected to explain: a rule that stops matching one of
 * its frames, or starts matching a new one, fails the test.
 */
interface Divergence {
  why: string;
  explains(problem: string, ours: OurFrame, o: OracleFrame): boolean;
  frames: string[];
}

const KNOWN_DIVERGENCES: Record<string, Divergence> = {
  'cut-by-snaplen': {
    why:
      'The capture kept fewer bytes than the frame had (caplen < len, a snap length) and the cut ' +
      'falls in the transport payload. Every header is decoded and compared (IPv4 through ' +
      'wrapPartial()), and we still report E_TRUNCATED at the IPv4 payload, since the datagram is ' +
      'not all there; tshark only flags frames whose cut falls inside a layer it was dissecting.',
    explains: (p, ours, o) =>
      o.caplen < o.len &&
      / we report E_TRUNCATED ipv4\.payload@\d+, tshark found no problem$/.test(p) &&
      (ours.layers.tcp !== undefined ||
        ours.layers.udp !== undefined ||
        ours.layers.icmp !== undefined),
    frames: [
      ...[4, 6, 8, 9, 11, 12, 14, 15, 17, 19, 21].map((n) => `zeek-tcp-truncated-header.pcap#${n}`),
      'synthetic-edge-cases.pcap#30',
    ],
  },
  'arp-behind-vlan': {
    why:
      'ARP behind an 802.1Q tag: we decode it (tshark does too), but the oracle reducer ' +
      '(scripts/tshark-oracle.ts) reports ARP only when it sits directly on Ethernet.',
    explains: (p, ours) =>
      / layer arp: we decoded it, tshark did not$/.test(p) && ours.layers.vlan !== undefined,
    frames: ['synthetic-edge-cases.pcap#25'],
  },
  'partial-where-tshark-shows-no-field': {
    why:
      'A header cut short, which we show in part (the fixed fields that lie whole in the bytes), ' +
      'where tshark shows none of its fields: its Ethernet and BOOTP dissectors check that the ' +
      'whole fixed header is there before reading any field (a 10-byte runt frame; a BOOTP ' +
      'header the snap length cuts in a first fragment).',
    explains: (p, ours) => {
      const m = / layer (\w+): we decoded it, tshark did not$/.exec(p);
      return m !== null && ours.partial === m[1];
    },
    frames: ['synthetic-edge-cases.pcap#21', 'tcpdump-bootp_asan.pcap#1'],
  },
  'dns-off-port-53': {
    why:
      'A DNS query to UDP port 5999: tshark still calls it DNS; our dispatch (specs/udp.pkt) ' +
      'decodes DNS on port 53 only, so the frame ends at UDP without error.',
    explains: (p, ours, o) =>
      / layer dns: tshark decoded it, we did not$/.test(p) &&
      ours.error === null &&
      ![o.udp?.srcport, o.udp?.dstport, o.tcp?.srcport, o.tcp?.dstport].includes(53),
    frames: ['linux-udp-unreachable.pcap#1'],
  },
  'tcp-option-not-delimited': {
    why:
      'A TCP option whose length runs past the header: the codec reports E_BAD_OPTION (issue 2: ' +
      'an option list that cannot be delimited is a decode error); tshark leaves the option out ' +
      'of its list without an expert item.',
    explains: (p, ours, o) =>
      / we report E_BAD_OPTION tcp\.options@/.test(p) &&
      ours.error?.layer === 'tcp' &&
      o.tcp !== undefined,
    frames: ['synthetic-edge-cases.pcap#13'],
  },
};

/**
 * The captures committed with their provenance (named in PROVENANCE.md): on these every rule
 * must explain exactly the frames it lists.
 */
const COMMITTED = new Set(
  [
    ...readFileSync(join(FIXTURES, 'PROVENANCE.md'), 'utf8').matchAll(/`([\w.-]+\.pcap(?:ng)?)`/g),
  ].map((m) => m[1]),
);

/** Deepest of our layers in tshark's protocol chain (for `short` frames). */
function innermostOurLayer(protocols: string): string | undefined {
  let last: string | undefined;
  for (const p of protocols.split(':')) if (LAYER_OF[p] !== undefined) last = LAYER_OF[p];
  return last;
}

/**
 * The shallowest of our layers in which tshark found the frame broken: where it hit an exception
 * (malformed_in), where the capture cut what it was dissecting (short), an expert error other
 * than a bad checksum, or a DNS name it could not read.
 */
function tsharkProblemLayer(o: OracleFrame): string | undefined {
  const found: string[] = [];
  // an exception before any protocol tree (a runt frame) is reported as being in `frame`
  const malformedIn = o.malformed_in === 'frame' ? 'eth' : o.malformed_in;
  if (o.malformed && malformedIn !== undefined && LAYER_OF[malformedIn] !== undefined)
    found.push(LAYER_OF[malformedIn]);
  if (o.short) {
    const inner = innermostOurLayer(o.protocols);
    if (inner !== undefined) found.push(inner);
  }
  for (const e of o.expert) {
    const layer = LAYER_OF[String(e.layer)];
    // errors other than checksums, and the warnings tshark gives for a length it cannot use
    // (e.g. ip.opt.len.invalid: an option it could not delimit)
    const broken =
      (e.severity === 'error' && e.group !== 'checksum') ||
      /\.len\.invalid$|bogus/.test(String(e.id));
    if (broken && layer !== undefined) found.push(layer);
  }
  const names = [
    ...((o.dns?.questions as Json[] | undefined) ?? []),
    ...((o.dns?.answers as Json[] | undefined) ?? []),
  ];
  if (names.some((q) => q.name_error !== undefined)) found.push('dns');
  found.sort((a, b) => DEPTH[a] - DEPTH[b]);
  return found[0];
}

/** Problems with one frame beyond the key comparison: error expectations and layer presence. */
function judge(file: string, ours: OurFrame, o: OracleFrame): string[] {
  const where = `${file}#${o.n}`;
  const err = ours.error;
  const errDepth = err === null ? Infinity : (DEPTH[err.layer] ?? -1);
  // Layers after our own error are absent by design: drop those presence complaints.
  const problems = compareFrame(file, ours, o).filter((p) => {
    const m = / layer (\w+): tshark decoded it, we did not$/.exec(p);
    return m === null || DEPTH[m[1]] < errDepth;
  });
  const limit = tsharkProblemLayer(o);
  if (limit !== undefined) {
    if (err === null)
      problems.push(`${where} tshark found a problem in ${limit}, we decoded without error`);
    else if (errDepth > DEPTH[limit])
      problems.push(`${where} our error in ${err.layer} is after tshark's problem in ${limit}`);
  } else if (err !== null) {
    problems.push(
      `${where} we report ${err.code} ${err.layer}.${err.field}@${err.offset}, tshark found no problem`,
    );
  }
  return problems;
}

function oracleOf(name: string): OracleFrame[] {
  return readFileSync(join(FIXTURES, 'oracle', name.replace(/\.pcap(ng)?$/, '.jsonl')), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as OracleFrame);
}

const captures = readdirSync(join(FIXTURES, 'pcap'))
  .filter((f) => /\.pcap(ng)?$/.test(f))
  .sort();

describe('golden: our decode agrees with tshark on every frame', () => {
  const decoder = new CaptureDecoder();

  it('has the fixtures, each named in PROVENANCE.md', () => {
    expect(captures.length).toBeGreaterThanOrEqual(54);
    expect(COMMITTED.size).toBeGreaterThanOrEqual(54);
    for (const rule of Object.values(KNOWN_DIVERGENCES))
      for (const f of rule.frames) expect(COMMITTED).toContain(f.split('#')[0]);
  });

  it.each(captures)('%s', (name) => {
    const oracle = oracleOf(name);
    const records = [...openCapture(readFileSync(join(FIXTURES, 'pcap', name)))];
    expect(records).toHaveLength(oracle.length);
    const problems: string[] = [];
    const explained: Record<string, string[]> = {};
    records.forEach((rec, i) => {
      decoder.decode(rec.bytes, rec.linkType, rec.origLen);
      const ours = frameToJSON(decoder, rec.index + 1) as unknown as OurFrame;
      for (const p of judge(name, ours, oracle[i])) {
        const rule = Object.keys(KNOWN_DIVERGENCES).find((id) =>
          KNOWN_DIVERGENCES[id].explains(p, ours, oracle[i]),
        );
        if (rule === undefined) problems.push(p);
        else (explained[rule] ??= []).push(`${name}#${i + 1}`);
      }
    });
    expect(problems).toEqual([]);
    // On a committed capture a rule must explain exactly the frames it lists. A capture added
    // later without provenance (e.g. a held-back acceptance set) may still hit a rule: the
    // predicates are specific.
    for (const [id, rule] of Object.entries(KNOWN_DIVERGENCES)) {
      const mine = rule.frames.filter((f) => f.startsWith(`${name}#`));
      if (COMMITTED.has(name)) {
        expect([...new Set(explained[id] ?? [])], `divergence ${id}`).toEqual(mine);
      }
    }
  });

  it('every known divergence names real frames', () => {
    for (const rule of Object.values(KNOWN_DIVERGENCES)) {
      for (const key of rule.frames) {
        const [file, n] = key.split('#');
        expect(captures).toContain(file);
        expect(Number(n)).toBeLessThanOrEqual(oracleOf(file).length);
      }
    }
  });
});
