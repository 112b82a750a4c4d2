import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createEvent,
  encodeStructured,
  MALFORMED_TYPE,
  STRUCTURED_CONTENT_TYPE,
  type Transport,
} from '../src/adapter/index.js'
import {
  type Bus,
  type BusConfig,
  ConfigError,
  createBus,
  type Envelope,
  MemoryBroker,
  memoryTransport,
} from '../src/index.js'
import { seal } from '../src/security/encryption.js'
import { cachingKeys, type DataKey, staticKeys } from '../src/security/index.js'
import { waitFor } from './helpers.js'
import { recorded } from './security-helpers.js'

const k1 = randomBytes(32)
const k2 = randomBytes(32)
const SECRET = 'card 4111-1111-1111-1111'

const buses: Bus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.stop()))
})

async function bus(broker: MemoryBroker, config: Partial<BusConfig> = {}, service = 'svc') {
  const r = recorded(broker)
  const b = await createBus({
    service,
    transports: { m: r.transport },
    delivery: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 },
    encryption: { current: 'k1', keys: { k1: k1.toString('base64') } },
    ...config,
  })
  buses.push(b)
  return { bus: b, ...r }
}

describe('payload encryption (memory)', () => {
  it('encrypts data of every shape before the broker, leaves attributes clear, and hands handlers the original', async () => {
    const broker = new MemoryBroker()
    const consumer = await bus(broker)
    const got: Envelope[] = []
    consumer.bus.on('com.acme.paid', async (e) => void got.push(e))
    await consumer.bus.start()
    const producer = await bus(broker, {}, 'producer')
    const sent = [
      { type: 'com.acme.paid', data: { card: SECRET, n: 1 }, partitionkey: 'order-7', subject: 'o7' },
      { type: 'com.acme.paid', data: `text ${SECRET}` },
      { type: 'com.acme.paid', data: Buffer.from(`bytes ${SECRET}`) },
      { type: 'com.acme.paid', data: null },
      { type: 'com.acme.paid' },
    ]
    await producer.bus.publish<unknown>(sent)
    await waitFor('the deliveries', () => got.length === sent.length)
    const order = producer.events.map((e) => e.id)
    got.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id))
    for (const [i, e] of got.entries()) {
      expect(e.data).toEqual(sent[i]!.data)
      expect(e.enckeyid).toBeUndefined()
      const wire = producer.events[i]!
      expect(wire.enckeyid).toBe('k1')
      expect(wire.type).toBe('com.acme.paid')
      expect(wire.datacontenttype).toBe('application/octet-stream')
    }
    expect(got[0]!.partitionkey).toBe('order-7')
    expect(got[0]!.datacontenttype).toBe('application/json')
    expect(got[1]!.datacontenttype).toMatch(/^text\/plain/)
    expect(producer.wire.join('\n')).not.toContain('4111')
    expect(producer.wire[0]).toContain('"partitionkey":"order-7"')
  })

  it('encrypts commands, queries and their answers', async () => {
    const broker = new MemoryBroker()
    const server = await bus(broker, {}, 'server')
    server.bus.answer('com.acme.balance', async (q) => ({
      secret: SECRET,
      asked: (q.data as { who: string }).who,
    }))
    await server.bus.start()
    const client = await bus(broker, {}, 'client')
    await client.bus.start()
    await expect(client.bus.query({ type: 'com.acme.balance', data: { who: 'ann' } })).resolves.toEqual({
      secret: SECRET,
      asked: 'ann',
    })
    expect([...client.wire, ...server.wire].join('\n')).not.toContain('4111')
    expect(server.wire.length).toBeGreaterThan(0)
  })

  it('rotation: new messages use the current key, old ones still decrypt', async () => {
    const broker = new MemoryBroker()
    const both = { k1: k1.toString('base64'), k2: k2.toString('hex') }
    const consumer = await bus(broker, { encryption: { current: 'k2', keys: both } })
    const got: unknown[] = []
    consumer.bus.on('com.acme.rotated', async (e) => void got.push(e.data))
    await consumer.bus.start()
    const before = await bus(broker, {}, 'before')
    await before.bus.publish({ type: 'com.acme.rotated', data: 'old' })
    const after = await bus(broker, { encryption: { current: 'k2', keys: both } }, 'after')
    await after.bus.publish({ type: 'com.acme.rotated', data: 'new' })
    await waitFor('both messages', () => got.length === 2)
    expect(got.sort()).toEqual(['new', 'old'])
    expect(before.events[0]!.enckeyid).toBe('k1')
    expect(after.events[0]!.enckeyid).toBe('k2')
  })

  describe('what cannot be decrypted is dead-lettered with the reason, never handled', () => {
    async function deadLetters(
      inject: (transport: Transport, broker: MemoryBroker) => unknown,
      encrypted = true,
    ) {
      const config = {}
      const broker = new MemoryBroker()
      const consumer = await bus(broker, config)
      const handled: Envelope[] = []
      consumer.bus.on('com.acme.t', async (e) => void handled.push(e))
      await consumer.bus.start()
      const letters: Envelope[] = []
      const reader = await bus(broker, config, 'reader')
      reader.bus.onDeadLetter('com.acme.t', async (e) => void letters.push(e))
      await reader.bus.start()
      const raw = memoryTransport({ broker })
      await inject(raw, broker)
      await waitFor('the dead letter', () => letters.length === 1)
      expect(handled).toEqual([])
      expect(letters[0]!.type).toBe(MALFORMED_TYPE)
      // The dead letter holds the message as it arrived: still encrypted.
      if (encrypted) expect(Buffer.from(letters[0]!.data as Uint8Array).toString()).not.toContain('4111')
      return { reason: String(letters[0]!.dlreason), handled }
    }
    const channel = { name: 'com.acme.t', kind: 'topic' as const }
    const event = (extra = {}) =>
      createEvent({ type: 'com.acme.t', source: 'urn:t', data: { card: SECRET }, ...extra })
    const key1: DataKey = { id: 'k1', key: k1 }

    it('a changed ciphertext byte', async () => {
      const { reason } = await deadLetters(async (raw) => {
        const sealed = seal(event(), key1)
        const data = Buffer.from(sealed.data as Uint8Array)
        data[20]! ^= 1
        await raw.publish(channel, [{ ...sealed, data } as Envelope])
      })
      expect(reason).toMatch(/failed authentication with key "k1"/)
    })

    it('a changed clear attribute (subject, authenticated as additional data)', async () => {
      const { reason } = await deadLetters(async (raw) => {
        const sealed = seal(event({ subject: 'mine' }), key1)
        await raw.publish(channel, [{ ...sealed, subject: 'yours' } as Envelope])
      })
      expect(reason).toMatch(/failed authentication/)
    })

    it('a key the provider does not have', async () => {
      const { reason } = await deadLetters((raw) =>
        raw.publish(channel, [seal(event(), { id: 'gone', key: randomBytes(32) })]),
      )
      expect(reason).toMatch(/key "gone", which the key provider does not have/)
    })

    it('a message that is not encrypted', async () => {
      const { reason } = await deadLetters((raw) => raw.publish(channel, [event()]), false)
      expect(reason).toMatch(/is not encrypted/)
    })

    it('a message that is not encrypted, whose JSON data does not parse (read only when refused)', async () => {
      const text = encodeStructured(event()).toString('utf8')
      const body = Buffer.from(text.replace(/"data":\{.*\}\}$/, '"data":{"card":}}'))
      expect(body.toString()).not.toBe(text)
      const { reason } = await deadLetters(
        (_raw, broker) => broker.inject(channel, body, { 'content-type': STRUCTURED_CONTENT_TYPE }),
        false,
      )
      expect(reason).toMatch(/is not encrypted/)
    })
  })

  it('acceptPlaintext hands unencrypted messages on (migration)', async () => {
    const broker = new MemoryBroker()
    const consumer = await bus(broker, {
      encryption: { current: 'k1', keys: { k1: k1.toString('base64') }, acceptPlaintext: true },
    })
    const got: unknown[] = []
    consumer.bus.on('com.acme.p', async (e) => void got.push(e.data))
    await consumer.bus.start()
    await memoryTransport({ broker }).publish({ name: 'com.acme.p', kind: 'topic' }, [
      createEvent({ type: 'com.acme.p', source: 'urn:t', data: 'clear' }),
    ])
    await waitFor('the delivery', () => got.length === 1)
    expect(got).toEqual(['clear'])
  })

  it('a KMS-style provider: keys fetched once, a failed fetch leaves the message for redelivery', async () => {
    const broker = new MemoryBroker()
    let resolves = 0
    let failNext = true
    const kms = () =>
      cachingKeys({
        current: async () => ({ id: 'kms-1', key: k1 }),
        resolve: async (id) => {
          resolves++
          if (failNext) {
            failNext = false
            throw new Error('KMS throttled')
          }
          return id === 'kms-1' ? { id, key: k1 } : undefined
        },
      })
    const consumer = await bus(broker, { encryption: { provider: kms() } })
    const got: unknown[] = []
    consumer.bus.on('com.acme.k', async (e) => void got.push(e.data))
    await consumer.bus.start()
    const producer = await bus(broker, { encryption: { provider: kms() } }, 'producer')
    await producer.bus.publish([1, 2, 3].map((n) => ({ type: 'com.acme.k', data: n })))
    await waitFor('all three, the first after a redelivery', () => got.length === 3)
    expect(got.sort()).toEqual([1, 2, 3])
    expect(resolves).toBe(2)
    expect(consumer.bus.stats().malformed).toBe(0)
  })

  it('says how much smaller a message must be, and refuses bad keys without showing them', async () => {
    const broker = new MemoryBroker()
    const b = await createBus({
      service: 's',
      transports: { m: memoryTransport({ broker, maxMessageBytes: 100_000 }) },
      encryption: { provider: staticKeys({ current: 'a', keys: { a: k1 } }) },
    })
    buses.push(b)
    const limit = (
      b as unknown as { settings: { transports: Map<string, Transport> } }
    ).settings.transports.get('m')!.capabilities.maxMessageBytes
    expect(limit).toBeLessThan(75_000)
    await expect(b.publish({ type: 'big', data: 'x'.repeat(80_000) })).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
    })
    const short = 'c2hvcnQta2V5'
    const error = await createBus({
      service: 's',
      transports: { m: { adapter: 'memory' } },
      encryption: { current: 'a', keys: { a: short } },
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(String(error)).toMatch(/encryption\.keys\.a.*256-bit/)
    expect(String(error)).not.toContain(short)
  })
})
