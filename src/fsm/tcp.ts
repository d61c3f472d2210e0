/**
 * The TCP state machine (RFC 9293), sans-IO: `TcpConnection` coordinates a connection's
 * receiver, sender and handshake, `TcpListener` decides a listening port's passive opens and
 * SYN cookies (see `tcp/`); this module is what the rest of the package imports.
 */
export {
  DEFAULT_TCP_CONFIG,
  LINUX_TCP_PROFILE,
  TcpEvent,
  TcpState,
  stateName,
  windowShiftFor,
  type TcpConfig,
  type TcpCounters,
  type TcpHost,
} from './tcp/config.js';
export { TcpConnection } from './tcp/connection.js';
export { ListenAction, TcpListener, type ListenEndpoints } from './tcp/listener.js';
