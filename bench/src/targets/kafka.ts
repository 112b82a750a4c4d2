import { kafkaTransport } from '@omnibus/adapter-kafka'
import { type Consumer, Kafka, logLevel } from 'kafkajs'
import { type BenchTarget, binaryHeaders, dataBytes, type RawClient } from '../target.js'

const brokers = (process.env.OMNIBUS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const PARTITIONS = 3 // the adapter's default

/** kafkajs done well: idempotent producer with acks=all, one send per batch; eachMessage with auto-commit after handling. */
function raw(): RawClient {
  const kafka = new Kafka({ brokers, clientId: 'bench-raw', logLevel: logLevel.NOTHING })
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  const admin = kafka.admin()
  const consumers: Consumer[] = []
  return {
    async connect() {
      await Promise.all([producer.connect(), admin.connect()])
    },
    async prepare(channel) {
      await admin.createTopics({
        topics: [{ topic: channel, numPartitions: PARTITIONS }],
        waitForLeaders: true,
      })
    },
    async publish(channel, messages) {
      await producer.send({
        topic: channel,
        acks: -1,
        // Binary mode, the adapter's default: `ce_` headers and the data as the value.
        messages: messages.map((m) => ({ value: dataBytes(m), headers: binaryHeaders(m, 'ce_') })),
      })
    },
    async consume(channel, group, onMessage) {
      const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1000 })
      consumers.push(consumer)
      await consumer.connect()
      await consumer.subscribe({ topic: channel, fromBeginning: true })
      let joined!: () => void
      const ready = new Promise<void>((resolve) => {
        joined = resolve
      })
      consumer.on(consumer.events.GROUP_JOIN, () => joined())
      await consumer.run({
        partitionsConsumedConcurrently: PARTITIONS,
        eachMessage: async ({ message }) => onMessage(message.value!),
      })
      await ready
      return { close: () => consumer.disconnect() }
    },
    async close() {
      await Promise.allSettled([
        producer.disconnect(),
        admin.disconnect(),
        ...consumers.map((c) => c.disconnect()),
      ])
    },
  }
}

export const kafka: BenchTarget = {
  name: 'kafka',
  peers: ['nest'],
  transport: () => kafkaTransport({ brokers, logLevel: 'nothing' }),
  raw,
  async unavailable() {
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING, retry: { retries: 1 } }).admin()
    try {
      await admin.connect()
      await admin.listTopics()
      return undefined
    } catch (error) {
      return `no Kafka at ${brokers.join(',')}: ${(error as Error).message}`
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  },
}
