/**
 * TCP for a Stack: `attachTcp(stack)` registers the layer with IPv4 (protocol 6) and IPv6 when
 * the stack has it, makes it the
 * stack's `tcp` (stats and close included) and returns it for `listen` / `connect`. Calling it
 * again returns the same layer (options of later calls are ignored).
 */
import type { Stack } from '../stack.js';
import type { TcpLayer, TcpLayerOptions } from './layer.js';

export function attachTcp(stack: Stack, options: TcpLayerOptions = {}): TcpLayer {
  return stack.attachTcp(options);
}

export { TcpLayer, TcpServer } from './layer.js';
export type {
  ConnectOptions,
  ListenOptions,
  TcpConnectionEvent,
  TcpEviction,
  TcpLayerOptions,
  TcpLayerStats,
} from './layer.js';
export { TcpSocket, TcpSocketError } from './socket.js';
export type { OnReadOptions, TcpErrorCode } from './socket.js';
export { startDiscardServer, startEchoServer } from './services.js';
export type { DiscardOptions, DiscardSession } from './services.js';
