import { conformance } from '@omnibus/conformance'
import { afterAll } from 'vitest'
import { makeTransport, rawClient, restartEmulator } from './helpers.js'

const raw = rawClient()
afterAll(() => raw.close())

conformance({
  name: 'gcp',
  createTransport: () => makeTransport(),
  // A foreign producer: the bytes go on the channel's topic with no attributes at all.
  injectRaw: async (channel, body) => {
    await raw.topic(makeTransport().topicName(channel)).publishMessage({ data: Buffer.from(body) })
  },
  restartBroker: restartEmulator,
})
