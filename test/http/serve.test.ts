/**
 * node:http served and fetched over two of our stacks (memory links): the status page and its
 * live counters, /bytes bodies with keep-alive reuse, an Express-style app (routing, JSON body,
 * 404 fallthrough), pipelined requests on one raw TCP connection, and graceful close.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  chain,
  fetchOverStack,
  patternByte,
  readBody,
  serveHttp,
  StackAgent,
  statusHandler,
  tcpOf,
  type HttpHandler,
  type HttpService,
} from '../../src/runtime/http/index.js';
import { makeStackPair, type StackPair } from './pair.js';

let pair: StackPair;
let services: HttpService[];

beforeEach(() => {
  pair = makeStackPair();
  services = [];
});

afterEach(async () => {
  for (const s of services) await s.close({ force: true });
  await pair.close();
});

function serve(port: number, handler: HttpHandler | http.Server): HttpService {
  const s = serveHttp(pair.server, port, handler);
  services.push(s);
  return s;
}

describe('status page', () => {
  it('serves JSON with the address and live TCP counters', async () => {
    serve(80, statusHandler(pair.server, { name: 'test-stack' }));
    const res = await fetchOverStack(pair.client, 'http://10.0.0.2/status.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const report = JSON.parse((await readBody(res)).toString()) as {
      name: string;
      ip: string;
      mac: string;
      stats: { tcp: { passiveOpens: number }; ipv4: Record<string, unknown> };
    };
    expect(report).toMatchObject({ name: 'test-stack', ip: '10.0.0.2', mac: '02:00:00:00:00:02' });
    // The counters are live: this very request's connection is already counted.
    expect(report.stats.tcp.passiveOpens).toBe(1);
  });

  it('serves HTML at / (escaped) and 404 elsewhere, HEAD without a body', async () => {
    serve(80, statusHandler(pair.server, { name: '<b>x</b>' }));
    const page = await fetchOverStack(pair.client, 'http://10.0.0.2/');
    const html = (await readBody(page)).toString();
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(html).toContain('tcp.segmentsIn');
    const missing = await fetchOverStack(pair.client, 'http://10.0.0.2/nope');
    expect(missing.statusCode).toBe(404);
    await readBody(missing);
    const head = await fetchOverStack(pair.client, 'http://10.0.0.2/status', { method: 'HEAD' });
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
    expect((await readBody(head)).length).toBe(0);
    const post = await fetchOverStack(pair.client, 'http://10.0.0.2/status', { method: 'POST' });
    expect(post.statusCode).toBe(405);
    await readBody(post);
  });

  it('streams /bytes/N with the pattern and reuses one keep-alive connection', async () => {
    serve(80, statusHandler(pair.server));
    const agent = new StackAgent(pair.client, { keepAlive: true });
    try {
      for (const n of [0, 1, 100_000, 1_500_000]) {
        const res = await fetchOverStack(pair.client, `http://10.0.0.2/bytes/${n}`, { agent });
        const body = await readBody(res);
        expect(body.length).toBe(n);
        expect(Number(res.headers['content-length'])).toBe(n);
        for (const i of [0, 1, 250, 251, n - 1])
          if (i >= 0 && i < n) expect(body[i]).toBe(patternByte(i));
      }
      const bad = await fetchOverStack(pair.client, 'http://10.0.0.2/bytes/12x', { agent });
      expect(bad.statusCode).toBe(400);
      await readBody(bad);
    } finally {
      agent.destroy();
    }
    expect(tcpOf(pair.server).counters.passiveOpens).toBe(1);
  });
});

describe('an Express-style app mounted on the stack', () => {
  // The shape of an Express app: (req, res, next) with routing by method + path.
  const app: HttpHandler = (req, res, next) => {
    if (req.method === 'POST' && req.url === '/api/sum') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const numbers = JSON.parse(Buffer.concat(chunks).toString()) as number[];
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ sum: numbers.reduce((a, b) => a + b, 0) }));
      });
      return;
    }
    if (req.method === 'GET' && req.url === '/hello') {
      res.end(`hello ${req.socket.remoteAddress}:${req.socket.remotePort}\n`);
      return;
    }
    next?.();
  };

  it('routes, reads a chunked JSON request body, and falls through to 404', async () => {
    serve(8080, chain(app));
    const hello = await fetchOverStack(pair.client, 'http://10.0.0.2:8080/hello');
    expect((await readBody(hello)).toString()).toMatch(/^hello 10\.0\.0\.1:\d+\n$/);
    const numbers = Array.from({ length: 20_000 }, (_, i) => i);
    const sum = await fetchOverStack(pair.client, 'http://10.0.0.2:8080/api/sum', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(numbers),
    });
    expect(JSON.parse((await readBody(sum)).toString())).toEqual({ sum: 199_990_000 });
    const none = await fetchOverStack(pair.client, 'http://10.0.0.2:8080/other');
    expect(none.statusCode).toBe(404);
    await readBody(none);
  });

  it('answers pipelined requests on one raw connection in order', async () => {
    serve(80, (req, res) => res.end(`you asked ${req.url}\n`));
    const socket = tcpOf(pair.client).connect({ host: '10.0.0.2', port: 80 });
    const got: Buffer[] = [];
    socket.on('data', (d: Buffer) => got.push(d));
    const ended = new Promise((resolve) => socket.once('end', resolve));
    // One write, so all three arrive before any answer; the last asks the server to close.
    socket.write(
      'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    await ended;
    const text = Buffer.concat(got).toString();
    const bodies = [...text.matchAll(/you asked (\/\w)/g)].map((m) => m[1]);
    expect(bodies).toEqual(['/a', '/b', '/c']);
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(3);
  });
});

describe('closing', () => {
  it('waits for a response in flight, then refuses new connections', async () => {
    let release: () => void = () => {};
    const service = serve(80, (_req, res) => {
      release = () => res.end('late\n');
    });
    const pending = fetchOverStack(pair.client, 'http://10.0.0.2/');
    while (service.connections === 0) await new Promise((r) => setTimeout(r, 5));
    let closed = false;
    const closing = service.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    release();
    const res = await pending;
    expect((await readBody(res)).toString()).toBe('late\n');
    await closing;
    await service.close(); // again: already closed, resolves at once
    await expect(fetchOverStack(pair.client, 'http://10.0.0.2/')).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('a forced close after a graceful one cuts the stragglers and settles both', async () => {
    const service = serve(80, () => {
      /* never answers */
    });
    const pending = fetchOverStack(pair.client, 'http://10.0.0.2/').catch((e: unknown) => e);
    while (service.connections === 0) await new Promise((r) => setTimeout(r, 5));
    const graceful = service.close();
    const forced = service.close({ force: true });
    await Promise.all([graceful, forced]);
    expect(service.connections).toBe(0);
    expect(await pending).toMatchObject({ code: 'ECONNRESET' });
  });

  it('hashes a 4 MB body identically on both ends', async () => {
    const payload = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 2654435761) >>> 24;
    serve(80, (_req, res) => res.end(payload));
    const res = await fetchOverStack(pair.client, 'http://10.0.0.2/');
    const body = await readBody(res);
    const h = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    expect(h(body)).toBe(h(payload));
  });
});

describe('segments per response', () => {
  it('sends headers and a Buffer body of a small response in one segment', async () => {
    serve(80, (_req, res) => {
      // Two writes from node:http: the header block, then the body (a Buffer is not merged).
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 6 });
      res.end(Buffer.from('hello\n'));
    });
    const agent = new StackAgent(pair.client, { keepAlive: true });
    try {
      await readBody(await fetchOverStack(pair.client, 'http://10.0.0.2/', { agent }));
      const before = pair.server.link.stats().txFrames;
      const res = await fetchOverStack(pair.client, 'http://10.0.0.2/', { agent });
      expect((await readBody(res)).toString()).toBe('hello\n');
      // The response, with the request's ACK piggybacked: one frame.
      expect(pair.server.link.stats().txFrames - before).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});

describe('slow clients', () => {
  it("node:http's headers timeout applies on the stack (408, then close)", async () => {
    services.push(
      serveHttp(pair.server, 80, (_req, res) => res.end('ok\n'), {
        server: { headersTimeout: 300, requestTimeout: 400, connectionsCheckingInterval: 100 },
      }),
    );
    const socket = tcpOf(pair.client).connect({ host: '10.0.0.2', port: 80 });
    const got: Buffer[] = [];
    socket.on('data', (d: Buffer) => got.push(d));
    const started = Date.now();
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => undefined);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n'); // never finishes the header block
    // Without node:http's connection sweep nothing would ever answer: give up after 3 s.
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 3000))]);
    expect(Buffer.concat(got).toString()).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    expect(Date.now() - started).toBeLessThan(3000);
    socket.destroy();
  });
});
