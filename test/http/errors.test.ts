/**
 * How a fetch through the stack fails: a closed port (RST → ECONNREFUSED), a host name with no
 * resolver (ENOTFOUND) and with one (resolved, or its error passed on), an address nobody
 * answers ARP for (connect timeout → ETIMEDOUT), an idle server (idle timeout), bad URLs.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  fetchOverStack,
  FetchError,
  readBody,
  serveHttp,
  tcpOf,
  type HttpService,
  type StackLookup,
} from '../../src/runtime/http/index.js';
import { makeStackPair, type StackPair } from './pair.js';

let pair: StackPair;
let service: HttpService | undefined;

beforeEach(() => {
  pair = makeStackPair();
});

afterEach(async () => {
  await service?.close({ force: true });
  service = undefined;
  await pair.close();
});

describe('fetch errors', () => {
  it('ECONNREFUSED for a port without a listener', async () => {
    tcpOf(pair.server); // TCP on, nothing listening on 81: the server answers RST
    const e = await fetchOverStack(pair.client, 'http://10.0.0.2:81/').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FetchError);
    expect(e).toMatchObject({ code: 'ECONNREFUSED', message: 'connection refused by 10.0.0.2:81' });
  });

  it('ENOTFOUND for a name without a resolver; a lookup resolves names or fails them', async () => {
    service = serveHttp(pair.server, 80, (req, res) => res.end(`host ${req.headers.host}\n`));
    await expect(fetchOverStack(pair.client, 'http://web.test/')).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
    // dns.lookup's shape, as node:net's lookup option.
    const lookup: StackLookup = (name, _options, callback) =>
      name === 'web.test'
        ? callback(null, '10.0.0.2', 4)
        : callback(
            Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' }),
            '',
          );
    const res = await fetchOverStack(pair.client, 'http://web.test/', { lookup });
    expect((await readBody(res)).toString()).toBe('host web.test\n');
    await expect(fetchOverStack(pair.client, 'http://nx.test/', { lookup })).rejects.toMatchObject({
      code: 'ENOTFOUND',
      message: 'could not resolve host nx.test',
    });
  });

  it('ETIMEDOUT when nobody answers ARP for the address', async () => {
    const e = await fetchOverStack(pair.client, 'http://10.0.0.77/', {
      connectTimeoutMs: 300,
    }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ETIMEDOUT', message: 'timed out talking to 10.0.0.77:80' });
  });

  it('ETIMEDOUT when a connected server goes quiet', async () => {
    service = serveHttp(pair.server, 80, () => {
      /* never answers */
    });
    await expect(
      fetchOverStack(pair.client, 'http://10.0.0.2/', { idleTimeoutMs: 200 }),
    ).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('EPROTO for https and for text that is not a URL', async () => {
    await expect(fetchOverStack(pair.client, 'https://10.0.0.2/')).rejects.toMatchObject({
      code: 'EPROTO',
    });
    await expect(fetchOverStack(pair.client, 'not a url')).rejects.toMatchObject({
      code: 'EPROTO',
    });
  });
});

describe('local failures', () => {
  it('a port range with no free port fails the request, not the process', async () => {
    tcpOf(pair.server);
    const tcp = tcpOf(pair.client);
    // Pretend every local port is taken: connect throws EADDRINUSE synchronously.
    const spy = vi.spyOn(tcp, 'connect').mockImplementation(() => {
      throw Object.assign(new Error('connect EADDRINUSE: no free local port'), {
        code: 'EADDRINUSE',
      });
    });
    try {
      await expect(fetchOverStack(pair.client, 'http://10.0.0.2/')).rejects.toMatchObject({
        name: 'FetchError',
        code: 'EADDRINUSE',
      });
    } finally {
      spy.mockRestore();
    }
  });
});
