/**
 * The POSIX-style side of the packetdrill interpreter: an fd table over the TCP layer and the
 * system calls the portable scripts use. A call either completes (a result, maybe an errno) or
 * would block; the interpreter retries blocked calls as virtual time moves.
 */
import type { DrillExpr } from './ast.js';
import { DrillSocket } from './socket.js';
import type { TcpConfig } from '../fsm/tcp.js';
import type { TcpLayer, TcpServer } from '../runtime/tcp/layer.js';
import type { TcpSocket } from '../runtime/tcp/socket.js';

/** Linux's values, so scripts' symbols and errno names mean what they mean there. */
export const SYMBOLS: Record<string, number> = {
  AF_INET: 2,
  AF_INET6: 10,
  PF_INET: 2,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  IPPROTO_TCP: 6,
  IPPROTO_IP: 0,
  SOL_SOCKET: 1,
  SOL_TCP: 6,
  SO_REUSEADDR: 2,
  SO_ERROR: 4,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  SO_KEEPALIVE: 9,
  SO_LINGER: 13,
  TCP_NODELAY: 1,
  TCP_MAXSEG: 2,
  TCP_KEEPIDLE: 4,
  TCP_KEEPINTVL: 5,
  TCP_KEEPCNT: 6,
  TCP_SYNCNT: 7,
  TCP_LINGER2: 8,
  TCP_DEFER_ACCEPT: 9,
  TCP_INFO: 11,
  TCP_CONGESTION: 13,
  TCP_USER_TIMEOUT: 18,
  O_RDONLY: 0,
  O_WRONLY: 1,
  O_RDWR: 2,
  O_NONBLOCK: 0o4000,
  F_GETFL: 3,
  F_SETFL: 4,
  SHUT_RD: 0,
  SHUT_WR: 1,
  SHUT_RDWR: 2,
  SIOCINQ: 0x541b,
  FIONREAD: 0x541b,
  SIOCOUTQ: 0x5411,
  POLLIN: 1,
  POLLPRI: 2,
  POLLOUT: 4,
  POLLERR: 8,
  POLLHUP: 16,
  POLLNVAL: 32,
  POLLRDNORM: 64,
  POLLWRNORM: 256,
  POLLRDHUP: 0x2000,
  MSG_DONTWAIT: 0x40,
  MSG_PEEK: 2,
  MSG_WAITALL: 0x100,
  MSG_NOSIGNAL: 0x4000,
  MSG_MORE: 0x8000,
  MSG_ZEROCOPY: 0x4000000,
  MSG_FASTOPEN: 0x20000000,
};

export const ERRNO: Record<string, number> = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EBADF: 9,
  EAGAIN: 11,
  EWOULDBLOCK: 11,
  EFAULT: 14,
  EINVAL: 22,
  EPIPE: 32,
  ENOTSOCK: 88,
  ENOPROTOOPT: 92,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
};

/** The script asked for something the interpreter does not model: the script is skipped. */
export class DrillSkip extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DrillSkip';
  }
}

/** A call's outcome: `result` and, for -1, the errno name. */
export interface CallResult {
  result: number;
  errno: string | null;
  /** Values written through pointer arguments (getsockopt, ioctl, poll revents), for checks. */
  out?: number[];
}

const ok = (result: number, out?: number[]): CallResult => ({ result, errno: null, out });
const fail = (errno: string): CallResult => ({ result: -1, errno });

interface FdSocket {
  nonblock: boolean;
  port: number;
  server: TcpServer | null;
  backlog: DrillSocket[];
  sock: DrillSocket | null;
  shutRd: boolean;
  shutWr: boolean;
  /** Bytes a blocking write has handed over so far. */
  writeDone: number;
  /** SO_SNDBUF / SO_RCVBUF as getsockopt reports them. */
  sndBuf: number;
  rcvBuf: number;
  /** TCP_MAXSEG as set (null: not set). */
  userMss?: number;
  /** Options that shape the fd's connection, kept here until it has one. */
  opts: SockOpts;
}

/**
 * Per-socket options as Linux keeps them: set on any fd, applied to its connection once there
 * is one, and inherited by connections a listener accepts. Times in the units of the option.
 */
interface SockOpts {
  keepAlive: boolean;
  /** TCP_KEEPIDLE, TCP_KEEPINTVL (seconds), TCP_KEEPCNT. */
  keepIdle: number;
  keepIntvl: number;
  keepCnt: number;
  /** TCP_USER_TIMEOUT, ms (0: off). */
  userTimeout: number;
  /** TCP_SYNCNT. */
  synCnt: number;
  /** SO_LINGER on with a zero timeout: close() resets. */
  lingerAbort: boolean;
  congestion: TcpConfig['congestion'];
}

/** A new socket's options: the layer's configuration (the sysctls the script set), in the option's units. */
function defaultOpts(c: TcpConfig): SockOpts {
  return {
    keepAlive: false,
    keepIdle: c.keepIdle / 1000,
    keepIntvl: c.keepInterval / 1000,
    keepCnt: c.keepCount,
    userTimeout: 0,
    synCnt: c.synRetries,
    lingerAbort: false,
    congestion: c.congestion,
  };
}

/** Hands an fd's options to its connection (now, or as soon as it has one). */
function applyOpts(f: FdSocket): void {
  if (f.sock === null || f.sock.closedByStack) return;
  const o = f.opts;
  f.sock.drillBackend.configure((conn, now) => {
    conn.keepInterval = o.keepIntvl * 1000;
    conn.keepCount = o.keepCnt;
    conn.synRetries = o.synCnt;
    conn.setUserTimeout(o.userTimeout, now);
    conn.setCongestion(o.congestion);
    conn.setKeepAlive(o.keepAlive, o.keepIdle * 1000, now);
  });
}

/** Linux's floors for SO_SNDBUF and SO_RCVBUF (SOCK_MIN_SNDBUF, SOCK_MIN_RCVBUF, 64-bit). */
const LINUX_MIN_SNDBUF = 4608;
const LINUX_MIN_RCVBUF = 2304;

const BUFFER_CALLS = new Set(['read', 'write', 'send', 'recv', 'sendto', 'recvfrom']);

export const REMOTE_PORT = 8080;
export const LOCAL_PORT = 8080;

/** Evaluates an argument expression to a number (symbols, `|`, `-`), or throws DrillSkip. */
export function evalInt(e: DrillExpr): number {
  switch (e.kind) {
    case 'int':
      return e.value;
    case 'ident': {
      const v = SYMBOLS[e.name];
      if (v === undefined) throw new DrillSkip(`unknown symbol ${e.name}`);
      return v;
    }
    case 'binary': {
      const l = evalInt(e.left);
      const r = evalInt(e.right);
      if (e.op === '|') return l | r;
      if (e.op === '&') return l & r;
      if (e.op === '<<') return l << r;
      return l >> r;
    }
    case 'unary':
      return e.op === '-' ? -evalInt(e.operand) : evalInt(e.operand) === 0 ? 1 : 0;
    case 'array':
      if (e.items.length === 1) return evalInt(e.items[0]);
      throw new DrillSkip('an array where a number was expected');
    case 'call':
      if (e.name === 'htons' || e.name === 'htonl') return evalInt(e.args[0]);
      throw new DrillSkip(`function ${e.name}() in an argument`);
    default:
      throw new DrillSkip(`argument ${e.kind} not supported`);
  }
}

export class FdTable {
  private readonly fds = new Map<number, FdSocket>();
  private readonly zeros = new Uint8Array(64 * 1024);

  constructor(
    private readonly tcp: TcpLayer,
    private readonly remoteIp: number,
  ) {}

  /** Every live socket (for tcp_info and the end of the run). */
  sockets(): DrillSocket[] {
    const out: DrillSocket[] = [];
    for (const f of this.fds.values()) if (f.sock !== null) out.push(f.sock);
    return out;
  }

  socketOf(fd: number): DrillSocket | null {
    return this.fds.get(fd)?.sock ?? null;
  }

  /**
   * The fd a new socket gets: the one the script expects when it is free (packetdrill maps
   * script fds onto live ones the same way, so a script may start at 4), else the lowest.
   */
  private newFd(want: number | null): number {
    if (want !== null && want >= 3 && !this.fds.has(want)) return want;
    let fd = 3;
    while (this.fds.has(fd)) fd++;
    return fd;
  }

  private get(fd: number): FdSocket {
    const f = this.fds.get(fd);
    if (f === undefined) throw new CallError('EBADF');
    return f;
  }

  /**
   * Runs one call: a result, or null when it would block (call again later). `wantFd` is the
   * fd the script expects socket() or accept() to return, if it names one.
   */
  call(
    name: string,
    args: DrillExpr[],
    started: boolean,
    wantFd: number | null = null,
  ): CallResult | null {
    try {
      return this.dispatch(name, args, started, wantFd);
    } catch (e) {
      if (e instanceof CallError) return fail(e.errno);
      throw e;
    }
  }

  private dispatch(
    name: string,
    args: DrillExpr[],
    started: boolean,
    wantFd: number | null,
  ): CallResult | null {
    const a = (i: number): number => evalInt(args[i]);
    // Data moves as counts: an explicit buffer (a bad pointer for EFAULT, bytes to compare) is
    // outside what the fd table models.
    if (BUFFER_CALLS.has(name) && args.length > 1 && args[1].kind !== 'ellipsis')
      throw new DrillSkip(`${name}() with an explicit buffer`);
    switch (name) {
      case 'socket': {
        if (a(1) !== SYMBOLS.SOCK_STREAM) throw new DrillSkip('only SOCK_STREAM sockets');
        const fd = this.newFd(wantFd);
        this.fds.set(fd, {
          nonblock: false,
          port: 0,
          server: null,
          backlog: [],
          sock: null,
          shutRd: false,
          shutWr: false,
          writeDone: 0,
          sndBuf: this.tcp.config.sndBuf,
          rcvBuf: this.tcp.config.rcvBuf,
          opts: defaultOpts(this.tcp.config),
        });
        return ok(fd);
      }
      case 'bind': {
        const f = this.get(a(0));
        if (args[1].kind !== 'ellipsis') throw new DrillSkip('bind to an explicit address');
        f.port = LOCAL_PORT;
        return ok(0);
      }
      case 'listen': {
        const f = this.get(a(0));
        if (f.server === null) {
          f.server = this.tcp.listen(f.port === 0 ? LOCAL_PORT : f.port, (s) => {
            f.backlog.push(asDrill(s));
          });
        }
        return ok(0);
      }
      case 'accept': {
        const f = this.get(a(0));
        if (f.server === null) return fail('EINVAL');
        const s = f.backlog.shift();
        if (s === undefined) return f.nonblock ? fail('EAGAIN') : null;
        const fd = this.newFd(wantFd);
        this.fds.set(fd, {
          nonblock: false,
          port: f.port,
          server: null,
          backlog: [],
          sock: s,
          shutRd: false,
          shutWr: false,
          writeDone: 0,
          sndBuf: this.tcp.config.sndBuf,
          rcvBuf: this.tcp.config.rcvBuf,
          opts: { ...f.opts },
        });
        applyOpts(this.get(fd));
        return ok(fd);
      }
      case 'connect': {
        const f = this.get(a(0));
        if (f.sock === null) {
          if (args[1].kind !== 'ellipsis') throw new DrillSkip('connect to an explicit address');
          f.sock = asDrill(this.tcp.connect({ host: this.remoteIp, port: REMOTE_PORT }));
          applyOpts(f);
          if (f.nonblock) return fail('EINPROGRESS');
        } else if (!started) {
          if (f.sock.connected) return fail('EISCONN');
          if (f.sock.error !== null) return fail(this.takeError(f.sock));
          return fail('EALREADY');
        }
        if (f.sock.connected) return ok(0);
        if (f.sock.error !== null) return fail(this.takeError(f.sock));
        return null;
      }
      case 'send':
      case 'sendto':
        // Flags beyond "don't raise SIGPIPE" (Fast Open, MSG_MORE, zero-copy) are Linux APIs.
        if (args.length > 3 && (a(3) & ~SYMBOLS.MSG_NOSIGNAL) !== 0)
          throw new DrillSkip(`${name}() flags ${exprText(args[3])}`);
        return this.write(this.get(a(0)), a(2), started);
      case 'write':
        return this.write(this.get(a(0)), a(2), started);
      case 'read':
      case 'recv':
      case 'recvfrom':
        return this.read(this.get(a(0)), a(2));
      case 'close': {
        const fd = a(0);
        const f = this.get(fd);
        this.fds.delete(fd);
        if (f.server !== null) f.server.close();
        for (const s of f.backlog) s.drillBackend.release(true);
        // Unread data (RFC 2525 §2.17) or SO_LINGER with a zero timeout: reset, not close.
        if (f.sock !== null && !f.sock.closedByStack)
          f.sock.drillBackend.release(f.sock.unreadBytes > 0 || f.opts.lingerAbort);
        return ok(0);
      }
      case 'shutdown': {
        const f = this.get(a(0));
        const how = a(1);
        if (f.sock === null || !f.sock.connected) return fail('ENOTCONN');
        if (how === SYMBOLS.SHUT_RD || how === SYMBOLS.SHUT_RDWR) f.shutRd = true;
        if ((how === SYMBOLS.SHUT_WR || how === SYMBOLS.SHUT_RDWR) && !f.shutWr) {
          f.shutWr = true;
          if (!f.sock.closedByStack) f.sock.drillBackend.end();
        }
        return ok(0);
      }
      case 'fcntl': {
        const f = this.get(a(0));
        const cmd = a(1);
        if (cmd === SYMBOLS.F_SETFL) {
          f.nonblock = (a(2) & SYMBOLS.O_NONBLOCK) !== 0;
          return ok(0);
        }
        if (cmd === SYMBOLS.F_GETFL)
          return ok(SYMBOLS.O_RDWR | (f.nonblock ? SYMBOLS.O_NONBLOCK : 0));
        throw new DrillSkip(`fcntl command ${cmd}`);
      }
      case 'setsockopt':
        return this.setsockopt(this.get(a(0)), a(1), args[2], args[3]);
      case 'getsockopt':
        return this.getsockopt(this.get(a(0)), a(1), args[2]);
      case 'ioctl': {
        const f = this.get(a(0));
        const req = a(1);
        if (req === SYMBOLS.SIOCINQ) return ok(0, [f.sock?.unreadBytes ?? 0]);
        if (req === SYMBOLS.SIOCOUTQ) return ok(0, [f.sock?.connection?.sendQueued ?? 0]);
        throw new DrillSkip(`ioctl request ${req}`);
      }
      default:
        throw new DrillSkip(`system call ${name}() is not modelled`);
    }
  }

  private takeError(s: DrillSocket): string {
    const e = s.error ?? 'EPIPE';
    s.error = null;
    return e;
  }

  private write(f: FdSocket, length: number, started: boolean): CallResult | null {
    const s = f.sock;
    if (s === null) return fail(f.server === null ? 'EPIPE' : 'ENOTCONN');
    if (!started) f.writeDone = 0;
    if (s.error !== null) return fail(this.takeError(s));
    if (f.shutWr || s.failed || s.closedByStack) return fail('EPIPE');
    if (!s.connected) return f.nonblock ? fail('EAGAIN') : null;
    while (f.writeDone < length) {
      const chunk = Math.min(length - f.writeDone, this.zeros.length);
      const n = s.drillBackend.send(this.zeros, 0, chunk);
      f.writeDone += n;
      if (n < chunk) break;
    }
    if (f.writeDone === length) return ok(length);
    if (f.nonblock) return f.writeDone > 0 ? ok(f.writeDone) : fail('EAGAIN');
    return null;
  }

  private read(f: FdSocket, length: number): CallResult | null {
    const s = f.sock;
    if (s === null) return fail('ENOTCONN');
    if (s.unreadBytes > 0) return ok(s.consume(length));
    if (s.error !== null) return fail(this.takeError(s));
    if (s.remoteFinished || f.shutRd || s.failed) return ok(0);
    return f.nonblock ? fail('EAGAIN') : null;
  }

  private setsockopt(f: FdSocket, level: number, opt: DrillExpr, arg: DrillExpr): CallResult {
    const name = opt.kind === 'ident' ? opt.name : String(evalInt(opt));
    if (level === SYMBOLS.SOL_SOCKET && name === 'SO_LINGER') {
      const field = (n: string): number => {
        const v = arg.kind === 'struct' ? arg.fields.find((x) => x.name === n) : undefined;
        if (v === undefined) throw new DrillSkip('SO_LINGER without {onoff=..., linger=...}');
        return evalInt(v.value);
      };
      const on = field('onoff') !== 0;
      // A positive linger makes close() block until the FIN is acknowledged: not modelled.
      if (on && field('linger') > 0) throw new DrillSkip('SO_LINGER with a timeout');
      f.opts.lingerAbort = on;
      return ok(0);
    }
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_CONGESTION') {
      if (arg.kind !== 'string') throw new DrillSkip('TCP_CONGESTION without a name');
      if (arg.value !== 'cubic' && arg.value !== 'reno') return fail('ENOENT');
      f.opts.congestion = arg.value === 'reno' ? 'newreno' : 'cubic';
      applyOpts(f);
      return ok(0);
    }
    const value = evalInt(arg);
    const keep = (set: (o: SockOpts) => void, valid = value >= 1): CallResult => {
      if (!valid) return fail('EINVAL');
      set(f.opts);
      applyOpts(f);
      return ok(0);
    };
    if (level === SYMBOLS.SOL_SOCKET && name === 'SO_KEEPALIVE')
      return keep((o) => (o.keepAlive = value !== 0), true);
    // Linux's bounds: MAX_TCP_KEEPIDLE/KEEPINTVL 32767 s, MAX_TCP_KEEPCNT 127, MAX_TCP_SYNCNT 127.
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_KEEPIDLE')
      return keep((o) => (o.keepIdle = value), value >= 1 && value <= 32767);
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_KEEPINTVL')
      return keep((o) => (o.keepIntvl = value), value >= 1 && value <= 32767);
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_KEEPCNT')
      return keep((o) => (o.keepCnt = value), value >= 1 && value <= 127);
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_SYNCNT')
      return keep((o) => (o.synCnt = value), value >= 1 && value <= 127);
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_USER_TIMEOUT')
      return keep((o) => (o.userTimeout = value), value >= 0);
    if (level === SYMBOLS.SOL_SOCKET && name === 'SO_REUSEADDR') return ok(0);
    // Buffer sizes and the MSS shape connections made later: the script's one flow takes them
    // from the layer's configuration, so they are accepted only before it exists.
    const before = (apply: (c: TcpConfig) => void): CallResult => {
      if (f.sock !== null || this.tcp.stats().connections > 0)
        throw new DrillSkip(`setsockopt ${name} on a connected socket`);
      apply(this.tcp.config);
      return ok(0);
    };
    if (level === SYMBOLS.SOL_SOCKET && name === 'SO_SNDBUF') {
      // Linux doubles the value for bookkeeping overhead and reports the doubled size.
      const size = Math.max(2 * value, LINUX_MIN_SNDBUF);
      const conn = f.sock?.connection ?? null;
      if (conn !== null) {
        conn.sendBuffer.resize(size);
        f.sndBuf = size;
        return ok(0);
      }
      f.sndBuf = size;
      return before((c) => (c.sndBuf = size));
    }
    if (level === SYMBOLS.SOL_SOCKET && name === 'SO_RCVBUF') {
      f.rcvBuf = Math.max(2 * value, LINUX_MIN_RCVBUF);
      return before((c) => (c.rcvBuf = f.rcvBuf));
    }
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_LINGER2') {
      // Connections read the layer's configuration when they need the value, so this reaches
      // the script's flow; with more than one connection it would reach the others too.
      if (this.tcp.stats().connections > 1)
        throw new DrillSkip('TCP_LINGER2 with several connections');
      if (value > 0) this.tcp.config.finWait2Timeout = value * 1000;
      return ok(0);
    }
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_MAXSEG') {
      if (value < 88 || value > 65535) return fail('EINVAL');
      f.userMss = value;
      return before((c) => (c.mss = Math.min(c.mss, value)));
    }
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_NODELAY') {
      f.sock?.drillBackend.setNoDelay(value !== 0);
      return ok(0);
    }
    throw new DrillSkip(`setsockopt ${name} is not modelled`);
  }

  private getsockopt(f: FdSocket, level: number, opt: DrillExpr): CallResult {
    const name = opt.kind === 'ident' ? opt.name : String(evalInt(opt));
    if (level === SYMBOLS.SOL_SOCKET && name === 'SO_ERROR') {
      const e = f.sock?.error ?? null;
      if (f.sock !== null && e !== null) f.sock.error = null;
      return ok(0, [e === null ? 0 : ERRNO[e]]);
    }
    if (level === SYMBOLS.SOL_SOCKET && name === 'SO_SNDBUF') return ok(0, [f.sndBuf]);
    const o = f.opts;
    if (level === SYMBOLS.SOL_SOCKET && name === 'SO_KEEPALIVE')
      return ok(0, [o.keepAlive ? 1 : 0]);
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_KEEPIDLE') return ok(0, [o.keepIdle]);
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_KEEPINTVL') return ok(0, [o.keepIntvl]);
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_KEEPCNT') return ok(0, [o.keepCnt]);
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_SYNCNT') return ok(0, [o.synCnt]);
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_USER_TIMEOUT') return ok(0, [o.userTimeout]);
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_NODELAY')
      return ok(0, [f.sock?.connection?.noDelay === true ? 1 : 0]);
    if (level === SYMBOLS.SOL_SOCKET && name === 'SO_RCVBUF') return ok(0, [f.rcvBuf]);
    if (level === SYMBOLS.SOL_TCP && name === 'TCP_MAXSEG') {
      const conn = f.sock?.connection ?? null;
      // Before a connection: the user's MSS, else TCP_MSS_DEFAULT (536), as Linux reports.
      return ok(0, [conn === null ? (f.userMss ?? 536) : conn.effMss]);
    }
    throw new DrillSkip(`getsockopt ${name} is not modelled`);
  }
}

class CallError extends Error {
  constructor(readonly errno: string) {
    super(errno);
  }
}

function exprText(e: DrillExpr): string {
  if (e.kind === 'ident') return e.name;
  if (e.kind === 'binary') return `${exprText(e.left)}${e.op}${exprText(e.right)}`;
  return e.kind === 'int' ? String(e.value) : e.kind;
}

/** The layer's socketFactory makes every socket a DrillSocket; anything else is a wiring bug. */
function asDrill(s: TcpSocket): DrillSocket {
  if (!(s instanceof DrillSocket))
    throw new Error('the TCP layer is not using the drill socket factory');
  return s;
}
