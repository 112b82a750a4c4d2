import { readFileSync } from 'node:fs'
import { conformance } from '@omnibus/conformance'
import { Kafka, logLevel } from 'kafkajs'
import { kafkaTransport, topicName } from '../src/index.js'
import { cert, password, restartSecure, SECURE_BROKERS, secureOptions } from './secure-helpers.js'

// The whole suite through the SASL_SSL listener of `scripts/brokers up kafka-secure`, as user
// omnibus (SCRAM-SHA-512, ACLs on com.omnibus.* and omnibus.* only).
const raw = new Kafka({
  brokers: SECURE_BROKERS,
  ssl: { ca: readFileSync(cert('ca.pem')) },
  sasl: { mechanism: 'scram-sha-512', username: 'omnibus', password: password('omnibus') },
  logLevel: logLevel.NOTHING,
})

conformance({
  name: 'kafka-secure',
  createTransport: () =>
    kafkaTransport(secureOptions(), { key: 'transports.secure', service: 'conformance' }),
  injectRaw: async (channel, body) => {
    const producer = raw.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    try {
      await producer.send({ topic: topicName(channel.name), messages: [{ value: Buffer.from(body) }] })
    } finally {
      await producer.disconnect()
    }
  },
  restartBroker: restartSecure,
})
