import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DrillParseError, parseDrill, usecsOf } from '../../src/drill/parse.js';
import { corpusRoot, corpusScripts } from './corpus.js';

const SCRIPT = `--tolerance_usecs=10000
-D TFO_COOKIE=abcd
// a comment
\`../common/defaults.sh\`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
   +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
   +0 > S 0:0(0) <...>
  +.1 < S. 0:0(0) ack 1 win 32000 <mss 1460,sackOK,TS val 7 ecr 0,nop,wscale 7>
+0...0.200 read(3, ..., 10) = 10
+.1~+.11 > P. 1:11(10) ack 1 <nop,nop,sack 5:6 7:8>
* > [ect0] - 1:1(0) win 0
+0 < icmp unreachable frag_needed mtu 800 [0:1000(1000)]
%{ assert tcpi_snd_cwnd == 10 }%
`;

describe('packetdrill parser', () => {
  it('reads header options, defines, times and every kind of action', () => {
    const s = parseDrill(SCRIPT, 't.pkt');
    expect(s.options).toEqual([{ name: 'tolerance_usecs', value: '10000', line: 1 }]);
    expect(s.defines).toEqual([{ name: 'TFO_COOKIE', value: 'abcd', line: 2 }]);
    const [cmd, sock, fcntl, conn, syn, synack, read, data, any, icmp, code] = s.events;
    expect(cmd.action).toEqual({ type: 'command', command: '../common/defaults.sh' });
    expect(sock.time).toEqual({ kind: 'point', at: { relative: false, usecs: 0 } });
    expect(sock.line).toBe(5);
    expect(fcntl.action).toMatchObject({
      name: 'fcntl',
      args: [
        { kind: 'int', value: 3 },
        { kind: 'ident', name: 'F_SETFL' },
        {
          kind: 'binary',
          op: '|',
          left: { kind: 'ident', name: 'O_RDWR' },
          right: { kind: 'ident', name: 'O_NONBLOCK' },
        },
      ],
    });
    expect(conn.action).toMatchObject({
      result: { kind: 'int', value: -1 },
      errno: 'EINPROGRESS',
      note: 'Operation now in progress',
    });
    expect(syn.action).toMatchObject({ direction: '>', flags: 'S', options: 'any', ack: null });
    expect(synack.time).toEqual({ kind: 'point', at: { relative: true, usecs: 100_000 } });
    expect(synack.action).toMatchObject({
      direction: '<',
      flags: 'S.',
      ack: 1,
      win: 32000,
      options: [
        { kind: 'mss', value: 1460 },
        { kind: 'sackOK' },
        { kind: 'ts', val: 7, ecr: 0 },
        { kind: 'nop' },
        { kind: 'wscale', shift: 7 },
      ],
    });
    expect(read.action).toMatchObject({ name: 'read', blockingUntil: 200_000 });
    expect(data.time).toEqual({
      kind: 'range',
      from: { relative: true, usecs: 100_000 },
      to: { relative: true, usecs: 110_000 },
    });
    expect(data.action).toMatchObject({
      seq: 1,
      end: 11,
      length: 10,
      options: [
        { kind: 'nop' },
        { kind: 'nop' },
        {
          kind: 'sack',
          blocks: [
            [5, 6],
            [7, 8],
          ],
        },
      ],
    });
    expect(any.time).toEqual({ kind: 'any' });
    expect(any.action).toMatchObject({ flags: '', ipInfo: 'ect0', win: 0 });
    expect(icmp.action).toEqual({
      type: 'icmp',
      direction: '<',
      words: ['unreachable', 'frag_needed'],
      mtu: 800,
      quote: [0, 1000, 1000],
    });
    expect(code.action).toEqual({ type: 'code', code: ' assert tcpi_snd_cwnd == 10 ' });
  });

  it('converts seconds to exact microseconds', () => {
    expect(usecsOf('0.200')).toBe(200_000);
    expect(usecsOf('.1')).toBe(100_000);
    expect(usecsOf('2')).toBe(2_000_000);
    expect(usecsOf('0.000001')).toBe(1);
  });

  it('reports a syntax error as file:line:col, the line and a caret', () => {
    let error: unknown;
    try {
      parseDrill('0 socket(..., SOCK_STREAM) = 3\n+0 > S 0:0 win 10\n', 'bad.pkt');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DrillParseError);
    const text = (error as DrillParseError).format().split('\n');
    expect(text[0]).toMatch(/^bad\.pkt:2:12: syntax error: expected "\("/);
    expect(text[1]).toBe('+0 > S 0:0 win 10');
    expect(text[2]).toBe('           ^');
  });

  it('parses every script of the corpus (google and gvisor)', () => {
    const root = corpusRoot();
    const scripts = corpusScripts(root);
    expect(scripts.filter((s) => s.startsWith('google/')).length).toBe(162);
    expect(scripts.filter((s) => s.startsWith('gvisor/')).length).toBe(8);
    const failures: string[] = [];
    for (const rel of scripts) {
      try {
        parseDrill(readFileSync(join(root, rel), 'utf8'), rel);
      } catch (e) {
        failures.push(e instanceof DrillParseError ? e.format() : String(e));
      }
    }
    expect(failures).toEqual([]);
  });
});
