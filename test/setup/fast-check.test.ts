import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('fast-check setup', () => {
  it('runs every property from the same seed, so runs repeat', () => {
    expect(fc.readConfigureGlobal().seed).toBeTypeOf('number');
    const once = fc.sample(fc.integer(), 20);
    const again = fc.sample(fc.integer(), 20);
    expect(again).toEqual(once);
  });
});
