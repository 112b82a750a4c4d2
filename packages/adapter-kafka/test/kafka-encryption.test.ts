import { randomBytes } from 'node:crypto'
import { expectSealed } from '@omnibus/conformance'
import { type Bus, createBus, type Envelope } from '@omnibus/core'
import { afterEach, describe, expect, it } from 'vitest'
import { topicName } from '../src/index.js'
import { rawKafka, transport, uniq, waitFor } from './helpers.js'

// Payload encryption over a real Kafka: what the broker keeps, read with kafkajs itself, holds no
// plaintext, in either content mode, and the handler gets the original data.
const SECRET = 'ssn-078-05-1120'
const encryption = { current: 'k1', keys: { k1: randomBytes(32) } }
const buses: Bus[] = []
afterEach(async () => {
  await Promise.allSettled(buses.splice(0).map((b) => b.stop()))
})

async function bus(mode: 'binary' | 'structured', service: string): Promise<Bus> {
  const b = await createBus({ service, transports: { k: transport({ mode }) }, encryption })
  buses.push(b)
  return b
}

/** Every record of `topic` as Kafka keeps it: value and headers as text. */
async function atRest(topic: string, count: number): Promise<string[]> {
  const consumer = rawKafka().consumer({ groupId: uniq('raw-reader') })
  const records: string[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.entries(message.headers ?? {}).map(([k, v]) => `${k}=${String(v)}`)
        records.push(`${message.value?.toString('latin1')}\n${headers.join('\n')}`)
      },
    })
    await waitFor('the raw records', () => records.length >= count, 30_000)
  } finally {
    await consumer.disconnect()
  }
  return records
}

describe('kafka: payload encryption', () => {
  for (const mode of ['binary', 'structured'] as const) {
    it(`keeps no plaintext at rest (${mode} mode) and hands the handler the original`, async () => {
      const type = uniq('com.omnibus.test.encrypted')
      const producer = await bus(mode, 'enc-producer')
      await producer.publish<unknown>([
        { type, data: { ssn: SECRET }, partitionkey: 'p1' },
        { type, data: `text ${SECRET}` },
      ])
      const records = await atRest(topicName(type), 2)
      expectSealed(records, SECRET, type)
      const consumer = await bus(mode, 'enc-consumer')
      const got: Envelope[] = []
      consumer.on(type, async (e) => void got.push(e), { from: 'earliest' })
      await consumer.start()
      await waitFor('both events decrypted', () => got.length === 2, 30_000)
      expect(got.map((e) => e.data)).toEqual(expect.arrayContaining([{ ssn: SECRET }, `text ${SECRET}`]))
      expect(got.find((e) => e.partitionkey === 'p1')?.data).toEqual({ ssn: SECRET })
    })
  }
})
