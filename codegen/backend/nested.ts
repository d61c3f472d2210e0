/**
 * TypeScript for messages inside messages: a nested field (`hdr: Inner;`, model construct
 * `message`) and an array of messages (`records: array(Record, count(n))`). The inner message is
 * the spec's own, with its own view: the outer view owns one inner view (or one cursor whose item
 * view it re-points), so wrap() and the getters allocate nothing. wrap() wraps each inner
 * message where the previous one ended; its own fields say where it ends (messageLength), and
 * its failure is the outer view's, with the inner field's name and offset.
 */
import type { Expr, MessageModel, Region, SpecModel } from '../frontend/model.js';
import { type ConstructCode, type EncodeContext, regionEncodeContext } from './constructs.js';
import { exprTs } from './expr.js';
import { fieldRefs } from '../frontend/resolve.js';
import { inlineLoad } from './typescript.js';
import { structuredSelect } from './select.js';
import {
  type Code,
  comment,
  failRecorded,
  loop,
  ref,
  self,
  type Stmt,
  stmt,
  ts,
  when,
} from './wrap-ir.js';

const ERRORS = '../codec/errors.js';

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** An expression over the view's fields as wrap-ir code (the receiver is the printer's). */
function exprCode(e: Expr): Code {
  const mark = '\u0000';
  const text = exprTs(e, {
    field: (name) => `${mark}.${name}`,
    len: (name) => `${mark}.${name}Length`,
    count: (name) => `${mark}.${name}Count`,
  });
  const pieces = text.split(mark);
  return {
    parts: pieces.flatMap((p, i) => (i === 0 ? (p === '' ? [] : [p]) : [self, p])),
  };
}

/** Names of what the module has for message `m` as an array item. */
export function itemNames(m: string): {
  cursor: string;
  json: string;
  decode: string;
  length: string;
} {
  return {
    cursor: `${m}Cursor`,
    json: `${lowerFirst(m)}ItemsToJSON`,
    decode: `decode${m}Items`,
    length: `${lowerFirst(m)}ItemsLength`,
  };
}

/** The name of the function giving the bytes encodeX() writes for `f`. */
export function headerLengthName(m: string): string {
  return `${lowerFirst(m)}HeaderLength`;
}

/**
 * True when the encoder of `m` knows its byte count before writing (every part before the
 * payload has a size from `f`), so an outer encoder can check its room up front.
 */
export function encodeSizeKnown(spec: SpecModel, m: MessageModel): boolean {
  for (const r of m.regions) {
    const c = r.construct;
    if (c.kind === 'payload') return true;
    // A name's encoder finds its size as it writes (its text is checked label by label).
    if (c.kind === 'dns_name') return false;
    const inner = c.kind === 'message' ? c.message : c.kind === 'array' ? c.array.message : null;
    if (inner !== null) {
      const im = spec.messages.find((x) => x.name === inner) as MessageModel;
      if (!encodeSizeKnown(spec, im)) return false;
    }
  }
  return true;
}

/**
 * True when `m` holds a DNS name, itself or in a message it nests: its views take the DNS
 * message start (`origin`) that the names' compression pointers count from, and pass it inward.
 */
export function needsOrigin(spec: SpecModel, m: MessageModel, seen = new Set<string>()): boolean {
  if (seen.has(m.name)) return false;
  seen.add(m.name);
  return m.regions.some((r) => {
    const c = r.construct;
    if (c.kind === 'dns_name') return true;
    const inner = c.kind === 'message' ? c.message : c.kind === 'array' ? c.array.message : null;
    const im = inner === null ? undefined : spec.messages.find((x) => x.name === inner);
    return im !== undefined && needsOrigin(spec, im, seen);
  });
}

/**
 * The encode context (see EncodeContext) the encoder of `m` shares with its parts: one its own
 * regions declare, or one of a message it nests, holds as items or selects for a byte region.
 */
export function encodeContext(
  spec: SpecModel,
  m: MessageModel,
  seen = new Set<string>(),
): EncodeContext | null {
  if (seen.has(m.name)) return null;
  seen.add(m.name);
  for (const r of m.regions) {
    const own = regionEncodeContext(r);
    if (own !== null) return own;
    const c = r.construct;
    const inner = c.kind === 'message' ? c.message : c.kind === 'array' ? c.array.message : null;
    const targets = structuredSelect(spec, m, r)
      ? (r.select?.cases.map((x) => x.target) ?? [])
      : [inner];
    for (const t of targets) {
      const im = t === null ? undefined : spec.messages.find((x) => x.name === t);
      const found = im === undefined ? null : encodeContext(spec, im, seen);
      if (found !== null) return found;
    }
  }
  return null;
}

/**
 * True when `m`'s encoder owns its context rather than taking it: it needs one and no message
 * of the spec nests it, holds it as items or selects it for a byte region (whose encoders pass
 * theirs, the pointers counting from the outer message's start).
 */
export function ownsEncodeContext(spec: SpecModel, m: MessageModel): boolean {
  if (encodeContext(spec, m) === null) return false;
  const { fields, items } = nestedMessages(spec);
  if (fields.has(m.name) || items.has(m.name)) return false;
  return !spec.messages.some((x) =>
    x.regions.some((r) => r.select?.cases.some((c) => c.target === m.name) === true),
  );
}

/** The name of the module-level function that finds where an item of `m` ends (itemEndCode). */
export function itemEndName(m: string): string {
  return `${lowerFirst(m)}End`;
}

/**
 * For an item message whose bounds are fixed fields, DNS names, fields at computed offsets and
 * byte regions sized by those: a function checking the same bounds as its view's wrap() and
 * returning where the item ends, or -1 (when it does not wrap; the caller then wraps the view
 * for the error). wrap() of the array then stores nothing per item: a view's wrap() fills a
 * dozen properties the walk does not need. Null for any other message (asserts, nested
 * messages, lists, payloads, conditional fields, either byte order).
 */
export function itemEndCode(
  spec: SpecModel,
  m: MessageModel,
): { code: string; least: number } | null {
  if (m.eitherOrder || m.steps.some((s) => s.kind !== 'region')) return null;
  const origin = needsOrigin(spec, m);
  const body: string[] = [];
  let named = false;
  let least = m.fixedSize;
  if (m.fixedSize > 0) body.push(`if (pos + ${m.fixedSize} > end) return -1;`);
  body.push(m.fixedSize > 0 ? `let p = pos + ${m.fixedSize};` : 'let p = pos;');
  const placed = new Set<string>();
  const lengthCtx = {
    field: (name: string): string => {
      if (placed.has(name)) return name;
      const f = m.fields.find((x) => x.name === name);
      if (f === undefined || f.kind !== 'scalar') throw new Error(`${m.name}.${name}: no scalar`);
      return inlineLoad(f, 'bytes', 'pos');
    },
    len: (name: string): string => {
      throw new Error(`${m.name}: len(${name}) in a length`);
    },
  };
  for (const r of m.regions) {
    const c = r.construct;
    if (c.kind === 'dns_name') {
      named = true;
      least += 1;
      body.push(
        `p = walkName(bytes, origin, end - origin, p, error, '${r.name}');`,
        'if (p < 0) return -1;',
      );
    } else if (c.kind === 'field' && c.presence === null && c.field.kind === 'scalar') {
      const size = c.field.bitWidth / 8;
      least += size;
      body.push(`if (p + ${size} > end) return -1;`);
      // Only a field a later length reads is loaded.
      const read = m.regions.some(
        (x) =>
          x.construct.kind === 'bytes' &&
          typeof x.length === 'object' &&
          fieldRefs(x.length).includes(r.name),
      );
      if (read) {
        if (c.field.bitWidth > 32) return null;
        placed.add(r.name);
        body.push(`const ${r.name} = ${inlineLoad({ ...c.field, bitOffset: 0 }, 'bytes', 'p')};`);
      }
      body.push(`p += ${size};`);
    } else if (c.kind === 'bytes' && typeof r.length === 'object') {
      let size: string;
      try {
        size = exprTs(r.length, lengthCtx);
      } catch {
        return null;
      }
      body.push(
        `const ${r.name}Size = ${size};`,
        `if (${r.name}Size < 0 || p + ${r.name}Size > end) return -1;`,
        `p += ${r.name}Size;`,
      );
    } else {
      return null;
    }
  }
  body.push('return p;');
  const code = [
    `/** Where the ${m.name} at \`bytes[pos]\` ends, its bounds checked as its view's wrap() checks them (within \`end\`${origin ? ', names pointing no further back than `origin`' : ''}), or -1 when it does not wrap. Allocates nothing. */`,
    `function ${itemEndName(m.name)}(bytes: Uint8Array, pos: number, end: number${origin ? ', origin: number' : ''}${named ? ', error: DecodeError' : ''}): number {`,
    ...(origin ? ['if (origin < 0 || origin > pos) return -1;'] : []),
    ...body,
    '}',
  ].join('\n');
  return { code, least };
}

/** Messages of the spec another message nests (a field) or holds as array items. */
export function nestedMessages(spec: SpecModel): { fields: Set<string>; items: Set<string> } {
  const fields = new Set<string>();
  const items = new Set<string>();
  for (const m of spec.messages)
    for (const r of m.regions) {
      if (r.construct.kind === 'message') fields.add(r.construct.message);
      if (r.construct.kind === 'array' && r.construct.array.message !== null)
        items.add(r.construct.array.message);
    }
  return { fields, items };
}

/**
 * wrap() statements: the inner view `item` wraps at `at` within `end` (with the DNS message
 * start when it has names), or wrap() fails with its error.
 */
function wrapInner(item: Code, at: string, end: string, origin: boolean): Stmt[] {
  return [
    stmt(ts`const err = ${item}.wrap(bytes, ${at}, ${end} - ${at}${origin ? ', origin' : ''});`),
    when('err !== null', [
      stmt(ts`${ref(ERRORS, 'fail')}(${self}.error, err.code, err.field, err.offset);`),
      failRecorded('true'),
    ]),
  ];
}

function encodeCall(spec: SpecModel, item: MessageModel, value: string): string[] {
  const pl = item.encodeNeedsPayloadLength ? ', 0' : '';
  const context = encodeContext(spec, item);
  return [
    `const n = encode${item.name}(${value}, out, pos${pl}${context !== null ? `, ${context.param}` : ''});`,
    'if (n < 0) return -1;',
    'pos += n;',
  ];
}

/** The construct code of a nested message field. */
export function nestedFieldCode(
  spec: SpecModel,
  r: Region,
  item: MessageModel,
): Partial<ConstructCode> {
  const n = r.name;
  const view = `${n}View`;
  const origin = needsOrigin(spec, item);
  return {
    viewProperties: [
      `/** @internal The view of ${n}, re-pointed by every wrap() (read the getter). */\nreadonly ${view} = new ${item.name}View();`,
    ],
    validate: [
      ...wrapInner(ts`${self}.${view}`, 'pos', 'offset + length', origin),
      stmt(ts`const size = ${self}.${view}.messageLength;`),
    ],
    viewMembers: [
      `/** ${n}, a nested ${item.name} (the same view on every call, pointed at it by wrap()). */\nget ${n}(): ${item.name}View {\nreturn this.${view};\n}`,
    ],
    // An inner view that is not emptied would keep its bounds over the old bytes.
    viewReset: [`this.${view}.clear();`],
    json: [{ key: n, type: `${item.name}JSON`, expr: `this.${view}.toJSON()` }],
    fields: [
      {
        key: n,
        type: `${item.name}Fields`,
        decode: `decode${item.name}(bytes, v.${n}Offset, v.${n}Length${origin ? ', origin' : ''}) as ${item.name}Fields`,
      },
    ],
    encode: `{\n${encodeCall(spec, item, `f.${n}`).join('\n')}\n}`,
    encodeSize: encodeSizeKnown(spec, item) ? `${headerLengthName(item.name)}(f.${n})` : null,
  };
}

/** The construct code of an array of messages, bounded by count() or a byte length. */
export function messageArrayCode(
  spec: SpecModel,
  r: Region,
  item: MessageModel,
): Partial<ConstructCode> {
  const c = r.construct;
  if (c.kind !== 'array') throw new Error(`${r.name} is not an array`);
  const n = r.name;
  const names = itemNames(item.name);
  const cursor = `${n}Cursor`;
  const countSlot = `${n}CountField`;
  const inner = ts`${self}.${cursor}.item`;
  const origin = needsOrigin(spec, item);
  const originSlot = `${n}OriginField`;
  const validate: Stmt[] = origin ? [stmt(ts`${self}.${originSlot} = origin;`)] : [];
  const bound = c.count !== null ? 'offset + length' : 'pos + size';
  const itemEnd = itemEndCode(spec, item);
  const step = itemEnd
    ? [
        stmt(
          ts`let next = ${c.count !== null ? 'short ? -1 : ' : ''}${itemEndName(item.name)}(bytes, end, ${bound}${origin ? ', origin' : ''}${needsError(item) ? ts`, ${self}.error` : ''});`,
        ),
        when('next < 0', [
          comment('The item view is wrapped only for the error of what the walk refused.'),
          ...wrapInner(inner, 'end', bound, origin),
          stmt(ts`next = end + ${inner}.messageLength;`),
        ]),
        stmt('end = next;'),
      ]
    : [...wrapInner(inner, 'end', bound, origin), stmt(ts`end += ${inner}.messageLength;`)];
  if (c.count !== null) {
    validate.push(
      stmt(ts`const count = ${exprCode(c.count)};`),
      ...(itemEnd !== null
        ? [
            comment(
              `More items than the bytes can hold (each is at least ${itemEnd.least}): the item views find which one fails.`,
            ),
            stmt(`const short = count * ${itemEnd.least} > offset + length - pos;`),
          ]
        : []),
      stmt('let end = pos;'),
      loop('for (let i = 0; i < count; i++)', step),
      stmt(ts`${self}.${countSlot} = count;`),
      stmt('const size = end - pos;'),
    );
  } else {
    // Items until the byte length is used up (the last one must end exactly there).
    validate.push(
      stmt('let end = pos;'),
      stmt('let count = 0;'),
      loop('while (end < pos + size)', [...step, stmt('count++;')]),
      stmt(ts`${self}.${countSlot} = count;`),
    );
  }
  return {
    viewProperties: [
      `/** @internal The cursor over ${n} (wrap() validates with its item view). */\nreadonly ${cursor} = new ${names.cursor}();`,
      `/** @internal Items of ${n}, counted by wrap(). */\n${countSlot} = 0;`,
      ...(origin
        ? [
            `/** @internal Where the DNS message holding ${n} starts (its items' names point from there). */\n${originSlot} = 0;`,
          ]
        : []),
    ],
    validate,
    viewMembers: [
      `/** Items in ${n}. */\nget ${n}Count(): number {\nreturn this.${countSlot};\n}`,
      `/** The ${n} cursor (the same object on every call), reset to the first item: next() re-points its \`item\`, a ${item.name}View. */\n${n}(): ${names.cursor} {\nreturn this.${cursor}.reset(this.bytes, this.${n}Start, this.${n}Size, this.${countSlot}${origin ? `, this.${originSlot}` : ''});\n}`,
    ],
    viewReset: [
      `this.${countSlot} = 0;`,
      ...(origin ? [`this.${originSlot} = 0;`] : []),
      `this.${cursor}.item.clear();`,
    ],
    json: [{ key: n, type: `${item.name}JSON[]`, expr: `${names.json}(this.${n}())` }],
    fields: [{ key: n, type: `${item.name}Fields[]`, decode: `${names.decode}(v.${n}())` }],
    encode: `for (let i = 0; i < f.${n}.length; i++) {\n${encodeCall(spec, item, `f.${n}[i]`).join('\n')}\n}`,
    encodeSize: encodeSizeKnown(spec, item) ? `${names.length}(f.${n})` : null,
  };
}

/** True when the item end function of `m` reports into an error record (it walks a name). */
function needsError(m: MessageModel): boolean {
  return m.regions.some((r) => r.construct.kind === 'dns_name');
}

/** Module-level code for message `m` as an array item: its cursor, JSON, decoder and size. */
export function itemModuleCode(spec: SpecModel, m: MessageModel): string[] {
  const names = itemNames(m.name);
  const origin = needsOrigin(spec, m);
  const end = itemEndCode(spec, m);
  const out = [
    ...(end !== null ? [end.code] : []),
    `/**
 * Walks ${m.name} items one after another, over an array wrap() has validated: next() re-points
 * \`item\` (the same view every time) at the next one; nothing is allocated.
 */
export class ${names.cursor} {
/** The current item. */
readonly item = new ${m.name}View();
private bytes: Uint8Array = EMPTY;
private pos = 0;
private end = 0;
private remaining = 0;
${origin ? `/** Where the DNS message starts: the items' names point from there. */\norigin = 0;\n` : ''}
/** Re-points the cursor at \`count\` items in [offset, offset + length)${origin ? ' of the DNS message at `origin`' : ''}; returns itself. */
reset(bytes: Uint8Array, offset: number, length: number, count: number${origin ? ', origin = offset' : ''}): this {
this.bytes = bytes;
this.pos = offset;
this.end = offset + length;
this.remaining = count;
${origin ? 'this.origin = origin;\n' : ''}return this;
}

/** Advances to the next item; false after the last one (or where one does not wrap). */
next(): boolean {
if (this.remaining <= 0) return false;
if (this.item.wrap(this.bytes, this.pos, this.end - this.pos${origin ? ', this.origin' : ''}) !== null) {
this.remaining = 0;
return false;
}
this.pos += this.item.messageLength;
this.remaining--;
return true;
}
}`,
    `/** The items \`cursor\` walks as toJSON() shows each (allocates). */
export function ${names.json}(cursor: ${names.cursor}): ${m.name}JSON[] {
const list: ${m.name}JSON[] = [];
while (cursor.next()) list.push(cursor.item.toJSON());
return list;
}`,
    `/** The items \`cursor\` walks as values (allocates). */
export function ${names.decode}(cursor: ${names.cursor}): ${m.name}Fields[] {
const list: ${m.name}Fields[] = [];
while (cursor.next()) {
const item = cursor.item;
list.push(decode${m.name}(item.bytes, item.offset, item.messageLength${origin ? ', cursor.origin' : ''}) as ${m.name}Fields);
}
return list;
}`,
  ];
  if (encodeSizeKnown(spec, m)) {
    out.push(`/** Bytes encode${m.name}() writes for all of \`items\`. */
export function ${names.length}(items: readonly ${m.name}Fields[]): number {
let n = 0;
for (let i = 0; i < items.length; i++) n += ${headerLengthName(m.name)}(items[i]);
return n;
}`);
  }
  return out;
}
