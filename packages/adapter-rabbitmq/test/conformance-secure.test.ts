import { readFileSync } from 'node:fs'
import { conformance } from '@omnibus/conformance'
import amqp from 'amqplib'
import { RabbitMQTransport } from '../src/index.js'
import { cert, certOptions, restartSecure, SECURE_URL } from './secure-helpers.js'

// The whole suite through the TLS-only node of `scripts/brokers up rabbitmq-secure`: mutual TLS,
// EXTERNAL auth as omnibus-cert, vhost omnibus, permissions on com.omnibus.* and omnibus.* only.
conformance({
  name: 'rabbitmq-secure',
  createTransport: () => new RabbitMQTransport(certOptions()),
  injectRaw: async (channel, body) => {
    const connection = await amqp.connect(SECURE_URL, {
      ca: [readFileSync(cert('ca.pem'))],
      cert: readFileSync(cert('client.pem')),
      key: readFileSync(cert('client.key')),
      credentials: amqp.credentials.external(),
    })
    try {
      const ch = await connection.createChannel()
      if (channel.kind === 'topic') ch.publish(channel.name, 'raw', Buffer.from(body))
      else ch.sendToQueue(channel.name, Buffer.from(body))
      await ch.close()
    } finally {
      await connection.close().catch(() => undefined)
    }
  },
  restartBroker: restartSecure,
})
