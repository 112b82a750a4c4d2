import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs'
import type { Envelope } from '@omnibus/core'
import { createEvent, encodeBinary } from '@omnibus/core/adapter'
import { afterAll, describe, expect, it } from 'vitest'
import { awsTransport, BINARY_PREFIXES, resourceName } from '../src/index.js'
import { collector, newSqs, testOptions, uid, waitFor } from './helpers.js'

const sqs = newSqs()
const transport = awsTransport(testOptions())
await transport.connect()

afterAll(async () => {
  await transport.close()
  sqs.destroy()
})

function richEvent(i: number): Envelope {
  return createEvent({
    type: 'com.example.rich',
    source: 'urn:test:aws',
    subject: `sub-${i}`,
    time: '2024-01-02T03:04:05.678Z',
    datacontenttype: 'application/json',
    dataschema: 'https://example.com/schema.json',
    data: { text: 'grüße, 日本語, emoji 🚀', n: i, nested: { ok: true } },
    extensions: { strext: 'ünïcode', intext: 42, boolext: false },
  })
}

describe('aws binding through moto', () => {
  it('round-trips every attribute through an SNS topic and its group queue', async () => {
    const channel = { name: uid('binding.topic'), kind: 'topic' as const }
    const { got, handler } = collector()
    const sub = await transport.subscribe(channel, 'g1', handler, { maxInFlight: 10 })
    const events = [richEvent(1), richEvent(2)]
    await transport.publish(channel, events)
    await waitFor('2 deliveries', () => got.length === 2)
    await sub.close()
    const byId = new Map(got.map((d) => [d.event?.id, d]))
    for (const sent of events) {
      const d = byId.get(sent.id)!
      expect(d.deliveryCount).toBe(1)
      const e = d.event!
      for (const key of [
        'id',
        'source',
        'type',
        'subject',
        'time',
        'datacontenttype',
        'dataschema',
        'strext',
      ]) {
        expect(e[key as keyof Envelope]).toEqual(sent[key as keyof Envelope])
      }
      expect(e.intext).toBe(42)
      expect(e.boolext).toBe(false)
      expect(e.data).toEqual(sent.data)
    }
  })

  it('round-trips binary data and non-ASCII text through an SQS queue channel', async () => {
    const channel = { name: uid('binding.queue'), kind: 'queue' as const }
    const bytes = Uint8Array.from([0, 1, 2, 253, 254, 255, 0xef, 0xbf, 0xbe])
    const binary = createEvent({
      type: 't.bin',
      source: 'urn:test',
      datacontenttype: 'application/octet-stream',
      data: bytes,
    })
    const text = createEvent({
      type: 't.txt',
      source: 'urn:test',
      datacontenttype: 'text/plain',
      data: 'Ωmega \uFFFE\uFFFF end',
    })
    // Published before anyone subscribes: a queue channel keeps it.
    await transport.publish(channel, [binary])
    await transport.publish(channel, [text])
    const { got, handler } = collector()
    const sub = await transport.subscribe(channel, channel.name, handler, { maxInFlight: 4 })
    await waitFor('2 deliveries', () => got.length === 2)
    await sub.close()
    const bin = got.find((d) => d.event?.id === binary.id)!.event!
    expect(Buffer.from(bin.data as Uint8Array)).toEqual(Buffer.from(bytes))
    expect(got.find((d) => d.event?.id === text.id)!.event!.data).toBe('Ωmega \uFFFE\uFFFF end')
  })

  it('reads binary-mode messages (ce_ attributes) and attribute-less JSON bodies from other producers', async () => {
    const channel = { name: uid('binding.foreign'), kind: 'queue' as const }
    await transport.provision(channel, channel.name)
    const url = await queueUrlOf(channel.name)
    const event = createEvent({
      type: 't.foreign',
      source: 'urn:other',
      datacontenttype: 'application/json',
      data: { a: 1 },
      extensions: { count: 7 },
    })
    const bin = encodeBinary(event, BINARY_PREFIXES[0])
    const attributes: Record<string, { DataType: string; StringValue: string }> = {}
    for (const [k, v] of Object.entries(bin.headers)) attributes[k] = { DataType: 'String', StringValue: v }
    attributes['content-type'] = { DataType: 'String', StringValue: 'application/json' }
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: Buffer.from(bin.body).toString('utf8'),
        MessageAttributes: attributes,
      }),
    )
    const plain = createEvent({ type: 't.plain', source: 'urn:other', data: { b: 2 } })
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(plain) }))
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'not a cloudevent' }))
    const { got, handler } = collector()
    const sub = await transport.subscribe(channel, channel.name, handler, { maxInFlight: 4 })
    await waitFor('3 deliveries', () => got.length === 3)
    await sub.close()
    const foreign = got.find((d) => d.event?.type === 't.foreign')!.event!
    expect(foreign.id).toBe(event.id)
    expect(foreign.count).toBe(7)
    expect(foreign.data).toEqual({ a: 1 })
    expect(got.find((d) => d.event?.type === 't.plain')!.event!.data).toEqual({ b: 2 })
    const bad = got.find((d) => d.malformed)!.malformed!
    expect(Buffer.from(bad.body).toString()).toBe('not a cloudevent')
    expect(bad.reason).toMatch(/neither a structured CloudEvent/)
  })
})

async function queueUrlOf(name: string): Promise<string> {
  return (await sqs.send(new GetQueueUrlCommand({ QueueName: resourceName('', name, false) }))).QueueUrl!
}
