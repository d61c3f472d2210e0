/**
 * Two user-space stacks joined by an in-memory link, on the virtual clock: stack A fetches a
 * page over HTTP from stack B across a 10 ms RTT path losing 10% of frames each way. Time only
 * moves when we advance the clock, so the run is the same every time and faster than real time.
 *
 *   npx tsx examples/two-stacks.ts
 */
import {
  createMemoryLinkPair,
  createStack,
  fetchOverStack,
  injectFaults,
  readBody,
  serveHttp,
  tcpOf,
  VirtualClock,
} from 'pktstack/stack';

const clock = new VirtualClock();
const [linkA, linkB] = createMemoryLinkPair({ macA: 0x020000000001, macB: 0x020000000002, clock });
// Lose 10% of the frames each way and add 5 ms each way (10 ms RTT), reproducibly (seeded).
const lossy = injectFaults(linkA, {
  clock,
  seed: 42,
  tx: { drop: 0.1, delayMs: 5 },
  rx: { drop: 0.1, delayMs: 5 },
});
const a = createStack({ link: lossy, clock, ip: '10.0.0.1/24' });
const b = createStack({ link: linkB, clock, ip: '10.0.0.2/24' });
tcpOf(a);

const page = 'x'.repeat(100_000);
const service = serveHttp(b, 80, (req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(req.url === '/' ? page : 'not here\n');
});

/** Moves virtual time in 1 ms steps, letting Node run in between, until `p` settles. */
async function drive<T>(p: Promise<T>): Promise<T> {
  let done = false;
  const watched = p.finally(() => (done = true));
  while (!done) {
    clock.advance(1);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return watched;
}

const res = await drive(fetchOverStack(a, 'http://10.0.0.2/'));
const body = await drive(readBody(res));
console.log(`status ${res.statusCode}, ${body.length} bytes, intact: ${body.toString() === page}`);
console.log(`virtual time: ${clock.now()} ms`);
const { tx, rx } = lossy.stats().faults;
console.log(`frames dropped: ${tx.dropped} sent by A, ${rx.dropped} sent by B`);
console.log(
  `segments retransmitted: ${String(a.stats().tcp?.retransmits)} by A, ${String(b.stats().tcp?.retransmits)} by B`,
);
await drive(service.close({ force: true }));
await a.close();
await b.close();
