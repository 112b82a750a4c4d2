import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  createEnvelope,
  decodeMessage,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
} from '../src/adapter/index.js'
import { INPUT_FIELDS, toEnvelope } from '../src/envelope/envelope.js'
import { OmnibusError } from '../src/index.js'

/** Runs `make`; anything it throws must be an OmnibusError. */
function onlyOmnibusErrors(make: () => unknown): void {
  try {
    make()
  } catch (error) {
    if (!(error instanceof OmnibusError)) throw error
  }
}

const names = [...INPUT_FIELDS]
/** Inputs near the valid ones: the known fields with any values, and some others. */
const nearInput = fc.dictionary(
  fc.oneof(fc.constantFrom(...names, 'specversion', 'correlationId'), fc.string()),
  fc.oneof(
    fc.anything(),
    fc.string(),
    fc.date({ noInvalidDate: false }),
    fc.dictionary(fc.string(), fc.anything()),
  ),
)
const anyKind = fc.constantFrom('event' as const, 'command' as const, 'query' as const)
const headerValue = fc.oneof(
  fc.string(),
  fc.uint8Array({ maxLength: 40 }),
  fc.integer(),
  fc.boolean(),
  fc.double(),
)
const headers = fc.dictionary(
  fc.oneof(
    fc.constantFrom('ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'content-type', 'omnibus-types'),
    fc.string(),
  ),
  headerValue,
)

describe('arbitrary input (fast-check)', () => {
  it('createEnvelope and toEnvelope throw only OmnibusErrors', () => {
    fc.assert(
      fc.property(anyKind, fc.oneof(fc.anything(), nearInput), (kind, input) => {
        onlyOmnibusErrors(() => createEnvelope(kind, input as never, 'urn:test'))
        onlyOmnibusErrors(() => toEnvelope(kind, input as never, 'urn:test'))
      }),
      { numRuns: 2000 },
    )
  }, 60_000)

  it('decodeMessage never throws, and what it accepts can be encoded again', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        headers,
        fc.option(fc.string()),
        (body, h, contentType) => {
          const decoded = decodeMessage({ body, headers: h, contentType: contentType ?? undefined }, ['ce_'])
          expect(decoded.event === undefined).toBe(decoded.malformed !== undefined)
          if (decoded.event) encodeStructured(decoded.event)
        },
      ),
      { numRuns: 2000 },
    )
  }, 60_000)

  it('structured bodies from arbitrary JSON never throw either', () => {
    const attributes = fc.dictionary(
      fc.oneof(
        fc.constantFrom('specversion', 'id', 'source', 'type', 'time', 'messagekind', 'data_base64', 'data'),
        fc.string(),
      ),
      fc.jsonValue(),
    )
    fc.assert(
      fc.property(attributes, (a) => {
        const body = Buffer.from(
          JSON.stringify({ specversion: '1.0', id: 'i', source: 's', type: 't', ...a }),
        )
        const decoded = decodeMessage({ body, headers: { 'content-type': STRUCTURED_CONTENT_TYPE } }, [])
        expect(decoded.event === undefined).toBe(decoded.malformed !== undefined)
      }),
      { numRuns: 2000 },
    )
  }, 60_000)
})
