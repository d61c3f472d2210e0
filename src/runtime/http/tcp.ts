/**
 * The TCP layer of a stack, attaching one if the stack has none yet. HTTP needs TCP; other
 * code (`pktstack run --echo`, a user's own listeners) may have attached it already, and a
 * second `attachTcp` would register protocol 6 twice.
 */
import type { Stack } from '../stack.js';
import { attachTcp, TcpLayer } from '../tcp/index.js';

export function tcpOf(stack: Stack): TcpLayer {
  const existing = stack.tcp;
  if (existing instanceof TcpLayer) return existing;
  if (existing !== null) {
    throw new TypeError('stack.tcp is set but is not a TcpLayer: cannot serve or fetch HTTP on it');
  }
  return attachTcp(stack);
}
