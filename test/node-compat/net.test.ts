/**
 * stack.net against node:net: each case runs on the kernel's loopback with node:net and over
 * two in-memory stacks with stack.net (see harness.ts); both must record the expected log.
 */
import type { AddressInfo, Socket } from 'node:net';
import { pipeline, Readable } from 'node:stream';
import { pipeline as pipelinePromise } from 'node:stream/promises';
import { describe } from 'vitest';
import { closeServer, conformance, listening, next } from './harness.js';

describe('node:net conformance: servers', () => {
  conformance(
    "listen(0, host, cb): 'listening' on the next tick, a port in Linux's ephemeral range, address() null after close",
    [
      'listening (sync) false',
      'listening event',
      'listen callback',
      'address IPv4 host=true ephemeral=true',
      'close callback',
      'after close null false',
    ],
    async ({ server, log }) => {
      const srv = server.net.createServer();
      srv.on('listening', () => log.add('listening event'));
      srv.listen(0, server.host, () => log.add('listen callback'));
      log.add('listening (sync)', srv.listening);
      await next(srv, 'listening');
      const a = srv.address() as AddressInfo;
      const ephemeral = a.port >= 32768 && a.port <= 60999;
      log.add('address', a.family, `host=${a.address === server.host}`, `ephemeral=${ephemeral}`);
      await new Promise<void>((resolve) =>
        srv.close(() => {
          log.add('close callback');
          resolve();
        }),
      );
      log.add('after close', srv.address() === null ? 'null' : 'an address', srv.listening);
    },
  );

  conformance(
    'listen forms: (port, host, backlog, cb), ({port, host}, cb), (port, cb) take the callback as the listening listener',
    [
      'form 1 listening',
      'form 2 listening',
      'form 3 listening',
      'connection on 1',
      'connections form 1',
      'connection on 2',
      'connections form 2',
      'connection on 3',
      'connections form 3',
    ],
    async ({ server, client, log }) => {
      const forms: Array<(s: ReturnType<typeof server.net.createServer>, cb: () => void) => void> =
        [
          (s, cb) => s.listen(0, server.host, 5, cb),
          (s, cb) => s.listen({ port: 0, host: server.host }, cb),
          (s, cb) => s.listen(0, cb),
        ];
      const servers = [];
      for (const [i, listen] of forms.entries()) {
        const s = server.net.createServer((socket) => {
          log.add('connection on', i + 1);
          socket.end();
        });
        await new Promise<void>((resolve) =>
          listen(s, () => {
            log.add('form', i + 1, 'listening');
            resolve();
          }),
        );
        servers.push(s);
      }
      for (const [i, s] of servers.entries()) {
        const port = (s.address() as AddressInfo).port;
        const c = client.net.connect(port, server.host);
        c.resume();
        await next(c, 'close');
        log.add('connections form', i + 1);
        await closeServer(s);
      }
    },
  );

  conformance(
    "EADDRINUSE is an 'error' event with Node's fields, not a throw",
    ['no throw', 'error EADDRINUSE -98 listen address=ok port=ok', 'listening false'],
    async ({ server, log, cleanup }) => {
      const { server: first, port } = await listening(server);
      cleanup(() => closeServer(first));
      const second = server.net.createServer();
      second.listen(port, server.host);
      log.add('no throw');
      const err = await next(second, 'error');
      log.error('error', err, { address: server.host, port });
      log.add('listening', second.listening);
    },
  );

  conformance(
    'server.close(cb) calls back only after the open connections end',
    [
      'connected',
      'close called, listening false',
      'connections 1',
      'client end',
      'server close callback',
      'server socket close hadError=false',
    ],
    async ({ server, client, log }) => {
      let accepted: Socket | null = null;
      let socketClosed: Promise<void> | null = null;
      const { server: srv, port } = await listening(server, (s) => {
        accepted = s;
        socketClosed = new Promise((resolve) =>
          s.on('close', (hadError) => {
            log.add('server socket close', `hadError=${hadError}`);
            resolve();
          }),
        );
      });
      const c = client.net.connect(port, server.host);
      await next(c, 'connect');
      while (accepted === null) await new Promise((r) => setImmediate(r));
      log.add('connected');
      const closed = new Promise<void>((resolve) =>
        srv.close(() => {
          log.add('server close callback');
          resolve();
        }),
      );
      log.add('close called, listening', srv.listening);
      await new Promise<void>((resolve) =>
        srv.getConnections((_e, n) => {
          log.add('connections', n);
          resolve();
        }),
      );
      c.on('end', () => log.add('client end'));
      c.resume();
      (accepted as Socket).end();
      await closed;
      await socketClosed;
      c.destroy();
    },
  );
});

describe('node:net conformance: connect', () => {
  conformance(
    'connect forms: (port, host, cb), ({port, host}, cb), createConnection, new Socket().connect, port as text, a name through `lookup`',
    [
      'form 1 connect',
      'form 2 connect',
      'form 3 connect',
      'form 4 connect',
      'form 5 connect',
      'lookup null host=true 4 server.test',
      'form 6 connect',
      'server saw 6',
    ],
    async ({ server, client, log, cleanup }) => {
      let seen = 0;
      const { server: srv, port } = await listening(server, (s) => {
        seen++;
        s.resume();
      });
      cleanup(() => closeServer(srv));
      const host = server.host;
      const lookup = (
        _name: string,
        opts: { all?: boolean },
        cb: (
          e: Error | null,
          a: string | Array<{ address: string; family: number }>,
          f?: number,
        ) => void,
      ): void => {
        // Later, as a resolver would (a synchronous answer comes before 'lookup' listeners).
        setImmediate(() => {
          if (opts.all === true) cb(null, [{ address: host, family: 4 }]);
          else cb(null, host, 4);
        });
      };
      const net = client.net;
      const forms: Array<(cb: () => void) => Socket> = [
        (cb) => net.connect(port, host, cb),
        (cb) => net.connect({ port, host }, cb),
        (cb) => net.createConnection(port, host, cb),
        (cb) => new net.Socket().connect(port, host, cb),
        (cb) => net.connect(String(port) as unknown as number, host, cb),
        // The classic path, which emits 'lookup' (autoSelectFamily tries addresses in turn).
        (cb) => net.connect({ port, host: 'server.test', lookup, autoSelectFamily: false }, cb),
      ];
      for (const [i, form] of forms.entries()) {
        await new Promise<void>((resolve) => {
          const s = form(() => {
            log.add('form', i + 1, 'connect');
            s.destroy();
            s.on('close', () => resolve());
          });
          s.on('lookup', (err: Error | null, address: string, family: number, name: string) =>
            log.add(
              'lookup',
              err === null ? 'null' : 'an error',
              `host=${address === host}`,
              family,
              name,
            ),
          );
        });
      }
      while (seen < forms.length) await new Promise((r) => setImmediate(r));
      log.add('server saw', seen);
    },
  );

  conformance(
    "a refused connect: 'error' ECONNREFUSED with Node's fields, then 'close' with hadError",
    [
      'connecting true pending true readyState opening',
      'error ECONNREFUSED -111 connect address=ok port=ok',
      'close hadError=true',
      'connecting false destroyed true',
    ],
    async ({ server, client, log }) => {
      const { server: srv, port } = await listening(server);
      await closeServer(srv);
      const c = client.net.connect(port, server.host);
      log.add('connecting', c.connecting, 'pending', c.pending, 'readyState', c.readyState);
      c.on('error', (err) => log.error('error', err, { address: server.host, port }));
      const hadError = await next<boolean>(c, 'close');
      log.add('close', `hadError=${hadError}`);
      log.add('connecting', c.connecting, 'destroyed', c.destroyed);
    },
  );
});

/** Waits until `check()` holds, a turn of the event loop at a time. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r));
}

describe('node:net conformance: connections', () => {
  conformance(
    "connect({ onread }): bytes arrive in the given buffer and callback, never as 'data'; returning false pauses until resume(); 'end' after the last byte",
    [
      'callback bytes fit the buffer true',
      'paused once true',
      'received 200000 equal true',
      'data events 0',
      'bytesRead 200000',
      'end',
      'close hadError=false',
    ],
    async ({ server, client, log, cleanup }) => {
      const body = Buffer.alloc(200_000);
      for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 9)) & 0xff;
      const { server: srv, port } = await listening(server, (s) => s.end(body));
      cleanup(() => closeServer(srv));
      const buffer = Buffer.alloc(3000);
      const got: Buffer[] = [];
      let fits = true;
      let pauses = 0;
      let dataEvents = 0;
      let ended = false;
      const c = client.net.connect({
        port,
        host: server.host,
        onread: {
          buffer,
          callback: (n: number, buf: Uint8Array) => {
            fits &&= buf === buffer && n > 0 && n <= buffer.length && !ended;
            got.push(Buffer.from(buf.subarray(0, n)));
            if (got.length !== 3) return true;
            pauses++;
            setTimeout(() => c.resume(), 20);
            return false;
          },
        },
      });
      c.on('data', () => dataEvents++);
      c.on('end', () => {
        ended = true;
        log.add('callback bytes fit the buffer', fits);
        log.add('paused once', pauses === 1);
        const all = Buffer.concat(got);
        log.add('received', all.length, 'equal', all.equals(body));
        log.add('data events', dataEvents);
        log.add('bytesRead', c.bytesRead);
        log.add('end');
      });
      const hadError = await next<boolean>(c, 'close');
      log.add('close', `hadError=${hadError}`);
    },
  );

  conformance(
    'addresses, ports, families and byte counts on both ends; connect options localAddress and localPort',
    [
      'client remote=true port=true IPv4 local=true localPort=true',
      'server remote=true port=true IPv4 local=true',
      'server data 5B',
      'client data 3B',
      'client bytesRead 3 bytesWritten 5',
      'server bytesRead 5 bytesWritten 3',
      'client close hadError=false',
    ],
    async ({ server, client, log, cleanup }) => {
      // A free local port: bind one, then let it go.
      const probe = await listening(client);
      const localPort = probe.port;
      await closeServer(probe.server);
      let accepted: Socket | null = null;
      let serverView: string[] = [];
      const { server: srv, port } = await listening(server, (s) => {
        accepted = s;
        serverView = [
          'server',
          `remote=${s.remoteAddress === client.host}`,
          `port=${s.remotePort === localPort}`,
          String(s.remoteFamily),
          `local=${s.localAddress === server.host}`,
        ];
        s.on('data', (d: Buffer) => {
          log.add('server data', `${d.length}B`);
          s.end('bye');
        });
      });
      cleanup(() => closeServer(srv));
      const c = client.net.connect({
        port,
        host: server.host,
        localAddress: client.host,
        localPort,
      });
      await next(c, 'connect');
      log.add(
        'client',
        `remote=${c.remoteAddress === server.host}`,
        `port=${c.remotePort === port}`,
        c.remoteFamily,
        `local=${c.localAddress === client.host}`,
        `localPort=${c.localPort === localPort}`,
      );
      await until(() => accepted !== null);
      log.add(...serverView);
      c.write('hello');
      c.on('data', (d: Buffer) => log.add('client data', `${d.length}B`));
      const hadError = await next<boolean>(c, 'close');
      const s = accepted as unknown as Socket;
      log.add('client bytesRead', c.bytesRead, 'bytesWritten', c.bytesWritten);
      log.add('server bytesRead', s.bytesRead, 'bytesWritten', s.bytesWritten);
      log.add('client close', `hadError=${hadError}`);
    },
  );

  conformance(
    'half-close: with allowHalfOpen the server reads to the end, then answers and ends',
    [
      'server data 5B',
      'server end writable=true',
      'client data 5B',
      'client end',
      'client close hadError=false',
      'server close hadError=false',
    ],
    async ({ server, client, log, cleanup }) => {
      let serverClosed: Promise<boolean> | null = null;
      const { server: srv, port } = await listening(
        server,
        (s) => {
          serverClosed = next<boolean>(s, 'close');
          s.on('data', (d: Buffer) => log.add('server data', `${d.length}B`));
          s.on('end', () => {
            log.add('server end', `writable=${s.writable}`);
            s.end('world');
          });
        },
        { allowHalfOpen: true },
      );
      cleanup(() => closeServer(srv));
      const c = client.net.connect(port, server.host);
      c.on('data', (d: Buffer) => log.add('client data', `${d.length}B`));
      c.on('end', () => log.add('client end'));
      c.end('hello');
      const hadError = await next<boolean>(c, 'close');
      log.add('client close', `hadError=${hadError}`);
      await until(() => serverClosed !== null);
      log.add('server close', `hadError=${await (serverClosed as unknown as Promise<boolean>)}`);
    },
  );

  conformance(
    "backpressure: with the peer not reading, write() returns false once the buffers are full, 'drain' follows once it reads",
    [
      'write returned false, buffered true',
      'drain',
      'server received all true',
      'client close hadError=false',
    ],
    async ({ server, client, log, cleanup }) => {
      let received = 0;
      let serverDone: Promise<unknown> | null = null;
      const { server: srv, port } = await listening(
        server,
        (s) => {
          // Paused: the window closes until the server reads.
          setTimeout(() => s.resume(), 20);
          s.on('data', (d: Buffer) => (received += d.length));
          serverDone = next(s, 'end');
        },
        { pauseOnConnect: true },
      );
      cleanup(() => closeServer(srv));
      const c = client.net.connect(port, server.host);
      await next(c, 'connect');
      // Until the kernel's (or the stack's) send buffer and the peer's window are full.
      let written = 0;
      const chunk = Buffer.alloc(1 << 16, 7);
      while (written < 1 << 26) {
        written += chunk.length;
        if (!c.write(chunk)) break;
      }
      log.add('write returned false, buffered', c.writableLength > 0);
      await next(c, 'drain');
      log.add('drain');
      c.end();
      await until(() => serverDone !== null);
      await serverDone;
      log.add('server received all', received === written);
      c.resume();
      log.add('client close', `hadError=${await next<boolean>(c, 'close')}`);
    },
  );

  conformance(
    'stream.pipeline and async iteration: an echo server, a client piping in and iterating out',
    ['client pipeline done', 'server pipeline done undefined', 'client read 300000 in order=true'],
    async ({ server, client, log, cleanup }) => {
      let serverDone: Promise<unknown> | null = null;
      const { server: srv, port } = await listening(server, (s) => {
        serverDone = new Promise((resolve) => pipeline(s, s, resolve));
      });
      cleanup(() => closeServer(srv));
      const c = client.net.connect(port, server.host);
      const chunks = Array.from({ length: 30 }, (_, i) => Buffer.alloc(10_000, i));
      const sent = pipelinePromise(Readable.from(chunks), c).then(() =>
        log.add('client pipeline done'),
      );
      const got: Buffer[] = [];
      for await (const chunk of c) got.push(chunk as Buffer);
      await sent;
      log.add('server pipeline done', await serverDone);
      const all = Buffer.concat(got);
      log.add('client read', all.length, `in order=${all.equals(Buffer.concat(chunks))}`);
    },
  );

  conformance(
    'async iteration ends at the peer FIN; setNoDelay and setKeepAlive chain, and as connect options',
    ['chain true true', 'iterated 3 chunks-worth 12B', 'close hadError=false'],
    async ({ server, client, log, cleanup }) => {
      const { server: srv, port } = await listening(server, (s) => {
        s.write('abcd');
        s.write('efgh');
        s.end('ijkl');
      });
      cleanup(() => closeServer(srv));
      const c = client.net.connect({
        port,
        host: server.host,
        noDelay: true,
        keepAlive: true,
        keepAliveInitialDelay: 1000,
      });
      log.add('chain', c.setNoDelay(true) === c, c.setKeepAlive(true, 500) === c);
      const closed = next<boolean>(c, 'close');
      let bytes = 0;
      for await (const chunk of c) bytes += (chunk as Buffer).length;
      log.add('iterated 3 chunks-worth', `${bytes}B`);
      log.add('close', `hadError=${await closed}`);
    },
  );

  conformance(
    "setTimeout: 'timeout' once per idle period, again only after activity; 0 turns it off",
    [
      'timeout 1',
      'still 1 after a longer pause',
      'timeout 2',
      'off: still 2',
      'close hadError=false',
    ],
    async ({ server, client, log, cleanup }) => {
      const { server: srv, port } = await listening(server, (s) => s.resume());
      cleanup(() => closeServer(srv));
      const c = client.net.connect({ port, host: server.host, timeout: 30 });
      let timeouts = 0;
      c.on('timeout', () => {
        timeouts++;
        log.add('timeout', timeouts);
      });
      await until(() => timeouts === 1);
      await new Promise((r) => setTimeout(r, 200));
      log.add(`still ${timeouts} after a longer pause`);
      c.write('x');
      await until(() => timeouts === 2);
      c.setTimeout(0);
      c.write('y');
      await new Promise((r) => setTimeout(r, 200));
      log.add('off: still', timeouts);
      c.end();
      log.add('close', `hadError=${await next<boolean>(c, 'close')}`);
    },
  );

  conformance(
    'destroy() during connect: nothing is sent, no connect, no error, close without error',
    ['close hadError=false', 'destroyed true connecting false', 'server saw 1 (the second client)'],
    async ({ server, client, log, cleanup }) => {
      let seen = 0;
      const { server: srv, port } = await listening(server, (s) => {
        seen++;
        s.resume();
      });
      cleanup(() => closeServer(srv));
      const c = client.net.connect(port, server.host);
      c.on('connect', () => log.add('connect'));
      c.on('error', (err) => log.error('error', err));
      c.destroy();
      log.add('close', `hadError=${await next<boolean>(c, 'close')}`);
      log.add('destroyed', c.destroyed, 'connecting', c.connecting);
      const second = client.net.connect(port, server.host);
      await next(second, 'connect');
      await until(() => seen > 0);
      log.add(`server saw ${seen} (the second client)`);
      second.destroy();
    },
  );

  conformance(
    "destroy(err): 'error' then 'close' with hadError locally, the peer sees a FIN ('end'), not a reset",
    [
      'client error boom',
      'client close hadError=true',
      'server end',
      'server close hadError=false',
    ],
    async ({ server, client, log, cleanup }) => {
      let serverClosed: Promise<void> | null = null;
      const { server: srv, port } = await listening(server, (s) => {
        s.resume();
        s.on('error', (err) => log.error('server error', err));
        s.on('end', () => log.add('server end'));
        serverClosed = next<boolean>(s, 'close').then((h) =>
          log.add('server close', `hadError=${h}`),
        );
      });
      cleanup(() => closeServer(srv));
      const c = client.net.connect(port, server.host);
      await next(c, 'connect');
      await until(() => serverClosed !== null);
      c.on('error', (err) => log.add('client error', err.message));
      c.destroy(new Error('boom'));
      log.add('client close', `hadError=${await next<boolean>(c, 'close')}`);
      await serverClosed;
    },
  );

  conformance(
    '50 connections at once, each echoed, then the server closes after the last ends',
    ['echoed 50 of 50', 'server connections seen 50', 'server close'],
    async ({ server, client, log }) => {
      let seen = 0;
      const { server: srv, port } = await listening(server, (s) => {
        seen++;
        s.pipe(s);
      });
      const results = await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) =>
            new Promise<boolean>((resolve) => {
              const c = client.net.connect(port, server.host, () => c.end(`ping ${i}`));
              const got: Buffer[] = [];
              c.on('data', (d: Buffer) => got.push(d));
              c.on('close', () => resolve(Buffer.concat(got).toString() === `ping ${i}`));
            }),
        ),
      );
      log.add('echoed', results.filter(Boolean).length, 'of 50');
      log.add('server connections seen', seen);
      await new Promise<void>((resolve) => srv.close(() => resolve()));
      log.add('server close');
    },
  );
});

describe('node:net conformance: resets', () => {
  conformance(
    'destroy() with received data unread resets the connection (Linux, RFC 2525 §2.17): the writer gets an error',
    ['client close hadError=false', 'server error reset=true', 'server close hadError=true'],
    async ({ kind, server, client, log, cleanup }) => {
      let serverClosed: Promise<void> | null = null;
      let blocked = false;
      const { server: srv, port } = await listening(server, (s) => {
        s.on('error', (err: NodeJS.ErrnoException) =>
          log.add('server error', `reset=${err.code === 'ECONNRESET' || err.code === 'EPIPE'}`),
        );
        serverClosed = next<boolean>(s, 'close').then((h) =>
          log.add('server close', `hadError=${h}`),
        );
        // Fill the client's receive buffer (the client does not read).
        const chunk = Buffer.alloc(1 << 16, 1);
        for (let i = 0; i < 1024 && s.write(chunk); i++);
        blocked = true;
      });
      cleanup(() => closeServer(srv));
      const c = client.net.connect(port, server.host);
      c.pause();
      // node:net leaves what a paused socket has not read in the kernel (on loopback it is there
      // once the server's write returned); the stack hands it to the socket's buffer.
      await until(() => blocked && (kind === 'node' || c.readableLength > 0));
      c.destroy();
      log.add('client close', `hadError=${await next<boolean>(c, 'close')}`);
      await until(() => serverClosed !== null);
      await serverClosed;
    },
  );
});

describe('node:net conformance: more of the surface', () => {
  conformance(
    'server.close() when not listening: the callback gets ERR_SERVER_NOT_RUNNING; listen twice throws ERR_SERVER_ALREADY_LISTEN',
    [
      'second listen throws ERR_SERVER_ALREADY_LISTEN',
      'first close undefined',
      'second close ERR_SERVER_NOT_RUNNING',
    ],
    async ({ server, log }) => {
      const { server: srv, port } = await listening(server);
      try {
        srv.listen(port + 1, server.host);
        log.add('second listen did not throw');
      } catch (err) {
        log.add('second listen throws', (err as NodeJS.ErrnoException).code);
      }
      await new Promise<void>((resolve) =>
        srv.close((err) => {
          log.add('first close', err?.message);
          resolve();
        }),
      );
      await new Promise<void>((resolve) =>
        srv.close((err) => {
          log.add('second close', (err as NodeJS.ErrnoException | undefined)?.code);
          resolve();
        }),
      );
    },
  );

  conformance(
    "maxConnections: a connection beyond it is closed ('drop' on the server), the client sees an end",
    [
      'first connected',
      'drop remote=true',
      'second end',
      'second close hadError=false',
      'connections 1',
    ],
    async ({ server, client, log, cleanup }) => {
      const open: Socket[] = [];
      const { server: srv, port } = await listening(server, (s) => open.push(s));
      srv.maxConnections = 1;
      srv.on('drop', (data?: { remoteAddress?: string }) =>
        log.add('drop', `remote=${data?.remoteAddress === client.host}`),
      );
      cleanup(() => closeServer(srv, open));
      const first = client.net.connect(port, server.host);
      cleanup(() => first.destroy());
      await next(first, 'connect');
      await until(() => open.length === 1);
      log.add('first connected');
      const second = client.net.connect(port, server.host);
      second.on('end', () => log.add('second end'));
      second.resume();
      log.add('second close', `hadError=${await next<boolean>(second, 'close')}`);
      await new Promise<void>((resolve) =>
        srv.getConnections((_e, n) => {
          log.add('connections', n);
          resolve();
        }),
      );
    },
  );

  conformance(
    "'localhost' through the resolver reaches a server on 127.0.0.1 of the same host",
    ['connect remote=127.0.0.1', 'echo 4B'],
    async ({ client, log, cleanup }) => {
      const { server: srv, port } = await listening({ ...client, host: '127.0.0.1' }, (s) =>
        s.pipe(s),
      );
      cleanup(() => closeServer(srv));
      const c = client.net.connect(port, 'localhost');
      await next(c, 'connect');
      log.add('connect', `remote=${c.remoteAddress}`);
      c.end('ping');
      const got: Buffer[] = [];
      for await (const chunk of c) got.push(chunk as Buffer);
      log.add('echo', `${Buffer.concat(got).length}B`);
    },
  );
});
