/**
 * The syntax tree of a .pkt file, as the Ohm semantics build it: names and positions only,
 * nothing resolved yet. Every node keeps `pos`, the character index used in error reports.
 */

export type AstExpr =
  | { kind: 'num'; value: number; pos: number }
  | { kind: 'ref'; name: string; pos: number }
  | { kind: 'member'; object: string; name: string; pos: number }
  | { kind: 'call'; name: string; args: AstExpr[]; pos: number }
  | { kind: 'bin'; op: string; left: AstExpr; right: AstExpr; pos: number }
  | { kind: 'not'; operand: AstExpr; pos: number }
  | { kind: 'in'; operand: AstExpr; values: AstValue[]; pos: number };

export type AstValue =
  { kind: 'num'; value: number; pos: number } | { kind: 'name'; name: string; pos: number };

export interface AstName {
  name: string;
  pos: number;
}

export interface AstEnum {
  name: AstName;
  base: AstName;
  members: Array<{ name: AstName; value: number; pos: number }>;
}

export interface AstTypeRef {
  name: AstName;
  /** null for a plain name (`u16`), a list for a call (`bits(4)`). */
  args: AstExpr[] | null;
}

export type AstAttr =
  | { kind: 'enum'; name: AstName; pos: number }
  | { kind: 'derive'; expr: AstExpr; pos: number }
  | { kind: 'checksum'; args: AstExpr[]; pos: number }
  | { kind: 'when'; expr: AstExpr; pos: number }
  | { kind: 'if'; expr: AstExpr; pos: number }
  | { kind: 'format'; name: AstName; args: AstExpr[]; pos: number };

export interface AstField {
  kind: 'field';
  name: AstName;
  type: AstTypeRef;
  attrs: AstAttr[];
}

export interface AstAssert {
  kind: 'assert';
  expr: AstExpr;
  code: AstName;
  at: AstName;
  pos: number;
}

export interface AstDispatch {
  kind: 'dispatch';
  fields: AstName[];
  /** Dispatch only when this holds (an IPv4 fragment past the first holds no header). */
  when: AstExpr | null;
  cases: Array<{ values: AstValue[]; target: AstName }>;
  pos: number;
}

export interface AstJson {
  kind: 'json';
  names: AstName[];
  pos: number;
}

export interface AstDescribe {
  kind: 'describe';
  template: string;
  pos: number;
}

export type AstMember = AstField | AstAssert | AstDispatch | AstJson | AstDescribe;

export interface AstMessage {
  name: AstName;
  members: AstMember[];
}

export interface AstSpec {
  file: string;
  source: string;
  enums: AstEnum[];
  messages: AstMessage[];
}
