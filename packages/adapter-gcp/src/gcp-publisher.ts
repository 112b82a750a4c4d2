import type { PubSub, Topic } from '@google-cloud/pubsub'
import type { Envelope } from '@omnibus/core'
import { type Channel, withDeadline } from '@omnibus/core/adapter'
import { type OutgoingMessage, toPubSubMessage } from './gcp-binding.js'
import type { ResolvedGcpConfig } from './gcp-config.js'
import { gcpError, Status, statusOf } from './gcp-errors.js'
import type { GcpProvisioner } from './gcp-provisioner.js'

/**
 * Publishes through one client-side Topic per channel, whose batcher gathers concurrent
 * publishes into requests; a publish resolves once Pub/Sub returned every message id.
 */
export class GcpPublisher {
  private readonly topics = new Map<string, Topic>()
  // Topics that vanished while no group on them was known here: not re-created by publishing.
  private readonly vanished = new Set<string>()

  constructor(
    private readonly pubsub: PubSub,
    private readonly provisioner: GcpProvisioner,
    private readonly options: ResolvedGcpConfig,
  ) {}

  /**
   * All events to the batcher at once (ordering keys keep per-key order); PUBLISH_FAILED once
   * publishTimeoutMs passed without every confirm. A vanished topic (NOT_FOUND) is never published
   * into bare: see send().
   */
  publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    const { mode, ordering, publishTimeoutMs } = this.options
    const messages = events.map((event) => toPubSubMessage(event, mode, ordering))
    const name = this.provisioner.topicName(channel)
    const used = this.topic(channel)
    const attempt = { expired: false }
    return withDeadline(
      this.send(channel, messages, attempt),
      publishTimeoutMs,
      () => `[omnibus] [gcp] ${messages.length} message(s) to ${this.describe(channel)}`,
      () => {
        attempt.expired = true
        // Later publishes must not queue behind the stuck batch (an ordering key waits for it):
        // they get a fresh batcher, and the stuck one ends with its own timeout.
        if (this.topics.get(name) === used) this.topics.delete(name)
      },
    )
  }

  /**
   * When the topic vanished (a restart, a deletion), re-creates it with the subscriptions of every
   * group this transport knows on it (subscribed or declared) and publishes the failed messages
   * again; knowing none, rejects with CHANNEL_NOT_FOUND until the topic is back with a subscription.
   */
  private async send(channel: Channel, messages: OutgoingMessage[], attempt: { expired: boolean }) {
    const create = this.options.provision && !channel.mustExist
    const name = this.provisioner.topicName(channel)
    if (create && this.vanished.has(name)) {
      if (!(await this.provisioner.hasSubscriptions(channel))) throw this.void(channel)
      this.vanished.delete(name)
    }
    if (create) await this.provisioner.ensureChannel(channel)
    let failed = await this.publishAll(channel, messages)
    if (failed.length === 0) return
    const notFound = failed.find(({ error }) => statusOf(error) === Status.NOT_FOUND)?.error
    if (notFound !== undefined) {
      if (!create) throw this.missing(channel, notFound)
      if (!this.provisioner.knowsGroups(channel)) {
        // Re-creating the topic alone would confirm events that no subscription receives.
        this.provisioner.forget(channel)
        this.vanished.add(name)
        throw this.void(channel, notFound)
      }
      try {
        if (attempt.expired) throw notFound // the caller has been answered
        await this.provisioner.recreate(channel)
      } catch (error) {
        throw this.failed(channel, failed.length, error)
      }
      failed = await this.publishAll(
        channel,
        failed.map(({ message }) => message),
      )
      if (failed.length === 0) return
    }
    throw this.failed(channel, failed.length, failed[0]!.error)
  }

  /** Sends what the batchers still hold. */
  async close(): Promise<void> {
    await Promise.all([...this.topics.values()].map((topic) => topic.flush().catch(() => undefined)))
    this.topics.clear()
  }

  private async publishAll(channel: Channel, messages: OutgoingMessage[]) {
    const topic = this.topic(channel)
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

  private topic(channel: Channel): Topic {
    const name = this.provisioner.topicName(channel)
    let topic = this.topics.get(name)
    if (!topic) {
      const { batching, ordering, publishTimeoutMs: ms } = this.options
      // While Pub/Sub is unreachable the client retries, at least every second, for as long as
      // the caller waits (its own default is up to 60 s apart and 600 s in all).
      const backoffSettings = {
        initialRetryDelayMillis: 100,
        retryDelayMultiplier: 2,
        maxRetryDelayMillis: 1_000,
        initialRpcTimeoutMillis: ms,
        rpcTimeoutMultiplier: 1,
        maxRpcTimeoutMillis: ms,
        totalTimeoutMillis: ms,
      }
      const gaxOpts = { retry: { backoffSettings } }
      topic = this.pubsub.topic(name, { batching, messageOrdering: ordering, gaxOpts })
      this.topics.set(name, topic)
    }
    return topic
  }

  private missing(channel: Channel, cause: unknown) {
    const why = channel.mustExist
      ? 'it is never created by publishing (a reply whose asker has gone)'
      : 'provisioning is off (provision: false); create it, or turn provisioning on'
    return gcpError('CHANNEL_NOT_FOUND', `${this.describe(channel)} does not exist; ${why}`, cause)
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
