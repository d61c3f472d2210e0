/**
 * The interpreter on small inline scripts: a passing exchange, each kind of failure reported at
 * its line with expected and actual packets, skips, and the CLI's exit statuses.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drillFiles } from '../../src/cli/commands/drill.js';
import { parseDrill } from '../../src/drill/parse.js';
import { runDrill } from '../../src/drill/run.js';

/** A listener on fd `listen` (with `options`, setsockopt lines) accepting one peer as `accepted`. */
const serverOn = (listen: number, accepted: number, options = ''): string => `
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = ${listen}
   +0 setsockopt(${listen}, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
${options}   +0 bind(${listen}, ..., ...) = 0
   +0 listen(${listen}, 1) = 0
  +.1 < S 0:0(0) win 32792 <mss 1460,sackOK,nop,nop,nop,wscale 7>
   +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>
  +.1 < . 1:1(0) ack 1 win 257
   +0 accept(${listen}, ..., ...) = ${accepted}
`;
const SERVER = serverOn(3, 4);

function run(text: string) {
  return runDrill(parseDrill(text, 'inline.pkt'));
}

describe('packetdrill interpreter', () => {
  it('passes a handshake, data both ways, and a close', () => {
    const o = run(
      SERVER +
        `
   +0 < P. 1:1001(1000) ack 1 win 257
   +0 > . 1:1(0) ack 1001
   +0 read(4, ..., 2000) = 1000
   +0 write(4, ..., 2920) = 2920
   +0 > P. 1:2921(2920) ack 1001
  +.1 < . 1001:1001(0) ack 2921 win 257
   +0 close(4) = 0
   +0 > F. 2921:2921(0) ack 1001
  +.1 < F. 1001:1001(0) ack 2922 win 257
   +0 > . 2922:2922(0) ack 1002
`,
    );
    expect(o).toEqual({ status: 'pass', reason: '', detail: '', line: null });
  });

  it('fails at the line of a mismatched packet, showing what was sent', () => {
    const o = run(SERVER + '   +0 write(4, ..., 100) = 100\n   +0 > P. 1:51(50) ack 1\n');
    expect(o.status).toBe('fail');
    expect(o.line).toBe(11);
    expect(o.reason).toBe('outbound packet mismatch: length 100, expected 50');
    expect(o.detail).toContain('inline.pkt:11:4:');
    expect(o.detail).toContain('actual: P. 1:101(100) ack 1 win');
  });

  it('fails when an expected packet is not sent within the tolerance', () => {
    const o = run(SERVER + '   +0 > P. 1:11(10) ack 1\n');
    expect(o.status).toBe('fail');
    expect(o.reason).toMatch(/^expected outbound packet not sent by 0\.204000/);
  });

  it('fails when a packet comes later than the tolerance allows', () => {
    // The delayed ACK (40 ms) of a lone segment once the quick ACKs are used up is not "+0".
    let script = SERVER;
    for (let i = 0; i < 16; i++) {
      script += `   +0 < P. ${1 + i * 10}:${11 + i * 10}(10) ack 1 win 257\n   +0 > . 1:1(0) ack ${11 + i * 10}\n`;
    }
    script += '   +0 < P. 161:171(10) ack 1 win 257\n   +0 > . 1:1(0) ack 171\n';
    const o = run(script);
    expect(o.status).toBe('fail');
    expect(o.line).toBe(43);
    const delayed = run(
      script.replace(/\+0 > \. 1:1\(0\) ack 171\n$/, '+.04 > . 1:1(0) ack 171\n'),
    );
    expect(delayed.status).toBe('pass');
  });

  it('checks results and errno of system calls', () => {
    const o = run(
      SERVER + '   +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n   +0 read(4, ..., 10) = 5\n',
    );
    expect(o.status).toBe('fail');
    expect(o.reason).toBe('read() returned -1 EAGAIN, expected 5');
    const ok = run(
      SERVER +
        '   +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n   +0 read(4, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n',
    );
    expect(ok.status).toBe('pass');
  });

  it('retransmits on the third duplicate ACK with four segments out, not before (RFC 5827 bound)', () => {
    const body = `
   +0 write(4, ..., 5840) = 5840
   +0 > P. 1:5841(5840) ack 1
  +.1 < . 1:1(0) ack 1 win 257 <sack 1461:2921,nop,nop>
   +0 < . 1:1(0) ack 1 win 257 <sack 1461:4381,nop,nop>
   +0 < . 1:1(0) ack 1 win 257 <sack 1461:5841,nop,nop>
   +0 > . 1:1461(1460) ack 1
`;
    expect(run(SERVER + body).status).toBe('pass');
  });

  // Under the linux profile the bad segment draws no ACK; had it set TS.Recent to 200000, PAWS
  // would drop the data that follows.
  it('does not take TS.Recent from a segment acknowledging unsent data (RFC 7323 App. D)', () => {
    const o = run(`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
  +.1 < S 0:0(0) win 20000 <mss 1000,sackOK,TS val 100 ecr 0>
   +0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100>
  +.1 < . 1:1(0) ack 1 win 20000 <nop,nop,TS val 200 ecr 100>
   +0 accept(3, ..., ...) = 4
   +0 < F. 1:1(0) ack 9999 win 20000 <nop,nop,TS val 200000 ecr 100>
   +0 < . 1:1001(1000) ack 1 win 20000 <nop,nop,TS val 201 ecr 100>
   +0 > . 1:1(0) ack 1001 <nop,nop,TS val 200 ecr 201>
`);
    expect(o.status).toBe('pass');
  });

  it('SO_SNDBUF on a connected socket bounds what a non-blocking write takes (doubled, as Linux)', () => {
    const o = run(
      SERVER +
        `
   +0 setsockopt(4, SOL_SOCKET, SO_SNDBUF, [5000], 4) = 0
   +0 getsockopt(4, SOL_SOCKET, SO_SNDBUF, [10000], [4]) = 0
   +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
   +0 write(4, ..., 30000) = 10000
   +0 write(4, ..., 100) = -1 EAGAIN (Resource temporarily unavailable)
`,
    );
    expect(o).toMatchObject({ status: 'pass' });
  });

  it('TCP_LINGER2 bounds an orphaned FIN-WAIT-2; then a stray ACK draws a RST', () => {
    const script = (linger: number, rst: string): string =>
      SERVER +
      `
   +0 setsockopt(4, SOL_TCP, TCP_LINGER2, [${linger}], 4) = 0
   +0 close(4) = 0
   +0 > F. 1:1(0) ack 1
   +0 < . 1:1(0) ack 2 win 257
   +2 < . 1:1(0) ack 2 win 257
${rst}
`;
    expect(run(script(1, '   +0 > R 2:2(0) win 0')).status).toBe('pass');
    // Still in FIN-WAIT-2 after 2 s with a 3 s limit: the ACK is answered by nothing.
    expect(run(script(3, '   +0 > R 2:2(0) win 0')).status).toBe('fail');
  });

  it('keepalive options set on the listener reach the accepted socket: probes, then RST|ACK', () => {
    const o = run(
      serverOn(
        3,
        4,
        `   +0 setsockopt(3, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0
   +0 setsockopt(3, SOL_TCP, TCP_KEEPIDLE, [2], 4) = 0
   +0 setsockopt(3, SOL_TCP, TCP_KEEPINTVL, [1], 4) = 0
   +0 setsockopt(3, SOL_TCP, TCP_KEEPCNT, [2], 4) = 0
   +0 setsockopt(3, SOL_TCP, TCP_KEEPCNT, [0], 4) = -1 EINVAL (Invalid argument)
`,
      ) +
        `   +0 getsockopt(4, SOL_SOCKET, SO_KEEPALIVE, [1], [4]) = 0
   +0 getsockopt(4, SOL_TCP, TCP_KEEPIDLE, [2], [4]) = 0
   +0 getsockopt(4, SOL_TCP, TCP_KEEPINTVL, [1], [4]) = 0
   +0 getsockopt(4, SOL_TCP, TCP_KEEPCNT, [2], [4]) = 0
   +2 > . 0:0(0) ack 1
   +1 > . 0:0(0) ack 1
   +1 > R. 1:1(0) ack 1
   +0 read(4, ..., 1000) = -1 ETIMEDOUT (Connection timed out)
`,
    );
    expect(o).toMatchObject({ status: 'pass' });
  });

  it('TCP_SYNCNT bounds the SYN retransmissions of a blocking connect', () => {
    const script = (count: number): string => `
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 setsockopt(3, SOL_TCP, TCP_SYNCNT, [${count}], 4) = 0
   +0 getsockopt(3, SOL_TCP, TCP_SYNCNT, [${count}], [4]) = 0
   +0...3 connect(3, ..., ...) = -1 ETIMEDOUT (Connection timed out)
   +0 > S 0:0(0) <...>
   +1 > S 0:0(0) <...>
`;
    expect(run(script(1))).toMatchObject({ status: 'pass' });
    // One more retry: the second timeout (at 3 s) resends instead of giving up.
    expect(run(script(2))).toMatchObject({ status: 'fail' });
  });

  it('TCP_USER_TIMEOUT ends a connection whose data stays unacknowledged, at that time', () => {
    const script = (ms: number): string =>
      SERVER +
      `
   +0 setsockopt(4, SOL_TCP, TCP_USER_TIMEOUT, [${ms}], 4) = 0
   +0 getsockopt(4, SOL_TCP, TCP_USER_TIMEOUT, [${ms}], [4]) = 0
   +0 write(4, ..., 1000) = 1000
   +0 > P. 1:1001(1000) ack 1
  +.3 > P. 1:1001(1000) ack 1
  +.3 > P. 1:1001(1000) ack 1
  +.4 > R. 1001:1001(0) ack 1
   +0 write(4, ..., 1000) = -1 ETIMEDOUT (Connection timed out)
`;
    // The probe at 0.3 s, the RTO at 0.6 s; the next RTO (1.2 s) is clamped to the 1 s limit.
    expect(run(script(1000))).toMatchObject({ status: 'pass' });
    expect(run(script(0))).toMatchObject({ status: 'fail' });
  });

  it('SO_LINGER with a zero timeout makes close() reset; TCP_CONGESTION knows reno and cubic', () => {
    const o = run(
      SERVER +
        `
   +0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0
   +0 setsockopt(4, SOL_TCP, TCP_CONGESTION, "bbr", 3) = -1 ENOENT (No such file or directory)
   +0 setsockopt(4, SOL_TCP, TCP_CONGESTION, "reno", 4) = 0
   +0 close(4) = 0
   +0 > R. 1:1(0) ack 1
`,
    );
    expect(o).toMatchObject({ status: 'pass' });
  });

  it('gives socket() and accept() the fd the script names, as packetdrill maps script fds', () => {
    const o = run(
      serverOn(5, 3) +
        `
   +0 write(3, ..., 100) = 100
   +0 > P. 1:101(100) ack 1
   +0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4
`,
    );
    expect(o).toMatchObject({ status: 'pass' });
  });

  it('compares a written ack raw when the ACK flag is off (a RST answering a stray ACK)', () => {
    const o = run(`
    0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
   +0 bind(3, ..., ...) = 0
   +0 listen(3, 1) = 0
  +.1 < . 1:1(0) ack 1 win 32792
   +0 > R 1:1(0) ack 0 win 0
`);
    expect(o.status).toBe('pass');
  });

  it('a tail loss probe repeats a bare FIN, the last segment sent (RFC 8985 §7.3)', () => {
    const o = run(
      SERVER +
        `
   +0 write(4, ..., 2920) = 2920
   +0 > P. 1:2921(2920) ack 1
   +0 shutdown(4, SHUT_WR) = 0
   +0 > F. 2921:2921(0) ack 1
  +.2 > F. 2921:2921(0) ack 1
`,
    );
    expect(o).toMatchObject({ status: 'pass' });
  });

  it('evaluates %{ }% asserts over tcp_info', () => {
    expect(run(SERVER + '   +0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%\n').status).toBe(
      'pass',
    );
    const o = run(SERVER + '   +0 %{ assert tcpi_snd_cwnd == 3, tcpi_snd_cwnd }%\n');
    expect(o.status).toBe('fail');
    expect(o.reason).toBe('assert failed: tcpi_snd_cwnd == 3 (tcpi_snd_cwnd=10)');
  });

  it('skips what it does not model, saying what', () => {
    expect(
      run('`ip link set dev tun0 mtu 1280`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n'),
    ).toMatchObject({
      status: 'skip',
      reason: 'shell command `ip link set dev tun0 mtu 1280`',
    });
    expect(
      run(
        '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, SOL_SOCKET, SO_ZEROCOPY, [1], 4) = 0\n',
      ),
    ).toMatchObject({
      status: 'skip',
    });
  });

  it('the CLI exits 0 when all pass, 1 on a failure or parse error, 2 when all were skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drill-'));
    const file = (name: string, text: string): string => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    const pass = file('pass.pkt', SERVER);
    const failing = file('fail.pkt', SERVER + '   +0 > F. 1:1(0) ack 1\n');
    const skip = file(
      'skip.pkt',
      '`tc qdisc add dev tun0 root fq`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n',
    );
    const bad = file('bad.pkt', '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0\n');
    const lines: string[] = [];
    const out = (l: string): void => {
      lines.push(l);
    };
    expect(await drillFiles([pass], {}, out)).toBe(0);
    expect(await drillFiles([pass, skip], {}, out)).toBe(0);
    expect(await drillFiles([pass, failing], {}, out)).toBe(1);
    expect(await drillFiles([skip], {}, out)).toBe(2);
    lines.length = 0;
    expect(await drillFiles([bad], {}, out)).toBe(1);
    expect(lines[0]).toMatch(/^fail .*bad\.pkt: .*bad\.pkt:\d+:\d+: syntax error/);
    expect(lines.join('\n')).toContain('^');
  });
});
