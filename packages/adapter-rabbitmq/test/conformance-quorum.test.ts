import { conformance } from '@omnibus/conformance'
import { rabbitmqTransport } from '../src/index.js'
import { RABBITMQ_URL, restartBroker, withRaw } from './helpers.js'

// The whole suite with every durable queue a quorum queue (`npm run conformance -- rabbitmq-quorum`).
conformance({
  name: 'rabbitmq-quorum',
  createTransport: () => rabbitmqTransport({ url: RABBITMQ_URL, quorum: true }),
  injectRaw: (channel, body) =>
    withRaw(async (ch) => {
      if (channel.kind === 'topic') ch.publish(channel.name, 'raw', Buffer.from(body))
      else ch.sendToQueue(channel.name, Buffer.from(body))
      await ch.close()
    }),
  restartBroker,
})
