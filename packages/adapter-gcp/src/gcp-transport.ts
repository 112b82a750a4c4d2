import { PubSub } from '@google-cloud/pubsub'
import { type Envelope, type Logger, silentLogger } from '@omnibus/core'
import {
  adapterLogger,
  type Capabilities,
  type Channel,
  type DeliveryHandler,
  type StartPosition,
  type SubscribeOptions,
  type Subscription,
  type Transport,
  type TransportAdapter,
  type TransportContext,
} from '@omnibus/core/adapter'
import { LIMITS } from './gcp-binding.js'
import {
  clientConfig,
  type GcpTransportOptions,
  parseGcpConfig,
  type ResolvedGcpConfig,
} from './gcp-config.js'
import { type ConsumerDeps, GcpConsumer } from './gcp-consumer.js'
import { gcpOptions } from './gcp-options.js'
import { GcpProvisioner, subscriptionNameFor, topicNameFor } from './gcp-provisioner.js'
import { GcpPublisher } from './gcp-publisher.js'

export const GCP = 'gcp'

/**
 * Google Cloud Pub/Sub: a channel is a topic, each event group a subscription on it; a queue channel
 * (commands, replies, dead letters) is a topic with one subscription, made at first publish.
 */
export class GcpTransport implements Transport {
  readonly name = GCP
  readonly capabilities: Capabilities
  private readonly options: ResolvedGcpConfig
  private readonly logger: Logger
  // Made by connect(), which core calls before anything else.
  private publisher!: GcpPublisher
  private deps!: ConsumerDeps

  constructor(
    private readonly raw: GcpTransportOptions = {},
    context?: Partial<TransportContext>,
  ) {
    this.logger = adapterLogger(context?.logger ?? silentLogger, GCP)
    const emulator = raw?.pubsub ? raw.pubsub.isEmulator : clientConfig(raw ?? {}).emulatorMode === true
    this.options = parseGcpConfig(raw, context?.key ?? GCP, emulator)
    const replay = this.options.retentionSeconds > 0
    const notes: Record<string, string> = {
      backlog:
        "Pub/Sub tells a subscription's backlog (num_undelivered_messages) only through Cloud Monitoring, which the emulator lacks and the client does not read; no backlog gauge",
    }
    if (emulator) notes.restart = 'the Pub/Sub emulator forgets everything on restart; see "Reconnection"'
    if (!replay) {
      notes.replay = emulator
        ? 'off against the emulator, which gives retained messages to every new subscription and cannot seek ordered ones (real Pub/Sub replays by default; retentionSeconds turns it on)'
        : 'topic retention is off (retentionSeconds: 0), so a new subscription cannot seek back'
    }
    if (!this.options.ordering) notes.ordering = 'ordering keys are off (ordering: false)'
    // Pub/Sub itself keeps everything; its emulator (what the tests run on) keeps nothing.
    const durableAcrossRestart = !emulator
    this.capabilities = {
      ordering: this.options.ordering,
      replay,
      maxMessageBytes: LIMITS.messageBytes,
      durableAcrossRestart,
      notes,
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

  /** Builds the client; it connects on first use (core calls connect() before anything else). */
  async connect(): Promise<void> {
    const pubsub = this.raw.pubsub ?? new PubSub(clientConfig(this.raw))
    const provisioner = new GcpProvisioner(pubsub, this.options, this.logger)
    this.publisher = new GcpPublisher(pubsub, provisioner, this.options)
    this.deps = { pubsub, provisioner, options: this.options, logger: this.logger }
  }

  async publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    await this.publisher.publish(channel, events)
  }

  async provision(channel: Channel, group: string, from?: StartPosition): Promise<void> {
    await this.deps.provisioner.ensureSubscription({ channel, group, temporary: false }, from)
  }

  async subscribe(
    channel: Channel,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    const consumer = new GcpConsumer(this.deps, channel, group, handler, options)
    await consumer.start()
    return consumer
  }

  async close(): Promise<void> {
    await this.publisher.close()
    if (!this.raw.pubsub) await this.deps.pubsub.close()
  }
}

/** A Pub/Sub transport; `context` names the config key and logger (defaults: `gcp`, silent). */
export const gcpTransport = (options: GcpTransportOptions = {}, context?: Partial<TransportContext>) =>
  new GcpTransport(options, context)

/** What configs load as `"adapter": "gcp"`. */
export const adapter: TransportAdapter<GcpTransportOptions> = {
  name: GCP,
  options: gcpOptions,
  create: (options, context) => new GcpTransport(options, context),
}
