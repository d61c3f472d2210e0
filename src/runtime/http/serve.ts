/**
 * node:http on the user-space stack. No HTTP parser of our own: each accepted TCP connection
 * (a net.Socket-like Duplex) is handed to an `http.Server` with `emit('connection', socket)`,
 * so keep-alive, pipelining, chunked encoding and any framework built on node:http (a plain
 * handler, Express, Fastify's `server.routing`) work as they do on the kernel's TCP.
 */
import http from 'node:http';
import type { Stack } from '../stack.js';
import type { TcpServer, TcpSocket } from '../tcp/index.js';
import { coalesceWrites } from './coalesce.js';
import { tcpOf } from './tcp.js';

/** A request handler in the shape node:http and Express share; `next` means "not mine". */
export type HttpHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  next?: () => void,
) => void;

export interface ServeHttpOptions {
  /** Options for the `http.Server` made when a handler (not a server) is given. */
  server?: http.ServerOptions;
  /** Disable Nagle on accepted connections (default true, as node:http does). */
  noDelay?: boolean;
}

export interface HttpService {
  readonly port: number;
  readonly server: http.Server;
  readonly listener: TcpServer;
  /** Connections open right now. */
  readonly connections: number;
  /**
   * Stops accepting, closes idle keep-alive connections and resolves once every connection has
   * closed. With `force`, open connections are destroyed instead of awaited.
   */
  close(options?: { force?: boolean }): Promise<void>;
}

/**
 * Serves HTTP on `port` of `stack` with `handler` (wrapped in a new `http.Server`) or with an
 * existing `http.Server`. The server does not need to listen on the kernel as well.
 */
export function serveHttp(
  stack: Stack,
  port: number,
  handler: HttpHandler | http.Server,
  options: ServeHttpOptions = {},
): HttpService {
  const server =
    handler instanceof http.Server
      ? handler
      : http.createServer(options.server ?? {}, (req, res) =>
          handler(req, res, () => notFound(res)),
        );
  // node:http starts its request/headers timeout sweeps on 'listening'; a server fed only by
  // us never listens on the kernel, so announce it (unless it already listens there).
  if (!server.listening) server.emit('listening');
  const open = new Set<TcpSocket>();
  // allowHalfOpen as http.Server's own net.Server has it: node:http decides what a client's FIN
  // means for requests in flight (see socketOnEnd in node's _http_server.js).
  const listener = tcpOf(stack).listen(
    port,
    (socket) => {
      open.add(socket);
      socket.once('close', () => {
        open.delete(socket);
        if (open.size === 0) drained?.();
      });
      coalesceWrites(socket);
      server.emit('connection', socket);
    },
    // noDelay: http.Server's default (net.Server applies it to kernel sockets; ours never pass
    // through net.Server). With Nagle on, a response written in two pieces waits for the
    // client's delayed ACK (40 ms on Linux) on every keep-alive request.
    { allowHalfOpen: true, noDelay: options.noDelay ?? true },
  );
  let drained: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  return {
    port,
    server,
    listener,
    get connections() {
      return open.size;
    },
    close({ force = false } = {}) {
      // A second call (say, forcing after a graceful one) shares the first one's promise.
      closing ??= new Promise<void>((resolve) => {
        listener.close();
        server.closeIdleConnections();
        const finish = (): void => {
          // net.Server.close also clears node:http's sweep interval; it has no kernel handle.
          server.close(() => resolve());
        };
        if (open.size === 0) finish();
        else drained = finish;
      });
      if (force) for (const socket of open) socket.destroy();
      return closing;
    },
  };
}

export function notFound(res: http.ServerResponse): void {
  sendText(res, 404, 'Not Found\n');
}

/** A short text/plain response with Content-Length (HEAD gets headers only). */
export function sendText(
  res: http.ServerResponse,
  status: number,
  text: string,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': body.length,
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
