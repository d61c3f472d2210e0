/**
 * The static-file handler over the stack: content types, HEAD, 404, directory index and
 * redirect, conditional requests, and every way out of the root refused (.., encoded ..,
 * encoded slashes, NUL, hidden files, a symlink pointing outside).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fetchOverStack,
  readBody,
  safeSegments,
  serveHttp,
  StackAgent,
  staticHandler,
  type HttpService,
} from '../../src/runtime/http/index.js';
import { makeStackPair, type StackPair } from './pair.js';

let pair: StackPair;
let service: HttpService;
let agent: StackAgent;
let base = '';

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'pkt-http-static-'));
  const root = join(base, 'www');
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<h1>home</h1>\n');
  writeFileSync(join(root, 'style.css'), 'body{}\n');
  writeFileSync(join(root, 'data.bin'), Buffer.alloc(70_000, 7));
  writeFileSync(join(root, 'docs', 'index.html'), 'docs\n');
  writeFileSync(join(root, 'docs', 'a b.txt'), 'spaced\n');
  writeFileSync(join(root, '.secret'), 'hidden\n');
  writeFileSync(join(base, 'outside.txt'), 'outside\n');
  symlinkSync(join(base, 'outside.txt'), join(root, 'escape.txt'));
  symlinkSync(join(root, 'style.css'), join(root, 'inside-link.css'));
  pair = makeStackPair();
  service = serveHttp(pair.server, 80, staticHandler(root));
  agent = new StackAgent(pair.client, { keepAlive: true });
});

afterAll(async () => {
  agent.destroy();
  await service.close({ force: true });
  await pair.close();
  rmSync(base, { recursive: true, force: true });
});

async function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await fetchOverStack(pair.client, `http://10.0.0.2${path}`, {
    agent,
    headers,
    method,
  });
  return { res, body: (await readBody(res)).toString() };
}

describe('static files', () => {
  it('serves files with content types and lengths', async () => {
    const home = await get('/');
    expect(home.res.statusCode).toBe(200);
    expect(home.body).toBe('<h1>home</h1>\n');
    expect(home.res.headers['content-type']).toBe('text/html; charset=utf-8');
    const css = await get('/style.css');
    expect(css.res.headers['content-type']).toBe('text/css; charset=utf-8');
    const bin = await get('/data.bin');
    expect(bin.res.headers['content-type']).toBe('application/octet-stream');
    expect(bin.res.headers['content-length']).toBe('70000');
    expect(bin.body.length).toBe(70_000);
    expect((await get('/docs/a%20b.txt')).body).toBe('spaced\n');
    expect((await get('/inside-link.css')).body).toBe('body{}\n');
  });

  it('answers HEAD with headers only, other methods with 405', async () => {
    const head = await get('/data.bin', {}, 'HEAD');
    expect(head.res.statusCode).toBe(200);
    expect(head.res.headers['content-length']).toBe('70000');
    expect(head.body).toBe('');
    const put = await get('/data.bin', {}, 'PUT');
    expect(put.res.statusCode).toBe(405);
    expect(put.res.headers.allow).toBe('GET, HEAD');
  });

  it('redirects a directory to its slash form and serves its index', async () => {
    const redirect = await get('/docs');
    expect(redirect.res.statusCode).toBe(301);
    expect(redirect.res.headers.location).toBe('/docs/');
    expect((await get('/docs/')).body).toBe('docs\n');
    expect((await get('/style.css/')).res.statusCode).toBe(404);
  });

  it('answers 304 to a matching ETag or date', async () => {
    const first = await get('/style.css');
    const etag = first.res.headers.etag ?? '';
    expect(etag).toMatch(/^W\/"/);
    expect((await get('/style.css', { 'if-none-match': etag })).res.statusCode).toBe(304);
    const lm = first.res.headers['last-modified'] ?? '';
    expect((await get('/style.css', { 'if-modified-since': lm })).res.statusCode).toBe(304);
    expect((await get('/style.css', { 'if-none-match': 'W/"0-0"' })).res.statusCode).toBe(200);
  });

  it.each([
    '/missing.txt',
    '/../outside.txt',
    '/docs/../../outside.txt',
    '/%2e%2e/outside.txt',
    '/docs%2F..%2F..%2Foutside.txt',
    '/.secret',
    '/%00',
    '/escape.txt',
    '/docs//index.html',
    '/%E0%A4%A',
  ])('refuses %s with 404', async (path) => {
    const r = await get(path);
    expect(r.res.statusCode).toBe(404);
    expect(r.body).not.toContain('outside');
    expect(r.body).not.toContain('hidden');
  });
});

describe('safeSegments', () => {
  it('splits and decodes, keeping a trailing directory marker', () => {
    expect(safeSegments('/')).toEqual(['']);
    expect(safeSegments('/a/b%20c/?q=1')).toEqual(['a', 'b c', '']);
    expect(safeSegments('/a/..')).toBeNull();
    expect(safeSegments('a')).toBeNull();
    expect(safeSegments('/a%5Cb')).toBeNull();
  });
});
