import { defineConfig } from 'vitest/config';

// The tests that exercise src/fsm/ and src/codec/: the state machine's own tests and the
// in-memory TCP layer tests that drive it through the wire. Stryker reruns the covering ones once
// per mutant, so the kernel and benchmark suites (minutes each) stay out. The packetdrill corpus
// (test/drill/corpus.test.ts) checks the FSM against Linux's own scripts but is one test of
// ~6 s that covers nearly every FSM mutant, so each surviving mutant would pay for it: it joins
// only with STRYKER_DRILL=1 (a slower, stricter run).
const drill = process.env.STRYKER_DRILL === '1' ? ['test/drill/corpus.test.ts'] : [];

export default defineConfig({
  test: {
    include: [
      'test/fsm/**/*.test.ts',
      'test/codec/**/*.test.ts',
      'test/runtime/tcp/**/*.test.ts',
      ...drill,
    ],
    testTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/setup/fast-check.ts'],
  },
});
