import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runDecode } from '../../src/cli/commands/decode.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PCAP = join(ROOT, 'test', 'fixtures', 'pcap');
const tmp = mkdtempSync(join(tmpdir(), 'pktstack-decode-'));
const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI in a subprocess, as a user runs it. */
async function cli(...args: string[]): Promise<Result> {
  try {
    const r = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'decode', ...args],
      {
        cwd: ROOT,
        maxBuffer: 64 << 20,
      },
    );
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** The command in-process (same code path minus commander), for the many error cases. */
async function inProcess(file: string, json = false): Promise<Result> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  err.on('data', (c: Buffer) => errChunks.push(c));
  const code = await runDecode(file, { json }, out, err);
  return {
    code,
    stdout: Buffer.concat(chunks).toString(),
    stderr: Buffer.concat(errChunks).toString(),
  };
}

function tmpFile(name: string, bytes: Uint8Array | string): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

/** One-line error, no stack trace. */
function expectOneLineError(r: Result, file: string, reason: RegExp): void {
  expect(r.code).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0].startsWith(`pktstack: ${file}: `)).toBe(true);
  expect(lines[0]).toMatch(reason);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('pktstack decode (subprocess)', () => {
  it('--json prints one object per frame with frame, layers, error', async () => {
    const r = await cli(join(PCAP, 'linux-dns.pcap'), '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(22);
    const frames = lines.map(
      (l) => JSON.parse(l) as { frame: number; layers: Record<string, unknown>; error: unknown },
    );
    expect(frames.map((f) => f.frame)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    expect(Object.keys(frames[0])).toEqual(['frame', 'layers', 'error']);
    expect(Object.keys(frames[0].layers)).toEqual(['ethernet', 'ipv4', 'udp', 'dns']);
    expect(frames[0].error).toBeNull();
    const ip = frames[0].layers.ipv4 as Record<string, unknown>;
    expect(ip.src).toBe('10.77.0.2');
    expect((frames[0].layers.ethernet as Record<string, unknown>).src).toBe('02:00:5e:77:00:02');
  });

  it('text mode prints tcpdump-like lines', async () => {
    const r = await cli(join(PCAP, 'linux-tcp-http.pcap'));
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(14);
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{6} IP 10\.77\.0\.2\.\d+ > 10\.77\.0\.1\.8080: Flags \[S\], seq \d+, win 64240, options \[mss 1460,sackOK,TS val \d+ ecr 0,nop,wscale \d+\], length 0$/,
    );
    expect(lines[1]).toMatch(/Flags \[S\.\], seq \d+, ack \d+, win/);
  });

  it('missing file: one line on stderr, exit 1', async () => {
    const missing = join(tmp, 'nope.pcap');
    expectOneLineError(await cli(missing), missing, /no such file/);
  });

  it('truncated capture: frames before the damage, then one error line, exit 1', async () => {
    const whole = readFileSync(join(PCAP, 'linux-arp-icmp.pcap'));
    const cut = tmpFile('cut.pcap', whole.subarray(0, whole.length - 10));
    const r = await cli(cut);
    expectOneLineError(r, cut, /record 11: .*announced/);
    expect(r.stdout.trim().split('\n')).toHaveLength(10);
  });

  it('a reader that goes away early (| head) ends the command quietly, exit 0', async () => {
    const sack = readFileSync(join(PCAP, 'linux-tcp-sack.pcap'));
    const records = sack.subarray(24);
    const big = tmpFile(
      'big.pcap',
      Buffer.concat([sack.subarray(0, 24), ...Array.from({ length: 40 }, () => records)]),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'decode', big], {
      cwd: ROOT,
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

describe('pktstack decode (in-process)', () => {
  it('empty file', async () => {
    const f = tmpFile('empty.pcap', new Uint8Array(0));
    expectOneLineError(await inProcess(f), f, /empty file/);
  });

  it('not a capture', async () => {
    const f = tmpFile('text.pcap', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expectOneLineError(await inProcess(f), f, /not a pcap or pcapng file/);
  });

  it('truncated file header', async () => {
    const f = tmpFile(
      'hdr.pcap',
      readFileSync(join(PCAP, 'zeek-arp-who-has.pcap')).subarray(0, 12),
    );
    expectOneLineError(await inProcess(f), f, /header truncated/);
  });

  it('absurd captured length', async () => {
    const b = Buffer.from(readFileSync(join(PCAP, 'zeek-arp-who-has.pcap')));
    b.writeUInt32LE(0x40000000, 24 + 8);
    const f = tmpFile('absurd.pcap', b);
    expectOneLineError(await inProcess(f), f, /absurd/);
  });

  it('a directory', async () => {
    expectOneLineError(await inProcess(tmp), tmp, /is a directory/);
  });

  it('random bytes', async () => {
    const f = tmpFile(
      'random.pcap',
      Uint8Array.from({ length: 300 }, (_, i) => (i * 97 + 13) & 0xff),
    );
    expectOneLineError(await inProcess(f), f, /not a pcap/);
  });

  it('a non-Ethernet link type gives an error per frame, exit 0', async () => {
    const b = Buffer.from(readFileSync(join(PCAP, 'zeek-arp-who-has.pcap')));
    b.writeUInt32LE(101, 20); // LINKTYPE_RAW
    const f = tmpFile('raw.pcap', b);
    const r = await inProcess(f, true);
    expect(r.code).toBe(0);
    const frames = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { layers: object; error: { code: string } });
    expect(frames).toHaveLength(2);
    for (const fr of frames) {
      expect(fr.layers).toEqual({});
      expect(fr.error).toEqual({
        code: 'E_UNSUPPORTED_LINKTYPE',
        layer: 'frame',
        field: 'linkType',
        offset: 0,
      });
    }
    const text = await inProcess(f);
    expect(text.stdout).toMatch(/link type 101 \(not Ethernet\).*E_UNSUPPORTED_LINKTYPE/);
  });

  it('a malformed frame keeps its decoded layers and names the error; exit 0', async () => {
    const r = await inProcess(join(PCAP, 'zeek-trunc-ip4-trunc.pcap'), true);
    expect(r.code).toBe(0);
    const [frame] = r.stdout
      .trim()
      .split('\n')
      .map(
        (l) => JSON.parse(l) as { layers: Record<string, unknown>; error: Record<string, unknown> },
      );
    // the IPv4 header the capture cut is shown as far as it goes
    expect(Object.keys(frame.layers)).toEqual(['ethernet', 'ipv4']);
    expect(frame.error).toMatchObject({ code: 'E_TRUNCATED', layer: 'ipv4' });
    expect(typeof frame.error.field).toBe('string');
    expect(typeof frame.error.offset).toBe('number');
  });

  it('pcapng input', async () => {
    const r = await inProcess(join(PCAP, 'tcpdump-dhcp-option-108.pcapng'));
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stdout).toMatch(/DHCP/);
  });
});
