import { isUtf8 } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  createEnvelope,
  decodeMessage,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
} from '../src/adapter/index.js'
import { malformedData } from '../src/envelope/binding.js'
import { INPUT_FIELDS, toEnvelope } from '../src/envelope/envelope.js'
import { EnvelopeError, OmnibusError } from '../src/index.js'

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
          if (decoded.event) {
            // JSON data is parsed when first read: data that does not parse throws then, and only then.
            try {
              encodeStructured(decoded.event)
            } catch (error) {
              expect(error).toBeInstanceOf(EnvelopeError)
              expect(malformedData(decoded.event)?.reason).toMatch(/^data does not match its content type/)
            }
          }
        },
      ),
      { numRuns: 2000 },
    )
  }, 60_000)

  it('JSON data read later is the eager parse, or malformed with the reason', () => {
    const headers = { ce_specversion: '1.0', ce_id: 'i', ce_source: 's', ce_type: 't' }
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 60 }),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
      fc.string().map((t) => Buffer.from(t)),
    )
    fc.assert(
      fc.property(body, (bytes) => {
        const decoded = decodeMessage({ body: bytes, headers, contentType: 'application/json' }, ['ce_'])
        let eager: { value: unknown } | undefined
        try {
          eager = { value: JSON.parse(Buffer.from(bytes).toString('utf8')) }
        } catch {
          eager = undefined
        }
        if (bytes.byteLength === 0) {
          expect(decoded.event?.data).toBeUndefined()
          return
        }
        if (!isUtf8(bytes)) {
          expect(decoded.malformed?.reason).toMatch(/not valid UTF-8/)
          return
        }
        const event = decoded.event!
        if (eager) {
          expect(event.data).toEqual(eager.value)
          expect(malformedData(event)).toBeUndefined()
        } else {
          expect(() => event.data).toThrow(EnvelopeError)
          expect(Buffer.from(malformedData(event)!.body).equals(Buffer.from(bytes))).toBe(true)
        }
      }),
      { numRuns: 2000 },
    )
  }, 60_000)

  it('a structured document decoded lazily is what the eager parse makes of it', () => {
    // Compact JSON takes the lazy path where data is last; the same document spaced out is parsed whole.
    const value = fc.oneof(fc.jsonValue(), fc.constantFrom('1.0', 'i', 's', 't', 'event'))
    const members = fc.array(
      fc.tuple(
        fc.constantFrom(
          'specversion',
          'id',
          'source',
          'type',
          'subject',
          'data',
          'data_base64',
          'x',
          'data ',
        ),
        value,
      ),
      { maxLength: 8 },
    )
    const required = [
      ['specversion', '1.0'],
      ['id', 'i'],
      ['source', 's'],
      ['type', 't'],
    ] as const
    const decode = (text: string) =>
      decodeMessage({ body: Buffer.from(text), headers: { 'content-type': STRUCTURED_CONTENT_TYPE } }, [])
    const read = (event: { data?: unknown }): { data: unknown } | 'broken' => {
      try {
        return { data: event.data }
      } catch (error) {
        expect(error).toBeInstanceOf(EnvelopeError)
        return 'broken'
      }
    }
    let lazyLayouts = 0
    fc.assert(
      fc.property(members, fc.boolean(), (list, withRequired) => {
        const entries = [...(withRequired ? required : []), ...list]
        const last = entries.at(-1)
        if (last?.[0] === 'data' && typeof last[1] === 'object' && last[1] !== null) lazyLayouts++
        const compact = `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`
        const lazy = decode(compact)
        const eager = decode(JSON.stringify(JSON.parse(compact), null, 1))
        if (eager.malformed) {
          // Malformed either way: at once, or when its data is read (and then dead-lettered as malformed).
          if (lazy.event) {
            expect(read(lazy.event)).toBe('broken')
            expect(malformedData(lazy.event)?.reason).toBe(eager.malformed.reason)
          }
          return
        }
        // JSON.parse keeps the last of repeated names; a document repeating data is malformed when read.
        const repeats = entries.filter(([k]) => k === 'data').length > 1
        expect(lazy.event).toBeDefined()
        const got = read(lazy.event!)
        if (got === 'broken') expect(repeats).toBe(true)
        else {
          expect(got.data).toEqual(eager.event!.data)
          expect({ ...lazy.event! }).toEqual({ ...eager.event! })
        }
      }),
      { numRuns: 3000 },
    )
    // The lazy path was taken, not only the eager one.
    expect(lazyLayouts).toBeGreaterThan(30)
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
