/**
 * node:net code on the stack: the same server and client as with `import net from 'node:net'`,
 * with `net` taken from two user-space stacks joined in memory (server 10.0.0.2, client
 * 10.0.0.1). `--node` runs the very same code on node:net over the kernel's 127.0.0.1, for
 * comparison: the output is the same.
 *
 *   npx tsx examples/net-drop-in.ts [--node]
 */
import * as nodeNet from 'node:net';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createMemoryLinkPair, createStack, RealClock } from 'pktstack/stack';

const onNode = process.argv.includes('--node');
const clock = new RealClock();
const [linkA, linkB] = createMemoryLinkPair({ macA: 0x020000000001, macB: 0x020000000002 });
const clientStack = createStack({ link: linkA, clock, ip: '10.0.0.1/24' });
const serverStack = createStack({ link: linkB, clock, ip: '10.0.0.2/24' });

// The swap: everything below is node:net code. (With --node it runs on node:net itself, typed
// with the stack's types: they are close to @types/node's but not the same declarations.)
type Net = typeof serverStack.net;
const serverNet = onNode ? (nodeNet as unknown as Net) : serverStack.net;
const clientNet = onNode ? (nodeNet as unknown as Net) : clientStack.net;
const host = onNode ? '127.0.0.1' : '10.0.0.2';

// A line server: answers each line in upper case, and says goodbye when the client ends.
const server = serverNet.createServer((socket) => {
  const lines = createInterface({ input: socket });
  lines.on('line', (line) => socket.write(`${line.toUpperCase()}\n`));
  lines.on('close', () => socket.end('bye\n'));
});
server.listen(0, host);
await once(server, 'listening');
const { port } = server.address() as nodeNet.AddressInfo;

const socket = clientNet.connect(port, host);
await once(socket, 'connect');
socket.setNoDelay(true);
const closed = once(socket, 'close');
socket.write('hello\n');
socket.end('drop-in node:net\n');
for await (const line of createInterface({ input: socket })) console.log(line);
const [hadError] = (await closed) as [boolean];
console.log(
  `closed, hadError ${hadError}, sent ${socket.bytesWritten} B, got ${socket.bytesRead} B`,
);

// A refused connection fails as it does on node:net: ECONNREFUSED with errno, syscall, port.
server.close();
await once(server, 'close');
const refused = clientNet.connect(port, host);
const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException & { port?: number }];
console.log(`${err.code} ${err.errno} ${err.syscall} port ${err.port === port}`);

await clientStack.close();
await serverStack.close();
