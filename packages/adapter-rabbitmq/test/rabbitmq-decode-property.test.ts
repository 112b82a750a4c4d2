import type { ConsumeMessage } from 'amqplib'
import fc from 'fast-check'
import { expect, test } from 'vitest'
import { fromAmqp } from '../src/rabbitmq-binding.js'

/** Arbitrary AMQP tables (typed values amqplib decodes: numbers, bigints, bytes, timestamps, nested tables). */
test('fromAmqp never throws on arbitrary deliveries (fast-check)', () => {
  const value = fc.oneof(
    fc.string(),
    fc.double(),
    fc.bigInt(),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)),
    fc.integer().map((seconds) => ({ '!': 'timestamp', value: seconds })),
    fc.dictionary(fc.string(), fc.string()),
  )
  const names = fc.oneof(
    fc.constantFrom(
      'cloudEvents_specversion',
      'cloudEvents_id',
      'cloudEvents_source',
      'cloudEvents_type',
      'cloudEvents_time',
      'ce-subject',
    ),
    fc.string(),
  )
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 120 }),
      fc.dictionary(names, value),
      fc.option(fc.string()),
      (body, headers, contentType) => {
        const message = {
          content: Buffer.from(body),
          fields: { redelivered: false },
          properties: { headers, contentType: contentType ?? undefined },
        } as unknown as ConsumeMessage
        const delivery = fromAmqp(message)
        expect(delivery.event === undefined).toBe(delivery.malformed !== undefined)
      },
    ),
    { numRuns: 2000 },
  )
}, 60_000)
