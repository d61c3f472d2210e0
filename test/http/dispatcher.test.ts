/**
 * fetch through the stack (`stack.http.fetch`, undici's fetch with `stack.http.dispatcher`)
 * between two stacks in memory: keep-alive reuse, a POST body, a chunked response, https with
 * node:tls over the stack's sockets, and failures that carry the stack's own error codes (an
 * address the stack cannot route fails there; nothing falls back to the machine's network).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveHttp, type HttpService } from '../../src/runtime/http/index.js';
import { makeStackPair, type StackPair } from './pair.js';

/** The error code under undici's "fetch failed" TypeError. */
async function failure(p: Promise<unknown>): Promise<string | undefined> {
  const error = await p.then(
    () => null,
    (e: unknown) => e as Error & { cause?: { code?: string } },
  );
  expect(error).toBeInstanceOf(TypeError);
  return error?.cause?.code;
}

describe('fetch through the stack', () => {
  let pair: StackPair;
  let service: HttpService;
  let connections = 0;

  beforeAll(() => {
    pair = makeStackPair();
    service = serveHttp(pair.server, 80, (req, res) => {
      if (req.url === '/echo') {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => res.end(Buffer.concat(chunks)));
        return;
      }
      if (req.url === '/chunked') {
        res.write('one,');
        setImmediate(() => {
          res.write('two,');
          res.end('three');
        });
        return;
      }
      res.setHeader('content-type', 'text/plain');
      res.end(`hello ${req.method} ${req.url}`);
    });
    service.server.on('connection', () => connections++);
  });

  afterAll(async () => {
    await service.close({ force: true });
    await pair.close();
  });

  it('GETs three times over one kept-alive connection', async () => {
    // One connection per origin: undici queues and reuses it (with more allowed it may open a
    // second before it has seen the first response end, over the kernel's sockets too).
    const dispatcher = pair.client.http.createDispatcher({ connections: 1 });
    const before = connections;
    for (const path of ['/a', '/b', '/c']) {
      const res = await pair.client.http.fetch(`http://10.0.0.2${path}`, { dispatcher });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain');
      expect(await res.text()).toBe(`hello GET ${path}`);
    }
    expect(connections - before).toBe(1);
    await dispatcher.close();
  });

  it("POSTs a body with undici's own fetch and the stack's dispatcher", async () => {
    const body = Buffer.alloc(300_000, 0x61);
    const res = await undiciFetch('http://10.0.0.2/echo', {
      method: 'POST',
      body,
      dispatcher: pair.client.http.dispatcher,
    });
    expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
  });

  it('reads a chunked response', async () => {
    const res = await pair.client.http.fetch('http://10.0.0.2/chunked');
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(await res.text()).toBe('one,two,three');
  });

  it('resolves names with a lookup given to its own dispatcher', async () => {
    const dispatcher = pair.client.http.createDispatcher({
      lookup: (_name, _options, callback) =>
        (callback as (e: null, a: string, f: number) => void)(null, '10.0.0.2', 4),
    });
    const res = await pair.client.http.fetch('http://www.example.test/named', { dispatcher });
    expect(await res.text()).toBe('hello GET /named');
    await dispatcher.close();
  });

  it('fails with ECONNREFUSED on a closed port', async () => {
    expect(await failure(pair.client.http.fetch('http://10.0.0.2:81/'))).toBe('ECONNREFUSED');
  });

  it('fails with ENETUNREACH where the stack has no route, never through the host', async () => {
    // 192.0.2.1 (TEST-NET-1) is off the stacks' /24 and they have no gateway.
    expect(await failure(pair.client.http.fetch('http://192.0.2.1/'))).toBe('ENETUNREACH');
  });

  it('times out a connect that gets no answer', async () => {
    // 10.0.0.9 is on-link but nobody answers ARP: EHOSTUNREACH after the ARP retries, or
    // the dispatcher's connect timeout first.
    const dispatcher = pair.client.http.createDispatcher({ connectTimeoutMs: 500 });
    const code = await failure(pair.client.http.fetch('http://10.0.0.9/', { dispatcher }));
    expect(code).toBe('UND_ERR_CONNECT_TIMEOUT');
    await dispatcher.destroy();
  });
});

describe('https through the stack (node:tls over its sockets)', () => {
  let pair: StackPair;
  let dir: string;
  let cert: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pktstack-tls-'));
    // A self-signed certificate for 10.0.0.2 and www.example.test, made for this run.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=www.example.test',
        '-addext',
        'subjectAltName=DNS:www.example.test,IP:10.0.0.2',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    pair = makeStackPair();
    const server = https.createServer(
      { key: readFileSync(join(dir, 'key.pem')), cert },
      (req, res) => res.end(`secure ${req.url}`),
    );
    pair.server.net.createServer((socket) => server.emit('connection', socket)).listen(443);
  });

  afterAll(async () => {
    await pair.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fetches over https, verifying the certificate against the given CA', async () => {
    const dispatcher = pair.client.http.createDispatcher({ ca: cert });
    const res = await pair.client.http.fetch('https://10.0.0.2/x', { dispatcher });
    expect(await res.text()).toBe('secure /x');
    await dispatcher.destroy();
  });

  it('refuses a certificate it cannot verify', async () => {
    const code = await failure(pair.client.http.fetch('https://10.0.0.2/x'));
    expect(code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });
});
