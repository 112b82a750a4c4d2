import type { PubSub, Topic } from '@google-cloud/pubsub'
import type { Envelope } from '@omnibus/core'
import { adapterError, type Channel } from '@omnibus/core/adapter'
import { type OutgoingMessage, toPubSubMessage } from './gcp-binding.js'
import type { ResolvedGcpConfig } from './gcp-config.js'
import { Status, statusOf } from './gcp-errors.js'
import type { GcpProvisioner } from './gcp-provisioner.js'

/**
 * Publishes through one client-side Topic per channel, whose batcher gathers concurrent
 * publishes into requests; a publish resolves once Pub/Sub returned every message id.
 */
export class GcpPublisher {
  private readonly topics = new Map<string, Topic>()

  constructor(
    private readonly pubsub: PubSub,
    private readonly provisioner: GcpProvisioner,
    private readonly options: ResolvedGcpConfig,
  ) {}

  /**
   * Hands all events to the batcher at once; ordering keys keep per-key order. A NOT_FOUND
   * (the topic vanished, as after an emulator restart) re-creates the channel with the
   * subscriptions this transport made and publishes the failed messages once more.
   */
  async publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    const { mode, ordering, provision } = this.options
    const messages = events.map((event) => toPubSubMessage(event, mode, ordering))
    const create = provision && !channel.mustExist
    if (create) await this.provisioner.ensureChannel(channel)
    let failed = await this.publishAll(channel, messages)
    if (failed.length === 0) return
    const notFound = failed.find(({ error }) => statusOf(error) === Status.NOT_FOUND)
    if (notFound) {
      if (!create) {
        throw this.provisioner.notFound(
          channel,
          `topic ${this.provisioner.topicName(channel)}`,
          notFound.error,
        )
      }
      try {
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
      const { batching, ordering, publishTimeoutMs } = this.options
      topic = this.pubsub.topic(name, {
        batching,
        messageOrdering: ordering,
        // While Pub/Sub is unreachable the client retries; this bounds the wait.
        gaxOpts: { timeout: publishTimeoutMs },
      })
      this.topics.set(name, topic)
    }
    return topic
  }

  private failed(channel: Channel, count: number, cause: unknown) {
    return adapterError(
      'gcp',
      'PUBLISH_FAILED',
      `${count} message(s) to channel "${channel.name}" were not confirmed by Pub/Sub; ` +
        'nothing was acknowledged for them: publish again once Pub/Sub is reachable',
      cause,
    )
  }
}
