/**
 * TypeScript for the DSL's variable-length constructs. Each one is declared in a spec
 * (`tlv_list(tcp, ...)`, `dns_questions(qdcount)`) and compiles to a few lines that call the
 * hand-written helpers in src/codec/ (cursors, validators, JSON builders). Plain `payload` and
 * `bytes` regions need no helper.
 */
import type { ListModel, Region } from '../frontend/model.js';
import { arrayRegionCode } from './array.js';
import { listRegionCode } from './list.js';
import { comment, fail, failRecorded, ref, self, type Stmt, stmt, ts, when } from './wrap-ir.js';

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
  moduleExtras: string[];
}

const OPTIONS = '../codec/options.js';
const DNS = '../codec/dns.js';

function rawBytes(r: Region): Pick<ConstructCode, 'fields' | 'encode' | 'encodeSize'> {
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
  };
}

/**
 * TcpView's accessors for the options wrap() recorded: one or two property loads each, so V8
 * inlines them anywhere (no cursor walk, no boxing of the 32-bit timestamps).
 */
function tcpOptionGetters(values: string): string[] {
  return [
    `/** MSS option value (kind 2, length 4); -1 when absent. */\nget mss(): number {\nreturn ${values}.mss;\n}`,
    `/** Window scale shift (kind 3, length 3); -1 when absent. */\nget windowScale(): number {\nreturn ${values}.windowScale;\n}`,
    `/** True when a SACK-permitted option (kind 4, length 2) is present. */\nget sackPermitted(): boolean {\nreturn ${values}.sackPermitted;\n}`,
    `/** Timestamp value (kind 8, length 10) as uint32; -1 when absent. */\nget tsval(): number {\nconst values = ${values};\nreturn values.hasTimestamps ? values.tsvalBits >>> 0 : -1;\n}`,
    `/** Timestamp echo reply (kind 8, length 10) as uint32; -1 when absent. */\nget tsecr(): number {\nconst values = ${values};\nreturn values.hasTimestamps ? values.tsecrBits >>> 0 : -1;\n}`,
    `/** Whole blocks of the SACK option (kind 5; the last one if several); 0 when absent. */\nget sackCount(): number {\nreturn ${values}.sackCount;\n}`,
    `/** The SACK blocks' edges as uint32 (the same array on every call): left of block i at 2 * i, right at 2 * i + 1, for i < sackCount. Indexing it needs no call, which matters in rarely run loops where V8 does not inline sackLeft()/sackRight(). */\nget sackEdges(): Uint32Array {\nreturn ${values}.sackEdges;\n}`,
    `/** Left edge of SACK block i (0 <= i < sackCount) as uint32. */\nsackLeft(i: number): number {\nreturn ${values}.sackEdges[(2 * i) & 7];\n}`,
    `/** Right edge of SACK block i (0 <= i < sackCount) as uint32. */\nsackRight(i: number): number {\nreturn ${values}.sackEdges[(2 * i + 1) & 7];\n}`,
  ];
}

export function constructCode(
  r: Region,
  fixedOffsets: Map<string, number>,
  lists: ListModel[] = [],
  module = '',
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
      return { ...none, ...rawBytes(r) };
    case 'tlv_list': {
      if (c.format === 'dhcp') {
        const file = fixedOffsets.get(c.fileField ?? '') ?? 0;
        const sname = fixedOffsets.get(c.snameField ?? '') ?? 0;
        const validateDhcpArea = ref(OPTIONS, 'validateDhcpArea');
        return {
          ...none,
          ...rawBytes(r),
          imports: [
            { module: OPTIONS, name: 'DhcpOptionCursor' },
            { module: OPTIONS, name: 'dhcpOptionsToJSON' },
            { module: OPTIONS, name: 'dhcpFindOption' },
            { module: OPTIONS, name: 'DhcpOptionJSON', typeOnly: true },
          ],
          viewProperties: [`private readonly ${r.name}Cursor = new DhcpOptionCursor();`],
          validate: [
            stmt(ts`let bad = ${validateDhcpArea}(bytes, pos, size);`),
            fail('bad >= 0', 'E_BAD_OPTION', r.name, 'bad'),
            comment('Option 52 (overload) continues the list in file and/or sname.'),
            stmt(ts`const overload = ${ref(OPTIONS, 'dhcpOverload')}(bytes, pos, size);`),
            when('(overload & 1) !== 0', [
              stmt(ts`bad = ${validateDhcpArea}(bytes, offset + ${file}, 128);`),
              fail('bad >= 0', 'E_BAD_OPTION', c.fileField ?? '', 'bad'),
            ]),
            when('(overload & 2) !== 0', [
              stmt(ts`bad = ${validateDhcpArea}(bytes, offset + ${sname}, 64);`),
              fail('bad >= 0', 'E_BAD_OPTION', c.snameField ?? '', 'bad'),
            ]),
          ],
          viewMembers: [
            `/** The option cursor (the same object on every call), reset to the first option. */
            ${r.name}(): DhcpOptionCursor {
              return this.${r.name}Cursor.reset(this.bytes, this.${r.name}Start, this.${r.name}Size, this.offset + ${file}, this.offset + ${sname});
            }`,
            `/** Absolute offset of the value of the first option \`code\`, -1 when absent. */
            findOption(code: number): number {
              const cursor = dhcpFindOption(this.${r.name}(), code);
              return cursor === null ? -1 : cursor.valueOffset;
            }`,
            `/** Value length of the first option \`code\`, -1 when absent. */
            optionLength(code: number): number {
              const cursor = dhcpFindOption(this.${r.name}(), code);
              return cursor === null ? -1 : cursor.valueLength;
            }`,
            `/** DHCP message type (option 53), -1 when absent. */
            get messageType(): number {
              const cursor = dhcpFindOption(this.${r.name}(), 53);
              return cursor === null || cursor.valueLength < 1 ? -1 : this.bytes[cursor.valueOffset];
            }`,
          ],
          json: [
            { key: r.name, type: 'DhcpOptionJSON[]', expr: `dhcpOptionsToJSON(this.${r.name}())` },
            {
              key: 'messageType',
              type: 'number | null',
              expr: `this.messageType < 0 ? null : this.messageType`,
            },
          ],
        };
      }
      const tcp = c.format === 'tcp';
      const cursor = tcp ? 'TcpOptionCursor' : 'Ipv4OptionCursor';
      const toJson = tcp ? 'tcpOptionsToJSON' : 'ipv4OptionsToJSON';
      const jsonType = tcp ? 'TcpOptionJSON' : 'Ipv4OptionJSON';
      const values = `this.${r.name}Values`;
      return {
        ...none,
        ...rawBytes(r),
        imports: [
          { module: OPTIONS, name: cursor },
          ...(tcp ? [{ module: OPTIONS, name: 'TcpOptionValues' }] : []),
          { module: OPTIONS, name: toJson },
          { module: OPTIONS, name: jsonType, typeOnly: true },
        ],
        viewProperties: [
          `private readonly ${r.name}Cursor = new ${cursor}();`,
          ...(tcp
            ? [
                `/** @internal The well-known options, recorded by wrap()'s validation walk (read the getters). */\nreadonly ${r.name}Values = new TcpOptionValues();`,
              ]
            : []),
        ],
        validate: [
          stmt(
            tcp
              ? ts`const bad = ${ref(OPTIONS, 'validateTcpOptions')}(bytes, pos, size, ${self}.${r.name}Values);`
              : ts`const bad = ${ref(OPTIONS, 'validateKindLengthList')}(bytes, pos, size);`,
          ),
          fail('bad >= 0', 'E_BAD_OPTION', r.name, 'bad'),
        ],
        viewReset: tcp ? [`${values}.clear();`] : [],
        viewMembers: [
          `/** The option cursor (the same object on every call), reset to the first option. */
          ${r.name}(): ${cursor} {
            return this.${r.name}Cursor.reset(this.bytes, this.${r.name}Start, this.${r.name}Size);
          }`,
          ...(tcp ? tcpOptionGetters(values) : []),
        ],
        json: [{ key: r.name, type: `${jsonType}[]`, expr: `${toJson}(this.${r.name}())` }],
        moduleExtras:
          c.format === 'tcp'
            ? [
                `export {\n encodeTcpOptions as encodeOptions,\n findKindLengthOption as findOption,\n TcpOptionCursor,\n writeTcpTimestamps as writeTimestamps,\n} from '../codec/options.js';`,
                `export type { TcpOption, TcpOptionJSON } from '../codec/options.js';`,
              ]
            : [
                `export { Ipv4OptionCursor } from '../codec/options.js';`,
                `export type { Ipv4OptionJSON } from '../codec/options.js';`,
              ],
      };
    }
    case 'array':
      return { ...none, ...arrayRegionCode(r) };
    case 'list': {
      const l = lists.find((x) => x.name === c.list) as ListModel;
      return { ...none, ...rawBytes(r), ...listRegionCode(r, c, l, fixedOffsets, module) };
    }
    case 'dns_questions':
      return {
        ...none,
        imports: [
          { module: DNS, name: 'DnsQuestionCursor' },
          { module: DNS, name: 'dnsQuestionsToJSON' },
          { module: DNS, name: 'decodeDnsQuestions' },
          { module: DNS, name: 'encodeDnsQuestions' },
          { module: DNS, name: 'DnsQuestion', typeOnly: true },
          { module: DNS, name: 'DnsQuestionJSON', typeOnly: true },
        ],
        viewProperties: [`private readonly ${r.name}Cursor = new DnsQuestionCursor();`],
        validate: [
          stmt(
            ts`const end = ${ref(DNS, 'walkDnsQuestions')}(bytes, offset, length, pos, ${self}.${c.count}, ${self}.error);`,
          ),
          failRecorded('end < 0'),
          stmt('const size = end - pos;'),
        ],
        viewMembers: [
          `/** The question cursor (the same object on every call), reset to the first question. */
          ${r.name}(): DnsQuestionCursor {
            return this.${r.name}Cursor.reset(this.bytes, this.offset, this.byteLength, this.${r.name}Start, this.${c.count});
          }`,
        ],
        json: [
          { key: r.name, type: 'DnsQuestionJSON[]', expr: `dnsQuestionsToJSON(this.${r.name}())` },
        ],
        fields: [
          { key: r.name, type: 'DnsQuestion[]', decode: `decodeDnsQuestions(v.${r.name}())` },
        ],
        encode: [
          `pos = encodeDnsQuestions(f.${r.name}, out, offset, pos, compressor);`,
          `if (pos < 0) return -1;`,
        ].join('\n'),
        moduleExtras: [
          `export { readName, DnsQuestionCursor, DnsRecordCursor, DnsSection } from '../codec/dns.js';`,
          `export type { DnsQuestion, DnsRecord, DnsQuestionJSON, DnsRecordJSON } from '../codec/dns.js';`,
        ],
      };
    case 'dns_records': {
      const [an, ns, ar] = c.counts;
      return {
        ...none,
        imports: [
          { module: DNS, name: 'DnsRecordCursor' },
          { module: DNS, name: 'dnsAnswersToJSON' },
          { module: DNS, name: 'decodeDnsRecords' },
          { module: DNS, name: 'encodeDnsRecords' },
          { module: DNS, name: 'DnsRecord', typeOnly: true },
          { module: DNS, name: 'DnsRecordJSON', typeOnly: true },
        ],
        viewProperties: [`private readonly ${r.name}Cursor = new DnsRecordCursor();`],
        validate: [
          stmt(
            ts`const end = ${ref(DNS, 'walkDnsRecords')}(bytes, offset, length, pos, ${self}.${an}, ${self}.${ns}, ${self}.${ar}, ${self}.error);`,
          ),
          failRecorded('end < 0'),
          stmt('const size = end - pos;'),
        ],
        viewMembers: [
          `/** The record cursor (the same object on every call): answers, then authority, then additional. */
          ${r.name}(): DnsRecordCursor {
            return this.${r.name}Cursor.reset(this.bytes, this.offset, this.byteLength, this.${r.name}Start, this.${an}, this.${ns}, this.${ar});
          }`,
        ],
        json: [
          { key: 'answers', type: 'DnsRecordJSON[]', expr: `dnsAnswersToJSON(this.${r.name}())` },
        ],
        fields: [
          { key: 'answers', type: 'DnsRecord[]', decode: `decodeDnsRecords(v.${r.name}(), 0)` },
          { key: 'authority', type: 'DnsRecord[]', decode: `decodeDnsRecords(v.${r.name}(), 1)` },
          { key: 'additional', type: 'DnsRecord[]', decode: `decodeDnsRecords(v.${r.name}(), 2)` },
        ],
        encode: [
          `pos = encodeDnsRecords(f.answers, out, offset, pos, compressor);`,
          `if (pos >= 0) pos = encodeDnsRecords(f.authority, out, offset, pos, compressor);`,
          `if (pos >= 0) pos = encodeDnsRecords(f.additional, out, offset, pos, compressor);`,
          `if (pos < 0) return -1;`,
        ].join('\n'),
      };
    }
  }
}

/** True for constructs whose encoder needs the DNS name compressor. */
export function needsCompressor(r: Region): boolean {
  return r.construct.kind === 'dns_questions' || r.construct.kind === 'dns_records';
}
