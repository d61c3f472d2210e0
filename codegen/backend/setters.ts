/**
 * The in-place setters of a view: one per fixed scalar, writing that field's wire bits (the
 * other bits of a shared byte are kept) and the property wrap() decoded it into, so the getters
 * and the bytes agree. For a field under the message's declared checksum there is also a
 * variant that updates the checksum for the change alone (RFC 1624 eqn. 3) instead of summing
 * the message again. Built from the model only: nothing here knows a protocol.
 */
import type { MessageModel, ScalarField } from '../frontend/model.js';
import { fieldRefs } from '../frontend/resolve.js';
import { hex, plus } from './typescript.js';

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** `b[o + k]`, the k-th byte of the message. */
function at(k: number): string {
  return k === 0 ? 'b[o]' : `b[o + ${k}]`;
}

/** The fixed fields wrap()'s checks and region lengths read: setting one re-delimits the view. */
export function structuralFields(m: MessageModel): Set<string> {
  const used = new Set<string>();
  for (const step of m.steps) {
    const e =
      step.kind === 'assert' ? step.expr : m.regions.find((r) => r.name === step.region)?.length;
    if (e !== undefined && typeof e !== 'string') for (const name of fieldRefs(e)) used.add(name);
  }
  // Fields a construct reads itself (counts of a walked list, an overload flag).
  const names = new Set(m.fields.map((f) => f.name));
  for (const r of m.regions) {
    for (const value of Object.values(r.construct).flat()) {
      if (typeof value === 'string' && names.has(value)) used.add(value);
    }
    // An array's item count (a walked array of messages has no length expression).
    if (r.construct.kind === 'array' && r.construct.count !== null)
      for (const name of fieldRefs(r.construct.count)) used.add(name);
  }
  return used;
}

/**
 * The fields the length of a checksum's coverage depends on: those of the regions it covers
 * (before the payload for a header checksum, all for a message checksum, whose length is also
 * in a pseudo-header).
 */
function coverageFields(m: MessageModel, coverage: 'header' | 'message'): Set<string> {
  const out = new Set<string>();
  for (const r of m.regions) {
    if (coverage === 'header' && r.construct.kind === 'payload') break;
    if (typeof r.length !== 'string') for (const name of fieldRefs(r.length)) out.add(name);
    if (r.construct.kind === 'array' && r.construct.count !== null)
      for (const name of fieldRefs(r.construct.count)) out.add(name);
  }
  return out;
}

/** First and last byte (relative to the message) a scalar occupies. */
function byteSpan(f: ScalarField): [number, number] {
  return [f.bitOffset >> 3, (f.bitOffset + f.bitWidth - 1) >> 3];
}

/**
 * Statements writing the uint `value` (already masked to the field's width, or for a 32-bit
 * field any int32/uint32 with the same low 32 bits) into the field's bytes at `b`, `o`. A byte
 * the field shares with a neighbour is read, masked and written back.
 */
function writeBits(f: ScalarField, value: string): string[] {
  if (f.anyOrder === true) {
    const le = writeBits({ ...f, anyOrder: false, littleEndian: true }, value);
    const be = writeBits({ ...f, anyOrder: false }, value);
    return ['if (this.littleEndian) {', ...le, '} else {', ...be, '}'];
  }
  const [first, last] = byteSpan(f);
  const n = last - first + 1;
  // Bits after the field in its last byte: the field's value is shifted left by this much.
  const shift = n * 8 - (f.bitOffset % 8) - f.bitWidth;
  const lines: string[] = [];
  for (let k = 0; k < n; k++) {
    // k counts in significance order; a little-endian field stores its least significant first.
    const byte = first + (f.littleEndian ? n - 1 - k : k);
    const down = 8 * (n - 1 - k) - shift;
    const part = down === 0 ? value : down > 0 ? `${value} >>> ${down}` : `${value} << ${-down}`;
    // Which bits of this byte belong to the field.
    const lowBit = Math.max(0, shift - 8 * (n - 1 - k));
    const highBit = Math.min(8, shift + f.bitWidth - 8 * (n - 1 - k));
    const mine = ((1 << highBit) - 1) & ~((1 << lowBit) - 1) & 0xff;
    if (mine === 0xff) lines.push(`${at(byte)} = ${part};`);
    else
      lines.push(
        `${at(byte)} = (${at(byte)} & ${hex(~mine & 0xff)}) | ((${part}) & ${hex(mine)});`,
      );
  }
  return lines;
}

/**
 * The big-endian 16-bit words (relative to the message start, where the checksum's coverage
 * starts) holding the field's bits, as expressions of `value` positioned in each word. Bytes
 * of a word outside the field count as 0: they do not change, and in one's-complement
 * arithmetic ~m + m' depends only on m' - m.
 */
function wordsOf(f: ScalarField, value: string): string[] {
  const [first, last] = byteSpan(f);
  const shift = (last - first + 1) * 8 - (f.bitOffset % 8) - f.bitWidth;
  const words: string[] = [];
  for (let w = first & ~1; w <= last; w += 2) {
    // Bits of the positioned value that land in word w: its end is at byte last + 1.
    const down = 8 * (last + 1 - (w + 2)) - shift;
    const part =
      down === 0 ? value : down > 0 ? `(${value} >>> ${down})` : `(${value} << ${-down})`;
    words.push(`(${part} & 0xffff)`);
  }
  return words;
}

export interface SetterContext {
  m: MessageModel;
  /** Properties wrap() stores a scalar in (one, or a MAC's two halves). */
  slots(f: ScalarField): string[];
}

/** The masked value a setter stores, as an expression of its `value` parameter. */
function masked(f: ScalarField): string {
  return f.bitWidth >= 32 ? 'value | 0' : `value & ${hex(2 ** f.bitWidth - 1)}`;
}

/** Statements of a setter: write `value` into the bytes and into the field's properties. */
function writeField(f: ScalarField, ctx: SetterContext): string[] {
  const lines = ['const b = this.bytes;', 'const o = this.offset;'];
  if (f.type === 'mac') {
    const [hi, lo] = ctx.slots(f);
    const first = f.bitOffset >> 3;
    return [
      ...lines,
      `${at(first)} = hi >>> 8;`,
      `${at(first + 1)} = hi;`,
      `${at(first + 2)} = lo >>> 24;`,
      `${at(first + 3)} = lo >>> 16;`,
      `${at(first + 4)} = lo >>> 8;`,
      `${at(first + 5)} = lo;`,
      `this.${hi} = hi & 0xffff;`,
      `this.${lo} = lo | 0;`,
    ];
  }
  return [
    ...lines,
    `const v = ${masked(f)};`,
    ...writeBits(f, 'v'),
    `this.${ctx.slots(f)[0]} = v;`,
  ];
}

/** The 16-bit words under the checksum that a field's value occupies, from its properties. */
function fieldWords(f: ScalarField, ctx: SetterContext): string[] {
  const s = ctx.slots(f).map((x) => `this.${x}`);
  if (f.type !== 'mac') return wordsOf(f, s[0]);
  // A MAC as its two halves; where they share a word their parts add up to it.
  const hi: ScalarField = { ...f, type: 'uint', bitWidth: 16 };
  const lo: ScalarField = { ...f, type: 'uint', bitOffset: f.bitOffset + 16, bitWidth: 32 };
  return [...wordsOf(hi, s[0]), ...wordsOf(lo, s[1])];
}

/**
 * The setter of a u64 (from its uint32 or int32 halves, like a MAC's) or an ipv6 field (from
 * 16 bytes at an offset of any buffer; false, nothing written, when those are out of bounds).
 */
function wideSetter(f: ScalarField, method: string, ctx: SetterContext): string {
  const first = f.bitOffset >> 3;
  const slots = ctx.slots(f);
  const store = (word: string, k: number): string[] => [
    ...[0, 1, 2, 3].map(
      (j) => `${at(first + 4 * k + j)} = ${word}${j === 3 ? '' : ` >>> ${24 - 8 * j}`};`,
    ),
    `this.${slots[k]} = ${word} | 0;`,
  ];
  if (f.type === 'u64') {
    return `/** Writes the 64-bit ${f.name} in place from its high and low 32 bits (uint32 or int32): no bigint is made. */
      ${method}Halves(hi: number, lo: number): void {
        const b = this.bytes;
        const o = this.offset;
        ${[...store('hi', 0), ...store('lo', 1)].join('\n')}
      }`;
  }
  const words = [0, 1, 2, 3].map(
    (k) =>
      `const w${k} = (from[${plus('fromOffset', 4 * k)}] << 24) | (from[fromOffset + ${4 * k + 1}] << 16) | (from[fromOffset + ${4 * k + 2}] << 8) | from[fromOffset + ${4 * k + 3}];`,
  );
  return `/** Writes ${f.name} in place from the 16 bytes at \`from[fromOffset]\`; false (nothing written) when those are out of bounds. */
    ${method}(from: Uint8Array, fromOffset: number): boolean {
      if (!(fromOffset >= 0 && fromOffset + 16 <= from.length)) return false;
      ${words.join('\n')}
      const b = this.bytes;
      const o = this.offset;
      ${[0, 1, 2, 3].flatMap((k) => store(`w${k}`, k)).join('\n')}
      return true;
    }`;
}

/**
 * The checksum-updating variant of a u64 or ipv6 setter: the field's 16-bit words before and
 * after, from the int32 words wrap() keeps (ND messages hold IPv6 addresses under ICMPv6's
 * checksum).
 */
function wideUpdatingSetter(f: ScalarField, c: ScalarField, ctx: SetterContext): string {
  const name = upperFirst(f.name);
  const halves = (slot: string): string[] => [`(this.${slot} >>> 16)`, `(this.${slot} & 0xffff)`];
  const words = ctx.slots(f).flatMap(halves);
  const [params, args, ret] =
    f.type === 'u64'
      ? ['hi: number, lo: number', 'hi, lo', 'void']
      : ['from: Uint8Array, fromOffset: number', 'from, fromOffset', 'boolean'];
  const set = f.type === 'u64' ? `set${name}Halves` : `set${name}`;
  const write =
    f.type === 'u64' ? [`this.${set}(${args});`] : [`if (!this.${set}(${args})) return false;`];
  return `/** ${set}(), with ${c.name} updated for the change alone (RFC 1624) rather than summed again. */
    ${set}Updating${upperFirst(c.name)}(${params}): ${ret} {
      const before = ${words.map((w) => `(~${w} & 0xffff)`).join(' + ')};
      ${write.join('\n')}
      this.update${upperFirst(c.name)}(before + ${words.join(' + ')});${f.type === 'u64' ? '' : '\nreturn true;'}
    }`;
}

/** View members: every fixed scalar's setter, the checksum-updating variants and their helper. */
export function setterMembers(ctx: SetterContext): string[] {
  const m = ctx.m;
  const scalars = m.fields.filter((f): f is ScalarField => f.kind === 'scalar');
  // A checksum at a computed offset (a `field` region) is updated where wrap() found it.
  const placed = m.regions.find(
    (r) =>
      r.construct.kind === 'field' &&
      r.construct.field.kind === 'scalar' &&
      r.construct.field.checksum !== null,
  );
  const placedField =
    placed?.construct.kind === 'field' && placed.construct.field.kind === 'scalar'
      ? placed.construct.field
      : undefined;
  const checksum = scalars.find((f) => f.checksum !== null) ?? placedField;
  const structural = structuralFields(m);
  const out: string[] = [];
  const rewrapDoc = (f: ScalarField): string =>
    structural.has(f.name)
      ? ` wrap()'s checks read ${f.name}, so the view is wrapped again over the same window (the parts after the fixed fields are delimited anew): the result is wrap()'s.`
      : '';
  const signature = (f: ScalarField, method: string): string => {
    const ret = structural.has(f.name) ? 'DecodeError | null' : 'void';
    return f.type === 'mac'
      ? `${method}Halves(hi: number, lo: number): ${ret}`
      : `${method}(value: number): ${ret}`;
  };
  const tail = (f: ScalarField): string[] =>
    structural.has(f.name)
      ? [
          `return this.wrap(this.bytes, this.offset, this.byteLength${m.eitherOrder ? ', this.littleEndian' : ''});`,
        ]
      : [];
  /** For a MAC, the 48-bit entry point over the halves one. */
  const macEntry = (f: ScalarField, method: string, doc: string): string => {
    const ret = structural.has(f.name) ? 'DecodeError | null' : 'void';
    return `/** ${doc} */
      ${method}(value: number): ${ret} {
        ${structural.has(f.name) ? 'return ' : ''}this.${method}Halves((value / 0x100000000) | 0, value | 0);
      }`;
  };
  for (const f of scalars) {
    const method = `set${upperFirst(f.name)}`;
    if (f.type === 'u64' || f.type === 'ipv6') {
      out.push(wideSetter(f, method, ctx));
      continue;
    }
    const doc =
      f.type === 'mac'
        ? `Writes ${f.name} in place from its high 16 and low 32 bits (uint32 or int32): no 48-bit number is made.`
        : `Writes ${f.name} (${f.bitWidth} bits at bit ${f.bitOffset}${f.bitWidth >= 32 ? ', a uint32 or its int32 bit pattern' : ''}) in place; the other bits of its bytes are kept.`;
    if (f.type === 'mac')
      out.push(macEntry(f, method, `Writes ${f.name} (a 48-bit MAC as a number) in place.`));
    out.push(
      `/** ${doc}${rewrapDoc(f)} */
      ${signature(f, method)} {
        ${[...writeField(f, ctx), ...tail(f)].join('\n')}
      }`,
    );
  }
  const cs = checksum?.checksum;
  if (checksum === undefined || cs == null) return out;
  const c = checksum;
  const [cFirst, cLast] = byteSpan(c);
  const cName = upperFirst(c.name);
  const cSlot = placed !== undefined ? `${c.name}Field` : ctx.slots(c)[0];
  // Byte k of the checksum word: at a constant offset from `o`, or at the placed word's `at`.
  const cByte = (k: number): string =>
    placed !== undefined ? `b[at${k === 0 ? '' : ` + ${k}`}]` : at(cFirst + k);
  const conditional = placed?.construct.kind === 'field' && placed.construct.presence !== null;
  const zeroNone = cs.zeroMeansNone;
  // A pseudo-header holds a protocol number, so the data is never all zero (see below).
  const pseudo = cs.pseudoProtocol !== null || cs.pseudoIpv6 !== null;
  out.push(
    `/**
     * Updates ${c.name} for changed 16-bit words (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')),
     * \`delta\` being the sum of ~m and m' over them.${zeroNone ? ' A message sent without a checksum (0) keeps none, and a result of 0 is sent as 0xffff.' : ''}${conditional ? ' A message without the checksum word keeps none.' : ''}
     */
    private update${cName}(delta: number): void {${conditional ? `\nif (!this.has${cName}) return;` : ''}
      const held = this.${cSlot};${zeroNone ? '\nif (held === 0) return;' : ''}
      let sum = (~held & 0xffff) + delta;
      sum = (sum & 0xffff) + (sum >>> 16);
      sum = (sum & 0xffff) + (sum >>> 16);
      ${pseudo ? 'const' : 'let'} next = ${zeroNone ? '(~sum & 0xffff) || 0xffff' : '~sum & 0xffff'};
      const b = this.bytes;
      const o = this.offset;${placed !== undefined ? `\nconst at = this.${c.name}Offset;` : ''}${
        pseudo
          ? ''
          : `
      if (next === 0) {
        // A sum of 0xffff is all-zero data (whose checksum is 0xffff) or data summing to -0 (0x0000):
        // only the data tells, so this one case in 65536 sums it again.
        ${cByte(0)} = 0;
        ${cByte(1)} = 0;
        next = internetChecksum(b, o, ${cs.coverage === 'header' ? 'this.headerLength' : 'this.messageLength'});
      }`
      }
      ${cByte(0)} = next >>> 8;
      ${cByte(1)} = next;
      this.${cSlot} = next;
    }`,
  );
  const moving = coverageFields(m, cs.coverage);
  for (const f of scalars) {
    const [first, last] = byteSpan(f);
    // Not the checksum's own word, not a field that moves the checksum's coverage (an update
    // assumes the same bytes are summed), and no little-endian field (no checksummed format
    // has one).
    if (f === c || f.littleEndian || moving.has(f.name)) continue;
    if (placed === undefined && last >= (cFirst & ~1) && first <= (cLast | 1)) continue;
    if (f.type === 'u64' || f.type === 'ipv6') {
      out.push(wideUpdatingSetter(f, c, ctx));
      continue;
    }
    const method = `set${upperFirst(f.name)}Updating${cName}`;
    const words = fieldWords(f, ctx);
    if (f.type === 'mac')
      out.push(
        macEntry(
          f,
          method,
          `set${upperFirst(f.name)}(), with ${c.name} updated for the change (RFC 1624).`,
        ),
      );
    out.push(
      `/** set${upperFirst(f.name)}${f.type === 'mac' ? 'Halves' : ''}(), with ${c.name} updated for the change alone (RFC 1624) rather than summed again${cs.coverage === 'message' ? ' over the message' : ''}.${rewrapDoc(f)} */
      ${signature(f, method)} {
        const before = ${words.map((w) => `(~${w} & 0xffff)`).join(' + ')};
        ${writeField(f, ctx).join('\n')}
        this.update${cName}(before + ${words.join(' + ')});
        ${tail(f).join('\n')}
      }`,
    );
  }
  return out;
}
