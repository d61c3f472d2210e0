/**
 * Model expressions → TypeScript source, for the two places they run: inside a view (fields are
 * getters on `this`) and inside an encoder (fields come from the caller's object or from derived
 * locals).
 */
import type { Expr } from '../frontend/model.js';

export interface ExprContext {
  /** TypeScript for reading a field. */
  field(name: string): string;
  /** TypeScript for len(name). */
  len(name: string): string;
  /** TypeScript for count(name), an array's item count (default: the value's length on encode). */
  count?(name: string): string;
  /** TypeScript for "the caller gave field `name`" (encoders only). */
  given?(name: string): string;
}

/** Expressions over the getters of the view `v` (`this` inside a view, a local elsewhere). */
export function viewOf(v: string): ExprContext {
  return {
    field: (name) => `${v}.${name}`,
    len: (name) => `${v}.${name}Length`,
    count: (name) => `${v}.${name}Count`,
  };
}

export const viewContext: ExprContext = viewOf('this');

/** Integer arithmetic: `/` truncates like the wire formats expect (all values are >= 0). */
export function exprTs(e: Expr, ctx: ExprContext): string {
  switch (e.kind) {
    case 'num':
      return e.value > 255 ? `0x${e.value.toString(16)}` : String(e.value);
    case 'field':
      return ctx.field(e.name);
    case 'payloadLength':
      return 'payloadLength';
    case 'len':
      return ctx.len(e.name);
    case 'count':
      return ctx.count !== undefined ? ctx.count(e.name) : `f.${e.name}.length`;
    case 'not':
      return `!(${exprTs(e.operand, ctx)})`;
    case 'cond':
      return `(${exprTs(e.test, ctx)} ? ${exprTs(e.then, ctx)} : ${exprTs(e.otherwise, ctx)})`;
    case 'present': {
      const given = ctx.given;
      if (given === undefined) throw new Error('present() is only known when encoding');
      return `(${e.names.map((n) => given(n)).join(' || ')})`;
    }
    case 'in': {
      const operand = exprTs(e.operand, ctx);
      return `(${e.values.map((v) => `${operand} === ${v}`).join(' || ')})`;
    }
    case 'bin': {
      const l = exprTs(e.left, ctx);
      const r = exprTs(e.right, ctx);
      switch (e.op) {
        case '/':
          return `Math.trunc(${l} / ${r})`;
        case '==':
          return `(${l} === ${r})`;
        case '!=':
          return `(${l} !== ${r})`;
        default:
          return `(${l} ${e.op} ${r})`;
      }
    }
  }
}

/** True when the expression is the constant `n`. */
export function isConst(e: Expr, n: number): boolean {
  return e.kind === 'num' && e.value === n;
}
