import { type Message, PubSub, type Subscription, type Topic } from '@google-cloud/pubsub'
import { GcpTransport } from '@omnibus/adapter-gcp'
import type { Envelope } from '@omnibus/core'
import type { Channel, DeliveryHandler, SubscribeOptions } from '@omnibus/core/adapter'
import { type BenchTarget, binaryHeaders, dataBytes, type RawClient } from '../target.js'

/**
 * The emulator keeps every message published to a topic (it replays them to new subscriptions) until
 * the topic is deleted: 80,000 messages a round, which filled its 512 MB heap by round 5. Both sides
 * delete what they made when they close, after the measurements.
 */
async function removeAll(pubsub: PubSub, topics: Iterable<string>, subscriptions: Iterable<string>) {
  await Promise.allSettled([...subscriptions].map((s) => pubsub.subscription(s).delete()))
  await Promise.allSettled([...topics].map((t) => pubsub.topic(t).delete()))
}

/** The adapter's transport, removing its topics and subscriptions on close (see removeAll). */
class CleaningGcpTransport extends GcpTransport {
  private readonly madeTopics = new Set<string>()
  private readonly madeSubscriptions = new Set<string>()

  override publish(channel: Channel, events: readonly Envelope[]) {
    this.madeTopics.add(this.topicName(channel))
    return super.publish(channel, events)
  }

  override subscribe(channel: Channel, group: string, handler: DeliveryHandler, options: SubscribeOptions) {
    this.madeTopics.add(this.topicName(channel))
    this.madeSubscriptions.add(this.subscriptionName(channel, group))
    return super.subscribe(channel, group, handler, options)
  }

  override async close() {
    await super.close()
    const pubsub = client()
    await removeAll(pubsub, this.madeTopics, this.madeSubscriptions)
    await pubsub.close()
  }
}

function client() {
  const [host, port] = emulatorHost.split(':')
  return new PubSub({ projectId, apiEndpoint: `${host}:${port}`, emulatorMode: true })
}

const emulatorHost = process.env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085'
const projectId = 'omnibus-bench'
const name = (s: string) => `b-${s.replace(/[^A-Za-z0-9._~+%-]/g, '-')}`.slice(0, 255)

/** The adapter's settings (gcp-config.ts and gcp-consumer.ts defaults), so both sides batch, pull and ack alike. */
const BATCHING = { maxMessages: 500, maxMilliseconds: 5, maxBytes: 9 * 1024 * 1024 }
const PUBLISH_TIMEOUT_MS = 30_000
const IN_FLIGHT = 64

/**
 * @google-cloud/pubsub done well, with the adapter's settings and guarantees: one Topic (one batcher)
 * per channel, batches of up to 500 messages or 5 ms, message ordering on, every publish of a call
 * awaited together; an ordered subscription, one streaming pull, flow control 64 without excess
 * messages, acks sent every 10 ms, ack after handling.
 */
function raw(): RawClient {
  const pubsub = client()
  const topics = new Map<string, Topic>()
  const subscriptions: Subscription[] = []
  const topicOf = (channel: string) => {
    let topic = topics.get(channel)
    if (!topic) {
      topic = pubsub.topic(name(channel), {
        batching: BATCHING,
        messageOrdering: true,
        gaxOpts: { timeout: PUBLISH_TIMEOUT_MS },
      })
      topics.set(channel, topic)
    }
    return topic
  }
  return {
    async connect() {},
    // The group's subscription is made by consume(), as the adapter makes it on subscribe: a channel
    // that is only published to has no subscription on either side (one would keep every message,
    // 20,000 a round, in the emulator's heap).
    async prepare(channel) {
      await pubsub.createTopic(name(channel)).catch(() => undefined)
      topicOf(channel)
    },
    async publish(channel, messages) {
      const topic = topicOf(channel)
      // Binary mode, the adapter's default: `ce-` attributes and the data as the message body.
      await Promise.all(
        messages.map((m) =>
          topic.publishMessage({ data: dataBytes(m), attributes: binaryHeaders(m, 'ce-') }),
        ),
      )
    },
    async consume(channel, group, onMessage) {
      const subName = name(`${channel}-${group}`)
      // Ordered, as the adapter makes it by default (ordering: true): per-key order is one of its guarantees.
      await pubsub
        .topic(name(channel))
        .createSubscription(subName, { enableMessageOrdering: true })
        .catch(() => undefined)
      const sub = pubsub.subscription(subName, {
        flowControl: { maxMessages: IN_FLIGHT, allowExcessMessages: false },
        batching: { maxMilliseconds: 10 },
        streamingOptions: { maxStreams: 1 },
      })
      subscriptions.push(sub)
      sub.on('message', (m: Message) => {
        onMessage(m.data)
        m.ack()
      })
      return { close: () => sub.close() }
    },
    async close() {
      await Promise.allSettled([...topics.values()].map((t) => t.flush()))
      await Promise.allSettled(subscriptions.map((s) => s.close()))
      await removeAll(
        pubsub,
        [...topics.keys()].map(name),
        subscriptions.map((s) => s.name),
      )
      await pubsub.close()
    },
  }
}

export const gcp: BenchTarget = {
  name: 'gcp',
  transport: () => new CleaningGcpTransport({ projectId, emulatorHost }),
  raw,
  async unavailable() {
    const [host, port] = emulatorHost.split(':')
    const pubsub = new PubSub({ projectId, apiEndpoint: `${host}:${port}`, emulatorMode: true })
    try {
      await pubsub.getTopics({ autoPaginate: false, gaxOpts: { timeout: 3000 } })
      return undefined
    } catch (error) {
      return `no Pub/Sub emulator at ${emulatorHost}: ${(error as Error).message}`
    } finally {
      await pubsub.close()
    }
  },
}
