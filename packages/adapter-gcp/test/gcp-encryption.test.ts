import { randomBytes } from 'node:crypto'
import type { Message } from '@google-cloud/pubsub'
import { expectSealed } from '@omnibus/conformance'
import { type Bus, createBus, type Envelope } from '@omnibus/core'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { resourceName } from '../src/index.js'
import { makeTransport, rawClient, unique, waitFor } from './helpers.js'

// Payload encryption over a real Pub/Sub (the emulator): what a subscription of our own on the
// channel's topic receives, read with the Pub/Sub client itself, holds no plaintext, in either
// content mode, and the handler gets the original data.
const SECRET = 'passport-X1234567'
const encryption = { current: 'k1', keys: { k1: randomBytes(32) } }
const pubsub = rawClient()
const buses: Bus[] = []
const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.allSettled(buses.splice(0).map((b) => b.stop()))
  await Promise.allSettled(cleanup.splice(0).map((undo) => undo()))
})
afterAll(() => pubsub.close())

async function bus(mode: 'binary' | 'structured', service: string): Promise<Bus> {
  const b = await createBus({ service, transports: { g: makeTransport({ mode }) }, encryption })
  buses.push(b)
  return b
}

/** A subscription of our own on the channel's topic, collecting every message as text. */
async function tap(type: string): Promise<string[]> {
  const [subscription] = await pubsub.topic(resourceName('', [type])).createSubscription(unique('raw-reader'))
  const seen: string[] = []
  subscription.on('message', (m: Message) => {
    const attributes = Object.entries(m.attributes).map(([k, v]) => `${k}=${v}`)
    seen.push(`${m.data.toString('latin1')}\n${attributes.join('\n')}`)
    m.ack()
  })
  cleanup.push(async () => {
    await subscription.close()
    await subscription.delete()
  })
  return seen
}

describe('gcp: payload encryption', () => {
  for (const mode of ['binary', 'structured'] as const) {
    it(`keeps no plaintext in the topic (${mode} mode) and hands the handler the original`, async () => {
      const type = unique('com.omnibus.test.encrypted')
      const handler = await bus(mode, 'enc-handler')
      const got: Envelope[] = []
      handler.on(type, async (e) => void got.push(e))
      await handler.start()
      const seen = await tap(type)
      const sender = await bus(mode, 'enc-sender')
      await sender.publish<unknown>([
        { type, data: { passport: SECRET } },
        { type, data: Buffer.from(SECRET) },
      ])
      await waitFor('the raw messages', () => seen.length >= 2, 30_000)
      expectSealed(seen, SECRET, type)
      await waitFor('both events decrypted', () => got.length === 2, 30_000)
      const data = got.map((e) => (Buffer.isBuffer(e.data) ? e.data.toString() : e.data))
      expect(data).toEqual(expect.arrayContaining([{ passport: SECRET }, SECRET]))
    })
  }
})
