import { defineConfig } from 'vitest/config';

// The tests that exercise src/fsm/ and src/codec/ only: Stryker reruns them once per mutant,
// so the kernel, drill corpus and benchmark suites (minutes each, unrelated) stay out.
export default defineConfig({
  test: {
    include: ['test/fsm/**/*.test.ts', 'test/codec/**/*.test.ts', 'test/runtime/tcp/wire.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
