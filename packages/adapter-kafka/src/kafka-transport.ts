import { inspect } from 'node:util'
import { type Envelope, type Logger, MessageTooLargeError, OmnibusError, silentLogger } from '@omnibus/core'
import type {
  Capabilities,
  Channel,
  DeliveryHandler,
  StartPosition,
  SubscribeOptions,
  Subscription,
  Transport,
  TransportAdapter,
  TransportContext,
} from '@omnibus/core/adapter'
import { type Admin, Kafka, type logCreator, logLevel, type SASLOptions } from 'kafkajs'
import { kafkaBacklog } from './kafka-backlog.js'
import { type KafkaRecord, recordSize, toRecord } from './kafka-binding.js'
import {
  type KafkaLogLevel,
  type KafkaSettings,
  type KafkaTransportOptions,
  kafkaSettings,
} from './kafka-config.js'
import { KafkaSubscriber } from './kafka-consumer.js'
import { errorMessageOf } from './kafka-errors.js'
import { kafkaOptions } from './kafka-options.js'
import { groupIdFor, KafkaProvisioner, topicName } from './kafka-provisioner.js'
import { Publisher, stablePartitioner } from './kafka-publisher.js'
import { coordinatorError, coordinatorNotFound, kafkaAccessError, tlsPreflight } from './kafka-security.js'

export const KAFKA = 'kafka'

const LEVELS: Record<KafkaLogLevel, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
}

/** kafkajs' own log lines, into the Omnibus logger instead of the console. */
function kafkaLogs(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = log
      const text = `kafkajs ${namespace ? `${namespace}: ` : ''}${message}`
      // Retries are bounded on purpose (a publish must reject rather than wait forever).
      if (/Limiting retries for the idempotent producer/.test(String(message))) logger.debug(text, fields)
      else if (level === logLevel.ERROR) logger.error(text, fields)
      else if (level === logLevel.WARN) logger.warn(text, fields)
      else if (level === logLevel.INFO) logger.info(text, fields)
      else logger.debug(text, fields)
    }
}

interface Connection {
  readonly kafka: Kafka
  readonly admin: Admin
  readonly publisher: Publisher
  readonly provisioner: KafkaProvisioner
}

/** The Kafka transport: topics, consumer groups, the CloudEvents Kafka binding. */
export class KafkaTransport implements Transport {
  readonly name = KAFKA
  readonly capabilities: Capabilities
  private readonly settings: KafkaSettings
  private readonly logger: Logger
  private connection: Connection | undefined

  constructor(options: KafkaTransportOptions, context: TransportContext) {
    this.settings = kafkaSettings(options, context.key, context.service, context.logger)
    this.logger = context.logger
    this.capabilities = {
      ordering: true,
      replay: true,
      maxMessageBytes: this.settings.maxMessageBytes,
      durableAcrossRestart: true,
    }
  }

  async connect(): Promise<void> {
    const s = this.settings
    const kafka =
      s.kafka ??
      new Kafka({
        brokers: s.brokers,
        clientId: s.clientId,
        ...(s.ssl !== undefined ? { ssl: s.ssl } : {}),
        ...(s.sasl ? { sasl: s.sasl as SASLOptions } : {}),
        retry: s.retry,
        logLevel: LEVELS[s.logLevel],
        logCreator: kafkaLogs(this.logger),
      })
    const makeProducer = () =>
      kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        retry: s.retry,
        createPartitioner: stablePartitioner,
      })
    const publisher = new Publisher(makeProducer, s.maxMessageBytes, this.logger)
    const admin = kafka.admin({ retry: s.retry })
    try {
      if (!s.kafka) await tlsPreflight(s.brokers, s.ssl)
      await Promise.all([publisher.connected(), admin.connect()])
    } catch (error) {
      await Promise.allSettled([publisher.close(), admin.disconnect()])
      throw (
        this.denied(error) ??
        new OmnibusError(
          'TRANSPORT_UNAVAILABLE',
          `[omnibus] [kafka] could not connect to ${s.brokers.join(', ') || 'the given Kafka client'}: ` +
            `${errorMessageOf(error)}; is Kafka running there, and are brokers/ssl/sasl right?`,
          { cause: error },
        )
      )
    }
    this.connection = {
      kafka,
      admin,
      publisher,
      provisioner: new KafkaProvisioner(kafka, admin, s, this.logger),
    }
  }

  async publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    const { provisioner, publisher } = this.open()
    const topic = topicName(channel.name)
    const records: KafkaRecord[] = new Array(events.length)
    const sizes: number[] = new Array(events.length)
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!
      const record = toRecord(event, this.settings.mode)
      // Core checked the structured size; binary headers must fit the topic's limit too.
      const size = recordSize(record)
      if (size > this.settings.maxMessageBytes) {
        throw new MessageTooLargeError(KAFKA, this.settings.maxMessageBytes, size, event.id)
      }
      records[i] = record
      sizes[i] = size
    }
    try {
      if (!channel.mustExist) await provisioner.ensureTopic(topic)
      else if (!(await provisioner.exists(topic))) throw this.notFound(channel, topic)
    } catch (error) {
      throw this.denied(error, channel) ?? error
    }
    try {
      await publisher.send(topic, records, sizes)
    } catch (error) {
      const denied = this.denied(error, channel)
      if (denied) throw denied
      // Deleted between the look-up and the send (the producer never creates topics).
      if (channel.mustExist && !(await provisioner.exists(topic).catch(() => true)))
        throw this.notFound(channel, topic)
      throw new OmnibusError(
        'PUBLISH_FAILED',
        `[omnibus] [kafka] Kafka did not confirm ${records.length} event(s) to topic "${topic}": ` +
          `${errorMessageOf(error)}. They may or may not have been written; publish again ` +
          '(handlers are idempotent under at-least-once)',
        { cause: error },
      )
    }
  }

  private notFound(channel: Channel, topic: string): OmnibusError {
    return new OmnibusError(
      'CHANNEL_NOT_FOUND',
      `[omnibus] [kafka] topic "${topic}" of channel "${channel.name}" does not exist, and this channel is never created by a publish`,
    )
  }

  /** An AUTH_FAILED/FORBIDDEN error when the broker refused us; undefined for anything else. */
  private denied(error: unknown, channel?: Channel): Error | undefined {
    const username =
      this.settings.sasl && 'username' in this.settings.sasl ? this.settings.sasl.username : undefined
    return kafkaAccessError(error, channel?.name, username)
  }

  /** What JSON.stringify and console.log show: the settings without secrets. */
  toJSON(): unknown {
    return { transport: this.name, settings: this.settings }
  }

  [inspect.custom](): unknown {
    return this.toJSON()
  }

  async provision(channel: Channel, group: string, from?: StartPosition): Promise<void> {
    const { provisioner } = this.open()
    const topic = topicName(channel.name)
    await provisioner.ensureTopic(topic)
    // A queue's one group starts at the beginning when it has no position, so it
    // needs nothing more; a topic's group gets its start committed now.
    if (channel.kind === 'topic') {
      const groupId = groupIdFor(this.settings.groupPrefix, channel, group, topic)
      await provisioner.ensureGroupStart(topic, groupId, from ?? 'latest')
    }
  }

  async subscribe(
    channel: Channel,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    const { kafka, provisioner } = this.open()
    const topic = topicName(channel.name)
    const groupId = groupIdFor(this.settings.groupPrefix, channel, group, topic)
    const subscriber = new KafkaSubscriber({
      kafka,
      topic,
      groupId,
      handler,
      maxInFlight: options.maxInFlight,
      fromBeginning: channel.kind === 'queue' || options.from === 'earliest',
      settings: this.settings,
      logger: this.logger,
    })
    try {
      await this.provision(channel, group, options.from)
      await subscriber.start()
    } catch (error) {
      const reason = coordinatorNotFound(error) ? await coordinatorError(kafka, groupId) : undefined
      throw this.denied(reason ?? error, channel) ?? error
    }
    return {
      close: async () => {
        await subscriber.close()
        // Query replies come back on a topic per bus instance (core names the reply
        // channel per instance). Kafka has no per-consumer queue: a shared reply
        // topic would make every instance read every reply (its own group each) or
        // tie instances to partitions that move on every rebalance. A topic per
        // instance is read by that instance only; the cost is one topic created
        // at the first query and deleted here.
        if (options.temporary) await provisioner.remove(topic, groupId)
      },
    }
  }

  /** Messages the group has not committed past (high watermark minus committed offset). */
  backlog(channel: Channel, group: string): Promise<number> {
    const topic = topicName(channel.name)
    return kafkaBacklog(
      this.open().admin,
      topic,
      groupIdFor(this.settings.groupPrefix, channel, group, topic),
    )
  }

  async close(): Promise<void> {
    // Core closed every subscription before this (see Transport.close).
    const connection = this.connection
    if (!connection) return
    await Promise.allSettled([
      connection.publisher.close(),
      connection.admin.disconnect(),
      connection.provisioner.close(),
    ])
  }

  private open(): Connection {
    if (!this.connection) {
      throw new OmnibusError('TRANSPORT_UNAVAILABLE', '[omnibus] [kafka] not connected: call connect() first')
    }
    return this.connection
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
