/**
 * `list` declarations → ListModel: the common header (kind and length fields of any bit width),
 * the length's unit and what it counts, the elements with their bodies, and the summaries.
 * Every mistake is a SpecError at its token.
 */
import type { AstField, AstList, AstName, AstValue } from './ast.js';
import type {
  ArrayModel,
  ElementModel,
  ElementScalar,
  ElementTail,
  EnumModel,
  ListModel,
  SummaryModel,
} from './model.js';

export interface ListScope {
  error(pos: number, message: string): never;
  enumByName(name: string): EnumModel | undefined;
  /** True when the spec declares a list of that name (before or after this one). */
  listDeclared(name: string): boolean;
}

const ELEMENT_SCALARS: Record<string, { width: number; type: ElementScalar['type'] }> = {
  u8: { width: 8, type: 'uint' },
  u16: { width: 16, type: 'uint' },
  u32: { width: 32, type: 'uint' },
  ipv4: { width: 32, type: 'ipv4' },
  mac: { width: 48, type: 'mac' },
};

/** Element body fields: the scalars and IPv6 addresses (read in place). */
const BODY_SCALARS: Record<string, { width: number; type: ElementScalar['type'] }> = {
  ...ELEMENT_SCALARS,
  ipv6: { width: 128, type: 'ipv6' },
};

/** Names the generated cursor, element views and items use themselves. */
const ELEMENT_RESERVED = new Set([
  'kind',
  'bytes',
  'offset',
  'length',
  'bodyOffset',
  'bodyLength',
  'point',
  'next',
  'reset',
  'error',
]);

/** Places fields one after another from bit `start`; returns them and the end bit. */
function place(
  s: ListScope,
  fields: AstField[],
  start: number,
  what: string,
): { fields: ElementScalar[]; end: number } {
  const out: ElementScalar[] = [];
  let bit = start;
  for (const f of fields) {
    const t = f.type.name.name;
    let width: number;
    let type: ElementScalar['type'] = 'uint';
    const scalar = (what.startsWith('element') ? BODY_SCALARS : ELEMENT_SCALARS)[t];
    if (t === 'ipv6' && scalar === undefined)
      s.error(
        f.type.name.pos,
        `an ipv6 field cannot be in ${what === 'list header' ? 'the list header' : 'an array item'} (only in an element body)`,
      );
    if (scalar !== undefined) {
      if (f.type.args !== null) s.error(f.type.name.pos, `type '${t}' takes no arguments`);
      if (bit % 8 !== 0)
        s.error(
          f.name.pos,
          `field '${f.name.name}' starts at bit ${bit - start}: bit fields before it must fill whole bytes`,
        );
      width = scalar.width;
      type = scalar.type;
    } else if (t === 'bits') {
      const a = f.type.args?.[0];
      if (f.type.args?.length !== 1 || a?.kind !== 'num')
        s.error(f.type.name.pos, 'bits() takes one number: the width in bits');
      width = a.value;
      if (width < 1 || width > 32) s.error(a.pos, `bit width ${width} out of range 1..32`);
      if (((bit + width - 1) >> 3) - (bit >> 3) + 1 > 4)
        s.error(f.name.pos, `bit field '${f.name.name}' spans more than 4 bytes`);
    } else {
      s.error(
        f.type.name.pos,
        t === 'list'
          ? `a nested list(Name, rest) can only be the last field of an element`
          : `unknown ${what} field type '${t}' (u8, u16, u32, bits(n), ipv4, ipv6, mac; a variable part is array(T, rest) or list(Name, rest))`,
      );
    }
    let enumName: string | null = null;
    for (const a of f.attrs) {
      if (a.kind !== 'enum')
        s.error(
          a.pos,
          `attribute '${a.kind}' is not allowed in ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what}`,
        );
      const e = s.enumByName(a.name.name);
      if (e === undefined) s.error(a.name.pos, `unknown enum '${a.name.name}'`);
      enumName = e.name;
    }
    if (out.some((x) => x.name === f.name.name))
      s.error(f.name.pos, `duplicate field '${f.name.name}'`);
    if (what !== 'list header' && ELEMENT_RESERVED.has(f.name.name))
      s.error(f.name.pos, `'${f.name.name}' is a reserved name in a list element`);
    out.push({ name: f.name.name, type, bitOffset: bit, bitWidth: width, enumName });
    bit += width;
  }
  if (bit % 8 !== 0) {
    const last = fields[fields.length - 1];
    s.error(
      last?.name.pos ?? 0,
      `the bit fields of the ${what} end at bit ${bit - start}: they must fill whole bytes`,
    );
  }
  return { fields: out, end: bit };
}

/** Scalar array items: the element scalars and 16-byte IPv6 addresses. */
const ARRAY_SCALARS: Record<string, { width: number; type: ElementScalar['type'] }> = {
  ...ELEMENT_SCALARS,
  ipv6: { width: 128, type: 'ipv6' },
};

/**
 * The item of `array(ITEM, ...)`, in a message or a list element: a scalar type, an inline group
 * of fields, or (when `message` knows the name) a message of the spec. `u8` is the caller's (a
 * byte array).
 */
export function arrayItem(
  s: ListScope,
  name: string,
  item: AstName | AstField[],
  pos: number,
  message?: (n: AstName) => { name: string; size: number } | null,
): ArrayModel {
  if (Array.isArray(item)) {
    if (item.length === 0) s.error(pos, `array '${name}' needs at least one field per item`);
    const placed = place(s, item, 0, 'array item');
    return { item: placed.fields, itemSize: placed.end >> 3, scalarItem: false, message: null };
  }
  const scalar = ARRAY_SCALARS[item.name];
  if (scalar === undefined) {
    const m = message?.(item) ?? null;
    if (m !== null) return { item: [], itemSize: m.size, scalarItem: false, message: m.name };
    s.error(
      item.pos,
      `array item type must be u8, u16, u32, ipv4, ipv6, mac${message !== undefined ? ', a message of this spec' : ''} or a { field group }, not '${item.name}'`,
    );
  }
  return {
    item: [{ name, type: scalar.type, bitOffset: 0, bitWidth: scalar.width, enumName: null }],
    itemSize: scalar.width >> 3,
    scalarItem: true,
    message: null,
  };
}

/**
 * The condition of `array(T, until COND)` over one item: its fields (a scalar item's one field
 * is named like the array), numbers, arithmetic, comparisons and `in {...}`.
 */
export function itemExpr(
  s: ListScope,
  e: import('./ast.js').AstExpr,
  a: ArrayModel,
  array: string,
): import('./model.js').Expr {
  const sub = (x: import('./ast.js').AstExpr): import('./model.js').Expr =>
    itemExpr(s, x, a, array);
  switch (e.kind) {
    case 'num':
      return { kind: 'num', value: e.value };
    case 'ref': {
      const f = a.item.find((x) => x.name === e.name);
      if (f === undefined)
        s.error(
          e.pos,
          `'${e.name}' is not a field of the items of '${array}' (an until condition reads the item's fields${a.scalarItem ? `; a scalar item is '${array}'` : ''})`,
        );
      if (f.type === 'ipv6' || f.type === 'mac')
        s.error(
          e.pos,
          `an until condition needs a field of at most 32 bits; '${e.name}' is ${f.type}`,
        );
      return { kind: 'field', name: e.name };
    }
    case 'bin':
      return {
        kind: 'bin',
        op: e.op as import('./model.js').BinaryOp,
        left: sub(e.left),
        right: sub(e.right),
      };
    case 'not':
      return { kind: 'not', operand: sub(e.operand) };
    case 'in':
      return {
        kind: 'in',
        operand: sub(e.operand),
        values: e.values.map((v) => {
          if (v.kind !== 'num') s.error(v.pos, 'expected a number');
          return v.value;
        }),
      };
    default:
      s.error(e.pos, `an until condition reads the item's fields only`);
  }
}

/** `name: list(Other, rest)` ending an element body. */
function nestedTail(s: ListScope, f: AstField): ElementTail {
  const args = f.type.args ?? [];
  const [ref, bound] = args;
  if (args.length !== 2 || ref.kind !== 'ref' || bound.kind !== 'ref' || bound.name !== 'rest')
    s.error(f.type.name.pos, `a nested list is list(Name, rest): it fills the rest of the element`);
  if (!s.listDeclared(ref.name)) s.error(ref.pos, `unknown list '${ref.name}'`);
  if (f.attrs.length > 0)
    s.error(f.attrs[0].pos, `attribute '${f.attrs[0].kind}' is not allowed on a nested list`);
  return {
    name: f.name.name,
    kind: 'list',
    list: ref.name,
    item: [],
    itemSize: 0,
    scalarItem: false,
    message: null,
  };
}

function tail(s: ListScope, f: AstField): ElementTail {
  const args = f.type.args ?? [];
  const bound = args[0];
  if (args.length !== 1 || bound.kind !== 'ref' || bound.name !== 'rest')
    s.error(
      bound?.pos ?? f.type.name.pos,
      `an array in a list element fills the rest of the element: array(T, rest)`,
    );
  const item = f.type.item as AstName | AstField[];
  if (!Array.isArray(item) && item.name === 'u8') {
    return {
      name: f.name.name,
      kind: 'bytes',
      list: '',
      item: [],
      itemSize: 0,
      scalarItem: false,
      message: null,
    };
  }
  return {
    name: f.name.name,
    kind: 'array',
    list: '',
    ...arrayItem(s, f.name.name, item, f.type.name.pos),
  };
}

export function resolveList(s: ListScope, l: AstList): ListModel {
  const headerDecls = l.members.flatMap((m) => (m.kind === 'field' ? [m.field] : []));
  if (headerDecls.length === 0)
    s.error(l.name.pos, `list '${l.name.name}' needs header fields (at least a kind and a length)`);
  const header = place(s, headerDecls, 0, 'list header');
  const headerSize = header.end >> 3;
  const headerField = (n: { name: string; pos: number }): ElementScalar => {
    const f = header.fields.find((x) => x.name === n.name);
    if (f === undefined)
      s.error(n.pos, `'${n.name}' is not a header field of list '${l.name.name}'`);
    if (f.type !== 'uint') s.error(n.pos, `'${n.name}' must be a number field`);
    return f;
  };
  const kindDecl = l.members.find((m) => m.kind === 'kind');
  if (kindDecl?.kind !== 'kind') s.error(l.name.pos, `list '${l.name.name}' needs 'kind <field>;'`);
  const kindField = headerField(kindDecl.name);
  const lengthDecl = l.members.find((m) => m.kind === 'length');
  if (lengthDecl?.kind !== 'length')
    s.error(
      l.name.pos,
      `list '${l.name.name}' needs 'length <field> [unit n] counts element|body;'`,
    );
  const lengthField = headerField(lengthDecl.name);
  if (lengthField === kindField)
    s.error(lengthDecl.name.pos, 'the kind and length fields must differ');
  for (const f of headerDecls) {
    const other = f.name.name !== kindField.name && f.name.name !== lengthField.name;
    if (other && ELEMENT_RESERVED.has(f.name.name))
      s.error(f.name.pos, `'${f.name.name}' is a reserved name in a list element`);
  }
  if (lengthDecl.counts === null)
    s.error(
      lengthDecl.pos,
      `say what the length counts: 'counts element' (header included) or 'counts body'`,
    );
  const unit = lengthDecl.unit ?? 1;
  if (unit < 1 || unit > 256) s.error(lengthDecl.pos, `length unit ${unit} out of range 1..256`);
  const alignDecl = l.members.filter((m) => m.kind === 'align');
  if (alignDecl.length > 1) s.error(alignDecl[1].pos, 'duplicate align');
  const align = alignDecl[0]?.kind === 'align' ? alignDecl[0].value : 1;
  if (align < 1) s.error(alignDecl[0].pos, 'align must be at least 1');
  const lenientDecl = l.members.filter((m) => m.kind === 'lenient');
  if (lenientDecl.length > 1) s.error(lenientDecl[1].pos, 'duplicate lenient');
  const kindEnum = kindField.enumName === null ? undefined : s.enumByName(kindField.enumName);
  const value = (v: AstValue): number => {
    if (v.kind === 'num') {
      if (v.value >= 2 ** kindField.bitWidth)
        s.error(v.pos, `kind ${v.value} does not fit the ${kindField.bitWidth}-bit kind field`);
      return v.value;
    }
    const m = kindEnum?.members.find((x) => x.name === v.name);
    if (m === undefined)
      s.error(
        v.pos,
        kindEnum === undefined
          ? `'${v.name}' is not a number (the kind field has no enum)`
          : `enum '${kindEnum.name}' has no member '${v.name}'`,
      );
    return m.value;
  };
  const elements: ElementModel[] = [];
  for (const m of l.members) {
    if (m.kind !== 'element') continue;
    if (elements.some((e) => e.name === m.name.name))
      s.error(m.name.pos, `duplicate element '${m.name.name}'`);
    const kindValue = value(m.value);
    const same = elements.find((e) => e.kindValue === kindValue);
    if (same !== undefined)
      s.error(m.value.pos, `kind ${kindValue} is already element '${same.name}'`);
    if (m.end && elements.some((e) => e.end))
      s.error(m.name.pos, 'a list can have only one end element');
    if (m.body === null) {
      if (kindField.bitOffset !== 0 || kindField.bitWidth !== 8)
        s.error(
          m.name.pos,
          `one-byte element '${m.name.name}' needs the kind field to be the header's first byte`,
        );
      elements.push({
        name: m.name.name,
        kindValue,
        single: true,
        end: m.end,
        fields: [],
        fixedSize: 1,
        tail: null,
      });
      continue;
    }
    // `name: list(Other, rest)` as the last field is a nested list.
    const last = m.body[m.body.length - 1];
    const nested = last?.type.name.name === 'list' && last.type.item === undefined ? last : null;
    const body = nested === null ? m.body : m.body.slice(0, -1);
    const isArray = (f: AstField): boolean => f.type.item !== undefined;
    const fixed = body.filter((f) => !isArray(f));
    const arrays = body.filter(isArray);
    const lastIsArray = body.length > 0 && isArray(body[body.length - 1]);
    if (arrays.length > 1 || (arrays.length === 1 && (!lastIsArray || nested !== null)))
      s.error(
        (arrays[1] ?? arrays[0]).name.pos,
        'only the last field of an element may be variable-length',
      );
    const placed = place(s, fixed, header.end, `element '${m.name.name}'`);
    for (const f of placed.fields) {
      if (header.fields.some((h) => h.name === f.name))
        s.error(m.pos, `element field '${f.name}' repeats a header field`);
    }
    const t =
      nested !== null ? nestedTail(s, nested) : arrays.length === 1 ? tail(s, arrays[0]) : null;
    const fixedSize = placed.end >> 3;
    // The length says the whole element (counts element) or the body after the header.
    const said = lengthDecl.counts === 'element' ? fixedSize : fixedSize - headerSize;
    if (t === null && said % unit === 0 && said / unit >= 2 ** lengthField.bitWidth)
      s.error(
        m.name.pos,
        `element '${m.name.name}' is ${fixedSize} bytes, more than its ${lengthField.bitWidth}-bit length field can say`,
      );
    if (t === null && said % unit !== 0) {
      s.error(
        m.name.pos,
        `element '${m.name.name}' is ${fixedSize} bytes, which its length in units of ${unit} cannot say`,
      );
    }
    elements.push({
      name: m.name.name,
      kindValue,
      single: false,
      end: m.end,
      fields: placed.fields,
      fixedSize,
      tail: t,
    });
  }
  // No element at all is allowed: every kind is then kept raw (Geneve's options: the RFC defines none).
  const summaries: SummaryModel[] = [];
  for (const m of l.members) {
    if (m.kind !== 'summary') continue;
    if (summaries.some((x) => x.name === m.name.name))
      s.error(m.name.pos, `duplicate summary '${m.name.name}'`);
    const e = elements.find((x) => x.name === m.element.name);
    if (e === undefined) s.error(m.element.pos, `unknown element '${m.element.name}'`);
    if (m.field === null) {
      summaries.push({
        name: m.name.name,
        element: e.name,
        kind: 'present',
        field: '',
        first: m.first,
        max: 0,
      });
      continue;
    }
    const field = m.field;
    const scalar = e.fields.find((f) => f.name === field.name);
    if (scalar !== undefined) {
      if (m.max !== null)
        s.error(m.pos, `'max' is for array summaries; '${field.name}' is a scalar`);
      if (scalar.bitWidth > 32)
        s.error(
          field.pos,
          `a summary holds at most 32 bits; '${field.name}' has ${scalar.bitWidth}`,
        );
      summaries.push({
        name: m.name.name,
        element: e.name,
        kind: 'scalar',
        field: field.name,
        first: m.first,
        max: 0,
      });
      continue;
    }
    if (e.tail?.kind === 'array' && e.tail.name === field.name) {
      if (m.max === null) s.error(m.pos, `an array summary needs 'max n' (the items it keeps)`);
      if (e.tail.item.some((f) => f.bitWidth > 32))
        s.error(field.pos, `a summary holds at most 32 bits per field`);
      summaries.push({
        name: m.name.name,
        element: e.name,
        kind: 'array',
        field: field.name,
        first: m.first,
        max: m.max,
      });
      continue;
    }
    s.error(field.pos, `element '${e.name}' has no field or array '${field.name}'`);
  }
  return {
    name: l.name.name,
    header: header.fields,
    headerSize,
    kindField: kindField.name,
    lengthField: lengthField.name,
    unit,
    countsHeader: lengthDecl.counts === 'element',
    align,
    lenient: lenientDecl.length > 0,
    elements,
    summaries,
  };
}

/** A continuation condition: an expression over the list's summaries (scalars and presence). */
export function summaryExpr(
  s: ListScope,
  e: import('./ast.js').AstExpr,
  list: ListModel,
): import('./model.js').Expr {
  switch (e.kind) {
    case 'num':
      return { kind: 'num', value: e.value };
    case 'ref': {
      const summary = list.summaries.find((x) => x.name === e.name);
      if (summary === undefined || summary.kind === 'array')
        s.error(e.pos, `'${e.name}' is not a scalar summary of list '${list.name}'`);
      return { kind: 'field', name: e.name };
    }
    case 'bin':
      return {
        kind: 'bin',
        op: e.op as import('./model.js').BinaryOp,
        left: summaryExpr(s, e.left, list),
        right: summaryExpr(s, e.right, list),
      };
    case 'not':
      return { kind: 'not', operand: summaryExpr(s, e.operand, list) };
    case 'in':
      return {
        kind: 'in',
        operand: summaryExpr(s, e.operand, list),
        values: e.values.map((v) => {
          if (v.kind !== 'num') s.error(v.pos, 'expected a number');
          return v.value;
        }),
      };
    default:
      s.error(e.pos, `a continuation condition reads the list's summaries only`);
  }
}
