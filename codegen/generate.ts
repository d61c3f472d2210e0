/**
 * The pipeline, front to back: read spec → parse (Ohm) → resolve (validated model) → emit
 * (ts-morph) → format (prettier with the repo's .prettierrc.json). Pure functions of the spec
 * text, so `--check` can compare what it would write with what is committed.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseSpec } from './frontend/parse.js';
import { resolveSpec } from './frontend/resolve.js';
import { SpecError } from './spec-error.js';
import type { AstSpec } from './frontend/ast.js';
import type { SpecModel } from './frontend/model.js';
import { type FrameGraph, type LayerTable, resolveGraph } from './frontend/graph.js';

export interface GeneratedFile {
  /** Path relative to the repository root. */
  path: string;
  text: string;
  /** Why the file changes, when it is not plain output of the specs (codegen prints it). */
  note?: string;
}

/** What codegen writes, and what it decided not to write (printed, never silent). */
export interface Generated {
  files: GeneratedFile[];
  /** Outcomes to report, e.g. "no spec dispatches: no frame.ts". */
  notes: string[];
}

/** The layer table (ids and roots of the dispatch graph), beside the specs. */
export const LAYER_TABLE = 'specs/frame.layers';

function moduleOf(file: string): string {
  return (file.split(/[\\/]/).pop() ?? file).replace(/\.pkt$/, '');
}

/**
 * Resolves parsed specs so that every spec comes after those it imports from; `external` finds
 * a spec that is not among them (undefined: none). An import cycle is a SpecError at the import
 * that closes it.
 */
function resolveInOrder(
  asts: AstSpec[],
  external: (module: string) => SpecModel | undefined,
): SpecModel[] {
  const byModule = new Map(asts.map((a) => [moduleOf(a.file), a]));
  const done = new Map<string, SpecModel>();
  const visiting: string[] = [];
  const visit = (a: AstSpec): SpecModel => {
    const module = moduleOf(a.file);
    const known = done.get(module);
    if (known !== undefined) return known;
    visiting.push(module);
    for (const i of a.imports) {
      const dep = byModule.get(i.from.name);
      if (dep === undefined || i.from.name === module) continue;
      if (visiting.includes(i.from.name)) {
        const cycle = [...visiting.slice(visiting.indexOf(i.from.name)), i.from.name];
        throw new SpecError(a.file, a.source, i.from.pos, `import cycle: ${cycle.join(' → ')}`);
      }
      visit(dep);
    }
    visiting.pop();
    const model = resolveSpec(a, (m) => done.get(m) ?? (byModule.has(m) ? undefined : external(m)));
    done.set(module, model);
    return model;
  };
  return asts.map(visit);
}

/**
 * Parses and validates one spec (throws SpecError). The specs it imports from are read from
 * its own directory.
 */
export function loadSpec(file: string, source: string): SpecModel {
  return loadWithSiblings(file, source, new Set());
}

function loadWithSiblings(file: string, source: string, loading: Set<string>): SpecModel {
  loading.add(moduleOf(file));
  const sibling = (module: string): SpecModel | undefined => {
    const path = join(dirname(file), `${module}.pkt`);
    if (!existsSync(path)) return undefined;
    if (loading.has(module)) {
      const ast = parseSpec(file, source);
      const at = ast.imports.find((i) => i.from.name === module)?.from.pos ?? 0;
      throw new SpecError(file, source, at, `import cycle: ${[...loading, module].join(' → ')}`);
    }
    return loadWithSiblings(path, readFileSync(path, 'utf8'), loading);
  };
  const model = resolveInOrder([parseSpec(file, source)], sibling)[0];
  loading.delete(moduleOf(file));
  return model;
}

async function format(text: string, root: string, path: string): Promise<string> {
  // Loaded on first use: a spec error is reported without loading prettier or ts-morph.
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(join(root, path))) ?? {};
  return prettier.format(text, { ...options, parser: 'typescript' });
}

/**
 * Every spec plus the layer table → the models and the dispatch graph (throws SpecError for
 * any problem in a spec or across them). Pure, for tests.
 */
export function loadAll(
  specs: Array<{ file: string; source: string }>,
  table: LayerTable,
): { models: SpecModel[]; graph: FrameGraph | null } {
  const models = resolveInOrder(
    specs.map((s) => parseSpec(s.file, s.source)),
    () => undefined,
  );
  return { models, graph: resolveGraph(models, table) };
}

/** Every spec in `specs/` → the files of `src/generated/` (modules plus index.ts). */
export async function generateAll(root: string): Promise<Generated> {
  const specDir = join(root, 'specs');
  const specFiles = readdirSync(specDir)
    .filter((f) => f.endsWith('.pkt'))
    .sort();
  const specs = specFiles.map((f) => ({
    file: relative(root, join(specDir, f)),
    source: readFileSync(join(specDir, f), 'utf8'),
  }));
  const tablePath = join(root, LAYER_TABLE);
  const table = {
    file: LAYER_TABLE,
    source: existsSync(tablePath) ? readFileSync(tablePath, 'utf8') : '',
  };
  const { models, graph } = loadAll(specs, table);
  const notes: string[] = [];
  const { emitModule } = await import('./backend/typescript.js');
  const out: GeneratedFile[] = [];
  for (const model of models) {
    const path = `src/generated/${model.module}.ts`;
    out.push({ path, text: await format(emitModule(model, model.file), root, path) });
  }
  const { emitFrameModule } = await import('./backend/frame.js');
  const frame = emitFrameModule(graph);
  if (frame !== null) {
    const path = 'src/generated/frame.ts';
    out.push({ path, text: await format(frame, root, path) });
  } else {
    notes.push(
      'no spec dispatches, so there is no FrameDecoder: src/generated/frame.ts is not generated',
    );
  }
  if (graph !== null && graph.table !== table.source) {
    out.push({
      path: LAYER_TABLE,
      text: graph.table,
      note:
        graph.added.length > 0
          ? `new layer ids: ${graph.added.map((m) => `${m} = ${graph.layers.find((l) => l.module === m)?.id}`).join(', ')}`
          : 'the roots are now listed',
    });
  }
  const modules = [...models.map((m) => m.module), ...(frame !== null ? ['frame'] : [])].sort();
  const index = [
    '// Generated by pktstack codegen: every spec module as a namespace. Do not edit.',
    ...modules.map((m) => `export * as ${m} from './${m}.js';`),
    '',
  ].join('\n');
  out.push({
    path: 'src/generated/index.ts',
    text: await format(index, root, 'src/generated/index.ts'),
  });
  return { files: out, notes };
}
