import { describe, expect, it } from 'vitest';
import { AddonStaleError, checkAddon, tapAddon } from '../../src/runtime/link/native.js';

describe('TAP addon check', () => {
  it('refuses a binary built from older source, naming what it lacks', () => {
    const built = tapAddon();
    const { copy: _copy, ...older } = built;
    expect(() => checkAddon(older, 'build/Release/pktstack_tap.node')).toThrow(AddonStaleError);
    expect(() => checkAddon(older, 'build/Release/pktstack_tap.node')).toThrow(
      /older than its source \(it has no copy\(\)\): rebuild it with `npm rebuild`/,
    );
  });

  it('takes the binary this checkout built', () => {
    const built = tapAddon();
    expect(checkAddon({ ...built }, 'x')).toBeTypeOf('object');
  });
});
