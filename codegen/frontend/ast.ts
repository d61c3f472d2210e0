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
  /** null for a plain name (`u16`), a list for a call (`bits(4)`); an array's bound arguments. */
  args: AstExpr[] | null;
  /** `array(ITEM, ...)` only: a scalar type or message name, or an inline group of fields. */
  item?: AstName | AstField[];
}

export type AstAttr =
  | { kind: 'enum'; name: AstName; pos: number }
  | { kind: 'derive'; expr: AstExpr; pos: number }
  | { kind: 'checksum'; args: AstExpr[]; pos: number }
  | { kind: 'when'; expr: AstExpr; pos: number }
  | { kind: 'if'; expr: AstExpr; pos: number }
  | { kind: 'format'; name: AstName; args: AstExpr[]; pos: number }
  /** `rdata: bytes(n) select type { ... }`: the message of the spec the bytes hold. */
  | { kind: 'select'; field: AstName; cases: AstSelect['cases']; pos: number }
  /** `target: dns_name uncompressed`: its encoder never ends it in a pointer. */
  | { kind: 'uncompressed'; pos: number }
  /** `payload: payload(rest) quotes ipv6`: the region holds a packet of that spec, cut by design. */
  | { kind: 'quotes'; module: AstName; pos: number };

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
  /** `dispatch peek(T)`: the value is the payload's first bits, read as T (then no fields). */
  peek: { type: AstTypeRef; pos: number } | null;
  /** Dispatch only when this holds (an IPv4 fragment past the first holds no header). */
  when: AstExpr | null;
  cases: Array<{ values: AstValue[]; target: AstName }>;
  pos: number;
}

/** `select field { values [if cond] => Message, ... }`: the layout of the same bytes. */
export interface AstSelect {
  kind: 'select';
  field: AstName;
  cases: Array<{ values: AstValue[]; cond: AstExpr | null; target: AstName }>;
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

export type AstMember = AstField | AstAssert | AstDispatch | AstSelect | AstJson | AstDescribe;

export interface AstMessage {
  name: AstName;
  /** `endian(be, le)`: the byte orders to generate the message in; null for one, as written. */
  endian: { orders: AstName[]; pos: number } | null;
  /**
   * `message M = Base with { ... }`: the message is Base's members with these in their place
   * (`members` are then the replacements); null for a message declared in full.
   */
  derivedFrom: { base: AstName; pos: number } | null;
  members: AstMember[];
}

export type AstListMember =
  | { kind: 'field'; field: AstField }
  | { kind: 'kind'; name: AstName; pos: number }
  | {
      kind: 'length';
      name: AstName;
      unit: number | null;
      counts: 'element' | 'body' | null;
      pos: number;
    }
  | { kind: 'align'; value: number; pos: number }
  | { kind: 'lenient'; pos: number }
  | {
      kind: 'summary';
      name: AstName;
      first: boolean;
      element: AstName;
      /** null for present(Element). */
      field: AstName | null;
      max: number | null;
      pos: number;
    }
  | {
      kind: 'element';
      name: AstName;
      value: AstValue;
      end: boolean;
      /** null for a one-byte element (`NOP = 1;`). */
      body: AstField[] | null;
      pos: number;
    };

export interface AstList {
  name: AstName;
  members: AstListMember[];
}

/** `import A, B from spec;`: enums another spec declares. */
export interface AstImport {
  names: AstName[];
  from: AstName;
}

export interface AstSpec {
  file: string;
  source: string;
  imports: AstImport[];
  enums: AstEnum[];
  lists: AstList[];
  messages: AstMessage[];
}
