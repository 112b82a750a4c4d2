import { rabbitmqTransport } from '@omnibus/adapter-rabbitmq'
import amqp from 'amqplib'
import type { BenchTarget, RawClient } from '../target.js'

const url = process.env.OMNIBUS_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

/** amqplib done well: a confirm channel, persistent messages, backpressure honoured, one waitForConfirms per batch; manual ack, prefetch 64 (the adapter's prefetch for maxInFlight 64). */
function raw(): RawClient {
  let connection: amqp.ChannelModel
  let publisher: amqp.ConfirmChannel
  const queueOf = (channel: string, group: string) => `${channel}.${group}`
  return {
    async connect() {
      connection = await amqp.connect(url)
      publisher = await connection.createConfirmChannel()
    },
    async prepare(channel, group) {
      await publisher.assertExchange(channel, 'topic', { durable: true })
      await publisher.assertQueue(queueOf(channel, group), { durable: true })
      await publisher.bindQueue(queueOf(channel, group), channel, '#')
    },
    async publish(channel, payloads) {
      for (const body of payloads) {
        const ok = publisher.publish(channel, '', body, { persistent: true, contentType: 'application/json' })
        // As the adapter does: a full write buffer waits for 'drain' instead of queueing without bound.
        if (!ok) await new Promise((resolve) => publisher.once('drain', resolve))
      }
      await publisher.waitForConfirms()
    },
    async consume(channel, group, onMessage) {
      const ch = await connection.createChannel()
      await ch.prefetch(64)
      await ch.consume(queueOf(channel, group), (msg) => {
        if (!msg) return
        onMessage(msg.content)
        ch.ack(msg)
      })
      return { close: () => ch.close() }
    },
    async close() {
      await connection.close()
    },
  }
}

export const rabbitmq: BenchTarget = {
  name: 'rabbitmq',
  transport: () => rabbitmqTransport({ url }),
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
