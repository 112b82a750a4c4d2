import { defineConfig } from 'vitest/config'

// The saga tests need PostgreSQL (and the chaos test RabbitMQ): OMNIBUS_MEMORY_ONLY=1 leaves them out,
// as it leaves out the adapters' packages.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    include: ['test/**/*.test.ts'],
    exclude: process.env.OMNIBUS_MEMORY_ONLY === '1' ? ['test/saga*.test.ts'] : [],
    fileParallelism: false,
  },
})
