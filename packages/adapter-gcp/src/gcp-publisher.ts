import type { PubSub, Topic } from '@google-cloud/pubsub'
import type { Envelope } from '@omnibus/core'
import { type Channel, channelNotFound, OmnibusError, resend, withDeadline } from '@omnibus/core/adapter'
import { type OutgoingMessage, toPubSubMessage } from './gcp-binding.js'
import type { ResolvedGcpConfig } from './gcp-config.js'
import { gcpError, Status, statusOf } from './gcp-errors.js'
import type { GcpProvisioner } from './gcp-provisioner.js'

// gRPC statuses after which a publish is tried again (NOT_FOUND: once the topic is checked).
const TRANSIENT = new Set([1, 2, 4, 5, 8, 10, 13, 14])

/**
 * Publishes through one client-side Topic per channel, whose batcher gathers concurrent
 * publishes into requests; a publish resolves once Pub/Sub returned every message id.
 */
export class GcpPublisher {
  private readonly topics = new Map<string, Topic>()
  // Topics that vanished or were unreachable: checked for their groups before the next confirm.
  private readonly unsure = new Set<string>()

  constructor(
    private readonly pubsub: PubSub,
    private readonly provisioner: GcpProvisioner,
    private readonly options: ResolvedGcpConfig,
  ) {}

  /** All events to the batcher at once (keys keep their order); PUBLISH_FAILED after publishTimeoutMs. */
  publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    const { mode, ordering, publishTimeoutMs } = this.options
    const messages = events.map((event) => toPubSubMessage(event, mode, ordering))
    const name = this.provisioner.topicName(channel)
    const used = this.topic(channel)
    return withDeadline(
      (signal) => this.send(channel, messages, signal),
      publishTimeoutMs,
      () => `[omnibus] [gcp] ${messages.length} message(s) to ${this.describe(channel)}`,
      () => {
        // Later publishes must not queue behind the stuck batch (an ordering key waits for it):
        // they get a fresh batcher, and the stuck one ends with its own timeout.
        if (this.topics.get(name) === used) this.topics.delete(name)
      },
    )
  }

  /**
   * Retries what failed until the deadline. A topic that vanished or was unreachable may be back
   * bare (another transport re-created it, not yet its subscription): before the next confirm, check().
   */
  private async send(channel: Channel, messages: OutgoingMessage[], signal: AbortSignal) {
    const create = this.options.provision && !channel.mustExist
    const name = this.provisioner.topicName(channel)
    const failures = await resend(messages, {
      send: async (pending) => {
        if (create && this.unsure.has(name)) await this.check(channel, name)
        if (create) await this.provisioner.ensureChannel(channel)
        return this.publishAll(channel, pending)
      },
      verdict: (error) => {
        // Of the check, the re-creation or the publish: tried again while it may pass.
        const status = statusOf(error instanceof OmnibusError ? error.cause : error)
        if (status === Status.NOT_FOUND && !create)
          return channelNotFound('gcp', this.describe(channel), channel.mustExist, error)
        if (!TRANSIENT.has(status ?? -1))
          return error instanceof OmnibusError ? error : this.failed(channel, messages.length, error)
        if (status === Status.NOT_FOUND) this.provisioner.forget(channel)
        this.unsure.add(name)
        return undefined
      },
      backoff: { minMs: 100, maxMs: 1_000 },
      signal,
    })
    const [first] = failures.values()
    if (first !== undefined) throw first
  }

  /**
   * A topic that vanished or was unreachable: every group this transport knows on it (subscribed or
   * declared) re-created if gone; knowing none, CHANNEL_NOT_FOUND until the topic has a subscription.
   */
  private async check(channel: Channel, name: string): Promise<void> {
    if (this.provisioner.knowsGroups(channel)) await this.provisioner.restore(channel)
    else if (!(await this.provisioner.hasSubscriptions(channel))) throw this.void(channel)
    this.unsure.delete(name)
  }

  /** Sends what the batchers still hold. */
  async close(): Promise<void> {
    await Promise.all([...this.topics.values()].map((topic) => topic.flush().catch(() => undefined)))
    this.topics.clear()
  }

  /** The messages Pub/Sub refused, by index. */
  private async publishAll(channel: Channel, messages: OutgoingMessage[]) {
    const topic = this.topic(channel)
    const results = await Promise.allSettled(messages.map((message) => topic.publishMessage(message)))
    const failed = new Map<number, unknown>()
    results.forEach((result, i) => {
      if (result.status === 'rejected') failed.set(i, result.reason)
    })
    // A failed ordered publish pauses its key in the client until resumed.
    for (const i of failed.keys()) {
      const key = messages[i]!.orderingKey
      if (key !== undefined) topic.resumePublishing(key)
    }
    return failed
  }

  private topic(channel: Channel): Topic {
    const name = this.provisioner.topicName(channel)
    let topic = this.topics.get(name)
    if (!topic) {
      const { batching, ordering, publishTimeoutMs: ms } = this.options
      // send() retries, checking the topic first: a retry inside the client could confirm into a bare topic.
      const gaxOpts = { timeout: ms, retry: { retryCodes: [] } }
      topic = this.pubsub.topic(name, { batching, messageOrdering: ordering, gaxOpts })
      this.topics.set(name, topic)
    }
    return topic
  }

  private void(channel: Channel, cause?: unknown) {
    const message =
      `${this.describe(channel)} vanished (Pub/Sub restarted, or it was deleted) and this transport knows ` +
      'no group on it, so nothing was published: re-creating the topic alone would confirm events no ' +
      "subscription receives. Publishing works again once a consumer re-created its group's subscription; " +
      'to have this transport re-create groups itself, declare them (provision)'
    return gcpError('CHANNEL_NOT_FOUND', message, cause)
  }

  private failed(channel: Channel, count: number, cause: unknown) {
    const message = `${count} message(s) to ${this.describe(channel)} were not confirmed by Pub/Sub; nothing was acknowledged for them: publish again once Pub/Sub is reachable`
    return gcpError('PUBLISH_FAILED', message, cause)
  }

  private describe(channel: Channel): string {
    return `channel "${channel.name}" (topic ${this.provisioner.topicName(channel)})`
  }
}
