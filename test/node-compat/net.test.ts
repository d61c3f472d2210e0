/**
 * stack.net against node:net: each case runs on the kernel's loopback with node:net and over
 * two in-memory stacks with stack.net (see harness.ts); both must record the expected log.
 */
import type { AddressInfo, Socket } from 'node:net';
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
