import { defineConfig } from 'vitest/config'

// Real-broker tests: joins, rebalances and a broker restart take seconds, not milliseconds.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    include: ['test/**/*.test.ts'],
    // One file at a time: the restart test bounces the broker under everyone.
    fileParallelism: false,
  },
})
