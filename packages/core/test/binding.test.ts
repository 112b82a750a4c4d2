import { CloudEvent } from 'cloudevents'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import {
  createEvent,
  decodeMessage,
  encodeBinary,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
  structuredSize,
  TYPES_HEADER,
  withAttributes,
} from '../src/adapter/index.js'
import { malformedData, structuredSizeBound } from '../src/envelope/binding.js'
import { createEnvelope, type MessageKind } from '../src/envelope/envelope.js'
import { type Envelope, EnvelopeError, type EnvelopeInput } from '../src/index.js'

const event = createEvent({
  type: 'com.acme.thing',
  source: 'urn:test',
  subject: 'ünï',
  data: { text: '漢字 🚀', n: 1 },
  extensions: { retries: 3, urgent: false, tenant: '042' },
})

describe('CloudEvents binding', () => {
  it('round-trips structured mode, bytes included', () => {
    const bytes = createEvent({ type: 't', source: 's', data: Uint8Array.from([0, 255, 10]) })
    for (const e of [event, bytes]) {
      const decoded = decodeMessage(
        { body: encodeStructured(e), headers: { 'content-type': STRUCTURED_CONTENT_TYPE } },
        [],
      )
      expect(decoded.malformed).toBeUndefined()
      expect(decoded.event!.id).toBe(e.id)
      expect(decoded.event!.data).toEqual(e.data instanceof Uint8Array ? Buffer.from(e.data) : e.data)
    }
  })

  it('round-trips binary mode with typed extensions and a case-insensitive prefix', () => {
    const { headers, body, contentType } = encodeBinary(event, 'cloudEvents_')
    expect(headers.cloudEvents_type).toBe('com.acme.thing')
    expect(headers[TYPES_HEADER]).toBe('retries=i,urgent=b')
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
    const decoded = decodeMessage({ body, headers: lower, contentType }, ['cloudEvents_'])
    const e = decoded.event!
    expect(e.retries).toBe(3)
    expect(e.urgent).toBe(false)
    expect(e.tenant).toBe('042')
    expect(e.subject).toBe('ünï')
    expect(e.data).toEqual({ text: '漢字 🚀', n: 1 })
    expect(e.datacontenttype).toBe('application/json')
  })

  it('counts the structured size without encoding, to the byte', () => {
    const inputs: (EnvelopeInput & { source: string })[] = [
      { type: 't', source: 's' },
      { type: 't', source: 's', data: { text: '漢字 🚀', n: 1 } },
      { type: 't', source: 's', data: Uint8Array.from([0, 255, 10]) },
      { type: 't', source: 's', data: 'héllo' },
    ]
    for (const input of inputs) {
      // Counted first, then encoded: the count must not rely on the encoding.
      const counted = createEvent(input)
      expect(structuredSize(counted)).toBe(encodeStructured(counted).byteLength)
      expect(structuredSize(counted)).toBe(encodeStructured(createEvent(input)).byteLength)
    }
  })

  it('writes the structured head exactly as JSON.stringify would, escapes and all', () => {
    const awkward = createEvent({
      type: 'com.acme."quoted"\\back/line',
      source: 'urn:tést/漢字/🚀',
      subject: 'paired \ud83d\ude80 surrogates and \u2028 separator',
      data: { n: 1, text: '\u0001 and \n and a lone \ud800' },
      extensions: { retries: -3, urgent: true, tenant: '' },
    })
    const { data, ...attributes } = awkward
    const expected = JSON.stringify({ ...attributes, data })
    expect(encodeStructured(awkward).toString('utf8')).toBe(expected)
    expect(structuredSize(awkward)).toBe(Buffer.byteLength(expected))
    const decoded = decodeMessage(
      { body: encodeStructured(awkward), headers: { 'content-type': STRUCTURED_CONTENT_TYPE } },
      [],
    )
    expect({ ...decoded.event }).toEqual({ ...awkward })
  })

  it('writes the head of a type-source-data envelope from its template exactly as JSON.stringify would', () => {
    const awkward = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom('"', '\\', '\u2028', 'é', '漢', '🚀', '/', 'a', '\u007f') }),
    )
    let made = 0
    fc.assert(
      fc.property(
        fc.constantFrom<MessageKind>('event', 'command', 'query'),
        awkward,
        awkward,
        fc.option(fc.constantFrom('application/json', 'text/plain; charset="utf-8"', 'application/x+json')),
        fc.oneof(fc.constant(undefined), fc.constant(null), fc.jsonValue(), fc.uint8Array(), fc.string()),
        fc.option(fc.constantFrom('2026-11-30T10:00:00.123+01:00', new Date(0))),
        (kind, type, source, datacontenttype, data, time) => {
          let sent: Envelope
          try {
            sent = createEnvelope(kind, {
              type,
              source,
              data,
              ...(datacontenttype === null ? {} : { datacontenttype }),
              ...(time === null ? {} : { time }),
            })
          } catch (error) {
            // Not an envelope at all (an empty type, a control character): nothing to write.
            expect(error).toBeInstanceOf(EnvelopeError)
            return
          }
          made++
          const { data: sentData, data_base64, ...attributes } = sent
          const expected = JSON.stringify({
            ...attributes,
            ...(sentData instanceof Uint8Array ? { data_base64 } : { data: sentData }),
          })
          expect(encodeStructured(sent).toString('utf8')).toBe(expected)
        },
      ),
      { numRuns: 2000 },
    )
    expect(made).toBeGreaterThan(500)
  })

  it('encodes binary data in binary mode and bounds its size without base64-encoding it', () => {
    const bytes = createEvent({ type: 't', source: 's', data: new Uint8Array(64 * 1024).fill(7) })
    const written = vi.spyOn(Buffer.prototype, 'toString')
    try {
      expect(encodeBinary(bytes, 'ce_').body).toBe(bytes.data)
      expect(structuredSizeBound(bytes)).toBeGreaterThan(64 * 1024)
      expect(written.mock.calls.filter(([encoding]) => encoding === 'base64')).toEqual([])
    } finally {
      written.mockRestore()
    }
  })

  it('encodes CloudEvents made elsewhere and decoded ones, binary data as data_base64', () => {
    const foreign = new CloudEvent({ type: 't', source: 's', data: Buffer.from([1, 2, 250]) })
    const json = JSON.parse(encodeStructured(foreign).toString('utf8'))
    expect(json.data_base64).toBe(Buffer.from([1, 2, 250]).toString('base64'))
    expect(json.data).toBeUndefined()
    expect(structuredSize(foreign)).toBe(encodeStructured(foreign).byteLength)
    const decoded = decodeMessage({ body: encodeStructured(foreign), headers: {} }, []).event!
    expect(decoded).toBeInstanceOf(CloudEvent)
    expect(structuredSize(decoded)).toBe(encodeStructured(decoded).byteLength)
    expect(JSON.parse(encodeStructured(decoded).toString('utf8'))).toEqual(json)
  })

  it('keeps its encoding cache out of copies, JSON and equality', () => {
    const original = createEvent({ type: 't', source: 's', data: { v: 1 } })
    encodeStructured(original)
    expect(Object.getOwnPropertySymbols({ ...original })).toEqual([])
    // A spread copy with other data is sent as it is (it has a specversion): it must not inherit the old encoding.
    const changed = { ...original, data: { v: 2 } } as Envelope
    expect(JSON.parse(encodeStructured(changed).toString('utf8')).data).toEqual({ v: 2 })
    expect(JSON.parse(JSON.stringify(original)).data).toEqual({ v: 1 })
  })

  it('bounds the structured size from above, without encoding', () => {
    const inputs: (EnvelopeInput & { source: string })[] = [
      { type: 't', source: 's' },
      { type: 't"\\', source: 'ü漢🚀', data: { text: '漢字 🚀\u0000', n: -1.5e300 } },
      {
        type: 't',
        source: 's',
        data: Uint8Array.from([0, 255, 10]),
        extensions: { n: -2147483648, b: true },
      },
      { type: 't', source: 's', data: '\u2028\ud83d\ude80' },
    ]
    for (const input of inputs) {
      const event = createEvent(input)
      const bound = structuredSizeBound(event)
      expect(bound).toBeGreaterThanOrEqual(encodeStructured(event).byteLength)
      expect(structuredSizeBound(withAttributes(event, { x: 'y' }))).toBeGreaterThanOrEqual(
        encodeStructured(withAttributes(event, { x: 'y' })).byteLength,
      )
    }
    // Attributes that are not CloudEvents values are refused by withAttributes; the class lets them through unchecked.
    expect(structuredSizeBound(new CloudEvent({ type: 't', source: 's', o: { a: 1 } }, false))).toBe(
      Number.POSITIVE_INFINITY,
    )
  })

  it('detects structured mode without a content type when the body is a JSON object', () => {
    const decoded = decodeMessage({ body: encodeStructured(event), headers: {} }, ['ce_'])
    expect(decoded.event?.id).toBe(event.id)
  })

  it.each([
    ['bytes that are nobody’s CloudEvent', Buffer.from([0, 1, 2]), {}, /neither a structured/],
    ['broken JSON', Buffer.from('{"id":'), { 'content-type': STRUCTURED_CONTENT_TYPE }, /not JSON/],
    [
      'a missing id',
      Buffer.from(JSON.stringify({ specversion: '1.0', type: 't', source: 's' })),
      { 'content-type': STRUCTURED_CONTENT_TYPE },
      /"id"/,
    ],
    [
      'a binary message without source',
      Buffer.from(''),
      { ce_specversion: '1.0', ce_id: '1', ce_type: 't' },
      /"source"/,
    ],
    [
      'JSON data that is not UTF-8',
      Buffer.from([0x22, 0xff, 0x22]),
      { ce_specversion: '1.0', ce_id: '1', ce_type: 't', ce_source: 's', 'content-type': 'application/json' },
      /content type application\/json: the body is not valid UTF-8/,
    ],
  ])('reports %s as malformed, keeping the bytes', (_label, body, headers, reason) => {
    const decoded = decodeMessage({ body, headers }, ['ce_'])
    expect(decoded.event).toBeUndefined()
    expect(decoded.malformed!.reason).toMatch(reason)
    expect(Buffer.from(decoded.malformed!.body).equals(body)).toBe(true)
  })

  const jsonHeaders = {
    ce_specversion: '1.0',
    ce_id: '1',
    ce_type: 't',
    ce_source: 's',
    'content-type': 'application/json',
  }

  it('parses JSON data when it is first read, and reports data that does not parse then', () => {
    const headers = jsonHeaders
    const good = decodeMessage({ body: Buffer.from('{"n":1}'), headers }, ['ce_']).event!
    expect(good.data).toEqual({ n: 1 })
    expect(good.data).toBe(good.data)
    expect({ ...good }.data).toEqual({ n: 1 })
    expect(malformedData(good)).toBeUndefined()

    const body = Buffer.from('{oops')
    const broken = decodeMessage({ body, headers: { ...headers, ce_kept: new Uint8Array([0x61]) } }, ['ce_'])
      .event!
    expect(broken.type).toBe('t')
    // Unread, it is not known to be broken.
    expect(malformedData(broken)).toBeUndefined()
    expect(() => broken.data).toThrow(EnvelopeError)
    expect(() => broken.data).toThrow(/does not match its content type application\/json/)
    expect(() => encodeStructured(broken)).toThrow(EnvelopeError)
    // What the consumer dead-letters: the decoder's reason and the message as it arrived.
    const bad = malformedData(broken)!
    expect(bad.reason).toMatch(/^data does not match its content type application\/json: /)
    expect(Buffer.from(bad.body).equals(body)).toBe(true)
    expect(bad.headers.ce_kept).toBe('a')
  })

  it('sends received JSON data on as it came, without writing it again', () => {
    const headers = jsonHeaders
    const event = decodeMessage({ body: Buffer.from('{ "n" : 1 }'), headers }, ['ce_']).event!
    const structured = JSON.parse(encodeStructured(event).toString('utf8'))
    expect(structured.data).toEqual({ n: 1 })
    expect(Buffer.from(encodeBinary(event, 'ce_').body).toString('utf8')).toBe('{ "n" : 1 }')
  })
})
