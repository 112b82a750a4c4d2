import { describe, expect, it } from 'vitest'
import { createEnvelope, createEvent, withAttributes } from '../src/adapter/index.js'
import { createCommand, kindOf, toEnvelope } from '../src/envelope/envelope.js'
import { EnvelopeError } from '../src/index.js'

const source = 'urn:test'

describe('envelopes', () => {
  it('makes a CloudEvents 1.0 event with defaults and the messagekind extension', () => {
    const e = createEvent({ type: 'com.acme.order.placed', source, data: { id: 7 } })
    expect(e.specversion).toBe('1.0')
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(Date.parse(e.time!)).not.toBeNaN()
    expect(e.datacontenttype).toBe('application/json')
    expect(e.messagekind).toBe('event')
    expect(kindOf(e)).toBe('event')
  })

  it('carries the workflow and tracing extensions and user extensions', () => {
    const c = createCommand({
      type: 'com.acme.stock.reserve',
      source,
      partitionkey: 'order-1',
      correlationid: 'corr',
      causationid: 'cause',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      extensions: { tenant: 'acme', retries: 2, urgent: true },
    })
    expect(c).toMatchObject({
      partitionkey: 'order-1',
      correlationid: 'corr',
      causationid: 'cause',
      tenant: 'acme',
    })
    expect(c.retries).toBe(2)
    expect(c.urgent).toBe(true)
    expect(c.messagekind).toBe('command')
  })

  it('picks a content type from the data', () => {
    expect(createEvent({ type: 't', source, data: new Uint8Array([1]) }).datacontenttype).toBe(
      'application/octet-stream',
    )
    expect(createEvent({ type: 't', source, data: 'hi' }).datacontenttype).toMatch(/^text\/plain/)
    expect(createEvent({ type: 't', source }).datacontenttype).toBeUndefined()
  })

  it.each([
    ['type', { source }],
    ['type', { type: '', source }],
    ['source', { type: 't' }],
    ['time', { type: 't', source, time: 'yesterday' }],
    ['extensions.Bad-Name', { type: 't', source, extensions: { 'Bad-Name': 'x' } }],
    [
      'extensions.waytoolongextensionname',
      { type: 't', source, extensions: { waytoolongextensionname: 'x' } },
    ],
    ['extensions.ratio', { type: 't', source, extensions: { ratio: 0.5 } }],
    ['extensions.subject', { type: 't', source, extensions: { subject: 'x' } }],
    ['data.n', { type: 't', source, data: { n: 10n } }],
  ])('rejects bad input naming the field %s', (field, input) => {
    let error: unknown
    try {
      createEnvelope('event', input as never)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(EnvelopeError)
    expect((error as EnvelopeError).field).toBe(field)
    expect((error as EnvelopeError).code).toBe('ENVELOPE_INVALID')
    expect((error as Error).message).toContain(field)
  })

  it('rejects circular data', () => {
    const data: Record<string, unknown> = {}
    data.self = data
    expect(() => createEvent({ type: 't', source, data })).toThrow(/data.self: is a circular reference/)
  })

  it('refuses to send an envelope of one kind as another', () => {
    const c = createCommand({ type: 't', source })
    expect(() => toEnvelope('event', c, source)).toThrow(/is a command/)
  })

  it('copies with extra attributes, leaving the original untouched', () => {
    const e = createEvent({ type: 't', source, data: new Uint8Array([1, 2]) })
    const copy = withAttributes(e, { dlreason: 'x' })
    expect(copy.dlreason).toBe('x')
    expect(e.dlreason).toBeUndefined()
    expect(Buffer.from(copy.data as Uint8Array)).toEqual(Buffer.from([1, 2]))
  })
})
