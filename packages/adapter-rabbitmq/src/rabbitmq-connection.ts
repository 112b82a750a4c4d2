import type { Logger } from '@omnibus/core'
import { Reconnecting } from '@omnibus/core/adapter'
import amqp, { type ChannelModel } from 'amqplib'
import { connectArguments, type RabbitMQSettings } from './rabbitmq-config.js'
import type { RabbitMQProvisioner } from './rabbitmq-provisioner.js'

/**
 * One AMQP connection that comes back by itself (the toolkit's `Reconnecting`): after a restart,
 * a network failure or a heartbeat timeout it reconnects with doubling delays, runs its listeners
 * (the provisioner forgets, consumers declare and consume again), and only then wakes the callers
 * waiting in `ready()`, so a publish resumes after the queues it feeds are back. Written here
 * rather than with a recovery option of the client so that every wait is bounded by its caller's signal.
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
  let next = 0 // with `nodes`: after a loss, the node after the one lost is tried first
  const connect = async (tried = 0): Promise<ChannelModel> => {
    const args = connectArguments({ ...settings, url: settings.urls[next++ % settings.urls.length]! })
    return amqp.connect(args.url, args.socketOptions).catch((error) => {
      if (tried + 1 >= settings.urls.length) throw error
      return connect(tried + 1)
    })
  }
  const link: Link = new Reconnecting({
    open: async () => {
      const model = await connect()
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
    unreachable: `cannot connect to ${settings.urls.join(' or ')}; is the broker running and are url/credentials/vhost right?`,
  })
  return link
}
