import { ConfigError } from '@omnibus/core'
import type { Transport } from '@omnibus/core/adapter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kafkaTransport, topicName } from '../src/index.js'
import { BROKERS, event, rawKafka, transport, uniq } from './helpers.js'

describe('topic names', () => {
  it('keeps valid names and maps others deterministically, without collisions', () => {
    expect(topicName('orders.placed_v1-x')).toBe('orders.placed_v1-x')
    const mapped = topicName('com.acme/order placed')
    expect(mapped).toMatch(/^com\.acme_order_placed-[0-9a-f]{10}$/)
    expect(topicName('com.acme/order placed')).toBe(mapped)
    expect(topicName('com.acme_order_placed')).not.toBe(mapped)
    expect(topicName('a:b')).not.toBe(topicName('a;b'))
    const long = topicName('x'.repeat(400))
    expect(long.length).toBeLessThanOrEqual(249)
    expect(long).not.toBe(topicName(`${'x'.repeat(399)}y`))
    expect(topicName('..')).not.toBe('..')
  })
})

describe('options', () => {
  const make = (options: Record<string, unknown>) =>
    kafkaTransport(options as never, { key: 'transports.events', service: 's' })

  it('rejects bad options naming the key', () => {
    expect(() => make({})).toThrow(ConfigError)
    expect(() => make({})).toThrow(/transports\.events\.brokers/)
    expect(() => make({ brokers: ['nohost'] })).toThrow(/transports\.events\.brokers/)
    expect(() => make({ brokers: BROKERS, partitions: 0 })).toThrow(/transports\.events\.partitions/)
    expect(() => make({ brokers: BROKERS, mode: 'json' })).toThrow(/transports\.events\.mode/)
    expect(() => make({ brokers: BROKERS, sasl: { mechanism: 'gssapi' } })).toThrow(/sasl\.mechanism/)
    expect(() => make({ brokers: BROKERS, heartbeatInterval: 20_000 })).toThrow(/heartbeatInterval/)
  })

  it('accepts a comma-separated broker list and reports its limit as maxMessageBytes', () => {
    const t = make({ brokers: '127.0.0.1:9092, 127.0.0.1:9093', maxMessageBytes: 2048 })
    expect(t.capabilities).toMatchObject({
      maxMessageBytes: 2048,
      ordering: true,
      replay: true,
      durableAcrossRestart: true,
    })
  })
})

describe('provisioning and limits on the broker', () => {
  let t: Transport
  const admin = rawKafka().admin()
  beforeAll(async () => {
    t = transport({ partitions: 5 })
    await Promise.all([t.connect(), admin.connect()])
  })
  afterAll(async () => {
    await Promise.all([t.close(), admin.disconnect()])
  })

  it('creates missing topics with the configured partitions', async () => {
    const name = uniq('created')
    await t.publish({ name, kind: 'topic' }, [event('com.test.created')])
    const { topics } = await admin.fetchTopicMetadata({ topics: [name] })
    expect(topics[0]!.partitions).toHaveLength(5)
  })

  it('with provision: false, a missing topic is CHANNEL_NOT_FOUND and is not created', async () => {
    const strict = transport({ provision: false })
    await strict.connect()
    try {
      const name = uniq('missing')
      await expect(strict.publish({ name, kind: 'topic' }, [event('com.test.x')])).rejects.toMatchObject({
        code: 'CHANNEL_NOT_FOUND',
        message: expect.stringMatching(/^\[omnibus\] \[kafka\] .*provision/),
      })
      await expect(
        strict.subscribe({ name, kind: 'topic' }, 'g', async () => {}, { maxInFlight: 1 }),
      ).rejects.toMatchObject({ code: 'CHANNEL_NOT_FOUND' })
      expect(await admin.listTopics()).not.toContain(name)
      // An existing topic works as usual.
      const existing = uniq('existing')
      await admin.createTopics({ topics: [{ topic: existing, numPartitions: 1 }], waitForLeaders: true })
      await strict.publish({ name: existing, kind: 'topic' }, [event('com.test.x')])
    } finally {
      await strict.close()
    }
  })

  it('rejects a record over maxMessageBytes before sending, naming the limit', async () => {
    const small = transport({ maxMessageBytes: 4096 })
    await small.connect()
    try {
      const name = uniq('oversize')
      const big = event('com.test.big', {
        data: new Uint8Array(5000),
        datacontenttype: 'application/octet-stream',
      })
      await expect(small.publish({ name, kind: 'topic' }, [big])).rejects.toMatchObject({
        code: 'MESSAGE_TOO_LARGE',
        message: expect.stringContaining('4096'),
      })
      expect(await admin.listTopics()).not.toContain(name)
    } finally {
      await small.close()
    }
  })

  it('sends a batch larger than one request allows in several requests, all confirmed', async () => {
    const name = uniq('bigbatch')
    const events = Array.from({ length: 12 }, () =>
      event('com.test.chunk', { data: new Uint8Array(300_000), datacontenttype: 'application/octet-stream' }),
    )
    await t.publish({ name, kind: 'topic' }, events)
    const offsets = await admin.fetchTopicOffsets(name)
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(12)
  })
})
