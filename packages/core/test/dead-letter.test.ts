import { afterEach, describe, expect, it } from 'vitest'
import { createEvent, MALFORMED_TYPE, structuredSize } from '../src/adapter/index.js'
import { TRUNCATED_TYPE } from '../src/bus/dead-letter.js'
import {
  type Bus,
  createBus,
  type Envelope,
  type Logger,
  MemoryBroker,
  memoryTransport,
} from '../src/index.js'

const LIMIT = 20_000
const buses: Bus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.stop()))
})

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** A bus on a memory transport with a small limit, a reader of the channel's dead letters, and the log lines. */
async function setup(type: string, handler: (e: Envelope) => void) {
  const broker = new MemoryBroker()
  const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = []
  const logger = Object.fromEntries(
    ['debug', 'info', 'warn', 'error'].map((level) => [
      level,
      (message: string, fields?: Record<string, unknown>) => logs.push({ level, message, fields }),
    ]),
  ) as unknown as Logger
  const make = async (service: string) => {
    const bus = await createBus({
      service,
      transports: { m: memoryTransport({ broker, maxMessageBytes: LIMIT }) },
      delivery: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 },
      logger,
    })
    buses.push(bus)
    return bus
  }
  const bus = await make('consumer')
  bus.on(type, async (e) => handler(e))
  await bus.start()
  const letters: Envelope[] = []
  const reader = await make('reader')
  reader.onDeadLetter(type, async (e) => void letters.push(e))
  await reader.start()
  return { broker, bus, letters, logs }
}

describe('a dead letter that cannot be published whole (defect 11)', () => {
  it('is published truncated: the message leaves the channel once, counted once', async () => {
    const type = 'com.acme.poison'
    const { broker, bus, letters, logs } = await setup(type, () => {})
    const body = Buffer.alloc(16_000, 0xab) // not a CloudEvent; base64 in a dead letter is over the limit
    broker.inject({ name: type, kind: 'topic' }, body, { 'x-junk': 'y'.repeat(5000) })
    await until(() => letters.length === 1, 'the truncated dead letter')
    const letter = letters[0]!
    expect(letter.type).toBe(TRUNCATED_TYPE)
    expect(letter.dlsize).toBe(16_000)
    expect(letter.dlreason).toMatch(/neither a structured CloudEvent/)
    const prefix = Buffer.from(letter.data as Uint8Array)
    expect(prefix.byteLength).toBeGreaterThan(1000)
    expect(body.subarray(0, prefix.byteLength).equals(prefix)).toBe(true)
    expect(Buffer.byteLength(letter.dlheaders as string)).toBeLessThanOrEqual(600)
    // The reader may hear of the letter before the broker's confirm reaches the consumer.
    await until(() => bus.stats().deadLettered === 1, 'the confirm of the dead letter')
    expect(bus.stats()).toMatchObject({ malformed: 1, deadLettered: 1 })
    // Why the whole letter failed is logged, with the transport's error.
    const why = logs.find((l) => l.message.includes('whole dead letter could not be published'))
    expect(why?.fields?.error).toMatch(/over the transport's limit/)
  })

  it('an event that failed near the limit is dead-lettered truncated, not redelivered forever', async () => {
    const type = 'com.acme.big'
    const { broker, bus, letters } = await setup(type, () => {
      throw new Error('first line\nsecond line')
    })
    const producer = await createBus({
      service: 'p',
      transports: { m: memoryTransport({ broker, maxMessageBytes: LIMIT }) },
    })
    buses.push(producer)
    // Just under the limit: the dead-letter attributes take it over.
    const probe = createEvent({ type, source: 'urn:p', id: 'big-1', data: '' })
    const data = 'x'.repeat(LIMIT - 20 - structuredSize(probe))
    await producer.publish({ type, id: 'big-1', data })
    await until(() => letters.length === 1, 'the truncated dead letter')
    expect(letters[0]).toMatchObject({
      type: TRUNCATED_TYPE,
      dlreason: 'first line second line',
      dlattempts: 2,
    })
    expect(JSON.parse(letters[0]!.dlheaders as string)).toMatchObject({ id: 'big-1', type })
    await until(() => bus.stats().deadLettered === 1, 'the confirm of the dead letter')
    expect(bus.stats()).toMatchObject({ deadLettered: 1, retried: 1 })
  })

  it('keeps a multi-line reason as one line, and a malformed message whole when it fits', async () => {
    const type = 'com.acme.small'
    const { broker, letters, bus } = await setup(type, () => {})
    broker.inject({ name: type, kind: 'topic' }, Buffer.from('junk'), { note: 'a\nb' })
    await until(() => letters.length === 1, 'the dead letter')
    expect(letters[0]!.type).toBe(MALFORMED_TYPE)
    expect(JSON.parse(letters[0]!.dlheaders as string)).toEqual({ note: 'a\nb' })
    await until(() => bus.stats().malformed === 1, 'the confirm of the dead letter')
  })
})
