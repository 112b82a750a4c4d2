import { kafkaTransport } from '@omnibus/adapter-kafka'
import { Admin, Consumer, type Message, Producer, stringSerializer } from '@platformatic/kafka'
import { type BenchTarget, binaryHeaders, dataBytes, type RawClient } from '../target.js'
import { kafka } from './kafka.js'

const brokers = (process.env.OMNIBUS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const PARTITIONS = 3 // the adapter's default

/**
 * @platformatic/kafka done well, with the adapter's guarantees: an idempotent producer with
 * acks=all, one send per batch; a consumer that commits each message after handling it (the
 * client coalesces those commits into one request at a time).
 */
function raw(): RawClient {
  const base = { clientId: 'bench-raw-platformatic', bootstrapBrokers: brokers }
  const producer = new Producer<Buffer, Buffer, string, string>({
    ...base,
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
    serializers: { headerKey: stringSerializer, headerValue: stringSerializer },
  })
  const admin = new Admin(base)
  const consumers: Consumer[] = []
  return {
    async connect() {
      await admin.metadata({ topics: [] })
    },
    async prepare(channel) {
      await admin.createTopics({ topics: [channel], partitions: PARTITIONS, replicas: 1 })
    },
    async publish(channel, messages) {
      await producer.send({
        // Binary mode, the adapter's default: `ce_` headers and the data as the value.
        messages: messages.map((m) => ({
          topic: channel,
          value: dataBytes(m),
          headers: binaryHeaders(m, 'ce_'),
        })),
      })
    },
    async consume(channel, group, onMessage) {
      const consumer = new Consumer({
        ...base,
        groupId: group,
        sessionTimeout: 10_000,
        heartbeatInterval: 1000,
      })
      consumers.push(consumer)
      const joined = new Promise<void>((resolve) => consumer.once('consumer:group:join', () => resolve()))
      const stream = await consumer.consume({
        topics: [channel],
        mode: 'committed',
        fallbackMode: 'earliest',
        autocommit: false,
        maxWaitTime: 500,
      })
      stream.on('data', (message: Message<Buffer, Buffer, Buffer, Buffer>) => {
        onMessage(message.value)
        void (message.commit() as Promise<void>).catch(() => undefined)
      })
      await joined
      return {
        close: async () => {
          await stream.close()
          await consumer.close(true)
        },
      }
    },
    async close() {
      await Promise.allSettled([producer.close(), admin.close(), ...consumers.map((c) => c.close(true))])
    },
  }
}

/**
 * The Kafka adapter on its second driver, @platformatic/kafka (issue 20 #1), binary mode as the
 * default, against that client's own raw sides (same bytes, data only) and bare kafkajs (the
 * issue's 0.90× target is against kafkajs sending bare data); structured mode as a side of its own.
 */
const target: BenchTarget = {
  ...kafka,
  name: 'kafka-platformatic',
  broker: 'kafka',
  // NestJS again, so that the best driver meets the peer in the same rounds.
  peers: ['nest'],
  raw,
  rawClient: '@platformatic/kafka',
  transport: () => kafkaTransport({ brokers, driver: 'platformatic', logLevel: 'nothing' }),
  variants: {
    'omnibus-structured': () =>
      kafkaTransport({ brokers, driver: 'platformatic', mode: 'structured', logLevel: 'nothing' }),
  },
  baselines: [
    { side: 'kafkajs-data', label: 'raw kafkajs, data only', raw: kafka.raw!, withAttributes: false },
  ],
}
export default target
