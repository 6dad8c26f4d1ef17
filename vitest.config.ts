import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // The CLI tests run the built dist/, so build once before any test file runs.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Native llama.cpp contexts and Python children are heavy on a 2-core machine: keep files in forks.
    pool: 'forks',
  },
});
