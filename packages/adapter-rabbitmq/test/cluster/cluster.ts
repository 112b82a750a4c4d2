import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { brokers } from '@omnibus/conformance'
import type { RabbitMQTransportOptions } from '../../src/index.js'

/** The three-node cluster (`bash scripts/brokers env rabbitmq-cluster`): node 1's URL, then the others. */
export const CLUSTER_URL = process.env.OMNIBUS_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5681'
export const CLUSTER_NODES = (process.env.OMNIBUS_RABBITMQ_NODES ?? '127.0.0.1:5682,127.0.0.1:5683').split(
  ',',
)
export const clusterOptions: RabbitMQTransportOptions = { url: CLUSTER_URL, nodes: CLUSTER_NODES }

/** rabbitmqctl on node `n` (1-3) of the cluster; its output. */
export async function ctl(n: number, ...args: string[]): Promise<string> {
  const run = promisify(execFile)
  const { stdout } = await run(
    '/usr/lib/rabbitmq/bin/rabbitmqctl',
    ['-q', '-n', `omnibus-c${n}@localhost`, ...args],
    {
      timeout: 60_000,
    },
  )
  return stdout
}

/** The node (1-3) leading quorum queue `queue`, asked of node `ask` (one that runs). */
export async function leaderOf(queue: string, ask: number): Promise<number> {
  const stdout = await ctl(ask, 'list_queues', 'name', 'leader', '--formatter', 'json')
  const rows = JSON.parse(stdout) as { name: string; leader: string }[]
  const node = /^omnibus-c(\d)@/.exec(rows.find((r) => r.name === queue)?.leader ?? '')?.[1]
  if (!node) throw new Error(`no leader for ${queue} in ${stdout.slice(0, 500)}`)
  return Number(node)
}

/** SIGKILL (`kill`) or start again (`start`) node `n` of the cluster through scripts/brokers. */
export const node = (verb: 'kill' | 'start', n: number): Promise<string> =>
  brokers(verb, 'rabbitmq-cluster', String(n))
