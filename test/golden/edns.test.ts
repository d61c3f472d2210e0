/**
 * EDNS OPT records in `pktstack decode --json` against tshark's view of them: for every capture
 * with a file in test/fixtures/oracle-edns (made by scripts/tshark-edns-oracle.ts), each frame
 * where we decode DNS carries the OPT record tshark shows (UDP payload size, extended rcode bits,
 * version, DO bit, and each option's code, length, data, client subnet and cookie fields), and a
 * frame tshark shows no OPT record in has none from us.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureDecoder } from '../../src/decode/capture.js';
import { frameToJSON } from '../../src/decode/json.js';
import type { EdnsJSON } from '../../src/decode/edns.js';
import { openCapture } from '../../src/pcap/reader.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
type Json = Record<string, unknown>;

/** Our OPT record in the oracle's names. */
function asOracle(e: EdnsJSON): Json {
  return {
    udp_payload_size: e.udpPayloadSize,
    ext_rcode: e.extendedRcode,
    version: e.version,
    do: e.dnssecOk,
    options: e.options.map((o) => {
      const r: Json = { code: o.code, len: o.length, data: o.data };
      if (o.address !== undefined) {
        Object.assign(r, {
          family: o.family,
          source: o.sourcePrefix,
          scope: o.scopePrefix,
          address: o.address,
        });
      }
      if (o.client !== undefined)
        Object.assign(r, { client_cookie: o.client, server_cookie: o.server });
      return r;
    }),
  };
}

const files = readdirSync(join(FIXTURES, 'oracle-edns'))
  .filter((f) => f.endsWith('.jsonl'))
  .sort();

describe('EDNS OPT records agree with tshark', () => {
  const decoder = new CaptureDecoder();

  it('has the oracle files', () => expect(files.length).toBeGreaterThanOrEqual(6));

  it.each(files)('%s', (name) => {
    const oracle = new Map(
      readFileSync(join(FIXTURES, 'oracle-edns', name), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { n: number; opt: Json })
        .map((o) => [o.n, o.opt]),
    );
    const capture = readdirSync(join(FIXTURES, 'pcap')).find(
      (f) => f.replace(/\.pcap(ng)?$/, '.jsonl') === name,
    );
    const records = [...openCapture(readFileSync(join(FIXTURES, 'pcap', capture as string)))];
    let compared = 0;
    for (const rec of records) {
      decoder.decode(rec.bytes, rec.linkType, rec.origLen);
      const n = rec.index + 1;
      const layer = frameToJSON(decoder, n).layers.dns as Json | undefined;
      // DNS we do not decode (inside an ICMP quote, off port 53) is not compared.
      if (layer === undefined) continue;
      const theirs = oracle.get(n);
      const ours = layer.edns as EdnsJSON | undefined;
      expect(ours === undefined ? undefined : asOracle(ours), `frame ${n}`).toEqual(theirs);
      if (theirs !== undefined) compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });
});
