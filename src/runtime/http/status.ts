/**
 * The status page of `pktstack run --http`: uptime, addresses and the stack's live counters
 * (`stack.stats()`), as HTML at `/` and `/status` (refreshing itself) and as JSON at
 * `/status.json`; plus `/bytes/N` (see bytes.ts). Other paths go to `next` (404 by default).
 */
import type http from 'node:http';
import { formatIpv4, formatMac } from '../../codec/address.js';
import { ipv6Text } from '../ipv6/address.js';
import type { Stack } from '../stack.js';
import type { StatsTree } from '../stats.js';
import { sendPatternBytes } from './bytes.js';
import { notFound, sendText, type HttpHandler } from './serve.js';

export interface StatusOptions {
  /** Shown as the page title (default "pktstack"). */
  name?: string;
  /** Largest /bytes/N body (default 1 GiB). */
  maxBytes?: number;
  /** Serve the HTML page at `/` too (default true; false when `/` belongs to static files). */
  root?: boolean;
}

export interface StatusReport {
  name: string;
  uptimeSeconds: number;
  ip: string;
  netmask: string;
  gateway: string;
  /** Our IPv6 addresses ("fd00::2/64 preferred"), when IPv6 is on. */
  ipv6: string[];
  mac: string;
  stats: StatsTree;
}

export function statusReport(stack: Stack, startedAt: number, name: string): StatusReport {
  return {
    name,
    uptimeSeconds: Math.round((stack.clock.now() - startedAt) / 100) / 10,
    ip: formatIpv4(stack.address),
    netmask: formatIpv4(stack.netmask),
    gateway: formatIpv4(stack.gateway),
    ipv6: (stack.ipv6?.ip.addressList ?? []).map(
      (e) => `${ipv6Text(e.address)}/${e.prefixLength} ${e.state}`,
    ),
    mac: formatMac(stack.mac),
    stats: stack.stats() as unknown as StatsTree,
  };
}

/** "tcp.drops.malformed" → value, depth first, for the HTML table. */
function flatten(tree: StatsTree, prefix: string, out: Array<[string, string]>): void {
  for (const [key, value] of Object.entries(tree)) {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (value !== null && typeof value === 'object') flatten(value as StatsTree, name, out);
    else out.push([name, String(value)]);
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export function renderStatusHtml(report: StatusReport): string {
  const rows: Array<[string, string]> = [];
  flatten(report.stats, '', rows);
  const counters = rows
    .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  const title = escapeHtml(report.name);
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>${title}</title>
<style>body{font-family:monospace}td{padding:0 1em}td+td{text-align:right}</style></head>
<body><h1>${title}</h1>
<p>up ${report.uptimeSeconds} s &middot; ${escapeHtml(report.ip)} netmask ${escapeHtml(report.netmask)} gateway ${escapeHtml(report.gateway)} &middot; mac ${escapeHtml(report.mac)}</p>${report.ipv6.length > 0 ? `\n<p>IPv6 ${report.ipv6.map(escapeHtml).join(' &middot; ')}</p>` : ''}
<p><a href="/status.json">status.json</a> &middot; <a href="/bytes/1048576">/bytes/1048576</a></p>
<table>
${counters}
</table></body></html>
`;
}

export function statusHandler(stack: Stack, options: StatusOptions = {}): HttpHandler {
  const startedAt = stack.clock.now();
  const name = options.name ?? 'pktstack';
  const maxBytes = options.maxBytes ?? 1024 * 1024 * 1024;
  const root = options.root ?? true;
  return (req, res, next) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    const handled = path === '/status' || path === '/status.json' || path.startsWith('/bytes/');
    if (!handled && !(root && path === '/')) {
      (next ?? (() => notFound(res)))();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    if (path.startsWith('/bytes/')) {
      sendPatternBytes(req, res, path.slice('/bytes/'.length), maxBytes);
      return;
    }
    const report = statusReport(stack, startedAt, name);
    const json = path === '/status.json';
    send(
      req,
      res,
      json ? 'application/json' : 'text/html; charset=utf-8',
      json ? JSON.stringify(report, null, 2) + '\n' : renderStatusHtml(report),
    );
  };
}

function send(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  type: string,
  text: string,
): void {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(200, {
    'content-type': type,
    'content-length': body.length,
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
