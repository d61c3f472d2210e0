/**
 * wrap()'s body as statements, printed twice: once as the view's own wrap() and once in line in
 * FrameDecoder. The two differ only in who owns the decoded state and what a failure does, so
 * those are nodes the printer decides, never text to rewrite afterwards.
 *
 * The API (everything a construct's `validate` or the message emitter needs):
 * - `ts\`...\`` builds a `Code` fragment. Interpolate `self` where the view's state is read or
 *   written (`ts\`${self}.optionsSize = size;\``), `ref(module, name)` where a helper imported
 *   from `module` is called (the printer collects what it prints), other `Code`, strings and
 *   numbers.
 * - Statements (`Stmt`): `stmt(code)` one statement; `comment(text)`; `block(body)` a `{ }`
 *   scope; `when(cond, body)` an `if (cond) { }`; `loop(head, body)` a `for`/`while` loop; and the failure nodes, each "if `cond` holds,
 *   wrap() fails here":
 *   - `fail(cond, code, field, at)`: a DecodeError {code, field, offset `at`};
 *   - `failRegion(cond, field)`: a declared length in `size` that is negative (E_BAD_LENGTH) or
 *     runs past the window from `pos` (E_TRUNCATED);
 *   - `failFixed(cond)`: impossible arguments or a window shorter than the fixed part;
 *   - `failRecorded(cond)`: a helper already filled the view's error record (`${self}.error`).
 *   Inside the view they print as short cold calls (`this.failAt(k, at)` with k indexing a
 *   `FailureTable` of [code, field] pairs: a failure path counts toward V8's inlining budget
 *   even when cold); in FrameDecoder every failure hands over to the view's own wrap(), which
 *   repeats the checks and records exactly the error a layer-by-layer decode gives.
 * - `printView(body, table)` and `printFused(body, view, stop)` return the lines and the helpers
 *   they call.
 *
 * Statements run with `bytes`, `offset` and `length` (the window) in scope, and, for a region,
 * `pos` and `size`.
 */
import type { Import } from './constructs.js';

/** Where the view's own state is: `this` in the view, the view's local in FrameDecoder. */
export const self: unique symbol = Symbol('self');

type Part = string | typeof self | Import;

/** A TypeScript fragment whose receiver and imported names the printer resolves. */
export interface Code {
  readonly parts: readonly Part[];
}

/** An imported helper, interpolated into `ts` where it is called. */
export function ref(module: string, name: string): Import {
  return { module, name };
}

type Hole = string | number | typeof self | Import | Code;

function isCode(h: Hole): h is Code {
  return typeof h === 'object' && 'parts' in h;
}

export function ts(strings: TemplateStringsArray, ...holes: Hole[]): Code {
  const parts: Part[] = [];
  strings.forEach((s, i) => {
    if (s !== '') parts.push(s);
    if (i >= holes.length) return;
    const h = holes[i];
    if (typeof h === 'number') parts.push(String(h));
    else if (isCode(h)) parts.push(...h.parts);
    else parts.push(h);
  });
  return { parts };
}

export type Stmt =
  | { kind: 'stmt'; code: Code }
  | { kind: 'comment'; text: string }
  | { kind: 'block'; body: Stmt[] }
  | { kind: 'if'; cond: Code; body: Stmt[] }
  /** A `for (...)` / `while (...)` loop: `head` is the keyword and its parenthesized clause. */
  | { kind: 'loop'; head: Code; body: Stmt[] }
  | { kind: 'fail'; cond: Code; code: string; field: string; at: Code }
  | { kind: 'failRegion'; cond: Code; field: string }
  | { kind: 'failFixed'; cond: Code }
  | { kind: 'failRecorded'; cond: Code };

function code(c: Code | string): Code {
  return typeof c === 'string' ? { parts: [c] } : c;
}

export const stmt = (c: Code | string): Stmt => ({ kind: 'stmt', code: code(c) });
export const comment = (text: string): Stmt => ({ kind: 'comment', text });
export const block = (body: Stmt[]): Stmt => ({ kind: 'block', body });
export const when = (cond: Code | string, body: Stmt[]): Stmt => ({
  kind: 'if',
  cond: code(cond),
  body,
});
export const loop = (head: Code | string, body: Stmt[]): Stmt => ({
  kind: 'loop',
  head: code(head),
  body,
});
export const fail = (
  cond: Code | string,
  errorCode: string,
  field: string,
  at: Code | string,
): Stmt => ({
  kind: 'fail',
  cond: code(cond),
  code: errorCode,
  field,
  at: code(at),
});
export const failRegion = (cond: Code | string, field: string): Stmt => ({
  kind: 'failRegion',
  cond: code(cond),
  field,
});
export const failFixed = (cond: Code | string): Stmt => ({ kind: 'failFixed', cond: code(cond) });
export const failRecorded = (cond: Code | string): Stmt => ({
  kind: 'failRecorded',
  cond: code(cond),
});

/** A view's [code, field] failure pairs, numbered in the order wrap() (then wrapPartial()) meets them. */
export class FailureTable {
  private readonly keys: string[] = [];

  index(code: string, field: string): number {
    const key = `['${code}', '${field}']`;
    if (!this.keys.includes(key)) this.keys.push(key);
    return this.keys.indexOf(key);
  }

  /** The table's initializer, `[['E_...', 'field'], ...]`. */
  get initializer(): string {
    return `[${this.keys.join(', ')}]`;
  }
}

interface Target {
  receiver: string;
  failure(s: Extract<Stmt, { kind: `fail${string}` }>): string;
  imports: Map<string, Import>;
}

function text(c: Code, t: Target): string {
  return c.parts
    .map((p) => {
      if (typeof p === 'string') return p;
      if (p === self) return t.receiver;
      t.imports.set(`${p.module}:${p.name}`, p);
      return p.name;
    })
    .join('');
}

function print(body: Stmt[], t: Target): string[] {
  return body.flatMap((s): string[] => {
    switch (s.kind) {
      case 'stmt':
        return [text(s.code, t)];
      case 'comment':
        return [`// ${s.text}`];
      case 'block':
        return ['{', ...print(s.body, t), '}'];
      case 'if':
        return [`if (${text(s.cond, t)}) {`, ...print(s.body, t), '}'];
      case 'loop':
        return [`${text(s.head, t)} {`, ...print(s.body, t), '}'];
      default: {
        const cond = text(s.cond, t);
        // A failure that always happens where it is (inside an `if` already).
        if (cond === 'true') return [`return ${t.failure(s)};`];
        return [`if (${cond}) return ${t.failure(s)};`];
      }
    }
  });
}

/**
 * The statements of the view's wrap(): failures are cold calls indexing `table`. Also returns
 * the helpers the printed lines call.
 */
export function printView(
  body: Stmt[],
  table: FailureTable,
): { lines: string[]; imports: Import[] } {
  const t: Target = {
    receiver: 'this',
    imports: new Map(),
    failure: (s) => {
      switch (s.kind) {
        case 'fail':
          return `this.failAt(${table.index(s.code, s.field)}, ${text(s.at, t)})`;
        case 'failRegion':
          // failRegion(k) reports entry k - 1 for a negative size, entry k past the window.
          table.index('E_BAD_LENGTH', s.field);
          return `this.failRegion(${table.index('E_TRUNCATED', s.field)}, pos, size)`;
        case 'failFixed':
          return 'this.failFixed()';
        case 'failRecorded':
          return 'this.failRecorded()';
      }
    },
  };
  const lines = print(body, t);
  return { lines, imports: [...t.imports.values()] };
}

/**
 * The same statements in line in FrameDecoder, on the view in the local `view`: every failure
 * returns `stop` (which calls the view's own wrap() for the error record). Also returns the
 * helpers the printed lines call.
 */
export function printFused(
  body: Stmt[],
  view: string,
  stop: string,
): { lines: string[]; imports: Import[] } {
  const t: Target = { receiver: view, imports: new Map(), failure: () => stop };
  const lines = print(body, t);
  return { lines, imports: [...t.imports.values()] };
}
