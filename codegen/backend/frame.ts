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
}

/** The root: the one message that dispatches and that nothing dispatches to. */
function findRoot(models: SpecModel[]): SpecModel | null {
  const targets = new Set(
    models.flatMap((s) => s.messages.flatMap((m) => m.dispatch?.cases.map((c) => c.target) ?? [])),
  );
  const roots = models.filter((s) => s.messages[0]?.dispatch != null && !targets.has(s.module));
  if (roots.length > 1) {
    throw new Error(`several dispatch roots (${roots.map((s) => s.module).join(', ')})`);
  }
  return roots[0] ?? null;
}

/** A dispatch target that dispatches to itself (a VLAN tag): decoded in a loop, not nested. */
function isTag(layer: Layer): boolean {
  return layer.message.dispatch?.cases.some((c) => c.target === layer.module) ?? false;
}

/**
 * A header whose checks are a few bounds and option walks (Ethernet, IPv4, TCP, ...): run in
 * line. An application message (DHCP's overloaded options, DNS's name walks) calls its view's
 * wrap() instead: its code would swell the decoder that every frame runs, for the few frames
 * that carry one.
 */
function isHeaderSized(m: MessageModel): boolean {
  return m.regions.every(
    (r) =>
      r.construct.kind === 'payload' ||
      r.construct.kind === 'bytes' ||
      (r.construct.kind === 'tlv_list' && r.construct.format !== 'dhcp'),
  );
}

class FrameEmitter {
  private readonly layers = new Map<string, Layer>();
  private readonly imports = new Map<string, Import>();

  constructor(models: SpecModel[], root: SpecModel) {
    const byModule = new Map(models.map((s) => [s.module, s]));
    // Breadth first, so the layer bits go outside in.
    const queue = [root.module];
    while (queue.length > 0) {
      const module = queue.shift() as string;
      if (this.layers.has(module)) continue;
      const spec = byModule.get(module);
      const message = spec?.messages[0];
      if (spec === undefined || message === undefined) continue;
      this.layers.set(module, {
        module,
        spec,
        message,
        view: `${message.name}View`,
        bit: 2 ** this.layers.size,
      });
      for (const c of message.dispatch?.cases ?? []) queue.push(c.target);
    }
    if (this.layers.size > 30) throw new Error('more than 30 layers do not fit the layer bits');
  }

  private layer(module: string): Layer {
    const l = this.layers.get(module);
    if (l === undefined) throw new Error(`dispatch target '${module}' has no message`);
    return l;
  }

  /**
   * The statements decoding `module` in the window `offset`/`length` (declared by the caller
   * for all but the root), then its payload by its dispatch.
   */
  private block(module: string, path: string[]): string[] {
    const l = this.layer(module);
    if (path.includes(module)) {
      throw new Error(`dispatch cycle ${[...path, module].join(' → ')} (only a tag may repeat)`);
    }
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
      ...this.dispatch(l, [...path, module]),
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
    const members = l.spec.enums.find((e) => e.name === enumName)?.members ?? [];
    const names = values.map((v) => members.find((m) => m.value === v)?.name ?? String(v));
    return {
      labels: values.map((v) => `case ${v > 255 ? `0x${v.toString(16)}` : String(v)}:`),
      comment: members.length > 0 ? [`// ${names.join(', ')}`] : [],
    };
  }

  /** The payload's decode, under the dispatch condition when the spec gives one. */
  private dispatch(l: Layer, path: string[]): string[] {
    const d = l.message.dispatch;
    if (d === null) return [];
    const lines = this.dispatchOn(l, d, path);
    if (d.when === null) return lines;
    return [`if (${exprTs(d.when, viewOf(l.module))}) {`, ...lines, '}'];
  }

  private dispatchOn(l: Layer, d: DispatchModel, path: string[]): string[] {
    const v = l.module;
    const out: string[] = [];
    let at = `${v}.payloadOffset`;
    let len = `${v}.payloadLength`;
    let value = `${v}.${d.fields[0]}`;
    let cases = d.cases;
    const tag = cases.map((c) => this.layer(c.target)).find((t) => t !== l && isTag(t));
    if (tag !== undefined) {
      const tagValues = cases.filter((c) => c.target === tag.module).flatMap((c) => c.values);
      this.checkTagShape(l, tag);
      const t = tag.module;
      const field = tag.message.dispatch?.fields[0] as string;
      out.push(
        `// ${tag.message.name} tags dispatch like ${l.message.name}: take them in turn (the view keeps the innermost).`,
        `let next = ${value};`,
        `let nextOffset = ${at};`,
        `let nextLength = ${len};`,
        `while ((${tagValues.map((x) => `next === 0x${x.toString(16)}`).join(' || ')}) && (wanted & FrameLayer.${t}) !== 0) {`,
        `const ${t} = this.${t};`,
        `if (${t}.wrap(bytes, nextOffset, nextLength) !== null) return this.stop(${t}.error, layers);`,
        `layers |= FrameLayer.${t};`,
        `next = ${t}.${field};`,
        `nextOffset = ${t}.payloadOffset;`,
        `nextLength = ${t}.payloadLength;`,
        `}`,
      );
      value = 'next';
      at = 'nextOffset';
      len = 'nextLength';
      cases = cases.filter((c) => c.target !== tag.module);
    }
    const body = (target: string): string[] => [
      `if ((wanted & FrameLayer.${target}) !== 0) {`,
      `const offset = ${at};`,
      `const length = ${len};`,
      ...this.block(target, path),
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

  /** A tag must map every value to the same payload as the message it follows. */
  private checkTagShape(parent: Layer, tag: Layer): void {
    const table = (l: Layer): string =>
      (l.message.dispatch?.cases ?? [])
        .flatMap((c) => c.values.map((x) => `${x}:${c.target}`))
        .sort()
        .join(',');
    const tagDispatch = tag.message.dispatch;
    if (
      parent.message.dispatch?.fields.length !== 1 ||
      tagDispatch?.fields.length !== 1 ||
      table(parent) !== table(tag)
    ) {
      throw new Error(
        `${tag.module} repeats itself but does not dispatch like ${parent.module}: FrameDecoder cannot loop over it`,
      );
    }
  }

  emit(root: SpecModel): ModuleBuilder {
    const decodeBody = this.block(root.module, []);
    const file = new ModuleBuilder();
    file.addImportDeclaration({
      moduleSpecifier: '../codec/errors.js',
      namedImports: [{ name: 'DecodeError', isTypeOnly: true }],
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
      docs: ['One bit per layer FrameDecoder decodes (its `layers`), outermost first.'],
      declarations: [
        {
          name: 'FrameLayer',
          initializer: `Object.freeze({\n${layers.map((l) => `${l.module}: ${l.bit},`).join('\n')}\n} as const)`,
        },
      ],
    });
    const cls = file.addClass({
      name: 'FrameDecoder',
      isExported: true,
      docs: [
        `Decodes a whole ${root.module} frame in one call, following the dispatch in the specs, into one\n` +
          `view per layer (re-used for every frame; nothing is allocated). After decode(), the\n` +
          `layers in \`layers\` hold their fields exactly as their own wrap() would have left them.`,
      ],
    });
    cls.addMembers([
      ...layers.map(
        (l) =>
          `/** The ${l.module} layer${isTag(l) ? ' (the innermost tag when there are several)' : ''}; valid when \`layers\` has FrameLayer.${l.module}. */\nreadonly ${l.module} = new ${l.view}();`,
      ),
      `/** FrameLayer bits of the layers the last decode() decoded. */\nlayers = 0;`,
      `/** The error of the layer that failed in the last decode() (that view's record), or null. */\nerror: DecodeError | null = null;`,
      `/**
       * @param wanted FrameLayer bits of the layers to decode (default: all). A payload whose
       *   layer is not wanted is left as its parent's payload: a stack's receive path, say,
       *   need not walk every DNS message it forwards.
       */
      constructor(readonly wanted: number = ${layers.reduce((m, l) => m | l.bit, 0)}) {}`,
      `/**
       * Decodes the frame at bytes[offset, offset + length): each layer its payload's dispatch
       * names, until one has no payload the specs know or fails. Returns null, or the failing
       * layer's error (the layers before it stay decoded). Never throws, never reads outside
       * the window.
       */
      decode(bytes: Uint8Array, offset = 0, length = bytes.length - offset): DecodeError | null {
        const wanted = this.wanted;
        let layers = 0;
        ${decodeBody.join('\n')}
        return this.stop(null, layers);
      }`,
      `/** True when the last decode() decoded \`layer\` (a FrameLayer bit). */\nhas(layer: number): boolean {\nreturn (this.layers & layer) !== 0;\n}`,
      `private stop(error: DecodeError | null, layers: number): DecodeError | null {
        this.layers = layers;
        this.error = error;
        return error;
      }`,
    ]);
    return file;
  }
}

/** The FrameDecoder module, or null when no spec dispatches. */
export function emitFrameModule(models: SpecModel[]): string | null {
  const root = findRoot(models);
  if (root === null) return null;
  const file = new FrameEmitter(models, root).emit(root);
  return file.print(
    new Project({ useInMemoryFileSystem: true }),
    'frame.ts',
    '// Generated by pktstack codegen from the dispatch in specs/*.pkt. Do not edit: change the specs and run `npm run codegen`.\n',
  );
}
