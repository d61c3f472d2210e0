/**
 * The examples run as a user would run them, importing `pktstack/codecs` and `pktstack/stack`
 * by package name (resolved to the sources with the "source" export condition, so no build is
 * needed). The root-needing example (http-on-tap) runs in test/kernel/http-example.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function runExample(
  name: string,
  ...args: string[]
): { code: number | null; out: string; err: string } {
  const r = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join('examples', name), ...args],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('examples', () => {
  it('decode-pcap prints one line per frame of a capture', () => {
    const r = runExample('decode-pcap.ts');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(lines[0]).toMatch(
      /^ +1 10\.77\.0\.2:\d+ > 10\.77\.0\.1:8080 TCP \[SYN\] seq \d+ win \d+ len 0$/,
    );
    expect(r.out).toMatch(/TCP \[SYN,ACK\]/);
    expect(r.out).not.toMatch(/bad |bad checksum/);
  });

  it('decode-pcap reads the file given and shows ARP and ICMP', () => {
    const r = runExample('decode-pcap.ts', 'test/fixtures/pcap/linux-arp-icmp.pcap');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ethertype 0x0806 \(ARP\)/);
    expect(r.out).toMatch(/ > .* ICMP/);
  });

  it('frame-decoder tallies a capture by innermost layer with one decode() per frame', () => {
    const r = runExample('frame-decoder.ts');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('frames by innermost layer: {"dns":12,"tcp":10}');
    expect(r.out).toContain('decode errors: {}');
    expect(r.out).toContain('TCP SYNs: 2, DNS answers: 4');
    const bad = runExample('frame-decoder.ts', 'test/fixtures/pcap/tcpdump-dns-badlabel.pcap');
    expect(bad.code).toBe(0);
    expect(bad.out).toContain('"dns E_BAD_NAME at name":1');
  });

  it('encode-frame builds a frame whose checksums verify', () => {
    const r = runExample('encode-frame.ts');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^frame \(63 bytes\): 020000000001020000000002080045/);
    expect(r.out).toContain('checksum ok: true');
    expect(r.out).not.toContain('checksum ok: false');
    expect(r.out).toContain('payload: hello from the codecs');
  });

  it('net-drop-in runs node:net code on two stacks and prints what it prints on node:net', () => {
    const stack = runExample('net-drop-in.ts');
    expect(stack.err).toBe('');
    expect(stack.code).toBe(0);
    expect(stack.out).toBe(
      [
        'HELLO',
        'DROP-IN NODE:NET',
        'bye',
        'closed, hadError false, sent 23 B, got 27 B',
        'ECONNREFUSED -111 connect port true',
        '',
      ].join('\n'),
    );
    const node = runExample('net-drop-in.ts', '--node');
    expect(node.code).toBe(0);
    expect(node.out).toBe(stack.out);
  });

  it('express-fetch serves an Express app on one stack and fetches from it on another', () => {
    const r = runExample('express-fetch.ts');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        'POST /notes: 201 {"id":1}',
        'GET /notes: 200 ["sent through two user-space stacks"]',
        'GET /nothing: 404',
        '',
      ].join('\n'),
    );
    // docs/library.md shows the example's code as it is.
    const source = readFileSync(join(root, 'examples', 'express-fetch.ts'), 'utf8');
    const from = source.indexOf('const app = express();');
    const shown = source.slice(from, source.indexOf('// end of what docs/library.md shows'));
    const doc = readFileSync(join(root, 'docs', 'library.md'), 'utf8');
    expect(from).toBeGreaterThan(0);
    expect(doc).toContain('```ts\n' + shown.trimEnd() + '\n```');
  });

  it('two-stacks fetches over a lossy in-memory path, the same way every run', () => {
    const first = runExample('two-stacks.ts');
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toContain('status 200, 100000 bytes, intact: true');
    const dropped = /frames dropped: (\d+) sent by A, (\d+) sent by B/.exec(first.out);
    expect(Number(dropped?.[1]) + Number(dropped?.[2])).toBeGreaterThan(0);
    expect(runExample('two-stacks.ts').out).toBe(first.out);
  });

  it('golden-check agrees with tshark on the fixtures, and reports a wrong oracle', () => {
    for (const name of ['linux-tcp-http', 'linux-dns', 'linux-tcp-sack']) {
      const r = runExample(
        'golden-check.ts',
        `test/fixtures/pcap/${name}.pcap`,
        `test/fixtures/oracle/${name}.jsonl`,
      );
      expect(r.out).toMatch(/^\d+ frames agree with tshark\n$/);
      expect(r.code).toBe(0);
    }
    // Change one TTL in a copy of the oracle: the check must notice.
    const dir = mkdtempSync(join(tmpdir(), 'pkt-golden-'));
    try {
      const oracle = readFileSync(join(root, 'test/fixtures/oracle/linux-tcp-http.jsonl'), 'utf8');
      const wrong = join(dir, 'wrong.jsonl');
      writeFileSync(wrong, oracle.replace('"ttl":64', '"ttl":63'));
      const r = runExample('golden-check.ts', 'test/fixtures/pcap/linux-tcp-http.pcap', wrong);
      expect(r.code).toBe(1);
      expect(r.out).toContain('frame 1: ip.ttl is 64, tshark says 63');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
