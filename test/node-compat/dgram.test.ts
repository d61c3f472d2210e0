/**
 * stack.dgram against node:dgram: each case runs with node:dgram on the kernel's loopback and
 * with stack.dgram over two in-memory stacks (see harness.ts); both must record the expected
 * log. Covers the call forms of issue 12 (bind, send with offset/length and buffer lists,
 * connect), the timing of events and callbacks, node's errors, and ICMP port unreachable on a
 * connected socket (Linux without IP_RECVERR: connected sockets only).
 */
import type { Socket } from 'node:dgram';
import { describe } from 'vitest';
import { conformance, next, type Side } from './harness.js';

/** A bound socket on `side` (port 0), listening. */
async function bound(side: Side, type: 'udp4' = 'udp4'): Promise<Socket> {
  const s = side.dgram.createSocket(type);
  await new Promise<void>((resolve) => s.bind(0, side.host, resolve));
  return s;
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(side: Side): Promise<number> {
  const s = await bound(side);
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(resolve));
  return port;
}

function code(f: () => unknown): string {
  try {
    f();
    return 'no throw';
  } catch (e) {
    return String((e as { code?: string }).code);
  }
}

describe('node:dgram conformance', () => {
  conformance(
    "bind(port, address, cb), bind({port, address}), bind(): 'listening' after the call returns",
    [
      'returned',
      'listening',
      'bind callback',
      'address IPv4 host=true',
      'object form listening host=true',
      'no-argument form listening family=IPv4 any=true',
      'bind twice ERR_SOCKET_ALREADY_BOUND',
    ],
    async ({ server, log, cleanup }) => {
      const a = server.dgram.createSocket('udp4');
      cleanup(() => a.close());
      a.on('listening', () => log.add('listening'));
      a.bind(0, server.host, () => log.add('bind callback'));
      log.add('returned');
      await next(a, 'listening');
      await new Promise((r) => setImmediate(r));
      const addr = a.address();
      log.add('address', addr.family, `host=${addr.address === server.host}`);
      const b = server.dgram.createSocket({ type: 'udp4', reuseAddr: true });
      cleanup(() => b.close());
      b.bind({ port: 0, address: server.host });
      await next(b, 'listening');
      log.add('object form listening', `host=${b.address().address === server.host}`);
      const c = server.dgram.createSocket('udp4');
      cleanup(() => c.close());
      c.bind();
      await next(c, 'listening');
      log.add(
        'no-argument form listening',
        `family=${c.address().family}`,
        `any=${c.address().address === '0.0.0.0'}`,
      );
      log.add(
        'bind twice',
        code(() => c.bind(0)),
      );
    },
  );

  conformance(
    'send(buf, offset, length, port, address, cb), send([b1, b2], ...), send(string, port, address): one datagram each, callbacks later',
    [
      'sent (sync) 0',
      'callback null 3',
      'callback null 4',
      'callback null 5',
      'message bcd 3 from-client=true',
      'message abcd 4 from-client=true',
      'message plain 5 from-client=true',
    ],
    async ({ server, client, log, cleanup }) => {
      const srv = await bound(server);
      cleanup(() => srv.close());
      let got = 0;
      const all = new Promise<void>((resolve) =>
        srv.on('message', (m, rinfo) => {
          log.add(
            'message',
            m.toString(),
            rinfo.size,
            `from-client=${rinfo.address === client.host}`,
          );
          if (++got === 3) resolve();
        }),
      );
      const port = srv.address().port;
      const c = client.dgram.createSocket('udp4');
      cleanup(() => c.close());
      let callbacks = 0;
      const done = new Promise<void>((resolve) => {
        const cb = (err: Error | null, n: number) => {
          log.add('callback', err === null ? null : String((err as NodeJS.ErrnoException).code), n);
          if (++callbacks === 3) resolve();
        };
        c.send(Buffer.from('abcdef'), 1, 3, port, server.host, cb);
        c.send([Buffer.from('ab'), Buffer.from('cd')], port, server.host, cb);
        c.send('plain', port, server.host, cb);
      });
      log.add('sent (sync)', callbacks);
      await done;
      await all;
    },
  );

  conformance(
    'connect(port, address, cb): listening then connect, remoteAddress, send without an address, disconnect',
    [
      'remoteAddress before ERR_SOCKET_DGRAM_NOT_CONNECTED',
      'listening',
      'connect',
      'remote port=true host=true',
      'connect twice ERR_SOCKET_DGRAM_IS_CONNECTED',
      'send with port when connected ERR_SOCKET_DGRAM_IS_CONNECTED',
      'send callback null 5',
      'message hello',
      'disconnected ERR_SOCKET_DGRAM_NOT_CONNECTED',
      'disconnect twice ERR_SOCKET_DGRAM_NOT_CONNECTED',
    ],
    async ({ server, client, log, cleanup }) => {
      const srv = await bound(server);
      cleanup(() => srv.close());
      const port = srv.address().port;
      const message = next<Buffer>(srv, 'message');
      const c = client.dgram.createSocket('udp4');
      cleanup(() => c.close());
      log.add(
        'remoteAddress before',
        code(() => c.remoteAddress()),
      );
      c.on('listening', () => log.add('listening'));
      await new Promise<void>((resolve) =>
        c.connect(port, server.host, () => {
          log.add('connect');
          resolve();
        }),
      );
      const r = c.remoteAddress();
      log.add('remote', `port=${r.port === port}`, `host=${r.address === server.host}`);
      log.add(
        'connect twice',
        code(() => c.connect(port, server.host)),
      );
      log.add(
        'send with port when connected',
        code(() => c.send(Buffer.from('x'), 0, 1, port, server.host)),
      );
      await new Promise<void>((resolve) =>
        c.send('hello', (err, n) => {
          log.add(
            'send callback',
            err === null ? null : String((err as NodeJS.ErrnoException).code),
            n,
          );
          resolve();
        }),
      );
      log.add('message', (await message).toString());
      c.disconnect();
      log.add(
        'disconnected',
        code(() => c.remoteAddress()),
      );
      log.add(
        'disconnect twice',
        code(() => c.disconnect()),
      );
    },
  );

  conformance(
    "a connected socket gets 'error' ECONNREFUSED (recvmsg) from a closed port; an unconnected one does not",
    [
      'unconnected send callback null 7',
      'connected error ECONNREFUSED -111 recvmsg',
      'unconnected errors 0',
    ],
    async ({ server, client, log, cleanup }) => {
      const port = await closedPort(server);
      const loose = client.dgram.createSocket('udp4');
      cleanup(() => loose.close());
      let looseErrors = 0;
      loose.on('error', () => looseErrors++);
      await new Promise<void>((resolve) =>
        loose.send('anyone?', port, server.host, (err, n) => {
          log.add(
            'unconnected send callback',
            err === null ? null : String((err as NodeJS.ErrnoException).code),
            n,
          );
          resolve();
        }),
      );
      const c = client.dgram.createSocket('udp4');
      cleanup(() => c.close());
      const error = next<Error>(c, 'error');
      c.connect(port, server.host, () => c.send('anyone?'));
      log.error('connected error', await error);
      await new Promise((r) => setTimeout(r, 50));
      log.add('unconnected errors', looseErrors);
    },
  );

  conformance(
    "node's errors: bad ports thrown, EADDRINUSE emitted with its fields, address() unbound, close twice",
    [
      'send port 70000 ERR_SOCKET_BAD_PORT',
      'send without port ERR_SOCKET_BAD_PORT',
      'connect port 0 ERR_SOCKET_BAD_PORT',
      'address unbound EBADF',
      'bind in use EADDRINUSE -98 bind address=ok port=ok',
      'close twice ERR_SOCKET_DGRAM_NOT_RUNNING',
      'close callback',
    ],
    async ({ server, log, cleanup }) => {
      const s = server.dgram.createSocket('udp4');
      log.add(
        'send port 70000',
        code(() => s.send('x', 70000, server.host)),
      );
      log.add(
        'send without port',
        code(() => s.send('x')),
      );
      log.add(
        'connect port 0',
        code(() => s.connect(0)),
      );
      log.add(
        'address unbound',
        code(() => s.address()),
      );
      const taken = await bound(server);
      cleanup(() => taken.close());
      const port = taken.address().port;
      s.bind(port, server.host);
      log.error('bind in use', await next(s, 'error'), { address: server.host, port });
      const t = await bound(server);
      const closed = new Promise<void>((resolve) => t.close(() => resolve()));
      log.add(
        'close twice',
        code(() => t.close()),
      );
      await closed;
      log.add('close callback');
      s.close();
    },
  );
});
