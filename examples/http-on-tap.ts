/**
 * The stack on a TAP device serving an app over HTTP: the kernel (or anything routed to the
 * TAP) can browse it. Needs root, e.g. in the sandbox namespace:
 *
 *   sudo pktstack sandbox up --no-stack
 *   sudo ip netns exec pktstack npx tsx examples/http-on-tap.ts
 *   sudo ip netns exec pktstack curl http://10.0.0.2/hello
 *
 * Ctrl-C stops it. Any node:http handler works, an Express app included (`serveHttp(stack, 80, app)`).
 */
import {
  createStack,
  openTap,
  RealClock,
  serveHttp,
  statusHandler,
  type HttpHandler,
} from 'pktstack/stack';

const tapName = process.env.TAP ?? 'tap0';
const address = process.env.ADDRESS ?? '10.0.0.2/24';

const link = await openTap({ name: tapName });
const stack = createStack({ link, clock: new RealClock(), ip: address, gateway: '10.0.0.1' });
const status = statusHandler(stack, { root: false });

// An app in Express's shape: (req, res, next).
const app: HttpHandler = (req, res, next) => {
  if (req.url === '/hello') {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello ${req.socket.remoteAddress}, this is pktstack on ${tapName}\n`);
    return;
  }
  status(req, res, next); // /status, /status.json, /bytes/N
};

const service = serveHttp(stack, 80, app);
console.log(`serving http://${address.split('/')[0]}/hello on ${tapName}`);

process.once('SIGINT', () => {
  void service
    .close({ force: true })
    .then(() => stack.close())
    .then(() => console.log('stopped'));
});
