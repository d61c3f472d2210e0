/**
 * A fixed-size field at a computed offset (model: a `field` region): conditional
 * (`key: u32 if k == 1`) or after a variable part. wrap() sizes it (0 when its condition does
 * not hold) and bound-checks it like any region, then decodes a scalar into its own property,
 * so its getter is one load as in the fixed part; the view also tells whether it is there.
 */
import type { Region, ScalarField } from '../frontend/model.js';
import type { ConstructCode } from './constructs.js';
import { exprTs, type ExprContext } from './expr.js';
import { isWide, valueDecode, valueType, wideGetters, wideStores } from './typescript.js';
import { self, stmt, ts } from './wrap-ir.js';

const ADDRESS = '../codec/address.js';

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export interface PlacedLoads {
  /** A scalar read from `bytes` at `pos`, as it is stored (32-bit values as int32). */
  stored(f: ScalarField): string;
  /** Whether the getter needs `>>> 0` (a 32-bit value kept as int32). */
  word(f: ScalarField): boolean;
}

/**
 * The construct code of a `field` region; `enc` evaluates its condition in the encoder. With
 * `written` (a derived field over the length of a region written after it, whose size only its
 * encoder finds), the encoder keeps where the field went (`<name>At`) and `rewrite` holds the
 * statements that store it again, its derive evaluated in `written`.
 */
export function placedFieldCode(
  r: Region,
  enc: ExprContext,
  loads: PlacedLoads,
  written?: ExprContext,
): ConstructCode & { rewrite: string[] } {
  if (r.construct.kind !== 'field') throw new Error(`${r.name} is not a placed field`);
  const { field, presence } = r.construct;
  const n = r.name;
  const has = `has${upperFirst(n)}`;
  const present = presence !== null ? exprTs(presence, enc) : 'true';
  const viewMembers: string[] = [];
  if (presence !== null) {
    viewMembers.push(
      `/** True when ${n} is on the wire (its condition held in wrap()); when false its getter gives 0 and its length is 0. */\nget ${has}(): boolean {\nreturn this.${n}Size !== 0;\n}`,
    );
  }
  const orNull = (v: string): string => (presence !== null ? `this.${has} ? ${v} : null` : v);
  const orUndefined = (v: string): string =>
    presence !== null ? `v.${has} ? ${v} : undefined` : v;
  const base: ConstructCode & { rewrite: string[] } = {
    rewrite: [],
    imports: [],
    viewProperties: [],
    validate: [],
    viewMembers,
    viewReset: [],
    json: [],
    fields: [],
    encode: '',
    encodeSize: presence !== null ? `(${present} ? ${sizeOf(r)} : 0)` : String(sizeOf(r)),
    moduleExtras: [],
  };
  if (field.kind === 'bytes') {
    base.imports.push({ module: ADDRESS, name: 'formatHex' });
    base.json.push({
      key: n,
      type: presence !== null ? 'string | null' : 'string',
      expr: orNull(`formatHex(this.bytes, this.${n}Offset, ${field.size})`),
    });
    base.fields.push({
      key: n,
      type: 'Uint8Array',
      decode: orUndefined(`bytes.slice(v.${n}Offset, v.${n}Offset + ${field.size})`),
      optional: presence !== null,
    });
    const write = [
      `out.fill(0, pos, pos + ${field.size});`,
      `const ${n}Bytes = f.${n}${presence !== null ? ' ?? EMPTY' : ''};`,
      `out.set(${n}Bytes.length > ${field.size} ? ${n}Bytes.subarray(0, ${field.size}) : ${n}Bytes, pos);`,
      `pos += ${field.size};`,
    ];
    base.encode =
      presence !== null ? `if (${present}) {\n${write.join('\n')}\n}` : write.join('\n');
    return base;
  }
  if (field.type === 'mac' || isWide(field)) {
    wideCode(base, n, field, presence !== null, present, loads);
    return base;
  }
  const slot = `${n}Field`;
  base.viewProperties.push(
    `/** @internal ${n} as wrap() decoded it (0 when it is not on the wire). */\n${slot} = 0;`,
  );
  base.viewReset.push(`this.${slot} = 0;`);
  base.validate.push(
    stmt(
      presence !== null
        ? ts`${self}.${slot} = size === 0 ? 0 : ${loads.stored(field)};`
        : ts`${self}.${slot} = ${loads.stored(field)};`,
    ),
  );
  viewMembers.push(
    `/** ${n}: ${field.bitWidth} bits at a computed offset${presence !== null ? `; 0 when it is not on the wire (see ${has})` : ''}. */\nget ${n}(): number {\nreturn this.${slot}${loads.word(field) ? ' >>> 0' : ''};\n}`,
  );
  let shown = `this.${n}`;
  if (field.type === 'ipv4') {
    base.imports.push({ module: ADDRESS, name: 'formatIpv4' });
    shown = `formatIpv4(this.${n})`;
  }
  base.json.push({
    key: n,
    type: `${field.type === 'ipv4' ? 'string' : 'number'}${presence !== null ? ' | null' : ''}`,
    expr: orNull(shown),
  });
  // A checksum the caller leaves undefined is written as 0, summed over, then filled in at
  // `${n}At` (the encoder's local: where this word went).
  const checksum = field.kind === 'scalar' && field.checksum !== null;
  base.fields.push({
    key: n,
    type: 'number',
    decode: orUndefined(`v.${n}`),
    optional: presence !== null || checksum || field.derive !== null,
  });
  const bytes = field.bitWidth / 8;
  // A derived field (only after a variable part, never conditional) left undefined is computed
  // from the caller's other values, as in the fixed part.
  const value =
    field.derive !== null
      ? `f.${n} ?? ${exprTs(field.derive, enc)}`
      : presence !== null || checksum
        ? `f.${n} ?? 0`
        : `f.${n}`;
  const rewritten = written !== undefined && field.derive !== null;
  const write = [
    ...(checksum ? [`${n}At = pos;`] : []),
    ...(rewritten ? [`const ${n}At = pos;`] : []),
    `const ${n}Value = ${bytes === 4 ? `(${value}) | 0` : value};`,
  ];
  const stores = (little: boolean, at = 'pos'): string[] =>
    Array.from({ length: bytes }, (_, k) => {
      const shift = little ? 8 * k : 8 * (bytes - 1 - k);
      return `out[${at}${k === 0 ? '' : ` + ${k}`}] = ${shift === 0 ? `${n}Value` : `${n}Value >>> ${shift}`};`;
    });
  if (rewritten && field.derive !== null) {
    const again = exprTs(field.derive, written);
    base.rewrite = [
      `if (f.${n} === undefined) {`,
      `const ${n}Value = ${bytes === 4 ? `(${again}) | 0` : again};`,
      ...stores(field.kind === 'scalar' && field.littleEndian, `${n}At`),
      `}`,
    ];
  }
  // An endian(be, le) message's field: in the order the encoder is given.
  if (field.kind === 'scalar' && field.anyOrder === true)
    write.push('if (littleEndian) {', ...stores(true), '} else {', ...stores(false), '}');
  else write.push(...stores(field.kind === 'scalar' && field.littleEndian));
  write.push(`pos += ${bytes};`);
  base.encode = presence !== null ? `if (${present}) {\n${write.join('\n')}\n}` : write.join('\n');
  return base;
}

function sizeOf(r: Region): number {
  if (r.construct.kind !== 'field') return 0;
  const f = r.construct.field;
  return f.kind === 'scalar' ? f.bitWidth / 8 : f.size;
}

/**
 * A 48-, 64- or 128-bit field at a computed offset: wrap() keeps it as int32 words (a MAC as its
 * high 16 and low 32 bits), as in the fixed part, so no getter boxes; the getters are the fixed
 * part's (offset, words, compare and copy for IPv6; halves and bigint for u64).
 */
function wideCode(
  base: ConstructCode,
  n: string,
  field: ScalarField,
  conditional: boolean,
  present: string,
  loads: PlacedLoads,
): void {
  const has = `has${upperFirst(n)}`;
  const use = (module: string, name: string): void => {
    base.imports.push({ module, name });
  };
  const part = (bitOffset: number, bitWidth: number): ScalarField => ({
    ...field,
    type: 'uint',
    bitOffset,
    bitWidth,
  });
  const words: Array<[string, ScalarField]> =
    field.type === 'mac'
      ? [
          [`${n}HiField`, part(0, 16)],
          [`${n}LoField`, part(16, 32)],
        ]
      : field.type === 'u64'
        ? [
            [`${n}HiField`, part(0, 32)],
            [`${n}LoField`, part(32, 32)],
          ]
        : [0, 1, 2, 3].map((k) => [`${n}W${k}Field`, part(32 * k, 32)]);
  words.forEach(([slot, w], i) => {
    base.viewProperties.push(
      `${i === 0 ? `/** @internal ${n} as wrap() decoded it, in int32 words (0 when it is not on the wire). */\n` : ''}${slot} = 0;`,
    );
    base.viewReset.push(`this.${slot} = 0;`);
    base.validate.push(
      stmt(
        conditional
          ? ts`${self}.${slot} = size === 0 ? 0 : ${loads.stored(w)};`
          : ts`${self}.${slot} = ${loads.stored(w)};`,
      ),
    );
  });
  const absent = conditional ? `; 0 when it is not on the wire (see ${has})` : '';
  let shown: string;
  if (field.type === 'mac') {
    use(ADDRESS, 'formatMac');
    base.viewMembers.push(
      `/** ${n}: a 48-bit MAC at a computed offset${absent}. */\nget ${n}(): number {\nreturn this.${n}HiField * 0x100000000 + (this.${n}LoField >>> 0);\n}`,
      `/** High 16 bits of ${n}. */\nget ${n}Hi(): number {\nreturn this.${n}HiField;\n}`,
      `/** Low 32 bits of ${n} as their int32 bit pattern: a small integer to V8, never boxed. */\nget ${n}LoBits(): number {\nreturn this.${n}LoField;\n}`,
    );
    shown = `formatMac(this.${n})`;
  } else {
    // The part's own offset getter is the field's (the first of the fixed part's getters).
    base.viewMembers.push(...wideGetters(field, `this.${n}Offset`, use).slice(1));
    if (field.type === 'ipv6') {
      use(ADDRESS, 'formatIpv6');
      shown = `formatIpv6(this.bytes, this.${n}Offset)`;
    } else {
      shown = `this.${n}BigInt().toString()`;
    }
  }
  base.json.push({
    key: n,
    type: conditional ? 'string | null' : 'string',
    expr: conditional ? `this.${has} ? ${shown} : null` : shown,
  });
  if (field.type === 'ipv6') use(ADDRESS, 'formatIpv6');
  const decode = valueDecode(field, 'v');
  base.fields.push({
    key: n,
    type: valueType(field),
    decode: conditional ? `v.${has} ? ${decode} : undefined` : decode,
    optional: conditional,
  });
  const zero = field.type === 'u64' ? '0n' : field.type === 'ipv6' ? "'::'" : '0';
  const value = conditional ? `(f.${n} ?? ${zero})` : `f.${n}`;
  const at = (k: number): string => `pos${k === 0 ? '' : ` + ${k}`}`;
  let write: string[];
  if (field.type === 'mac') {
    write = [
      `const ${n}Hi = (${value} / 0x100000000) | 0;`,
      `const ${n}Lo = ${value} | 0;`,
      `out[pos] = ${n}Hi >> 8;`,
      `out[pos + 1] = ${n}Hi;`,
      `out[pos + 2] = ${n}Lo >> 24;`,
      `out[pos + 3] = ${n}Lo >> 16;`,
      `out[pos + 4] = ${n}Lo >> 8;`,
      `out[pos + 5] = ${n}Lo;`,
    ];
  } else {
    if (field.type === 'ipv6') use(ADDRESS, 'putIpv6');
    write = wideStores(field, value, at);
  }
  write.push(`pos += ${field.bitWidth / 8};`);
  base.encode = conditional ? `if (${present}) {\n${write.join('\n')}\n}` : write.join('\n');
}
