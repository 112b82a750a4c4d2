import { PubSub, type Subscription } from '@google-cloud/pubsub'
import { gcpTransport } from '@omnibus/adapter-gcp'
import { type BenchTarget, binaryHeaders, dataBytes, type RawClient } from '../target.js'

const emulatorHost = process.env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085'
const projectId = 'omnibus-bench'
const name = (s: string) => `b-${s.replace(/[^A-Za-z0-9._~+%-]/g, '-')}`.slice(0, 255)

/** @google-cloud/pubsub done well: the client's batching, all publishes of a call awaited together; streaming pull, flow control 64, ack after handling. */
function raw(): RawClient {
  const [host, port] = emulatorHost.split(':')
  const pubsub = new PubSub({ projectId, apiEndpoint: `${host}:${port}`, emulatorMode: true })
  const subscriptions: Subscription[] = []
  return {
    async connect() {},
    async prepare(channel, group) {
      const [topic] = await pubsub.createTopic(name(channel)).catch(() => [pubsub.topic(name(channel))])
      await topic.createSubscription(name(`${channel}-${group}`)).catch(() => undefined)
    },
    async publish(channel, messages) {
      const topic = pubsub.topic(name(channel), { batching: { maxMessages: 500, maxMilliseconds: 5 } })
      // Binary mode, the adapter's default: `ce-` attributes and the data as the message body.
      await Promise.all(
        messages.map((m) =>
          topic.publishMessage({ data: dataBytes(m), attributes: binaryHeaders(m, 'ce-') }),
        ),
      )
    },
    async consume(channel, group, onMessage) {
      const sub = pubsub.subscription(name(`${channel}-${group}`), {
        flowControl: { maxMessages: 64, allowExcessMessages: false },
      })
      subscriptions.push(sub)
      sub.on('message', (m) => {
        onMessage(m.data)
        m.ack()
      })
      return { close: () => sub.close() }
    },
    async close() {
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
