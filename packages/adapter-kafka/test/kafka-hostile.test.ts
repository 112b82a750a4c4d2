import type { HostileMessage } from '@omnibus/conformance/hostile'
import { hostileScenario, poison, subjectBytes } from '@omnibus/conformance/hostile'
import { afterAll, expect, test } from 'vitest'
import { topicName } from '../src/index.js'
import { fromRecord } from '../src/kafka-binding.js'
import { rawKafka, transport } from './helpers.js'

const kafka = rawKafka()
const producer = kafka.producer({ allowAutoTopicCreation: false })
afterAll(() => producer.disconnect())

/** kafkajs writes the bytes: attributes as `ce_` headers (bytes stay bytes), the record key as given. */
async function inject(topic: string, m: HostileMessage): Promise<void> {
  const headers: Record<string, string | Buffer> = {}
  for (const [name, value] of Object.entries({ ...m.headers })) headers[name] = Buffer.from(value)
  for (const [name, value] of Object.entries(m.attributes ?? {})) headers[`ce_${name}`] = Buffer.from(value)
  if (m.contentType) headers['content-type'] = m.contentType
  await producer.send({ topic, messages: [{ key: null, value: Buffer.from(m.body), headers }] })
}

test('kafka: hostile records are dead-lettered once, good ones handled, none left cycling', async () => {
  await producer.connect()
  await hostileScenario({
    name: 'kafka',
    createTransport: () => transport(),
    inject: (channel, m) => inject(topicName(channel.name), m),
    // Under the topic's 1 MiB; its dead letter (base64 in structured JSON) is not.
    extra: () => [subjectBytes('ce_subject'), poison('poison-900kb', 900_000)],
  })
}, 300_000)

test('a record key that is not UTF-8 places the record but is no partition key', () => {
  const value = Buffer.from(JSON.stringify({ specversion: '1.0', id: 'k', source: 'urn:x', type: 't' }))
  const headers = { 'content-type': Buffer.from('application/cloudevents+json') }
  expect(fromRecord({ key: Buffer.from([0xff, 0x00]), value, headers }).event!.partitionkey).toBeUndefined()
  expect(fromRecord({ key: Buffer.from('order-1'), value, headers }).event!.partitionkey).toBe('order-1')
})
