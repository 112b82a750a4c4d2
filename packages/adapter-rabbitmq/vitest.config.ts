import { configDefaults, defineConfig } from 'vitest/config'

// The cluster's failover tests kill nodes of the three-node cluster: they run on it only
// (test/cluster/run.sh, at the end of npm test, sets OMNIBUS_RABBITMQ_BROKER_NAME=rabbitmq-cluster).
const onCluster = process.env.OMNIBUS_RABBITMQ_BROKER_NAME === 'rabbitmq-cluster'

export default defineConfig({
  test: {
    // vitest's 5 s default is too near a loaded machine's broker round trips; a hang still fails.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    exclude: onCluster ? configDefaults.exclude : [...configDefaults.exclude, 'test/cluster/**'],
  },
})
