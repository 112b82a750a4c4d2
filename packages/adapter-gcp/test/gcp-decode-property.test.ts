import fc from 'fast-check'
import { expect, test } from 'vitest'
import { fromPubSubMessage } from '../src/gcp-binding.js'

/** Arbitrary Pub/Sub messages: any bytes, any text attributes (Pub/Sub attributes are strings). */
test('fromPubSubMessage never throws on arbitrary messages (fast-check)', () => {
  const names = fc.oneof(
    fc.constantFrom('ce-specversion', 'ce-id', 'ce-source', 'ce-type', 'ce-time', 'content-type'),
    fc.string(),
  )
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 160 }),
      fc.option(fc.dictionary(names, fc.string())),
      (data, attributes) => {
        const decoded = fromPubSubMessage(Buffer.from(data), attributes ?? undefined)
        expect(decoded.event === undefined).toBe(decoded.malformed !== undefined)
      },
    ),
    { numRuns: 2000 },
  )
}, 60_000)
