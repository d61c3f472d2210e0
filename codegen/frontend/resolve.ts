/**
 * Syntax tree → validated SpecModel. Every check a spec author can fail lives here and throws
 * SpecError pointing at the offending token: unknown types and names, duplicates, widths out of
 * range, bit fields that do not fill whole bytes, misplaced fields, derive cycles.
 */
import { SpecError } from '../spec-error.js';
import type {
  AstAttr,
  AstDispatch,
  AstExpr,
  AstField,
  AstMessage,
  AstSelect,
  AstSpec,
  AstValue,
} from './ast.js';
import { arrayItem, itemExpr, resolveList, summaryExpr } from './resolve-list.js';
import { PEEK_GETTER } from './model.js';
import type {
  BinaryOp,
  BytesField,
  ChecksumModel,
  CheckStep,
  DescribePart,
  DispatchModel,
  EnumModel,
  Expr,
  FixedField,
  JsonEntry,
  ListBound,
  ListModel,
  MessageModel,
  PeekModel,
  Region,
  RegionConstruct,
  ScalarField,
  SelectModel,
  SpecModel,
} from './model.js';

const DECODE_ERROR_CODES = new Set([
  'E_TRUNCATED',
  'E_BAD_LENGTH',
  'E_BAD_VALUE',
  'E_BAD_OPTION',
  'E_BAD_NAME',
  'E_POINTER_LOOP',
  'E_BAD_POINTER',
]);

/** Plain scalar types: bit width, kind, byte order. */
const SCALAR_TYPES: Record<string, { width: number; type: ScalarField['type']; le: boolean }> = {
  u8: { width: 8, type: 'uint', le: false },
  u16: { width: 16, type: 'uint', le: false },
  u32: { width: 32, type: 'uint', le: false },
  u16le: { width: 16, type: 'uint', le: true },
  u32le: { width: 32, type: 'uint', le: true },
  mac: { width: 48, type: 'mac', le: false },
  ipv4: { width: 32, type: 'ipv4', le: false },
  u64: { width: 64, type: 'u64', le: false },
  ipv6: { width: 128, type: 'ipv6', le: false },
};

/** Byte-array formats that need no argument, and the size each one needs. */
const BYTES_FORMATS: Record<string, number | null> = { mac: 6, ipv4: 4, ipv6: 16, hex: null };

const REGION_TYPES = new Set(['array', 'payload', 'bytes', 'list', 'dns_name']);
const BUILTIN_JSON = new Set(['checksumValid', 'payloadLength', 'headerLength']);
/** Names the DSL gives a meaning of its own; fields cannot take them. */
const RESERVED = new Set([
  'rest',
  PEEK_GETTER,
  'len',
  'payloadLength',
  'payloadOffset',
  'headerLength',
  'messageLength',
  'checksumValid',
  'checksumPresent',
  // Members every generated view has.
  'bytes',
  'offset',
  'byteLength',
  'error',
  'end',
  'wrap',
  'toJSON',
  'describe',
  'messageType',
]);

/**
 * The fewest bytes message `m` can take: its fixed part, plus fields after a variable part that
 * are always there, one byte per DNS name (the root byte) and the least of each nested message
 * (`messageOf` finds it).
 */
function minimumSize(m: MessageModel, messageOf: (name: string) => MessageModel): number {
  let n = m.fixedSize;
  for (const r of m.regions) {
    const c = r.construct;
    if (c.kind === 'dns_name') n += 1;
    else if (c.kind === 'message') n += minimumSize(messageOf(c.message), messageOf);
    else if (c.kind === 'field' && c.presence === null)
      n += c.field.kind === 'scalar' ? c.field.bitWidth / 8 : c.field.size;
  }
  return n;
}

function moduleName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.pkt$/, '');
}

/** Finds another spec's model by module name (for `import`); undefined when there is none. */
export type SpecLookup = (module: string) => SpecModel | undefined;

class Resolver {
  private readonly enums = new Map<string, EnumModel>();
  /** Enums named in `import` lines, by name. */
  private readonly imported = new Map<string, EnumModel>();
  readonly lists = new Map<string, ListModel>();

  constructor(
    private readonly spec: AstSpec,
    private readonly lookup: SpecLookup,
  ) {}

  error(pos: number, message: string): never {
    throw new SpecError(this.spec.file, this.spec.source, pos, message);
  }

  private imports(): void {
    const self = moduleName(this.spec.file);
    for (const i of this.spec.imports) {
      if (i.from.name === self) this.error(i.from.pos, `a spec cannot import from itself`);
      const from = this.lookup(i.from.name);
      if (from === undefined)
        this.error(
          i.from.pos,
          `cannot import from '${i.from.name}': no spec ${i.from.name}.pkt beside this one`,
        );
      for (const n of i.names) {
        const e = from.enums.find((x) => x.name === n.name);
        if (e === undefined) {
          const also = from.importedEnums.some((x) => x.name === n.name)
            ? ` (it imports it from ${from.importedEnums.find((x) => x.name === n.name)?.module}; import it from there)`
            : '';
          this.error(n.pos, `spec '${from.module}' declares no enum '${n.name}'${also}`);
        }
        if (this.imported.has(n.name)) this.error(n.pos, `enum '${n.name}' is imported twice`);
        this.imported.set(n.name, { ...e, module: from.module });
      }
    }
  }

  run(): SpecModel {
    this.imports();
    for (const e of this.spec.enums) {
      if (this.enums.has(e.name.name)) this.error(e.name.pos, `duplicate enum '${e.name.name}'`);
      if (this.imported.has(e.name.name))
        this.error(
          e.name.pos,
          `enum '${e.name.name}' is already imported from ${this.imported.get(e.name.name)?.module}`,
        );
      const base = SCALAR_TYPES[e.base.name];
      if (base === undefined || base.type !== 'uint') {
        this.error(e.base.pos, `enum base type must be u8, u16 or u32, not '${e.base.name}'`);
      }
      const seen = new Set<string>();
      const members: EnumModel['members'] = [];
      for (const m of e.members) {
        if (seen.has(m.name.name)) this.error(m.name.pos, `duplicate enum member '${m.name.name}'`);
        seen.add(m.name.name);
        if (m.value >= 2 ** base.width) {
          this.error(m.pos, `value ${m.value} does not fit the enum's ${base.width}-bit base type`);
        }
        members.push({ name: m.name.name, value: m.value });
      }
      this.enums.set(e.name.name, { name: e.name.name, width: base.width, members });
    }
    for (const l of this.spec.lists) {
      if (this.lists.has(l.name.name)) this.error(l.name.pos, `duplicate list '${l.name.name}'`);
      this.lists.set(l.name.name, resolveList(this, l));
    }
    this.checkNestedLists();
    const seenMessages = new Set<string>();
    for (const x of this.spec.messages) {
      if (x.derivedFrom === null) this.messageAsts.push(...this.byteOrders(x));
      else this.messageAsts.push(this.derivedMessage(x));
    }
    for (const m of this.messageAsts) {
      if (seenMessages.has(m.name.name))
        this.error(m.name.pos, `duplicate message '${m.name.name}'`);
      seenMessages.add(m.name.name);
    }
    // A message resolves the messages it nests first (on demand), so the spec's order is free.
    const messages = this.messageAsts.map((m) => this.message(m.name.name, m.name.pos));
    if (messages.length === 0) this.error(this.spec.source.length, 'a spec must declare a message');
    this.checkSelects(messages);
    // payloadKind() and dispatchTable are module-level names: one dispatching message per spec.
    const dispatching = this.spec.messages.filter((m) =>
      m.members.some((x) => x.kind === 'dispatch'),
    );
    if (dispatching.length > 1) {
      const second = dispatching[1].members.find((x) => x.kind === 'dispatch');
      this.error(second?.pos ?? 0, 'only one message per spec may have a dispatch');
    }
    return {
      file: this.spec.file,
      source: this.spec.source,
      module: moduleName(this.spec.file),
      enums: [...this.enums.values()],
      importedEnums: [...this.imported.values()],
      lists: [...this.lists.values()],
      messages,
    };
  }

  /**
   * A select's targets are other messages of this spec that read the select field where the
   * head does: the value that chose the layout is then the same field of the chosen view.
   */
  private checkSelects(messages: MessageModel[]): void {
    for (const holder of messages)
      for (const r of holder.regions) {
        for (const c of r.select?.cases ?? []) {
          const target = messages.find((m) => m.name === c.target);
          if (target === undefined)
            this.error(c.pos, `select target '${c.target}' is not a message of this spec`);
          if (target === holder)
            this.error(c.pos, `a message cannot select itself ('${c.target}')`);
          if (target.regions.some((x) => x.construct.kind === 'payload'))
            this.error(
              c.pos,
              `select target '${c.target}' has a payload: the bytes of '${r.name}' must hold all of it`,
            );
        }
      }
    for (const head of messages) {
      const sel = head.select;
      if (sel === null) continue;
      const key = head.fields.find((f) => f.kind === 'scalar' && f.name === sel.field);
      for (const c of sel.cases) {
        const target = messages.find((m) => m.name === c.target);
        if (target === undefined)
          this.error(c.pos, `select target '${c.target}' is not a message of this spec`);
        if (target === head) this.error(c.pos, `a message cannot select itself ('${c.target}')`);
        const f = target.fields.find((x) => x.kind === 'scalar' && x.name === sel.field);
        if (
          key?.kind !== 'scalar' ||
          f?.kind !== 'scalar' ||
          f.bitOffset !== key.bitOffset ||
          f.bitWidth !== key.bitWidth
        )
          this.error(
            c.pos,
            `select target '${c.target}' must have field '${sel.field}' where '${head.name}' has it (bit ${key?.kind === 'scalar' ? key.bitOffset : 0}, ${key?.kind === 'scalar' ? key.bitWidth : 0} bits)`,
          );
      }
    }
    // The quote is found through <Head>Layouts (quoteKind, quoteOffset, quoteLength).
    const layouts = new Set(
      messages.flatMap((m) =>
        m.select === null ? [] : [m.name, ...m.select.cases.map((c) => c.target)],
      ),
    );
    for (const m of messages)
      for (const r of m.regions)
        if (r.quotes !== undefined && !layouts.has(m.name))
          this.error(
            r.quotes.pos,
            `'${m.name}' quotes a packet but is neither a select's head nor one of its layouts`,
          );
  }

  /** The spec's messages, an endian(...) message once per byte order. */
  private messageAsts: AstMessage[] = [];
  private readonly resolved = new Map<string, MessageModel>();
  private readonly resolving: string[] = [];

  /** True when the spec declares message `name`. */
  hasMessage(name: string): boolean {
    return this.messageAsts.some((m) => m.name.name === name);
  }

  /** The model of message `name`, resolving it now if needed; nesting itself is an error. */
  message(name: string, pos: number): MessageModel {
    const done = this.resolved.get(name);
    if (done !== undefined) return done;
    if (this.resolving.includes(name))
      this.error(
        pos,
        `message '${name}' contains itself (${[...this.resolving, name].join(' > ')})`,
      );
    const ast = this.messageAsts.find((m) => m.name.name === name) as AstMessage;
    this.resolving.push(name);
    const model = new MessageResolver(this, ast, moduleName(this.spec.file)).run();
    this.resolving.pop();
    this.resolved.set(name, model);
    return model;
  }

  /**
   * `message M endian(be, le)`: one message per byte order, `MBe` and `MLe`, whose u16/u32
   * fields are big- or little-endian (a capture file is written in its writer's order). Other
   * field types have no byte order (bytes, addresses) or are refused in the little-endian copy.
   */
  private byteOrders(m: AstMessage): AstMessage[] {
    if (m.endian === null) return [m];
    const orders = m.endian.orders;
    if (orders.length === 0)
      this.error(m.endian.pos, 'endian() needs a byte order: be, le or both');
    const seen = new Set<string>();
    for (const o of orders) {
      if (o.name !== 'be' && o.name !== 'le')
        this.error(o.pos, `unknown byte order '${o.name}' (be or le)`);
      if (seen.has(o.name)) this.error(o.pos, `byte order '${o.name}' listed twice`);
      seen.add(o.name);
    }
    for (const x of m.members) {
      if (x.kind === 'dispatch')
        this.error(x.pos, 'an endian(...) message cannot dispatch: it is not a layer of a frame');
      if (x.kind === 'select')
        this.error(
          x.pos,
          'an endian(...) message cannot select: its layouts would need a byte order each',
        );
      if (x.kind !== 'field') continue;
      const t = x.type.name;
      if (t.name === 'u16le' || t.name === 'u32le')
        this.error(
          t.pos,
          `'${t.name}' in an endian(...) message: write ${t.name.slice(0, 3)}, the order comes from endian()`,
        );
      if (seen.has('le') && (t.name === 'bits' || t.name === 'u64'))
        this.error(
          t.pos,
          `'${t.name}' has no little-endian form: an endian(..., le) message takes u8, u16, u32, addresses and byte regions`,
        );
      const item = x.type.item;
      if (
        seen.has('le') &&
        item !== undefined &&
        !Array.isArray(item) &&
        (item.name === 'u16' || item.name === 'u32')
      )
        this.error(item.pos, `array(${item.name}, ...) has no little-endian form yet`);
    }
    // Both orders: one message whose order wrap() and the encoder take (MessageResolver).
    if (orders.length === 2) return [m];
    const little: Record<string, string> = { u16: 'u16le', u32: 'u32le' };
    return orders.map((o) => ({
      name: { name: `${m.name.name}${o.name === 'be' ? 'Be' : 'Le'}`, pos: m.name.pos },
      endian: null,
      derivedFrom: null,
      members:
        o.name === 'be'
          ? m.members
          : m.members.map((x) =>
              x.kind === 'field' && little[x.type.name.name] !== undefined
                ? {
                    ...x,
                    type: { ...x.type, name: { ...x.type.name, name: little[x.type.name.name] } },
                  }
                : x,
            ),
    }));
  }

  /**
   * `message M = Base with { ... }`: Base's members (Base declared above M), each member of the
   * `with` block in the place of Base's member it names: a field the field of that name, an
   * assert the asserts at the same field, `json` and `describe` Base's own. M keeps Base's
   * dispatch (payloadKind() takes either view), so one table serves both.
   */
  private derivedMessage(m: AstMessage): AstMessage {
    const from = m.derivedFrom as NonNullable<AstMessage['derivedFrom']>;
    if (from.base.name === m.name.name)
      this.error(from.base.pos, `a message cannot be declared as itself ('${m.name.name}')`);
    const base = this.messageAsts.find((x) => x.name.name === from.base.name);
    if (base === undefined) {
      const later = this.spec.messages.some((x) => x.name.name === from.base.name);
      this.error(
        from.base.pos,
        later
          ? `'${from.base.name}' must be declared before '${m.name.name}', which is declared as it`
          : `'${m.name.name}' is declared as '${from.base.name}', which this spec does not declare`,
      );
    }
    const members = [...base.members];
    const replaced = new Set<string>();
    const once = (key: string, what: string, pos: number): void => {
      if (replaced.has(key)) this.error(pos, `${what} is replaced twice`);
      replaced.add(key);
    };
    for (const x of m.members) {
      switch (x.kind) {
        case 'field': {
          once(`field ${x.name.name}`, `field '${x.name.name}'`, x.name.pos);
          const i = members.findIndex((y) => y.kind === 'field' && y.name.name === x.name.name);
          if (i < 0)
            this.error(
              x.name.pos,
              `'${base.name.name}' has no field '${x.name.name}' to replace (a message declared as another changes the members it names)`,
            );
          members[i] = x;
          break;
        }
        case 'assert': {
          // The first assert at the field keeps its place in wrap()'s order; the others go.
          const at = x.at.name;
          const i = members.findIndex((y) => y.kind === 'assert' && y.at.name === at);
          if (i < 0 && !replaced.has(`assert ${at}`))
            this.error(x.at.pos, `'${base.name.name}' has no assert at '${at}' to replace`);
          if (!replaced.has(`assert ${at}`)) {
            replaced.add(`assert ${at}`);
            members[i] = x;
            for (let k = members.length - 1; k > i; k--) {
              const y = members[k];
              if (y.kind === 'assert' && y.at.name === at) members.splice(k, 1);
            }
          } else {
            // Several asserts at one field replace the base's together, in their order.
            const last = members.findLastIndex((y) => y.kind === 'assert' && y.at.name === at);
            members.splice(last + 1, 0, x);
          }
          break;
        }
        case 'dispatch':
          return this.error(
            x.pos,
            `'${m.name.name}' dispatches like '${base.name.name}', which it is declared as: no dispatch in 'with'`,
          );
        case 'json':
        case 'describe': {
          once(x.kind, x.kind, x.pos);
          const i = members.findIndex((y) => y.kind === x.kind);
          if (i < 0) members.push(x);
          else members[i] = x;
          break;
        }
      }
    }
    return { name: m.name, endian: base.endian, derivedFrom: from, members };
  }

  /** A list nested in an element is validated by its own walk, which records no summaries. */
  private checkNestedLists(): void {
    for (const l of this.spec.lists) {
      for (const m of l.members) {
        if (m.kind !== 'element' || m.body === null) continue;
        const last = m.body[m.body.length - 1];
        if (last === undefined || last.type.name.name !== 'list' || last.type.item !== undefined)
          continue;
        const ref = last.type.args?.[0];
        const inner = ref?.kind === 'ref' ? this.lists.get(ref.name) : undefined;
        if (ref !== undefined && inner !== undefined && inner.summaries.length > 0)
          this.error(
            ref.pos,
            `list '${inner.name}' has summaries, so it cannot be nested in an element`,
          );
      }
    }
  }

  enumByName(name: string): EnumModel | undefined {
    return this.enums.get(name) ?? this.imported.get(name);
  }

  listDeclared(name: string): boolean {
    return this.spec.lists.some((l) => l.name.name === name);
  }

  /** Resolves `Enum.Member`. */
  enumMember(object: string, member: string, pos: number): number {
    const e = this.enumByName(object);
    if (e === undefined) this.error(pos, `unknown enum '${object}'`);
    const m = e.members.find((x) => x.name === member);
    if (m === undefined) this.error(pos, `enum '${object}' has no member '${member}'`);
    return m.value;
  }
}

/** Where an expression runs: wrap()'s checks, an encoder's derive, a select over a wrapped view. */
type Scope = 'decode' | 'derive' | 'select';

class MessageResolver {
  private readonly scalars = new Map<string, ScalarField>();
  private readonly bytesFields = new Map<string, BytesField>();
  private readonly regions = new Map<string, Region>();
  private readonly fieldPos = new Map<string, number>();
  private readonly fields: FixedField[] = [];
  private readonly regionList: Region[] = [];
  private readonly steps: CheckStep[] = [];
  /** Construct-provided names: json key → region; data key → region. */
  private readonly constructJson = new Map<string, string>();
  private bitPos = 0;
  /** Bit offset where the current run of unaligned bit fields began. */
  private runStart = 0;
  private usesPayloadLength = false;
  /** Fields at a computed offset (conditional, or after a variable part): name → region. */
  private readonly placed = new Map<string, Region>();
  /**
   * While a region's length or count is resolved: the fields at computed offsets declared before
   * it, which wrap() has decoded by then (a resource record's rdlength after its owner name).
   */
  private placedBefore: Set<string> | null = null;

  /** `endian(be, le)`: u16 and u32 fields are in the order given at run time. */
  private readonly eitherOrder: boolean;

  constructor(
    private readonly r: Resolver,
    private readonly m: AstMessage,
    private readonly layer: string,
  ) {
    this.eitherOrder = m.endian !== null && m.endian.orders.length === 2;
  }

  run(): MessageModel {
    // Pass 1: declare every field (so references can point forward), place fixed ones.
    const fieldDecls = this.m.members.filter((x): x is AstField => x.kind === 'field');
    for (const f of fieldDecls) this.declare(f);
    if (this.bitPos % 8 !== 0) {
      const last = fieldDecls.filter((f) => this.scalars.has(f.name.name)).pop();
      this.r.error(
        last?.name.pos ?? 0,
        `bit fields end at bit ${this.bitPos}: they must fill whole bytes`,
      );
    }
    // Pass 2: region types (their lengths and arguments may name any fixed field).
    for (const f of fieldDecls) {
      const region = this.regions.get(f.name.name);
      if (region === undefined || this.placed.has(region.name)) continue;
      const before = this.regionList.slice(0, this.regionList.indexOf(region));
      this.placedBefore = new Set(before.filter((x) => this.placed.has(x.name)).map((x) => x.name));
      this.regionType(f, region);
      this.placedBefore = null;
    }
    // Pass 3: attributes, checks, dispatch, json, describe (everything that references names).
    let checksumField: string | null = null;
    let dispatch: DispatchModel | null = null;
    let select: SelectModel | null = null;
    let json: JsonEntry[] = [];
    let describe: DescribePart[] = [];
    for (const member of this.m.members) {
      switch (member.kind) {
        case 'field': {
          this.attributes(member);
          const placed = this.placed.get(member.name.name)?.construct;
          const scalar =
            placed?.kind === 'field' && placed.field.kind === 'scalar'
              ? placed.field
              : this.scalars.get(member.name.name);
          if (scalar?.checksum) {
            if (checksumField !== null)
              this.r.error(member.name.pos, 'a message can have only one checksum field');
            checksumField = scalar.name;
          }
          const region = this.regions.get(member.name.name);
          if (region !== undefined) this.steps.push({ kind: 'region', region: region.name });
          break;
        }
        case 'assert': {
          if (!DECODE_ERROR_CODES.has(member.code.name)) {
            this.r.error(
              member.code.pos,
              `unknown error code '${member.code.name}' (one of ${[...DECODE_ERROR_CODES].join(', ')})`,
            );
          }
          const at = this.fixedField(member.at.name, member.at.pos);
          this.steps.push({
            kind: 'assert',
            expr: this.expr(member.expr, 'decode'),
            code: member.code.name,
            field: member.at.name,
            byteOffset: at.kind === 'scalar' ? at.bitOffset >> 3 : at.byteOffset,
          });
          break;
        }
        case 'dispatch':
          if (dispatch !== null) this.r.error(member.pos, 'a message can have only one dispatch');
          dispatch = this.dispatch(member.fields, member.cases, member.pos, member.peek);
          if (member.when !== null) dispatch.when = this.expr(member.when, 'decode');
          break;
        case 'select':
          if (select !== null) this.r.error(member.pos, 'a message can have only one select');
          select = this.select(member);
          break;
        case 'json':
          if (json.length > 0) this.r.error(member.pos, 'a message can have only one json list');
          json = member.names.map((n) => this.jsonEntry(n.name, n.pos));
          break;
        case 'describe':
          describe = this.describe(member.template, member.pos);
          break;
      }
    }
    if (checksumField !== null && this.checksumOf(checksumField)?.coverage === 'message')
      this.usesPayloadLength = true;
    this.presenceDerives();
    this.checkViewNames();
    return {
      name: this.m.name.name,
      layer: this.layer,
      fixedSize: this.fixedSize(),
      fields: this.fields,
      regions: this.regionList,
      steps: this.steps,
      checksumField,
      dispatch,
      derivedFrom: this.m.derivedFrom?.base.name ?? null,
      select,
      eitherOrder: this.eitherOrder,
      json,
      describe,
      encodeNeedsPayloadLength: this.usesPayloadLength,
      encodeOrder: this.encodeOrder(),
    };
  }

  /** The checksum declared on field `name`, in the fixed part or at a computed offset. */
  private checksumOf(name: string): ChecksumModel | null {
    const placed = this.placed.get(name)?.construct;
    if (placed?.kind === 'field')
      return placed.field.kind === 'scalar' ? placed.field.checksum : null;
    return this.scalars.get(name)?.checksum ?? null;
  }

  /**
   * The names a view derives from its fields (docs/dsl.md: `<name>Offset`, `has<Name>`, ...) must
   * not be another field's name, or the generated class would not compile: a spec error at the
   * field that comes second.
   */
  private checkViewNames(): void {
    const owner = new Map<string, { field: string; what: string }>();
    const cap = (n: string): string => n.charAt(0).toUpperCase() + n.slice(1);
    const derived = (field: string): Array<[string, string]> => {
      const out: Array<[string, string]> = [];
      const add = (name: string, what: string): void => void out.push([name, what]);
      const region = this.regions.get(field);
      const placed = this.placed.get(field);
      const scalar = this.scalars.get(field);
      if (region !== undefined && placed === undefined) {
        add(`${field}Offset`, 'its offset');
        add(`${field}Length`, 'its length');
        add(`${field}Size`, 'its size');
        if (region.construct.kind === 'array') add(`${field}Count`, 'its item count');
        if (region.construct.kind === 'list') {
          add(`${field}Cursor`, 'its cursor');
          add(`${field}Summary`, 'its summary');
        }
        return out;
      }
      if (placed !== undefined) {
        add(`${field}Offset`, 'its offset');
        if (placed.construct.kind === 'field' && placed.construct.presence !== null)
          add(`has${cap(field)}`, 'its presence test');
      }
      if (scalar === undefined) return out;
      add(`set${cap(field)}`, 'its setter');
      if (placed === undefined) add(`${field}Field`, 'its storage');
      if (scalar.type === 'mac' || scalar.type === 'u64') {
        add(`${field}Hi`, 'its high half');
        add(`${field}Lo`, 'its low half');
        add(`set${cap(field)}Halves`, 'its setter from halves');
      }
      if (scalar.type === 'mac') add(`${field}LoBits`, 'its low half as int32');
      if (scalar.type === 'u64') add(`${field}BigInt`, 'its bigint');
      if (scalar.type === 'ipv6') {
        add(`${field}Offset`, 'its offset');
        add(`${field}Equals`, 'its comparison');
        add(`copy${cap(field)}`, 'its copy');
        for (let k = 0; k < 4; k++) {
          add(`${field}Word${k}`, `its word ${k}`);
          add(`${field}Int${k}`, `its word ${k} as int32`);
        }
      }
      if ((scalar.type === 'uint' || scalar.type === 'ipv4') && scalar.bitWidth > 16)
        add(`${field}Bits`, 'its int32 bits');
      return out;
    };
    const names = [...this.fieldPos.keys()];
    for (const n of names) for (const [d, what] of derived(n)) owner.set(d, { field: n, what });
    for (const n of names) {
      const o = owner.get(n);
      if (o === undefined || o.field === n) continue;
      const second = (this.fieldPos.get(o.field) ?? 0) < (this.fieldPos.get(n) ?? 0) ? n : o.field;
      this.r.error(
        this.fieldPos.get(second) ?? 0,
        `field '${n}' has the name the view gives '${o.field}' (${o.what}): rename ${second === n ? 'it' : `'${o.field}'`}`,
      );
    }
  }

  private fixedSize(): number {
    let size = 0;
    for (const f of this.fields) {
      size = Math.max(
        size,
        f.kind === 'scalar' ? (f.bitOffset + f.bitWidth) >> 3 : f.byteOffset + f.size,
      );
    }
    return size;
  }

  private declare(f: AstField): void {
    const name = f.name.name;
    if (this.fieldPos.has(name)) this.r.error(f.name.pos, `duplicate field '${name}'`);
    if (RESERVED.has(name))
      this.r.error(f.name.pos, `'${name}' is a reserved name (the generated view or DSL uses it)`);
    this.fieldPos.set(name, f.name.pos);
    if (this.placeField(f)) return;
    const typeName = f.type.name.name;
    const args = f.type.args;
    const scalarType = SCALAR_TYPES[typeName];
    if (scalarType !== undefined || typeName === 'bits') {
      let width: number;
      let type: ScalarField['type'] = 'uint';
      let le = false;
      if (scalarType !== undefined) {
        if (args !== null) this.r.error(f.type.name.pos, `type '${typeName}' takes no arguments`);
        width = scalarType.width;
        type = scalarType.type;
        le = scalarType.le;
      } else {
        if (args === null || args.length !== 1 || args[0].kind !== 'num') {
          this.r.error(f.type.name.pos, 'bits() takes one number: the width in bits');
        }
        width = args[0].value;
        if (width < 1 || width > 32)
          this.r.error(args[0].pos, `bit width ${width} out of range 1..32`);
      }
      this.noRegionYet(f);
      if (typeName !== 'bits' && this.bitPos % 8 !== 0) {
        this.r.error(
          f.name.pos,
          `field '${name}' starts at bit ${this.bitPos}: bit fields before it must fill whole bytes`,
        );
      }
      if (typeName === 'bits') {
        // A run of bit fields between byte boundaries is encoded as one 32-bit value.
        if (this.bitPos % 8 === 0) this.runStart = this.bitPos;
        if (this.bitPos + width - this.runStart > 32) {
          this.r.error(
            f.name.pos,
            `bit fields from bit ${this.runStart} to ${this.bitPos + width} span more than 4 bytes without a byte boundary`,
          );
        }
        const first = this.bitPos >> 3;
        const last = (this.bitPos + width - 1) >> 3;
        if (last - first + 1 > 4) {
          this.r.error(
            f.name.pos,
            `bit field '${name}' spans ${last - first + 1} bytes; at most 4 are supported`,
          );
        }
      }
      const field: ScalarField = {
        kind: 'scalar',
        name,
        type,
        bitOffset: this.bitPos,
        bitWidth: width,
        littleEndian: le,
        ...(this.eitherOrder && (typeName === 'u16' || typeName === 'u32')
          ? { anyOrder: true }
          : {}),
        enumName: null,
        derive: null,
        checksum: null,
        when: null,
      };
      this.bitPos += width;
      this.scalars.set(name, field);
      this.fields.push(field);
      return;
    }
    const nested = this.r.hasMessage(typeName);
    if (!REGION_TYPES.has(typeName) && !nested)
      this.r.error(f.type.name.pos, `unknown type '${typeName}'`);
    if (nested && args !== null)
      this.r.error(f.type.name.pos, `message '${typeName}' takes no arguments`);
    if (nested && this.r.message(typeName, f.type.name.pos).eitherOrder)
      this.r.error(
        f.type.name.pos,
        `message '${typeName}' cannot be nested: endian(be, le) takes its byte order when it is wrapped`,
      );
    if (args === null && !nested && typeName !== 'dns_name')
      this.r.error(f.type.name.pos, `type '${typeName}' needs arguments, e.g. ${typeName}(rest)`);
    if (typeName === 'bytes' && args !== null && args.length === 1 && args[0].kind === 'num') {
      this.noRegionYet(f);
      if (this.bitPos % 8 !== 0) {
        this.r.error(
          f.name.pos,
          `field '${name}' starts at bit ${this.bitPos}: bit fields before it must fill whole bytes`,
        );
      }
      if (args[0].value < 1) this.r.error(args[0].pos, 'a byte array needs at least one byte');
      const field: BytesField = {
        kind: 'bytes',
        name,
        byteOffset: this.bitPos >> 3,
        size: args[0].value,
        format: null,
      };
      this.bitPos += 8 * args[0].value;
      this.bytesFields.set(name, field);
      this.fields.push(field);
      return;
    }
    // Region lengths and construct arguments are resolved in pass 2 (they may refer to any field);
    // here we only record the region so the order is known.
    const region: Region = { name, construct: { kind: 'payload' }, length: 'rest' };
    this.regions.set(name, region);
    this.regionList.push(region);
  }

  /**
   * A fixed-size field that is conditional (`if`) or follows a variable part becomes a region
   * of its own size (0 when its condition does not hold) with a typed accessor; the fixed part
   * before it keeps its constant offsets. Returns false for every other field.
   */
  private placeField(f: AstField): boolean {
    const cond = f.attrs.find((a): a is Extract<AstAttr, { kind: 'if' }> => a.kind === 'if');
    const previous = this.regionList[this.regionList.length - 1];
    if (cond === undefined && previous === undefined) return false;
    const name = f.name.name;
    const typeName = f.type.name.name;
    const args = f.type.args;
    const scalarType = SCALAR_TYPES[typeName];
    const what = cond !== undefined ? 'a conditional field' : `a field after '${previous?.name}'`;
    let field: ScalarField | BytesField;
    if (scalarType !== undefined && args === null) {
      field = {
        kind: 'scalar',
        name,
        type: scalarType.type,
        bitOffset: 0,
        bitWidth: scalarType.width,
        littleEndian: scalarType.le,
        ...(this.eitherOrder && (typeName === 'u16' || typeName === 'u32')
          ? { anyOrder: true }
          : {}),
        enumName: null,
        derive: null,
        checksum: null,
        when: null,
      };
    } else if (typeName === 'bytes' && args?.length === 1 && args[0].kind === 'num') {
      if (args[0].value < 1) this.r.error(args[0].pos, 'a byte array needs at least one byte');
      field = { kind: 'bytes', name, byteOffset: 0, size: args[0].value, format: null };
    } else if (cond !== undefined) {
      this.r.error(
        f.type.name.pos,
        `${what} must be u8, u16, u32, u16le, u32le, ipv4, mac, u64, ipv6 or bytes(N), not '${typeName}'`,
      );
    } else {
      return false;
    }
    if (this.bitPos % 8 !== 0) {
      this.r.error(
        f.name.pos,
        `field '${name}' starts at bit ${this.bitPos}: bit fields before it must fill whole bytes`,
      );
    }
    if (previous !== undefined) {
      const decl = this.m.members.find(
        (x): x is AstField => x.kind === 'field' && x.name.name === previous.name,
      );
      const prevType = decl?.type.name.name;
      const prevArgs = decl?.type.args ?? [];
      if (prevType === 'payload')
        this.r.error(f.name.pos, `field '${name}' cannot follow the payload (the caller's part)`);
      if (prevArgs.some((a) => a.kind === 'ref' && a.name === 'rest'))
        this.r.error(
          f.name.pos,
          `field '${name}' follows '${previous.name}', which takes the rest of the message`,
        );
    }
    for (const a of f.attrs) {
      if (a.kind === 'checksum' && field.kind === 'scalar') {
        field.checksum = this.placedChecksum(field, a.args, a.pos);
        continue;
      }
      // After a variable part (always on the wire) a field may name its enum and derive its
      // value; derive is resolved with the other attributes, once every region is known.
      if (
        cond === undefined &&
        field.kind === 'scalar' &&
        (a.kind === 'enum' || a.kind === 'derive')
      )
        continue;
      if (a.kind !== 'if')
        this.r.error(a.pos, `attribute '${a.kind}' is not allowed on ${what} ('${name}')`);
    }
    const size = field.kind === 'scalar' ? field.bitWidth / 8 : field.size;
    const presence = cond === undefined ? null : this.expr(cond.expr, 'decode');
    const region: Region = {
      name,
      construct: { kind: 'field', field, presence },
      length:
        presence === null
          ? { kind: 'num', value: size }
          : {
              kind: 'cond',
              test: presence,
              then: { kind: 'num', value: size },
              otherwise: { kind: 'num', value: 0 },
            },
    };
    this.regions.set(name, region);
    this.regionList.push(region);
    this.placed.set(name, region);
    return true;
  }

  /**
   * A checksum at a computed offset (GRE's, present when C is set). Its word must start at an
   * even offset from the message start, as a one's-complement sum of 16-bit words needs: so the
   * fixed part and every part before it have even, known sizes. Verify and fill need no more
   * than the word's offset; a pseudo-header or `zero_is_none` is refused (no format needs them
   * there).
   */
  private placedChecksum(field: ScalarField, args: AstExpr[], pos: number): ChecksumModel {
    const model = this.checksum(field, args, pos);
    if (model.pseudoProtocol !== null || model.pseudoIpv6 !== null || model.zeroMeansNone)
      this.r.error(
        pos,
        `a checksum at a computed offset ('${field.name}') takes no pseudo-header or zero_is_none`,
      );
    const odd = (n: number): boolean => n % 2 !== 0;
    const before = this.regionList.find(
      (r) =>
        r.construct.kind !== 'field' ||
        odd(
          r.construct.field.kind === 'scalar'
            ? r.construct.field.bitWidth / 8
            : r.construct.field.size,
        ),
    );
    if (odd(this.bitPos / 8) || before !== undefined)
      this.r.error(
        pos,
        `checksum '${field.name}' must sit at an even offset: ${before !== undefined ? `'${before.name}' before it has no fixed even size` : `the fixed part before it is ${this.bitPos / 8} bytes`}`,
      );
    return model;
  }

  /**
   * The flag of `x: T if flag == V` (or `flag == V && ...`; V not 0) derives `present ? V : 0` when the spec gives it no
   * derive: on encode, presence comes from the fields the caller gives.
   */
  private presenceDerives(): void {
    const byFlag = new Map<string, { value: number; names: string[] }>();
    for (const region of this.placed.values()) {
      if (region.construct.kind !== 'field') continue;
      // `flag == V && more`: the flag is the first test (PPTP's key words: k == 1 && version == 1).
      let p = region.construct.presence;
      while (p?.kind === 'bin' && p.op === '&&') p = p.left;
      if (p?.kind !== 'bin' || p.op !== '==') continue;
      if (p.left.kind !== 'field' || p.right.kind !== 'num' || p.right.value === 0) continue;
      const entry = byFlag.get(p.left.name) ?? { value: p.right.value, names: [] };
      if (entry.value !== p.right.value) continue;
      entry.names.push(region.name);
      byFlag.set(p.left.name, entry);
    }
    for (const [flag, { value, names }] of byFlag) {
      const f = this.scalars.get(flag);
      if (f === undefined || f.derive !== null || f.checksum !== null) continue;
      f.derive = {
        kind: 'cond',
        test: { kind: 'present', names },
        then: { kind: 'num', value },
        otherwise: { kind: 'num', value: 0 },
      };
    }
  }

  private noRegionYet(f: AstField): void {
    const previous = this.regionList[this.regionList.length - 1];
    if (previous !== undefined) {
      this.r.error(
        f.name.pos,
        `fixed-size field '${f.name.name}' cannot follow the variable-length '${previous.name}'`,
      );
    }
  }

  private fixedField(name: string, pos: number): FixedField {
    const placed = this.placedBefore?.has(name) === true ? this.placed.get(name) : undefined;
    if (placed?.construct.kind === 'field') return placed.construct.field;
    const f = this.scalars.get(name) ?? this.bytesFields.get(name);
    if (f === undefined) {
      if (this.placed.has(name))
        this.r.error(
          pos,
          `'${name}' is at a computed offset (conditional or after a variable part); only fields of the fixed part, or in a length or count those before it, can be used here`,
        );
      if (this.regions.has(name))
        this.r.error(pos, `'${name}' is variable-length; a fixed field is needed here`);
      this.r.error(pos, `unknown field '${name}'`);
    }
    return f;
  }

  private scalar(name: string, pos: number): ScalarField {
    const f = this.fixedField(name, pos);
    if (f.kind !== 'scalar') this.r.error(pos, `field '${name}' is a byte array, not a number`);
    return f;
  }

  private lengthArg(e: AstExpr | undefined, pos: number, typeName: string): Expr | 'rest' {
    if (e === undefined) this.r.error(pos, `${typeName}() needs a length (an expression or rest)`);
    if (e.kind === 'ref' && e.name === 'rest') return 'rest';
    return this.expr(e, 'decode');
  }

  private attributes(f: AstField): void {
    const name = f.name.name;
    const region = this.regions.get(name);
    const placed = this.placed.get(name)?.construct;
    const select = f.attrs.find((a) => a.kind === 'select');
    if (select !== undefined && region?.construct.kind !== 'bytes')
      this.r.error(
        select.pos,
        `select is only allowed on a byte region (bytes(n)); '${name}' is not one`,
      );
    if (placed !== undefined) {
      if (placed.kind === 'field' && placed.field.kind === 'scalar')
        for (const a of f.attrs)
          if (a.kind === 'enum' || a.kind === 'derive') this.scalarAttr(placed.field, a);
      return;
    }
    if (region !== undefined) {
      for (const a of f.attrs) {
        if (a.kind === 'select' && region.construct.kind === 'bytes' && region.select === undefined)
          region.select = this.select({ ...a, kind: 'select' }, true);
        else if (a.kind === 'uncompressed' && region.construct.kind === 'dns_name') {
          if (!region.construct.compressed)
            this.r.error(a.pos, `duplicate attribute 'uncompressed'`);
          region.construct.compressed = false;
        } else if (a.kind === 'quotes') this.quotes(region, a);
        else
          this.r.error(a.pos, `attribute '${a.kind}' is not allowed on variable-length '${name}'`);
      }
      return;
    }
    const bytesField = this.bytesFields.get(name);
    if (bytesField !== undefined) {
      for (const a of f.attrs) {
        if (a.kind !== 'format')
          this.r.error(a.pos, `attribute '${a.kind}' is not allowed on byte array '${name}'`);
        bytesField.format = this.bytesFormat(bytesField, a);
      }
      return;
    }
    const scalar = this.scalars.get(name);
    if (scalar === undefined) return;
    const seen = new Set<string>();
    for (const a of f.attrs) {
      if (seen.has(a.kind)) this.r.error(a.pos, `duplicate attribute '${a.kind}'`);
      seen.add(a.kind);
      this.scalarAttr(scalar, a);
    }
  }

  /** `quotes spec` on a payload or byte region: one quoted packet per message. */
  private quotes(region: Region, a: Extract<AstAttr, { kind: 'quotes' }>): void {
    const k = region.construct.kind;
    if (k !== 'payload' && k !== 'bytes')
      this.r.error(
        a.pos,
        `quotes is only allowed on a payload or byte region; '${region.name}' is not one`,
      );
    const other = [...this.regions.values()].find((r) => r.quotes !== undefined);
    if (other !== undefined)
      this.r.error(
        a.pos,
        `a message quotes one packet at most ('${other.name}' quotes one already)`,
      );
    region.quotes = { module: a.module.name, pos: a.module.pos };
  }

  private bytesFormat(
    f: BytesField,
    a: Extract<AstAttr, { kind: 'format' }>,
  ): BytesField['format'] {
    const formatName = a.name.name;
    if (formatName === 'hwaddr' && a.args.length === 1)
      return { name: 'hwaddr', length: this.expr(a.args[0], 'decode') };
    const size = BYTES_FORMATS[formatName];
    if (size === undefined || formatName === 'hwaddr' || a.args.length > 0) {
      this.r.error(
        a.name.pos,
        `unknown format '${formatName}${a.args.length > 0 ? '(...)' : ''}' (byte arrays support mac, ipv4, ipv6, hex, hwaddr(length))`,
      );
    }
    if (size !== null && size !== f.size)
      this.r.error(
        a.name.pos,
        `format ${formatName} needs a ${size}-byte array, not ${f.size} bytes`,
      );
    return { name: formatName as 'mac' | 'ipv4' | 'ipv6' | 'hex' };
  }

  /** A 64- or 128-bit field cannot take part in the DSL's number expressions. */
  private narrow(f: ScalarField, pos: number, what: string): void {
    if (f.type === 'u64' || f.type === 'ipv6')
      this.r.error(pos, `${what} needs a field of at most 48 bits; '${f.name}' is ${f.type}`);
  }

  private scalarAttr(scalar: ScalarField, a: AstAttr): void {
    switch (a.kind) {
      case 'enum': {
        this.narrow(scalar, a.pos, 'enum');
        const e = this.r.enumByName(a.name.name);
        if (e === undefined) this.r.error(a.name.pos, `unknown enum '${a.name.name}'`);
        const tooBig = e.members.find((m) => m.value >= 2 ** scalar.bitWidth);
        if (tooBig !== undefined) {
          this.r.error(
            a.name.pos,
            `enum '${e.name}' member ${tooBig.name} = ${tooBig.value} does not fit ${scalar.bitWidth} bits`,
          );
        }
        scalar.enumName = e.name;
        return;
      }
      case 'derive':
        this.narrow(scalar, a.pos, 'derive');
        scalar.derive = this.expr(a.expr, 'derive');
        return;
      case 'when': {
        const e = a.expr;
        // `when` keeps the field on the wire; a flag bit that adds or removes a field is `if`.
        if (e.kind === 'bin' && e.op === '==' && e.left.kind === 'ref' && e.right.kind === 'num') {
          const flag = this.scalars.get(e.left.name);
          if (flag !== undefined && flag.bitWidth === 1 && e.right.value === 1) {
            this.r.error(
              a.pos,
              `'when ${e.left.name} == 1' only marks the value meaningless (the field is always on the wire); for a field the ${e.left.name} bit adds, write 'if ${e.left.name} == 1'; if it is always there, write 'when ${e.left.name} != 0'`,
            );
          }
        }
        scalar.when = this.expr(a.expr, 'decode');
        return;
      }
      case 'if':
        return;
      case 'format':
        this.r.error(a.pos, `format is only for byte arrays`);
        return;
      case 'uncompressed':
        this.r.error(a.pos, `uncompressed is only for DNS names (dns_name)`);
        return;
      case 'quotes':
        this.r.error(
          a.pos,
          `quotes is only allowed on a payload or byte region; '${scalar.name}' is not one`,
        );
        return;
      case 'checksum':
        scalar.checksum = this.checksum(scalar, a.args, a.pos);
        return;
    }
  }

  private checksum(scalar: ScalarField, args: AstExpr[], pos: number): ChecksumModel {
    if (
      scalar.bitWidth !== 16 ||
      scalar.bitOffset % 8 !== 0 ||
      scalar.littleEndian ||
      scalar.anyOrder === true
    ) {
      this.r.error(pos, 'an Internet checksum field must be a byte-aligned big-endian u16');
    }
    const cover = args[0];
    if (
      cover === undefined ||
      cover.kind !== 'ref' ||
      (cover.name !== 'header' && cover.name !== 'message')
    ) {
      this.r.error(cover?.pos ?? pos, 'checksum() first argument must be header or message');
    }
    const model: ChecksumModel = {
      coverage: cover.name,
      pseudoProtocol: null,
      pseudoIpv6: null,
      zeroMeansNone: false,
    };
    for (const arg of args.slice(1)) {
      if (arg.kind === 'call' && arg.name === 'pseudo_ipv4') {
        if (arg.args.length !== 1 || arg.args[0].kind !== 'num') {
          this.r.error(arg.pos, 'pseudo_ipv4() takes the IP protocol number');
        }
        if (model.pseudoProtocol !== null) this.r.error(arg.pos, 'duplicate pseudo_ipv4()');
        model.pseudoProtocol = arg.args[0].value;
      } else if (arg.kind === 'call' && arg.name === 'pseudo_ipv6') {
        if (arg.args.length !== 1 || arg.args[0].kind !== 'num' || arg.args[0].value > 255) {
          this.r.error(arg.pos, 'pseudo_ipv6() takes the next header value (0..255)');
        }
        if (model.pseudoIpv6 !== null) this.r.error(arg.pos, 'duplicate pseudo_ipv6()');
        model.pseudoIpv6 = arg.args[0].value;
      } else if (arg.kind === 'ref' && arg.name === 'zero_is_none') {
        model.zeroMeansNone = true;
      } else {
        this.r.error(
          arg.pos,
          'unknown checksum option (pseudo_ipv4(protocol), pseudo_ipv6(nextHeader) or zero_is_none)',
        );
      }
    }
    return model;
  }

  private regionType(f: AstField, region: Region): void {
    const typeName = f.type.name.name;
    const args = f.type.args ?? [];
    const pos = f.type.name.pos;
    let construct: RegionConstruct;
    switch (typeName) {
      case 'payload':
      case 'bytes':
        if (args.length !== 1) this.r.error(pos, `${typeName}() takes one length`);
        construct = { kind: typeName };
        region.length = this.lengthArg(args[0], pos, typeName);
        break;
      case 'array':
        construct = this.arrayRegion(f, args, pos, region);
        break;
      case 'list':
        construct = this.listRegion(args, pos, region);
        break;
      case 'dns_name':
        if (f.type.args !== null) this.r.error(pos, 'dns_name takes no arguments');
        construct = { kind: 'dns_name', compressed: true };
        region.length = 'walk';
        break;
      default:
        this.nestable(typeName, pos);
        construct = { kind: 'message', message: typeName };
        region.length = 'walk';
    }
    region.construct = construct;
    const index = this.regionList.indexOf(region);
    const previous = this.regionList[index - 1];
    if (previous !== undefined && previous.length === 'rest') {
      this.r.error(
        f.name.pos,
        `field '${region.name}' follows '${previous.name}', which takes the rest of the message`,
      );
    }
  }

  /**
   * array(ITEM, bound): bound is count(expr) (items), a byte length expression or rest. An array
   * of u8 is a byte array.
   */
  private arrayRegion(f: AstField, args: AstExpr[], pos: number, region: Region): RegionConstruct {
    const item = f.type.item as NonNullable<AstField['type']['item']>;
    const bound = args[0];
    if (args.length !== 1)
      this.r.error(
        args[1]?.pos ?? pos,
        'array() takes the item type and one bound: count(expr), a byte length, rest or until condition',
      );
    if (bound?.kind === 'call' && bound.name === 'until') return this.untilArray(f, bound, region);
    const byteArray = !Array.isArray(item) && item.name === 'u8';
    const a = byteArray
      ? null
      : arrayItem(this.r, f.name.name, item, f.type.name.pos, (n) => {
          if (!this.r.hasMessage(n.name)) return null;
          const m = this.nestable(n.name, n.pos);
          // A message without variable parts has one size; the others are walked.
          return { name: m.name, size: m.regions.length === 0 ? m.fixedSize : 0 };
        });
    if (bound.kind === 'call' && bound.name === 'count') {
      if (bound.args.length !== 1)
        this.r.error(bound.pos, 'count() takes one expression: the number of items');
      const count = this.expr(bound.args[0], 'decode');
      if (a?.message != null) {
        // Messages are walked item by item (each one's fields say where it ends).
        region.length = 'walk';
        return { kind: 'array', array: a, count, until: null };
      }
      const size = a?.itemSize ?? 1;
      region.length =
        size === 1
          ? count
          : { kind: 'bin', op: '*', left: count, right: { kind: 'num', value: size } };
      if (a === null) return { kind: 'bytes' };
      return { kind: 'array', array: a, count, until: null };
    }
    region.length = this.lengthArg(bound, pos, 'array');
    if (a === null) return { kind: 'bytes' };
    return { kind: 'array', array: a, count: null, until: null };
  }

  /**
   * array(ITEM, until COND): the items up to and including the first for which COND (over the
   * item's fields) holds; wrap() finds that item by walking, so the items must have one size.
   */
  private untilArray(
    f: AstField,
    bound: Extract<AstExpr, { kind: 'call' }>,
    region: Region,
  ): RegionConstruct {
    const item = f.type.item as NonNullable<AstField['type']['item']>;
    const a = arrayItem(this.r, f.name.name, item, f.type.name.pos, (n) =>
      this.r.hasMessage(n.name) ? { name: n.name, size: 0 } : null,
    );
    if (a.message !== null)
      this.r.error(
        bound.pos,
        `until needs items of one size, read in place: declare the items of '${f.name.name}' as a { field group }, not message '${a.message}'`,
      );
    if (bound.args.length !== 1)
      this.r.error(bound.pos, 'until takes one condition over the item fields');
    region.length = 'walk';
    return {
      kind: 'array',
      array: a,
      count: null,
      until: itemExpr(this.r, bound.args[0], a, f.name.name),
    };
  }

  /** list(Name, bound, continue(field, condition)...): bound is a length, rest, count(f) or end. */
  private listRegion(args: AstExpr[], pos: number, region: Region): RegionConstruct {
    const ref = args[0];
    if (ref?.kind !== 'ref') this.r.error(ref?.pos ?? pos, 'list() first argument is a list name');
    const list = this.r.lists.get(ref.name);
    if (list === undefined) this.r.error(ref.pos, `unknown list '${ref.name}'`);
    const boundArg = args[1];
    if (boundArg === undefined)
      this.r.error(pos, 'list() needs a bound: a byte length, rest, count(field) or end');
    let bound: ListBound = { kind: 'bytes' };
    if (boundArg.kind === 'call' && boundArg.name === 'count') {
      const f = boundArg.args[0];
      if (boundArg.args.length !== 1 || f.kind !== 'ref')
        this.r.error(boundArg.pos, 'count() takes the field holding the element count');
      this.scalar(f.name, f.pos);
      bound = { kind: 'count', field: f.name };
      region.length = 'walk';
    } else if (boundArg.kind === 'ref' && boundArg.name === 'end') {
      if (!list.elements.some((e) => e.end))
        this.r.error(boundArg.pos, `list '${list.name}' has no end element to stop at`);
      bound = { kind: 'end' };
      region.length = 'walk';
    } else {
      region.length = this.lengthArg(boundArg, pos, 'list');
    }
    const continues = args.slice(2).map((a) => {
      if (a.kind !== 'call' || a.name !== 'continue' || a.args.length !== 2)
        this.r.error(a.pos, 'expected continue(field, condition)');
      const [field, cond] = a.args;
      if (field.kind !== 'ref')
        this.r.error(field.pos, 'continue() first argument is a byte field');
      const f = this.fixedField(field.name, field.pos);
      if (f.kind !== 'bytes') this.r.error(field.pos, `'${field.name}' must be a byte array`);
      return { field: field.name, when: summaryExpr(this.r, cond, list) };
    });
    if (continues.length > 0 && bound.kind !== 'bytes')
      this.r.error(args[2].pos, 'a list bounded by count() or end cannot continue elsewhere');
    if (list.lenient && (bound.kind !== 'bytes' || continues.length > 0))
      this.r.error(
        boundArg.pos,
        `lenient list '${list.name}' needs one area of known length (where would it stop?)`,
      );
    for (const s of list.summaries) this.constructJson.set(s.name, region.name);
    return { kind: 'list', list: list.name, bound, continues };
  }

  private value(v: AstValue, enumName: string | null): number {
    if (v.kind === 'num') return v.value;
    if (enumName !== null) {
      const e = this.r.enumByName(enumName);
      const m = e?.members.find((x) => x.name === v.name);
      if (m !== undefined) return m.value;
      this.r.error(v.pos, `enum '${enumName}' has no member '${v.name}'`);
    }
    this.r.error(v.pos, `'${v.name}' is not a number (the field has no enum)`);
  }

  expr(e: AstExpr, scope: Scope): Expr {
    switch (e.kind) {
      case 'num':
        return { kind: 'num', value: e.value };
      case 'ref':
        if (e.name === 'payloadLength') {
          if (scope !== 'derive')
            this.r.error(e.pos, 'payloadLength is only known when encoding (use it in derive)');
          this.usesPayloadLength = true;
          return { kind: 'payloadLength' };
        }
        if (e.name === 'rest') this.r.error(e.pos, 'rest is only allowed as a length');
        this.narrow(this.scalar(e.name, e.pos), e.pos, 'an expression');
        return { kind: 'field', name: e.name };
      case 'member':
        return { kind: 'num', value: this.r.enumMember(e.object, e.name, e.pos) };
      case 'call': {
        if (e.name !== 'len' && e.name !== 'count')
          this.r.error(e.pos, `unknown function '${e.name}' (len() and count() exist)`);
        const arg = e.args[0];
        if (e.args.length !== 1 || arg.kind !== 'ref')
          this.r.error(e.pos, `${e.name}() takes one field name`);
        if (e.name === 'count') return this.countOf(arg.name, arg.pos, e.pos, scope);
        const region = this.regions.get(arg.name);
        if (region === undefined) {
          if (this.fieldPos.has(arg.name))
            this.r.error(arg.pos, `len() needs a variable-length field; '${arg.name}' is fixed`);
          this.r.error(arg.pos, `unknown field '${arg.name}'`);
        }
        // A select reads a wrapped view, which knows every region's length.
        if (scope === 'select') return { kind: 'len', name: arg.name };
        if (scope !== 'derive') this.r.error(e.pos, 'len() is only allowed in derive and select');
        if (region.construct.kind === 'payload')
          this.r.error(arg.pos, 'use payloadLength for the payload');
        const c = region.construct;
        if (c.kind === 'array' && c.array.itemSize === 0)
          this.r.error(
            arg.pos,
            `len() of '${arg.name}' is not known before encoding (its items are messages of their own sizes); derive a count with count(${arg.name})`,
          );
        if (c.kind === 'array') {
          // An array's bytes on encode: its items times their size.
          return {
            kind: 'bin',
            op: '*',
            left: { kind: 'count', name: arg.name },
            right: { kind: 'num', value: c.array.itemSize },
          };
        }
        return { kind: 'len', name: arg.name };
      }
      case 'bin':
        return {
          kind: 'bin',
          op: e.op as BinaryOp,
          left: this.expr(e.left, scope),
          right: this.expr(e.right, scope),
        };
      case 'not':
        return { kind: 'not', operand: this.expr(e.operand, scope) };
      case 'in': {
        const operand = this.expr(e.operand, scope);
        const enumName =
          operand.kind === 'field' ? (this.scalars.get(operand.name)?.enumName ?? null) : null;
        return { kind: 'in', operand, values: e.values.map((v) => this.value(v, enumName)) };
      }
    }
  }

  /**
   * Message `name` as a nested field or array item: it must end where its own fields say (no
   * payload, nothing that takes the rest) and encode without the caller's payload or addresses.
   */
  private nestable(name: string, pos: number): MessageModel {
    const m = this.r.message(name, pos);
    const rest = m.regions.find((x) => x.length === 'rest' || x.construct.kind === 'payload');
    if (rest !== undefined)
      this.r.error(
        pos,
        `message '${name}' cannot be nested: its '${rest.name}' takes the rest of the bytes, so its own fields do not say where it ends`,
      );
    const c = m.fields.find((x) => x.kind === 'scalar' && x.checksum !== null);
    if (
      c?.kind === 'scalar' &&
      c.checksum !== null &&
      (c.checksum.pseudoProtocol !== null || c.checksum.pseudoIpv6 !== null)
    )
      this.r.error(pos, `message '${name}' cannot be nested: its checksum needs a pseudo-header`);
    // Every item takes a byte at least, so an array's walk always advances.
    if (minimumSize(m, (n) => this.r.message(n, pos)) === 0)
      this.r.error(
        pos,
        `message '${name}' cannot be nested: it can be 0 bytes long (no fixed part, and no part that takes a byte at least)`,
      );
    return m;
  }

  /** count(x): the number of items of array x (only in derive). */
  private countOf(name: string, pos: number, callPos: number, scope: Scope): Expr {
    const region = this.regions.get(name);
    if (region === undefined || region.construct.kind !== 'array') {
      if (region === undefined && !this.fieldPos.has(name))
        this.r.error(pos, `unknown field '${name}'`);
      this.r.error(pos, `count() needs an array; '${name}' is not one`);
    }
    if (scope !== 'derive') this.r.error(callPos, 'count() is only allowed in derive');
    return { kind: 'count', name };
  }

  /** `peek(T)` of a dispatch: an unsigned number of at most 32 bits read from the payload. */
  private peek(p: NonNullable<AstDispatch['peek']>): PeekModel {
    if (!this.regionList.some((x) => x.construct.kind === 'payload'))
      this.r.error(
        p.pos,
        `peek() reads the payload's first bits, and this message has no payload field`,
      );
    const t = p.type;
    const width = t.args === null ? SCALAR_TYPES[t.name.name] : undefined;
    if (width !== undefined && width.type === 'uint' && !width.le) return { bitWidth: width.width };
    const n = t.args?.[0];
    if (t.name.name === 'bits' && t.args?.length === 1 && n?.kind === 'num') {
      if (n.value < 1 || n.value > 32)
        this.r.error(n.pos, `peek() reads 1 to 32 bits, not ${n.value}`);
      return { bitWidth: n.value };
    }
    this.r.error(
      t.name.pos,
      `peek() reads an unsigned big-endian number: bits(n), u8, u16 or u32, not '${t.name.name}'`,
    );
  }

  /**
   * `select field { ... }`: the values and conditions, checked here; the targets, messages of the
   * same spec, are checked once every message is resolved (SpecResolver.checkSelects).
   */
  private select(x: AstSelect, region = false): SelectModel {
    // A region's select may read a field at a computed offset (a DNS record's type).
    const placed = region ? this.placed.get(x.field.name)?.construct : undefined;
    const s =
      placed?.kind === 'field' && placed.field.kind === 'scalar'
        ? placed.field
        : this.scalar(x.field.name, x.field.pos);
    this.narrow(s, x.field.pos, 'select');
    // A value matched by an earlier case without a condition can never reach a later one.
    const taken = new Set<number>();
    const cases = x.cases.map((c, i) => {
      const wild = c.values.length === 1 && c.values[0].kind === 'name' && c.values[0].name === '_';
      if (wild && c.cond === null && i !== x.cases.length - 1)
        this.r.error(c.values[0].pos, `'_' without a condition must be the last case`);
      const values = wild ? null : c.values.map((v) => this.value(v, s.enumName));
      for (const v of values ?? []) {
        const at = c.values[(values ?? []).indexOf(v)].pos;
        if (taken.has(v)) this.r.error(at, `value ${v} is taken by an earlier case of the select`);
      }
      if (c.cond === null) for (const v of values ?? []) taken.add(v);
      return {
        values,
        when: c.cond === null ? null : this.expr(c.cond, 'select'),
        target: c.target.name,
        pos: c.target.pos,
      };
    });
    return { field: s.name, cases, pos: x.pos };
  }

  private dispatch(
    fields: Array<{ name: string; pos: number }>,
    cases: Array<{ values: AstValue[]; target: { name: string; pos: number } }>,
    pos: number,
    peekDecl: AstDispatch['peek'] = null,
  ): DispatchModel {
    if (peekDecl !== null) {
      const peek = this.peek(peekDecl);
      const seen = new Set<number>();
      return {
        fields: [PEEK_GETTER],
        peek,
        when: null,
        cases: cases.map((c) => ({
          values: c.values.map((v) => {
            if (v.kind !== 'num')
              this.r.error(v.pos, `'${v.name}' is not a number (peek() values are numbers)`);
            if (v.value >= 2 ** peek.bitWidth)
              this.r.error(
                v.pos,
                `value ${v.value} does not fit the ${peek.bitWidth} bits peek() reads`,
              );
            if (seen.has(v.value))
              this.r.error(v.pos, `value ${v.value} appears twice in dispatch`);
            seen.add(v.value);
            return v.value;
          }),
          target: c.target.name,
          pos: c.target.pos,
        })),
        pos,
      };
    }
    const scalars = fields.map((f) => {
      const s = this.scalar(f.name, f.pos);
      this.narrow(s, f.pos, 'dispatch');
      return s;
    });
    const enumName = scalars.every((s) => s.enumName === scalars[0].enumName)
      ? scalars[0].enumName
      : null;
    const seen = new Set<number>();
    return {
      fields: scalars.map((s) => s.name),
      peek: null,
      when: null,
      cases: cases.map((c) => {
        const values = c.values.map((v) => {
          const n = this.value(v, enumName);
          if (seen.has(n)) this.r.error(v.pos, `value ${n} appears twice in dispatch`);
          seen.add(n);
          return n;
        });
        return { values, target: c.target.name, pos: c.target.pos };
      }),
      pos,
    };
  }

  private jsonEntry(name: string, pos: number): JsonEntry {
    if (this.scalars.has(name)) return { kind: 'scalar', name };
    if (this.bytesFields.has(name)) return { kind: 'bytes', name };
    if (this.regions.has(name)) {
      const region = this.regions.get(name);
      if (region?.construct.kind === 'payload' || region?.construct.kind === 'bytes') {
        this.r.error(
          pos,
          `'${name}' is raw bytes; use ${name === 'payload' ? 'payloadLength' : 'a construct'} instead`,
        );
      }
      return { kind: 'region', name };
    }
    if (BUILTIN_JSON.has(name)) {
      if (
        name === 'checksumValid' &&
        !this.m.members.some(
          (x) => x.kind === 'field' && x.attrs.some((a) => a.kind === 'checksum'),
        )
      ) {
        this.r.error(pos, 'checksumValid needs a checksum field');
      }
      if (
        (name === 'payloadLength' || name === 'headerLength') &&
        !this.regionList.some((x) => x.construct.kind === 'payload')
      ) {
        this.r.error(pos, `${name} needs a payload field`);
      }
      return { kind: 'builtin', name: name as 'checksumValid' | 'payloadLength' | 'headerLength' };
    }
    const region = this.constructJson.get(name);
    if (region !== undefined) return { kind: 'construct', name, region };
    this.r.error(pos, `unknown field '${name}'`);
  }

  private describe(template: string, pos: number): DescribePart[] {
    const parts: DescribePart[] = [];
    const re = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
    let last = 0;
    for (let m = re.exec(template); m !== null; m = re.exec(template)) {
      if (m.index > last) parts.push({ kind: 'text', text: template.slice(last, m.index) });
      // +1 for the opening quote, +1 for the brace.
      parts.push({
        kind: 'value',
        entry: this.jsonEntry(m[1], pos + 'describe '.length + 1 + m.index + 1),
      });
      last = m.index + m[0].length;
    }
    if (last < template.length) parts.push({ kind: 'text', text: template.slice(last) });
    return parts;
  }

  /** Scalars in an order where every derive's inputs come first; a cycle is an error. */
  private encodeOrder(): string[] {
    const order: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string): void => {
      const s = state.get(name);
      if (s === 'done') return;
      if (s === 'visiting')
        this.r.error(this.fieldPos.get(name) ?? 0, `derive cycle through '${name}'`);
      state.set(name, 'visiting');
      const f = this.scalars.get(name);
      if (f?.derive) for (const dep of fieldRefs(f.derive)) visit(dep);
      state.set(name, 'done');
      order.push(name);
    };
    for (const f of this.fields) if (f.kind === 'scalar') visit(f.name);
    return order;
  }
}

/** Names of fields an expression reads. */
export function fieldRefs(e: Expr): string[] {
  switch (e.kind) {
    case 'field':
      return [e.name];
    case 'bin':
      return [...fieldRefs(e.left), ...fieldRefs(e.right)];
    case 'not':
      return fieldRefs(e.operand);
    case 'in':
      return fieldRefs(e.operand);
    case 'cond':
      return [...fieldRefs(e.test), ...fieldRefs(e.then), ...fieldRefs(e.otherwise)];
    default:
      return [];
  }
}

/** @param lookup The specs this one may import from (already resolved). */
export function resolveSpec(spec: AstSpec, lookup: SpecLookup = () => undefined): SpecModel {
  return new Resolver(spec, lookup).run();
}
