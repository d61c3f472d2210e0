/**
 * Spec model → one TypeScript module (views, values, encoders, enums, dispatch), built with
 * ts-morph. Formatting is left to prettier (see ../generate.ts).
 *
 * What the generated hot paths look like, and why:
 * - getters index the Uint8Array directly (faster than DataView here) and a run of bit fields
 *   sharing a byte compiles to one load plus shift/mask; only 32-bit values use `>>> 0`, so
 *   everything else stays a small integer;
 * - wrap() checks every bound once, in spec order, and stores region offsets, so getters never
 *   check again; failures fill the view's own error record (no allocation);
 * - cursors are owned by the view and reset per call; encoders write straight into `out`.
 */
import { Project, VariableDeclarationKind } from 'ts-morph';
import type {
  BytesField,
  DescribePart,
  Expr,
  EnumModel,
  JsonEntry,
  MessageModel,
  Region,
  ScalarField,
  SpecModel,
} from '../frontend/model.js';
import { PEEK_GETTER } from '../frontend/model.js';
import { ModuleBuilder } from './module-builder.js';
import { type ConstructCode, constructCode, type Import } from './constructs.js';
import { listModuleCode } from './list.js';
import { fieldRefs } from '../frontend/resolve.js';
import {
  encodeContext,
  itemModuleCode,
  needsOrigin,
  nestedMessages,
  ownsEncodeContext,
} from './nested.js';
import { placedFieldCode } from './placed.js';
import { readsLen, selectModuleCode, structuredSelect } from './select.js';
import { exprTs, type ExprContext, viewContext, viewOf } from './expr.js';
import {
  block,
  type Code,
  comment,
  fail,
  FailureTable,
  failFixed,
  failRegion,
  printFused,
  printView,
  self,
  type Stmt,
  stmt,
  ts,
  when,
} from './wrap-ir.js';
import { setterMembers } from './setters.js';
import { prefixDecoder } from './prefix.js';

const ERRORS = '../codec/errors.js';
const CHECKSUM = '../codec/checksum.js';
const ADDRESS = '../codec/address.js';
const BYTES = '../codec/bytes.js';

class Imports {
  private readonly byModule = new Map<string, Map<string, boolean>>();

  add(module: string, name: string, typeOnly = false): void {
    let names = this.byModule.get(module);
    if (names === undefined) {
      names = new Map();
      this.byModule.set(module, names);
    }
    names.set(name, (names.get(name) ?? true) && typeOnly);
  }

  addAll(list: Import[]): void {
    for (const i of list) this.add(i.module, i.name, i.typeOnly);
  }

  emit(file: ModuleBuilder): void {
    const order = [ERRORS, BYTES, CHECKSUM, ADDRESS, '../codec/dns.js'];
    const modules = [...this.byModule.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
    for (const module of modules) {
      const names = this.byModule.get(module) ?? new Map<string, boolean>();
      file.addImportDeclaration({
        moduleSpecifier: module,
        namedImports: [...names]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, typeOnly]) => ({ name, isTypeOnly: typeOnly })),
      });
    }
  }
}

/** A number as generated code writes it: hex above 9. */
/** `base + n`, or `base` alone when n is 0 (a message without a fixed part). */
export function plus(base: string, n: number): string {
  return n === 0 ? base : `${base} + ${n}`;
}

export function hex(n: number): string {
  return n > 9 ? `0x${n.toString(16)}` : String(n);
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/**
 * TypeScript reading a fixed scalar with the byte loads written out (no helper calls), for
 * wrap()'s eager decoding: a wide value computed inline and stored into a number field is
 * written into that field's own box, where a helper call V8 does not inline would return a
 * freshly boxed double. `b` must be a local holding the bytes.
 */
export function inlineLoad(f: ScalarField, b: string, base: string): string {
  if (f.anyOrder === true) {
    // In the order the caller gives: `littleEndian` is wrap()'s (or the decoder's) argument.
    const be = inlineLoad({ ...f, anyOrder: false }, b, base);
    const le = inlineLoad({ ...f, anyOrder: false, littleEndian: true }, b, base);
    const word = ' >>> 0';
    return be.endsWith(word) && le.endsWith(word)
      ? `(littleEndian ? ${le.slice(0, -word.length)} : ${be.slice(0, -word.length)})${word}`
      : `(littleEndian ? ${le} : ${be})`;
  }
  const first = f.bitOffset >> 3;
  const last = (f.bitOffset + f.bitWidth - 1) >> 3;
  const n = last - first + 1;
  const byte = (k: number): string => `${b}[${base}${first + k === 0 ? '' : ` + ${first + k}`}]`;
  // Byte k of the field in significance order (0 = most significant).
  const sig = (k: number): string => byte(f.littleEndian ? n - 1 - k : k);
  const join = (from: number, count: number): string => {
    const parts: string[] = [];
    for (let k = 0; k < count; k++) {
      const shift = 8 * (count - 1 - k);
      parts.push(shift === 0 ? sig(from + k) : `(${sig(from + k)} << ${shift})`);
    }
    return parts.length === 1 ? parts[0] : `(${parts.join(' | ')})`;
  };
  if (n > 4) {
    // Wider than 32 bits: only byte-aligned 48-bit fields (MACs), as hi16 * 2**32 + lo32.
    if (f.bitWidth !== 48 || f.bitOffset % 8 !== 0) {
      throw new Error(`field ${f.name}: ${f.bitWidth} unaligned bits are not supported`);
    }
    return `${join(0, n - 4)} * 0x100000000 + (${join(n - 4, 4)} >>> 0)`;
  }
  const shift = n * 8 - (f.bitOffset % 8) - f.bitWidth;
  const mask = f.bitWidth >= 32 ? 0 : 2 ** f.bitWidth - 1;
  const raw = join(0, n);
  if (n === 4) {
    if (shift === 0 && f.bitWidth === 32) return `${raw} >>> 0`;
    return `(${raw} >>> ${shift}) & ${hex(mask)}`;
  }
  if (shift === 0 && f.bitWidth === n * 8) return raw;
  if (shift === 0) return `${raw} & ${hex(mask)}`;
  return f.bitOffset % 8 === 0 ? `${raw} >> ${shift}` : `(${raw} >> ${shift}) & ${hex(mask)}`;
}

/** A whole aligned 32-bit field: inlineLoad() ends in `>>> 0` (a uint32, often above 2**31). */
function isWord(f: ScalarField): boolean {
  return f.type !== 'mac' && !isWide(f) && inlineLoad(f, 'b', 'o').endsWith(' >>> 0');
}

/** A 64- or 128-bit field: kept as int32 words (uint32 halves, IPv6 address words). */
export function isWide(f: ScalarField): boolean {
  return f.type === 'u64' || f.type === 'ipv6';
}

/**
 * A uint32 load as its int32 bit pattern (drops the final `>>> 0`). wrap() stores 32-bit
 * values this way and the getters apply `>>> 0`: an int32 always fits a property's small
 * integer representation, where a uint32 above 2**31 turns the property into a boxed double
 * that every read then unboxes; a getter of one load and one shift is always inlined, so its
 * uint32 result stays unboxed in the caller.
 */
function wordBits(load: string): string {
  return load.endsWith(' >>> 0') ? load.slice(0, -' >>> 0'.length) : load;
}

/** Name of the private property wrap() stores a fixed scalar's value in. */
function slot(f: ScalarField): string {
  return `${f.name}Field`;
}

/**
 * The properties wrap() stores a fixed scalar in: one, or for a MAC its high 16 and low 32 bits
 * (integers a demux can compare without float arithmetic; the 48-bit getter adds them).
 */
function slots(f: ScalarField): string[] {
  if (f.type === 'mac' || f.type === 'u64') return [`${f.name}HiField`, `${f.name}LoField`];
  if (f.type === 'ipv6') return [0, 1, 2, 3].map((k) => `${f.name}W${k}Field`);
  return [slot(f)];
}

/** The 32-bit word k (0 = first) of a wide field at its own offset, as a uint32 load. */
function wordField(f: ScalarField, k: number): ScalarField {
  return { ...f, type: 'uint', bitOffset: f.bitOffset + 32 * k, bitWidth: 32 };
}

/** wrap()'s statements storing a fixed scalar read from `b` at `base` into its properties. */
function eagerStores(f: ScalarField, b: string, base: string): Stmt[] {
  if (isWide(f)) {
    return slots(f).map((name, k) =>
      stmt(ts`${self}.${name} = ${wordBits(inlineLoad(wordField(f, k), b, base))};`),
    );
  }
  if (f.type !== 'mac')
    return [stmt(ts`${self}.${slot(f)} = ${wordBits(inlineLoad(f, b, base))};`)];
  const at = (k: number): number => (f.bitOffset >> 3) + k;
  const half = (from: number, bits: number): ScalarField => ({
    ...f,
    type: 'uint',
    bitOffset: at(from) * 8,
    bitWidth: bits,
  });
  return [
    stmt(ts`${self}.${f.name}HiField = ${inlineLoad(half(0, 16), b, base)};`),
    stmt(ts`${self}.${f.name}LoField = ${wordBits(inlineLoad(half(2, 32), b, base))};`),
  ];
}

/**
 * A getter body: one property load (plus `>>> 0` for a 32-bit value, see wordBits()). wrap()
 * decodes every fixed scalar eagerly (the fields are few, and their bytes are in cache right
 * after the bound checks), so a getter costs a caller ~6 bytes of V8's inlining budget where a
 * getter reading the bytes costs ~35: a consumer folding a whole frame in one function (a
 * demux, the codec bench) stays inside the budget, and nothing it reads is ever boxed.
 */
function getterBody(f: ScalarField): string {
  if (f.type === 'mac')
    return `return this.${f.name}HiField * 0x100000000 + (this.${f.name}LoField >>> 0);`;
  return isWord(f) ? `return this.${slot(f)} >>> 0;` : `return this.${slot(f)};`;
}

/** Fixed scalars grouped into runs that start and end on byte boundaries (one store each). */
function storeGroups(fields: ScalarField[]): ScalarField[][] {
  const groups: ScalarField[][] = [];
  let current: ScalarField[] = [];
  for (const f of fields) {
    current.push(f);
    if ((f.bitOffset + f.bitWidth) % 8 === 0) {
      groups.push(current);
      current = [];
    }
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

interface MessageCode {
  module: string;
  imports: Imports;
  constructs: Map<string, ConstructCode>;
}

function jsonType(
  m: MessageModel,
  e: JsonEntry,
  cc: Map<string, ConstructCode>,
): { key: string; type: string } {
  switch (e.kind) {
    case 'scalar': {
      const f = m.fields.find((x) => x.name === e.name) as ScalarField;
      // u64 is shown in decimal (JSON numbers lose precision above 2**53).
      const base = f.type === 'uint' ? 'number' : 'string';
      return { key: e.name, type: f.when !== null ? `${base} | null` : base };
    }
    case 'bytes':
      return { key: e.name, type: 'string' };
    case 'builtin':
      return { key: e.name, type: e.name === 'checksumValid' ? 'boolean | null' : 'number' };
    case 'region':
    case 'construct': {
      const c = cc.get(e.kind === 'region' ? e.name : e.region);
      const j = c?.json.find((x) => x.key === e.name);
      return { key: e.name, type: j?.type ?? 'unknown' };
    }
  }
}

class MessageEmitter {
  private readonly fixedOffsets = new Map<string, number>();
  private readonly scalars: ScalarField[];
  private readonly bytesFields: BytesField[];
  private readonly payload: Region | undefined;
  /** (code, field) pairs of wrap()'s failure paths, filled by wrapMethod(). */
  private readonly failureTable = new FailureTable();
  private readonly checksum: ScalarField | undefined;
  /** The region of a checksum at a computed offset (GRE's, present when C is set). */
  private readonly checksumPlaced: Region | undefined;

  constructor(
    private readonly spec: SpecModel,
    private readonly m: MessageModel,
    private readonly code: MessageCode,
  ) {
    this.scalars = m.fields.filter((f): f is ScalarField => f.kind === 'scalar');
    this.bytesFields = m.fields.filter((f): f is BytesField => f.kind === 'bytes');
    for (const f of m.fields)
      this.fixedOffsets.set(f.name, f.kind === 'scalar' ? f.bitOffset >> 3 : f.byteOffset);
    this.payload = m.regions.find((r) => r.construct.kind === 'payload');
    this.checksumPlaced = m.regions.find(
      (r) =>
        r.construct.kind === 'field' &&
        r.construct.field.kind === 'scalar' &&
        r.construct.field.checksum !== null,
    );
    const placed = this.checksumPlaced?.construct;
    this.checksum =
      this.scalars.find((f) => f.checksum !== null) ??
      (placed?.kind === 'field' && placed.field.kind === 'scalar' ? placed.field : undefined);
    const derived = new Set(this.scalars.filter((f) => f.derive !== null).map((f) => f.name));
    // A byte region given as a selected message's value has no length until it is written: the
    // fields derived from it are written as if it were empty, then rewritten after it.
    const valued = m.regions.filter((r) => structuredSelect(spec, m, r)).map((r) => r.name);
    const enc: ExprContext = {
      field: (name) => (derived.has(name) ? name : `f.${name}`),
      len: (name) =>
        valued.includes(name)
          ? `(f.${name} instanceof Uint8Array ? f.${name}.length : 0)`
          : `f.${name}.length`,
      given: (name) => `f.${name} !== undefined`,
    };
    const written: ExprContext = {
      ...enc,
      len: (name) => (valued.includes(name) ? `${name}Bytes` : enc.len(name)),
    };
    const loads = {
      stored: (f: ScalarField) => wordBits(inlineLoad(f, 'bytes', 'pos')),
      word: isWord,
    };
    const rewrites = new Map<string, string[]>(valued.map((name) => [name, []]));
    for (const r of m.regions) {
      const p = r.construct;
      const over =
        p.kind === 'field' && p.field.kind === 'scalar' && p.field.derive !== null
          ? valued.filter((name) => readsLen((p.field as ScalarField).derive as Expr, name))
          : [];
      const placed =
        r.construct.kind === 'field'
          ? placedFieldCode(r, enc, loads, over.length > 0 ? written : undefined)
          : null;
      for (const name of over) rewrites.get(name)?.push(...(placed?.rewrite ?? []));
      const c =
        placed ??
        constructCode(
          r,
          this.fixedOffsets,
          spec.lists,
          spec.module,
          spec,
          m,
          rewrites.get(r.name) ?? [],
        );
      code.constructs.set(r.name, c);
      // The list helpers are this module's own (FrameDecoder imports them from here).
      code.imports.addAll(c.imports.filter((i) => i.module !== `./${spec.module}.js`));
    }
  }

  private get cc(): Map<string, ConstructCode> {
    return this.code.constructs;
  }

  private use(module: string, name: string, typeOnly = false): void {
    this.code.imports.add(module, name, typeOnly);
  }

  private get viewName(): string {
    return `${this.m.name}View`;
  }

  /**
   * Bytes from the message's start to region i's start: the fixed part and the regions before
   * it. Regions are contiguous, so wrap() stores only their sizes (fewer stores per message).
   */
  private lead(i: number): string {
    const sizes = this.m.regions.slice(0, i).map((r) => `this.${r.name}Size`);
    return [
      ...(this.m.fixedSize === 0 && sizes.length > 0 ? [] : [String(this.m.fixedSize)]),
      ...sizes,
    ].join(' + ');
  }

  /** Absolute index of region i. */
  private regionStart(i: number): string {
    const sizes = this.m.regions.slice(0, i).map((r) => `this.${r.name}Size`);
    return [plus('this.offset', this.m.fixedSize), ...sizes].join(' + ');
  }

  /** A payload with a declared length can be cut by wrapPartial(). */
  private get canCut(): boolean {
    return this.payload !== undefined && this.payload.length !== 'rest';
  }

  /** The checksum is at a computed offset and on the wire only when its condition holds. */
  private get checksumConditional(): boolean {
    const p = this.checksumPlaced?.construct;
    return p?.kind === 'field' && p.presence !== null;
  }

  /** The checksum covers a pseudo-header (IPv4, IPv6 or either): verify needs the addresses. */
  private get pseudo(): boolean {
    const c = this.checksum?.checksum;
    return c != null && (c.pseudoProtocol !== null || c.pseudoIpv6 !== null);
  }

  emit(file: ModuleBuilder): void {
    this.use(ERRORS, 'DecodeError', true);
    this.use(ERRORS, 'fail');
    this.use(ERRORS, 'newDecodeError');
    this.use(ERRORS, 'copyDecodeError');
    this.emitFixedTable(file);
    this.emitJsonInterface(file);
    this.emitView(file);
    this.emitFields(file);
    this.emitDecode(file);
    file.addFunction(prefixDecoder(this.m, (module, name) => this.use(module, name)));
    this.emitHeaderLength(file);
    const c = this.checksum?.checksum;
    if (c?.pseudoProtocol != null) {
      this.emitEncode(file, 'ipv4', `encode${this.m.name}`);
      if (c.pseudoIpv6 !== null) this.emitEncode(file, 'ipv6', `encode${this.m.name}Ipv6`);
    } else if (c?.pseudoIpv6 != null) {
      this.emitEncode(file, 'ipv6', `encode${this.m.name}`);
    } else {
      this.emitEncode(file, null, `encode${this.m.name}`);
    }
    this.emitDispatch(file);
  }

  /** Field end offsets, to name the first field a short buffer cuts (error path only). */
  private emitFixedTable(file: ModuleBuilder): void {
    const rows = this.m.fields.map((f) => {
      const start = f.kind === 'scalar' ? f.bitOffset >> 3 : f.byteOffset;
      const end = f.kind === 'scalar' ? (f.bitOffset + f.bitWidth + 7) >> 3 : f.byteOffset + f.size;
      return `[${end}, '${f.name}', ${start}]`;
    });
    file.addVariableStatement({
      declarationKind: VariableDeclarationKind.Const,
      docs: [
        `Fixed fields as [end byte, name, start byte], to report which one a short buffer cuts.`,
      ],
      declarations: [
        {
          name: `${this.m.name.toUpperCase()}_FIXED_FIELDS`,
          type: 'ReadonlyArray<readonly [number, string, number]>',
          initializer: `[${rows.join(', ')}]`,
        },
      ],
    });
    file.addStatements(
      `\n/** Size of the fixed part of ${this.m.name} in bytes. */\nexport const ${this.m.name.toUpperCase()}_FIXED_SIZE = ${this.m.fixedSize};`,
    );
    const offsets = this.m.fields.map(
      (f) => `${f.name}: ${f.kind === 'scalar' ? f.bitOffset >> 3 : f.byteOffset}`,
    );
    file.addVariableStatement({
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: [
        `Byte offset of each fixed field of ${this.m.name} from the message start (of the byte holding its first bit): what an ICMP parameter problem's pointer names (RFC 4443 §3.4, RFC 792).`,
      ],
      declarations: [
        {
          name: `${this.m.name.toUpperCase()}_OFFSETS`,
          initializer: `Object.freeze({ ${offsets.join(', ')} })`,
        },
      ],
    });
  }

  private jsonValue(e: JsonEntry): string {
    switch (e.kind) {
      case 'scalar': {
        const f = this.scalars.find((x) => x.name === e.name) as ScalarField;
        let v = `this.${f.name}`;
        if (f.type === 'mac') {
          this.use(ADDRESS, 'formatMac');
          v = `formatMac(${v})`;
        } else if (f.type === 'ipv4') {
          this.use(ADDRESS, 'formatIpv4');
          v = `formatIpv4(${v})`;
        } else if (f.type === 'ipv6') {
          this.use(ADDRESS, 'formatIpv6');
          v = `formatIpv6(this.bytes, this.${f.name}Offset)`;
        } else if (f.type === 'u64') {
          v = `this.${f.name}BigInt().toString()`;
        }
        return f.when !== null ? `${exprTs(f.when, viewContext)} ? ${v} : null` : v;
      }
      case 'bytes': {
        const f = this.bytesFields.find((x) => x.name === e.name) as BytesField;
        return bytesJson(f, `this.${f.name}Offset`, (m, n) => this.use(m, n));
      }
      case 'builtin':
        if (e.name === 'checksumValid') {
          const c = this.checksum?.checksum;
          if (this.checksumConditional) return 'this.checksumPresent ? this.checksumValid : null';
          if (c == null || !this.pseudo) return 'this.checksumValid';
          const checks: string[] = [];
          if (c.pseudoProtocol !== null) {
            const known = `typeof src === 'number' && typeof dst === 'number'`;
            checks.push(
              c.zeroMeansNone
                ? `${known} ? (this.checksumPresent ? this.checksumValidWith(src, dst) : null)`
                : `${known} ? this.checksumValidWith(src, dst)`,
            );
          }
          if (c.pseudoIpv6 !== null) {
            checks.push(
              `src instanceof Uint8Array && dst instanceof Uint8Array ? this.checksumValidWithIpv6(src, 0, dst, 0)`,
            );
          }
          return `${checks.join(' : ')} : null`;
        }
        return `this.${e.name}`;
      case 'region':
      case 'construct': {
        const c = this.cc.get(e.kind === 'region' ? e.name : e.region);
        return c?.json.find((x) => x.key === e.name)?.expr ?? 'null';
      }
    }
  }

  private emitJsonInterface(file: ModuleBuilder): void {
    file.addInterface({
      name: `${this.m.name}JSON`,
      isExported: true,
      docs: [`What ${this.viewName}.toJSON() returns (the \`pktstack decode --json\` fields).`],
      properties: this.m.json.map((e) => {
        const t = jsonType(this.m, e, this.cc);
        return { name: t.key, type: t.type };
      }),
    });
  }

  private describeValue(p: Extract<DescribePart, { kind: 'value' }>): string {
    const e = p.entry;
    if (e.kind === 'scalar') {
      const f = this.scalars.find((x) => x.name === e.name) as ScalarField;
      if (f.enumName !== null) {
        const from = this.spec.importedEnums.find((x) => x.name === f.enumName)?.module;
        if (from !== undefined) this.use(`./${from}.js`, `nameOf${f.enumName}`);
        return `\${nameOf${f.enumName}(this.${f.name}) ?? this.${f.name}}`;
      }
    }
    if (e.kind === 'builtin' && e.name === 'checksumValid' && this.pseudo) return '';
    return `\${${this.jsonValue(e)}}`;
  }

  private emitView(file: ModuleBuilder): void {
    const m = this.m;
    const cls = file.addClass({
      name: this.viewName,
      isExported: true,
      docs: [
        `A zero-allocation view of one ${m.layer} message: wrap() it over bytes, then read fields.\n` +
          `Re-point the same view at every frame; nothing is allocated on wrap() or by the getters.`,
      ],
    });
    const members: string[] = [
      `/** The bytes last wrapped (empty after a failed wrap()). */\nbytes: Uint8Array = EMPTY;`,
      `/** Absolute index of the message's first byte in \`bytes\`. */\noffset = 0;`,
      `/** Bytes available to the message from \`offset\` (the wrap() length). */\nbyteLength = 0;`,
      `/** This view's error record, reused by every failed wrap(). */\nreadonly error: DecodeError = newDecodeError('${m.layer}');`,
    ];
    // The decoded state below is public only so that the generated FrameDecoder (frame.ts) can
    // fill it in place; read it through the getters.
    if (this.canCut)
      members.push(
        `/** @internal Set by wrapPartial() when it cut the payload (read payloadTruncated). */\ncut = false;`,
      );
    if (m.eitherOrder)
      members.push(
        `/** The byte order of the u16 and u32 fields, as wrap() was given it (the setters write in it). */\nlittleEndian = false;`,
      );
    // One number property per fixed scalar, declared here so every view has the same shape.
    const internal =
      '/** @internal The fixed fields as wrap() decoded them (read the getters). */\n';
    this.scalars
      .flatMap((f) => slots(f))
      .forEach((name, i) => members.push(`${i === 0 ? internal : ''}${name} = 0;`));
    m.regions.forEach((r, i) => {
      const c = this.cc.get(r.name);
      members.push(
        `/** @internal Byte length of ${r.name}; it starts where the part before it ends. */\n${r.name}Size = 0;`,
        ...(c?.viewProperties ?? []),
      );
      // The construct's members (cursor resets) name the region's start.
      if (c?.viewMembers.some((x) => x.includes(`this.${r.name}Start`)))
        members.push(`private get ${r.name}Start(): number {\nreturn ${this.regionStart(i)};\n}`);
    });
    members.push(this.wrapMethod());
    if (this.canCut) {
      members.push(this.wrapMethod(true));
      members.push(
        `/** True when wrapPartial() cut the payload short of its declared length. */\nget payloadTruncated(): boolean {\nreturn this.cut;\n}`,
      );
    }
    members.push(
      `/** Cold path of wrap(): impossible arguments, or a buffer shorter than the fixed part. */
      private failFixed(): DecodeError {
        const bytes = this.bytes;
        const offset = this.offset;
        const length = this.byteLength;
        if (!(offset >= 0 && length >= 0 && offset + length <= bytes.length)) {
          return this.failWith('E_TRUNCATED', '${m.fields[0]?.name ?? ''}', offset >= 0 && offset <= bytes.length ? offset : 0);
        }
        // Name the first field the buffer cuts.
        let i = 0;
        while (${m.name.toUpperCase()}_FIXED_FIELDS[i][0] <= length) i++;
        return this.failWith('E_TRUNCATED', ${m.name.toUpperCase()}_FIXED_FIELDS[i][1], offset + ${m.name.toUpperCase()}_FIXED_FIELDS[i][2]);
      }`,
      ...(m.regions.some((r) => r.length !== 'rest' && r.length !== 'walk')
        ? [
            `/** Cold path of wrap(): a declared length that is negative (entry k - 1) or runs past the buffer (entry k). */
      private failRegion(k: number, pos: number, size: number): DecodeError {
        return this.failAt(size < 0 ? k - 1 : k, pos);
      }`,
          ]
        : []),
      `/** Cold path of wrap(): failure k of ${m.name.toUpperCase()}_FAILURES at byte \`at\`. */
      private failAt(k: number, at: number): DecodeError {
        const [code, field] = ${m.name.toUpperCase()}_FAILURES[k];
        return this.failWith(code, field, at);
      }`,
      `/** Records a failure and leaves the view empty, so no getter can read stale bounds. */
      private failWith(code: DecodeError['code'], field: string, at: number): DecodeError {
        fail(this.error, code, field, at);
        return this.failRecorded();
      }`,
      `private failRecorded(): DecodeError {
        this.clear();
        return this.error;
      }`,
      `/** @internal Empties the view (as a failed wrap() leaves it), without touching its error record. */
      clear(): void {
        this.bytes = EMPTY;
        this.offset = 0;
        this.byteLength = 0;${this.canCut ? '\nthis.cut = false;' : ''}${this.scalars.flatMap((f) => slots(f).map((name) => `\nthis.${name} = 0;`)).join('')}${m.regions.map((r) => `\nthis.${r.name}Size = 0;${(this.cc.get(r.name)?.viewReset ?? []).map((x) => `\n${x}`).join('')}`).join('')}
      }`,
    );
    for (const f of this.scalars) {
      if (isWide(f)) {
        members.push(
          ...wideGetters(f, plus('this.offset', f.bitOffset >> 3), (m, n) => this.use(m, n)),
        );
        continue;
      }
      const doc =
        f.enumName !== null
          ? ` (${f.enumName})`
          : f.type !== 'uint'
            ? ` (${f.type} address as a number)`
            : '';
      members.push(
        `/** ${f.name}: ${f.bitWidth} bits at bit ${f.bitOffset}${doc}. */\nget ${f.name}(): number {\n${getterBody(f)}\n}`,
      );
      if (f.type === 'mac') {
        members.push(
          `/** High 16 bits of ${f.name} (its first two bytes). */\nget ${f.name}Hi(): number {\nreturn this.${f.name}HiField;\n}`,
          `/** Low 32 bits of ${f.name} (its last four bytes) as uint32. */\nget ${f.name}Lo(): number {\nreturn this.${f.name}LoField >>> 0;\n}`,
          `/** Low 32 bits of ${f.name} as their int32 bit pattern: a small integer to V8, never boxed. */\nget ${f.name}LoBits(): number {\nreturn this.${f.name}LoField;\n}`,
        );
      } else if (isWord(f)) {
        members.push(
          `/** ${f.name} as its int32 bit pattern (\`${f.name} | 0\`): a small integer to V8, never boxed. */\nget ${f.name}Bits(): number {\nreturn this.${slot(f)};\n}`,
        );
      }
    }
    members.push(...setterMembers({ m, slots }));
    for (const f of this.bytesFields) {
      members.push(
        `/** Absolute index of the ${f.size}-byte ${f.name} field. */\nget ${f.name}Offset(): number {\nreturn ${plus('this.offset', f.byteOffset)};\n}`,
        `get ${f.name}Length(): number {\nreturn ${f.size};\n}`,
      );
    }
    m.regions.forEach((r, i) => {
      members.push(
        `/** Absolute index of ${r.name}. */\nget ${r.name}Offset(): number {\nreturn ${this.regionStart(i)};\n}`,
        `/** Byte length of ${r.name}. */\nget ${r.name}Length(): number {\nreturn this.${r.name}Size;\n}`,
      );
      members.push(...(this.cc.get(r.name)?.viewMembers ?? []));
    });
    const payloadIndex = this.payload === undefined ? -1 : m.regions.indexOf(this.payload);
    members.push(
      `/** Bytes before the payload (fixed part and options). */\nget headerLength(): number {\nreturn ${this.lead(payloadIndex < 0 ? m.regions.length : payloadIndex)};\n}`,
    );
    members.push(
      `/** Bytes of the whole message as its own length fields delimit it. */\nget messageLength(): number {\nreturn ${this.lead(m.regions.length)};\n}`,
    );
    const peek = m.dispatch?.peek ?? null;
    if (peek !== null && this.payload !== undefined) {
      const p = this.payload.name;
      const load = inlineLoad(
        {
          kind: 'scalar',
          name: PEEK_GETTER,
          type: 'uint',
          bitOffset: 0,
          bitWidth: peek.bitWidth,
          littleEndian: false,
          enumName: null,
          derive: null,
          checksum: null,
          when: null,
        },
        'b',
        'o',
      );
      members.push(
        `/** The first ${peek.bitWidth} bits of the ${p}, which the dispatch reads; -1 when the ${p} is shorter. */\nget ${PEEK_GETTER}(): number {\nif (this.${p}Length < ${Math.ceil(peek.bitWidth / 8)}) return -1;\nconst b = this.bytes;\nconst o = this.${p}Offset;\nreturn ${load};\n}`,
      );
    }
    members.push(...this.checksumMembers());
    // toJSON / describe
    const c = this.checksum?.checksum;
    const addressType = [
      ...(c?.pseudoProtocol != null ? ['number'] : []),
      ...(c?.pseudoIpv6 != null ? ['Uint8Array'] : []),
    ].join(' | ');
    const addresses = [
      ...(c?.pseudoProtocol != null ? ['the IPv4 addresses (numbers)'] : []),
      ...(c?.pseudoIpv6 != null ? ['the IPv6 addresses (16 bytes each)'] : []),
    ].join(' or ');
    const jsonParams = this.pseudo ? `src?: ${addressType}, dst?: ${addressType}` : '';
    const jsonDoc = this.pseudo
      ? `/** Plain object for JSON output. Pass ${addresses} to fill checksumValid (else null). JSON.stringify's key argument is ignored. */`
      : `/** Plain object for JSON output (allocates). */`;
    members.push(
      `${jsonDoc}\ntoJSON(${jsonParams}): ${m.name}JSON {\nreturn {\n${m.json.map((e) => `${e.name}: ${this.jsonValue(e)},`).join('\n')}\n};\n}`,
    );
    const describe = m.describe
      .map((p) =>
        p.kind === 'text' ? p.text.replace(/[`\\$]/g, (ch) => `\\${ch}`) : this.describeValue(p),
      )
      .join('');
    members.push(
      `/** One line for humans (allocates). */\ndescribe(): string {\nreturn \`${describe || m.layer}\`;\n}`,
    );
    cls.addMembers(members);
    file.insertVariableStatement(file.indexOf(cls), {
      declarationKind: VariableDeclarationKind.Const,
      docs: ["wrap()'s failures as [code, field], indexed by the failure paths in wrap()."],
      declarations: [
        {
          name: `${m.name.toUpperCase()}_FAILURES`,
          type: "ReadonlyArray<readonly [DecodeError['code'], string]>",
          initializer: this.failureTable.initializer,
        },
      ],
    });
  }

  private checksumMembers(): string[] {
    const f = this.checksum;
    const c = f?.checksum;
    if (f === undefined || c == null) return [];
    this.use(CHECKSUM, 'internetChecksum');
    const lengthExpr = c.coverage === 'header' ? 'this.headerLength' : 'this.messageLength';
    if (this.checksumConditional) {
      const has = `has${f.name.charAt(0).toUpperCase()}${f.name.slice(1)}`;
      return [
        `/** False when the message carries no checksum (${f.name}'s condition does not hold). */\nget checksumPresent(): boolean {\nreturn this.${has};\n}`,
        `/** True when the ${c.coverage} checksum verifies, or when there is none (computed on each call, never throws). */
        get checksumValid(): boolean {
          return this.byteLength > 0 && (!this.${has} || internetChecksum(this.bytes, this.offset, ${lengthExpr}) === 0);
        }`,
      ];
    }
    if (c.pseudoProtocol === null && c.pseudoIpv6 === null) {
      return [
        `/** True when the ${c.coverage} checksum verifies (computed on each call, never throws). */
        get checksumValid(): boolean {
          return this.byteLength > 0 && internetChecksum(this.bytes, this.offset, ${lengthExpr}) === 0;
        }`,
      ];
    }
    const out: string[] = [];
    if (c.zeroMeansNone) {
      out.push(
        `/** False when the sender sent no checksum (field 0). */\nget checksumPresent(): boolean {\nreturn this.${f.name} !== 0;\n}`,
      );
    }
    const cutNote =
      this.canCut && c.coverage === 'message'
        ? ' (false for a payload wrapPartial() cut: it cannot be checked)'
        : '';
    const cutTest = this.canCut && c.coverage === 'message' ? ' && !this.cut' : '';
    const setter = `set${f.name.charAt(0).toUpperCase()}${f.name.slice(1)}`;
    // What the encoder stores for a computed 0 when 0 means "no checksum" (UDP: 0xffff).
    const stored = c.zeroMeansNone ? 'sum === 0 ? 0xffff : sum' : 'sum';
    const partialDoc = `Stores only the pseudo-header's sum (folded, not complemented) in ${f.name}: what a sender that leaves the rest to checksum offload writes (virtio NEEDS_CSUM, Linux CHECKSUM_PARTIAL). Summing the message from its start with that in place, and storing the complement, completes it`;
    if (c.pseudoIpv6 !== null) {
      this.use(CHECKSUM, 'ipv6PseudoHeaderSum');
      out.push(
        `/** Computes and stores ${f.name} over the IPv6 pseudo-header (addresses read in place) and the message, as the encoder does: for a message changed in place or one whose checksum was left partial. */
        setChecksumWithIpv6(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
          const length = ${lengthExpr};
          this.${setter}(0);
          const sum = internetChecksum(this.bytes, this.offset, length, ipv6PseudoHeaderSum(src, srcOffset, dst, dstOffset, ${c.pseudoIpv6}, length));
          this.${setter}(${stored});
        }`,
        `/** ${partialDoc} (setChecksumWithIpv6 does). */
        setPartialChecksumWithIpv6(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
          this.${setter}(ipv6PseudoHeaderSum(src, srcOffset, dst, dstOffset, ${c.pseudoIpv6}, ${lengthExpr}));
        }`,
      );
      out.push(
        `/** True when the checksum over the IPv6 pseudo-header (RFC 8200 §8.1: the 16-byte addresses at \`src[srcOffset]\` and \`dst[dstOffset]\`, read in place) and the message verifies${c.zeroMeansNone ? '; a stored 0 does not (IPv6 has no "no checksum")' : ''}${cutNote}. */
        checksumValidWithIpv6(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): boolean {
          const length = ${lengthExpr};
          return this.byteLength > 0${cutTest}${c.zeroMeansNone ? ` && this.${f.name} !== 0` : ''} && internetChecksum(this.bytes, this.offset, length, ipv6PseudoHeaderSum(src, srcOffset, dst, dstOffset, ${c.pseudoIpv6}, length)) === 0;
        }`,
      );
    }
    if (c.pseudoProtocol === null) return out;
    this.use(CHECKSUM, 'pseudoHeaderSum');
    out.push(
      `/** True when the checksum over the IPv4 pseudo-header (src, dst) and the message verifies${c.zeroMeansNone ? ', or when there is none' : ''}${this.canCut && c.coverage === 'message' ? ' (false for a payload wrapPartial() cut: it cannot be checked)' : ''}. */
      checksumValidWith(src: number, dst: number): boolean {
        ${c.zeroMeansNone ? `if (this.${f.name} === 0) return this.byteLength > 0;\n` : ''}const length = ${lengthExpr};
        return this.byteLength > 0${this.canCut && c.coverage === 'message' ? ' && !this.cut' : ''} && internetChecksum(this.bytes, this.offset, length, pseudoHeaderSum(src, dst, ${c.pseudoProtocol}, length)) === 0;
      }`,
      `/** Computes and stores ${f.name} over the IPv4 pseudo-header (src, dst) and the message, as the encoder does: for a message changed in place or one whose checksum was left partial. */
      setChecksumWith(src: number, dst: number): void {
        const length = ${lengthExpr};
        this.${setter}(0);
        const sum = internetChecksum(this.bytes, this.offset, length, pseudoHeaderSum(src, dst, ${c.pseudoProtocol}, length));
        this.${setter}(${stored});
      }`,
      `/** ${partialDoc} (setChecksumWith does). */
      setPartialChecksumWith(src: number, dst: number): void {
        this.${setter}(pseudoHeaderSum(src, dst, ${c.pseudoProtocol}, ${lengthExpr}));
      }`,
    );
    return out;
  }

  /**
   * wrap()'s statements (wrapPartial()'s when `partial`) over `bytes`, `offset` and `length`,
   * storing into the view's state (see wrap-ir.ts: the printer says whose).
   */
  wrapBody(partial: boolean): Stmt[] {
    const m = this.m;
    const body: Stmt[] = [];
    // One test on the hot path; the cold failFixed() works out which bound it was.
    if (this.canCut) body.push(stmt(ts`${self}.cut = false;`));
    if (m.eitherOrder) body.push(stmt(ts`${self}.littleEndian = littleEndian;`));
    body.push(
      stmt(ts`${self}.bytes = bytes;`),
      stmt(ts`${self}.offset = offset;`),
      stmt(ts`${self}.byteLength = length;`),
      failFixed(`!(offset >= 0 && length >= ${m.fixedSize} && offset + length <= bytes.length)`),
    );
    // The fields the checks read (they use locals, not the properties).
    const used = new Set<string>();
    for (const step of m.steps) {
      const e =
        step.kind === 'assert' ? step.expr : m.regions.find((x) => x.name === step.region)?.length;
      if (e !== undefined && typeof e !== 'string') for (const name of fieldRefs(e)) used.add(name);
    }
    const local = (name: string): string => `${name}Value`;
    // Eager decoding: every fixed scalar is read once here, with the byte loads written out,
    // and kept in its property; the checks use locals.
    for (const f of this.scalars) {
      const load = isWide(f) ? '' : inlineLoad(f, 'bytes', 'offset');
      if (used.has(f.name) && f.type !== 'mac') {
        body.push(
          stmt(`const ${local(f.name)} = ${load};`),
          stmt(ts`${self}.${slot(f)} = ${isWord(f) ? `${local(f.name)} | 0` : local(f.name)};`),
        );
      } else {
        if (used.has(f.name)) body.push(stmt(`const ${local(f.name)} = ${load};`));
        body.push(...eagerStores(f, 'bytes', 'offset'));
      }
    }
    const ctx: ExprContext = { field: local, len: viewContext.len };
    // A length may read a field at a computed offset before it (wrap() has decoded it into its
    // slot by then: a resource record's rdlength after the owner name).
    const mark = '\u0000';
    const placedSlots = new Map<string, ScalarField>();
    for (const r of m.regions)
      if (r.construct.kind === 'field' && r.construct.field.kind === 'scalar')
        placedSlots.set(r.name, r.construct.field);
    const lengthCtx: ExprContext = {
      field: (name) => {
        const f = placedSlots.get(name);
        if (f === undefined) return local(name);
        return `${mark}.${name}Field${isWord(f) ? ' >>> 0' : ''}`;
      },
      len: viewContext.len,
    };
    const lengthCode = (e: Expr): Code => {
      const pieces = exprTs(e, lengthCtx).split(mark);
      return { parts: pieces.flatMap((p, i) => (i === 0 ? (p === '' ? [] : [p]) : [self, p])) };
    };
    // `pos`: where the next variable part starts (it moves only when another part follows).
    if (m.regions.length > 0)
      body.push(
        stmt(`${m.regions.length > 1 ? 'let' : 'const'} pos = ${plus('offset', m.fixedSize)};`),
      );
    for (const step of m.steps) {
      if (step.kind === 'assert') {
        body.push(
          fail(
            // The failure test: the negated assertion (`assert !x` fails when x holds).
            step.expr.kind === 'not'
              ? exprTs(step.expr.operand, ctx)
              : `!${wrapParens(exprTs(step.expr, ctx))}`,
            step.code,
            step.field,
            `offset${step.byteOffset ? ` + ${step.byteOffset}` : ''}`,
          ),
        );
        continue;
      }
      const r = m.regions.find((x) => x.name === step.region) as Region;
      const c = this.cc.get(r.name) as ConstructCode;
      body.push(comment(r.name));
      const region: Stmt[] = [];
      if (r.length === 'walk') {
        region.push(...c.validate);
      } else {
        const clamp = partial && r.construct.kind === 'payload' && r.length !== 'rest';
        region.push(
          stmt(
            r.length === 'rest'
              ? `const size = offset + length - pos;`
              : ts`${clamp ? 'let' : 'const'} size = ${lengthCode(r.length)};`,
          ),
        );
        if (clamp) {
          region.push(
            failRegion('size < 0', r.name),
            comment('Cut to what the buffer holds (a quoted or snap-length-cut datagram).'),
            when('pos + size > offset + length', [
              stmt('size = offset + length - pos;'),
              stmt(ts`${self}.cut = true;`),
            ]),
          );
        } else if (r.length !== 'rest') {
          region.push(failRegion('size < 0 || pos + size > offset + length', r.name));
        }
        region.push(...c.validate);
      }
      // The next part starts where this one ends (nothing follows the last one).
      const last = r === m.regions[m.regions.length - 1];
      region.push(stmt(ts`${self}.${r.name}Size = size;`), ...(last ? [] : [stmt('pos += size;')]));
      body.push(block(region));
    }
    return body;
  }

  /** wrap()'s extra parameter when a DNS name's pointers (its own or an inner message's) may reach before the view. */
  private originParam(): string {
    if (this.m.eitherOrder) return ', littleEndian = false';
    return needsOrigin(this.spec, this.m) ? ', origin = offset' : '';
  }

  private wrapMethod(partial = false): string {
    const printed = printView(this.wrapBody(partial), this.failureTable);
    // A list's walk is this module's own (FrameDecoder imports it from here).
    this.code.imports.addAll(
      printed.imports.filter((i) => i.module !== `./${this.code.module}.js`),
    );
    const lines = [...printed.lines, 'return null;'];
    if (partial) {
      return `/**
     * Like wrap(), but a payload whose declared length runs past the buffer is cut to the bytes
     * that are there (\`payloadTruncated\` is then true) instead of failing: for the datagram an
     * ICMP error quotes (its header and 8 bytes) and for captures cut at a snap length. Every
     * other check is the same, and nothing is read outside [offset, offset + length).
     */
    wrapPartial(bytes: Uint8Array, offset = 0, length = bytes.length - offset${this.originParam()}): DecodeError | null {
      ${lines.join('\n')}
    }`;
    }
    return `/**
     * Points the view at a message and checks every bound up front: afterwards no getter or
     * cursor reads outside [offset, offset + length)${!needsOrigin(this.spec, this.m) ? '' : ' (and, for DNS names, their pointers nothing before `origin`, the DNS message start; by default the view is the whole message)'}. Returns null, or this view's error record.
     */
    wrap(bytes: Uint8Array, offset = 0, length = bytes.length - offset${this.originParam()}): DecodeError | null {
      ${lines.join('\n')}
    }`;
  }

  private fieldsKeys(): Array<{
    key: string;
    type: string;
    optional: boolean;
    decode: string;
    doc: string;
  }> {
    const out: Array<{
      key: string;
      type: string;
      optional: boolean;
      decode: string;
      doc: string;
    }> = [];
    for (const f of this.m.fields) {
      if (f.kind === 'scalar') {
        const derived = f.derive !== null || f.checksum !== null;
        if (f.type === 'ipv6') this.use(ADDRESS, 'formatIpv6');
        out.push({
          key: f.name,
          type: valueType(f),
          optional: derived,
          decode: valueDecode(f, 'v'),
          doc: derived ? 'Computed by the encoder when undefined.' : '',
        });
      } else {
        out.push({
          key: f.name,
          type: 'Uint8Array',
          optional: false,
          decode: `bytes.slice(v.${f.name}Offset, v.${f.name}Offset + ${f.size})`,
          doc: `${f.size} bytes (shorter is zero-filled on encode).`,
        });
      }
    }
    for (const r of this.m.regions) {
      for (const x of this.cc.get(r.name)?.fields ?? []) {
        out.push({
          key: x.key,
          type: x.type,
          optional: x.optional ?? false,
          decode: x.decode,
          doc:
            r.construct.kind === 'list'
              ? 'Raw option bytes as on the wire (padding included).'
              : r === this.checksumPlaced
                ? `Computed by the encoder when undefined${this.checksumConditional ? ' (on the wire only when its condition holds)' : ''}.`
                : r.construct.kind === 'field' &&
                    r.construct.field.kind === 'scalar' &&
                    r.construct.field.derive !== null
                  ? 'Computed by the encoder when undefined.'
                  : x.optional === true
                    ? 'On the wire only when its condition holds; undefined leaves it out (a flag without a derive of its own derives from presence).'
                    : '',
        });
      }
    }
    return out;
  }

  private emitFields(file: ModuleBuilder): void {
    file.addInterface({
      name: `${this.m.name}Fields`,
      isExported: true,
      docs: [
        `A ${this.m.layer} message as a plain value (for humans, tests and encode${this.m.name}()).`,
      ],
      properties: this.fieldsKeys().map((k) => ({
        name: k.key,
        type: k.type,
        hasQuestionToken: k.optional,
        docs: k.doc ? [k.doc] : undefined,
      })),
    });
  }

  private emitDecode(file: ModuleBuilder): void {
    const m = this.m;
    const origin = needsOrigin(this.spec, m);
    file.addVariableStatement({
      declarationKind: VariableDeclarationKind.Const,
      declarations: [
        { name: `${lowerFirst(m.name)}DecodeView`, initializer: `new ${this.viewName}()` },
      ],
    });
    file.addFunction({
      name: `decode${m.name}`,
      isExported: true,
      docs: [`Decodes into a new plain value (allocates; hot paths use ${this.viewName}).`],
      parameters: [
        { name: 'bytes', type: 'Uint8Array' },
        { name: 'offset', initializer: '0' },
        { name: 'length', initializer: 'bytes.length - offset' },
        ...(origin ? [{ name: 'origin', initializer: 'offset' }] : []),
        ...(m.eitherOrder ? [{ name: 'littleEndian', initializer: 'false' }] : []),
      ],
      returnType: `${m.name}Fields | DecodeError`,
      statements: [
        `const v = ${lowerFirst(m.name)}DecodeView;`,
        `const err = v.wrap(bytes, offset, length${origin ? ', origin' : ''}${m.eitherOrder ? ', littleEndian' : ''});`,
        `if (err !== null) return copyDecodeError(err);`,
        `return {\n${this.fieldsKeys()
          .map((k) => `${k.key}: ${k.decode},`)
          .join('\n')}\n};`,
      ],
    });
  }

  /** Byte count of the encoded header (fixed part plus sized regions), known before writing. */
  private headerSizeExpr(): string | null {
    const parts = [String(this.m.fixedSize)];
    for (const r of this.m.regions) {
      if (r.construct.kind === 'payload') break;
      const size = this.cc.get(r.name)?.encodeSize ?? null;
      if (size === null) return null;
      parts.push(size);
    }
    return parts.join(' + ');
  }

  private emitHeaderLength(file: ModuleBuilder): void {
    // A message another one nests needs its size too (the outer encoder checks its room).
    const nested = nestedMessages(this.spec);
    const inner = nested.fields.has(this.m.name) || nested.items.has(this.m.name);
    if (this.payload === undefined && !inner) return;
    const size = this.headerSizeExpr();
    if (size === null) return;
    // The sizes of conditional parts read flags the encoder derives (from presence): the same
    // locals, in the encoder's order. A derive that needs the payload length cannot be known here.
    const derived = new Map(
      this.scalars.filter((f) => f.derive !== null).map((f) => [f.name, f.derive as Expr]),
    );
    const needed = new Set<string>();
    const need = (name: string): void => {
      const d = derived.get(name);
      if (d === undefined || needed.has(name)) return;
      needed.add(name);
      for (const dep of fieldRefs(d)) need(dep);
    };
    for (const name of derived.keys())
      if (new RegExp(`(?<![.\\w])${name}(?!\\w)`).test(size)) need(name);
    const ctx: ExprContext = {
      field: (name) => (derived.has(name) ? name : `f.${name}`),
      len: (name) => `f.${name}.length`,
      given: (name) => `f.${name} !== undefined`,
    };
    const locals = this.m.encodeOrder
      .filter((name) => needed.has(name))
      .map((name) => `const ${name} = f.${name} ?? ${exprTs(derived.get(name) as Expr, ctx)};`);
    if (locals.some((l) => l.includes('payloadLength'))) return;
    const statements = [...locals, `return ${size};`];
    file.addFunction({
      name: `${lowerFirst(this.m.name)}HeaderLength`,
      isExported: true,
      docs: [
        `Bytes encode${this.m.name}() writes for \`f\`: where the payload goes after the header.`,
      ],
      parameters: [
        { name: statements.join('\n').includes('f.') ? 'f' : '_f', type: `${this.m.name}Fields` },
      ],
      returnType: 'number',
      statements,
    });
  }

  /**
   * The encoder `name`; with a pseudo-header checksum, for one address family (`encodeTcp` over
   * IPv4 takes the addresses as numbers, `encodeTcpIpv6` as 16 bytes each at an offset).
   */
  private emitEncode(file: ModuleBuilder, family: 'ipv4' | 'ipv6' | null, name: string): void {
    const m = this.m;
    const params = [
      { name: 'f', type: `${m.name}Fields` },
      { name: 'out', type: 'Uint8Array' },
      { name: 'offset', type: 'number' },
    ];
    if (m.encodeNeedsPayloadLength) params.push({ name: 'payloadLength', type: 'number' });
    if (m.eitherOrder) params.push({ name: 'littleEndian', initializer: 'false' } as never);
    if (family === 'ipv4')
      params.push({ name: 'src', type: 'number' }, { name: 'dst', type: 'number' });
    if (family === 'ipv6') {
      params.push(
        { name: 'src', type: 'Uint8Array' },
        { name: 'srcOffset', type: 'number' },
        { name: 'dst', type: 'Uint8Array' },
        { name: 'dstOffset', type: 'number' },
      );
    }
    const derived = new Set(this.scalars.filter((f) => f.derive !== null).map((f) => f.name));
    const ctx: ExprContext = {
      field: (name) => (derived.has(name) ? name : `f.${name}`),
      len: (name) => `f.${name}.length`,
      given: (name) => `f.${name} !== undefined`,
    };
    const body: string[] = [];
    // State the encoders of the parts share (DNS names written so far): the outermost encoder
    // owns one and starts it at the message; the ones it calls take it, and work without it.
    const context = encodeContext(this.spec, m);
    let contextDoc = '';
    if (context !== null && ownsEncodeContext(this.spec, m)) {
      const owned = `${lowerFirst(m.name)}${context.type}`;
      this.use(context.module, context.type);
      file.addVariableStatement({
        declarationKind: VariableDeclarationKind.Const,
        docs: [`What encode${m.name}() shares between its parts, started anew by every call.`],
        declarations: [{ name: owned, initializer: `new ${context.type}()` }],
      });
      body.push(`const ${context.param} = ${owned}.reset(out, offset);`);
      contextDoc = `its parts share one ${context.type}, counting from \`offset\``;
    } else if (context !== null) {
      this.use(context.module, context.type, true);
      params.push({ name: context.param, type: context.type, hasQuestionToken: true } as never);
      contextDoc = `\`${context.param}\`: what the encoder of the message holding this one shares between its parts (${context.type}), or undefined to encode this one alone`;
    }
    // Derived values first, each after its inputs.
    for (const name of m.encodeOrder) {
      const f = this.scalars.find((x) => x.name === name) as ScalarField;
      if (f.derive === null) continue;
      body.push(`const ${name} = f.${name} ?? ${exprTs(f.derive, ctx)};`);
    }
    const headerSize = this.headerSizeExpr();
    const payloadInOut = this.checksum?.checksum?.coverage === 'message';
    if (headerSize !== null) {
      body.push(`const headerBytes = ${headerSize};`);
      body.push(
        `if (!(offset >= 0 && offset + headerBytes${payloadInOut ? ' + payloadLength' : ''} <= out.length)) return -1;`,
      );
    } else {
      body.push(`if (!(offset >= 0 && ${plus('offset', m.fixedSize)} <= out.length)) return -1;`);
    }
    // Fixed part, one store per byte run.
    // The checksum adds the fixed part's 16-bit words from the values just stored (no loop
    // reading them back); only the regions after it are summed from `out`.
    const c = this.checksum;
    const headTerms: string[] = [];
    let foldHead = c?.checksum != null && this.bytesFields.length === 0;
    for (const group of storeGroups(this.scalars)) {
      const stored = this.storeGroup(group, ctx);
      body.push(...stored.lines);
      if (c !== undefined && group.includes(c)) {
        if (group.length !== 1 || c.bitOffset % 16 !== 0 || c.bitWidth !== 16) foldHead = false;
        continue;
      }
      if (stored.value === null || group[0].littleEndian) foldHead = false;
      else headTerms.push(...wordTerms(stored.value, stored.startByte, stored.n));
    }
    for (const f of this.bytesFields) {
      body.push(
        `out.fill(0, ${plus('offset', f.byteOffset)}, offset + ${f.byteOffset + f.size});`,
        `out.set(f.${f.name}.length > ${f.size} ? f.${f.name}.subarray(0, ${f.size}) : f.${f.name}, ${plus('offset', f.byteOffset)});`,
      );
    }
    // Regions before the payload (options, DNS sections); the payload is the caller's.
    const headerRegions = m.regions.slice(
      0,
      this.payload === undefined ? m.regions.length : m.regions.indexOf(this.payload),
    );
    if (this.checksumPlaced !== undefined && c !== undefined) body.push(`let ${c.name}At = -1;`);
    // A checksum whose head is summed from the stored values also sums the byte regions it
    // covers while copying them (the bytes are at hand then) instead of reading them back.
    const summed =
      c?.checksum != null &&
      foldHead &&
      this.checksumPlaced === undefined &&
      headerRegions.length > 0 &&
      headerRegions.every((r) => this.cc.get(r.name)?.copied !== undefined);
    if (headerRegions.length > 0) {
      body.push(`let pos = ${plus('offset', m.fixedSize)};`);
      for (const r of headerRegions) {
        const code = this.cc.get(r.name);
        if (summed && code?.copied !== undefined) {
          body.push(
            `const ${r.name}Sum = copySummed(${code.copied}, out, pos, pos - offset);`,
            `pos += ${code.copied}.length;`,
          );
          headTerms.push(`${r.name}Sum`);
          continue;
        }
        // After a part whose size only its encoder knows (a name), a part of a size known
        // before writing (a fixed-size field, bytes of a given length) checks its own room.
        if (headerSize === null && code?.encodeSize != null)
          body.push(`if (pos + ${code.encodeSize} > out.length) return -1;`);
        body.push(code?.encode ?? '');
      }
    }
    const written = headerRegions.length > 0 ? 'pos - offset' : String(m.fixedSize);
    if (c?.checksum != null) {
      // Where the checksum goes: a constant offset, or where the encoder wrote its placed word
      // (absolute; -1 when its condition left it out).
      const placedAt = this.checksumPlaced !== undefined ? `${c.name}At` : null;
      const at = c.bitOffset >> 3;
      const hi = placedAt ?? `offset + ${at}`;
      const lo = placedAt !== null ? `${placedAt} + 1` : `offset + ${at + 1}`;
      const len = c.checksum.coverage === 'header' ? written : `${written} + payloadLength`;
      const pseudo =
        family === 'ipv4'
          ? `pseudoHeaderSum(src, dst, ${c.checksum.pseudoProtocol}, covered)`
          : family === 'ipv6'
            ? `ipv6PseudoHeaderSum(src, srcOffset, dst, dstOffset, ${c.checksum.pseudoIpv6}, covered)`
            : '';
      const fixed = m.fixedSize;
      const initial = `head${pseudo !== '' ? ` + ${pseudo}` : ''}`;
      // Summed regions leave nothing to read back for a header checksum, and only the payload
      // (after them, maybe at an odd distance) for a message checksum.
      const headerOnly = summed && c.checksum.coverage === 'header';
      const computed = headerOnly
        ? '~head & 0xffff'
        : summed
          ? `internetChecksumFrom(out, pos, payloadLength, ${initial}, pos - offset)`
          : foldHead
            ? `internetChecksum(out, offset + ${fixed}, covered - ${fixed}, ${initial})`
            : `internetChecksum(out, offset, covered${pseudo !== '' ? `, ${pseudo}` : ''})`;
      const sum = c.checksum.zeroMeansNone
        ? `${headerOnly ? `(${computed})` : computed} || 0xffff`
        : computed;
      body.push(
        `if (f.${c.name} === undefined${placedAt !== null ? ` && ${placedAt} >= 0` : ''}) {`,
        headerOnly ? '' : `  const covered = ${len};`,
        ...(foldHead
          ? [
              `  let head = ${headTerms.length > 0 ? headTerms.join(' + ') : '0'};`,
              `  head = (head & 0xffff) + (head >>> 16);`,
              `  head = (head & 0xffff) + (head >>> 16);`,
            ]
          : []),
        c.checksum.zeroMeansNone
          ? family === 'ipv6'
            ? `  // A computed 0 is sent as 0xffff (RFC 8200 §8.1: a stored 0 is never valid over IPv6).`
            : `  // A computed 0 is sent as 0xffff: 0 means "no checksum" (RFC 768).`
          : '',
        `  const sum = ${sum};`,
        `  out[${hi}] = sum >>> 8;`,
        `  out[${lo}] = sum;`,
        `}`,
      );
      if (!headerOnly) this.use(CHECKSUM, summed ? 'internetChecksumFrom' : 'internetChecksum');
      if (summed) this.use(CHECKSUM, 'copySummed');
      if (family === 'ipv4') this.use(CHECKSUM, 'pseudoHeaderSum');
      if (family === 'ipv6') this.use(CHECKSUM, 'ipv6PseudoHeaderSum');
    }
    body.push(`return ${written};`);
    const extra = [
      contextDoc,
      m.encodeNeedsPayloadLength
        ? '`payloadLength` is the byte count of the payload that follows the header in `out`'
        : '',
      payloadInOut ? 'the payload must already be there, since the checksum covers it' : '',
      family === 'ipv6'
        ? 'the checksum covers the IPv6 pseudo-header (RFC 8200 §8.1) of the 16-byte addresses at `src[srcOffset]` and `dst[dstOffset]`'
        : '',
      this.scalars.some((f) => f.type === 'ipv6')
        ? 'an IPv6 address text that does not parse also gives -1'
        : '',
    ].filter((s) => s !== '');
    if (body.some((line) => line.includes('copyBytes('))) this.use(BYTES, 'copyBytes');
    file.addFunction({
      name,
      isExported: true,
      docs: [
        `Writes \`f\` at \`out[offset]\` and returns the bytes written (the header; the payload is the caller's), or -1 when \`out\` is too small.` +
          ` Fields left undefined are derived (lengths, checksum). ${extra.join('; ')}${extra.length > 0 ? '.' : ''} Allocates nothing.`,
      ],
      parameters: params,
      returnType: 'number',
      statements: body.filter((s) => s !== ''),
    });
  }

  /**
   * The stores of one group, and the name of the value they write (null for a MAC, written
   * from two halves), so the checksum can add the group's words without reading them back.
   */
  private storeGroup(
    group: ScalarField[],
    ctx: ExprContext,
  ): { lines: string[]; value: string | null; startByte: number; n: number } {
    const first = group[0];
    const startByte = first.bitOffset >> 3;
    const last = group[group.length - 1];
    const n = ((last.bitOffset + last.bitWidth) >> 3) - startByte;
    const base = (k: number): string =>
      `out[offset${startByte + k === 0 ? '' : ` + ${startByte + k}`}]`;
    const valueOf = (f: ScalarField): string =>
      f.checksum !== null ? `f.${f.name} ?? 0` : ctx.field(f.name);
    if (group.length === 1 && isWide(first)) {
      if (first.type === 'ipv6') this.use(ADDRESS, 'putIpv6');
      const at = (k: number): string => `offset${startByte + k === 0 ? '' : ` + ${startByte + k}`}`;
      return { lines: wideStores(first, ctx.field(first.name), at), value: null, startByte, n };
    }
    if (group.length === 1 && first.type === 'mac') {
      // Written inline from two integer halves (no helper call, no Math.floor): the MAC is
      // below 2**48, so the quotient fits an int32, and `| 0` keeps the low 32 bits.
      const hi = `${first.name}Hi`;
      const lo = `${first.name}Lo`;
      const lines = [
        `const ${hi} = (${ctx.field(first.name)} / 0x100000000) | 0;`,
        `const ${lo} = ${ctx.field(first.name)} | 0;`,
        `${base(0)} = ${hi} >> 8;`,
        `${base(1)} = ${hi};`,
        `${base(2)} = ${lo} >> 24;`,
        `${base(3)} = ${lo} >> 16;`,
        `${base(4)} = ${lo} >> 8;`,
        `${base(5)} = ${lo};`,
      ];
      return { lines, value: null, startByte, n };
    }
    let value: string;
    if (group.length === 1 && first.bitWidth === n * 8) {
      value = valueOf(first);
    } else {
      const groupBits = n * 8;
      value = group
        .map((f) => {
          const shift = groupBits - (f.bitOffset - first.bitOffset) - f.bitWidth;
          const masked = `(${valueOf(f)} & ${hex(2 ** f.bitWidth - 1)})`;
          return shift === 0 ? masked : `(${masked} << ${shift})`;
        })
        .join(' | ');
    }
    const lines: string[] = [];
    // A 4-byte value goes through an int32 local once: `x | 0` keeps the same 32 bits as the
    // uint32 (so the stores below write the same bytes), and shifting an int32 is integer
    // arithmetic where a uint32 above 2**31 is a double to truncate at every store.
    const simple = /^[A-Za-z_.]+$/.test(value) && n < 4;
    const v = simple ? value : `v${startByte}`;
    if (!simple) lines.push(`const v${startByte} = ${n === 4 ? `(${value}) | 0` : value};`);
    const stores = (little: boolean): string[] =>
      Array.from({ length: n }, (_, k) => {
        const shift = little ? 8 * k : 8 * (n - 1 - k);
        return `${base(k)} = ${shift === 0 ? v : `${v} >>> ${shift}`};`;
      });
    if (first.anyOrder === true)
      lines.push(`if (littleEndian) {`, ...stores(true), `} else {`, ...stores(false), `}`);
    else lines.push(...stores(first.littleEndian));
    return { lines, value: v, startByte, n };
  }

  private emitDispatch(file: ModuleBuilder): void {
    const d = this.m.dispatch;
    // A message declared as another shares its base's payloadKind() and dispatchTable.
    if (d === null || this.m.derivedFrom !== null) return;
    const targets = [...new Set(d.cases.map((c) => c.target))];
    const typeName = `${this.m.name}PayloadKind`;
    file.addTypeAlias({
      name: typeName,
      isExported: true,
      docs: ['Which message the payload holds, by the dispatch in the spec.'],
      type: targets.map((t) => `'${t}'`).join(' | '),
    });
    const table = d.fields
      .map(
        (field) =>
          `${field}: {\n${d.cases.flatMap((c) => c.values.map((v) => `${v}: '${c.target}',`)).join('\n')}\n},`,
      )
      .join('\n');
    file.addVariableStatement({
      declarationKind: VariableDeclarationKind.Const,
      isExported: true,
      docs: [
        'The dispatch table from the spec: field → value → payload kind (fields tried in order).',
      ],
      declarations: [{ name: 'dispatchTable', initializer: `{\n${table}\n} as const` }],
    });
    const switches = d.fields.map(
      (field) =>
        `switch (view.${field}) {\n${d.cases.map((c) => `${c.values.map((v) => `case ${v}:`).join('\n')}\nreturn '${c.target}';`).join('\n')}\n}`,
    );
    file.addFunction({
      name: 'payloadKind',
      isExported: true,
      docs: [
        `The payload's message kind (${d.fields.join(', then ')}), or null when the spec names none${d.when !== null ? ' or the dispatch condition does not hold' : ''}.`,
      ],
      parameters: [
        {
          name: 'view',
          type: [this.m, ...derivedMessages(this.spec, this.m)]
            .map((m) => `${m.name}View`)
            .join(' | '),
        },
      ],
      returnType: `${typeName} | null`,
      statements: [
        ...(d.when !== null
          ? [`if (!${wrapParens(exprTs(d.when, viewOf('view')))}) return null;`]
          : []),
        ...switches,
        'return null;',
      ],
    });
  }
}

/** The messages of the spec declared as `m` (`message M = m with {...}`), directly or not. */
function derivedMessages(spec: SpecModel, m: MessageModel): MessageModel[] {
  const out: MessageModel[] = [];
  const names = new Set([m.name]);
  for (const x of spec.messages)
    if (x.derivedFrom !== null && names.has(x.derivedFrom)) {
      out.push(x);
      names.add(x.name);
    }
  return out;
}

/** A wide field's getters: offsets, uint32 and int32 words, copy/compare (IPv6), bigint (u64). */
export function wideGetters(
  f: ScalarField,
  at: string,
  use: (module: string, name: string) => void,
): string[] {
  const [hi, lo] = slots(f);
  const offset = `/** Absolute index of ${f.name}'s ${f.bitWidth / 8} bytes. */\nget ${f.name}Offset(): number {\nreturn ${at};\n}`;
  if (f.type === 'u64') {
    use(ADDRESS, 'u64FromHalves');
    return [
      offset,
      `/** High 32 bits of the 64-bit ${f.name} as uint32. */\nget ${f.name}Hi(): number {\nreturn this.${hi} >>> 0;\n}`,
      `/** Low 32 bits of the 64-bit ${f.name} as uint32. */\nget ${f.name}Lo(): number {\nreturn this.${lo} >>> 0;\n}`,
      `/** ${f.name} as a bigint (allocates: for humans and values; hot paths use ${f.name}Hi/${f.name}Lo). */\n${f.name}BigInt(): bigint {\nreturn u64FromHalves(this.${hi}, this.${lo});\n}`,
    ];
  }
  use(ADDRESS, 'ipv6Equals');
  const words = slots(f);
  return [
    offset,
    ...words.map(
      (w, k) =>
        `/** 32-bit word ${k} of ${f.name} (bytes ${4 * k}..${4 * k + 3}, big-endian) as uint32. */\nget ${f.name}Word${k}(): number {\nreturn this.${w} >>> 0;\n}`,
    ),
    ...words.map(
      (w, k) =>
        `/** 32-bit word ${k} of ${f.name} as its int32 bit pattern (compares without boxing). */\nget ${f.name}Int${k}(): number {\nreturn this.${w};\n}`,
    ),
    `/** True when ${f.name} equals the 16 bytes at \`other[otherOffset]\` (false when those are out of bounds). */\n${f.name}Equals(other: Uint8Array, otherOffset: number): boolean {\nreturn ipv6Equals(this.bytes, ${at}, other, otherOffset);\n}`,
    `/** Writes ${f.name}'s 16 bytes at \`out[outOffset]\`; false (nothing written) when they do not fit. */\ncopy${f.name.charAt(0).toUpperCase()}${f.name.slice(1)}(out: Uint8Array, outOffset: number): boolean {\nif (!(outOffset >= 0 && outOffset + 16 <= out.length)) return false;\n${words
      .map((w, k) =>
        [0, 1, 2, 3]
          .map(
            (j) =>
              `out[outOffset${4 * k + j === 0 ? '' : ` + ${4 * k + j}`}] = this.${w}${j === 3 ? '' : ` >>> ${24 - 8 * j}`};`,
          )
          .join('\n'),
      )
      .join('\n')}\nreturn true;\n}`,
  ];
}

/** Encoder statements writing a wide field from the value `v`; `at(k)` indexes its byte k. */
export function wideStores(f: ScalarField, v: string, at: (k: number) => string): string[] {
  // Malformed address text cannot be encoded: the encoder returns -1 as for a short buffer.
  if (f.type === 'ipv6') return [`if (!putIpv6(out, ${at(0)}, ${v})) return -1;`];
  const x = `${f.name}Bits`;
  const lines = [
    `const ${x} = BigInt.asUintN(64, ${v});`,
    `const ${f.name}Hi = Number(${x} >> 32n) | 0;`,
    `const ${f.name}Lo = Number(${x} & 0xffffffffn) | 0;`,
  ];
  for (let k = 0; k < 8; k++) {
    const word = k < 4 ? `${f.name}Hi` : `${f.name}Lo`;
    const shift = 24 - 8 * (k % 4);
    lines.push(`out[${at(k)}] = ${shift === 0 ? word : `${word} >>> ${shift}`};`);
  }
  return lines;
}

/** The Fields (value form) type of a scalar. */
export function valueType(f: ScalarField): string {
  if (f.type === 'u64') return 'bigint';
  if (f.type === 'ipv6') return 'string | Uint8Array';
  return 'number';
}

/** The value form of scalar `f` read from the view `v` (decodeX(); `bytes` is in scope). */
export function valueDecode(f: ScalarField, v: string): string {
  if (f.type === 'u64') return `${v}.${f.name}BigInt()`;
  if (f.type === 'ipv6') return `formatIpv6(bytes, ${v}.${f.name}Offset)`;
  return `${v}.${f.name}`;
}

/** toJSON()/describe() text of a byte array at `at` as its format says. */
export function bytesJson(
  f: BytesField,
  at: string,
  use: (module: string, name: string) => void,
): string {
  switch (f.format?.name) {
    case 'hwaddr':
      use(ADDRESS, 'formatHwAddr');
      return `formatHwAddr(this.bytes, ${at}, ${exprTs(f.format.length, viewContext)}, ${f.size})`;
    case 'mac':
      use(ADDRESS, 'formatMac');
      use(ADDRESS, 'readMac');
      return `formatMac(readMac(this.bytes, ${at}))`;
    case 'ipv4':
      use(ADDRESS, 'formatIpv4');
      use(ADDRESS, 'readIpv4');
      return `formatIpv4(readIpv4(this.bytes, ${at}))`;
    case 'ipv6':
      use(ADDRESS, 'formatIpv6');
      return `formatIpv6(this.bytes, ${at})`;
    default:
      use(ADDRESS, 'formatHex');
      return `formatHex(this.bytes, ${at}, ${f.size})`;
  }
}

/**
 * The big-endian 16-bit words a group of `n` bytes at `startByte` contributes to a
 * one's-complement sum, from the value `v` its stores write (each store keeps the low 8 bits
 * of its shift, so the terms mask the same way).
 */
export function wordTerms(v: string, startByte: number, n: number): string[] {
  const terms: string[] = [];
  for (let k = 0; k < n; k++) {
    const shift = 8 * (n - 1 - k);
    const shifted = shift === 0 ? v : `(${v} >>> ${shift})`;
    if ((startByte + k) % 2 === 0 && k + 1 < n) {
      // Two bytes of the value make one whole word.
      const pairShift = shift - 8;
      terms.push(`(${pairShift === 0 ? v : `(${v} >>> ${pairShift})`} & 0xffff)`);
      k++;
    } else if ((startByte + k) % 2 === 0) {
      terms.push(`((${shifted} & 0xff) << 8)`);
    } else {
      terms.push(`(${shifted} & 0xff)`);
    }
  }
  return terms;
}

function wrapParens(s: string): string {
  return s.startsWith('(') && s.endsWith(')') ? s : `(${s})`;
}

function emitEnum(file: ModuleBuilder, e: EnumModel): void {
  file.addVariableStatement({
    declarationKind: VariableDeclarationKind.Const,
    isExported: true,
    declarations: [
      {
        name: e.name,
        initializer: `Object.freeze({\n${e.members.map((m) => `${m.name}: ${hex(m.value)},`).join('\n')}\n} as const)`,
      },
    ],
  });
  file.addTypeAlias({
    name: e.name,
    isExported: true,
    type: `(typeof ${e.name})[keyof typeof ${e.name}]`,
  });
  const seen = new Set<number>();
  const cases: string[] = [];
  for (const m of e.members) {
    if (seen.has(m.value)) continue;
    seen.add(m.value);
    cases.push(`case ${hex(m.value)}:\nreturn '${m.name}';`);
  }
  file.addFunction({
    name: `nameOf${e.name}`,
    isExported: true,
    docs: [`The ${e.name} member name of a value, for describe(); undefined when unnamed.`],
    parameters: [{ name: 'value', type: 'number' }],
    returnType: 'string | undefined',
    statements: [`switch (value) {\n${cases.join('\n')}\ndefault:\nreturn undefined;\n}`],
  });
}

/** Each list's module-level code (cursor, element views, walk, encoder...). */
function emitLists(file: ModuleBuilder, spec: SpecModel, imports: Imports): void {
  for (const l of spec.lists) {
    const bounds = new Set<string>();
    for (const m of spec.messages)
      for (const r of m.regions)
        if (r.construct.kind === 'list' && r.construct.list === l.name)
          bounds.add(r.construct.bound.kind);
    // A list nested in an element is validated by length, like one bounded by bytes.
    const nested = spec.lists.some((x) =>
      x.elements.some((e) => e.tail?.kind === 'list' && e.tail.list === l.name),
    );
    if (bounds.size === 0 || nested) bounds.add('bytes');
    const code = listModuleCode(l, bounds, spec.lists);
    imports.addAll(code.imports);
    for (const st of code.statements) file.addStatements(st);
  }
}

/**
 * The spec's messages with every nested one before the messages holding it: a view creates its
 * inner views (and the module its decode views) as the module is evaluated.
 */
function innerFirst(spec: SpecModel): MessageModel[] {
  const out: MessageModel[] = [];
  const visit = (m: MessageModel): void => {
    if (out.includes(m)) return;
    for (const r of m.regions) {
      const c = r.construct;
      const inner = c.kind === 'message' ? c.message : c.kind === 'array' ? c.array.message : null;
      const im = spec.messages.find((x) => x.name === inner);
      if (im !== undefined) visit(im);
    }
    out.push(m);
  };
  spec.messages.forEach(visit);
  return out;
}

/** Unformatted TypeScript for one spec's module. */
/** One project for every module: creating a ts-morph Project is not free. */
let sharedProject: Project | undefined;

export function emitModule(spec: SpecModel, specPath: string): string {
  sharedProject ??= new Project({ useInMemoryFileSystem: true });
  const file = new ModuleBuilder();
  const imports = new Imports();
  const code: MessageCode = { module: spec.module, imports, constructs: new Map() };
  for (const e of spec.enums) emitEnum(file, e);
  file.addStatements('const EMPTY = new Uint8Array(0);');
  emitLists(file, spec, imports);
  const extras = new Set<string>();
  const { items } = nestedMessages(spec);
  for (const m of innerFirst(spec)) {
    const emitter = new MessageEmitter(spec, m, code);
    emitter.emit(file);
    if (items.has(m.name)) for (const st of itemModuleCode(spec, m)) file.addStatements(st);
  }
  for (const m of spec.messages) for (const st of selectModuleCode(spec, m)) file.addStatements(st);
  for (const c of code.constructs.values()) for (const x of c.moduleExtras) extras.add(x);
  imports.emit(file);
  if (extras.size > 0) file.addStatements([...extras].join('\n'));
  return file.print(
    sharedProject,
    `${spec.module}.ts`,
    `// Generated by pktstack codegen from ${specPath}. Do not edit: change the spec and run \`npm run codegen\`.\n`,
  );
}

/**
 * wrap()'s statements for message `m`, run in line by FrameDecoder on the view in the local
 * `view` and the window `offset`, `length`, and the helpers they call. Every failure returns
 * `stop`, which hands over to the view's own wrap() (see wrap-ir.ts).
 */
export function fusedWrap(
  spec: SpecModel,
  m: MessageModel,
  view: string,
  stop: string,
): { lines: string[]; imports: Import[] } {
  const code: MessageCode = { module: spec.module, imports: new Imports(), constructs: new Map() };
  return printFused(new MessageEmitter(spec, m, code).wrapBody(false), view, stop);
}
