import type { Message } from '@aws-sdk/client-sqs'
import fc from 'fast-check'
import { expect, test } from 'vitest'
import { decodeSqsMessage } from '../src/index.js'

/** Arbitrary SQS messages: text bodies (SNS notifications among them) and String, Number and Binary attributes. */
test('decodeSqsMessage never throws on arbitrary messages (fast-check)', () => {
  const attribute = fc.oneof(
    fc.record({ DataType: fc.constantFrom('String', 'Number', 'Number.int'), StringValue: fc.string() }),
    fc.record({ DataType: fc.constant('Binary'), BinaryValue: fc.uint8Array({ maxLength: 60 }) }),
  )
  const names = fc.oneof(
    fc.constantFrom('ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'content-type', 'body'),
    fc.string(),
  )
  const sns = fc
    .record({ Type: fc.constant('Notification'), TopicArn: fc.string(), Message: fc.string() })
    .map((n) => JSON.stringify(n))
  fc.assert(
    fc.property(fc.oneof(fc.string(), sns), fc.dictionary(names, attribute), (Body, MessageAttributes) => {
      const delivery = decodeSqsMessage({ Body, MessageAttributes } as Message)
      expect(delivery.event === undefined).toBe(delivery.malformed !== undefined)
    }),
    { numRuns: 2000 },
  )
}, 60_000)
