import { type Envelope, type Logger, silentLogger } from '@omnibus/core'
import {
  adapterError,
  adapterLogger,
  BatchFailure,
  type Capabilities,
  type Channel,
  channelNotFound,
  type DeliveryHandler,
  MessageTooLargeError,
  type StartPosition,
  type SubscribeOptions,
  type Subscription,
  type Transport,
  type TransportAdapter,
  type TransportContext,
  tlsPreflight,
  withDeadline,
  withSafeView,
} from '@omnibus/core/adapter'
import { type KafkaRecord, recordSize, toRecord } from './kafka-binding.js'
import { type KafkaConfig, type KafkaTransportOptions, parseKafkaConfig } from './kafka-config.js'
import { KafkaConsumer } from './kafka-consumer.js'
import type { KafkaDriver } from './kafka-driver.js'
import { kafkaOptions } from './kafka-options.js'
import { groupIdFor, KafkaProvisioner, topicName } from './kafka-provisioner.js'
import { KafkaPublisher } from './kafka-publisher.js'
import { kafkaAccessError } from './kafka-security.js'

export const KAFKA = 'kafka'

interface Connection {
  readonly driver: KafkaDriver
  readonly publisher: KafkaPublisher
  readonly provisioner: KafkaProvisioner
}

/**
 * The Kafka transport: topics, consumer groups, the CloudEvents Kafka binding. Core's wrapper
 * calls connect() once, closes every subscription before close(), and refuses calls after it.
 */
export class KafkaTransport implements Transport {
  readonly name = KAFKA
  readonly capabilities: Capabilities
  private readonly config: KafkaConfig
  private readonly logger
  private readonly context: TransportContext
  private connection: Connection | undefined

  constructor(options: KafkaTransportOptions, context: TransportContext) {
    this.config = parseKafkaConfig(options, context)
    this.context = context
    this.logger = adapterLogger(context.logger, KAFKA)
    this.capabilities = {
      ordering: true,
      replay: true,
      maxMessageBytes: this.config.maxMessageBytes,
      durableAcrossRestart: true,
    }
    // What JSON.stringify and console.log show: the settings without secrets.
    withSafeView(this, () => ({ transport: this.name, settings: this.config }))
  }

  async connect(): Promise<void> {
    const c = this.config
    const driver = await loadDriver(c, this.context.logger)
    const publisher = new KafkaPublisher(driver, c.maxMessageBytes, c.publishTimeoutMs, this.logger)
    try {
      // One TLS handshake first: kafkajs retries a certificate failure for its whole retry budget.
      const tls =
        c.ssl && c.brokers.length > 0 ? await tlsPreflight(c.brokers, c.ssl === true ? {} : c.ssl) : undefined
      if (tls) throw tls
      await driver.connect()
    } catch (error) {
      await Promise.allSettled([publisher.close(), driver.close()])
      throw (
        (await this.denied(driver, error)) ??
        adapterError(
          KAFKA,
          'TRANSPORT_UNAVAILABLE',
          `could not connect to ${c.brokers.join(', ') || 'the given Kafka client'}; is Kafka running there, and are brokers/ssl/sasl right?`,
          error,
        )
      )
    }
    this.connection = { driver, publisher, provisioner: new KafkaProvisioner(driver, c, this.logger) }
  }

  /** Resolves once Kafka confirmed every event (acks=all), within publishTimeoutMs. */
  publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    const topic = topicName(channel.name)
    return withDeadline(
      this.send(channel, topic, events),
      this.config.publishTimeoutMs,
      () => `[omnibus] [kafka] ${events.length} event(s) to topic "${topic}"`,
    )
  }

  private async send(channel: Channel, topic: string, events: readonly Envelope[]): Promise<void> {
    const { provisioner, publisher } = this.connection!
    const { mode, maxMessageBytes } = this.config
    const records: KafkaRecord[] = new Array(events.length)
    for (let i = 0; i < events.length; i++) {
      const record = toRecord(events[i]!, mode)
      // Core checked the structured size; binary headers must fit the topic's limit too.
      const size = recordSize(record)
      if (size > maxMessageBytes) throw new MessageTooLargeError(KAFKA, maxMessageBytes, size, events[i]!.id)
      records[i] = record
    }
    try {
      if (!channel.mustExist) await provisioner.ensureTopic(topic)
      else if (!(await provisioner.exists(topic))) throw this.notFound(channel, topic)
      await publisher.publish(topic, records)
    } catch (failure) {
      const error = failure instanceof BatchFailure ? failure.cause : failure
      const denied = await this.denied(undefined, error, channel.name)
      if (denied) throw denied
      // Not the send's (provisioning, the look-up): that error says what happened already.
      if (failure === error) throw error
      // Deleted between the look-up and the send (the producer never creates topics).
      if (channel.mustExist && !(await provisioner.exists(topic).catch(() => true)))
        throw this.notFound(channel, topic)
      throw adapterError(
        KAFKA,
        'PUBLISH_FAILED',
        `Kafka did not confirm ${records.length} event(s) to topic "${topic}". They may or may not have ` +
          'been written; publish again (handlers are idempotent under at-least-once)',
        error,
      )
    }
  }

  /** The AUTH_FAILED/FORBIDDEN `error` amounts to (with the reason the client dropped, for `groupId`), else undefined. */
  private async denied(driver: KafkaDriver | undefined, error: unknown, channel?: string, groupId?: string) {
    const reason = groupId && driver?.reason ? await driver.reason(error, groupId) : error
    return kafkaAccessError(reason, channel, this.config.sasl)
  }

  private notFound(channel: Channel, topic: string) {
    return channelNotFound(KAFKA, `topic "${topic}" of channel "${channel.name}"`, true)
  }

  /** Creates the topic, and commits a new topic group's start so what is published from now on waits for it. */
  async provision(channel: Channel, group: string, from?: StartPosition): Promise<void> {
    const { provisioner, driver } = this.connection!
    const { topic, groupId } = this.names(channel, group)
    try {
      await provisioner.ensureTopic(topic)
      // A queue's one group starts at the beginning when it has no position: it needs nothing more.
      if (channel.kind === 'topic') await provisioner.ensureGroupStart(topic, groupId, from ?? 'latest')
    } catch (error) {
      throw (await this.denied(driver, error, channel.name, groupId)) ?? error
    }
  }

  async subscribe(
    channel: Channel,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    const { driver, provisioner } = this.connection!
    const { topic, groupId } = this.names(channel, group)
    const fromBeginning = channel.kind === 'queue' || options.from === 'earliest'
    const spec = { topic, groupId, handler, maxInFlight: options.maxInFlight, fromBeginning }
    const consumer = new KafkaConsumer(driver, spec, this.logger)
    await this.provision(channel, group, options.from)
    try {
      await consumer.start()
    } catch (error) {
      throw (await this.denied(driver, (error as Error).cause ?? error, channel.name, groupId)) ?? error
    }
    return {
      close: async () => {
        await consumer.close()
        // Query replies come back on a topic per bus instance: Kafka has no per-consumer queue, and a
        // shared reply topic would make every instance read every reply. Removed when it closes.
        if (options.temporary) await provisioner.remove(topic, groupId)
      },
    }
  }

  /** Messages the group has not committed past (high watermark minus committed offset). */
  backlog(channel: Channel, group: string): Promise<number> {
    const { topic, groupId } = this.names(channel, group)
    return this.connection!.provisioner.backlog(topic, groupId)
  }

  private names(channel: Channel, group: string) {
    const topic = topicName(channel.name)
    return { topic, groupId: groupIdFor(this.config.groupPrefix, channel, group, topic) }
  }

  async close(): Promise<void> {
    const connection = this.connection
    if (connection) await Promise.allSettled([connection.publisher.close(), connection.driver.close()])
  }
}

/** The configured driver, imported only when chosen: each client library is an optional peer dependency. */
async function loadDriver(config: KafkaConfig, logger: Logger): Promise<KafkaDriver> {
  const pkg = config.driver === 'platformatic' ? '@platformatic/kafka' : 'kafkajs'
  try {
    if (config.driver === 'platformatic')
      return (await import('./platformatic-driver.js')).platformaticDriver(config, logger)
    return (await import('./kafkajs-driver.js')).kafkajsDriver(config, logger)
  } catch (error) {
    throw adapterError(
      KAFKA,
      'TRANSPORT_UNAVAILABLE',
      `driver "${config.driver}" needs ${pkg}: npm install ${pkg}`,
      error,
    )
  }
}

/** A Kafka transport from options (`createBus` builds it from config through `adapter`). */
export function kafkaTransport(
  options: KafkaTransportOptions,
  context: Partial<TransportContext> = {},
): KafkaTransport {
  return new KafkaTransport(options, {
    key: context.key ?? KAFKA,
    service: context.service ?? 'omnibus',
    logger: context.logger ?? silentLogger,
  })
}

export const adapter: TransportAdapter<KafkaTransportOptions> = {
  name: KAFKA,
  options: kafkaOptions,
  create: (options, context) => new KafkaTransport(options, context),
}
