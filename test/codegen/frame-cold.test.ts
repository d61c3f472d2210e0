/**
 * `layer NAME = ID cold` in the layer table: the layer is decoded by a method of its own, called
 * from every layer that dispatches to it, instead of in line in its parent's code. The frame
 * decoder is generated from a small graph twice, with and without `cold`, compiled and run: the
 * decoded frames must be the same, and only the cold build may call out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { emitFrameModule } from '../../codegen/backend/frame.js';
import { emitModule } from '../../codegen/backend/typescript.js';
import { loadAll } from '../../codegen/generate.js';

const ROOT = join(import.meta.dirname, '..', '..');

// Ethernet-like root → IP → {leaf, tunnel → root one level in}.
const SPECS = {
  'eth.pkt': 'message Eth { t: u8; payload: payload(rest); dispatch t { 1 => ip, } }',
  'ip.pkt':
    'message Ip { p: u8; size: u8; assert size >= 2 else E_BAD_LENGTH at size; payload: payload(size - 2); dispatch p { 2 => leaf, 17 => tun, } }',
  'leaf.pkt': 'message Leaf { a: u16; b: u8; payload: payload(rest); }',
  'tun.pkt': 'message Tun { v: u8; payload: payload(rest); dispatch v { 0 => eth, } }',
};
const TABLE = 'root eth\nlayer eth = 0\nlayer ip = 1\nlayer leaf = 2\nlayer tun = 3\n';
const COLD = TABLE.replace('leaf = 2', 'leaf = 2 cold').replace('tun = 3', 'tun = 3 cold');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The graph's modules and frame.ts generated into a temporary directory; frame.ts's text. */
function generate(table: string): { dir: string; frame: string } {
  const { models, graph } = loadAll(
    Object.entries(SPECS).map(([file, source]) => ({ file, source })),
    { file: 'frame.layers', source: table },
  );
  const dir = mkdtempSync(join(tmpdir(), 'pktstack-frame-'));
  dirs.push(dir);
  const codec = (text: string): string =>
    text.replace(
      /(['"])\.\.\/codec\//g,
      (_all, quote: string) => `${quote}${join(ROOT, 'src', 'codec')}/`,
    );
  for (const m of models) writeFileSync(join(dir, `${m.module}.ts`), codec(emitModule(m, m.file)));
  const frame = emitFrameModule(graph) ?? '';
  writeFileSync(join(dir, 'frame.ts'), codec(frame));
  return { dir, frame };
}

/** decode()'s body in a generated frame.ts (up to decodeFrom()). */
function decodeBody(frame: string): string {
  return frame.slice(frame.indexOf('  decode('), frame.indexOf('  decodeFrom('));
}

interface Decoder {
  decode(bytes: Uint8Array): { code: string; layer: string } | null;
  layers: number;
  inner: Decoder | null;
  ip: { p: number; payloadOffset: number; payloadLength: number };
  leaf: { a: number; b: number; payloadLength: number };
  tun: { v: number; payloadOffset: number };
}

/** What one decode() left: layers, errors and fields of every level, as plain data. */
function outcome(d: Decoder, bytes: Uint8Array): unknown[] {
  const err = d.decode(bytes);
  const levels: unknown[] = [];
  for (let x: Decoder | null = d; x !== null; x = x.inner) {
    levels.push({
      layers: x.layers,
      ip: (x.layers & 2) !== 0 ? [x.ip.p, x.ip.payloadOffset, x.ip.payloadLength] : null,
      leaf: (x.layers & 4) !== 0 ? [x.leaf.a, x.leaf.b, x.leaf.payloadLength] : null,
      tun: (x.layers & 8) !== 0 ? [x.tun.v, x.tun.payloadOffset] : null,
    });
  }
  return [err === null ? null : [err.code, err.layer], levels];
}

const FRAMES = [
  [1, 2, 5, 0x12, 0x34, 0x56, 9], // eth → ip → leaf (ip's payload: 3 bytes)
  [1, 2, 4, 0x12, 0x34], // leaf too short: its error
  [1, 2, 1], // ip's assert fails
  [1, 17, 9, 0, 1, 2, 5, 0xab, 0xcd, 0xef], // eth → ip → tun → (eth → ip → leaf)
  [1, 17, 5, 0, 1, 2, 3], // the inner leaf is cut short by the inner ip
  [1, 17, 3, 0], // tunnel to an empty frame
  [1, 9, 2], // ip with no payload layer
  [2, 0], // eth only
];

describe('cold layers (specs/frame.layers `cold`)', () => {
  const hot = generate(TABLE);
  const cold = generate(COLD);

  it('decodes a cold layer in a method of its own, called from its parent', () => {
    expect(hot.frame).not.toContain('decodeLeaf');
    expect(decodeBody(hot.frame)).toContain('leaf.aField =');
    const body = decodeBody(cold.frame);
    expect(body).not.toContain('leaf.aField =');
    expect(body).not.toContain('tun.vField =');
    expect(body).toContain(
      'return this.decodeLeaf(bytes, ip.payloadOffset, ip.payloadLength, layers);',
    );
    expect(body).toContain(
      'return this.decodeTun(bytes, ip.payloadOffset, ip.payloadLength, layers);',
    );
    expect(cold.frame).toContain('private decodeLeaf(');
    expect(cold.frame).toContain('private decodeTun(');
  });

  it('decodes every frame exactly as the in-line build does', async () => {
    const load = async (dir: string) =>
      (await import(join(dir, 'frame.ts'))) as { FrameDecoder: new () => Decoder };
    const H = (await load(hot.dir)).FrameDecoder;
    const C = (await load(cold.dir)).FrameDecoder;
    const h = new H();
    const c = new C();
    for (const f of FRAMES) {
      const bytes = Uint8Array.from(f);
      expect(outcome(c, bytes), `frame ${f.join(',')}`).toEqual(outcome(h, bytes));
    }
    // The frames do reach the cold layers, on both levels.
    expect(outcome(c, Uint8Array.from(FRAMES[3]))).toEqual([
      null,
      [
        { layers: 1 | 2 | 8, ip: [17, 3, 7], leaf: null, tun: [0, 4] },
        { layers: 1 | 2 | 4, ip: [2, 7, 3], leaf: [0xabcd, 0xef, 0], tun: null },
      ],
    ]);
  });
});
