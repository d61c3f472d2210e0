/**
 * `select` (docs/dsl.md, "Layouts of the same bytes"), run as generated code from
 * test/codegen/specs/select.pkt: the first case that matches names the layout, a condition is
 * tried in order within its value, `_` takes the values no case names, no match leaves the head
 * alone; a layout that refuses the bytes is the error, named by `layout` and shown by its own
 * prefix decoder; toJSON() and describe() are the layout's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanCompiled, compileTestSpec } from './compile.js';

interface Layouts {
  wrap(bytes: Uint8Array, offset?: number, length?: number): { code: string; field: string } | null;
  layout: string | null;
  view: { describe(): string };
  prefixDecoder: (bytes: Uint8Array, offset: number, length: number, last?: string) => object;
  toJSON(): Record<string, unknown>;
  describe(): string;
}

let mod: Record<string, unknown>;
beforeAll(async () => {
  mod = await compileTestSpec('select');
});
afterAll(cleanCompiled);

const make = (name: string): Layouts => new (mod[name] as new () => Layouts)();

describe('select', () => {
  it('names the layout by the field, conditions in order within a value', () => {
    const h = make('HeadLayouts');
    expect(h.wrap(Uint8Array.of(1, 7))).toBeNull();
    expect(h.layout).toBe('shortBody');
    expect(h.toJSON()).toEqual({ kind: 1, value: 7 });
    expect(h.wrap(Uint8Array.of(2, 0, 0, 1, 0))).toBeNull();
    expect([h.layout, h.describe()]).toEqual(['longBody', 'long 256']);
    // Either: four bytes after the head make it long, fewer short.
    expect(h.wrap(Uint8Array.of(3, 0, 0, 0, 9))).toBeNull();
    expect(h.layout).toBe('longBody');
    expect(h.wrap(Uint8Array.of(3, 9, 0))).toBeNull();
    expect([h.layout, h.describe()]).toEqual(['shortBody', 'short 9']);
  });

  it('leaves the head alone when no case matches, and `_` takes the rest', () => {
    const h = make('HeadLayouts');
    expect(h.wrap(Uint8Array.of(9, 1, 2))).toBeNull();
    expect(h.layout).toBeNull();
    expect(h.describe()).toBe('head 9');
    const t = make('TaggedLayouts');
    expect(t.wrap(Uint8Array.of(0))).toBeNull();
    expect(t.layout).toBe('shortBody2');
    expect(t.wrap(Uint8Array.of(200, 1, 2))).toBeNull();
    expect([t.layout, t.toJSON()]).toEqual(['longBody2', { tag: 200, extra: 258 }]);
    expect(mod.taggedLayout).toBeTypeOf('function');
  });

  it("is the layout's error when its view refuses the bytes, shown by its prefix decoder", () => {
    const h = make('HeadLayouts');
    const cut = Uint8Array.of(2, 0, 0);
    expect(h.wrap(cut)).toMatchObject({ code: 'E_TRUNCATED', field: 'value' });
    expect(h.layout).toBe('longBody');
    expect(h.prefixDecoder(cut, 0, cut.length, 'value')).toEqual({ kind: 2 });
    const zero = Uint8Array.of(2, 0, 0, 0, 0);
    expect(h.wrap(zero)).toMatchObject({ code: 'E_BAD_VALUE', field: 'value' });
    // The head itself refusing the bytes: no layout, the head's prefix decoder.
    expect(h.wrap(new Uint8Array(0))).toMatchObject({ code: 'E_TRUNCATED', field: 'kind' });
    expect(h.layout).toBeNull();
    expect(h.prefixDecoder(new Uint8Array(0), 0, 0, 'kind')).toEqual({});
  });

  it('shows a message the head refused in the layout its prefix names', () => {
    const f = make('FramedLayouts');
    const cut = Uint8Array.of(1, 5, 9);
    expect(f.wrap(cut)).toMatchObject({ code: 'E_TRUNCATED', field: 'data' });
    expect(f.layout).toBeNull();
    // The head's own prefix stops at size; the layout's goes on to the field past the head's.
    expect(f.prefixDecoder(cut, 0, cut.length, 'data')).toEqual({ kind: 1, size: 5, value: 9 });
    const ofPrefix = mod.framedLayoutOfPrefix as (b: Uint8Array, o: number, l: number) => unknown;
    expect(ofPrefix(cut, 0, cut.length)).toBe('framedShort');
    expect(ofPrefix(Uint8Array.of(0, 1, 5, 9), 1, 3)).toBe('framedShort');
    // A conditional case reads a wrapped view: passed over, as is a kind no case names.
    expect(ofPrefix(Uint8Array.of(2, 5), 0, 2)).toBeNull();
    expect(ofPrefix(Uint8Array.of(7, 5), 0, 2)).toBeNull();
    // Bytes that end before the kind (or a window past them) name nothing.
    expect(ofPrefix(new Uint8Array(0), 0, 0)).toBeNull();
    expect(ofPrefix(cut, 3, 1)).toBeNull();
    expect(ofPrefix(cut, -1, 2)).toBeNull();
    // A later wrap the head accepts forgets the prefix's layout.
    expect(f.wrap(Uint8Array.of(7, 0))).toBeNull();
    expect(f.prefixDecoder(cut, 0, cut.length, 'data')).toEqual({ kind: 1, size: 5 });
  });

  it('names the packet a layout quotes, and where it is', () => {
    const f = make('FramedLayouts') as Layouts & {
      quoteKind: string | null;
      quoteOffset: number;
      quoteLength: number;
    };
    const quote = (): unknown[] => [f.quoteKind, f.quoteOffset, f.quoteLength];
    expect(f.wrap(Uint8Array.of(0, 1, 0, 9, 0x60, 0), 1)).toBeNull();
    expect(f.layout).toBe('framedShort');
    expect(quote()).toEqual(['ip6', 4, 2]);
    // A layout without a quote, and the head alone, quote nothing.
    expect(f.wrap(Uint8Array.of(2, 0, 0, 7))).toBeNull();
    expect([f.layout, ...quote()]).toEqual(['framedLong', null, 0, 0]);
    expect(f.wrap(Uint8Array.of(9, 0))).toBeNull();
    expect([f.layout, ...quote()]).toEqual([null, null, 0, 0]);
    expect('quoteKind' in make('HeadLayouts')).toBe(false);
  });

  it('names the message a byte region holds by a field, which must fill it', () => {
    const v = new (mod.RecordView as new () => { wrap(b: Uint8Array): unknown })();
    const data = make('RecordDataLayouts') as unknown as {
      wrap(view: unknown): { code: string; field: string; offset: number } | null;
      layout: string | null;
      toJSON(): unknown;
    };
    const at = (bytes: number[]): ReturnType<typeof data.wrap> => {
      expect(v.wrap(Uint8Array.from(bytes))).toBeNull();
      return data.wrap(v);
    };
    expect(at([1, 2, 1, 7])).toBeNull();
    expect([data.layout, data.toJSON()]).toEqual(['shortBody', { kind: 1, value: 7 }]);
    expect(at([2, 5, 2, 0, 0, 0, 3])).toBeNull();
    expect(data.layout).toBe('longBody');
    // Too short for its layout, or longer than it: the layout's error, or E_BAD_LENGTH at its end.
    expect(at([2, 2, 2, 0])).toMatchObject({ code: 'E_TRUNCATED', field: 'value' });
    expect(at([1, 3, 1, 7, 9])).toMatchObject({ code: 'E_BAD_LENGTH', field: 'data', offset: 4 });
    // A kind no case names: no layout, no error.
    expect(at([9, 1, 0])).toBeNull();
    expect([data.layout, data.toJSON()]).toEqual([null, null]);
  });
});
