/**
 * The server side of bench/stack/http.ts: ONE node:http handler, run either on our stack over
 * tap0 (`stack`) or on the kernel's TCP (`kernel HOST PORT`), so the two differ only in the
 * TCP/IP underneath. Prints "ready" when serving; exits on SIGTERM.
 */
import http from 'node:http';
import { RealClock } from '../../src/runtime/clock/real.js';
import { serveHttp } from '../../src/runtime/http/index.js';
import { openTap } from '../../src/runtime/link/tap.js';
import { createStack } from '../../src/runtime/stack.js';

const BODY = Buffer.from('hello, world\n');

/** A small response, as in a typical "requests per second" measurement. */
function handler(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  res.end(BODY);
}

const [mode, host, port] = process.argv.slice(2);
if (mode === 'stack') {
  const link = await openTap({ name: 'tap0' });
  const stack = createStack({ link, clock: new RealClock(), ip: '10.0.0.2/24' });
  serveHttp(stack, 80, handler);
  process.once('SIGTERM', () => void stack.close().then(() => process.exit(0)));
} else if (mode === 'kernel') {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(Number(port), host, resolve));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  process.stderr.write('usage: http-server.ts stack | kernel HOST PORT\n');
  process.exit(2);
}
process.stdout.write('ready\n');
