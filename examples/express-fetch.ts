/**
 * An Express app served by one user-space stack and called with fetch from another, over an
 * in-memory link: `serveHttp` hands the stack's connections to the app, `stack.http.fetch` is
 * WHATWG fetch whose connections are the other stack's sockets.
 *
 *   npx tsx examples/express-fetch.ts
 */
import express from 'express';
import { createMemoryLinkPair, createStack, RealClock, serveHttp } from 'pktstack/stack';

const clock = new RealClock();
const [linkA, linkB] = createMemoryLinkPair({ macA: 0x020000000001, macB: 0x020000000002 });
const client = createStack({ link: linkA, clock, ip: '10.0.0.1/24' });
const server = createStack({ link: linkB, clock, ip: '10.0.0.2/24' });

// docs/library.md shows from here to the end marker; test/examples checks the two agree.
const app = express();
app.use(express.json());
const notes: string[] = [];
app.get('/notes', (_req, res) => {
  res.json(notes);
});
app.post('/notes', (req, res) => {
  notes.push(String(req.body.text));
  res.status(201).json({ id: notes.length });
});
const service = serveHttp(server, 80, app);

const created = await client.http.fetch('http://10.0.0.2/notes', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ text: 'sent through two user-space stacks' }),
});
console.log(`POST /notes: ${created.status} ${JSON.stringify(await created.json())}`);

const listed = await client.http.fetch('http://10.0.0.2/notes');
console.log(`GET /notes: ${listed.status} ${JSON.stringify(await listed.json())}`);

const missing = await client.http.fetch('http://10.0.0.2/nothing');
console.log(`GET /nothing: ${missing.status}`);
await missing.arrayBuffer();
// end of what docs/library.md shows

await service.close({ force: true });
await client.close();
await server.close();
