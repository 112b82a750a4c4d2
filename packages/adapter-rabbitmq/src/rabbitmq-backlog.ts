import type { ChannelModel } from 'amqplib'
import type { RabbitMQSettings } from './rabbitmq-config.js'
import type { Shared } from './rabbitmq-connection.js'

/** The management plugin's HTTP port on the broker's host (RabbitMQ's default). */
const MANAGEMENT_PORT = 15672

/**
 * The messages of `queue` not yet acknowledged: `messages_ready` plus
 * `messages_unacknowledged` from the management API on the broker's host (the
 * transport's user and vhost), which refreshes them every few seconds. Where
 * that API cannot be reached, the ready count of a passive declare (AMQP tells no
 * unacknowledged count).
 */
export async function rabbitmqBacklog(shared: Shared, model: ChannelModel, queue: string): Promise<number> {
  const fromApi = await managementCount(shared.settings, queue).catch(() => undefined)
  if (fromApi !== undefined) return fromApi
  return (await shared.provisioner.scratch(model, `queue "${queue}"`, (ch) => ch.checkQueue(queue)))
    .messageCount
}

async function managementCount(settings: RabbitMQSettings, queue: string): Promise<number | undefined> {
  const { auth } = settings
  if (auth.mechanism !== 'PLAIN') return undefined // EXTERNAL: no password for the API
  const url = new URL(settings.url)
  const scheme = url.protocol === 'amqps:' ? 'https' : 'http'
  const api = `${scheme}://${url.hostname}:${MANAGEMENT_PORT}/api/queues/${encodeURIComponent(settings.vhost)}/${encodeURIComponent(queue)}`
  const headers = { authorization: auth.basic() }
  const response = await fetch(api, { headers, signal: AbortSignal.timeout(2000) })
  if (!response.ok) return undefined
  const body = (await response.json()) as { messages_ready?: number; messages_unacknowledged?: number }
  if (typeof body.messages_ready !== 'number') return undefined
  return body.messages_ready + (body.messages_unacknowledged ?? 0)
}
