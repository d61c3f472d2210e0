/**
 * Ohm semantics for `list` declarations (grammar/packet.ohm, ListDecl): a list of messages whose
 * type a kind field chooses. Kept apart from parse.ts, which it extends.
 */
import type * as ohm from 'ohm-js';
import type { AstField, AstList, AstListMember, AstValue } from './ast.js';
import { ast, name, parseNumber, pos } from './parse.js';

export const listActions: ohm.ActionDict<unknown> = {
  ListDecl(_kw, ident, _open, members, _close): AstList & { list: true } {
    return {
      list: true,
      name: name(ident),
      members: members.children.map((m) => ast<AstListMember>(m)),
    };
  },
  ListMember_field(field): AstListMember {
    return { kind: 'field', field: ast<AstField>(field) };
  },
  ListMember_kind(kw, ident, _semi): AstListMember {
    return { kind: 'kind', name: name(ident), pos: pos(kw) };
  },
  ListMember_length(kw, ident, attrs, _semi): AstListMember {
    let unit: number | null = null;
    let counts: 'element' | 'body' | null = null;
    for (const a of attrs.children) {
      const [word, arg] = a.children[0].children;
      if (word.sourceString === 'unit') unit = parseNumber(arg.sourceString);
      else counts = arg.sourceString as 'element' | 'body';
    }
    return { kind: 'length', name: name(ident), unit, counts, pos: pos(kw) };
  },
  ListMember_align(kw, n, _semi): AstListMember {
    return { kind: 'align', value: parseNumber(n.sourceString), pos: pos(kw) };
  },
  ListMember_lenient(kw, _semi): AstListMember {
    return { kind: 'lenient', pos: pos(kw) };
  },
  ListMember_summary(kw, first, ident, _eq, value, _semi): AstListMember {
    const v = value.children[0];
    if (v.ctorName === 'SummaryValue_present') {
      return {
        kind: 'summary',
        name: name(ident),
        first: first.children.length > 0,
        element: name(v.children[2]),
        field: null,
        max: null,
        pos: pos(kw),
      };
    }
    const [element, _dot, field, _max, max] = v.children;
    const n = max.children[0];
    return {
      kind: 'summary',
      name: name(ident),
      first: first.children.length > 0,
      element: name(element),
      field: name(field),
      max: n === undefined ? null : parseNumber(n.sourceString),
      pos: pos(kw),
    };
  },
  ListMember_element(ident, _eq, value, end, body): AstListMember {
    const b = body.children[0];
    return {
      kind: 'element',
      name: name(ident),
      value: ast<AstValue>(value),
      end: end.children.length > 0,
      body:
        b.ctorName === 'ElementBody_single'
          ? null
          : b.children[1].children.map((f) => ast<AstField>(f)),
      pos: pos(ident),
    };
  },
};
