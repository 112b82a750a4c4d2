import { defineConfig } from 'vitest/config'

// What needs no broker; OMNIBUS_MEMORY_ONLY=1 (npm test) runs only these.
const memoryOnly = ['test/memory.test.ts', 'test/logs.test.ts']

// The broker tests share the brokers and a process-wide OpenTelemetry context manager: one file at a time.
export default defineConfig({
  test: {
    testTimeout: 90_000,
    hookTimeout: 60_000,
    include: process.env.OMNIBUS_MEMORY_ONLY === '1' ? memoryOnly : ['test/**/*.test.ts'],
    fileParallelism: false,
  },
})
