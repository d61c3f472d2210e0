import { defineConfig } from 'vitest/config';

// The tests that exercise src/fsm/ and src/codec/: the state machine's own tests and the
// in-memory TCP layer tests that drive it through the wire. Stryker reruns the covering ones once
// per mutant, so the kernel, drill corpus and benchmark suites (minutes each) stay out.
export default defineConfig({
  test: {
    include: ['test/fsm/**/*.test.ts', 'test/codec/**/*.test.ts', 'test/runtime/tcp/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/setup/fast-check.ts'],
  },
});
