import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // two cores in CI: one file at a time leaves the other core to the engine's worker threads
    fileParallelism: false,
  },
});
