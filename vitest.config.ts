import { defineConfig } from 'vitest/config';

// Tests that drive the real kernel (network namespaces, TAP devices) live in test/kernel/ and
// need root; they skip themselves with a clear reason when not root. Files run in parallel
// across the two cores, so every kernel test makes its own uniquely named namespace.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/setup/fast-check.ts'],
    reporters: ['default'],
  },
});
