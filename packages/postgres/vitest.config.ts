import { defineConfig } from 'vitest/config'

// Real PostgreSQL (and, for the chaos test, child processes and a server restart): seconds, not milliseconds.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    include: ['test/**/*.test.ts'],
    // One file at a time: the chaos test restarts PostgreSQL under everyone.
    fileParallelism: false,
  },
})
