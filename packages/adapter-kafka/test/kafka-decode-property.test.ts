import fc from 'fast-check'
import { expect, test } from 'vitest'
import { fromRecord } from '../src/kafka-binding.js'

/** Arbitrary keys, values and headers (bytes or text, repeated or not), as kafkajs hands records over. */
test('fromRecord never throws on arbitrary records (fast-check)', () => {
  const bytes = fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b))
  const header = fc.oneof(bytes, fc.string(), fc.array(bytes, { maxLength: 3 }))
  const names = fc.oneof(
    fc.constantFrom('ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_subject', 'content-type'),
    fc.string(),
  )
  fc.assert(
    fc.property(fc.option(bytes), fc.option(bytes), fc.dictionary(names, header), (key, value, headers) => {
      const decoded = fromRecord({ key, value, headers })
      expect(decoded.event === undefined).toBe(decoded.malformed !== undefined)
    }),
    { numRuns: 2000 },
  )
}, 60_000)
