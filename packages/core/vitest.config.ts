import { defineConfig } from 'vitest/config'

// CI runs these beside two lanes of broker tests on two cores (load average up to 15): a test that
// takes 1.7 s there must not fail at vitest's 5 s default. A test's own deadlines (waitFor, a bound
// on how long a call took) say what it checks; this only stops a hang.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
