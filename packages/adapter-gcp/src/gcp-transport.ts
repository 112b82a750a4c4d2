import { PubSub, type Topic } from '@google-cloud/pubsub'
import { type Envelope, OmnibusError, silentLogger } from '@omnibus/core'
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
import { LIMITS, type OutgoingMessage, toPubSubMessage } from './gcp-binding.js'
import {
  clientConfig,
  type GcpTransportOptions,
  type ResolvedGcpOptions,
  resolveOptions,
} from './gcp-config.js'
import { GcpConsumer } from './gcp-consumer.js'
import { errorMessage, Status, statusOf } from './gcp-errors.js'
import { gcpOptions } from './gcp-options.js'
import { GcpProvisioner, subscriptionNameFor, topicNameFor } from './gcp-provisioner.js'

export const GCP = 'gcp'

/**
 * Google Cloud Pub/Sub: a channel is a topic; each event group is a
 * subscription on it; a queue channel (commands, replies, dead letters) is a
 * topic with one subscription, made when first published to so messages wait.
 */
export class GcpTransport implements Transport {
  readonly name = GCP
  readonly capabilities: Capabilities
  private readonly options: ResolvedGcpOptions
  private readonly context: TransportContext
  private pubsub: PubSub | undefined
  private provisioner: GcpProvisioner | undefined
  private readonly publishers = new Map<string, Topic>()

  constructor(
    private readonly raw: GcpTransportOptions = {},
    context?: Partial<TransportContext>,
  ) {
    this.context = {
      key: context?.key ?? GCP,
      service: context?.service ?? '',
      logger: context?.logger ?? silentLogger,
    }
    const emulator = raw?.pubsub ? raw.pubsub.isEmulator : clientConfig(raw ?? {}).emulatorMode === true
    this.options = resolveOptions(raw, this.context.key, emulator)
    const replay = this.options.retentionSeconds > 0
    this.capabilities = {
      ordering: this.options.ordering,
      replay,
      maxMessageBytes: LIMITS.messageBytes,
      // Pub/Sub itself keeps everything; its emulator (what the tests run on) keeps nothing.
      durableAcrossRestart: !emulator,
      notes: {
        ...(emulator
          ? {
              restart:
                'the Pub/Sub emulator keeps no state across a restart; the transport re-creates what vanished',
            }
          : {}),
        ...(replay
          ? {}
          : {
              replay: emulator
                ? 'off against the emulator, which gives retained messages to every new subscription and cannot seek ordered ones (real Pub/Sub replays by default; retentionSeconds turns it on)'
                : 'topic retention is off (retentionSeconds: 0), so a new subscription cannot seek back',
            }),
        ...(this.options.ordering ? {} : { ordering: 'ordering keys are off (ordering: false)' }),
        backlog:
          "Pub/Sub tells a subscription's backlog (num_undelivered_messages) only through Cloud Monitoring, which the emulator lacks and the client does not read; no backlog gauge",
      },
    }
  }

  /** The Pub/Sub topic `channel` maps to, e.g. for granting access or for tools. */
  topicName(channel: Channel): string {
    return topicNameFor(this.options.namePrefix, channel)
  }

  /** The Pub/Sub subscription of `group` on `channel` (a queue channel has one, whatever the group). */
  subscriptionName(channel: Channel, group: string): string {
    return subscriptionNameFor(this.options.namePrefix, channel, group)
  }

  async connect(): Promise<void> {
    this.pubsub = this.raw.pubsub ?? new PubSub(clientConfig(this.raw))
    this.provisioner = new GcpProvisioner(this.pubsub, this.options, this.context.logger)
  }

  /** Hands all events to the client's batcher at once; ordering keys keep per-key order. */
  async publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    const messages = events.map((event) => toPubSubMessage(event, this.options.mode, this.options.ordering))
    await this.send(channel, messages)
  }

  async provision(channel: Channel, group: string, from?: StartPosition): Promise<void> {
    const provisioner = this.ready()
    if (!this.options.provision) {
      await provisioner.assertSubscription(channel, group)
      return
    }
    await provisioner.ensureSubscription({ channel, group, temporary: false }, from)
  }

  async subscribe(
    channel: Channel,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    const deps = {
      pubsub: this.client(),
      provisioner: this.ready(),
      options: this.options,
      logger: this.context.logger,
    }
    const consumer = new GcpConsumer(deps, channel, group, handler, options)
    await consumer.start()
    return consumer
  }

  async close(): Promise<void> {
    const flushes = [...this.publishers.values()].map((topic) => topic.flush().catch(() => undefined))
    await Promise.all(flushes)
    this.publishers.clear()
    if (this.pubsub && !this.raw.pubsub) await this.pubsub.close()
  }

  /**
   * Publishes and waits for every message id. A NOT_FOUND (the topic vanished,
   * as after an emulator restart) re-creates the channel with the subscriptions
   * this transport made and publishes the failed messages once more.
   */
  private async send(channel: Channel, messages: OutgoingMessage[]): Promise<void> {
    const provisioner = this.ready()
    const create = this.options.provision && !channel.mustExist
    if (create) await provisioner.ensureChannel(channel)
    let failed = await this.publishAll(channel, messages)
    if (failed.length === 0) return
    const notFound = failed.find(({ error }) => statusOf(error) === Status.NOT_FOUND)
    if (notFound) {
      if (!create) {
        throw provisioner.notFound(channel, `topic ${provisioner.topicName(channel)}`, notFound.error)
      }
      try {
        await provisioner.recreate(channel)
      } catch (error) {
        throw this.publishFailed(channel, failed.length, error)
      }
      failed = await this.publishAll(
        channel,
        failed.map(({ message }) => message),
      )
      if (failed.length === 0) return
    }
    throw this.publishFailed(channel, failed.length, failed[0]!.error)
  }

  private async publishAll(channel: Channel, messages: OutgoingMessage[]) {
    const topic = this.publisher(channel)
    const results = await Promise.allSettled(messages.map((message) => topic.publishMessage(message)))
    const failed: { message: OutgoingMessage; error: unknown }[] = []
    results.forEach((result, i) => {
      if (result.status === 'rejected') failed.push({ message: messages[i]!, error: result.reason })
    })
    // A failed ordered publish pauses its key in the client until resumed.
    for (const key of new Set(failed.map(({ message }) => message.orderingKey))) {
      if (key !== undefined) topic.resumePublishing(key)
    }
    return failed
  }

  private publisher(channel: Channel): Topic {
    const name = this.topicName(channel)
    let topic = this.publishers.get(name)
    if (!topic) {
      const { batching, ordering, publishTimeoutMs } = this.options
      topic = this.client().topic(name, {
        batching,
        messageOrdering: ordering,
        // While Pub/Sub is unreachable the client retries; this bounds the wait.
        gaxOpts: { timeout: publishTimeoutMs },
      })
      this.publishers.set(name, topic)
    }
    return topic
  }

  private publishFailed(channel: Channel, count: number, cause: unknown): OmnibusError {
    return new OmnibusError(
      'PUBLISH_FAILED',
      `[omnibus] [gcp] ${count} message(s) to channel "${channel.name}" were not confirmed by Pub/Sub: ` +
        `${errorMessage(cause)}. Nothing was acknowledged for them; publish again once Pub/Sub is reachable`,
      { cause },
    )
  }

  private client(): PubSub {
    if (!this.pubsub) throw new OmnibusError('TRANSPORT_UNAVAILABLE', '[omnibus] [gcp] used before connect()')
    return this.pubsub
  }

  private ready(): GcpProvisioner {
    if (!this.provisioner)
      throw new OmnibusError('TRANSPORT_UNAVAILABLE', '[omnibus] [gcp] used before connect()')
    return this.provisioner
  }
}

/** A Pub/Sub transport; `context` names the config key and logger (defaults: `gcp`, silent). */
export function gcpTransport(
  options: GcpTransportOptions = {},
  context?: Partial<TransportContext>,
): GcpTransport {
  return new GcpTransport(options, context)
}

/** What configs load as `"adapter": "gcp"`. */
export const adapter: TransportAdapter<GcpTransportOptions> = {
  name: GCP,
  options: gcpOptions,
  create: (options, context) => new GcpTransport(options, context),
}
