import { inspect } from 'node:util'
import { type Envelope, silentLogger } from '@omnibus/core'
import {
  adapterLogger,
  type Capabilities,
  type Channel,
  type DeliveryHandler,
  type SubscribeOptions,
  type Subscription,
  type Transport,
  type TransportAdapter,
  type TransportContext,
} from '@omnibus/core/adapter'
import { rabbitmqBacklog } from './rabbitmq-backlog.js'
import {
  parseRabbitMQConfig,
  type RabbitMQSettings,
  type RabbitMQTransportOptions,
} from './rabbitmq-config.js'
import { Link } from './rabbitmq-connection.js'
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
  private readonly link: Link
  private readonly provisioner: RabbitMQProvisioner
  private readonly publisher: RabbitMQPublisher
  private readonly logger

  constructor(options: RabbitMQTransportOptions = {}, context?: Partial<TransportContext>) {
    const logger = options.logger ?? context?.logger ?? silentLogger
    this.settings = parseRabbitMQConfig(options, context?.key ?? 'transports.rabbitmq', logger)
    this.logger = adapterLogger(logger, RABBITMQ)
    this.link = new Link(this.settings, this.logger)
    this.provisioner = new RabbitMQProvisioner(this.link, this.settings)
    this.publisher = new RabbitMQPublisher(this.link, this.provisioner, this.settings, this.logger)
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

  connect(): Promise<void> {
    return this.guard(this.link.connect())
  }

  publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    return this.guard(this.publisher.publish(channel, events), channel)
  }

  async provision(channel: Channel, group: string): Promise<void> {
    const model = await this.link.ready(AbortSignal.timeout(this.settings.publishTimeoutMs))
    await this.guard(this.provisioner.forConsume(model, channel, group), channel)
  }

  async subscribe(
    channel: Channel,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    const { link, provisioner, settings, logger } = this
    const consumer = new RabbitMQConsumer(
      link,
      provisioner,
      settings,
      logger,
      channel,
      group,
      handler,
      options,
    )
    await this.guard(consumer.start(), channel)
    return consumer
  }

  /** The messages of the group's queue not yet acknowledged (see rabbitmqBacklog). */
  async backlog(channel: Channel, group: string): Promise<number> {
    const model = await this.link.ready(AbortSignal.timeout(this.settings.publishTimeoutMs))
    const queue = channel.kind === 'queue' ? channel.name : groupQueueName(channel.name, group)
    return rabbitmqBacklog(model, this.settings.url, queue)
  }

  /** Core closed every subscription first; one a direct caller left open dies with the connection. */
  async close(): Promise<void> {
    await this.publisher.close()
    await this.link.close()
  }

  /** Rejections that mean "refused" become AUTH_FAILED/FORBIDDEN errors naming the channel. */
  private async guard<T>(work: Promise<T>, channel?: Channel): Promise<T> {
    try {
      return await work
    } catch (error) {
      throw rabbitAccessError(error, this.settings, channel?.name) ?? error
    }
  }

  /** What JSON.stringify and console.log show: the settings without secrets. */
  toJSON(): unknown {
    return { transport: this.name, settings: this.settings }
  }

  [inspect.custom](): unknown {
    return this.toJSON()
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
