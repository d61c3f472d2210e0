/**
 * `pktstack run --http 80:DIR` answering the kernel's own HTTP clients over tap0: curl (files,
 * HEAD, 404, traversal refused, the status page with live counters, a 20 MB /bytes body with
 * the right content, keep-alive reuse) and a short wrk run. Needs root; skipped otherwise.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternStream } from '../../src/runtime/http/bytes.js';
import { isRoot, Netns, startStack, type RunningStack } from '../http/kernel-lab.js';

const URL = 'http://10.0.0.2';

describe.skipIf(!isRoot)('HTTP served by the stack to the kernel', () => {
  let ns: Netns;
  let stack: RunningStack | undefined;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pkt-http-k-'));
    writeFileSync(join(dir, 'index.html'), '<h1>hello from pktstack</h1>\n');
    writeFileSync(join(dir, 'notes.txt'), 'some notes\n');
    writeFileSync(join(tmpdir(), `pkt-http-k-${process.pid}-outside.txt`), 'outside\n');
    ns = Netns.create(`pkt-http-k${process.pid}`);
    stack = await startStack(ns, ['--tap', 'tap0', '--ip', '10.0.0.2/24', '--http', `80:${dir}`]);
  }, 30_000);

  afterAll(async () => {
    await stack?.stop();
    ns?.destroy();
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(tmpdir(), `pkt-http-k-${process.pid}-outside.txt`), { force: true });
  });

  function curl(...args: string[]) {
    return ns.run('curl', '-sS', '--max-time', '10', ...args);
  }

  it('serves files with their content type, HEAD and 404', () => {
    const page = curl('-D', '-', `${URL}/`);
    expect(page.code).toBe(0);
    expect(page.out).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(page.out).toMatch(/content-type: text\/html; charset=utf-8/i);
    expect(page.out).toContain('<h1>hello from pktstack</h1>');
    expect(curl(`${URL}/notes.txt`).out).toBe('some notes\n');
    const head = curl('-I', `${URL}/notes.txt`);
    expect(head.out).toMatch(/content-length: 11/i);
    expect(curl('-o', '/dev/null', '-w', '%{http_code}', `${URL}/missing`).out).toBe('404');
    const escape = curl(
      '--path-as-is',
      '-w',
      '%{http_code}',
      `${URL}/../pkt-http-k-${process.pid}-outside.txt`,
    );
    expect(escape.out).not.toContain('outside');
    expect(escape.out).toMatch(/404$/);
  });

  it('serves the status page with live counters', () => {
    const before = JSON.parse(curl(`${URL}/status.json`).out) as {
      ip: string;
      stats: { tcp: { passiveOpens: number } };
    };
    expect(before.ip).toBe('10.0.0.2');
    const after = JSON.parse(curl(`${URL}/status.json`).out) as typeof before;
    expect(after.stats.tcp.passiveOpens).toBe(before.stats.tcp.passiveOpens + 1);
  });

  it('sends a 20 MB body intact and reuses a keep-alive connection', async () => {
    const n = 20_000_000;
    const expected = createHash('sha256');
    for await (const chunk of patternStream(n)) expected.update(chunk as Buffer);
    const r = ns.run('sh', '-c', `curl -sS --max-time 20 ${URL}/bytes/${n} | sha256sum`);
    expect(r.out.split(' ')[0]).toBe(expected.digest('hex'));
    // Two URLs in one curl: the second rides on the first connection.
    const two = curl('-v', '-o', '/dev/null', '-o', '/dev/null', `${URL}/notes.txt`, `${URL}/`);
    expect(two.err).toMatch(/Re-using existing connection|Reusing existing/i);
  });

  it('keeps up with wrk for 2 s without errors', () => {
    const r = ns.runWithin(15_000, 'wrk', '-t1', '-c8', '-d2s', `${URL}/notes.txt`);
    expect(r.code).toBe(0);
    const requests = Number(/(\d+) requests in/.exec(r.out)?.[1] ?? 0);
    expect(requests).toBeGreaterThan(500);
    expect(r.out).not.toMatch(/Non-2xx|Socket errors/);
  });
});
