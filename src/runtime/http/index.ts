/**
 * HTTP over the user-space stack, with node:http doing all the HTTP: `serveHttp` feeds our TCP
 * connections to an `http.Server`; `StackAgent` / `fetchOverStack` make `http.request` connect
 * through the stack. Handlers: a status page with live counters, static files from a directory.
 */
export { serveHttp, sendText, notFound } from './serve.js';
export type { HttpHandler, HttpService, ServeHttpOptions } from './serve.js';
export { StackAgent, NoResolverError } from './agent.js';
export type { StackAgentOptions, StackLookup } from './agent.js';
export { fetchOverStack, readBody, FetchError, toFetchError } from './fetch.js';
export type { FetchOptions } from './fetch.js';
export { statusHandler, statusReport, renderStatusHtml } from './status.js';
export type { StatusOptions, StatusReport } from './status.js';
export { staticHandler, safeSegments, contentType } from './static.js';
export type { StaticOptions } from './static.js';
export { patternStream, patternByte } from './bytes.js';
export { chain, parseHttpSpec, startHttpService } from './service.js';
export type { HttpSpec } from './service.js';
export { tcpOf } from './tcp.js';
export { createStackDispatcher, StackHttp } from './dispatcher.js';
export type { StackDispatcherOptions } from './dispatcher.js';
