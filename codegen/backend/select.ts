/**
 * A message's `select`: which message of the same spec lays out the bytes it wraps (ICMPv6's
 * type, IGMP's type and length, a routing header's type). The head's module gets
 * - `<Head>Layout`, the union of the layouts' names (each target message's name, lower camel);
 * - `<head>Layout(view)`, the select as a switch over the head's field (cases whose condition
 *   reads the view try in order within their value);
 * - `<head>LayoutOfPrefix(bytes, offset, length)`, the same from the field's bytes, for a message
 *   the head refused (its conditional cases passed over);
 * - `<Head>Layouts`, which owns the head's view and one view per layout, wraps the head and then
 *   the layout's view, and hands out the view, its prefix decoder, toJSON() and describe().
 * The statements are built from the model here; the back end knows no protocol.
 */
import type {
  EnumModel,
  Expr,
  MessageModel,
  Region,
  ScalarField,
  SelectCase,
  SelectModel,
  SpecModel,
} from '../frontend/model.js';
import { encodeContext, needsOrigin } from './nested.js';
import { exprTs, viewOf } from './expr.js';
import { inlineLoad } from './typescript.js';

function lowerFirst(s: string): string {
  return s[0].toLowerCase() + s.slice(1);
}

/** The member name of `value` in `e`, for a comment beside the number. */
function memberName(e: EnumModel | undefined, value: number): string | null {
  return e?.members.find((m) => m.value === value)?.name ?? null;
}

function hasPseudoChecksum(m: MessageModel): boolean {
  const fields = [
    ...m.fields,
    ...m.regions.flatMap((r) => (r.construct.kind === 'field' ? [r.construct.field] : [])),
  ];
  return fields.some(
    (f) =>
      f.kind === 'scalar' &&
      f.checksum !== null &&
      (f.checksum.pseudoProtocol !== null || f.checksum.pseudoIpv6 !== null),
  );
}

/**
 * The cases a value of the select field tries, in order, up to the first without a condition
 * (later ones are never reached); `value` null stands for every value no case names.
 */
function tried(cases: SelectCase[], value: number | null): SelectCase[] {
  const out: SelectCase[] = [];
  for (const c of cases) {
    if (c.values !== null && (value === null || !c.values.includes(value))) continue;
    out.push(c);
    if (c.when === null) break;
  }
  return out;
}

/** `if (cond) return 'x';` lines, ending in a plain return when the last case has no condition. */
function outcome(cs: SelectCase[], view: string): string[] {
  const lines = cs.map((c) =>
    c.when === null
      ? `return '${lowerFirst(c.target)}';`
      : `if (${exprTs(c.when, viewOf(view))}) return '${lowerFirst(c.target)}';`,
  );
  if (cs.length === 0 || cs[cs.length - 1].when !== null) lines.push('return null;');
  return lines;
}

/** The enum of a select's field, for comments beside the values. */
function fieldEnum(spec: SpecModel, m: MessageModel, field: string): EnumModel | undefined {
  const placed = m.regions.flatMap((r) =>
    r.construct.kind === 'field' ? [r.construct.field] : [],
  );
  const key = [...m.fields, ...placed].find((f) => f.kind === 'scalar' && f.name === field);
  const enumName = key?.kind === 'scalar' ? key.enumName : null;
  return [...spec.enums, ...spec.importedEnums].find((x) => x.name === enumName);
}

/**
 * The statements of a select as a function of `view`: a switch over `key` (the select field, by
 * default the view's getter), then what no case names. `cases` are the select's, or some of them.
 */
function selectBody(
  sel: SelectModel,
  e: EnumModel | undefined,
  key = `view.${sel.field}`,
  cases = sel.cases,
): string[] {
  // One switch group per set of values that try the same cases.
  const values: number[] = [];
  for (const c of cases) for (const v of c.values ?? []) if (!values.includes(v)) values.push(v);
  const groups = new Map<string, { values: number[]; cases: SelectCase[] }>();
  for (const v of values) {
    const cs = tried(cases, v);
    const k = cs.map((c) => cases.indexOf(c)).join(',');
    const g = groups.get(k);
    if (g === undefined) groups.set(k, { values: [v], cases: cs });
    else g.values.push(v);
  }
  const rest = tried(cases, null);
  const switchLines = [`switch (${key}) {`];
  for (const g of groups.values()) {
    for (const v of g.values) {
      const name = memberName(e, v);
      switchLines.push(`case ${v}:${name === null ? '' : ` // ${name}`}`);
    }
    switchLines.push(...outcome(g.cases, 'view'));
  }
  switchLines.push('}');
  return [
    ...(groups.size > 0 ? switchLines : []),
    ...(rest.length > 0 ? outcome(rest, 'view') : ['return null;']),
  ];
}

/** One view per target message of a select, named like its layout. */
interface LayoutView {
  name: string;
  message: MessageModel;
}

function layoutViews(spec: SpecModel, sel: SelectModel): LayoutView[] {
  return [...new Set(sel.cases.map((c) => c.target))].map((t) => ({
    name: lowerFirst(t),
    message: spec.messages.find((m) => m.name === t) as MessageModel,
  }));
}

/** True when `e` reads len(`region`). */
export function readsLen(e: Expr, region: string): boolean {
  let reads = false;
  exprTs(e, {
    field: (name) => name,
    len: (name) => {
      if (name === region) reads = true;
      return name;
    },
    count: (name) => name,
    given: (name) => name,
  });
  return reads;
}

/**
 * True when the encoder of `m` takes the value of byte region `r` as the message its select
 * names (`<M><Region>Fields`), not only as bytes: every case goes by value alone (a condition
 * reads a view), every target encodes with no payload length, byte order or pseudo-header, and
 * each field derived from the region's length sits at a computed offset before it, unconditional
 * and whole bytes, so the encoder can rewrite it once the value is written (names make its size
 * known only then).
 */
export function structuredSelect(spec: SpecModel, m: MessageModel, r: Region): boolean {
  const sel = r.select;
  if (sel === undefined || sel.cases.some((c) => c.when !== null)) return false;
  for (const v of layoutViews(spec, sel)) {
    const t = v.message;
    if (t.encodeNeedsPayloadLength || t.eitherOrder || hasPseudoChecksum(t)) return false;
  }
  if (m.fields.some((f) => f.kind === 'scalar' && f.derive !== null && readsLen(f.derive, r.name)))
    return false;
  const at = m.regions.indexOf(r);
  return m.regions.every((x, i) => {
    const c = x.construct;
    if (c.kind !== 'field' || c.field.kind !== 'scalar' || c.field.derive === null) return true;
    if (!readsLen(c.field.derive, r.name)) return true;
    return i < at && c.presence === null && c.field.anyOrder !== true && c.field.bitWidth % 8 === 0;
  });
}

/** The names of a structured select's value type, layout-by-value function and encoder. */
export function selectValueNames(
  m: MessageModel,
  r: Region,
): { fields: string; layoutOf: string; encode: string } {
  const region = r.name[0].toUpperCase() + r.name.slice(1);
  return {
    fields: `${m.name}${region}Fields`,
    layoutOf: `${lowerFirst(m.name)}${region}LayoutOf`,
    encode: `encode${m.name}${region}`,
  };
}

/** `switch (this.layout)` (or `on`) returning `body(view)` per layout, `otherwise` for none. */
function perLayout(
  views: LayoutView[],
  body: (v: LayoutView) => string,
  otherwise: string,
  on = 'this.layout',
): string {
  return [
    `switch (${on}) {`,
    ...views.map((v) => `case '${v.name}':\nreturn ${body(v)};`),
    'default:',
    `return ${otherwise};`,
    '}',
  ].join('\n');
}

/** The layouts (and the head, as `head`) whose message has a region marked `quotes`. */
function quoting(head: MessageModel, views: LayoutView[]): Array<{ view: string; region: Region }> {
  return [{ name: 'head', message: head }, ...views].flatMap((v) => {
    const region = v.message.regions.find((r) => r.quotes !== undefined);
    return region === undefined ? [] : [{ view: v.name, region }];
  });
}

/** `case` lines per layout, the layouts that return the same value sharing one return. */
function grouped<T extends { view: string }>(qs: T[], body: (q: T) => string): string[] {
  const byValue = new Map<string, string[]>();
  for (const q of qs) byValue.set(body(q), [...(byValue.get(body(q)) ?? []), q.view]);
  return [...byValue].map(([value, names]) =>
    [...names.map((n) => `case '${n}':`), `return ${value};`].join('\n'),
  );
}

/**
 * quoteKind, quoteOffset and quoteLength of `<Head>Layouts`, when a layout quotes a packet: the
 * quoting region of the view that holds the message.
 */
function quoteMembers(head: MessageModel, views: LayoutView[]): string[] {
  const qs = quoting(head, views);
  if (qs.length === 0) return [];
  const onHead = qs.find((q) => q.view === 'head');
  const getter = (
    name: string,
    type: string,
    body: (q: (typeof qs)[number]) => string,
    none: string,
  ): string =>
    [
      `get ${name}(): ${type} {`,
      'switch (this.layout) {',
      ...grouped(
        qs.filter((q) => q !== onHead),
        body,
      ),
      'default:',
      `return ${onHead === undefined ? none : body(onHead)};`,
      '}',
      '}',
    ].join('\n');
  const kind = `${head.name}QuoteKind`;
  return [
    ``,
    `/**`,
    ` * The packet the message quotes, as much of it as fits (its layout's region marked \`quotes\`):`,
    ` * the spec it starts with, or null when the layout quotes none.`,
    ` */`,
    getter('quoteKind', `${kind} | null`, (q) => `'${q.region.quotes?.module}'`, 'null'),
    ``,
    `/** Absolute index of the quoted packet (0 when quoteKind is null). */`,
    getter('quoteOffset', 'number', (q) => `this.${q.view}.${q.region.name}Offset`, '0'),
    ``,
    `/** Byte length of the quoted packet (0 when quoteKind is null). */`,
    getter('quoteLength', 'number', (q) => `this.${q.view}.${q.region.name}Length`, '0'),
  ];
}

/** The head's select as top-level statements (the module already imports DecodeError). */
export function selectModuleCode(spec: SpecModel, head: MessageModel): string[] {
  const regions = head.regions.flatMap((r) => regionSelectCode(spec, head, r));
  const sel = head.select;
  if (sel === null) return regions;
  const e = fieldEnum(spec, head, sel.field);
  const targets = [...new Set(sel.cases.map((c) => c.target))];
  const layoutType = `${head.name}Layout`;
  const fn = lowerFirst(layoutType);
  const cls = `${head.name}Layouts`;
  const headView = `${head.name}View`;
  const selectFn = [
    `/**`,
    ` * The layout ${head.name}'s select names (by ${sel.field}) for the message \`view\` holds, or`,
    ` * null when no case matches: the head alone holds it.`,
    ` */`,
    `export function ${fn}(view: ${headView}): ${layoutType} | null {`,
    ...selectBody(sel, e),
    `}`,
  ].join('\n');

  const key = head.fields.find((f) => f.kind === 'scalar' && f.name === sel.field) as ScalarField;
  const keyEnd = (key.bitOffset + key.bitWidth + 7) >> 3;
  const unconditional = sel.cases.filter((c) => c.when === null);
  const prefixFn = [
    `/**`,
    ` * The layout ${head.name}'s select names from the bytes alone, for a message the head refused:`,
    ` * by the ${sel.field} the bytes hold (null when they end before it, or no case names it).`,
    ...(unconditional.length < sel.cases.length
      ? [` * A case with a condition is passed over: the condition reads a wrapped view.`]
      : []),
    ` */`,
    `export function ${fn}OfPrefix(bytes: Uint8Array, offset: number, length: number): ${layoutType} | null {`,
    `if (!(offset >= 0 && length >= ${keyEnd} && offset + ${keyEnd} <= bytes.length)) return null;`,
    ...selectBody(sel, e, inlineLoad(key, 'bytes', 'offset'), unconditional),
    `}`,
  ].join('\n');

  const views = layoutViews(spec, sel);
  const pseudo = hasPseudoChecksum(head) || views.some((v) => hasPseudoChecksum(v.message));
  const viewUnion = [headView, ...targets.map((t) => `${t}View`)].join(' | ');
  const jsonUnion = [head.name, ...targets].map((t) => `${t}JSON`).join(' | ');
  const cases = (body: (v: LayoutView) => string, otherwise: string): string =>
    perLayout(views, body, otherwise);
  const toJsonArgs = (m: MessageModel): string =>
    pseudo && hasPseudoChecksum(m) ? 'src, dst' : '';
  const klass = [
    `/**`,
    ` * ${head.name} in the layout its select names: \`head\` holds the common fields, and after`,
    ` * wrap() \`layout\` names the view that holds the whole message (null: the head alone).`,
    ` * The views are owned and re-pointed at every wrap(), so a walk allocates nothing.`,
    ` */`,
    `export class ${cls} {`,
    `readonly head = new ${headView}();`,
    ...views.map((v) => `readonly ${v.name} = new ${v.message.name}View();`),
    `/** The view holding the message after the last wrap() (when it failed: the one that refused it). */`,
    `layout: ${layoutType} | null = null;`,
    `/** After a wrap() the head refused: the layout the bytes' ${sel.field} names (see ${fn}OfPrefix). */`,
    `private prefixLayout: ${layoutType} | null = null;`,
    ``,
    `/** Wraps the head, then the layout's view; returns the first error. */`,
    `wrap(bytes: Uint8Array, offset = 0, length = bytes.length - offset): DecodeError | null {`,
    `this.layout = null;`,
    `const err = this.head.wrap(bytes, offset, length);`,
    `if (err !== null) {`,
    `this.prefixLayout = ${fn}OfPrefix(bytes, offset, length);`,
    `return err;`,
    `}`,
    `this.prefixLayout = null;`,
    `this.layout = ${fn}(this.head);`,
    cases((v) => `this.${v.name}.wrap(bytes, offset, length)`, 'null'),
    `}`,
    ``,
    `/** The view of \`layout\` (the head when it is null). */`,
    `get view(): ${viewUnion} {`,
    cases((v) => `this.${v.name}`, 'this.head'),
    `}`,
    ``,
    `/**`,
    ` * The fixed fields of the view that refused the bytes, for showing it beside its error. A head`,
    ` * that refused them shows in the layout their ${sel.field} names, so the fields that layout`,
    ` * has past the head's show as far as the bytes go.`,
    ` */`,
    `get prefixDecoder(): (bytes: Uint8Array, offset: number, length: number, last?: string) => object {`,
    perLayout(
      views,
      (v) => `decode${v.message.name}Prefix`,
      `decode${head.name}Prefix`,
      'this.layout ?? this.prefixLayout',
    ),
    `}`,
    ``,
    `/** The message as its layout's toJSON() shows it. */`,
    `toJSON(${pseudo ? 'src?: Uint8Array, dst?: Uint8Array' : ''}): ${jsonUnion} {`,
    cases(
      (v) => `this.${v.name}.toJSON(${toJsonArgs(v.message)})`,
      `this.head.toJSON(${toJsonArgs(head)})`,
    ),
    `}`,
    ``,
    `/** The message as its layout's describe() shows it. */`,
    `describe(): string {`,
    `return this.view.describe();`,
    `}`,
    ...quoteMembers(head, views),
    `}`,
  ].join('\n');

  const quoted = [...new Set(quoting(head, views).map((q) => q.region.quotes?.module))];
  return [
    ...regions,
    [
      `/** Which message of ${spec.module}.pkt lays out the bytes of a ${head.name} message (its select). */`,
      `export type ${layoutType} = ${views.map((v) => `'${v.name}'`).join(' | ')};`,
    ].join('\n'),
    ...(quoted.length === 0
      ? []
      : [
          [
            `/** The spec a packet quoted by a layout of ${head.name} starts with (a region marked \`quotes\`). */`,
            `export type ${head.name}QuoteKind = ${quoted.map((q) => `'${q}'`).join(' | ')};`,
          ].join('\n'),
        ]),
    selectFn,
    prefixFn,
    klass,
  ];
}

/**
 * A byte region's select (`rdata: bytes(rdlength) select type { ... }`): `<M><Region>Layout`,
 * `<m><Region>Layout(view)` and `<M><Region>Layouts`, whose wrap(view) wraps the message the
 * holder's field names over the region's bytes, which it must fill (else E_BAD_LENGTH where it
 * ends). A target holding DNS names gets the holder's origin (the DNS message start).
 */
function regionSelectCode(spec: SpecModel, m: MessageModel, r: Region): string[] {
  const sel = r.select;
  if (sel === undefined) return [];
  const region = r.name[0].toUpperCase() + r.name.slice(1);
  const layoutType = `${m.name}${region}Layout`;
  const fn = lowerFirst(layoutType);
  const cls = `${m.name}${region}Layouts`;
  const holder = `${m.name}View`;
  const views = layoutViews(spec, sel);
  const name = m.regions.find((x) => x.construct.kind === 'dns_name')?.name;
  const origin = (t: MessageModel): string =>
    needsOrigin(spec, t) && name !== undefined ? `, view.${name}Origin` : '';
  const cases = (body: (v: LayoutView) => string, otherwise: string): string =>
    perLayout(views, body, otherwise);
  const structured: string[] = [];
  if (structuredSelect(spec, m, r)) {
    const names = selectValueNames(m, r);
    const context = views.map((v) => encodeContext(spec, v.message)).find((c) => c !== null);
    const ctxParam = context === undefined ? '' : `, ${context.param}?: ${context.type}`;
    structured.push(
      [
        `/** ${m.name}'s ${r.name} as a value of the message its ${sel.field} selects (encode${m.name}() writes it; bytes are copied as given). */`,
        `export type ${names.fields} = ${views.map((v) => `${v.message.name}Fields`).join(' | ')};`,
      ].join('\n'),
      [
        `/** The message a ${m.name} value's ${sel.field} selects for its ${r.name}, or null. */`,
        `export function ${names.layoutOf}(f: Pick<${m.name}Fields, '${sel.field}'>): ${layoutType} | null {`,
        ...selectBody(sel, fieldEnum(spec, m, sel.field), `f.${sel.field}`),
        `}`,
      ].join('\n'),
      [
        `/**`,
        ` * Writes \`f.${r.name}\`, a value of the message f's ${sel.field} selects, at \`out[offset]\`; returns`,
        ` * the bytes written, or -1 when it does not fit or does not encode, or no message is selected.`,
        ` */`,
        `export function ${names.encode}(f: ${m.name}Fields, out: Uint8Array, offset: number${ctxParam}): number {`,
        `switch (${names.layoutOf}(f)) {`,
        ...views.map((v) => {
          const c = encodeContext(spec, v.message);
          return `case '${v.name}':\nreturn encode${v.message.name}(f.${r.name} as ${v.message.name}Fields, out, offset${c !== null ? `, ${c.param}` : ''});`;
        }),
        `default:`,
        `return -1;`,
        `}`,
        `}`,
      ].join('\n'),
    );
  }
  return [
    ...structured,
    [
      `/** Which message of ${spec.module}.pkt the ${r.name} of a ${m.name} holds (its select). */`,
      `export type ${layoutType} = ${views.map((v) => `'${v.name}'`).join(' | ')};`,
    ].join('\n'),
    [
      `/** The message ${m.name}'s ${r.name} holds by its ${sel.field}, or null when no case names one. */`,
      `export function ${fn}(view: ${holder}): ${layoutType} | null {`,
      ...selectBody(sel, fieldEnum(spec, m, sel.field)),
      `}`,
    ].join('\n'),
    [
      `/**`,
      ` * The ${r.name} of a ${m.name} as the message its ${sel.field} selects: one view per layout,`,
      ` * re-pointed by every wrap(), so nothing allocates.`,
      ` */`,
      `export class ${cls} {`,
      ...views.map((v) => `readonly ${v.name} = new ${v.message.name}View();`),
      `/** The layout of the last wrap() (null: none for its ${sel.field}). */`,
      `layout: ${layoutType} | null = null;`,
      `private readonly error = newDecodeError('${m.layer}');`,
      ``,
      `/** Wraps the layout's view over \`view\`'s ${r.name}; its error, or E_BAD_LENGTH when it does not fill them. */`,
      `wrap(view: ${holder}): DecodeError | null {`,
      `this.layout = ${fn}(view);`,
      `const bytes = view.bytes;`,
      `const offset = view.${r.name}Offset;`,
      `const length = view.${r.name}Length;`,
      cases(
        (v) =>
          `this.filled(this.${v.name}.wrap(bytes, offset, length${origin(v.message)}), this.${v.name}.messageLength, offset, length)`,
        'null',
      ),
      `}`,
      ``,
      `private filled(err: DecodeError | null, used: number, offset: number, length: number): DecodeError | null {`,
      `if (err !== null) return err;`,
      `return used === length ? null : fail(this.error, 'E_BAD_LENGTH', '${r.name}', offset + used);`,
      `}`,
      ``,
      `/** The view of \`layout\`, or null. */`,
      `get view(): ${views.map((v) => `${v.message.name}View`).join(' | ')} | null {`,
      cases((v) => `this.${v.name}`, 'null'),
      `}`,
      ``,
      `/** The ${r.name} as its layout's toJSON() shows it, or null. */`,
      `toJSON(): ${views.map((v) => `${v.message.name}JSON`).join(' | ')} | null {`,
      cases((v) => `this.${v.name}.toJSON()`, 'null'),
      `}`,
      `}`,
    ].join('\n'),
  ];
}
