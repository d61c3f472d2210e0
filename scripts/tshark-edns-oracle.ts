/**
 * tshark-edns-oracle.ts CAPTURE > NAME.jsonl
 *
 * tshark's view of the EDNS OPT records in a capture, for the decode tests of EDNS (the main
 * oracle, tshark-oracle.ts, reports DNS questions and answers only): one line per frame whose DNS
 * message carries an OPT record, `{"n":N,"opt":{...}}`, with the OPT record's UDP payload size,
 * extended rcode bits, version, DO bit, and every option as code, length, data (colon hex) and,
 * where tshark decodes it, the client subnet (family, source/scope prefix, address) or cookie
 * (client, server). Same tshark settings as tshark-oracle.ts.
 */
import { spawnSync } from 'node:child_process';
import { writeSync } from 'node:fs';
import { Obj, TSHARK_ARGS, parseOrdered } from './tshark-oracle.js';

type Out = Record<string, unknown>;

function int(s: string | undefined): number | undefined {
  return s === undefined ? undefined : Number(s);
}

function put(o: Out, key: string, v: unknown): void {
  if (v !== undefined) o[key] = v;
}

/** The OPT record among the additional records, reduced. */
function reduceOpt(rr: Obj): Out {
  const o: Out = {};
  put(o, 'udp_payload_size', int(rr.str('dns.rr.udp_payload_size')));
  put(o, 'ext_rcode', int(rr.str('dns.resp.ext_rcode')));
  put(o, 'version', int(rr.str('dns.resp.edns0_version')));
  put(o, 'do', int(rr.obj('dns.resp.z_tree')?.str('dns.resp.z.do')));
  const options: Out[] = [];
  for (const [k, v] of rr.entries) {
    if (k !== 'dns.opt' || !(v instanceof Obj)) continue;
    const opt: Out = {};
    put(opt, 'code', int(v.str('dns.opt.code')));
    put(opt, 'len', int(v.str('dns.opt.len')));
    put(opt, 'data', v.str('dns.opt.data'));
    put(opt, 'family', int(v.str('dns.opt.client.family')));
    put(opt, 'source', int(v.str('dns.opt.client.netmask')));
    put(opt, 'scope', int(v.str('dns.opt.client.scope')));
    put(opt, 'address', v.str('dns.opt.client.addr4') ?? v.str('dns.opt.client.addr6'));
    put(opt, 'client_cookie', v.str('dns.opt.cookie.client'));
    put(opt, 'server_cookie', v.str('dns.opt.cookie.server'));
    options.push(opt);
  }
  o.options = options;
  return o;
}

function main(): void {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: tshark-edns-oracle.ts CAPTURE > NAME.jsonl\n');
    process.exit(2);
  }
  const r = spawnSync('tshark', [...TSHARK_ARGS, '-r', file], {
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    process.stderr.write(`tshark failed on ${file}: ${r.stderr}\n`);
    process.exit(1);
  }
  const packets = parseOrdered(r.stdout);
  if (!Array.isArray(packets)) throw new Error('tshark output is not a JSON array');
  packets.forEach((p, i) => {
    const dns = p instanceof Obj ? p.obj('_source')?.obj('layers')?.obj('dns') : undefined;
    const additional = dns?.obj('Additional records');
    if (additional === undefined) return;
    for (const [, rr] of additional.entries) {
      if (rr instanceof Obj && rr.str('dns.resp.type') === '41') {
        writeSync(1, JSON.stringify({ n: i + 1, opt: reduceOpt(rr) }) + '\n');
        return;
      }
    }
  });
}

main();
