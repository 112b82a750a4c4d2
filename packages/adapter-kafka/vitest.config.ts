import { configDefaults, defineConfig } from 'vitest/config'

// The cluster's failover tests kill nodes of the three-node cluster: they run on it only
// (npm run conformance -- kafka-cluster sets OMNIBUS_KAFKA_BROKER_NAME=kafka-cluster).
const onCluster = process.env.OMNIBUS_KAFKA_BROKER_NAME === 'kafka-cluster'

// Real-broker tests: joins, rebalances and a broker restart take seconds, not milliseconds.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    include: ['test/**/*.test.ts'],
    exclude: onCluster ? configDefaults.exclude : [...configDefaults.exclude, 'test/cluster/**'],
    // One file at a time: the restart test bounces the broker under everyone.
    fileParallelism: false,
  },
})
