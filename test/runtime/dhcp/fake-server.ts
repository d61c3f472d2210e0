/**
 * Test helpers: build server replies byte by byte and read the client's requests back, written
 * independently of src/runtime/dhcp/wire.ts so the tests check it rather than mirror it.
 */

export interface ParsedRequest {
  op: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  chaddr: number;
  /** Option code → value bytes (first occurrence). */
  options: Map<number, Uint8Array>;
  type: number;
  length: number;
}

const u32 = (b: Uint8Array, o: number): number =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

export function ip(s: string): number {
  const p = s.split('.').map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

export function optU32(r: ParsedRequest, code: number): number | undefined {
  const v = r.options.get(code);
  return v === undefined ? undefined : u32(v, 0);
}

export function parseRequest(b: Uint8Array): ParsedRequest {
  const options = new Map<number, Uint8Array>();
  let i = 240;
  while (i < b.length && b[i] !== 255) {
    if (b[i] === 0) {
      i++;
      continue;
    }
    const n = b[i + 1];
    if (!options.has(b[i])) options.set(b[i], b.slice(i + 2, i + 2 + n));
    i += 2 + n;
  }
  if (u32(b, 236) !== 0x63825363) throw new Error('bad cookie in client message');
  return {
    op: b[0],
    xid: u32(b, 4),
    secs: (b[8] << 8) | b[9],
    flags: (b[10] << 8) | b[11],
    ciaddr: u32(b, 12),
    chaddr: ((b[28] << 8) | b[29]) * 2 ** 32 + u32(b, 30),
    options,
    type: options.get(53)?.[0] ?? -1,
    length: b.length,
  };
}

export interface ReplySpec {
  type: number;
  xid: number;
  chaddr: number;
  yiaddr?: number;
  serverId?: number;
  lease?: number;
  t1?: number;
  t2?: number;
  mask?: number;
  routers?: number[];
  dns?: number[];
  message?: string;
  /** Raw extra options appended before End (for malformed-input tests). */
  raw?: number[];
  op?: number;
}

export function buildReply(s: ReplySpec): Uint8Array {
  const opts: number[] = [53, 1, s.type];
  const addr = (code: number, list: number[]): void => {
    opts.push(code, list.length * 4);
    for (const a of list) opts.push(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
  };
  if (s.serverId !== undefined) addr(54, [s.serverId]);
  if (s.lease !== undefined) addr(51, [s.lease]);
  if (s.t1 !== undefined) addr(58, [s.t1]);
  if (s.t2 !== undefined) addr(59, [s.t2]);
  if (s.mask !== undefined) addr(1, [s.mask]);
  if (s.routers !== undefined) addr(3, s.routers);
  if (s.dns !== undefined) addr(6, s.dns);
  if (s.message !== undefined) {
    opts.push(56, s.message.length, ...Array.from(s.message, (c) => c.charCodeAt(0)));
  }
  if (s.raw !== undefined) opts.push(...s.raw);
  opts.push(255);
  const b = new Uint8Array(Math.max(300, 240 + opts.length));
  const put32 = (o: number, v: number): void => {
    b[o] = v >>> 24;
    b[o + 1] = (v >>> 16) & 255;
    b[o + 2] = (v >>> 8) & 255;
    b[o + 3] = v & 255;
  };
  b[0] = s.op ?? 2;
  b[1] = 1;
  b[2] = 6;
  put32(4, s.xid);
  put32(16, s.yiaddr ?? 0);
  const hi = Math.floor(s.chaddr / 2 ** 32);
  b[28] = hi >>> 8;
  b[29] = hi & 255;
  put32(30, s.chaddr % 2 ** 32);
  put32(236, 0x63825363);
  b.set(opts, 240);
  return b;
}
