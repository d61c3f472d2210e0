/**
 * The generator end to end: the front end's model (offsets, order, dependencies) without any
 * code generation, the back end's load expressions, and the CLI: `--check` passes on the
 * committed tree, names stale files in a copy, and reports spec errors with a caret.
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inlineLoad, wordTerms } from '../../codegen/backend/typescript.js';
import type { ScalarField } from '../../codegen/frontend/model.js';
import { LAYER_TABLE, loadAll, loadSpec } from '../../codegen/generate.js';
import type { FrameGraph } from '../../codegen/frontend/graph.js';
import {
  block,
  fail,
  failFixed,
  failRecorded,
  FailureTable,
  failRegion,
  printFused,
  printView,
  ref,
  self,
  stmt,
  ts,
  when,
} from '../../codegen/backend/wrap-ir.js';

const ROOT = join(import.meta.dirname, '..', '..');

function spec(name: string) {
  return loadSpec(`specs/${name}.pkt`, readFileSync(join(ROOT, 'specs', `${name}.pkt`), 'utf8'));
}

describe('front end: the spec model', () => {
  it('places IPv4 fields at their bit offsets and orders checks and derives', () => {
    const m = spec('ipv4').messages[0];
    expect(m.fixedSize).toBe(20);
    const at = (name: string): [number, number] => {
      const f = m.fields.find((x) => x.name === name) as ScalarField;
      return [f.bitOffset, f.bitWidth];
    };
    expect(at('version')).toEqual([0, 4]);
    expect(at('ihl')).toEqual([4, 4]);
    expect(at('flags')).toEqual([48, 3]);
    expect(at('fragmentOffset')).toEqual([51, 13]);
    expect(at('dst')).toEqual([128, 32]);
    expect(m.regions.map((r) => [r.name, r.construct.kind])).toEqual([
      ['options', 'list'],
      ['payload', 'payload'],
    ]);
    expect(m.steps.map((s) => (s.kind === 'assert' ? s.field : s.region))).toEqual([
      'version',
      'ihl',
      'totalLength',
      'options',
      'payload',
    ]);
    // totalLength's derive reads ihl, so ihl is computed first.
    expect(m.encodeOrder.indexOf('ihl')).toBeLessThan(m.encodeOrder.indexOf('totalLength'));
    expect(m.encodeNeedsPayloadLength).toBe(true);
    expect(m.dispatch?.cases.map((c) => [c.values, c.target])).toEqual([
      [[1], 'icmp'],
      [[2], 'igmp'],
      [[4], 'ipv4'],
      [[6], 'tcp'],
      [[17], 'udp'],
      [[47], 'gre'],
      [[41], 'ipv6'],
    ]);
  });

  it('resolves the UDP checksum and dispatch by enum names', () => {
    const m = spec('udp').messages[0];
    const checksum = m.fields.find((f) => f.name === 'checksum') as ScalarField;
    expect(checksum.checksum).toEqual({
      coverage: 'message',
      pseudoProtocol: 17,
      pseudoIpv6: 17,
      zeroMeansNone: true,
    });
    expect(m.dispatch).toMatchObject({
      fields: ['dstPort', 'srcPort'],
      when: null,
      cases: [
        { values: [67, 68], target: 'dhcp' },
        { values: [53], target: 'dns' },
        { values: [546, 547], target: 'dhcpv6' },
        { values: [4789], target: 'vxlan' },
        { values: [6081], target: 'geneve' },
      ],
    });
  });

  it('keeps a dispatch condition (IPv4 dispatches only its first fragment)', () => {
    const d = spec('ipv4').messages[0].dispatch;
    expect(d?.fields).toEqual(['protocol']);
    expect(d?.when).toEqual({
      kind: 'bin',
      op: '==',
      left: { kind: 'field', name: 'fragmentOffset' },
      right: { kind: 'num', value: 0 },
    });
  });

  it('declares the DNS sections as arrays of declared messages', () => {
    const m = spec('dns').messages[0];
    expect(m.regions.map((r) => [r.name, r.length, r.construct.kind])).toEqual([
      ['questions', 'walk', 'array'],
      ['answers', 'walk', 'array'],
      ['authority', 'walk', 'array'],
      ['additional', 'walk', 'array'],
    ]);
    expect(m.fixedSize).toBe(12);
    const rr = spec('dns').messages.find((x) => x.name === 'DnsRecord');
    // rdata's length reads rdlength, a field after the owner name.
    expect(rr?.regions.find((r) => r.name === 'rdata')?.length).toEqual({
      kind: 'field',
      name: 'rdlength',
    });
  });
});

describe('back end: field loads', () => {
  const field = (bitOffset: number, bitWidth: number, littleEndian = false): ScalarField => ({
    kind: 'scalar',
    name: 'x',
    type: 'uint',
    bitOffset,
    bitWidth,
    littleEndian,
    enumName: null,
    derive: null,
    checksum: null,
    when: null,
  });

  it('compiles bit fields to byte loads plus shift and mask, without helper calls', () => {
    expect(inlineLoad(field(0, 4), 'b', 'o')).toBe('b[o] >> 4');
    expect(inlineLoad(field(4, 4), 'b', 'o')).toBe('b[o] & 0xf');
    expect(inlineLoad(field(51, 13), 'b', 'o')).toBe('((b[o + 6] << 8) | b[o + 7]) & 0x1fff');
    expect(inlineLoad(field(32, 32), 'b', 'o')).toBe(
      '((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) >>> 0',
    );
    expect(inlineLoad(field(16, 16, true), 'b', 'o')).toBe('((b[o + 3] << 8) | b[o + 2])');
    expect(inlineLoad(field(8, 20), 'b', 'o')).toBe(
      '((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >> 4',
    );
    expect(() => inlineLoad(field(4, 32), 'b', 'o')).toThrow(/unaligned/);
  });

  it('evaluates those loads to the right values', () => {
    const bytes = Uint8Array.from([0x45, 0x00, 0x12, 0x34, 0xff, 0xee, 0x5f, 0xa1]);
    const run = (f: ScalarField): number =>
      (
        new Function('b', 'o', `return ${inlineLoad(f, 'b', 'o')};`) as (
          b: Uint8Array,
          o: number,
        ) => number
      )(bytes, 0);
    expect(run(field(0, 4))).toBe(4);
    expect(run(field(4, 4))).toBe(5);
    expect(run(field(32, 32))).toBe(0xffee5fa1);
    expect(run(field(51, 13))).toBe(0x1fa1);
    expect(run(field(48, 3))).toBe(0x5f >> 5);
    expect(run(field(16, 16, true))).toBe(0x3412);
    expect(run(field(20, 20))).toBe(0x234ff);
    expect(run(field(4, 28))).toBe(0x5001234);
    expect(run({ ...field(16, 48), type: 'mac' })).toBe(0x1234ffee5fa1);
    expect(run(field(32, 32, true))).toBe(0xa15feeff);
    expect(run(field(0, 32))).toBe(0x45001234);
  });
});

describe('back end: checksum words from stored values', () => {
  it('add up to the 16-bit words of the bytes the stores write', () => {
    const values = [0, 1, 0xff, 0x1234, 0xfedcba98, -1, 0x7fffffff, 0x12345678, 0x1ffff];
    for (const n of [1, 2, 3, 4]) {
      for (const start of [0, 1, 2, 3]) {
        for (const value of values) {
          const out = new Uint8Array(8);
          for (let k = 0; k < n; k++) out[start + k] = value >>> (8 * (n - 1 - k));
          let words = 0;
          for (let i = 0; i < 8; i += 2) words += (out[i] << 8) | out[i + 1];
          const expr = wordTerms('v', start, n).join(' + ');
          const sum = (new Function('v', `return ${expr};`) as (v: number) => number)(value);
          expect(sum, `${n} bytes at ${start} of ${value}`).toBe(words);
        }
      }
    }
  });
});

describe("back end: wrap()'s statement IR", () => {
  const body = [
    failFixed('!(length >= 4)'),
    stmt(ts`${self}.kindField = bytes[offset];`),
    fail('!(k >= 1)', 'E_BAD_LENGTH', 'k', 'offset + 1'),
    block([
      stmt('const size = k * 4;'),
      failRegion('size < 0 || pos + size > offset + length', 'options'),
      stmt(ts`const bad = ${ref('../codec/options.js', 'check')}(bytes, pos, ${self}.values);`),
      fail('bad >= 0', 'E_BAD_OPTION', 'options', 'bad'),
      when('bad === -2', [fail('true', 'E_BAD_LENGTH', 'k', 'offset + 1')]),
      failRecorded('end < 0'),
    ]),
  ];

  it('prints the view: state on this, failures as cold calls into one numbered table', () => {
    const table = new FailureTable();
    const { lines, imports } = printView(body, table);
    expect(lines).toEqual([
      'if (!(length >= 4)) return this.failFixed();',
      'this.kindField = bytes[offset];',
      'if (!(k >= 1)) return this.failAt(0, offset + 1);',
      '{',
      'const size = k * 4;',
      'if (size < 0 || pos + size > offset + length) return this.failRegion(2, pos, size);',
      'const bad = check(bytes, pos, this.values);',
      'if (bad >= 0) return this.failAt(3, bad);',
      'if (bad === -2) {',
      // A failure that always happens where it is prints without a test.
      'return this.failAt(0, offset + 1);',
      '}',
      'if (end < 0) return this.failRecorded();',
      '}',
    ]);
    // failRegion(k) names entry k - 1 (negative) or k (past the window); pairs are shared.
    expect(table.initializer).toBe(
      "[['E_BAD_LENGTH', 'k'], ['E_BAD_LENGTH', 'options'], ['E_TRUNCATED', 'options'], ['E_BAD_OPTION', 'options']]",
    );
    expect(imports).toEqual([{ module: '../codec/options.js', name: 'check' }]);
  });

  it('prints FrameDecoder: state on the local view, every failure hands over', () => {
    const stop = 'this.stop(tcp.wrap(bytes, offset, length), layers)';
    const { lines, imports } = printFused(body, 'tcp', stop);
    expect(lines.filter((l) => l.includes('return'))).toEqual([
      `if (!(length >= 4)) return ${stop};`,
      `if (!(k >= 1)) return ${stop};`,
      `if (size < 0 || pos + size > offset + length) return ${stop};`,
      `if (bad >= 0) return ${stop};`,
      `return ${stop};`,
      `if (end < 0) return ${stop};`,
    ]);
    expect(lines).toContain('tcp.kindField = bytes[offset];');
    expect(lines).toContain('const bad = check(bytes, pos, tcp.values);');
    expect(lines.some((l) => /\bthis\.(?!stop\()/.test(l))).toBe(false);
    expect(imports.map((i) => i.name)).toEqual(['check']);
  });
});

describe('codegen CLI', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'pktstack-codegen-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  for (const dir of ['codegen', 'grammar', 'specs', 'src/generated']) {
    cpSync(join(ROOT, dir), join(tmp, dir), { recursive: true });
  }
  cpSync(join(ROOT, '.prettierrc.json'), join(tmp, '.prettierrc.json'));
  cpSync(join(ROOT, 'package.json'), join(tmp, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(tmp, 'node_modules'));

  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(tmp, 'codegen/main.ts'), ...args], {
      cwd: tmp,
      encoding: 'utf8',
    });

  it('--check passes on the committed output', () => {
    const r = run('--check');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('--check names the stale files and exits 1; a normal run fixes them', () => {
    const udp = join(tmp, 'src/generated/udp.ts');
    writeFileSync(udp, readFileSync(udp, 'utf8').replace('length >= 8', 'length >= 9'));
    writeFileSync(join(tmp, 'src/generated/extra.ts'), '// left over\n');
    const r = run('--check');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('stale: src/generated/udp.ts');
    expect(r.stderr).toContain('not generated: src/generated/extra.ts (no spec specs/extra.pkt)');
    expect(r.stderr).not.toContain('tcp.ts');
    const fixed = run();
    expect(fixed.status).toBe(0);
    // Nothing is deleted without its name and the reason.
    expect(fixed.stdout).toContain('removed src/generated/extra.ts: no spec specs/extra.pkt');
    // One module per spec, plus frame.ts and index.ts.
    const files = readdirSync(join(ROOT, 'specs')).filter((f) => f.endsWith('.pkt')).length + 2;
    expect(fixed.stdout).toContain(`wrote 1 of ${files} files, removed 1`);
    expect(readFileSync(udp, 'utf8')).toBe(
      readFileSync(join(ROOT, 'src/generated/udp.ts'), 'utf8'),
    );
  });

  it('keeps every layer id when a spec is added: the new one gets the next free id', async () => {
    // The ids, worked out in-process from the specs and the table (no prettier, no subprocess).
    const specs = readdirSync(join(ROOT, 'specs'))
      .filter((f) => f.endsWith('.pkt'))
      .sort()
      .map((f) => ({ file: `specs/${f}`, source: readFileSync(join(ROOT, 'specs', f), 'utf8') }));
    const table = { file: LAYER_TABLE, source: readFileSync(join(ROOT, LAYER_TABLE), 'utf8') };
    const ids = (g: FrameGraph | null): Record<string, number> =>
      Object.fromEntries((g?.layers ?? []).map((l) => [l.module, l.id]));
    const before = loadAll(specs, table).graph;
    expect(before?.added).toEqual([]);
    expect(before?.table).toBe(table.source);
    // A spec right after the root, where breadth-first numbering would have renumbered the rest.
    const added = [
      ...specs.map((s) =>
        s.file === 'specs/ethernet.pkt'
          ? { ...s, source: s.source.replace('IPv4 => ipv4,', 'IPv4 => ipv4,\n    0x1234 => aaa,') }
          : s,
      ),
      { file: 'specs/aaa.pkt', source: 'message Aaa { kind: u8; payload: payload(rest); }\n' },
    ];
    const after = loadAll(added, table).graph;
    const next = Math.max(...Object.values(ids(before))) + 1;
    expect(ids(after)).toEqual({ ...ids(before), aaa: next });
    expect(after?.added).toEqual(['aaa']);
    expect(after?.table).toBe(`${table.source}layer aaa = ${next}\n`);
    const { emitFrameModule } = await import('../../codegen/backend/frame.js');
    expect(emitFrameModule(after)).toContain(`aaa: ${2 ** next}`);

    // The CLI: --check names the stale table and the new id; a normal run appends it.
    const ethernetPkt = join(tmp, 'specs/ethernet.pkt');
    const tablePath = join(tmp, LAYER_TABLE);
    const good = readFileSync(ethernetPkt, 'utf8');
    writeFileSync(join(tmp, 'specs/aaa.pkt'), added[added.length - 1].source);
    writeFileSync(ethernetPkt, added.find((s) => s.file === 'specs/ethernet.pkt')?.source ?? '');
    try {
      const stale = run('--check');
      expect(stale.status).toBe(1);
      expect(stale.stderr).toContain(`stale: specs/frame.layers (new layer ids: aaa = ${next})`);
      expect(readFileSync(tablePath, 'utf8')).toBe(table.source);
    } finally {
      rmSync(join(tmp, 'specs/aaa.pkt'));
      writeFileSync(ethernetPkt, good);
    }
  }, 120_000);

  it('reports a spec error with file:line:col and a caret, exit 1', () => {
    const path = join(tmp, 'specs/udp.pkt');
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, good.replace('length: u16 derive', 'length: u15 derive'));
    const r = run('--check');
    writeFileSync(path, good);
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/^specs\/udp\.pkt:\d+:11: unknown type 'u15'$/);
    expect(lines[1]).toBe('  length: u15 derive 8 + payloadLength;');
    expect(lines[2]).toBe('          ^');
  });
});
