/**
 * The specs' dispatch graph → `src/generated/frame.ts`: a FrameDecoder that decodes a whole
 * frame (Ethernet, VLAN tags, ARP or IPv4, ICMP/UDP/TCP, DHCP/DNS) in ONE call.
 *
 * Why a separate, fused decoder when every message already has a view: wrapping layer by layer
 * costs a call per layer, and V8 inlines none of them (a wrap() with an option walk is far
 * over its per-function inlining budget), so a frame paid four calls and a store/reload of
 * every window. FrameDecoder runs each layer's wrap() statements in line, nested along the
 * dispatch, on the same view objects: the user reads `decoder.tcp.seq` exactly as after
 * `tcpView.wrap()`. Only the failure paths call out: a layer whose checks fail is handed to its
 * view's own wrap(), which repeats the checks and records exactly the error a layer-by-layer
 * decode gives.
 */
import { Project, VariableDeclarationKind } from 'ts-morph';
import type { DispatchModel, MessageModel, SpecModel } from '../frontend/model.js';
import { type FrameGraph, isTunnel } from '../frontend/graph.js';
import { ModuleBuilder } from './module-builder.js';
import { exprTs, viewOf } from './expr.js';
import { fusedWrap } from './typescript.js';
import type { Import } from './constructs.js';

interface Layer {
  module: string;
  spec: SpecModel;
  message: MessageModel;
  view: string;
  bit: number;
  tag: boolean;
}

/** Tunnels FrameDecoder follows inside one another; one more stops with E_TOO_DEEP. */
const MAX_DEPTH = 4;

function pascal(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A header whose checks are a few bounds and option walks (Ethernet, IPv4, TCP, ...): run in
 * line. An application message (a list continued in other fields, name walks) calls its view's
 * wrap() instead: its code would swell the decoder that every frame runs, for the few frames
 * that carry one.
 */
function isHeaderSized(m: MessageModel): boolean {
  return m.regions.every(
    (r) =>
      r.construct.kind === 'payload' ||
      r.construct.kind === 'bytes' ||
      (r.construct.kind === 'list' &&
        r.construct.bound.kind === 'bytes' &&
        r.construct.continues.length === 0),
  );
}

class FrameEmitter {
  private readonly layers = new Map<string, Layer>();
  private readonly imports = new Map<string, Import>();

  /**
   * Layers decoded by a method of their own: the roots, the layers tunnels re-enter at, the
   * payload layers of shims (which their parents decode in line), and the layers the table marks
   * `cold`.
   */
  private readonly methods: Set<string>;

  constructor(private readonly graph: FrameGraph) {
    const shimTargets = graph.layers
      .filter((g) => g.shim)
      .flatMap((g) =>
        (g.message.dispatch?.cases ?? [])
          .filter((c) => !isTunnel(graph, g.module, c.target))
          .map((c) => c.target),
      );
    this.methods = new Set([
      ...graph.roots,
      ...graph.tunnelTargets,
      ...shimTargets,
      ...graph.layers.filter((g) => g.cold).map((g) => g.module),
    ]);
    for (const g of graph.layers) {
      this.layers.set(g.module, {
        module: g.module,
        spec: g.spec,
        message: g.message,
        view: `${g.message.name}View`,
        bit: 2 ** g.id,
        tag: g.tag,
      });
    }
  }

  private layer(module: string): Layer {
    return this.layers.get(module) as Layer;
  }

  /**
   * The statements decoding `module` in the window `offset`/`length` (declared by the caller
   * for all but an entry), then its payload by its dispatch.
   */
  private block(module: string): string[] {
    const l = this.layer(module);
    let lines = [
      `if (${module}.wrap(bytes, offset, length) !== null) return this.stop(${module}.error, layers);`,
    ];
    if (isHeaderSized(l.message)) {
      const fused = fusedWrap(
        l.spec,
        l.message,
        module,
        `this.stop(${module}.wrap(bytes, offset, length), layers)`,
      );
      for (const i of fused.imports) this.imports.set(`${i.module}:${i.name}`, i);
      lines = fused.lines;
    }
    return [
      `const ${module} = this.${module};`,
      ...lines,
      `layers |= FrameLayer.${module};`,
      ...this.dispatch(l),
    ];
  }

  /**
   * The `case` labels of one dispatch case (hex above 255), then a comment naming the values by
   * the field's enum when it has one. The comment goes on its own line: prettier moves one that
   * trails a label, and would then not leave the generated file as it formatted it.
   */
  private caseLabels(
    l: Layer,
    field: string,
    values: number[],
  ): { labels: string[]; comment: string[] } {
    const scalar = l.message.fields.find((f) => f.name === field);
    const enumName = scalar?.kind === 'scalar' ? scalar.enumName : null;
    const members =
      [...l.spec.enums, ...l.spec.importedEnums].find((e) => e.name === enumName)?.members ?? [];
    const names = values.map((v) => members.find((m) => m.value === v)?.name ?? String(v));
    return {
      labels: values.map((v) => `case ${v > 255 ? `0x${v.toString(16)}` : String(v)}:`),
      comment: members.length > 0 ? [`// ${names.join(', ')}`] : [],
    };
  }

  /** The payload's decode, under the dispatch condition when the spec gives one. */
  private dispatch(l: Layer): string[] {
    const d = l.message.dispatch;
    if (d === null) return [];
    const lines = this.dispatchOn(l, d);
    if (d.when === null) return lines;
    return [`if (${exprTs(d.when, viewOf(l.module))}) {`, ...lines, '}'];
  }

  private dispatchOn(l: Layer, d: DispatchModel): string[] {
    const v = l.module;
    const out: string[] = [];
    let at = `${v}.payloadOffset`;
    let len = `${v}.payloadLength`;
    let value = `${v}.${d.fields[0]}`;
    let cases = d.cases;
    const tags = [...new Set(cases.map((c) => c.target))]
      .map((t) => this.layer(t))
      .filter((t) => t !== l && t.tag);
    if (tags.length > 0) {
      // Names of their own: a tag loop may sit inside another one's case (VLAN, then IPv6).
      const single = tags.length === 1 && tags[0].message.dispatch?.when === null;
      const [n, no, nl] = single
        ? ['next', 'nextOffset', 'nextLength']
        : [`${v}Next`, `${v}NextOffset`, `${v}NextLength`];
      const valuesOf = (t: Layer): number[] =>
        cases.filter((c) => c.target === t.module).flatMap((c) => c.values);
      const test = (t: Layer): string =>
        `(${valuesOf(t)
          .map((x) => `${n} === 0x${x.toString(16)}`)
          .join(' || ')}) && (wanted & FrameLayer.${t.module}) !== 0`;
      /** One tag's header: wrapped on its view, then what it names next. */
      const take = (t: Layer): string[] => {
        const tv = t.module;
        const d = t.message.dispatch as DispatchModel;
        return [
          `const ${tv} = this.${tv};`,
          `if (${tv}.wrap(bytes, ${no}, ${nl}) !== null) return this.stop(${tv}.error, layers);`,
          `layers |= FrameLayer.${tv};`,
          ...(d.when === null
            ? []
            : [`if (!(${exprTs(d.when, viewOf(tv))})) return this.stop(null, layers);`]),
          `${n} = ${tv}.${d.fields[0]};`,
          `${no} = ${tv}.payloadOffset;`,
          `${nl} = ${tv}.payloadLength;`,
        ];
      };
      out.push(
        `// ${tags.map((t) => t.message.name).join(', ')} ${single ? 'tags dispatch' : 'dispatch'} like ${l.message.name}: take them in turn (the view keeps the innermost).`,
        `let ${n} = ${value};`,
        `let ${no} = ${at};`,
        `let ${nl} = ${len};`,
      );
      if (single) {
        out.push(`while (${test(tags[0])}) {`, ...take(tags[0]), `}`);
      } else {
        // Several kinds of header that chain in any order (IPv6's extension headers).
        out.push(`for (;;) {`);
        for (const t of tags) out.push(`if (${test(t)}) {`, ...take(t), 'continue;', '}');
        out.push('break;', '}');
      }
      value = n;
      at = no;
      len = nl;
      cases = cases.filter((c) => !tags.some((t) => t.module === c.target));
    }
    const shim = this.graph.layers.some((g) => g.module === l.module && g.shim);
    const cold = (target: string): boolean =>
      this.graph.layers.some((g) => g.module === target && g.cold);
    const body = (target: string): string[] =>
      (shim || cold(target)) &&
      target !== this.graph.roots[0] &&
      !isTunnel(this.graph, l.module, target)
        ? [
            // A shim's payload is its parent's (IPv4 after MPLS as after Ethernet), and a cold
            // layer keeps its code out of the hot one's: either is decoded by that layer's own
            // method, on this level.
            `if ((wanted & FrameLayer.${target}) !== 0) {`,
            `return this.decode${pascal(target)}(bytes, ${at}, ${len}, layers);`,
            '}',
          ]
        : isTunnel(this.graph, l.module, target)
          ? [
              `if ((wanted & FrameLayer.${target}) !== 0) {`,
              `return this.enter(FrameLayer.${target}, '${l.module}', bytes, ${at}, ${len}, layers);`,
              '}',
            ]
          : [
              `if ((wanted & FrameLayer.${target}) !== 0) {`,
              `const offset = ${at};`,
              `const length = ${len};`,
              ...this.block(target),
              '}',
            ];
    if (d.fields.length === 1) {
      out.push(`switch (${value}) {`);
      for (const c of cases) {
        const { labels, comment } = this.caseLabels(l, d.fields[0], c.values);
        out.push(...labels, '{', ...comment, ...body(c.target), 'break;', '}');
      }
      out.push('}');
      return out;
    }
    // Several fields (UDP: destination port, then source port): the first that names a
    // payload wins.
    out.push(`let kind = 0;`);
    d.fields.forEach((field, k) => {
      if (k > 0) out.push(`if (kind === 0) {`);
      out.push(`switch (${v}.${field}) {`);
      cases.forEach((c, i) => {
        const { labels, comment } = this.caseLabels(l, field, c.values);
        out.push(...labels, ...comment, `kind = ${i + 1}; // ${c.target}`, 'break;');
      });
      out.push('}');
      if (k > 0) out.push('}');
    });
    out.push(`switch (kind) {`);
    cases.forEach((c, i) => out.push(`case ${i + 1}: {`, ...body(c.target), 'break;', '}'));
    out.push('}');
    return out;
  }

  /** The body of one entry's decode method: the prelude, then `module`'s block. */
  private entryBody(module: string): string {
    return [
      // Only a dispatch reads `wanted` (a leaf such as ARP has none).
      ...(this.layer(module).message.dispatch !== null ? ['const wanted = this.wanted;'] : []),
      ...(module === this.graph.roots[0] ? ['let layers = 0;'] : []),
      ...this.block(module),
      'return this.stop(null, layers);',
    ].join('\n');
  }

  emit(): ModuleBuilder {
    const g = this.graph;
    const root = g.roots[0];
    const entries = [...new Set([...g.roots, ...g.tunnelTargets])];
    const nested = g.tunnelTargets.length > 0;
    const methods = [...this.methods];
    const bodies = new Map(methods.map((e) => [e, this.entryBody(e)]));
    const file = new ModuleBuilder();
    file.addImportDeclaration({
      moduleSpecifier: '../codec/errors.js',
      namedImports: [
        { name: 'DecodeError', isTypeOnly: true },
        ...(nested ? [{ name: 'fail' }, { name: 'newDecodeError' }] : []),
      ],
    });
    const helpers = [...this.imports.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const module of [...new Set(helpers.map((i) => i.module))].sort()) {
      file.addImportDeclaration({
        moduleSpecifier: module,
        namedImports: helpers.filter((i) => i.module === module).map((i) => i.name),
      });
    }
    const layers = [...this.layers.values()];
    for (const l of [...layers].sort((a, b) => a.module.localeCompare(b.module))) {
      file.addImportDeclaration({ moduleSpecifier: `./${l.module}.js`, namedImports: [l.view] });
    }
    file.addVariableStatement({
      declarationKind: VariableDeclarationKind.Const,
      isExported: true,
      docs: [
        'One bit per layer FrameDecoder decodes (its `layers`). The ids are stable: they come from\n' +
          'specs/frame.layers, which only grows (see docs/dsl.md, "Layer ids").',
      ],
      declarations: [
        {
          name: 'FrameLayer',
          initializer: `Object.freeze({\n${layers.map((l) => `${l.module}: ${l.bit},`).join('\n')}\n} as const)`,
        },
      ],
    });
    file.addTypeAlias({
      name: 'FrameEntry',
      isExported: true,
      docs: [
        'The layers a frame may start at (decodeFrom()): the roots, then where tunnels re-enter.',
      ],
      type: entries.map((e) => `typeof FrameLayer.${e}`).join(' | '),
    });
    if (nested) {
      file.addVariableStatement({
        declarationKind: VariableDeclarationKind.Const,
        isExported: true,
        docs: [
          `Tunnels FrameDecoder follows inside one another (VXLAN in VXLAN in VXLAN is 3): each\n` +
            'level is one more FrameDecoder (`inner`), made up front; a tunnel deeper than this\n' +
            'stops the frame with E_TOO_DEEP at its payload.',
        ],
        declarations: [{ name: 'FRAME_MAX_DEPTH', initializer: String(MAX_DEPTH) }],
      });
    }
    const cls = file.addClass({
      name: 'FrameDecoder',
      isExported: true,
      docs: [
        `Decodes a whole frame in one call, following the dispatch in the specs, into one view per\n` +
          `layer (re-used for every frame; nothing is allocated). After decode(), the layers in\n` +
          `\`layers\` hold their fields exactly as their own wrap() would have left them` +
          (nested
            ? `; what a tunnel\ncarries (${g.tunnelTargets.map((t) => `→ ${t}`).join(', ')}) is decoded by \`inner\`, one level in.`
            : '.'),
      ],
    });
    const all = layers.reduce((m, l) => m | l.bit, 0);
    const ctorParams = nested
      ? `readonly wanted: number = ${all}, depth = FRAME_MAX_DEPTH`
      : `readonly wanted: number = ${all}`;
    cls.addMembers([
      ...layers.map(
        (l) =>
          `/** The ${l.module} layer${l.tag ? ' (the innermost tag when there are several)' : ''}; valid when \`layers\` has FrameLayer.${l.module}. */\nreadonly ${l.module} = new ${l.view}();`,
      ),
      `/** FrameLayer bits of the layers the last decode() decoded. */\nlayers = 0;`,
      `/** The error of the layer that failed in the last decode() (that view's record), or null. */\nerror: DecodeError | null = null;`,
      ...(nested
        ? [
            `/** The frame a tunnel carried in the last decode(), one nesting level in; null when none. */\ninner: FrameDecoder | null = null;`,
            `/** The decoder of the next level (null at the last one). */\nprivate readonly next: FrameDecoder | null;`,
            `/** E_TOO_DEEP: a tunnel past the last level (its layer is the tunnel's). */\nprivate readonly depthError = newDecodeError('frame');`,
          ]
        : []),
      `/**
       * @param wanted FrameLayer bits of the layers to decode (default: all). A payload whose
       *   layer is not wanted is left as its parent's payload: a stack's receive path, say,
       *   need not walk every DNS message it forwards.${nested ? '\n       * @param depth Tunnels to follow inside one another (default FRAME_MAX_DEPTH).' : ''}
       */
      constructor(${ctorParams}) {${nested ? '\nthis.next = depth > 0 ? new FrameDecoder(wanted, depth - 1) : null;\n' : ''}}`,
      `/**
       * Decodes the ${root} frame at bytes[offset, offset + length): each layer its payload's
       * dispatch names, until one has no payload the specs know or fails. Returns null, or the
       * failing layer's error (the layers before it stay decoded). Never throws, never reads
       * outside the window.
       */
      decode(bytes: Uint8Array, offset = 0, length = bytes.length - offset): DecodeError | null {
        ${bodies.get(root) ?? ''}
      }`,
      `/** Like decode(), for a frame that starts with \`entry\` (a raw IP capture starts at FrameLayer.ipv4). */
      decodeFrom(entry: FrameEntry, bytes: Uint8Array, offset = 0, length = bytes.length - offset): DecodeError | null {
        switch (entry) {
          ${entries
            .map(
              (e) =>
                `case FrameLayer.${e}:\nreturn ${e === root ? 'this.decode(bytes, offset, length)' : `this.decode${pascal(e)}(bytes, offset, length, 0)`};`,
            )
            .join('\n')}
          default:
            return this.stop(null, 0);
        }
      }`,
      ...methods
        .filter((e) => e !== root)
        .map(
          (
            e,
          ) => `/** The frame from the ${e} layer at bytes[offset, offset + length), the layers before it being \`layers\`. */
      private decode${pascal(e)}(bytes: Uint8Array, offset: number, length: number, layers: number): DecodeError | null {
        ${bodies.get(e) ?? ''}
      }`,
        ),
      `/** True when the last decode() decoded \`layer\` (a FrameLayer bit). */\nhas(layer: number): boolean {\nreturn (this.layers & layer) !== 0;\n}`,
      ...(nested
        ? [
            `/** A tunnel's payload at bytes[offset, offset + length), decoded from \`entry\` one level in. */
      private enter(entry: FrameEntry, tunnel: string, bytes: Uint8Array, offset: number, length: number, layers: number): DecodeError | null {
        this.layers = layers;
        const inner = this.next;
        if (inner === null) {
          this.inner = null;
          this.depthError.layer = tunnel;
          this.error = fail(this.depthError, 'E_TOO_DEEP', 'payload', offset);
          return this.error;
        }
        this.inner = inner;
        this.error = inner.decodeFrom(entry, bytes, offset, length);
        return this.error;
      }`,
          ]
        : []),
      `private stop(error: DecodeError | null, layers: number): DecodeError | null {
        this.layers = layers;
        this.error = error;${nested ? '\nthis.inner = null;' : ''}
        return error;
      }`,
    ]);
    return file;
  }
}

/**
 * The FrameDecoder module, or null when no spec dispatches (then there is no frame to decode;
 * generate.ts reports that it writes no frame.ts).
 */
export function emitFrameModule(graph: FrameGraph | null): string | null {
  if (graph === null) return null;
  const file = new FrameEmitter(graph).emit();
  return file.print(
    new Project({ useInMemoryFileSystem: true }),
    'frame.ts',
    '// Generated by pktstack codegen from the dispatch in specs/*.pkt and specs/frame.layers. Do not edit: change the specs and run `npm run codegen`.\n',
  );
}
