import type { Envelope } from '@omnibus/core'
import { createEvent } from '@omnibus/core/adapter'
import { afterEach, describe, expect, test } from 'vitest'
import type { RabbitMQTransport } from '../src/index.js'
import { closeAll, collector, connected, unique, waitFor, withRaw } from './helpers.js'

const open: RabbitMQTransport[] = []
afterEach(async () => {
  await closeAll(...open.splice(0))
})

function sample(): Envelope {
  return createEvent({
    type: 'com.example.binding',
    source: '/tests/rabbitmq',
    subject: 'grüße 🐇',
    datacontenttype: 'application/json',
    dataschema: 'https://example.com/schema',
    data: { text: 'naïve café ✓', n: 42, nested: [1, true, null] },
    partitionkey: 'k-1',
    extensions: { tenant: 'acme', priority: 7, urgent: true },
  })
}

describe.each(['binary', 'structured'] as const)('rabbitmq binding (%s mode)', (mode) => {
  test('every attribute survives a trip through the broker', async () => {
    const transport = await connected({ mode })
    open.push(transport)
    const channel = { name: unique('binding'), kind: 'topic' as const }
    const sink = collector()
    const sub = await transport.subscribe(channel, 'g', sink.handler, { maxInFlight: 4 })
    const json = sample()
    const binary = createEvent({
      type: 'com.example.bytes',
      source: '/tests/rabbitmq',
      datacontenttype: 'application/octet-stream',
      data: new Uint8Array([0, 1, 2, 250, 255]),
    })
    await transport.publish(channel, [json])
    await transport.publish(channel, [binary])
    await waitFor('two deliveries', () => sink.got.length === 2, 10_000)
    await sub.close()
    const [a, b] = sink.events()
    for (const key of [
      'id',
      'source',
      'type',
      'subject',
      'time',
      'datacontenttype',
      'dataschema',
      'tenant',
    ]) {
      expect(a?.[key]).toEqual(json[key])
    }
    expect(a?.priority).toBe(7)
    expect(a?.urgent).toBe(true)
    expect(a?.data).toEqual(json.data)
    expect(Buffer.from(b?.data as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 250, 255]))
    expect(sink.got[0]?.deliveryCount).toBe(1)
  })
})

describe('rabbitmq binding: foreign producers', () => {
  test('reads cloudEvents: and ce- prefixes and non-string header values', async () => {
    const transport = await connected()
    open.push(transport)
    const channel = { name: unique('foreign'), kind: 'queue' as const }
    const sink = collector()
    const sub = await transport.subscribe(channel, channel.name, sink.handler, { maxInFlight: 4 })
    await withRaw(async (ch) => {
      const base = {
        'cloudEvents:specversion': '1.0',
        'cloudEvents:source': '/raw',
        'cloudEvents:type': 't.colon',
      }
      ch.sendToQueue(channel.name, Buffer.from('{"a":1}'), {
        headers: { ...base, 'cloudEvents:id': 'colon-1', 'cloudEvents:count': 5 },
        contentType: 'application/json',
      })
      ch.sendToQueue(channel.name, Buffer.from('hello'), {
        headers: {
          'ce-specversion': '1.0',
          'ce-source': '/raw',
          'ce-type': 't.dash',
          'ce-id': Buffer.from('dash-1'),
        },
        contentType: 'text/plain',
      })
      ch.sendToQueue(channel.name, Buffer.from('not a cloudevent'), { headers: { foo: 1 } })
      await ch.close()
    })
    await waitFor('three deliveries', () => sink.got.length === 3, 10_000)
    await sub.close()
    const byId = new Map(sink.events().map((e) => [e.id, e]))
    expect(byId.get('colon-1')?.data).toEqual({ a: 1 })
    // An AMQP integer header is a CloudEvents Integer, not its digits.
    expect(byId.get('colon-1')?.count).toBe(5)
    expect(byId.get('dash-1')?.data).toBe('hello')
    const bad = sink.got.find((d) => d.malformed)
    expect(bad?.malformed?.reason).toMatch(/specversion/)
    expect(Buffer.from(bad!.malformed!.body).toString()).toBe('not a cloudevent')
  })
})
