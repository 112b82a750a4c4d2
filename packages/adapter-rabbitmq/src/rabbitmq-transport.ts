import { type Envelope, silentLogger } from '@omnibus/core'
import {
  adapterLogger,
  type Capabilities,
  type Channel,
  type DeliveryHandler,
  type SubscribeOptions,
  type Transport,
  type TransportAdapter,
  type TransportContext,
  withSafeView,
} from '@omnibus/core/adapter'
import { rabbitmqBacklog } from './rabbitmq-backlog.js'
import {
  parseRabbitMQConfig,
  type RabbitMQSettings,
  type RabbitMQTransportOptions,
} from './rabbitmq-config.js'
import { rabbitmqLink, type Shared } from './rabbitmq-connection.js'
import { RabbitMQConsumer } from './rabbitmq-consumer.js'
import { rabbitmqOptions } from './rabbitmq-options.js'
import { groupQueueName, RabbitMQProvisioner } from './rabbitmq-provisioner.js'
import { RabbitMQPublisher } from './rabbitmq-publisher.js'
import { rabbitAccessError } from './rabbitmq-security.js'

export const RABBITMQ = 'rabbitmq'

const NO_ORDERING =
  'members of a group share one queue round robin, so two events with the same key can be handled at once ' +
  'by two members; set singleActiveConsumer: true for per-key order (one active member per group)'

/** Omnibus over RabbitMQ (AMQP 0-9-1): topic exchanges for events, durable queues for groups and commands. */
export class RabbitMQTransport implements Transport {
  readonly name = RABBITMQ
  readonly capabilities: Capabilities
  readonly settings: RabbitMQSettings
  private readonly shared: Shared
  private readonly publisher: RabbitMQPublisher

  constructor(options: RabbitMQTransportOptions = {}, context?: Partial<TransportContext>) {
    const given = options.logger ?? context?.logger ?? silentLogger
    const settings = parseRabbitMQConfig(options, context?.key ?? 'transports.rabbitmq', given)
    const logger = adapterLogger(given, RABBITMQ)
    const link = rabbitmqLink(settings, logger)
    const provisioner = new RabbitMQProvisioner(settings)
    // Listening before any consumer: after a reconnection, declarations are forgotten before they declare.
    link.onRecovered(() => provisioner.declared.clear())
    this.settings = settings
    this.shared = { link, provisioner, settings, logger }
    this.publisher = new RabbitMQPublisher(this.shared)
    // What JSON.stringify and console.log show: the settings without secrets.
    withSafeView(this, () => ({ transport: this.name, settings }))
    this.capabilities = {
      ordering: this.settings.singleActiveConsumer,
      replay: false,
      maxMessageBytes: this.settings.maxMessageBytes,
      durableAcrossRestart: true,
      notes: {
        replay: 'RabbitMQ queues cannot rewind: a new group gets what is published after its queue exists',
        ...(this.settings.singleActiveConsumer ? {} : { ordering: NO_ORDERING }),
      },
    }
  }

  async connect(): Promise<void> {
    await this.guard(this.shared.link.start())
  }

  publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    return this.guard(this.publisher.publish(channel, events), channel)
  }

  async provision(channel: Channel, group: string): Promise<void> {
    const model = await this.connection(`provisioning group "${group}" of channel "${channel.name}"`)
    await this.guard(this.shared.provisioner.forConsume(model, channel, group), channel)
  }

  async subscribe(channel: Channel, group: string, handler: DeliveryHandler, options: SubscribeOptions) {
    await this.connection(`subscribing group "${group}" to channel "${channel.name}"`)
    const consumer = new RabbitMQConsumer(this.shared, channel, group, handler, options)
    await this.guard(consumer.start(), channel)
    return consumer
  }

  /** The messages of the group's queue not yet acknowledged (see rabbitmqBacklog). */
  async backlog(channel: Channel, group: string): Promise<number> {
    const queue = channel.kind === 'queue' ? channel.name : groupQueueName(channel.name, group)
    const model = await this.connection(`reading the backlog of queue "${queue}"`)
    return rabbitmqBacklog(this.shared, model, queue)
  }

  /**
   * Closing the connection closes the publisher's and every consumer's channel. Core closed every
   * subscription first; one a direct caller left open dies with it (the broker requeues its unacked).
   */
  async close(): Promise<void> {
    await this.shared.link
      .stop()
      ?.close()
      .catch(() => undefined)
  }

  /** The connection, waiting for a lost one no longer than publishTimeoutMs (then failing, saying `doing`). */
  private connection(doing: string) {
    return this.shared.link.ready(AbortSignal.timeout(this.settings.publishTimeoutMs), doing)
  }

  /** Rejections that mean "refused" become AUTH_FAILED/FORBIDDEN errors naming the channel. */
  private guard<T>(work: Promise<T>, channel?: Channel): Promise<T> {
    return work.catch((error: unknown) => {
      throw rabbitAccessError(error, this.settings, channel?.name) ?? error
    })
  }
}

/** A RabbitMQ transport, e.g. `rabbitmqTransport({ url: 'amqp://localhost' })`. */
export function rabbitmqTransport(
  options: RabbitMQTransportOptions = {},
  context?: Partial<TransportContext>,
): RabbitMQTransport {
  return new RabbitMQTransport(options, context)
}

/** What configs name as `"adapter": "rabbitmq"`. */
export const adapter: TransportAdapter<RabbitMQTransportOptions> = {
  name: RABBITMQ,
  options: rabbitmqOptions,
  create: (options, context) => new RabbitMQTransport(options, context),
}
