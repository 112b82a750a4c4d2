import { afterAll } from 'vitest'
import { rabbitmqConformance, withRaw } from '../helpers.js'
import { CLUSTER_NODES, ctl } from './cluster.js'

// The whole suite on the three-node cluster (`npm run conformance -- rabbitmq-cluster`): the
// transport knows every node, every durable queue is a quorum queue (three replicas), and the
// restart case restarts the whole cluster.
rabbitmqConformance('rabbitmq-cluster', { nodes: CLUSTER_NODES, quorum: true })

// Every boot of the cluster recovers each quorum queue's three Raft members: leave none behind.
afterAll(async () => {
  const queues = JSON.parse(await ctl(1, 'list_queues', 'name', '--formatter', 'json')) as { name: string }[]
  await withRaw(async (ch) => {
    for (const { name } of queues) await ch.deleteQueue(name)
  })
}, 120_000)
