import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // One emulator for all files, and one file restarts it: files run one after another.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
