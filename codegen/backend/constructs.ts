/**
 * TypeScript for the DSL's variable-length constructs. Each one is declared in a spec
 * (`list(TcpOptions, ...)`, `array(DnsRecord, count(ancount))`) and compiles to a few lines of
 * the view; lists are built from their declaration (list.ts), arrays and nested messages from
 * theirs (array.ts, nested.ts). The one primitive with a helper is `dns_name`, whose walk (the
 * compression pointer guards) and text are in src/codec/dns.ts. Plain `payload` and `bytes`
 * regions need none.
 */
import type { ListModel, MessageModel, Region, SpecModel } from '../frontend/model.js';
import { arrayRegionCode } from './array.js';
import { listRegionCode } from './list.js';
import { encodeContext, messageArrayCode, nestedFieldCode } from './nested.js';
import { selectValueNames, structuredSelect } from './select.js';
import { comment, fail, failRecorded, ref, self, type Stmt, stmt, ts } from './wrap-ir.js';

export interface Import {
  module: string;
  name: string;
  typeOnly?: boolean;
}

export interface JsonValue {
  key: string;
  type: string;
  expr: string;
}

export interface FieldsValue {
  key: string;
  type: string;
  /** Expression building the value from the decode view `v` (and `bytes`). */
  decode: string;
  /** Optional in `Fields` (a conditional field the encoder leaves out when undefined). */
  optional?: boolean;
}

/**
 * State one encode of a whole message shares between the encoders of its parts, declared by the
 * primitive that needs it (a DNS name: the names written so far, for compression). The
 * outermost encoder holding such a part owns one (a module-level `type` it resets at its start
 * with `(out, offset)`); the encoders of the messages it nests, holds as array items or as
 * record data take it as their last parameter, `param`, optional, and without it write their
 * parts without it.
 */
export interface EncodeContext {
  module: string;
  /** The class, with `reset(out: Uint8Array, origin: number): this`. */
  type: string;
  param: string;
}

const NAME_COMPRESSION: EncodeContext = {
  module: '../codec/dns.js',
  type: 'NameCompression',
  param: 'names',
};

/** The context the encoder of region `r` itself needs (parts it nests aside), or null. */
export function regionEncodeContext(r: Region): EncodeContext | null {
  return r.construct.kind === 'dns_name' && r.construct.compressed ? NAME_COMPRESSION : null;
}

export interface ConstructCode {
  imports: Import[];
  viewProperties: string[];
  /**
   * wrap() statements (see wrap-ir.ts) run after the region's bounds are known (`pos`, `size`
   * absolute) for sized regions, or that compute `size` from `pos` for walked ones. They fail
   * with `fail(...)` or, when a helper filled the view's error record, `failRecorded(...)`.
   */
  validate: Stmt[];
  viewMembers: string[];
  /** Statements of the view's failure path that empty the region's own state. */
  viewReset: string[];
  json: JsonValue[];
  fields: FieldsValue[];
  /**
   * Encoder statements writing the region at `pos` and advancing it. Sized regions also give
   * `encodeSize` (bytes, known before writing) so the encoder can check room up front.
   */
  encode: string;
  encodeSize: string | null;
  /**
   * For a region whose encoder only copies bytes from `Fields`: their expression. An encoder
   * whose checksum covers the region copies and sums it in one pass (copySummed) instead.
   */
  copied?: string;
  moduleExtras: string[];
}

const DNS = '../codec/dns.js';

function rawBytes(r: Region): Pick<ConstructCode, 'fields' | 'encode' | 'encodeSize' | 'copied'> {
  return {
    fields: [
      {
        key: r.name,
        type: 'Uint8Array',
        decode: `bytes.slice(v.${r.name}Offset, v.${r.name}Offset + v.${r.name}Length)`,
      },
    ],
    encode: `copyBytes(f.${r.name}, out, pos);\npos += f.${r.name}.length;`,
    encodeSize: `f.${r.name}.length`,
    copied: `f.${r.name}`,
  };
}

/**
 * `rewrites`: for a byte region whose encoder takes a selected message's value (structuredSelect),
 * the statements that rewrite the fields derived from its length once `<region>Bytes` is known.
 */
/**
 * A byte region given as bytes (copied) or as a value of the message its select names, written
 * by that message's encoder (sharing the encode context); the fields derived from its length are
 * rewritten after it, as its size is known only then. Decoding gives the bytes.
 */
function selectedValue(
  spec: SpecModel,
  holder: MessageModel,
  r: Region,
  rewrites: string[],
): Pick<ConstructCode, 'fields' | 'encode' | 'encodeSize'> {
  const n = r.name;
  const names = selectValueNames(holder, r);
  const context = encodeContext(spec, holder);
  const written = `${n}Bytes`;
  return {
    fields: [
      {
        key: n,
        type: `Uint8Array | ${names.fields}`,
        decode: `bytes.slice(v.${n}Offset, v.${n}Offset + v.${n}Length)`,
      },
    ],
    encode: [
      `if (f.${n} instanceof Uint8Array) {`,
      `if (pos + f.${n}.length > out.length) return -1;`,
      `copyBytes(f.${n}, out, pos);`,
      `pos += f.${n}.length;`,
      `} else {`,
      `const ${written} = ${names.encode}(f, out, pos${context !== null ? `, ${context.param}` : ''});`,
      `if (${written} < 0) return -1;`,
      `pos += ${written};`,
      ...rewrites,
      `}`,
    ].join('\n'),
    encodeSize: null,
  };
}

export function constructCode(
  r: Region,
  fixedOffsets: Map<string, number>,
  lists: ListModel[] = [],
  module = '',
  spec?: SpecModel,
  holder?: MessageModel,
  rewrites: string[] = [],
): ConstructCode {
  const c = r.construct;
  const none: ConstructCode = {
    imports: [],
    viewProperties: [],
    validate: [],
    viewMembers: [],
    viewReset: [],
    json: [],
    fields: [],
    encode: '',
    encodeSize: null,
    moduleExtras: [],
  };
  switch (c.kind) {
    case 'field':
      throw new Error(`${r.name}: placed fields are built by placed.ts`);
    case 'payload':
      return none;
    case 'bytes':
      if (spec !== undefined && holder !== undefined && structuredSelect(spec, holder, r))
        return { ...none, ...selectedValue(spec, holder, r, rewrites) };
      return { ...none, ...rawBytes(r) };
    case 'array': {
      const inner = c.array.message;
      if (inner === null) return { ...none, ...arrayRegionCode(r) };
      const item = spec?.messages.find((m) => m.name === inner) as MessageModel;
      return { ...none, ...messageArrayCode(spec as SpecModel, r, item) };
    }
    case 'message': {
      const item = spec?.messages.find((m) => m.name === c.message) as MessageModel;
      return { ...none, ...nestedFieldCode(spec as SpecModel, r, item) };
    }
    case 'list': {
      const l = lists.find((x) => x.name === c.list) as ListModel;
      return { ...none, ...rawBytes(r), ...listRegionCode(r, c, l, fixedOffsets, module) };
    }
    case 'dns_name': {
      const origin = `this.${r.name}OriginField`;
      return {
        ...none,
        imports: [
          { module: DNS, name: 'readName' },
          { module: DNS, name: 'writeName' },
        ],
        viewProperties: [
          `/** Where the DNS message holding ${r.name} starts: its compression pointers count from there. */\nprivate ${r.name}OriginField = 0;`,
        ],
        validate: [
          comment(
            'Pointers may reach back to the message start (origin), never past offset + length.',
          ),
          fail('origin < 0 || origin > offset', 'E_BAD_NAME', r.name, 'pos'),
          stmt(
            ts`const end = ${ref(DNS, 'walkName')}(bytes, origin, offset + length - origin, pos, ${self}.error, '${r.name}');`,
          ),
          failRecorded('end < 0'),
          stmt(ts`${self}.${r.name}OriginField = origin;`),
          stmt('const size = end - pos;'),
        ],
        viewMembers: [
          `/** Bytes from the DNS message start to the end of this view: where ${r.name}'s pointers may lead. */
          private get ${r.name}Span(): number {
            return this.offset + this.byteLength - ${origin};
          }`,
          `/** ${r.name} as dotted text, no final dot ("" for the root), pointers followed (allocates). */
          ${r.name}Text(): string {
            const name = readName(this.bytes, ${origin}, this.${r.name}Span, this.${r.name}Start);
            return typeof name === 'string' ? name : '';
          }`,
          `/** Where ${r.name} starts counting its compression pointers (the DNS message start). */
          get ${r.name}Origin(): number {
            return ${origin};
          }`,
        ],
        viewReset: [`${origin} = 0;`],
        json: [{ key: r.name, type: 'string', expr: `this.${r.name}Text()` }],
        fields: [{ key: r.name, type: 'string', decode: `v.${r.name}Text()` }],
        encode: [
          `pos = writeName(f.${r.name}, out, pos${c.compressed ? `, ${NAME_COMPRESSION.param}` : ''});`,
          `if (pos < 0) return -1;`,
        ].join('\n'),
      };
    }
  }
}
