/**
 * The TAP link machinery without a kernel device (not a test): two TapLinks over a
 * SOCK_SEQPACKET socketpair in one process, one echoing what the other sends, WINDOW frames in
 * flight. Every frame costs the addon a write, an epoll wakeup share, a read and one JS call
 * per batch — the per-frame overhead of the addon and TapLink, with no IP stack in the kernel.
 *
 *   npx tsx bench/link/socketpair-echo.ts [--seconds 2] [--window 64] [--size 64]
 */
import { parseArgs } from 'node:util';
import { frameSocketPair, openFrameFd } from '../../src/runtime/link/tap.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    window: { type: 'string', default: '64' },
    size: { type: 'string', default: '64' },
  },
});
const seconds = Number(values.seconds);
const window = Number(values.window);
const size = Math.max(14, Number(values.size));

const [fa, fb] = frameSocketPair();
const client = openFrameFd({ fd: fa, mtu: 1500, mac: 1 });
const echo = openFrameFd({ fd: fb, mtu: 1500, mac: 2 });
const frame = new Uint8Array(size);
let roundTrips = 0;
let running = true;

echo.setReceiver({
  receive: (bytes, offset, length) => void echo.send(bytes, offset, length),
  batchEnd() {},
});
client.setReceiver({
  receive() {
    roundTrips++;
    if (running) client.send(frame, 0, size);
  },
  batchEnd() {},
});

const start = performance.now();
const cpuStart = process.cpuUsage();
for (let i = 0; i < window; i++) client.send(frame, 0, size);
setTimeout(() => {
  running = false;
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const c = client.stats();
  const e = echo.stats();
  console.log(
    `socketpair echo, ${size}-byte frames, window ${window}, ${elapsed.toFixed(2)} s, one process`,
  );
  console.log(`  round trips: ${Math.round(roundTrips / elapsed).toLocaleString('en')}/s`);
  console.log(
    `  frames read and written back by the echo side: ${Math.round(e.rxFrames / elapsed).toLocaleString('en')}/s`,
  );
  console.log(
    `  frames per wakeup: echo ${(e.rxFrames / e.rxBatches).toFixed(1)}, client ${(c.rxFrames / c.rxBatches).toFixed(1)}`,
  );
  // CPU time is robust on a busy machine where wall time is not (other processes take turns).
  console.log(
    `  CPU per round trip: ${((cpuSeconds * 1e6) / roundTrips).toFixed(2)} µs (user ${(cpu.user / roundTrips).toFixed(2)}, ` +
      `system ${(cpu.system / roundTrips).toFixed(2)}) → ${Math.round(roundTrips / cpuSeconds).toLocaleString('en')} round trips per CPU-second`,
  );
  console.log(
    `  queued on EAGAIN: ${c.txQueued + e.txQueued}, dropped: ${c.txDropped + e.txDropped}`,
  );
  void client.close();
  void echo.close();
}, seconds * 1000);
