import { afterEach, describe, expect, it } from 'vitest'
import {
  createEvent,
  encodeStructured,
  MALFORMED_TYPE,
  STRUCTURED_CONTENT_TYPE,
  structuredSize,
} from '../src/adapter/index.js'
import { TRUNCATED_TYPE } from '../src/bus/dead-letter.js'
import {
  type Bus,
  createBus,
  type Envelope,
  EnvelopeError,
  idempotency,
  type Logger,
  MemoryBroker,
  type Middleware,
  memoryTransport,
} from '../src/index.js'
import { waitFor } from './helpers.js'

const LIMIT = 20_000
const buses: Bus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.stop()))
})

/** A bus on a memory transport with a small limit, a reader of the channel's dead letters, and the log lines. */
async function setup(type: string, handler: (e: Envelope) => unknown, middleware?: Middleware) {
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
  if (middleware) bus.use(middleware)
  bus.on(type, async (e) => handler(e))
  await bus.start()
  const letters: Envelope[] = []
  const reader = await make('reader')
  reader.onDeadLetter(type, async (e) => void letters.push(e))
  await reader.start()
  return { broker, bus, letters, logs }
}

/** A structured event as Omnibus writes it, its data (the last member) cut short: only a read finds out. */
function brokenDocument(type: string, id: string): Buffer {
  const text = encodeStructured(createEvent({ type, source: 'urn:p', id, data: { n: 1 } })).toString('utf8')
  expect(text.endsWith(',"data":{"n":1}}')).toBe(true)
  return Buffer.from(text.replace(',"data":{"n":1}}', ',"data":{"n":}}'))
}

const inject = (broker: MemoryBroker, type: string, body: Buffer) =>
  broker.inject({ name: type, kind: 'topic' }, body, { 'content-type': STRUCTURED_CONTENT_TYPE })

describe('a dead letter that cannot be published whole (defect 11)', () => {
  it('is published truncated: the message leaves the channel once, counted once', async () => {
    const type = 'com.acme.poison'
    const { broker, bus, letters, logs } = await setup(type, () => {})
    const body = Buffer.alloc(16_000, 0xab) // not a CloudEvent; base64 in a dead letter is over the limit
    broker.inject({ name: type, kind: 'topic' }, body, { 'x-junk': 'y'.repeat(5000) })
    await waitFor('the truncated dead letter', () => letters.length === 1)
    const letter = letters[0]!
    expect(letter.type).toBe(TRUNCATED_TYPE)
    expect(letter.dlsize).toBe(16_000)
    expect(letter.dlreason).toMatch(/neither a structured CloudEvent/)
    const prefix = Buffer.from(letter.data as Uint8Array)
    expect(prefix.byteLength).toBeGreaterThan(1000)
    expect(body.subarray(0, prefix.byteLength).equals(prefix)).toBe(true)
    expect(Buffer.byteLength(letter.dlheaders as string)).toBeLessThanOrEqual(600)
    // The reader may hear of the letter before the broker's confirm reaches the consumer.
    await waitFor('the confirm of the dead letter', () => bus.stats().deadLettered === 1)
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
    await waitFor('the truncated dead letter', () => letters.length === 1)
    expect(letters[0]).toMatchObject({
      type: TRUNCATED_TYPE,
      dlreason: 'first line second line',
      dlattempts: 2,
    })
    expect(JSON.parse(letters[0]!.dlheaders as string)).toMatchObject({ id: 'big-1', type })
    await waitFor('the confirm of the dead letter', () => bus.stats().deadLettered === 1)
    expect(bus.stats()).toMatchObject({ deadLettered: 1, retried: 1 })
  })

  it('keeps a multi-line reason as one line, and a malformed message whole when it fits', async () => {
    const type = 'com.acme.small'
    const { broker, letters, bus } = await setup(type, () => {})
    broker.inject({ name: type, kind: 'topic' }, Buffer.from('junk'), { note: 'a\nb' })
    await waitFor('the dead letter', () => letters.length === 1)
    expect(letters[0]!.type).toBe(MALFORMED_TYPE)
    expect(JSON.parse(letters[0]!.dlheaders as string)).toEqual({ note: 'a\nb' })
    await waitFor('the confirm of the dead letter', () => bus.stats().malformed === 1)
  })
})

describe('data parsed when a handler first reads it (issue 20 #3)', () => {
  it('dead-letters data that does not parse as malformed, with the reason, once, without retrying', async () => {
    const type = 'com.acme.lazy.read'
    const seen: unknown[] = []
    const { bus, letters, broker } = await setup(type, (e) => {
      try {
        return e.data
      } catch (error) {
        seen.push(error)
        throw error
      }
    })
    const body = brokenDocument(type, 'l-1')
    inject(broker, type, body)
    await waitFor('the dead letter', () => letters.length === 1)
    expect(letters[0]!.type).toBe(MALFORMED_TYPE)
    expect(letters[0]!.dlreason).toMatch(/^structured CloudEvent body is not JSON/)
    expect(Buffer.from(letters[0]!.data as Uint8Array).equals(body)).toBe(true)
    // The handler got an error at the read, never the data: one attempt, no retry.
    expect(seen).toHaveLength(1)
    expect(seen[0]).toBeInstanceOf(EnvelopeError)
    await waitFor('the confirm of the dead letter', () => bus.stats().malformed === 1)
    expect(bus.stats()).toMatchObject({ malformed: 1, handled: 0, retried: 0 })
  })

  it('dead-letters it as malformed when the handler swallows the error too', async () => {
    const type = 'com.acme.lazy.swallow'
    const { bus, letters, broker } = await setup(type, (e) => {
      try {
        return e.data
      } catch {
        return undefined
      }
    })
    inject(broker, type, brokenDocument(type, 'l-2'))
    await waitFor('the dead letter', () => letters.length === 1)
    expect(letters[0]!.type).toBe(MALFORMED_TYPE)
    await waitFor('the confirm of the dead letter', () => bus.stats().malformed === 1)
    expect(bus.stats().handled).toBe(0)
  })

  it('never parses data that no handler reads: unread, skipped by idempotency, or of no handled type', async () => {
    const type = 'com.acme.lazy.unread'
    const ids: string[] = []
    const { bus, letters, broker } = await setup(type, (e) => void ids.push(e.id), idempotency())
    inject(broker, type, brokenDocument(type, 'u-1'))
    inject(broker, type, brokenDocument(type, 'u-1')) // a duplicate: idempotency skips it
    inject(broker, type, brokenDocument('com.acme.lazy.other', 'u-2')) // nobody handles this type here
    await waitFor('the three deliveries', () => bus.stats().handled + bus.stats().skipped === 3)
    expect(ids).toEqual(['u-1'])
    expect(bus.stats()).toMatchObject({ handled: 1, skipped: 2, malformed: 0 })
    expect(letters).toHaveLength(0)
  })
})

describe('an answer whose data does not parse', () => {
  it('fails its query with the reason, at once', async () => {
    const broker = new MemoryBroker()
    const asker = await createBus({ service: 'asker', transports: { m: memoryTransport({ broker }) } })
    buses.push(asker)
    await asker.start()
    // A responder of another make: it answers with a structured reply whose data is cut short.
    const raw = memoryTransport({ broker })
    const type = 'com.acme.lazy.ask'
    const sub = await raw.subscribe(
      { name: type, kind: 'queue' },
      'rogue',
      async (d) => {
        const query = d.event!
        const text = encodeStructured(
          createEvent({
            type: `${type}.reply`,
            source: 'urn:rogue',
            data: { n: 1 },
            extensions: {},
            correlationid: query.id,
          }),
        ).toString('utf8')
        broker.inject(
          { name: query.replyto as string, kind: 'queue' },
          Buffer.from(text.replace('{"n":1}}', '{"n":}}')),
          {
            'content-type': STRUCTURED_CONTENT_TYPE,
          },
        )
      },
      { maxInFlight: 1 },
    )
    const started = Date.now()
    // At its timeout it would reject with QUERY_TIMEOUT, not the EnvelopeError of the reply.
    await expect(asker.query({ type, data: {} }, { timeoutMs: 20_000 })).rejects.toThrow(EnvelopeError)
    expect(Date.now() - started).toBeLessThan(10_000)
    await sub.close()
  })
})
