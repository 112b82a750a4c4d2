import { defineConfig } from 'vitest/config'

// The broker tests share the brokers and a process-wide OpenTelemetry context manager: one file at a time.
export default defineConfig({
  test: { testTimeout: 90_000, hookTimeout: 60_000, include: ['test/**/*.test.ts'], fileParallelism: false },
})
