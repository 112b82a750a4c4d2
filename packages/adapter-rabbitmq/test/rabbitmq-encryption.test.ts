import { randomBytes } from 'node:crypto'
import { expectSealed } from '@omnibus/conformance'
import { type Bus, createBus, type Envelope } from '@omnibus/core'
import { afterEach, describe, expect, it } from 'vitest'
import { rabbitmqTransport } from '../src/index.js'
import { RABBITMQ_URL, unique, waitFor, withRaw } from './helpers.js'

// Payload encryption over a real RabbitMQ: the messages waiting in the queue, read with amqplib
// itself, hold no plaintext, in either content mode, and the handler gets the original data.
const SECRET = 'iban-DE89370400440532013000'
const encryption = { current: 'k1', keys: { k1: randomBytes(32) } }
const buses: Bus[] = []
afterEach(async () => {
  await Promise.allSettled(buses.splice(0).map((b) => b.stop()))
})

async function bus(mode: 'binary' | 'structured', service: string): Promise<Bus> {
  const b = await createBus({
    service,
    transports: { r: rabbitmqTransport({ url: RABBITMQ_URL, mode }) },
    encryption,
  })
  buses.push(b)
  return b
}

describe('rabbitmq: payload encryption', () => {
  for (const mode of ['binary', 'structured'] as const) {
    it(`keeps no plaintext in the queue (${mode} mode) and hands the handler the original`, async () => {
      const type = unique('com.omnibus.test.encrypted')
      const sender = await bus(mode, 'enc-sender')
      await sender.send<unknown>([
        { type, data: { iban: SECRET } },
        { type, data: Buffer.from(SECRET) },
      ])
      const waiting = await withRaw(async (ch) => {
        const seen: string[] = []
        for (let i = 0; i < 2; i++) {
          const message = await ch.get(type, { noAck: false })
          if (!message) break
          seen.push(`${message.content.toString('latin1')}\n${JSON.stringify(message.properties)}`)
        }
        await ch.recover()
        return seen
      })
      expect(waiting).toHaveLength(2)
      expectSealed(waiting, SECRET)
      const handler = await bus(mode, 'enc-handler')
      const got: Envelope[] = []
      handler.handle(type, async (e) => void got.push(e))
      await handler.start()
      await waitFor('both commands decrypted', () => got.length === 2, 20_000)
      const data = got.map((e) => (Buffer.isBuffer(e.data) ? e.data.toString() : e.data))
      expect(data).toEqual(expect.arrayContaining([{ iban: SECRET }, SECRET]))
    })
  }
})
