import { type Message, PubSub, type Subscription, type Topic } from '@google-cloud/pubsub'
import { gcpTransport } from '@omnibus/adapter-gcp'
import type { BenchTarget, RawClient } from '../target.js'

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
  const [host, port] = emulatorHost.split(':')
  const pubsub = new PubSub({ projectId, apiEndpoint: `${host}:${port}`, emulatorMode: true })
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
    },
    async publish(channel, payloads) {
      const topic = topicOf(channel)
      await Promise.all(payloads.map((data) => topic.publishMessage({ data })))
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
      await pubsub.close()
    },
  }
}

export const gcp: BenchTarget = {
  name: 'gcp',
  transport: () => gcpTransport({ projectId, emulatorHost }),
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
