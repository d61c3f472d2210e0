import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
  files: string[];
};

/** Every path an export condition names, without its leading "./". */
function targets(): Array<{ entry: string; condition: string; path: string }> {
  const out = [];
  for (const [entry, value] of Object.entries(pkg.exports)) {
    const conditions = typeof value === 'string' ? { default: value } : value;
    for (const [condition, path] of Object.entries(conditions)) {
      out.push({ entry, condition, path: path.replace(/^\.\//, '') });
    }
  }
  return out;
}

describe('the package', () => {
  it('ships every file its exports name (the tarball holds only `files`)', () => {
    for (const t of targets()) {
      if (t.path === 'package.json') continue;
      const shipped = pkg.files.some((f) => t.path === f || t.path.startsWith(`${f}/`));
      expect(shipped, `${t.entry} (${t.condition}) -> ${t.path}`).toBe(true);
    }
  });

  it("resolves every 'source' condition to a file in the repository", () => {
    const sources = targets().filter((t) => t.condition === 'source');
    expect(sources.map((t) => t.entry).sort()).toEqual(['.', './codecs', './stack']);
    for (const t of sources) expect(existsSync(join(root, t.path)), t.path).toBe(true);
  });

  it("offers the stack, the codecs and the codec helpers from 'pktstack' itself", async () => {
    const main = await import('../../src/index.js');
    expect(typeof main.createStack).toBe('function');
    expect(typeof main.codecs.ipv4.Ipv4View).toBe('function');
    expect(main.isDecodeError({ code: 'E_TRUNCATED', layer: 'ipv4', field: 'x', offset: 0 })).toBe(
      true,
    );
    expect(main.isDecodeError(new Error('no'))).toBe(false);
    // RFC 1071's example words sum to 0xddf2; the checksum is its complement.
    const words = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(main.internetChecksum(words, 0, words.length)).toBe(0xffff - 0xddf2);
  });
});
