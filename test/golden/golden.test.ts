/**
 * Golden tests: every frame of every capture in test/fixtures/pcap and test/fixtures/next/pcap
 * (IPv6, ICMPv6, IGMP, tunnels, ...) decodes (in-process, through
 * the same CaptureDecoder + frameToJSON as `pktstack decode --json`) to the values tshark reported
 * for it in test/fixtures/oracle (see compare.ts for the key mapping).
 *
 * Frames tshark marks malformed or short must get an error from us at or before the layer
 * tshark stopped in (malformed_in, or for `short` the innermost of our layers in its protocol
 * chain); a frame tshark found fine must decode without error. Layers after our reported error
 * are absent by design. Everything else that differs must be listed in KNOWN_DIVERGENCES below,
 * each with its reason — so a new difference fails the test instead of passing quietly.
 *
 * A frame with a layer we do not decode yet (no decoder in CaptureDecoder: IPv6, GRE, ...) is
 * compared up to that layer and listed, by rule, in pending.ts; the test checks the list is exact
 * (it can only shrink) and prints each rule's count.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { frameToJSON } from '../../src/decode/json.js';
import { openCapture } from '../../src/pcap/reader.js';
import { CaptureDecoder, CaptureLayer } from '../../src/decode/capture.js';
import {
  DEPTH,
  type Json,
  LAYER_OF,
  type OracleFrame,
  type OurFrame,
  compareFrame,
  depthOf,
  notYetDecoded,
  partsNotYetDecoded,
} from './compare.js';
import { NOT_YET_DECODED, frameList, frameRanges } from './pending.js';

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
  'cut-unknown-ethertype': {
    why:
      'A frame the capture cut (caplen < len) whose EtherType nobody decodes (a fuzzed header, ' +
      '0x3030): we report E_TRUNCATED at ethernet.payload, since what follows is not all there; ' +
      'tshark shows the bytes as data and flags nothing.',
    explains: (p, ours, o) =>
      o.caplen < o.len &&
      / we report E_TRUNCATED ethernet\.payload@\d+, tshark found no problem$/.test(p) &&
      o.protocols === 'eth:ethertype:data',
    frames: ['tcpdump-gre-heapoverflow-2.pcap#1'],
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
  'lldp-tlv-order': {
    why:
      'An LLDPDU whose second TLV is not the Port ID (IEEE 802.1AB §9.2.7.7.1 has a receiver ' +
      'discard it): tshark stops listing TLVs there (expert lldp.bad_type, a warning) and counts ' +
      'the rest of the captured frame as LLDP. We list every TLV up to End, as the list is ' +
      'delimited, and the frame the capture cut goes on past End into a trailer it does not hold ' +
      'in full: E_TRUNCATED at ethernet.payload, as for IPv4 and ARP.',
    explains: (p, ours, o) =>
      o.lldp !== undefined &&
      ours.layers.lldp !== undefined &&
      (/ lldp\.tlv_(type|len): ours \[[^\]]*\], tshark \[[^\]]*\]$/.test(p) ||
        (o.caplen < o.len &&
          / we report E_TRUNCATED ethernet\.payload@\d+, tshark found no problem$/.test(p))) &&
      o.expert.some((e) => e.id === 'lldp.bad_type'),
    frames: ['tcpdump-lldp_asan.pcap#1'],
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

/** Our layer for a tshark protocol name (an IPv6 extension header `ipv6.hopopts` is in ipv6). */
function ourLayer(tsharkName: string): string | undefined {
  const name = LAYER_OF[tsharkName.split('.')[0]];
  return name === 'inner' ? undefined : name;
}

/** Deepest of our layers in tshark's protocol chain (for `short` frames). */
function innermostOurLayer(protocols: string): string | undefined {
  let last: string | undefined;
  for (const p of protocols.split(':')) last = ourLayer(p) ?? last;
  return last;
}

/**
 * The layers CaptureDecoder can produce. A tunnel's payload (`inner`) counts once the decoder
 * nests levels (a `inner` member); until then every tunnelled frame is pending at `inner`.
 */
const DECODABLE: ReadonlySet<string> = new Set([
  ...Object.keys(CaptureLayer),
  ...('inner' in CaptureLayer ? ['inner'] : []),
]);

/**
 * What of a frame we do not decode yet: the first layer tshark reported that we have no decoder
 * for (everything beyond it is left uncompared), and parts of decoded layers the DSL cannot
 * declare yet (compare.ts PENDING_PARTS). Keys of NOT_YET_DECODED (pending.ts).
 */
function pendingOf(ours: OurFrame, o: OracleFrame): string[] {
  const layer = notYetDecoded(o, ours.layers, DECODABLE);
  return [...(layer === undefined ? [] : [layer]), ...partsNotYetDecoded(o, ours.layers)];
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
  const malformedLayer = malformedIn === undefined ? undefined : ourLayer(malformedIn);
  if (o.malformed && malformedLayer !== undefined) found.push(malformedLayer);
  if (o.short) {
    const inner = innermostOurLayer(o.protocols);
    if (inner !== undefined) found.push(inner);
  }
  for (const e of o.expert) {
    const layer = ourLayer(String(e.layer));
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

/** Our E_TRUNCATED of a cut Ethernet payload that holds a network layer we do not decode yet. */
function cutPayloadOfPendingLayer(err: OurFrame['error'], pendingDepth: number): boolean {
  return (
    err?.code === 'E_TRUNCATED' &&
    err.layer === 'ethernet' &&
    err.field === 'payload' &&
    pendingDepth <= DEPTH.ipv4
  );
}

/**
 * Problems with one frame beyond the key comparison: error expectations and layer presence.
 * `pendingDepth`: depth of the first layer we do not decode yet; what tshark says about it and
 * the layers beyond is not ours to judge (the pending rule lists the frame instead).
 */
function judge(file: string, ours: OurFrame, o: OracleFrame, pendingDepth: number): string[] {
  const where = `${file}#${o.n}`;
  const err = ours.error;
  const errDepth = err === null ? Infinity : (DEPTH[err.layer] ?? -1);
  // Layers after our own error are absent by design, and so are those behind a pending layer:
  // drop those presence complaints.
  const problems = compareFrame(file, ours, o).filter((p) => {
    const m = / layer ([\w.]+): tshark decoded it, we did not$/.exec(p);
    return m === null || (depthOf(m[1]) < errDepth && depthOf(m[1]) < pendingDepth);
  });
  const limit = tsharkProblemLayer(o);
  if (limit !== undefined && DEPTH[limit] >= pendingDepth) {
    // tshark's problem is in a layer we do not decode yet
  } else if (limit !== undefined) {
    if (err === null)
      problems.push(`${where} tshark found a problem in ${limit}, we decoded without error`);
    else if (errDepth > DEPTH[limit])
      problems.push(`${where} our error in ${err.layer} is after tshark's problem in ${limit}`);
  } else if (err !== null && !cutPayloadOfPendingLayer(err, pendingDepth)) {
    problems.push(
      `${where} we report ${err.code} ${err.layer}.${err.field}@${err.offset}, tshark found no problem`,
    );
  }
  return problems;
}

/** The capture sets: the IPv4 family, and the next protocols (IPv6, IGMP, tunnels, ...). */
const SETS = ['', 'next'];
/** Capture file name → its set's folder (names are unique across the sets). */
const folderOf = new Map<string, string>();
for (const dir of SETS)
  for (const f of readdirSync(join(FIXTURES, dir, 'pcap')))
    if (/\.pcap(ng)?$/.test(f)) folderOf.set(f, dir);

function oracleOf(name: string): OracleFrame[] {
  const dir = folderOf.get(name) ?? '';
  return readFileSync(join(FIXTURES, dir, 'oracle', name.replace(/\.pcap(ng)?$/, '.jsonl')), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as OracleFrame);
}

const captures = [...folderOf.keys()].sort();

/** Frames per pending rule, as found (filled by the per-capture tests). */
const pendingFound: Record<string, string[]> = {};
let framesCompared = 0;
let framesWhole = 0;

describe('golden: our decode agrees with tshark on every frame', () => {
  const decoder = new CaptureDecoder();

  it('has the fixtures, each named in PROVENANCE.md', () => {
    expect(captures.length).toBeGreaterThanOrEqual(100);
    for (const c of captures) expect(COMMITTED).toContain(c);
    for (const rule of Object.values(KNOWN_DIVERGENCES))
      for (const f of rule.frames) expect(COMMITTED).toContain(f.split('#')[0]);
  });

  it.each(captures)('%s', (name) => {
    const oracle = oracleOf(name);
    const dir = folderOf.get(name) ?? '';
    const records = [...openCapture(readFileSync(join(FIXTURES, dir, 'pcap', name)))];
    expect(records).toHaveLength(oracle.length);
    const problems: string[] = [];
    const explained: Record<string, string[]> = {};
    const pendingHere: Record<string, string[]> = {};
    records.forEach((rec, i) => {
      decoder.decode(rec.bytes, rec.linkType, rec.origLen);
      const ours = frameToJSON(decoder, rec.index + 1) as unknown as OurFrame;
      const pending = pendingOf(ours, oracle[i]);
      for (const rule of pending) (pendingHere[rule] ??= []).push(`${name}#${i + 1}`);
      const layer = notYetDecoded(oracle[i], ours.layers, DECODABLE);
      framesCompared++;
      if (pending.length === 0) framesWhole++;
      for (const p of judge(
        name,
        ours,
        oracle[i],
        layer === undefined ? Infinity : depthOf(layer),
      )) {
        const rule = Object.keys(KNOWN_DIVERGENCES).find((id) =>
          KNOWN_DIVERGENCES[id].explains(p, ours, oracle[i]),
        );
        if (rule === undefined) problems.push(p);
        else (explained[rule] ??= []).push(`${name}#${i + 1}`);
      }
    });
    for (const [rule, frames] of Object.entries(pendingHere))
      (pendingFound[rule] ??= []).push(...frames);
    expect(problems).toEqual([]);
    // Frames with parts we do not decode yet are exactly those pending.ts lists: a frame that
    // starts decoding must leave the list, and none may join it.
    for (const rule of new Set([...Object.keys(pendingHere), ...Object.keys(NOT_YET_DECODED)])) {
      const listed = frameList(NOT_YET_DECODED[rule]?.frames ?? {}).filter((f) =>
        f.startsWith(`${name}#`),
      );
      expect(pendingHere[rule] ?? [], `not yet decoded: ${rule}`).toEqual(listed);
    }
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

  it('reports what is not yet decoded, per rule (pending.ts)', () => {
    // Written before the checks below, which fail exactly when the table must change.
    const out = process.env.GOLDEN_PENDING_OUT;
    if (out !== undefined) {
      const table = Object.fromEntries(
        Object.entries(pendingFound).map(([rule, frames]) => [rule, frameRanges(frames)]),
      );
      writeFileSync(out, JSON.stringify(table, null, 2) + '\n');
    }
    const lines = [`golden: ${framesCompared} frames compared, ${framesWhole} decoded in full`];
    for (const [rule, p] of Object.entries(NOT_YET_DECODED)) {
      const frames = pendingFound[rule] ?? [];
      const files = new Set(frames.map((f) => f.split('#')[0]));
      lines.push(
        `  not yet decoded: ${rule} (${p.issue}): ${frames.length} frames in ${files.size} captures`,
      );
      // a rule that explains no frame any more must be deleted
      expect(frames.length, `pending rule ${rule} explains no frame: delete it`).toBeGreaterThan(0);
      expect(frames).toEqual(frameList(p.frames));
    }
    console.info(lines.join('\n'));
    expect(Object.keys(pendingFound).sort(), 'pending rules found').toEqual(
      Object.keys(NOT_YET_DECODED).sort(),
    );
    expect(framesCompared).toBe(captures.reduce((n, c) => n + oracleOf(c).length, 0));
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
