// Compiles the benchmark's .ksy files to JavaScript with the kaitai-struct-compiler npm package's
// JS API, into bench/kaitai/generated/ (gitignored; the bench runs this every time, so the output
// always matches the .ksy files and the installed compiler). The compiler emits UMD modules that
// `require()` each other and 'kaitai-struct/KaitaiStream', so the folder gets a package.json that
// makes Node load them as CommonJS inside this ESM package.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KAITAI_DIR = dirname(fileURLToPath(import.meta.url));
export const KAITAI_OUT = join(KAITAI_DIR, 'generated');

interface KaitaiCompiler {
  compile(
    lang: 'javascript',
    ksy: unknown,
    importer: { importYaml(name: string, mode: string): Promise<unknown> } | null,
    debug: boolean,
  ): Promise<Record<string, string>>;
}
interface Yaml {
  load(text: string): unknown;
}

const require = createRequire(import.meta.url);

/** Write-then-rename, so a bench child running at the same time never loads a half file. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Compiles every bench/kaitai/*.ksy; returns the generated file names. */
export async function compileKaitai(): Promise<string[]> {
  const compiler = require('kaitai-struct-compiler') as KaitaiCompiler;
  // js-yaml reads the .ksy files (YAML); it is in node_modules through eslint.
  const yaml = require('js-yaml') as Yaml;
  const load = (name: string): unknown =>
    yaml.load(readFileSync(join(KAITAI_DIR, `${name}.ksy`), 'utf8'));
  const importer = {
    importYaml: (name: string): Promise<unknown> => Promise.resolve(load(name)),
  };
  mkdirSync(KAITAI_OUT, { recursive: true });
  writeAtomically(join(KAITAI_OUT, 'package.json'), '{ "type": "commonjs" }\n');
  const written = new Set<string>(); // each compile also emits the modules it imports
  for (const file of readdirSync(KAITAI_DIR).filter((f) => f.endsWith('.ksy'))) {
    const files = await compiler.compile('javascript', load(file.slice(0, -4)), importer, false);
    for (const [name, text] of Object.entries(files)) {
      writeAtomically(join(KAITAI_OUT, name), text);
      written.add(name);
    }
  }
  return [...written].sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  compileKaitai().then(
    (names) => console.log(`kaitai: compiled ${names.join(', ')} into ${KAITAI_OUT}`),
    (e: unknown) => {
      console.error(`kaitai: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
