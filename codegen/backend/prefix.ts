/**
 * decode<Message>Prefix(): the fixed fields of a message whose wrap() failed, as far as the bytes
 * and the checks go. A failed wrap() leaves its view empty (the view's guarantee: no getter reads
 * stale or unchecked bounds), yet a packet analyser still shows the fields before the one that
 * failed (an IPv4 header with a bad ihl shows its version and ihl; a cut TCP header its ports).
 * This cold-path function gives that, from the model alone: each fixed field that lies whole
 * inside the bytes, in wire order, up to and including the field the error names.
 */
import type { OptionalKind, FunctionDeclarationStructure } from 'ts-morph';
import type { BytesField, FixedField, MessageModel, ScalarField } from '../frontend/model.js';
import { fieldRefs } from '../frontend/resolve.js';
import { exprTs, type ExprContext } from './expr.js';
import { inlineLoad, plus } from './typescript.js';

const ADDRESS = '../codec/address.js';

/** Byte index just past a fixed field. */
function fieldEnd(f: FixedField): number {
  return f.kind === 'scalar' ? (f.bitOffset + f.bitWidth + 7) >> 3 : f.byteOffset + f.size;
}

/**
 * The prefix decoder of `m` as a function structure; `use` records the imports it needs.
 * Fields that toJSON() does not show are read only when a shown one depends on them (a `when`
 * condition, a `hwaddr(len)` format), and a shown field whose dependency comes later is left out.
 */
export function prefixDecoder(
  m: MessageModel,
  use: (module: string, name: string) => void,
): OptionalKind<FunctionDeclarationStructure> {
  const shown = new Set(
    m.json.filter((e) => e.kind === 'scalar' || e.kind === 'bytes').map((e) => e.name),
  );
  const dependsOn = (f: FixedField): string[] => {
    if (f.kind === 'scalar') return f.when === null ? [] : fieldRefs(f.when);
    return f.format?.name === 'hwaddr' ? fieldRefs(f.format.length) : [];
  };
  // Fields read into a local because a shown field's condition or format refers to them.
  const needed = new Set(m.fields.filter((f) => shown.has(f.name)).flatMap((f) => dependsOn(f)));
  const local = (name: string): string => `${name}Value`;
  const ctx: ExprContext = {
    field: local,
    len: () => {
      throw new Error(`${m.name}: a fixed field's condition cannot use len()`);
    },
  };
  const read = new Set<string>();
  const lines: string[] = [`const out: Partial<${m.name}JSON> = {};`];
  // A message without fixed fields (it starts with a variable part) has nothing to show.
  if (m.fields.length > 0)
    lines.push(
      `const end = offset >= 0 && offset <= bytes.length ? Math.min(length, bytes.length - offset) : 0;`,
    );
  // Before each field: stop where the bytes end, or after the field the error names.
  let checkedTo = 0;
  m.fields.forEach((f, i) => {
    const stops = i === 0 ? [] : [`last === '${m.fields[i - 1].name}'`];
    const endByte = fieldEnd(f);
    if (endByte > checkedTo) {
      stops.push(`end < ${endByte}`);
      checkedTo = endByte;
    }
    if (stops.length > 0) lines.push(`if (${stops.join(' || ')}) return out;`);
    let load = f.kind === 'scalar' ? scalarLoad(f) : '';
    if (needed.has(f.name) && f.kind === 'scalar') {
      lines.push(`const ${local(f.name)} = ${load};`);
      read.add(f.name);
      load = local(f.name);
    }
    if (shown.has(f.name) && dependsOn(f).every((d) => read.has(d)))
      lines.push(`out.${f.name} = ${valueOf(f, load, ctx, use)};`);
  });
  lines.push('return out;');
  return {
    name: `decode${m.name}Prefix`,
    isExported: true,
    docs: [
      `The fixed fields of a ${m.layer} message that did not wrap(), for showing a bad or cut ` +
        `header beside its error: each field that lies whole inside [offset, offset + length), in ` +
        `wire order, up to and including \`last\` (the field the error names; all of them when it ` +
        `names a variable part), formatted as toJSON() formats them. Reads nothing outside the ` +
        `bytes; allocates (a cold path).`,
    ],
    parameters: [
      ...(['bytes', 'offset', 'length'] as const).map((name) => ({
        // Unused without fixed fields; the signature stays the one every prefix decoder has.
        name: m.fields.length > 0 ? name : `_${name}`,
        type: name === 'bytes' ? 'Uint8Array' : 'number',
      })),
      // With one fixed field there is nothing after the failing one to leave out.
      ...(m.fields.length > 1
        ? [{ name: 'last', initializer: "''" }]
        : m.eitherOrder
          ? [{ name: '_last', initializer: "''" }]
          : []),
      ...(m.eitherOrder ? [{ name: 'littleEndian', initializer: 'false' }] : []),
    ],
    returnType: `Partial<${m.name}JSON>`,
    statements: lines,
  };
}

/** A fixed field's value as toJSON() shows it, from its load (read straight from `bytes`). */
function valueOf(
  f: FixedField,
  load: string,
  ctx: ExprContext,
  use: (module: string, name: string) => void,
): string {
  if (f.kind === 'bytes') return bytesValue(f, ctx, use);
  const v = scalarValue(f, load, use);
  return f.when === null ? v : `${exprTs(f.when, ctx)} ? ${v} : null`;
}

/** A scalar's value read from `bytes` (u64: as a bigint of its halves; ipv6: its offset). */
function scalarLoad(f: ScalarField): string {
  if (f.type === 'ipv6') return plus('offset', f.bitOffset >> 3);
  if (f.type !== 'u64') return inlineLoad(f, 'bytes', 'offset');
  const half = (k: number): string =>
    inlineLoad(
      { ...f, type: 'uint', bitOffset: f.bitOffset + 32 * k, bitWidth: 32 },
      'bytes',
      'offset',
    );
  return `u64FromHalves(${half(0)}, ${half(1)})`;
}

function scalarValue(
  f: ScalarField,
  load: string,
  use: (module: string, name: string) => void,
): string {
  if (f.type === 'u64') {
    use(ADDRESS, 'u64FromHalves');
    // shown in decimal, as toJSON() does (JSON numbers lose precision above 2**53)
    return `${load}.toString()`;
  }
  if (f.type === 'ipv6') {
    use(ADDRESS, 'formatIpv6');
    return `formatIpv6(bytes, ${load})`;
  }
  if (f.type === 'mac') {
    use(ADDRESS, 'formatMac');
    return `formatMac(${load})`;
  }
  if (f.type === 'ipv4') {
    use(ADDRESS, 'formatIpv4');
    return `formatIpv4(${load})`;
  }
  return load;
}

function bytesValue(
  f: BytesField,
  ctx: ExprContext,
  use: (module: string, name: string) => void,
): string {
  const at = `offset${f.byteOffset === 0 ? '' : ` + ${f.byteOffset}`}`;
  switch (f.format?.name) {
    case 'hwaddr':
      use(ADDRESS, 'formatHwAddr');
      return `formatHwAddr(bytes, ${at}, ${exprTs(f.format.length, ctx)}, ${f.size})`;
    case 'mac':
      use(ADDRESS, 'formatMac');
      use(ADDRESS, 'readMac');
      return `formatMac(readMac(bytes, ${at}))`;
    case 'ipv4':
      use(ADDRESS, 'formatIpv4');
      use(ADDRESS, 'readIpv4');
      return `formatIpv4(readIpv4(bytes, ${at}))`;
    case 'ipv6':
      use(ADDRESS, 'formatIpv6');
      return `formatIpv6(bytes, ${at})`;
    default:
      use(ADDRESS, 'formatHex');
      return `formatHex(bytes, ${at}, ${f.size})`;
  }
}
