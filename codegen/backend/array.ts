/**
 * TypeScript for `array(T, ...)` (ArrayModel), shared by the two places an array can be: a
 * message region (`sources: array(ipv4, count(numSources))`) and the tail of a list element
 * (`blocks: array({ left: u32; right: u32; }, rest)`). Both get the same view members (a count
 * and an indexed accessor per item field, reading the bytes in place: nothing is allocated), the
 * same value form, JSON and encoder loop; only where the items start and how many there are
 * differ, and the caller passes those.
 */
import type { ArrayModel, ElementScalar, Expr, Region, ScalarField } from '../frontend/model.js';
import type { ConstructCode, Import } from './constructs.js';
import { exprTs } from './expr.js';
import { hex, inlineLoad } from './typescript.js';
import { comment, fail, loop, stmt, type Stmt, when } from './wrap-ir.js';

const ADDRESS = '../codec/address.js';

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function asScalar(f: ElementScalar, bitBase = 0): ScalarField {
  return {
    kind: 'scalar',
    name: f.name,
    type: f.type,
    bitOffset: f.bitOffset + bitBase,
    bitWidth: f.bitWidth,
    littleEndian: false,
    enumName: f.enumName,
    derive: null,
    checksum: null,
    when: null,
  };
}

/** The load of field `f` from `b` at `base` (a uint32 for 32-bit fields). */
export function loadField(f: ElementScalar, b: string, base: string, bitBase = 0): string {
  return inlineLoad(asScalar(f, bitBase), b, base);
}

/**
 * Statements writing `fields` (a run that fills whole bytes) into `out` at `base`, each value
 * from valueOf(); bit fields sharing a byte are composed into one value first.
 */
export function writeFields(
  fields: ElementScalar[],
  valueOf: (f: ElementScalar) => string,
  out: string,
  base: string,
  tmp: string,
): string[] {
  const lines: string[] = [];
  const at = (k: number): string => `${out}[${base}${k === 0 ? '' : ` + ${k}`}]`;
  let group: ElementScalar[] = [];
  let n = 0;
  const flush = (): void => {
    if (group.length === 0) return;
    const first = group[0];
    const startByte = first.bitOffset >> 3;
    const last = group[group.length - 1];
    const bytes = ((last.bitOffset + last.bitWidth) >> 3) - startByte;
    if (group.length === 1 && first.type === 'ipv6') {
      // RFC 4291 text, parsed in place; text that does not parse fails the encode.
      lines.push(
        `if (!writeIpv6(${out}, ${base}${startByte === 0 ? '' : ` + ${startByte}`}, ${valueOf(first)})) return -1;`,
      );
    } else if (group.length === 1 && first.type === 'mac') {
      const v = valueOf(first);
      lines.push(
        `const ${tmp}${n}h = (${v} / 0x100000000) | 0;`,
        `const ${tmp}${n}l = ${v} | 0;`,
        `${at(startByte)} = ${tmp}${n}h >> 8;`,
        `${at(startByte + 1)} = ${tmp}${n}h;`,
        `${at(startByte + 2)} = ${tmp}${n}l >> 24;`,
        `${at(startByte + 3)} = ${tmp}${n}l >> 16;`,
        `${at(startByte + 4)} = ${tmp}${n}l >> 8;`,
        `${at(startByte + 5)} = ${tmp}${n}l;`,
      );
    } else {
      const bits = bytes * 8;
      const value = group
        .map((f) => {
          const shift = bits - (f.bitOffset - first.bitOffset) - f.bitWidth;
          const masked =
            f.bitWidth === bits ? valueOf(f) : `(${valueOf(f)} & ${hex(2 ** f.bitWidth - 1)})`;
          return shift === 0 ? masked : `(${masked} << ${shift})`;
        })
        .join(' | ');
      // A constant (a list element's kind) is written as its bytes.
      if (/^(0x[0-9a-f]+|[0-9]+)$/.test(value)) {
        const c = Number(value);
        for (let k = 0; k < bytes; k++)
          lines.push(
            `${at(startByte + k)} = ${hex(Math.floor(c / 2 ** (8 * (bytes - 1 - k))) & 0xff)};`,
          );
        n++;
        group = [];
        return;
      }
      // A plain name or number is stored as it is; anything else goes through a local once.
      const simple = /^[A-Za-z0-9_.[\]]+$/.test(value) && bytes < 4;
      const v = simple ? value : `${tmp}${n}`;
      if (!simple) lines.push(`const ${v} = ${bytes === 4 ? `(${value}) | 0` : value};`);
      for (let k = 0; k < bytes; k++) {
        const shift = 8 * (bytes - 1 - k);
        lines.push(`${at(startByte + k)} = ${shift === 0 ? v : `${v} >>> ${shift}`};`);
      }
    }
    n++;
    group = [];
  };
  for (const f of fields) {
    group.push(f);
    if ((f.bitOffset + f.bitWidth) % 8 === 0) flush();
  }
  flush();
  return lines;
}

function isIpv6(a: ArrayModel): boolean {
  return a.scalarItem && a.item[0].type === 'ipv6';
}

/** The name of the accessor of item field `f` (the array's own name for a scalar item). */
function accessor(name: string, a: ArrayModel, f: ElementScalar): string {
  return a.scalarItem ? name : `${name}${upperFirst(f.name)}`;
}

/**
 * View members of array `name` whose first item is at `start` and whose item count is `count`
 * (TypeScript over `this`): `<name>Count` and, per item field, an indexed getter that gives 0 for
 * an index out of range (so it never reads past the array); 32-bit items also as int32 bit
 * patterns (`<name>Bits(i)`), IPv6 items by offset, word, comparison and copy.
 */
export function arrayMembers(
  name: string,
  a: ArrayModel,
  start: string,
  count: string,
  use: (i: Import) => void,
): string[] {
  const size = a.itemSize;
  const members = [`/** Items in ${name}. */\nget ${name}Count(): number {\nreturn ${count};\n}`];
  const guard = `if (!(i >= 0 && i < this.${name}Count)) return`;
  // `i | 0`: a fractional index reads the item it truncates to, never across two items.
  const at = `${start} + ${size} * (i | 0)`;
  if (isIpv6(a)) {
    for (const helper of ['ipv6Word', 'ipv6Equals', 'copyIpv6'])
      use({ module: ADDRESS, name: helper });
    members.push(
      `/** Absolute index of item i of ${name} (16 bytes; 0 <= i < ${name}Count), -1 out of range. */\n${name}ItemOffset(i: number): number {\n${guard} -1;\nreturn ${at};\n}`,
      `/** 32-bit word k (0..3, big-endian) of item i of ${name} as uint32; 0 out of range. */\n${name}Word(i: number, k: number): number {\n${guard} 0;\nreturn ipv6Word(this.bytes, ${at}, k);\n}`,
      `/** True when item i of ${name} equals the 16 bytes at \`other[otherOffset]\` (false out of range). */\n${name}Equals(i: number, other: Uint8Array, otherOffset: number): boolean {\n${guard} false;\nreturn ipv6Equals(this.bytes, ${at}, other, otherOffset);\n}`,
      `/** Writes item i of ${name} (16 bytes) at \`out[outOffset]\`; false (nothing written) out of range or when they do not fit. */\ncopy${upperFirst(name)}(i: number, out: Uint8Array, outOffset: number): boolean {\n${guard} false;\nreturn copyIpv6(this.bytes, ${at}, out, outOffset);\n}`,
    );
    return members;
  }
  for (const f of a.item) {
    const method = accessor(name, a, f);
    const what = a.scalarItem ? `Item i of ${name}` : `${f.name} of item i of ${name}`;
    const load = loadField(f, 'b', 'o');
    members.push(
      `/** ${what}${f.type === 'ipv4' ? ' (an IPv4 address as a number)' : ''} (0 <= i < ${name}Count); 0 out of range. */\n${method}(i: number): number {\n${guard} 0;\nconst b = this.bytes;\nconst o = ${at};\nreturn ${load};\n}`,
    );
    if (a.scalarItem && load.endsWith(' >>> 0')) {
      members.push(
        `/** Item i of ${name} as its int32 bit pattern: a small integer to V8, never boxed; 0 out of range. */\n${method}Bits(i: number): number {\n${guard} 0;\nconst b = this.bytes;\nconst o = ${at};\nreturn ${load.slice(0, -' >>> 0'.length)};\n}`,
      );
    }
  }
  return members;
}

/** The TypeScript type of an array of `item`s (`number[]`, `Array<{ a: number }>`). */
export function arrayOf(item: string, readonly = false): string {
  if (/^\w+$/.test(item)) return `${readonly ? 'readonly ' : ''}${item}[]`;
  return `${readonly ? 'ReadonlyArray' : 'Array'}<${item}>`;
}

/** The value form (`Fields`) type of one item. */
export function arrayItemType(a: ArrayModel): string {
  if (a.message !== null) return `${a.message}Fields`;
  if (isIpv6(a)) return 'string';
  if (a.scalarItem) return 'number';
  return `{ ${a.item.map((f) => `${f.name}: number`).join('; ')} }`;
}

/** The toJSON() type of one item (addresses as text). */
export function arrayJsonItemType(a: ArrayModel): string {
  if (a.message !== null) return `${a.message}JSON`;
  const t = (f: ElementScalar): string => (f.type === 'uint' ? 'number' : 'string');
  if (a.scalarItem) return t(a.item[0]);
  return `{ ${a.item.map((f) => `${f.name}: ${t(f)}`).join('; ')} }`;
}

function formatted(f: ElementScalar, get: string, use: (i: Import) => void): string {
  if (f.type === 'ipv4') {
    use({ module: ADDRESS, name: 'formatIpv4' });
    return `formatIpv4(${get})`;
  }
  if (f.type === 'mac') {
    use({ module: ADDRESS, name: 'formatMac' });
    return `formatMac(${get})`;
  }
  return get;
}

/** Items of array `name` of the view `v` mapped by `item(i)` (allocates: JSON and values). */
function mapItems(name: string, v: string, item: string): string {
  return `Array.from({ length: ${v}.${name}Count }, (_, i) => ${item})`;
}

/** toJSON() of array `name` of the view `v`. */
export function arrayJson(
  name: string,
  a: ArrayModel,
  v: string,
  use: (i: Import) => void,
): string {
  if (isIpv6(a)) {
    use({ module: ADDRESS, name: 'formatIpv6' });
    return mapItems(name, v, `formatIpv6(${v}.bytes, ${v}.${name}ItemOffset(i))`);
  }
  if (a.scalarItem) return mapItems(name, v, formatted(a.item[0], `${v}.${name}(i)`, use));
  const props = a.item.map(
    (f) => `${f.name}: ${formatted(f, `${v}.${accessor(name, a, f)}(i)`, use)}`,
  );
  return mapItems(name, v, `({ ${props.join(', ')} })`);
}

/** The value form of array `name` of the view `v`. */
export function arrayDecode(
  name: string,
  a: ArrayModel,
  v: string,
  use: (i: Import) => void,
): string {
  if (isIpv6(a)) {
    use({ module: ADDRESS, name: 'formatIpv6' });
    return mapItems(name, v, `formatIpv6(${v}.bytes, ${v}.${name}ItemOffset(i))`);
  }
  if (a.scalarItem) return mapItems(name, v, `${v}.${name}(i)`);
  const props = a.item.map((f) => `${f.name}: ${v}.${accessor(name, a, f)}(i)`);
  return mapItems(name, v, `({ ${props.join(', ')} })`);
}

/**
 * Encoder lines writing the items of `src` (an array of values) into `out` from `start`, one
 * after another (room is the caller's check). An IPv6 text that does not parse returns -1.
 */
export function arrayEncode(
  a: ArrayModel,
  src: string,
  start: string,
  use: (i: Import) => void,
): string[] {
  const head = `for (let i = 0, at = ${start}; i < ${src}.length; i++, at += ${a.itemSize}) {`;
  if (isIpv6(a)) {
    use({ module: ADDRESS, name: 'writeIpv6' });
    return [head, `if (!writeIpv6(out, at, ${src}[i])) return -1;`, '}'];
  }
  const valueOf = (f: ElementScalar): string =>
    a.scalarItem ? `${src}[i]` : `${src}[i].${f.name}`;
  return [head, ...writeFields(a.item, valueOf, 'out', 'at', 'w'), '}'];
}

/**
 * A message region `array(T, bound)` of fixed-size items: wrap() has bounded it (count() gives
 * count * size bytes; a byte length must hold whole items: E_BAD_LENGTH at the array).
 */
export function arrayRegionCode(r: Region): Partial<ConstructCode> {
  const c = r.construct;
  if (c.kind !== 'array') throw new Error(`${r.name} is not an array`);
  const a = c.array;
  const n = r.name;
  const imports: Import[] = [];
  const use = (i: Import): void => {
    imports.push(i);
  };
  // wrap() made the size a whole number of items (count * size, a checked byte length, or the
  // items walked up to the one that ends the array).
  const count = a.itemSize === 1 ? `this.${n}Size` : `(this.${n}Size / ${a.itemSize}) | 0`;
  const validate =
    c.until !== null
      ? untilWalk(n, a, c.until)
      : c.count === null && a.itemSize > 1
        ? [fail(`size % ${a.itemSize} !== 0`, 'E_BAD_LENGTH', n, 'pos')]
        : [];
  const members = arrayMembers(n, a, `this.${n}Start`, count, use);
  const json = arrayJson(n, a, 'this', use);
  const decode = arrayDecode(n, a, 'v', use);
  const encode = [
    ...(c.until === null ? [] : untilCheck(n, a, c.until)),
    ...arrayEncode(a, `f.${n}`, 'pos', use),
    `pos += ${a.itemSize} * f.${n}.length;`,
  ];
  return {
    imports,
    validate,
    viewMembers: members,
    json: [{ key: n, type: arrayOf(arrayJsonItemType(a)), expr: json }],
    fields: [{ key: n, type: arrayOf(arrayItemType(a)), decode }],
    encode: encode.join('\n'),
    encodeSize: `${a.itemSize} * f.${n}.length`,
  };
}

/**
 * wrap() of `array(T, until COND)`: items from `pos`, each read in place, up to and including
 * the first for which COND holds; `size` is their bytes. Every item moves the walk forward, so it
 * ends within the window: an array whose last item runs past it, or that reaches its end without
 * an item meeting COND, is E_TRUNCATED at the array.
 */
function untilWalk(name: string, a: ArrayModel, until: Expr): Stmt[] {
  const test = exprTs(until, {
    field: (f) =>
      `(${loadField(a.item.find((x) => x.name === f) as ElementScalar, 'bytes', 'item')})`,
    len: () => {
      throw new Error('len() in an until condition');
    },
  });
  return [
    comment(`Items up to and including the first whose ${exprText(until)}.`),
    stmt('let end = pos;'),
    loop('for (;;)', [
      fail(`end + ${a.itemSize} > offset + length`, 'E_TRUNCATED', name, 'pos'),
      stmt('const item = end;'),
      stmt(`end += ${a.itemSize};`),
      when(test, [stmt('break;')]),
    ]),
    stmt('const size = end - pos;'),
  ];
}

/**
 * Encoder lines refusing (-1) items that would not decode as given: COND must hold for the last
 * item and for no item before it.
 */
function untilCheck(name: string, a: ArrayModel, until: Expr): string[] {
  const test = exprTs(until, {
    field: (f) => (a.scalarItem ? `f.${name}[i]` : `f.${name}[i].${f}`),
    len: () => {
      throw new Error('len() in an until condition');
    },
  });
  return [
    `// The array ends at the first item whose ${exprText(until)}: the last one given, and only it.`,
    `if (f.${name}.length === 0) return -1;`,
    `for (let i = 0; i < f.${name}.length; i++) {`,
    `if (${test} !== (i === f.${name}.length - 1)) return -1;`,
    '}',
  ];
}

/** An until condition as the spec writes it, for comments. */
function exprText(e: Expr): string {
  switch (e.kind) {
    case 'num':
      return String(e.value);
    case 'field':
      return e.name;
    case 'not':
      return `!(${exprText(e.operand)})`;
    case 'in':
      return `${exprText(e.operand)} in {${e.values.join(', ')}}`;
    case 'bin':
      return `${exprText(e.left)} ${e.op} ${exprText(e.right)}`;
    default:
      return '';
  }
}
