import type { Envelope } from '@omnibus/core'
import type { Transport } from '@omnibus/core/adapter'
import type { KafkaMessage } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { event, rawKafka, recorder, transport, uniq, waitFor } from './helpers.js'

/** Every attribute the conformance suite cares about, in one set of events. */
function samples(type: string): Envelope[] {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i)
  return [
    event(type, {
      subject: 'ünïcødé ✓ 日本',
      dataschema: 'https://example.com/schema.json',
      data: { text: 'Grüße, 世界 🚀', nested: { n: 42, ok: true, list: [1, 'two', null] } },
      partitionkey: 'order-1',
      extensions: { count: 7, negative: -3, flag: true, off: false, note: 'plain' },
    }),
    event(type, { data: bytes, datacontenttype: 'application/octet-stream' }),
    event(type, { data: 'just text, ñ', datacontenttype: 'text/plain; charset=utf-8' }),
    event(type, { data: undefined }),
  ]
}

function attributes(e: Envelope): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(e))
    if (k !== 'data' && k !== 'data_base64' && v !== undefined) out[k] = v
  return out
}

function expectSame(received: Envelope, sent: Envelope): void {
  expect(attributes(received)).toEqual(attributes(sent))
  if (sent.data instanceof Uint8Array) {
    expect(Buffer.from(received.data as Uint8Array).equals(Buffer.from(sent.data))).toBe(true)
  } else {
    expect(received.data).toEqual(sent.data)
  }
}

async function readRaw(topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = rawKafka().consumer({ groupId: uniq('raw'), maxWaitTimeInMs: 200 })
  const seen: KafkaMessage[] = []
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) })
  try {
    await waitFor(`${count} raw records`, () => seen.length >= count)
  } finally {
    await consumer.disconnect()
  }
  return seen
}

describe('CloudEvents Kafka binding through the broker', () => {
  let binary: Transport
  let structured: Transport

  beforeAll(async () => {
    // The default mode: binary.
    binary = transport()
    structured = transport({ mode: 'structured' })
    await Promise.all([binary.connect(), structured.connect()])
  })
  afterAll(async () => {
    await Promise.all([binary.close(), structured.close()])
  })

  it('round-trips every attribute, JSON/binary/text data and typed extensions in both modes', async () => {
    const channel = { name: uniq('binding'), kind: 'topic' as const }
    const { deliveries, handler } = recorder()
    const sub = await binary.subscribe(channel, 'g', handler, { maxInFlight: 8 })
    const sentBinary = samples('com.test.binary')
    const sentStructured = samples('com.test.structured')
    await binary.publish(channel, sentBinary)
    await structured.publish(channel, sentStructured)
    await waitFor('8 deliveries', () => deliveries.length >= 8)
    await sub.close()
    expect(deliveries.every((d) => d.malformed === undefined && d.deliveryCount === 1)).toBe(true)
    const byId = new Map(deliveries.map((d) => [d.event!.id, d.event!]))
    for (const sent of [...sentBinary, ...sentStructured]) expectSame(byId.get(sent.id)!, sent)
    expect(byId.get(sentBinary[0]!.id)!.count).toBe(7)
    expect(byId.get(sentBinary[0]!.id)!.flag).toBe(true)
  })

  it('binary mode: ce_ headers, content-type header, data as value, partitionkey as the record key', async () => {
    const channel = { name: uniq('wire-binary'), kind: 'topic' as const }
    const [keyed, plain] = [
      event('com.test.wire', { partitionkey: 'customer-9', data: { a: 1 } }),
      event('com.test.wire', { data: { b: 2 } }),
    ]
    await binary.publish(channel, [keyed!, plain!])
    const records = await readRaw(channel.name, 2)
    const first = records.find((r) => r.headers?.ce_id?.toString() === keyed!.id)!
    const second = records.find((r) => r.headers?.ce_id?.toString() === plain!.id)!
    expect(first.headers!.ce_specversion!.toString()).toBe('1.0')
    expect(first.headers!.ce_type!.toString()).toBe('com.test.wire')
    expect(first.headers!.ce_source!.toString()).toBe('urn:test')
    expect(first.headers!['content-type']!.toString()).toBe('application/json')
    expect(first.headers!.ce_datacontenttype).toBeUndefined()
    expect(JSON.parse(first.value!.toString())).toEqual({ a: 1 })
    expect(first.key!.toString()).toBe('customer-9')
    expect(second.key).toBeNull()
  })

  it('structured mode: the whole event as application/cloudevents+json, key still the partitionkey', async () => {
    const channel = { name: uniq('wire-structured'), kind: 'topic' as const }
    const sent = event('com.test.wire', { partitionkey: 'k1', data: { a: 1 } })
    await structured.publish(channel, [sent])
    const [record] = await readRaw(channel.name, 1)
    expect(record!.headers!['content-type']!.toString()).toBe('application/cloudevents+json')
    const body = JSON.parse(record!.value!.toString())
    expect(body).toMatchObject({ specversion: '1.0', id: sent.id, type: 'com.test.wire', data: { a: 1 } })
    expect(record!.key!.toString()).toBe('k1')
  })

  it('hands over foreign bytes as malformed and goes on with good events', async () => {
    const channel = { name: uniq('foreign'), kind: 'queue' as const }
    const { deliveries, handler } = recorder()
    const sub = await binary.subscribe(channel, channel.name, handler, { maxInFlight: 4 })
    const producer = rawKafka().producer()
    await producer.connect()
    await producer.send({
      topic: channel.name,
      messages: [
        { value: Buffer.from([0xff, 0xfe, 0x00, 0x01]) },
        { value: 'not json {', headers: { ce_specversion: '1.0' } },
      ],
    })
    await producer.disconnect()
    const good = event('com.test.good')
    await binary.publish(channel, [good])
    await waitFor('3 deliveries', () => deliveries.length >= 3)
    await sub.close()
    expect(deliveries.filter((d) => d.malformed).length).toBe(2)
    expect(deliveries.find((d) => d.event)?.event?.id).toBe(good.id)
    for (const d of deliveries.filter((x) => x.malformed)) expect(d.malformed!.reason).toMatch(/./)
  })

  it('a foreign binary-mode event without ce_partitionkey takes the record key as partitionkey', async () => {
    const channel = { name: uniq('foreign-key'), kind: 'queue' as const }
    const { deliveries, handler } = recorder()
    const sub = await binary.subscribe(channel, channel.name, handler, { maxInFlight: 1 })
    const producer = rawKafka().producer()
    await producer.connect()
    await producer.send({
      topic: channel.name,
      messages: [
        {
          key: 'acct-5',
          value: '{"x":1}',
          headers: {
            ce_specversion: '1.0',
            ce_id: 'f-1',
            ce_source: 'urn:other',
            ce_type: 'com.other',
            'content-type': 'application/json',
          },
        },
      ],
    })
    await producer.disconnect()
    await waitFor('1 delivery', () => deliveries.length >= 1)
    await sub.close()
    expect(deliveries[0]!.event).toMatchObject({ id: 'f-1', partitionkey: 'acct-5', data: { x: 1 } })
  })
})
