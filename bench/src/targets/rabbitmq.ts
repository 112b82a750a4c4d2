import { rabbitmqTransport } from '@omnibus/adapter-rabbitmq'
import amqp from 'amqplib'
import { type BenchTarget, dataBytes, type RawClient, type RawMessage } from '../target.js'

const url = process.env.OMNIBUS_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

/**
 * amqplib done well: a confirm channel, persistent messages, backpressure honoured, one waitForConfirms per
 * batch; manual acks after handling with prefetch 64 (the adapter's prefetch for maxInFlight 64), coalesced
 * into one `multiple` ack per turn of the event loop as the adapter does.
 *
 * Topology matches what the Omnibus side has: a topic exchange per channel, and a group's queue only once
 * someone consumes. Omnibus's publish phase has no subscriber, so RabbitMQ drops those messages as
 * unroutable; a raw side that routed them into a durable queue would pay for persisting them and compare
 * unlike with like.
 */
/** Binary mode as the adapter sends it: `cloudEvents_` headers, with the id and time also as AMQP properties. */
function properties(message: RawMessage): amqp.Options.Publish {
  const options: amqp.Options.Publish = { persistent: true, contentType: 'application/json' }
  const attributes = message.attributes
  if (!attributes) return options
  options.headers = {}
  for (const name in attributes) options.headers[`cloudEvents_${name}`] = attributes[name]
  options.messageId = attributes.id
  options.timestamp = Date.now()
  return options
}

function raw(): RawClient {
  let connection: amqp.ChannelModel
  let publisher: amqp.ConfirmChannel
  const made = { exchanges: new Set<string>(), queues: new Set<string>() }
  const queueOf = (channel: string, group: string) => `${channel}.${group}`
  return {
    async connect() {
      connection = await amqp.connect(url, { noDelay: true }) // as the adapter: no Nagle delay on small frames
      publisher = await connection.createConfirmChannel()
    },
    async prepare(channel) {
      await publisher.assertExchange(channel, 'topic', { durable: true })
      made.exchanges.add(channel)
    },
    async publish(channel, messages) {
      for (const message of messages) {
        const ok = publisher.publish(channel, '', dataBytes(message), properties(message))
        // As the adapter does: a full write buffer waits for 'drain' instead of queueing without bound.
        if (!ok) await new Promise((resolve) => publisher.once('drain', resolve))
      }
      await publisher.waitForConfirms()
    },
    async consume(channel, group, onMessage) {
      const queue = queueOf(channel, group)
      await publisher.assertQueue(queue, { durable: true })
      await publisher.bindQueue(queue, channel, '#')
      made.queues.add(queue)
      const ch = await connection.createChannel()
      await ch.prefetch(64)
      // Handled in delivery order and synchronously, so the newest handled message acks everything before it.
      let last: amqp.ConsumeMessage | undefined
      let scheduled = false
      const flush = () => {
        scheduled = false
        if (last) ch.ack(last, true)
        last = undefined
      }
      await ch.consume(queue, (msg) => {
        if (!msg) return
        onMessage(msg.content)
        last = msg
        if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
      })
      return {
        async close() {
          flush()
          await ch.close()
        },
      }
    },
    async close() {
      // Untimed: leave the shared broker as it was found (20,000 persistent messages per round add up).
      for (const queue of made.queues) await publisher.deleteQueue(queue)
      for (const exchange of made.exchanges) await publisher.deleteExchange(exchange)
      await connection.close()
    },
  }
}

export const rabbitmq: BenchTarget = {
  name: 'rabbitmq',
  peers: ['mqt', 'nest'],
  transport: () => rabbitmqTransport({ url }),
  // What a user would pick for throughput, confirms kept: a prefetch in the 100-300 range RabbitMQ's
  // documentation suggests (message-queue-toolkit, measured here too, sets no prefetch limit and has no
  // option for one), and structured mode (one JSON body, as that toolkit sends, no header table).
  variants: {
    'omnibus-structured': () => rabbitmqTransport({ url, mode: 'structured' }),
    'omnibus-prefetch256': () => rabbitmqTransport({ url }),
    'omnibus-structured-prefetch256': () => rabbitmqTransport({ url, mode: 'structured' }),
  },
  variantInFlight: { 'omnibus-prefetch256': 256, 'omnibus-structured-prefetch256': 256 },
  raw,
  async unavailable() {
    try {
      const c = await amqp.connect(url)
      await c.close()
      return undefined
    } catch (error) {
      return `no RabbitMQ at ${url}: ${(error as Error).message}`
    }
  },
}
