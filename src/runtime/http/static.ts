/**
 * Static files from a directory, for `pktstack run --http 80:DIR`. Safe by construction:
 * percent-decoded path segments may not be empty-dots, hidden (leading '.'), or contain '/',
 * '\\' or NUL, and the real path (symlinks resolved) must stay under the root's real path.
 * GET and HEAD only; Content-Type from the extension; Content-Length, Last-Modified and a weak
 * ETag, with 304 for a matching If-None-Match / If-Modified-Since. Directories serve their
 * index.html (redirecting to the slash form first), and anything missing goes to `next`
 * (404 by default).
 */
import { createReadStream, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type http from 'node:http';
import { extname, join, sep } from 'node:path';
import { notFound, sendText, type HttpHandler } from './serve.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.woff2': 'font/woff2',
  '.mp4': 'video/mp4',
  '.pcap': 'application/vnd.tcpdump.pcap',
};

export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The request path as safe segments, or null when it is malformed or tries to leave the root
 * (or names a hidden file). `/a/b/` → ['a', 'b', ''] (the trailing '' marks a directory form).
 */
export function safeSegments(url: string): string[] | null {
  const raw = url.split('?', 1)[0].split('#', 1)[0];
  if (!raw.startsWith('/')) return null;
  const out: string[] = [];
  const parts = raw.slice(1).split('/');
  for (let i = 0; i < parts.length; i++) {
    let s: string;
    try {
      s = decodeURIComponent(parts[i]);
    } catch {
      return null;
    }
    if (s === '') {
      // Only a trailing empty segment (directory form) is allowed: "a//b" is refused.
      if (i === parts.length - 1) out.push('');
      else if (!(i === 0 && parts.length === 1)) return null;
      continue;
    }
    if (s.startsWith('.') || /[/\\\0]/.test(s)) return null;
    out.push(s);
  }
  return out;
}

export interface StaticOptions {
  /** File served for a directory (default index.html). */
  index?: string;
}

export function staticHandler(dir: string, options: StaticOptions = {}): HttpHandler {
  const index = options.index ?? 'index.html';
  let rootReal: Promise<string> | undefined;
  return (req, res, next) => {
    const miss = next ?? (() => notFound(res));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    const segments = safeSegments(req.url ?? '/');
    if (segments === null) {
      sendText(res, 404, 'Not Found\n');
      return;
    }
    rootReal ??= realpath(dir);
    serveFile(req, res, rootReal, segments, index, miss).catch(() => {
      if (!res.headersSent) sendText(res, 500, 'Internal Server Error\n');
      else res.destroy();
    });
  };
}

async function resolveInside(rootPromise: Promise<string>, parts: string[]) {
  const root = await rootPromise;
  const path = join(root, ...parts);
  let real: string;
  let info: Stats;
  try {
    real = await realpath(path);
    info = await stat(real);
  } catch {
    return null;
  }
  // A symlink inside the root pointing outside it is refused like "..".
  if (real !== root && !real.startsWith(root + sep)) return null;
  return { real, info };
}

async function serveFile(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  root: Promise<string>,
  segments: string[],
  index: string,
  miss: () => void,
): Promise<void> {
  const dirForm = segments.length === 0 || segments[segments.length - 1] === '';
  const parts = segments.filter((s) => s !== '');
  let found = await resolveInside(root, parts);
  if (found?.info.isDirectory()) {
    if (!dirForm) {
      const location = (req.url ?? '/').split('?', 1)[0] + '/';
      sendText(res, 301, `Moved to ${location}\n`, { location });
      return;
    }
    found = await resolveInside(root, [...parts, index]);
  } else if (dirForm && parts.length > 0) {
    found = null; // "file.txt/" is not a directory
  }
  if (found === null || !found.info.isFile()) {
    miss();
    return;
  }
  const { real, info } = found;
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const lastModified = info.mtime.toUTCString();
  const headers: http.OutgoingHttpHeaders = { etag, 'last-modified': lastModified };
  if (notModified(req, etag, info.mtimeMs)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, {
    ...headers,
    'content-type': contentType(real),
    'content-length': info.size,
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const file = createReadStream(real, { highWaterMark: 64 * 1024 });
  file.once('error', () => res.destroy());
  res.once('close', () => file.destroy());
  file.pipe(res);
}

function notModified(req: http.IncomingMessage, etag: string, mtimeMs: number): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) return inm.split(',').some((t) => t.trim() === etag || t.trim() === '*');
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  // HTTP dates have whole seconds.
  return Number.isFinite(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}
