// message-queue-toolkit on RabbitMQ: its topic publisher and topic consumer, as its README shows
// them (one AmqpConnectionManager shared by both), with durable queues and persistent messages.
import {
  AbstractAmqpTopicConsumer,
  AbstractAmqpTopicPublisher,
  type AMQPDependencies,
  AmqpConnectionManager,
  AmqpConsumerErrorResolver,
} from '@message-queue-toolkit/amqp'
import { MessageHandlerConfigBuilder } from '@message-queue-toolkit/core'
import { type Message, message, noObservability } from './mqt.js'
import { type Payload, type PeerDriver, silentLogger, unique } from './peer.js'

const url = new URL(process.env.OMNIBUS_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672')

/**
 * The toolkit's publisher is fire-and-forget (a plain channel, no publisher confirms: `publish`
 * returns before the broker saw the message). To end a batch when the broker has it, as the
 * other sides do, a channel round trip follows the batch: RabbitMQ answers it only after it has
 * handled every publish before it on that channel. That is not a confirm (a persistent message
 * routed to a queue is confirmed once written to disk), so this side is measured with a weaker
 * guarantee than Omnibus and the raw client.
 */
class Publisher extends AbstractAmqpTopicPublisher<Message> {
  async broker(): Promise<void> {
    await this.channel.checkExchange(this.exchange!)
  }
}

class Consumer extends AbstractAmqpTopicConsumer<Message, undefined> {}

export async function driver(): Promise<PeerDriver> {
  const manager = new AmqpConnectionManager(
    {
      hostname: url.hostname,
      port: Number(url.port || 5672),
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      vhost: decodeURIComponent(url.pathname.slice(1)),
      useTls: false,
    },
    silentLogger,
  )
  await manager.init()
  const dependencies: AMQPDependencies = {
    amqpConnectionManager: manager,
    logger: silentLogger,
    errorReporter: { report: () => undefined },
  }
  const names = { publish: `bench.mqt.publish.${unique()}`, e2e: `bench.mqt.e2e.${unique()}` }
  const types = { publish: `bench.publish.${unique()}`, e2e: `bench.e2e.${unique()}` }
  const publisher = (channel: 'publish' | 'e2e') =>
    new Publisher(dependencies, {
      exchange: names[channel],
      messageSchemas: [message(types[channel])],
      messageTypeResolver: { messageTypePath: 'type' },
      isLazyInitEnabled: false,
    })
  const publishers = { publish: publisher('publish'), e2e: publisher('e2e') }
  await Promise.all([publishers.publish.init(), publishers.e2e.init()])
  const queue = `${names.e2e}.bench`
  let consumer: Consumer | undefined
  return {
    async publish(channel, payloads: Payload[]) {
      const p = publishers[channel]
      const timestamp = new Date().toISOString()
      for (const payload of payloads) {
        p.publish(
          { id: crypto.randomUUID(), type: types[channel], timestamp, payload },
          { routingKey: '', publishOptions: { persistent: true } },
        )
      }
      await p.broker()
    },
    async consume(received) {
      consumer = new Consumer(
        {
          ...dependencies,
          consumerErrorResolver: new AmqpConsumerErrorResolver(),
          transactionObservabilityManager: noObservability,
        },
        {
          creationConfig: {
            queueName: queue,
            queueOptions: { durable: true, autoDelete: false },
            exchange: names.e2e,
            topicPattern: '#',
          },
          messageTypeResolver: { messageTypePath: 'type' },
          handlers: new MessageHandlerConfigBuilder<Message, undefined>()
            .addConfig(message(types.e2e), async (m) => {
              received(m.payload.sentAt)
              return { result: 'success' }
            })
            .build(),
        },
        undefined,
      )
      await consumer.start()
    },
    async close() {
      // Untimed: leave the shared broker as it was found.
      const connection = await manager.getConnection()
      const ch = await connection.createChannel()
      await ch.deleteQueue(queue).catch(() => undefined)
      for (const name of Object.values(names)) await ch.deleteExchange(name).catch(() => undefined)
      await ch.close().catch(() => undefined)
      await manager.close()
    },
  }
}
