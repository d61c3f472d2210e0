/**
 * Hostile input for views generated from test specs: valid samples truncated and bit-flipped
 * (seeded fast-check). wrap() must never throw; after it accepts, no getter, accessor, toJSON()
 * or describe() may throw or read outside [offset, offset + length) (reads are watched through
 * test/codec/helpers.ts's Proxy); after it rejects, the error is well formed.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { watched } from '../codec/helpers.js';

export interface AnyView {
  wrap(
    bytes: Uint8Array,
    offset?: number,
    length?: number,
  ): { code: string; layer: string; field: string; offset: number } | null;
  toJSON(...args: unknown[]): unknown;
  describe(): string;
}

/** Reads every getter of a view (and of the views its getters return, once). */
export function touchGetters(obj: object, depth = 0): void {
  let proto = Object.getPrototypeOf(obj) as object | null;
  while (proto !== null && proto !== Object.prototype) {
    for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (d.get === undefined) continue;
      const value = (obj as Record<string, unknown>)[key];
      if (depth === 0 && typeof value === 'object' && value !== null && 'wrap' in value)
        touchGetters(value, depth + 1);
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
}

/**
 * Wraps `bytes[offset, offset + length)` through the read watcher and exercises the view;
 * `more` calls the view's indexed accessors (arrays) with in- and out-of-range indexes.
 * Returns whether wrap() accepted the bytes.
 */
export function exercise(
  view: AnyView,
  bytes: Uint8Array,
  offset: number,
  length: number,
  more: (view: AnyView) => void = () => {},
): boolean {
  const { proxy, outside } = watched(bytes, offset, offset + length);
  const err = view.wrap(proxy, offset, length);
  if (err === null) {
    touchGetters(view);
    more(view);
    JSON.stringify(view.toJSON());
    view.describe();
    const v = view as unknown as { messageLength: number };
    expect(v.messageLength).toBeLessThanOrEqual(length);
  } else {
    expect(err.offset).toBeGreaterThanOrEqual(0);
    expect(err.offset).toBeLessThanOrEqual(bytes.length);
    expect(err.code).toMatch(/^E_[A-Z_]+$/);
    touchGetters(view);
    more(view);
  }
  expect(outside, 'read outside the wrapped bytes').toEqual([]);
  return err === null;
}

/**
 * Truncated and bit-flipped variants of `samples` (each placed at a random offset inside a
 * larger buffer, so a read past its end would land on real bytes and be seen by the watcher).
 */
export function hostileProperty(
  make: () => AnyView,
  samples: Uint8Array[],
  seed: number,
  more?: (view: AnyView) => void,
): void {
  const view = make();
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: samples.length - 1 }),
      fc.nat(8),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.array(fc.nat(), { maxLength: 4 }),
      (which, lead, cut, flips) => {
        const sample = samples[which];
        const buf = new Uint8Array(lead + sample.length + 8).fill(0xa5);
        buf.set(sample, lead);
        for (const bit of flips) {
          const i = lead + ((bit >>> 3) % Math.max(1, sample.length));
          buf[i] ^= 1 << (bit & 7);
        }
        const length = Math.floor(sample.length * cut);
        exercise(view, buf, lead, length, more);
        exercise(view, buf, lead, sample.length, more);
      },
    ),
    { seed, numRuns: 300 },
  );
}
