/**
 * Text → syntax tree: the grammar in grammar/packet.ohm plus Ohm semantics that build AstSpec.
 * Syntax errors become SpecError at Ohm's rightmost failure position.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ohm from 'ohm-js';
import { SpecError } from '../spec-error.js';
import type {
  AstAttr,
  AstEnum,
  AstImport,
  AstExpr,
  AstField,
  AstMember,
  AstMessage,
  AstName,
  AstSpec,
  AstTypeRef,
  AstValue,
  AstList,
} from './ast.js';
import { listActions } from './parse-list.js';

const GRAMMAR_PATH = fileURLToPath(new URL('../../grammar/packet.ohm', import.meta.url));

let grammar: ohm.Grammar | undefined;
let semantics: ohm.Semantics | undefined;

function load(): { grammar: ohm.Grammar; semantics: ohm.Semantics } {
  if (grammar === undefined || semantics === undefined) {
    grammar = ohm.grammar(readFileSync(GRAMMAR_PATH, 'utf8'));
    semantics = grammar.createSemantics();
    semantics.addOperation('ast', actions);
  }
  return { grammar, semantics };
}

type Node = ohm.Node;

export function ast<T>(node: Node): T {
  return (node as unknown as { ast(): T }).ast();
}

export function pos(node: Node): number {
  return node.source.startIdx;
}

export function name(node: Node): AstName {
  return { name: node.sourceString, pos: pos(node) };
}

export function parseNumber(text: string): number {
  return text.startsWith('0x') ? parseInt(text.slice(2), 16) : parseInt(text, 10);
}

function listOf<T>(node: Node): T[] {
  return node.asIteration().children.map((c) => ast<T>(c));
}

const actions: ohm.ActionDict<unknown> = {
  Spec(items): Omit<AstSpec, 'file' | 'source'> {
    const enums: AstEnum[] = [];
    const messages: AstMessage[] = [];
    const lists: AstList[] = [];
    const imports: AstImport[] = [];
    for (const child of items.children) {
      const item = ast<AstEnum | AstMessage | (AstList & { list: true }) | AstImport>(child);
      if ('from' in item) imports.push(item);
      else if ('base' in item) enums.push(item);
      else if ('list' in item) lists.push(item);
      else messages.push(item);
    }
    return { imports, enums, lists, messages };
  },
  ...listActions,
  Item(inner) {
    return ast(inner);
  },
  ImportDecl(_kw, names, _from, spec, _semi): AstImport {
    return { names: names.asIteration().children.map(name), from: name(spec) };
  },
  EnumDecl(_kw, ident, _colon, base, _open, members, _comma, _close): AstEnum {
    return { name: name(ident), base: name(base), members: listOf(members) };
  },
  EnumMember(ident, _eq, value) {
    return { name: name(ident), value: parseNumber(value.sourceString), pos: pos(ident) };
  },
  MessageDecl(_kw, ident, endian, _open, members, _close): AstMessage {
    return {
      name: name(ident),
      endian:
        endian.children.length === 0
          ? null
          : ast<NonNullable<AstMessage['endian']>>(endian.children[0]),
      derivedFrom: null,
      members: members.children.map((m) => ast<AstMember>(m)),
    };
  },
  DerivedDecl(_kw, ident, _eq, base, withKw, _open, members, _close): AstMessage {
    return {
      name: name(ident),
      endian: null,
      derivedFrom: { base: name(base), pos: pos(withKw) },
      members: members.children.map((m) => ast<AstMember>(m)),
    };
  },
  Endian(kw, _open, orders, _close): NonNullable<AstMessage['endian']> {
    return { orders: orders.asIteration().children.map(name), pos: pos(kw) };
  },
  Member(inner) {
    return ast(inner);
  },
  FieldDecl(ident, _colon, type, attrs, _semi): AstMember {
    return {
      kind: 'field',
      name: name(ident),
      type: ast<AstTypeRef>(type),
      attrs: attrs.children.map((a) => ast<AstAttr>(a)),
    };
  },
  TypeRef_array(kw, _open, item, _comma, bound, _close): AstTypeRef {
    const i = item.children[0];
    return {
      name: name(kw),
      args: ast<AstExpr[]>(bound),
      item:
        i.ctorName === 'ArrayItem_name'
          ? name(i.children[0])
          : i.children[1].children.map((f) => ast<AstField>(f)),
    };
  },
  // `until COND` is the bound until(COND): the resolver reads bounds as calls (count(n), ...).
  ArrayBound_until(kw, expr): AstExpr[] {
    return [{ kind: 'call', name: 'until', args: [ast<AstExpr>(expr)], pos: pos(kw) }];
  },
  ArrayBound_exprs(args): AstExpr[] {
    return listOf<AstExpr>(args);
  },
  TypeRef_call(ident, _open, args, _close): AstTypeRef {
    return { name: name(ident), args: listOf<AstExpr>(args) };
  },
  TypeRef_name(ident): AstTypeRef {
    return { name: name(ident), args: null };
  },
  Attr_enum(kw, ident): AstAttr {
    return { kind: 'enum', name: name(ident), pos: pos(kw) };
  },
  Attr_derive(kw, expr): AstAttr {
    return { kind: 'derive', expr: ast<AstExpr>(expr), pos: pos(kw) };
  },
  Attr_checksum(kw, _open, args, _close): AstAttr {
    return { kind: 'checksum', args: listOf<AstExpr>(args), pos: pos(kw) };
  },
  Attr_when(kw, expr): AstAttr {
    return { kind: 'when', expr: ast<AstExpr>(expr), pos: pos(kw) };
  },
  Attr_if(kw, expr): AstAttr {
    return { kind: 'if', expr: ast<AstExpr>(expr), pos: pos(kw) };
  },
  Attr_format(kw, ident, _open, args, _close): AstAttr {
    return { kind: 'format', name: name(ident), args: listOf<AstExpr>(args), pos: pos(kw) };
  },
  Attr_select(kw, field, _open, cases, _comma, _close): AstAttr {
    return { kind: 'select', field: name(field), cases: listOf(cases), pos: pos(kw) };
  },
  Attr_uncompressed(kw): AstAttr {
    return { kind: 'uncompressed', pos: pos(kw) };
  },
  Attr_quotes(kw, ident): AstAttr {
    return { kind: 'quotes', module: name(ident), pos: pos(kw) };
  },
  Attr_formatName(kw, ident): AstAttr {
    return { kind: 'format', name: name(ident), args: [], pos: pos(kw) };
  },
  AssertDecl(kw, expr, _else, code, _at, field, _semi): AstMember {
    return {
      kind: 'assert',
      expr: ast<AstExpr>(expr),
      code: name(code),
      at: name(field),
      pos: pos(kw),
    };
  },
  DispatchDecl(kw, on, when, _open, cases, _comma, _close): AstMember {
    const guard = when.children[0];
    const source = on.children[0];
    const peek =
      source.ctorName === 'DispatchOn_peek'
        ? { type: ast<AstTypeRef>(source.children[2]), pos: pos(source) }
        : null;
    return {
      kind: 'dispatch',
      fields: peek === null ? source.children[0].asIteration().children.map(name) : [],
      peek,
      when: guard === undefined ? null : ast<AstExpr>(guard),
      cases: listOf(cases),
      pos: pos(kw),
    };
  },
  DispatchWhen(_kw, expr) {
    return ast<AstExpr>(expr);
  },
  DispatchCase(values, _arrow, target) {
    return { values: listOf<AstValue>(values), target: name(target) };
  },
  SelectDecl(kw, field, _open, cases, _comma, _close): AstMember {
    return { kind: 'select', field: name(field), cases: listOf(cases), pos: pos(kw) };
  },
  SelectCase(values, cond, _arrow, target) {
    const guard = cond.children[0];
    return {
      values: listOf<AstValue>(values),
      cond: guard === undefined ? null : ast<AstExpr>(guard),
      target: name(target),
    };
  },
  SelectIf(_kw, expr) {
    return ast<AstExpr>(expr);
  },
  JsonDecl(kw, names, _semi): AstMember {
    return { kind: 'json', names: names.asIteration().children.map(name), pos: pos(kw) };
  },
  DescribeDecl(kw, str, _semi): AstMember {
    return { kind: 'describe', template: str.sourceString.slice(1, -1), pos: pos(kw) };
  },
  Value_num(n): AstValue {
    return { kind: 'num', value: parseNumber(n.sourceString), pos: pos(n) };
  },
  Value_name(ident): AstValue {
    return { kind: 'name', name: ident.sourceString, pos: pos(ident) };
  },
  Expr(e) {
    return ast(e);
  },
  OrExpr_or(l, op, r): AstExpr {
    return { kind: 'bin', op: '||', left: ast(l), right: ast(r), pos: pos(op) };
  },
  AndExpr_and(l, op, r): AstExpr {
    return { kind: 'bin', op: '&&', left: ast(l), right: ast(r), pos: pos(op) };
  },
  CmpExpr_cmp(l, op, r): AstExpr {
    return { kind: 'bin', op: op.sourceString, left: ast(l), right: ast(r), pos: pos(op) };
  },
  CmpExpr_in(operand, kw, _open, values, _close): AstExpr {
    return { kind: 'in', operand: ast(operand), values: listOf<AstValue>(values), pos: pos(kw) };
  },
  AddExpr_bin(l, op, r): AstExpr {
    return { kind: 'bin', op: op.sourceString, left: ast(l), right: ast(r), pos: pos(op) };
  },
  MulExpr_bin(l, op, r): AstExpr {
    return { kind: 'bin', op: op.sourceString, left: ast(l), right: ast(r), pos: pos(op) };
  },
  UnaryExpr_not(op, e): AstExpr {
    return { kind: 'not', operand: ast(e), pos: pos(op) };
  },
  Primary_paren(_open, e, _close) {
    return ast(e);
  },
  Primary_call(ident, _open, args, _close): AstExpr {
    return { kind: 'call', name: ident.sourceString, args: listOf<AstExpr>(args), pos: pos(ident) };
  },
  Primary_member(obj, _dot, member): AstExpr {
    return { kind: 'member', object: obj.sourceString, name: member.sourceString, pos: pos(obj) };
  },
  Primary_num(n): AstExpr {
    return { kind: 'num', value: parseNumber(n.sourceString), pos: pos(n) };
  },
  Primary_ref(ident): AstExpr {
    return { kind: 'ref', name: ident.sourceString, pos: pos(ident) };
  },
  _iter(...children) {
    return children.map((c) => ast(c));
  },
};

/** Parses one spec's text; throws SpecError on a syntax error. */
export function parseSpec(file: string, source: string): AstSpec {
  const { grammar: g, semantics: s } = load();
  const match = g.match(source);
  if (match.failed()) {
    const index = match.getRightmostFailurePosition();
    throw new SpecError(file, source, index, `syntax error: expected ${match.getExpectedText()}`);
  }
  const tree = ast<Omit<AstSpec, 'file' | 'source'>>(s(match) as unknown as Node);
  return { file, source, ...tree };
}
