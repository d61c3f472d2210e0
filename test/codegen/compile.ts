/**
 * Test specs (test/codegen/specs/*.pkt) compiled the way `npm run codegen` compiles specs/, into
 * a temporary directory whose codec imports point at src/codec/, then imported: the tests run
 * the generated code itself, not just the model.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitModule } from '../../codegen/backend/typescript.js';
import { loadSpec } from '../../codegen/generate.js';
import type { SpecModel } from '../../codegen/frontend/model.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];

/** The model of test spec `name` (test/codegen/specs/<name>.pkt). */
export function testModel(name: string): SpecModel {
  const file = `test/codegen/specs/${name}.pkt`;
  return loadSpec(file, readFileSync(join(ROOT, file), 'utf8'));
}

/** Generates and imports test spec `name`; the module's exports, untyped. */
export async function compileTestSpec(name: string): Promise<Record<string, unknown>> {
  const model = testModel(name);
  const text = emitModule(model, model.file).replace(
    /(['"])\.\.\/codec\//g,
    (_all, quote: string) => `${quote}${join(ROOT, 'src', 'codec')}/`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'pktstack-spec-'));
  dirs.push(dir);
  const path = join(dir, `${name}.ts`);
  writeFileSync(path, text);
  return (await import(path)) as Record<string, unknown>;
}

/** Removes the temporary directories (call from afterAll). */
export function cleanCompiled(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
