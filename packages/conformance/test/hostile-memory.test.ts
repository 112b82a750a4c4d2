import { MemoryBroker, memoryTransport } from '@omnibus/core'
import { test } from 'vitest'
import { hostileScenario } from '../src/hostile.js'

const broker = new MemoryBroker()
const LIMIT = 64 * 1024

test('memory: hostile input is dead-lettered once, good messages flow, nothing cycles', async () => {
  await hostileScenario({
    name: 'memory',
    createTransport: () => memoryTransport({ broker, maxMessageBytes: LIMIT }),
    inject: async (channel, m) =>
      broker.inject(channel, m.body, m.contentType ? { 'content-type': m.contentType } : {}),
    // Memory messages carry no binary-mode attribute headers.
    skip: ['binary-kind-banana'],
    extra: () => [
      {
        label: 'poison-size',
        body: Buffer.alloc(LIMIT - 1000, 0x80), // its dead letter, base64-encoded, is over the limit
        expect: { malformed: /CloudEvent/, truncated: true },
      },
    ],
  })
}, 60_000)
