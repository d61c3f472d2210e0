/**
 * packetdrill script text → DrillScript, with the grammar in grammar/packetdrill.ohm. Syntax
 * errors become DrillParseError at Ohm's rightmost failure, reported as `file:line:col`, the line
 * and a caret (never a stack trace).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ohm from 'ohm-js';
import { formatSourceError, lineAndColumn } from '../source-location.js';
import type {
  DrillAction,
  DrillEvent,
  DrillExpr,
  DrillScript,
  DrillTime,
  PacketAction,
  SyscallAction,
  TcpOptionSpec,
  TimePoint,
} from './ast.js';

export class DrillParseError extends Error {
  constructor(
    readonly file: string,
    readonly source: string,
    readonly index: number,
    readonly detail: string,
  ) {
    super(`${file}:${lineAndColumn(source, index).line}: ${detail}`);
    this.name = 'DrillParseError';
  }

  get line(): number {
    return lineAndColumn(this.source, this.index).line;
  }

  /** `file:line:col: message`, the line, a caret. */
  format(): string {
    return formatSourceError(this.file, this.source, this.index, this.detail);
  }
}

/** The grammar sits in grammar/ at the package root: two levels up from src/drill, three from dist/src/drill. */
function grammarPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'grammar', 'packetdrill.ohm');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('grammar/packetdrill.ohm not found above ' + import.meta.url);
}

let loaded: { grammar: ohm.Grammar; semantics: ohm.Semantics } | undefined;

function load(): { grammar: ohm.Grammar; semantics: ohm.Semantics } {
  if (loaded === undefined) {
    const grammar = ohm.grammar(readFileSync(grammarPath(), 'utf8'));
    const semantics = grammar.createSemantics();
    semantics.addOperation('ast', actions);
    loaded = { grammar, semantics };
  }
  return loaded;
}

type Node = ohm.Node;

/** Seconds as written ("0.200", ".1", "2") → integer microseconds, without float drift. */
export function usecsOf(text: string): number {
  const [whole, frac = ''] = text.split('.');
  const micro = (frac + '000000').slice(0, 6);
  const rest = frac.length > 6 ? Number('0.' + frac.slice(6)) : 0;
  return Number(whole === '' ? '0' : whole) * 1_000_000 + Number(micro) + Math.round(rest);
}

/** C string escapes (`\\n`, `\\xf7`, `\\0`, `\\"`): scripts pass binary keys as strings. */
function unescapeC(body: string): string {
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0' };
  return body.replace(/\\(x[0-9a-fA-F]{1,2}|.)/g, (_m, e: string) =>
    e.startsWith('x') && e.length > 1
      ? String.fromCharCode(parseInt(e.slice(1), 16))
      : (simple[e] ?? e),
  );
}

function untimed(action: Node): DrillEvent {
  const index = action.source.startIdx;
  return {
    line: lineAndColumn(action.source.sourceString, index).line,
    index,
    time: { kind: 'point', at: { relative: true, usecs: 0 } },
    action: action.ast() as DrillAction,
  };
}

const actions: ohm.ActionDict<unknown> = {
  Script(headers: Node, events: Node, _end: Node) {
    const options: DrillScript['options'] = [];
    const defines: DrillScript['defines'] = [];
    for (const h of headers.children) {
      const value = h.ast() as { define: boolean; name: string; value: string };
      const line = lineAndColumn(h.source.sourceString, h.source.startIdx).line;
      (value.define ? defines : options).push({ name: value.name, value: value.value, line });
    }
    return { options, defines, events: events.children.map((e) => e.ast() as DrillEvent) };
  },
  Header(h: Node) {
    return h.ast();
  },
  option(_dashes: Node, name: Node, _eq: Node, value: Node) {
    return {
      define: false,
      name: name.sourceString,
      value: value.sourceString.replace(/^=/, '').trim(),
    };
  },
  define(_d: Node, _sp: Node, name: Node, _eq: Node, value: Node) {
    return {
      define: true,
      name: name.sourceString,
      value: value.sourceString.replace(/^=/, '').trim(),
    };
  },
  Event_command(action: Node): DrillEvent {
    return untimed(action);
  },
  Event_code(action: Node): DrillEvent {
    return untimed(action);
  },
  Event_timed(time: Node, action: Node): DrillEvent {
    const index = time.source.startIdx;
    return {
      line: lineAndColumn(time.source.sourceString, index).line,
      index,
      time: time.ast() as DrillTime,
      action: action.ast() as DrillAction,
    };
  },
  Time_any(_star: Node): DrillTime {
    return { kind: 'any' };
  },
  Time_range(from: Node, _tilde: Node, to: Node): DrillTime {
    return { kind: 'range', from: from.ast() as TimePoint, to: to.ast() as TimePoint };
  },
  Time_point(at: Node): DrillTime {
    return { kind: 'point', at: at.ast() as TimePoint };
  },
  TimePoint(p: Node) {
    const text = p.sourceString;
    return text.startsWith('+')
      ? { relative: true, usecs: usecsOf(text.slice(1)) }
      : { relative: false, usecs: usecsOf(text) };
  },
  Action(a: Node) {
    return a.ast();
  },
  Command(c: Node) {
    const text = c.sourceString;
    return { type: 'command', command: text.slice(1, -1).trim() };
  },
  Code(c: Node) {
    const text = c.sourceString;
    return { type: 'code', code: text.slice(2, -2) };
  },
  Packet(
    direction: Node,
    ipInfo: Node,
    flags: Node,
    seq: Node,
    ack: Node,
    win: Node,
    urg: Node,
    options: Node,
  ): PacketAction {
    const [start, end, length] = seq.ast() as [number, number, number];
    const opt = <T>(n: Node): T | null =>
      n.children.length > 0 ? (n.children[0].ast() as T) : null;
    return {
      type: 'packet',
      direction: direction.sourceString as '<' | '>',
      ipInfo:
        ipInfo.children.length > 0 ? ipInfo.children[0].children[1].sourceString.trim() : null,
      flags: flags.sourceString === '-' ? '' : flags.sourceString,
      seq: start,
      end,
      length,
      ack: opt<number>(ack),
      win: opt<number>(win),
      urg: opt<number>(urg),
      options: opt<TcpOptionSpec[] | 'any'>(options),
    };
  },
  IcmpPacket(direction: Node, _k: Node, words: Node, mtu: Node, quote: Node) {
    return {
      type: 'icmp',
      direction: direction.sourceString,
      words: words.children.map((w) => w.sourceString),
      mtu: mtu.children.length > 0 ? mtu.children[0].children[1].ast() : null,
      quote: quote.children.length > 0 ? quote.children[0].children[1].ast() : null,
    };
  },
  Seq(a: Node, _c: Node, b: Node, _o: Node, len: Node, _cl: Node) {
    return [a.ast(), b.ast(), len.ast()];
  },
  Ack(_k: Node, n: Node) {
    return n.ast();
  },
  Win(_k: Node, n: Node) {
    return n.ast();
  },
  Urg(_k: Node, n: Node) {
    return n.ast();
  },
  TcpOptions_any(_o: Node, _e: Node, _c: Node) {
    return 'any';
  },
  TcpOptions_list(_o: Node, list: Node, _c: Node) {
    return list.asIteration().children.map((c) => c.ast());
  },
  TcpOption_nop(_k: Node) {
    return { kind: 'nop' };
  },
  TcpOption_eol(_k: Node) {
    return { kind: 'eol' };
  },
  TcpOption_mss(_k: Node, n: Node) {
    return { kind: 'mss', value: n.ast() };
  },
  TcpOption_wscale(_k: Node, n: Node) {
    return { kind: 'wscale', shift: n.ast() };
  },
  TcpOption_sackOK(_k: Node) {
    return { kind: 'sackOK' };
  },
  TcpOption_sack(_k: Node, blocks: Node) {
    return { kind: 'sack', blocks: blocks.children.map((b) => b.ast()) };
  },
  TcpOption_ts(_k: Node, _v: Node, val: Node, _e: Node, ecr: Node) {
    return { kind: 'ts', val: val.ast(), ecr: ecr.ast() };
  },
  TcpOption_fo(_k: Node, cookie: Node) {
    return { kind: 'fo', cookie: cookie.sourceString };
  },
  TcpOption_foexp(_k: Node, cookie: Node) {
    return { kind: 'foexp', cookie: cookie.sourceString };
  },
  TcpOption_md5(_k: Node, digest: Node) {
    return { kind: 'md5', digest: digest.sourceString };
  },
  SackBlock(a: Node, _c: Node, b: Node) {
    return [a.ast(), b.ast()];
  },
  Syscall(
    blocking: Node,
    name: Node,
    _o: Node,
    args: Node,
    _c: Node,
    _eq: Node,
    result: Node,
    errno: Node,
    note: Node,
  ): SyscallAction {
    return {
      type: 'syscall',
      name: name.sourceString,
      args: args.asIteration().children.map((a) => a.ast() as DrillExpr),
      result: result.ast() as DrillExpr,
      errno: errno.children.length > 0 ? errno.sourceString : null,
      note: note.children.length > 0 ? note.children[0].children[1].sourceString : null,
      blockingUntil: blocking.children.length > 0 ? (blocking.children[0].ast() as number) : null,
    };
  },
  Blocking(_e: Node, n: Node) {
    return usecsOf(n.sourceString);
  },
  Expr_binary(left: Node, op: Node, right: Node): DrillExpr {
    return {
      kind: 'binary',
      op: op.sourceString,
      left: left.ast() as DrillExpr,
      right: right.ast() as DrillExpr,
    };
  },
  Unary_neg(_m: Node, e: Node): DrillExpr {
    const inner = e.ast() as DrillExpr;
    if (inner.kind === 'int') return { kind: 'int', value: -inner.value };
    return { kind: 'unary', op: '-', operand: inner };
  },
  Unary_not(_m: Node, e: Node): DrillExpr {
    return { kind: 'unary', op: '!', operand: e.ast() as DrillExpr };
  },
  Atom_ellipsis(_e: Node): DrillExpr {
    return { kind: 'ellipsis' };
  },
  Atom_paren(_o: Node, e: Node, _c: Node) {
    return e.ast();
  },
  Atom_array(_o: Node, items: Node, _c: Node): DrillExpr {
    return { kind: 'array', items: items.asIteration().children.map((i) => i.ast() as DrillExpr) };
  },
  Atom_struct(_o: Node, fields: Node, _c: Node): DrillExpr {
    return {
      kind: 'struct',
      fields: fields
        .asIteration()
        .children.map((f) => f.ast() as { name: string | null; value: DrillExpr }),
    };
  },
  Atom_call(name: Node, _o: Node, args: Node, _c: Node): DrillExpr {
    return {
      kind: 'call',
      name: name.sourceString,
      args: args.asIteration().children.map((a) => a.ast() as DrillExpr),
    };
  },
  Atom_string(s: Node): DrillExpr {
    return { kind: 'string', value: unescapeC(s.sourceString.slice(1, -1)) };
  },
  Atom_hex(h: Node): DrillExpr {
    return { kind: 'int', value: Number(h.sourceString) };
  },
  Atom_number(n: Node): DrillExpr {
    return { kind: 'int', value: Number(n.sourceString) };
  },
  Atom_ident(i: Node): DrillExpr {
    return { kind: 'ident', name: i.sourceString };
  },
  Field_named(name: Node, _eq: Node, value: Node) {
    return { name: name.sourceString.replace(/\s+/g, ''), value: value.ast() };
  },
  Field_positional(value: Node) {
    return { name: null, value: value.ast() };
  },
  int(_d: Node) {
    return Number(this.sourceString);
  },
};

/** Parses one script; throws DrillParseError on a syntax error. */
export function parseDrill(source: string, file = '<script>'): DrillScript {
  const { grammar, semantics } = load();
  const match = grammar.match(source);
  if (match.failed()) {
    const index = match.getRightmostFailurePosition();
    const expected = match.getExpectedText();
    throw new DrillParseError(file, source, index, `syntax error: expected ${expected}`);
  }
  const parsed = semantics(match).ast() as Omit<DrillScript, 'file' | 'source'>;
  return { file, source, ...parsed };
}
