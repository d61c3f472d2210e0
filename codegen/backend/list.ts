/**
 * TypeScript for `list` declarations (ListModel): per list, module-level code (summary record,
 * validation walk, cursor, typed element views, item union, encoder, decoder, toJSON) and, per
 * message region that uses the list, the few wrap() lines and view members that call it.
 *
 * Nothing here knows a protocol: kinds, lengths, units and summaries all come from the spec.
 *
 * Hot-path shape: the validation walk is one loop with a switch on the kind that checks each
 * known element's size and stores the declared summaries straight into a preallocated record
 * (32-bit values as int32 bit patterns beside a presence flag, so no property ever holds a
 * boxed double); array summaries are recorded by a separate function, so the walk stays small
 * enough for V8 to inline into wrap().
 */
import type {
  ElementModel,
  ElementScalar,
  ListModel,
  Region,
  RegionConstruct,
  SummaryModel,
} from '../frontend/model.js';
import {
  arrayDecode,
  arrayEncode,
  arrayItemType,
  arrayJson,
  arrayJsonItemType,
  arrayMembers,
  arrayOf,
  writeFields,
} from './array.js';
import { exprTs, type ExprContext } from './expr.js';
import { hex } from './typescript.js';
import { loadField } from './array.js';
import type { ConstructCode, Import } from './constructs.js';
import { fail, ref, self, type Stmt, stmt, ts, when } from './wrap-ir.js';

const ADDRESS = '../codec/address.js';
const LIST = '../codec/list.js';

type ListRegion = Extract<RegionConstruct, { kind: 'list' }>;

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** A member name from an element name: MSS → mss, WindowScale → windowScale. */
export function memberName(name: string): string {
  return /^[A-Z0-9_]+$/.test(name) ? name.toLowerCase() : lowerFirst(name);
}

/** The load as an int32 bit pattern for 32-bit fields (see the summary record). */
function loadBits(f: ElementScalar, b: string, base: string): string {
  const l = loadField(f, b, base);
  return l.endsWith(' >>> 0') ? l.slice(0, -' >>> 0'.length) : l;
}

function tsType(f: ElementScalar): string {
  return f.type === 'ipv6' ? 'string' : 'number';
}

/** An IPv6 field's absolute offset in `base`'s buffer (its value is never loaded as a number). */
function offsetOf(f: ElementScalar, base: string): string {
  const k = f.bitOffset >> 3;
  return k === 0 ? base : `${base} + ${k}`;
}

/**
 * Element field `f` of view `v` as an item value (the form the encoder takes back): a number, or
 * RFC 5952 text for IPv6, read from `bytes`.
 */
function itemValue(f: ElementScalar, v: string, bytes: string, use: (n: string) => void): string {
  if (f.type === 'ipv6') {
    use('formatIpv6');
    return `formatIpv6(${bytes}, ${v}.${f.name}Offset)`;
  }
  return `${v}.${f.name}`;
}

/** JSON of a field read by `get` (format addresses; for IPv6 `get` is `bytes, offset`). */
function jsonOf(f: ElementScalar, get: string, use: (name: string) => void): string {
  if (f.type === 'ipv6') {
    use('formatIpv6');
    return `formatIpv6(${get})`;
  }
  if (f.type === 'ipv4') {
    use('formatIpv4');
    return `formatIpv4(${get})`;
  }
  if (f.type === 'mac') {
    use('formatMac');
    return `formatMac(${get})`;
  }
  return get;
}

function jsonTypeOf(f: ElementScalar): string {
  return f.type === 'uint' ? 'number' : 'string';
}

/** Names of everything generated for one list. */
export class ListNames {
  constructor(readonly l: ListModel) {}
  get summary(): string {
    return `${this.l.name}Summary`;
  }
  get cursor(): string {
    return `${this.l.name}Cursor`;
  }
  get item(): string {
    return `${this.l.name}Item`;
  }
  get json(): string {
    return `${this.l.name}JSON`;
  }
  get validate(): string {
    return `validate${this.l.name}`;
  }
  get walk(): string {
    return `walk${this.l.name}`;
  }
  get encode(): string {
    return `encode${this.l.name}`;
  }
  get decode(): string {
    return `decode${this.l.name}`;
  }
  get toJson(): string {
    return `${lowerFirst(this.l.name)}ToJSON`;
  }
  get zeros(): string {
    return `${this.l.name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_ZEROS`;
  }
  view(e: ElementModel): string {
    return `${this.l.name}${e.name}View`;
  }
  record(s: SummaryModel): string {
    return `record${this.l.name}${upperFirst(s.name)}`;
  }
}

/** Elements that get a typed view: those with fields beyond the header's kind and length. */
function hasView(l: ListModel, e: ElementModel): boolean {
  return !e.single && (e.fields.length > 0 || e.tail !== null || otherHeader(l).length > 0);
}

/** Header fields other than kind and length (Geneve's class, reserved bits...). */
function otherHeader(l: ListModel): ElementScalar[] {
  return l.header.filter((f) => f.name !== l.kindField && f.name !== l.lengthField);
}

function kindOf(l: ListModel): ElementScalar {
  return l.header.find((f) => f.name === l.kindField) as ElementScalar;
}

function lengthOf(l: ListModel): ElementScalar {
  return l.header.find((f) => f.name === l.lengthField) as ElementScalar;
}

/** The expression of an element's byte size from its length field's value `len`. */
function sizeExpr(l: ListModel, len: string): string {
  // A length narrower than its bytes is a masked load (`b[p + 3] & 0x1f`): keep it one operand.
  const value = /^[\w.[\] +]*$/.test(len) && !len.includes(' ') ? len : `(${len})`;
  const scaled = l.unit === 1 ? value : `${value} * ${l.unit}`;
  return l.countsHeader ? scaled : `${l.headerSize} + ${scaled}`;
}

/** The condition under which a known element's `size` disagrees with its body. */
function badSize(e: ElementModel, size: string, headerSize = 0): string | null {
  if (e.tail === null) return `${size} !== ${e.fixedSize}`;
  // The header's own bound check already covers a body with no fixed fields.
  const short = e.fixedSize > headerSize ? `${size} < ${e.fixedSize}` : null;
  if (e.tail.kind !== 'array') return short;
  const rem =
    e.tail.itemSize === 1 ? null : `(${size} - ${e.fixedSize}) % ${e.tail.itemSize} !== 0`;
  return [short, rem].filter((x) => x !== null).join(' || ') || null;
}

/** The condition under which `size` fits an element's body (null: any size the header allows). */
function goodSize(e: ElementModel, size: string, headerSize: number): string | null {
  if (e.tail === null) return `${size} === ${e.fixedSize}`;
  const long = e.fixedSize > headerSize ? `${size} >= ${e.fixedSize}` : null;
  if (e.tail.kind !== 'array' || e.tail.itemSize === 1) return long;
  const rem = `(${size} - ${e.fixedSize}) % ${e.tail.itemSize} === 0`;
  return long === null ? rem : `${long} && ${rem}`;
}

/** Summary record property names. */
function presentProp(e: string): string {
  return `${memberName(e)}Present`;
}

function summaryField(l: ListModel, s: SummaryModel): ElementScalar {
  const e = l.elements.find((x) => x.name === s.element) as ElementModel;
  return e.fields.find((f) => f.name === s.field) as ElementScalar;
}

function isWide(f: ElementScalar): boolean {
  return f.bitWidth >= 32;
}

/** Elements whose presence the record keeps (a first-wins, present or 32-bit summary). */
function presenceElements(l: ListModel): Set<string> {
  const out = new Set<string>();
  for (const s of l.summaries) {
    if (s.kind === 'present' || s.first) out.add(s.element);
    if (s.kind === 'scalar' && isWide(summaryField(l, s))) out.add(s.element);
  }
  return out;
}

function arrayTail(
  l: ListModel,
  s: SummaryModel,
): ElementModel & { tail: NonNullable<ElementModel['tail']> } {
  return l.elements.find((x) => x.name === s.element) as ElementModel & {
    tail: NonNullable<ElementModel['tail']>;
  };
}

function typedArrayFor(fields: ElementScalar[]): string {
  const w = Math.max(...fields.map((f) => f.bitWidth));
  return w <= 8 ? 'Uint8Array' : w <= 16 ? 'Uint16Array' : 'Uint32Array';
}

export interface ListModuleCode {
  statements: string[];
  imports: Import[];
}

/**
 * How deep lists nested in elements are validated (an IA_NA's IAADDR's status code is 3 deep);
 * a deeper one is E_BAD_OPTION, so hostile input cannot recurse without end.
 */
const LIST_MAX_DEPTH = 8;

/** True when an element of `l` holds a nested list (its walks then take a depth). */
function nests(l: ListModel): boolean {
  return l.elements.some((e) => e.tail?.kind === 'list');
}

/** True when some element of `lists` holds `l` as its nested list. */
function isNested(l: ListModel, lists: readonly ListModel[]): boolean {
  return lists.some((x) =>
    x.elements.some((e) => e.tail?.kind === 'list' && e.tail.list === l.name),
  );
}

/** The names of the list nested in element `e`. */
function innerNames(e: ElementModel, lists: readonly ListModel[]): ListNames & { nests: boolean } {
  const inner = lists.find((x) => x.name === e.tail?.list) as ListModel;
  return Object.assign(new ListNames(inner), { nests: nests(inner) });
}

/** Module-level code for one list; `lists` are the spec's (for lists nested in elements). */
export function listModuleCode(
  l: ListModel,
  bounds: Set<string>,
  lists: readonly ListModel[] = [l],
): ListModuleCode {
  const n = new ListNames(l);
  const imports: Import[] = [];
  const use = (name: string): void => {
    imports.push({ module: ADDRESS, name });
  };
  const addImport = (i: Import): void => {
    imports.push(i);
  };
  const kind = kindOf(l);
  const length = lengthOf(l);
  const out: string[] = [];
  const presence = presenceElements(l);
  if (l.elements.some((e) => [...e.fields, ...(e.tail?.item ?? [])].some((f) => f.type === 'ipv6')))
    use('writeIpv6');
  const maxFixed = Math.max(l.headerSize, ...l.elements.map((e) => e.fixedSize));

  // ---- summary record
  if (l.summaries.length > 0) {
    const props: string[] = [];
    const clear: string[] = [];
    for (const e of presence) {
      props.push(`/** True when a ${e} element was seen. */\n${presentProp(e)} = false;`);
      clear.push(`this.${presentProp(e)} = false;`);
    }
    for (const s of l.summaries) {
      if (s.kind === 'scalar') {
        const f = summaryField(l, s);
        if (isWide(f)) {
          props.push(
            `/** ${s.element}.${s.field} as an int32 bit pattern (\`>>> 0\` gives the uint32; valid when ${presentProp(s.element)}): an int32 always fits a property's small-integer representation, where a uint32 above 2**31 would box. */\n${s.name}Bits = 0;`,
          );
        } else {
          props.push(`/** ${s.element}.${s.field}; -1 when absent. */\n${s.name} = -1;`);
          clear.push(`this.${s.name} = -1;`);
        }
      } else if (s.kind === 'array') {
        const e = arrayTail(l, s);
        const per = e.tail.item.length;
        props.push(
          `/** Items of ${s.element}.${s.field} kept (at most ${s.max}). */\n${s.name}Count = 0;`,
          `/** Their fields, item i's field j at ${per} * i + j. */\nreadonly ${s.name} = new ${typedArrayFor(e.tail.item)}(${s.max * per});`,
        );
        clear.push(`this.${s.name}Count = 0;`);
      }
    }
    out.push(
      `/**
 * The summaries the spec declares for ${l.name}, recorded while wrap() validates the list (so a
 * reader needs no walk). ${l.summaries.some((s) => !s.first) ? 'Unless declared `first`, the last occurrence counts.' : 'The first occurrence counts.'}
 */
export class ${n.summary} {
${props.join('\n')}

clear(): void {
${clear.join('\n')}
}
}`,
    );
    for (const s of l.summaries) {
      if (s.kind !== 'array') continue;
      const e = arrayTail(l, s);
      const t = e.tail;
      const per = t.item.length;
      const stores = t.item.map(
        (f, j) =>
          `s.${s.name}[${per} * i${j === 0 ? '' : ` + ${j}`}] = ${loadField(f, 'bytes', 'at')};`,
      );
      out.push(
        `/** Records up to ${s.max} items of ${s.element}.${s.field} (a function of its own: rare, and it keeps the walk small). */
function ${n.record(s)}(s: ${n.summary}, bytes: Uint8Array, at: number, items: number): void {
const count = items < ${s.max} ? items : ${s.max};
for (let i = 0; i < count; i++, at += ${t.itemSize}) {
${stores.join('\n')}
}
s.${s.name}Count = count;
}`,
      );
    }
  }

  // ---- validation walk
  const elementCases = (
    bad: string,
    onEnd: (size: string) => string,
    badAt: (at: string) => string,
    depth: string,
  ): string[] => {
    const cases: string[] = [];
    for (const e of l.elements) {
      if (e.single) continue;
      const body: string[] = [];
      const check = badSize(e, 'size', l.headerSize);
      if (check !== null) body.push(`if (${check}) return ${bad};`);
      let scoped = false;
      if (e.tail?.kind === 'list') {
        // The nested list is validated with the element: after wrap() every level is valid.
        const inner = innerNames(e, lists);
        if (inner.nests) body.push(`if (${depth} >= ${LIST_MAX_DEPTH}) return ${bad};`);
        body.push(
          `const inner = ${inner.validate}(bytes, pos + ${e.fixedSize}, size - ${e.fixedSize}${inner.nests ? `, ${depth} + 1` : ''});`,
          `if (inner >= 0) return ${badAt('inner')};`,
        );
        scoped = true;
      }
      const mine = l.summaries.filter((s) => s.element === e.name);
      const guarded = mine.filter((s) => s.first);
      const always = mine.filter((s) => !s.first);
      const storeOf = (s: SummaryModel): string[] => {
        if (s.kind === 'present') return [];
        if (s.kind === 'array') {
          const t = arrayTail(l, s).tail;
          return [
            `${n.record(s)}(s, bytes, pos + ${e.fixedSize}, (size - ${e.fixedSize}) / ${t.itemSize});`,
          ];
        }
        const f = summaryField(l, s);
        return [
          `s.${s.name}${isWide(f) ? 'Bits' : ''} = ${isWide(f) ? loadBits(f, 'bytes', 'pos') : loadField(f, 'bytes', 'pos')};`,
        ];
      };
      if (guarded.length > 0) {
        body.push(`if (!s.${presentProp(e.name)}) {`, ...guarded.flatMap(storeOf), '}');
      }
      body.push(...always.flatMap(storeOf));
      if (presence.has(e.name)) body.push(`s.${presentProp(e.name)} = true;`);
      if (e.end) body.push(onEnd('size'));
      if (body.length === 0) continue;
      cases.push(
        scoped
          ? `case ${hex(e.kindValue)}: {\n${body.join('\n')}\nbreak;\n}`
          : `case ${hex(e.kindValue)}:\n${body.join('\n')}\nbreak;`,
      );
    }
    return cases;
  };
  const singles = l.elements.filter((e) => e.single);
  const headerLines = (
    bad: string,
    onSingleEnd: string,
    onEnd: (size: string) => string,
    badAt: (at: string) => string,
    depth: string,
  ): string[] => {
    // One-byte elements have the kind in the first byte, which `pos < end` covers; otherwise
    // the kind is read after the header's bound check.
    const kindLoad = `const kind = ${loadField(kind, 'bytes', 'pos')};`;
    const lines: string[] = singles.length > 0 ? [kindLoad] : [];
    for (const e of singles) {
      lines.push(
        e.end
          ? `if (kind === ${hex(e.kindValue)}) ${onSingleEnd}`
          : `if (kind === ${hex(e.kindValue)}) {\npos++;\ncontinue;\n}`,
      );
    }
    const cases = elementCases(bad, onEnd, badAt, depth);
    lines.push(
      `if (pos + ${l.headerSize} > end) return ${bad};`,
      // The kind is read only to choose an element (a list of raw elements only needs no kind).
      ...(singles.length > 0 || cases.length === 0 ? [] : [kindLoad]),
      `const size = ${sizeExpr(l, loadField(length, 'bytes', 'pos'))};`,
      l.countsHeader
        ? `if (size < ${l.headerSize} || pos + size > end) return ${bad};`
        : `if (pos + size > end) return ${bad};`,
    );
    if (cases.length > 0) lines.push(`switch (kind) {\n${cases.join('\n')}\n}`);
    lines.push('pos += size;');
    return lines;
  };
  const s = l.summaries.length > 0;
  const sParam = s ? `, s: ${n.summary}` : '';
  if (bounds.has('bytes')) {
    out.push(
      `/**
 * Checks that the ${l.name} in [pos, pos + length) can be delimited and that every known element's
 * size matches its body${s ? ', recording the summaries into `s` (not cleared here: a list may continue in another area)' : ''}. Returns -1, or the absolute offset of the first bad element.${l.elements.some((e) => e.end) ? ' What follows the end element is padding.' : ''}
 */
export function ${n.validate}(bytes: Uint8Array, pos: number, length: number${sParam}${nests(l) ? ', depth = 0' : ''}): number {
const end = pos + length;
while (pos < end) {
${headerLines(
  'pos',
  'return -1;',
  () => 'return -1;',
  (at) => at,
  'depth',
).join('\n')}
}
return -1;
}`,
    );
  }
  if (bounds.has('count') || bounds.has('end')) {
    const end = l.elements.find((e) => e.end);
    out.push(
      `/**
 * Walks ${l.name} from \`pos\` (nothing past \`end\`): \`count\` elements, or (count < 0) up to and
 * including the end element${s ? ', recording the summaries into `s`' : ''}. Returns where the list ends, or -1 - the offset of the first bad element (or of the missing one).
 */
export function ${n.walk}(bytes: Uint8Array, pos: number, end: number, count: number${sParam}): number {
let seen = 0;
while (count < 0 || seen < count) {
if (pos >= end) return -1 - pos;
seen++;
${headerLines(
  '-1 - pos',
  `{\nif (count < 0) return pos + 1;\npos++;\ncontinue;\n}`,
  (size) => `if (count < 0) return pos + ${size};`,
  (at) => `-1 - ${at}`,
  '0',
).join('\n')}
}
return pos;
}`,
    );
    void end;
  }

  // ---- element views
  out.push(
    `/** Zero bytes the cursor points a typed view at when the current element is not of its kind. */\nconst ${n.zeros} = new Uint8Array(${maxFixed});`,
  );
  const views = l.elements.filter((e) => hasView(l, e));
  if (views.length > 0) imports.push({ module: LIST, name: 'ListElement' });
  for (const e of views) {
    const members: string[] = [`constructor() {\nsuper(${n.zeros}, ${e.fixedSize});\n}`];
    for (const f of [...otherHeader(l), ...e.fields]) {
      if (f.type === 'ipv6') {
        members.push(
          `/** Absolute offset of ${f.name} (16 bytes: an IPv6 address, read in place). */\nget ${f.name}Offset(): number {\nreturn ${offsetOf(f, 'this.offset')};\n}`,
        );
        continue;
      }
      members.push(
        `/** ${f.name}: ${f.bitWidth} bits at bit ${f.bitOffset}${f.enumName !== null ? ` (${f.enumName})` : ''}. */\nget ${f.name}(): ${tsType(f)} {\nconst b = this.bytes;\nconst o = this.offset;\nreturn ${loadField(f, 'b', 'o')};\n}`,
      );
      if (f.bitOffset % 8 === 0 && f.bitWidth % 8 === 0) {
        members.push(
          `/** Writes ${f.name} in place. */\nset ${f.name}(value: ${tsType(f)}) {\nconst b = this.bytes;\nconst o = this.offset;\n${writeFields([f], () => 'value', 'b', 'o', 'v').join('\n')}\n}`,
        );
      }
    }
    const t = e.tail;
    if (t !== null && t.kind === 'list') {
      const inner = innerNames(e, lists);
      members.push(
        `private ${t.name}Cursor: ${inner.cursor} | null = null;`,
        `/** Absolute offset of the nested ${t.name}. */\nget ${t.name}Offset(): number {\nreturn this.offset + ${e.fixedSize};\n}`,
        `/** Byte length of the nested ${t.name}. */\nget ${t.name}Length(): number {\nreturn this.length - ${e.fixedSize};\n}`,
        `/** The nested ${t.name} cursor (made on the first call, then the same object), reset to its first element. */\n${t.name}(): ${inner.cursor} {\nconst c = (this.${t.name}Cursor ??= new ${inner.cursor}('${lowerFirst(inner.l.name)}', '${t.name}'));\nreturn c.reset(this.bytes, this.offset + ${e.fixedSize}, this.length - ${e.fixedSize});\n}`,
      );
    } else if (t !== null && t.kind === 'bytes') {
      members.push(
        `/** Absolute offset of ${t.name}. */\nget ${t.name}Offset(): number {\nreturn this.offset + ${e.fixedSize};\n}`,
        `/** Byte length of ${t.name}. */\nget ${t.name}Length(): number {\nreturn this.length - ${e.fixedSize};\n}`,
      );
    } else if (t !== null) {
      const count = `((this.length - ${e.fixedSize}) / ${t.itemSize}) | 0`;
      members.push(...arrayMembers(t.name, t, `this.offset + ${e.fixedSize}`, count, addImport));
    }
    out.push(
      `/** A ${e.name} element of ${l.name} (kind ${e.kindValue}, ${e.fixedSize}${e.tail !== null ? ' or more' : ''} bytes), re-pointed, never allocated. */\nexport class ${n.view(e)} extends ListElement {\n${members.join('\n\n')}\n}`,
    );
  }

  // ---- cursor
  const viewProps = views.map(
    (e) => `private readonly ${memberName(e.name)}View = new ${n.view(e)}();`,
  );
  const accessors = views.map((e) => {
    const size = goodSize(e, 'this.length', l.headerSize);
    const ok = `this.kind === ${hex(e.kindValue)}${size !== null ? ` && ${size}` : ''}`;
    return `/** The current element as ${e.name} (the same object each call); zeros when it is not one. */\nget ${memberName(e.name)}(): ${n.view(e)} {\nreturn ${ok} ? this.${memberName(e.name)}View.point(this.bytes, this.offset, this.length) : this.${memberName(e.name)}View.point(${n.zeros}, 0, ${e.fixedSize});\n}`;
  });
  const cursorSingles = singles.map((e) =>
    e.end
      ? `if (kind === ${hex(e.kindValue)}) {\nthis.length = 1;\n// What follows the end element is padding.\nthis.pos = this.end;\nreturn true;\n}`
      : `if (kind === ${hex(e.kindValue)}) {\nthis.length = 1;\nthis.pos = pos + 1;\nreturn true;\n}`,
  );
  const endElement = l.elements.find((e) => e.end && !e.single);
  out.push(
    `/**
 * Walks ${l.name} without allocating: the view owns one cursor and re-points it per call; next()
 * advances, \`kind\`, \`offset\` and \`length\` describe the element, and the typed getters give
 * it as its element view. After a successful wrap() the list is valid; on bytes of its own the
 * cursor checks every bound and stops with \`error\` set.
 */
export class ${n.cursor} extends ListCursor {
${viewProps.join('\n')}

/** \`layer\` and \`field\` name the list in errors; \`areas\` is how many further areas it may continue in. */
constructor(layer: string, field: string, areas = 0) {
super(layer, field, areas, ${l.headerSize}, ${n.zeros});
}

/** Advances to the next element; false at the end of the list or on error. */
next(): boolean {
for (;;) {
const pos = this.pos;
const end = this.end;
if (pos >= end || this.remaining === 0) {
if (this.nextArea()) continue;
return false;
}
const bytes = this.bytes;
if (this.remaining > 0) this.remaining--;
this.offset = pos;
${singles.length > 0 ? `const kind = ${loadField(kind, 'bytes', 'pos')};\nthis.kind = kind;\n${cursorSingles.join('\n')}\n` : ''}if (pos + ${l.headerSize} > end) return this.malformed(pos);
${singles.length > 0 ? '' : `const kind = ${loadField(kind, 'bytes', 'pos')};\nthis.kind = kind;\n`}const size = ${sizeExpr(l, loadField(length, 'bytes', 'pos'))};
if (${l.countsHeader ? `size < ${l.headerSize} || ` : ''}pos + size > end) return this.malformed(pos);
this.length = size;
this.pos = ${endElement !== undefined ? `kind === ${hex(endElement.kindValue)} ? end : pos + size` : 'pos + size'};
return true;
}
}

${accessors.join('\n\n')}
}`,
  );
  imports.push({ module: LIST, name: 'ListCursor' });

  // ---- items, encoder, decoder
  const itemFields = (e: ElementModel): string[] => {
    const out2 = [...otherHeader(l), ...e.fields].map((f) => `${f.name}: ${tsType(f)};`);
    const t = e.tail;
    if (t?.kind === 'bytes') out2.push(`${t.name}: Uint8Array;`);
    else if (t?.kind === 'list') out2.push(`${t.name}: readonly ${innerNames(e, lists).item}[];`);
    else if (t !== null) out2.push(`${t.name}: ${arrayOf(arrayItemType(t), true)};`);
    return out2;
  };
  out.push(
    `/**
 * One ${l.name} element to encode, by element name; \`raw\` is any element as its exact bytes
 * (unknown kinds, and the padding after an end element), so encoding what decode gives
 * reproduces the bytes.
 */
export type ${n.item} =
${l.elements.map((e) => `| { kind: '${e.name}'; ${itemFields(e).join(' ')} }`).join('\n')}
| { kind: 'raw'; bytes: Uint8Array };`,
  );
  const encodeCases = l.elements.map((e) => {
    if (e.single) {
      return `case '${e.name}':\nif (pos + 1 > out.length) return -1;\nout[pos++] = ${hex(e.kindValue)};\nbreak;`;
    }
    const t = e.tail;
    const lines: string[] = [];
    let tailBytes = '0';
    if (t?.kind === 'bytes') tailBytes = `item.${t.name}.length`;
    else if (t?.kind === 'list') {
      // The nested list goes first: its encoder says how long it is.
      tailBytes = 'inner';
      lines.push(
        `if (pos + ${e.fixedSize} > out.length) return -1;`,
        `const inner = ${innerNames(e, lists).encode}(item.${t.name}, out, pos + ${e.fixedSize});`,
        'if (inner < 0) return -1;',
      );
    } else if (t !== null) tailBytes = `${t.itemSize} * item.${t.name}.length`;
    const raw = t === null ? String(e.fixedSize) : `${e.fixedSize} + ${tailBytes}`;
    // The length counts the element or only its body; the unit pads what it counts.
    // A fixed-size element is a whole number of units (the resolver checks), so it needs none.
    const padded =
      l.unit === 1 || t === null
        ? raw
        : l.countsHeader
          ? `Math.ceil((${raw}) / ${l.unit}) * ${l.unit}`
          : `${l.headerSize} + Math.ceil((${raw} - ${l.headerSize}) / ${l.unit}) * ${l.unit}`;
    lines.push(`const size = ${padded};`);
    if (t === null) {
      const said = (l.countsHeader ? e.fixedSize : e.fixedSize - l.headerSize) / l.unit;
      lines.push(`const len = ${said};`, 'if (pos + size > out.length) return -1;');
    } else {
      const lenValue = l.countsHeader ? 'size' : `size - ${l.headerSize}`;
      const lenScaled = l.unit === 1 ? lenValue : `(${lenValue}) / ${l.unit}`;
      lines.push(
        `const len = ${lenScaled};`,
        `if (pos + size > out.length || len >= ${hex(2 ** length.bitWidth)}) return -1;`,
      );
    }
    const valueOf = (f: ElementScalar): string =>
      f.name === l.kindField
        ? hex(e.kindValue)
        : f.name === l.lengthField
          ? 'len'
          : `item.${f.name}`;
    lines.push(...writeFields([...l.header, ...e.fields], valueOf, 'out', 'pos', 'v'));
    if (t?.kind === 'bytes') lines.push(`out.set(item.${t.name}, pos + ${e.fixedSize});`);
    else if (t?.kind === 'array')
      lines.push(...arrayEncode(t, `item.${t.name}`, `pos + ${e.fixedSize}`, addImport));
    if (l.unit !== 1 && t !== null) lines.push(`out.fill(0, pos + ${raw}, pos + size);`);
    lines.push('pos += size;');
    return `case '${e.name}': {\n${lines.join('\n')}\nbreak;\n}`;
  });
  out.push(
    `/**
 * Writes \`items\` at \`out[offset]\`${l.align > 1 ? ` and pads with zero bytes to a multiple of ${l.align}` : ''}; element lengths are
 * derived${l.unit > 1 ? ` (bodies zero-padded to the ${l.unit}-byte unit)` : ''}. Returns the bytes written, or -1 when they do not fit \`out\` or a length field.
 * Allocates nothing.
 */
export function ${n.encode}(items: readonly ${n.item}[], out: Uint8Array, offset: number): number {
let pos = offset;
for (let k = 0; k < items.length; k++) {
const item = items[k];
switch (item.kind) {
${encodeCases.join('\n')}
case 'raw':
if (pos + item.bytes.length > out.length) return -1;
out.set(item.bytes, pos);
pos += item.bytes.length;
break;
}
}
${l.align > 1 ? `while ((pos - offset) % ${l.align} !== 0) {\nif (pos >= out.length) return -1;\nout[pos++] = 0;\n}\n` : ''}return pos - offset;
}`,
  );
  const decodeCases = l.elements.map((e) => {
    if (e.single) return `case ${hex(e.kindValue)}:\nlist.push({ kind: '${e.name}' });\nbreak;`;
    if (!hasView(l, e)) {
      const check = badSize(e, 'c.length', l.headerSize);
      return `case ${hex(e.kindValue)}:\n${check !== null ? `if (${check}) {\nlist.push({ kind: 'raw', bytes: bytes.slice(c.offset, c.offset + c.length) });\nbreak;\n}\n` : ''}list.push({ kind: '${e.name}' });\nbreak;`;
    }
    const check = badSize(e, 'c.length', l.headerSize);
    const v = `c.${memberName(e.name)}`;
    const props = [...otherHeader(l), ...e.fields].map(
      (f) => `${f.name}: ${itemValue(f, 'v', 'bytes', use)},`,
    );
    const t = e.tail;
    if (t?.kind === 'bytes')
      props.push(
        `${t.name}: bytes.slice(v.${t.name}Offset, v.${t.name}Offset + v.${t.name}Length),`,
      );
    else if (t?.kind === 'list')
      props.push(
        `${t.name}: ${innerNames(e, lists).decode}(bytes, v.${t.name}Offset, v.${t.name}Length),`,
      );
    else if (t !== null) props.push(`${t.name}: ${arrayDecode(t.name, t, 'v', addImport)},`);
    // An element the unit pads is kept raw when its padding is not zero (byte-exact round trip).
    const guard =
      check === null
        ? ''
        : `if (${check}) {\nlist.push({ kind: 'raw', bytes: bytes.slice(c.offset, c.offset + c.length) });\nbreak;\n}\n`;
    return `case ${hex(e.kindValue)}: {\n${guard}const v = ${v};\nlist.push({ kind: '${e.name}', ${props.join(' ')} });\nbreak;\n}`;
  });
  out.push(
    `/**
 * The ${l.name} in [offset, offset + length) as items (allocates; hot paths use the cursor):
 * unknown kinds and the padding after an end element as \`raw\`, so ${n.encode}() of the
 * result gives the same bytes. Stops where the list cannot be delimited.
 */
export function ${n.decode}(bytes: Uint8Array, offset: number, length: number, count = -1): ${n.item}[] {
const list: ${n.item}[] = [];
${isNested(l, lists) ? `// A nested list is decoded inside its parent's decode: each call walks with its own cursor.\nconst c = new ${n.cursor}('${lowerFirst(l.name)}', '${lowerFirst(l.name)}').reset(bytes, offset, length, count);` : `const c = decodeCursor${l.name}.reset(bytes, offset, length, count);`}
let end = offset;
while (c.next()) {
end = c.offset + c.length;
switch (c.kind) {
${decodeCases.join('\n')}
default:
list.push({ kind: 'raw', bytes: bytes.slice(c.offset, end) });
}
}
if (c.error === null && count < 0 && end < offset + length) list.push({ kind: 'raw', bytes: bytes.slice(end, offset + length) });
return list;
}`,
  );
  if (!isNested(l, lists))
    out.splice(
      out.length - 1,
      0,
      `const decodeCursor${l.name} = new ${n.cursor}('${lowerFirst(l.name)}', '${lowerFirst(l.name)}');`,
    );
  // Round trips need the decoder to keep elements whose unit padding is not zero as raw. The
  // fixed-size check above covers the rest; for padded tails the padding is part of the tail.

  // ---- JSON
  const jsonMembers = (e: ElementModel | null): string[] => {
    const m: string[] = [`${kind.name}: number;`];
    if (e?.single) return m;
    m.push(`${length.name}: number;`);
    for (const f of otherHeader(l)) m.push(`${f.name}: ${jsonTypeOf(f)};`);
    if (e === null) return [...m, 'data: string;'];
    for (const f of e.fields) m.push(`${f.name}: ${jsonTypeOf(f)};`);
    const t = e.tail;
    if (t?.kind === 'bytes') m.push(`${t.name}: string;`);
    else if (t?.kind === 'list') m.push(`${t.name}: ${innerNames(e, lists).json}[];`);
    else if (t !== null) m.push(`${t.name}: ${arrayOf(arrayJsonItemType(t))};`);
    return m;
  };
  const shapes = [...l.elements.map((e) => jsonMembers(e)), jsonMembers(null)];
  const unique = [...new Set(shapes.map((x) => `{ ${x.join(' ')} }`))];
  out.push(
    `/** One ${l.name} element as toJSON() shows it: the header fields, then the body's (unknown kinds: data in hex). */\nexport type ${n.json} =\n${unique.map((x) => `| ${x}`).join('\n')};`,
  );
  use('formatHex');
  const jsonCases = l.elements.map((e) => {
    if (e.single) return `case ${hex(e.kindValue)}:\nlist.push({ ${kind.name}: c.kind });\nbreak;`;
    const head = [
      `${kind.name}: c.kind`,
      `${length.name}: ${loadField(length, 'c.bytes', 'c.offset')}`,
    ];
    const v = `c.${memberName(e.name)}`;
    const fields: string[] = [];
    for (const f of [...otherHeader(l), ...e.fields])
      fields.push(
        `${f.name}: ${jsonOf(f, f.type === 'ipv6' ? `c.bytes, v.${f.name}Offset` : `v.${f.name}`, use)}`,
      );
    const t = e.tail;
    if (t?.kind === 'bytes')
      fields.push(`${t.name}: formatHex(c.bytes, v.${t.name}Offset, v.${t.name}Length)`);
    else if (t?.kind === 'list')
      fields.push(`${t.name}: ${innerNames(e, lists).toJson}(v.${t.name}())`);
    else if (t !== null) fields.push(`${t.name}: ${arrayJson(t.name, t, 'v', addImport)}`);
    if (!hasView(l, e))
      return `case ${hex(e.kindValue)}:\nlist.push({ ${head.join(', ')} });\nbreak;`;
    return `case ${hex(e.kindValue)}: {\nconst v = ${v};\nlist.push({ ${[...head, ...fields].join(', ')} });\nbreak;\n}`;
  });
  const rawHead = [
    `${kind.name}: c.kind`,
    `${length.name}: ${loadField(length, 'c.bytes', 'c.offset')}`,
    ...otherHeader(l).map(
      (f) => `${f.name}: ${jsonOf(f, loadField(f, 'c.bytes', 'c.offset'), use)}`,
    ),
    `data: formatHex(c.bytes, c.bodyOffset, c.bodyLength)`,
  ];
  out.push(
    `/** The elements \`cursor\` walks, in wire order, as plain objects (allocates). */
export function ${n.toJson}(c: ${n.cursor}): ${n.json}[] {
const list: ${n.json}[] = [];
while (c.next()) {
switch (c.kind) {
${jsonCases.join('\n')}
default:
list.push({ ${rawHead.join(', ')} });
}
}
return list;
}`,
  );
  return { statements: out, imports };
}

/** Expressions over the summary record in the local `s`. */
function summaryContext(l: ListModel): ExprContext {
  return {
    field: (name) => {
      const x = l.summaries.find((y) => y.name === name) as SummaryModel;
      if (x.kind === 'present') return `s.${presentProp(x.element)}`;
      return isWide(summaryField(l, x))
        ? `(s.${presentProp(x.element)} ? s.${name}Bits >>> 0 : -1)`
        : `s.${name}`;
    },
    len: (name) => name,
  };
}

/** A region's construct code for a list: the wrap() lines, view members and JSON. */
export function listRegionCode(
  r: Region,
  c: ListRegion,
  l: ListModel,
  fixedOffsets: Map<string, number>,
  module: string,
): Partial<ConstructCode> {
  const n = new ListNames(l);
  const self_ = `./${module}.js`;
  const hasSummary = l.summaries.length > 0;
  const summary = `this.${r.name}Summary`;
  const validate: Stmt[] = [];
  const viewProperties = [
    `private readonly ${r.name}Cursor = new ${n.cursor}('${module}', '${r.name}'${c.continues.length > 0 ? `, ${c.continues.length}` : ''});`,
  ];
  if (hasSummary)
    viewProperties.push(
      `/** @internal The summaries wrap() recorded while validating ${r.name} (read the getters). */\nreadonly ${r.name}Summary = new ${n.summary}();`,
    );
  const s = hasSummary ? ', s' : '';
  if (hasSummary) validate.push(stmt(ts`const s = ${self}.${r.name}Summary;`), stmt('s.clear();'));
  const area = (field: string): string => `offset + ${fixedOffsets.get(field) ?? 0}`;
  if (c.bound.kind === 'bytes' && l.lenient) {
    // A malformed element ends the list: the walk has recorded the summaries of those before
    // it, and where it stopped is kept for the reader instead of failing the message.
    const walk = ref(self_, n.validate);
    viewProperties.push(
      `/** Offset of the malformed element that ended ${r.name} (its list is lenient), or -1. */
${r.name}MalformedAt = -1;`,
    );
    validate.push(
      stmt(ts`${self}.${r.name}MalformedAt = size === 0 ? -1 : ${walk}(bytes, pos, size${s});`),
    );
  } else if (c.bound.kind === 'bytes') {
    const walk = ref(self_, n.validate);
    // An empty area is valid without a walk (IPv4 options, nearly always): the call is left
    // without feedback, so V8 spends its inlining budget on the walks that do run.
    validate.push(
      stmt(
        ts`${c.continues.length > 0 ? 'let' : 'const'} bad = size === 0 ? -1 : ${walk}(bytes, pos, size${s});`,
      ),
      fail('bad >= 0', 'E_BAD_OPTION', r.name, 'bad'),
    );
    for (const k of c.continues) {
      validate.push(
        when(exprTs(k.when, summaryContext(l)), [
          stmt(ts`bad = ${walk}(bytes, ${area(k.field)}, ${self}.${k.field}Length${s});`),
          fail('bad >= 0', 'E_BAD_OPTION', k.field, 'bad'),
        ]),
      );
    }
  } else {
    const count = c.bound.kind === 'count' ? ts`${self}.${c.bound.field}` : ts`-1`;
    validate.push(
      stmt(ts`const end = ${ref(self_, n.walk)}(bytes, pos, offset + length, ${count}${s});`),
      fail('end < 0', 'E_BAD_OPTION', r.name, '-1 - end'),
      stmt('const size = end - pos;'),
    );
  }
  const summaryGetters: string[] = [];
  const json: ConstructCode['json'] = [];
  for (const x of l.summaries) {
    const src = `${l.name}.${x.element}${x.field !== '' ? `.${x.field}` : ''}`;
    if (x.kind === 'present') {
      summaryGetters.push(
        `/** True when ${r.name} holds a ${x.element} element (a declared summary). */\nget ${x.name}(): boolean {\nreturn ${summary}.${presentProp(x.element)};\n}`,
      );
      json.push({ key: x.name, type: 'boolean', expr: `this.${x.name}` });
    } else if (x.kind === 'scalar') {
      const f = summaryField(l, x);
      summaryGetters.push(
        isWide(f)
          ? `/** ${src} (${x.first ? 'first' : 'last'} occurrence) as uint32; -1 when absent (a declared summary). */\nget ${x.name}(): number {\nconst s = ${summary};\nreturn s.${presentProp(x.element)} ? s.${x.name}Bits >>> 0 : -1;\n}`
          : `/** ${src} (${x.first ? 'first' : 'last'} occurrence); -1 when absent (a declared summary). */\nget ${x.name}(): number {\nreturn ${summary}.${x.name};\n}`,
      );
      json.push({
        key: x.name,
        type: 'number | null',
        expr: `this.${x.name} < 0 ? null : this.${x.name}`,
      });
    } else {
      const t = arrayTail(l, x).tail;
      const per = t.item.length;
      summaryGetters.push(
        `/** Items of ${src} recorded (at most ${x.max}; ${x.first ? 'the first' : 'the last'} such element); 0 when absent. */\nget ${x.name}Count(): number {\nreturn ${summary}.${x.name}Count;\n}`,
        `/** Their fields (the same array on every call): item i's ${t.item.map((f, j) => `${f.name} at ${per} * i${j === 0 ? '' : ` + ${j}`}`).join(', ')}, for i < ${x.name}Count. Indexing it needs no call. */\nget ${x.name}(): ${typedArrayFor(t.item)} {\nreturn ${summary}.${x.name};\n}`,
      );
      if (!t.scalarItem) {
        t.item.forEach((f, j) => {
          summaryGetters.push(
            `/** ${f.name} of recorded item i (0 <= i < ${x.name}Count). */\n${x.name}${upperFirst(f.name)}(i: number): number {\nreturn ${summary}.${x.name}[(${per} * i${j === 0 ? '' : ` + ${j}`}) % ${per * x.max}];\n}`,
          );
        });
      }
      json.push({
        key: x.name,
        type: 'number[]',
        expr: `Array.from(this.${x.name}.subarray(0, ${per} * this.${x.name}Count))`,
      });
    }
  }
  const countArg = c.bound.kind === 'count' ? `, this.${c.bound.field}` : '';
  const continueCalls = c.continues.map((k) => {
    const cond = exprTs(k.when, summaryContext(l));
    return `if (${cond}) cursor.continueIn(this.${k.field}Offset, this.${k.field}Length);`;
  });
  const cursorMember =
    continueCalls.length > 0
      ? `/** The ${r.name} cursor (the same object on every call), reset to the first element; it continues in ${c.continues.map((k) => k.field).join(', then ')} when the spec says so. */
${r.name}(): ${n.cursor} {
const cursor = this.${r.name}Cursor.reset(this.bytes, this.${r.name}Start, this.${r.name}Size);
const s = ${summary};
${continueCalls.join('\n')}
return cursor;
}`
      : `/** The ${r.name} cursor (the same object on every call), reset to the first element. */
${r.name}(): ${n.cursor} {
return this.${r.name}Cursor.reset(this.bytes, this.${r.name}Start, this.${r.name}Size${countArg});
}`;
  return {
    imports: [],
    viewProperties,
    validate,
    viewMembers: [cursorMember, ...summaryGetters],
    viewReset: hasSummary ? [`${summary}.clear();`] : [],
    json: [{ key: r.name, type: `${n.json}[]`, expr: `${n.toJson}(this.${r.name}())` }, ...json],
  };
}
