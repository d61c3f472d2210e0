/**
 * What `pktstack run --http PORT[:DIR]` starts: the status page (and /bytes/N) on PORT, with
 * static files from DIR when given (then the status page lives at /status, and `/` is DIR's
 * index.html).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Stack } from '../stack.js';
import { serveHttp, type HttpHandler, type HttpService } from './serve.js';
import { staticHandler } from './static.js';
import { statusHandler } from './status.js';

export interface HttpSpec {
  port: number;
  /** Absolute directory of static files, if any. */
  dir?: string;
}

/** "80" or "80:/srv/www" → { port, dir }; throws a one-line Error when unusable. */
export function parseHttpSpec(text: string): HttpSpec {
  const colon = text.indexOf(':');
  const portText = colon < 0 ? text : text.slice(0, colon);
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) {
    throw new Error(`--http: bad port "${portText}" (1..65535, optionally :DIR)`);
  }
  if (colon < 0) return { port };
  const dirText = text.slice(colon + 1);
  if (dirText === '') throw new Error('--http: empty directory after ":"');
  const dir = resolve(dirText);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new Error(`--http: ${dir} is not a directory`);
  return { port, dir };
}

/** Runs handlers in order; each one's `next` is the following handler (the last: `next`). */
export function chain(...handlers: HttpHandler[]): HttpHandler {
  return (req, res, next) => {
    const step = (i: number): void => {
      if (i === handlers.length) {
        next?.();
        return;
      }
      handlers[i](req, res, () => step(i + 1));
    };
    step(0);
  };
}

export function startHttpService(stack: Stack, spec: HttpSpec): HttpService {
  const status = statusHandler(stack, { root: spec.dir === undefined });
  const handler = spec.dir === undefined ? status : chain(status, staticHandler(spec.dir));
  return serveHttp(stack, spec.port, handler);
}
