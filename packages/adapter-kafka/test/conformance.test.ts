import { conformance } from '@omnibus/conformance'
import { topicName } from '../src/index.js'
import { BROKER_NAME, rawKafka, restartKafka, transport } from './helpers.js'

const kafka = rawKafka()

conformance({
  name: BROKER_NAME,
  createTransport: () => transport(),
  // A foreign producer writing straight to the channel's topic, as any Kafka client would.
  injectRaw: async (channel, body) => {
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    try {
      await producer.send({ topic: topicName(channel.name), messages: [{ value: Buffer.from(body) }] })
    } finally {
      await producer.disconnect()
    }
  },
  restartBroker: restartKafka,
})
