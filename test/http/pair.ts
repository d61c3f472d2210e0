/**
 * Two stacks joined by an in-memory link pair (10.0.0.1 = client, 10.0.0.2 = server), on the
 * real clock: delivery is on setImmediate, so node:http's own timers and stream callbacks
 * interleave with the stacks as they would on a TAP.
 */
import { RealClock } from '../../src/runtime/clock/real.js';
import { createMemoryLinkPair } from '../../src/runtime/link/memory.js';
import { createStack, type Stack } from '../../src/runtime/stack.js';

export interface StackPair {
  client: Stack;
  server: Stack;
  close(): Promise<void>;
}

export function makeStackPair(): StackPair {
  const clock = new RealClock();
  const [la, lb] = createMemoryLinkPair({
    macA: 0x020000000001,
    macB: 0x020000000002,
    queueFrames: 4096,
  });
  const client = createStack({ link: la, clock, ip: '10.0.0.1/24' });
  const server = createStack({ link: lb, clock, ip: '10.0.0.2/24' });
  return {
    client,
    server,
    async close() {
      await client.close();
      await server.close();
    },
  };
}
