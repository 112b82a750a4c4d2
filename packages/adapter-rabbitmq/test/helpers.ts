import { conformance, restartBroker as restart } from '@omnibus/conformance'
import type { Subscription } from '@omnibus/core/adapter'
import amqp from 'amqplib'
import { type RabbitMQTransport, type RabbitMQTransportOptions, rabbitmqTransport } from '../src/index.js'

export const RABBITMQ_URL = process.env.OMNIBUS_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

export const unique = (prefix: string): string => `${prefix}.${crypto.randomUUID().slice(0, 8)}`

/** A connected transport against the test broker. */
export async function connected(options: RabbitMQTransportOptions = {}): Promise<RabbitMQTransport> {
  const transport = rabbitmqTransport({ url: RABBITMQ_URL, ...options })
  await transport.connect()
  return transport
}

export { collector, waitFor } from '@omnibus/conformance'

/** Runs `work` with a plain amqplib channel (the broker's own client, as a foreign producer would). */
export async function withRaw<T>(work: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const connection = await amqp.connect(RABBITMQ_URL)
  try {
    const ch = await connection.createChannel()
    // A failed passive check closes the channel with an 'error' event; the rejected promise reports it.
    ch.on('error', () => undefined)
    return await work(ch)
  } finally {
    await connection.close().catch(() => undefined)
  }
}

/** The broker the tests run on: `rabbitmq`, or `rabbitmq-cluster` (set by `scripts/brokers env rabbitmq-cluster`). */
export const BROKER_NAME = process.env.OMNIBUS_RABBITMQ_BROKER_NAME ?? 'rabbitmq'

/** Restarts the test broker (the whole cluster) through the project's script, resolving when it is back. */
export const restartBroker = (): Promise<void> => restart(BROKER_NAME)

export async function closeAll(...things: (Subscription | RabbitMQTransport | undefined)[]): Promise<void> {
  for (const thing of things) await thing?.close().catch(() => undefined)
}

/** The shared suite against the test broker with `options`; raw bytes are injected with amqplib. */
export function rabbitmqConformance(name: string, options: RabbitMQTransportOptions = {}): void {
  conformance({
    name,
    createTransport: () => rabbitmqTransport({ url: RABBITMQ_URL, ...options }),
    // Raw bytes with no CloudEvents headers, through the exchange (every group's queue) or straight into the queue.
    injectRaw: (channel, body) =>
      withRaw(async (ch) => {
        if (channel.kind === 'topic') ch.publish(channel.name, 'raw', Buffer.from(body))
        else ch.sendToQueue(channel.name, Buffer.from(body))
        await ch.close()
      }),
    restartBroker,
  })
}
