/**
 * The TCP layer of a stack for HTTP: the stack's own, created on first use, so HTTP shares it
 * with `pktstack run --echo` and a user's own listeners (protocol 6 is registered once).
 */
import type { Stack } from '../stack.js';
import type { TcpLayer } from '../tcp/index.js';

export function tcpOf(stack: Stack): TcpLayer {
  return stack.tcp;
}
