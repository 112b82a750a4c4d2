import type { Envelope } from '@omnibus/core'
import { createEvent, type Delivery } from '@omnibus/core/adapter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GcpTransport } from '../src/index.js'
import { channel, makeTransport, rawClient, unique, waitFor } from './helpers.js'

function sample(n: number, partitionkey?: string): Envelope {
  return createEvent({
    type: 'com.acme.binding.tested',
    source: 'urn:test:gcp',
    subject: `sübject ${n} ✓`,
    time: '2024-05-06T07:08:09.123Z',
    dataschema: 'https://schemas.acme.test/binding.json',
    data: { n, text: 'grüße, 世界 🚀', nested: { list: [1, 'two', true, null] } },
    ...(partitionkey ? { partitionkey } : {}),
    extensions: { tenant: 'ünïcode', attempt: 42, urgent: true, negative: -7 },
  })
}

const binary = createEvent({
  type: 'com.acme.binding.bytes',
  source: 'urn:test:gcp',
  datacontenttype: 'application/octet-stream',
  data: new Uint8Array([0, 1, 2, 254, 255, 0x7b, 10, 13]),
})

const text = createEvent({
  type: 'com.acme.binding.text',
  source: 'urn:test:gcp',
  datacontenttype: 'text/plain; charset=utf-8',
  data: 'plain text — ünïcode',
})

function comparable(event: Envelope): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined || key === 'data_base64') continue
    out[key] = value instanceof Uint8Array ? [...value] : value
  }
  return out
}

describe.each(['binary', 'structured'] as const)('gcp binding through the emulator (%s mode)', (mode) => {
  let transport: GcpTransport

  beforeAll(async () => {
    transport = makeTransport({ mode })
    await transport.connect()
  })
  afterAll(() => transport.close())

  it('round-trips every attribute, JSON, bytes and text data, and typed extensions', async () => {
    const ch = channel('topic')
    const group = unique('g')
    await transport.provision(ch, group)
    const sent = [sample(1, 'k1'), sample(2), binary, text]
    await transport.publish(ch, sent)
    const got: Delivery[] = []
    const sub = await transport.subscribe(ch, group, async (d) => void got.push(d), { maxInFlight: 10 })
    await waitFor('4 deliveries', () => got.length >= 4)
    await sub.close()
    const byId = new Map(got.map((d) => [d.event?.id, d]))
    for (const event of sent) {
      const delivery = byId.get(event.id)
      expect(delivery?.malformed).toBeUndefined()
      expect(delivery?.deliveryCount).toBe(1)
      expect(comparable(delivery!.event!)).toEqual(comparable(event))
    }
  })

  it('puts the attributes on the wire as Google’s binding says', async () => {
    const ch = channel('queue')
    await transport.publish(ch, [sample(3, 'key-3')])
    const pubsub = rawClient()
    const sub = pubsub.subscription(transport.subscriptionName(ch, ch.name))
    const attributes = await new Promise<Record<string, string>>((resolve, reject) => {
      sub.on('error', reject)
      sub.once('message', (m) => {
        m.ack()
        resolve({ ...m.attributes, orderingKey: m.orderingKey })
      })
    })
    await sub.close()
    await pubsub.close()
    if (mode === 'binary') {
      expect(attributes['ce-specversion']).toBe('1.0')
      expect(attributes['ce-type']).toBe('com.acme.binding.tested')
      expect(attributes['ce-partitionkey']).toBe('key-3')
      expect(attributes['ce-attempt']).toBe('42')
      expect(attributes['content-type']).toBe('application/json')
    } else {
      expect(attributes['content-type']).toBe('application/cloudevents+json')
      expect(attributes['ce-type']).toBeUndefined()
    }
    expect(attributes.orderingKey).toBe('key-3')
  })
})

describe('gcp binding: mixed modes and limits', () => {
  let binaryTransport: GcpTransport
  let structuredTransport: GcpTransport

  beforeAll(async () => {
    binaryTransport = makeTransport({ mode: 'binary' })
    structuredTransport = makeTransport({ mode: 'structured' })
    await Promise.all([binaryTransport.connect(), structuredTransport.connect()])
  })
  afterAll(() => Promise.all([binaryTransport.close(), structuredTransport.close()]))

  it('detects the content mode of each message on receipt', async () => {
    const ch = channel('queue')
    const a = sample(10)
    const b = sample(11)
    await binaryTransport.publish(ch, [a])
    await structuredTransport.publish(ch, [b])
    const got: Delivery[] = []
    const sub = await binaryTransport.subscribe(ch, ch.name, async (d) => void got.push(d), {
      maxInFlight: 5,
    })
    await waitFor('2 deliveries', () => got.length >= 2)
    await sub.close()
    const ids = got.map((d) => d.event?.id).sort()
    expect(ids).toEqual([a.id, b.id].sort())
    for (const d of got) expect(comparable(d.event!)).toEqual(comparable(d.event!.id === a.id ? a : b))
  })

  it('rejects an attribute value over 1024 bytes before sending, naming the limit', async () => {
    const ch = channel('queue')
    const long = createEvent({
      type: 'com.acme.long',
      source: 'urn:test:gcp',
      data: {},
      extensions: { note: 'x'.repeat(1025) },
    })
    await expect(binaryTransport.publish(ch, [long])).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
      message: expect.stringContaining('1024 bytes per attribute value'),
    })
    // The same event fits in structured mode, where attributes travel in the body.
    await structuredTransport.publish(ch, [long])
    const ok = sample(20)
    await binaryTransport.publish(ch, [ok])
    const got: Delivery[] = []
    const sub = await binaryTransport.subscribe(ch, ch.name, async (d) => void got.push(d), {
      maxInFlight: 5,
    })
    await waitFor('2 deliveries', () => got.length >= 2)
    await sub.close()
    expect(got.map((d) => d.event?.id).sort()).toEqual([long.id, ok.id].sort())
  })

  it('rejects more than 100 attributes and an ordering key over 1024 bytes', async () => {
    const ch = channel('queue')
    const extensions: Record<string, string> = {}
    for (let i = 0; i < 100; i++) extensions[`x${i}`] = 'v'
    const many = createEvent({ type: 'com.acme.many', source: 'urn:test:gcp', extensions })
    await expect(binaryTransport.publish(ch, [many])).rejects.toThrow(/limit of 100 attributes/)
    const keyed = createEvent({
      type: 'com.acme.key',
      source: 'urn:test:gcp',
      partitionkey: 'k'.repeat(1025),
    })
    await expect(structuredTransport.publish(ch, [keyed])).rejects.toThrow(/1024 bytes per ordering key/)
  })

  it('rejects a message over 10 MB before sending, naming the limit', async () => {
    const ch = channel('queue')
    const big = createEvent({
      type: 'com.acme.big',
      source: 'urn:test:gcp',
      datacontenttype: 'application/octet-stream',
      data: new Uint8Array(10_000_001),
    })
    await expect(binaryTransport.publish(ch, [big])).rejects.toMatchObject({
      code: 'MESSAGE_TOO_LARGE',
      message: expect.stringContaining('10000000 bytes'),
    })
  })
})
