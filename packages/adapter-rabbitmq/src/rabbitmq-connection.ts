import type { Logger } from '@omnibus/core'
import { errorMessage, Reconnecting } from '@omnibus/core/adapter'
import amqp, { type ChannelModel } from 'amqplib'
import type { RabbitMQSettings } from './rabbitmq-config.js'
import type { RabbitMQProvisioner } from './rabbitmq-provisioner.js'
import { rabbitAccessError } from './rabbitmq-security.js'

/** What the publisher, the consumers and the provisioner of one transport share. */
export interface Shared {
  readonly link: Reconnecting<ChannelModel>
  readonly provisioner: RabbitMQProvisioner
  readonly settings: RabbitMQSettings
  readonly logger: Logger
}

/**
 * One AMQP connection that comes back by itself (the toolkit's `Reconnecting`: its listeners, the
 * provisioner's and the consumers', run before a publish resumes). Ours rather than a recovery
 * option of the client, so that every wait is bounded by its caller's signal.
 */
export function rabbitmqLink(settings: RabbitMQSettings, logger: Logger): Reconnecting<ChannelModel> {
  const { urls } = settings
  let next = 0 // with `nodes`, each attempt from the node after the one last tried: past one that is down
  const link = new Reconnecting<ChannelModel>({
    // Round the nodes once per attempt (the first connect too); a refused login is the same on every node.
    open: async () => {
      for (let tried = 1; ; tried++) {
        const url = new URL(urls[next++ % urls.length]!)
        url.searchParams.set('heartbeat', String(settings.heartbeat))
        const model = await amqp.connect(url.toString(), settings.socketOptions).catch((error: unknown) => {
          if (tried === urls.length || rabbitAccessError(error, settings)) throw error
          logger.debug('node unreachable; trying the next', { node: url.host, error: errorMessage(error) })
        })
        if (model === undefined) continue
        // Without an 'error' listener a connection error would be thrown out of the event loop.
        model.on('error', (error: Error) => logger.debug('connection error', { error: error.message }))
        model.on('blocked', (reason: string) => logger.warn('the broker blocks publishing', { reason }))
        model.on('close', () => link.lost(model, 'the connection closed'))
        return model
      }
    },
    close: (model) => model.close(),
    minMs: settings.reconnectDelayMs,
    maxMs: settings.reconnectMaxDelayMs,
    logger,
    say: { lost: 'connection lost; reconnecting', retry: 'reconnect attempt failed', back: 'reconnected' },
    fields: { url: urls.join(',') },
    adapter: 'rabbitmq',
    unreachable: `cannot connect to ${urls.join(' or ')}; is the broker running and are url/credentials/vhost right?`,
  })
  return link
}
