import {
  type HostileMessage,
  hostileScenario,
  poison,
  subjectBytes,
  wideHeaders,
} from '@omnibus/conformance/hostile'
import { expect, test } from 'vitest'
import { rabbitmqTransport } from '../src/index.js'
import { RABBITMQ_URL, withRaw } from './helpers.js'

/** amqplib writes the bytes through the channel's exchange: attributes as `cloudEvents_` headers, bytes as byte arrays. */
async function inject(exchange: string, m: HostileMessage): Promise<void> {
  await withRaw(async (ch) => {
    const headers: Record<string, unknown> = { ...m.headers, ...m.typed }
    for (const [name, value] of Object.entries(m.attributes ?? {})) {
      headers[`cloudEvents_${name}`] = typeof value === 'string' ? value : Buffer.from(value)
    }
    ch.publish(exchange, 'raw', Buffer.from(m.body), {
      headers,
      ...(m.contentType ? { contentType: m.contentType } : {}),
    })
    await ch.close()
  })
}

test('rabbitmq: hostile messages are dead-lettered once, good ones handled, none left cycling', async () => {
  await hostileScenario({
    name: 'rabbitmq',
    createTransport: () => rabbitmqTransport({ url: RABBITMQ_URL }),
    inject: (channel, m) => inject(channel.name, m),
    extra: (type): HostileMessage[] => [
      subjectBytes('cloudEvents_subject'),
      // An AMQP timestamp is a CloudEvents Timestamp (the AMQP binding's mapping), read as RFC 3339.
      {
        label: 'amqp-timestamp',
        body: Buffer.from('{"n":1}'),
        contentType: 'application/json',
        attributes: { specversion: '1.0', id: 'amqp-time', source: 'urn:other-sdk', type },
        typed: { cloudEvents_time: { '!': 'timestamp', value: 1709805600 } },
        expect: { handled: 'amqp-time', check: (e) => expect(e.time).toBe('2024-03-07T10:00:00.000Z') },
      },
      // Under the 16 MiB limit; its dead letter, base64-encoded, is not.
      poison('poison-13mb', 13 * 1024 * 1024),
      // 40 KB of headers, within amqplib's 64 KiB for a table; the dead letter's one
      // header of them all, JSON-escaped to 80 KB, is not.
      poison('poison-headers', 0, wideHeaders(40, 1000, '"')),
    ],
  })
}, 300_000)
