/**
 * What stack.net does that node:net has no counterpart for: closing the stack ends the sockets
 * on it (as a process exit would close its descriptors), and the listener types.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { TcpSocket, type NetServer } from '../../src/index.js';
import { makeStackPair } from '../http/pair.js';

describe('stack.net and stack.close()', () => {
  it(
    'stack.close() destroys local sockets: the blocked write and later writes call back with an error',
    { timeout: 10_000 },
    async () => {
      const pair = makeStackPair();
      try {
        const server = pair.server.net.createServer({ pauseOnConnect: true });
        // Our RST reaches it when the client stack closes.
        server.on('connection', (s) => s.on('error', () => {}));
        await new Promise<void>((resolve) => server.listen(0, '10.0.0.2', resolve));
        const port = (server.address() as { port: number }).port;
        const c = pair.client.net.connect(port, '10.0.0.2');
        await new Promise((resolve) => c.once('connect', resolve));
        // The server does not read: writes stop completing once its window and our buffer fill.
        const chunk = Buffer.alloc(1 << 16);
        const callbacks: Array<Error | null | undefined> = [];
        for (let i = 0; i < 256 && c.write(chunk, (err) => callbacks.push(err)); i++);
        const pendingBefore = c.writableLength;
        const closed = new Promise<boolean>((resolve) => c.once('close', resolve));
        await pair.client.close();
        expect(pendingBefore).toBeGreaterThan(0);
        expect(await closed).toBe(false);
        expect(c.destroyed).toBe(true);
        // Every write that had not completed was called back, with an error.
        await new Promise((r) => setImmediate(r));
        expect(callbacks.some((e) => e instanceof Error)).toBe(true);
        const late = await new Promise<Error | null | undefined>((resolve) =>
          c.write('late', (err) => resolve(err)),
        );
        expect(late).toBeInstanceOf(Error);
      } finally {
        await pair.close();
      }
    },
  );

  it("types the listeners of 'connection', 'data' and 'close' as node:net's", () => {
    const pair = makeStackPair();
    const server: NetServer = pair.server.net.createServer((socket) => {
      expectTypeOf(socket).toEqualTypeOf<TcpSocket>();
    });
    server.on('connection', (socket) => {
      expectTypeOf(socket).toEqualTypeOf<TcpSocket>();
      socket.on('data', (data) => expectTypeOf(data).toEqualTypeOf<Buffer>());
      socket.on('close', (hadError) => expectTypeOf(hadError).toEqualTypeOf<boolean>());
      socket.on('error', (err) => expectTypeOf(err).toEqualTypeOf<Error>());
    });
    server.on('error', (err) => expectTypeOf(err).toEqualTypeOf<Error>());
    const c = pair.client.net.connect({ port: 1, host: '10.0.0.2' });
    // As node:net: every socket is `instanceof net.Socket`, accepted ones too.
    expect(c).toBeInstanceOf(pair.client.net.Socket);
    expect(new TcpSocket({ clock: pair.client.clock })).toBeInstanceOf(pair.server.net.Socket);
    c.once('data', (data) => expectTypeOf(data).toEqualTypeOf<Buffer>());
    c.destroy();
    expect(c.destroyed).toBe(true);
    return pair.close();
  });
});
