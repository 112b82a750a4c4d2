import type { Logger } from '@omnibus/core'
import { Reconnecting } from '@omnibus/core/adapter'
import amqp, { type ChannelModel } from 'amqplib'
import type { RabbitMQSettings } from './rabbitmq-config.js'
import type { RabbitMQProvisioner } from './rabbitmq-provisioner.js'

/**
 * One AMQP connection that comes back by itself (the toolkit's `Reconnecting`: its listeners, the
 * provisioner's and the consumers', run before a publish resumes). Ours rather than a recovery
 * option of the client, so that every wait is bounded by its caller's signal.
 */
export type Link = Reconnecting<ChannelModel>

/** What the publisher, the consumers and the provisioner of one transport share. */
export interface Shared {
  readonly link: Link
  readonly provisioner: RabbitMQProvisioner
  readonly settings: RabbitMQSettings
  readonly logger: Logger
}

export function rabbitmqLink(settings: RabbitMQSettings, logger: Logger): Link {
  let next = 0 // with `nodes`, each attempt the next node: a reconnect tries the one after the node lost first
  const link: Link = new Reconnecting({
    open: async () => {
      const url = new URL(settings.urls[next++ % settings.urls.length]!)
      url.searchParams.set('heartbeat', String(settings.heartbeat))
      const model = await amqp.connect(url.toString(), settings.socketOptions)
      // Without an 'error' listener a connection error would be thrown out of the event loop.
      model.on('error', (error: Error) => logger.debug('connection error', { error: error.message }))
      model.on('blocked', (reason: string) => logger.warn('the broker blocks publishing', { reason }))
      model.on('close', () => link.lost(model, 'the connection closed'))
      return model
    },
    close: (model) => model.close(),
    minMs: settings.reconnectDelayMs,
    maxMs: settings.reconnectMaxDelayMs,
    logger,
    say: { lost: 'connection lost; reconnecting', retry: 'reconnect attempt failed', back: 'reconnected' },
    fields: { url: settings.urls.join(',') },
    adapter: 'rabbitmq',
    unreachable: `cannot connect to ${settings.url}; is the broker running and are url/credentials/vhost right?`,
  })
  return link
}
