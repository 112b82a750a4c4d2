import { conformance } from '@omnibus/conformance'
import { rabbitmqTransport } from '../src/index.js'
import { RABBITMQ_URL, restartBroker, withRaw } from './helpers.js'

conformance({
  name: 'rabbitmq',
  createTransport: () => rabbitmqTransport({ url: RABBITMQ_URL }),
  // Raw bytes with no CloudEvents headers, through the exchange (every group's queue) or straight into the queue.
  injectRaw: (channel, body) =>
    withRaw(async (ch) => {
      if (channel.kind === 'topic') ch.publish(channel.name, 'raw', Buffer.from(body))
      else ch.sendToQueue(channel.name, Buffer.from(body))
      await ch.close()
    }),
  restartBroker,
})
