import { CloudEvent } from 'cloudevents'
import { describe, expect, it } from 'vitest'
import { createEnvelope, createEvent, withAttributes } from '../src/adapter/index.js'
import { DeadLetterExt } from '../src/bus/dead-letter.js'
import { Ext, toEnvelope } from '../src/envelope/envelope.js'
import { createBus, EnvelopeError, memoryTransport, OmnibusError } from '../src/index.js'

const source = 'urn:test'

/** The EnvelopeError `make` throws; fails when it throws anything else, or nothing. */
function refusal(make: () => unknown): EnvelopeError {
  try {
    make()
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeError)
    return error as EnvelopeError
  }
  throw new Error('expected an EnvelopeError, nothing was thrown')
}

describe('bad input to createEnvelope is an EnvelopeError naming the field (defect 8)', () => {
  it.each([
    ['input', null],
    ['input', 'x'],
    ['input', 42],
    ['input', [{ type: 't' }]],
    ['time', { type: 't', source, time: new Date('x') }],
    ['extensions', { type: 't', source, extensions: 'tenant=acme' }],
    ['extensions', { type: 't', source, extensions: null }],
    ['type', { type: 7, source }],
  ])('%s: %j', (field, input) => {
    expect(refusal(() => createEnvelope('event', input as never)).field).toBe(field)
  })

  it('through the bus too: publish(null) and publish("x") reject naming the input, never a TypeError', async () => {
    const bus = await createBus({ service: 's', transports: { m: memoryTransport() } })
    for (const input of [null, 'x', undefined, 5, [null]]) {
      const error = await bus.publish(input as never).catch((e: unknown) => e)
      // The bus checks its arguments first (ArgumentError); what gets past it, createEnvelope names.
      expect(error).toBeInstanceOf(OmnibusError)
      expect((error as Error).message).toMatch(/input/)
    }
    await bus.stop()
  })
})

describe('validation on the way out (defect 9)', () => {
  it('checks every type and source, however many valid ones came before (the last valid ones are remembered)', () => {
    for (let i = 0; i < 3; i++) createEvent({ type: 't.ok', source: 'urn:ok' })
    expect(refusal(() => createEvent({ type: 't.\u0001', source: 'urn:ok' })).field).toBe('type')
    expect(refusal(() => createEvent({ type: 't.ok', source: '' })).field).toBe('source')
    expect(refusal(() => createEvent({ type: '', source: 'urn:ok' })).field).toBe('type')
    expect(createEvent({ type: 't.ok', source: 'urn:ok' }).type).toBe('t.ok')
  })

  it('checks what merely looks like a CloudEvent', () => {
    const base = { specversion: '1.0', id: 'i', source, type: 't' }
    expect(refusal(() => toEnvelope('event', { ...base, specversion: '0.3' }, source)).field).toBe(
      'specversion',
    )
    expect(refusal(() => toEnvelope('event', { ...base, id: '' }, source)).field).toBe('id')
    expect(refusal(() => toEnvelope('event', { ...base, time: 'March 7, 2024' }, source)).field).toBe('time')
    expect(refusal(() => toEnvelope('event', new CloudEvent({ ...base, bad: 2 ** 31 }), source)).field).toBe(
      'bad',
    )
    expect(refusal(() => toEnvelope('event', { ...base, data: new Map([[1, 2]]) }, source)).field).toBe(
      'data',
    )
    // A valid one from the cloudevents package goes through, kind added.
    expect(toEnvelope('command', new CloudEvent(base), source).messagekind).toBe('command')
  })

  it('takes RFC 3339 times only, and normalises a Date', () => {
    for (const time of [
      'March 7, 2024',
      '2024-03-07',
      '2024-02-30T10:00:00Z',
      '2024-03-07T25:00:00Z',
      '1709805600',
    ]) {
      expect(refusal(() => createEvent({ type: 't', source, time })).field).toBe('time')
    }
    expect(createEvent({ type: 't', source, time: '2024-03-07T10:00:00.5+01:00' }).time).toBe(
      '2024-03-07T10:00:00.5+01:00',
    )
    expect(createEvent({ type: 't', source, time: new Date(Date.UTC(2024, 2, 7)) }).time).toBe(
      '2024-03-07T00:00:00.000Z',
    )
  })

  it('keeps integer extensions within the CloudEvents Integer (signed 32 bits)', () => {
    expect(createEvent({ type: 't', source, extensions: { n: 2 ** 31 - 1, m: -(2 ** 31) } }).n).toBe(
      2 ** 31 - 1,
    )
    expect(refusal(() => createEvent({ type: 't', source, extensions: { n: 2 ** 31 } })).field).toBe(
      'extensions.n',
    )
    expect(refusal(() => createEvent({ type: 't', source, extensions: { n: -(2 ** 31) - 1 } })).field).toBe(
      'extensions.n',
    )
  })

  it("does not let extensions override Omnibus's own attributes", () => {
    const own = [...Object.values(Ext), ...Object.values(DeadLetterExt)]
    for (const name of own) {
      const error = refusal(() => createEvent({ type: 't', source, extensions: { [name]: 'x' } }))
      expect(error.field).toBe(`extensions.${name}`)
      expect(error.message).toMatch(/Omnibus's own/)
    }
  })

  it('refuses invalid extension names and values', () => {
    for (const name of ['Bad', 'a-b', 'x'.repeat(21), '']) {
      expect(refusal(() => createEvent({ type: 't', source, extensions: { [name]: 'x' } })).field).toBe(
        `extensions.${name}`,
      )
    }
    expect(refusal(() => createEvent({ type: 't', source, extensions: { tenant: 'a\nb' } })).field).toBe(
      'extensions.tenant',
    )
    expect(refusal(() => createEvent({ type: 't', source, subject: 'lone \ud800' })).field).toBe('subject')
    expect(refusal(() => withAttributes(createEvent({ type: 't', source }), { Bad: 1 })).field).toBe('Bad')
  })

  it('refuses unknown fields at run time, naming the nearest valid one', () => {
    const error = refusal(() => createEvent({ type: 't', source, correlationId: 'c' } as never))
    expect(error.field).toBe('correlationId')
    expect(error.message).toContain('"correlationid"')
    expect(refusal(() => createEvent({ type: 't', source, tenant: 'acme' } as never)).message).toMatch(
      /extensions/,
    )
  })

  it('refuses data JSON would change, naming where', () => {
    class Order {
      constructor(readonly id: string) {}
    }
    const cases: [string, unknown][] = [
      ['data', new Map([['a', 1]])],
      ['data.items', { items: new Set([1]) }],
      ['data.total', { total: 10n }],
      ['data.callback', { callback: () => 1 }],
      ['data.list[1]', { list: [1, Number.NaN] }],
      ['data.order', { order: new Order('o-1') }],
      ['data["a b"][0]', { 'a b': [undefined] }],
      ['data.raw', { raw: new Uint8Array([1]) }],
    ]
    for (const [field, data] of cases)
      expect(refusal(() => createEvent({ type: 't', source, data })).field).toBe(field)
    // What JSON keeps as it is, or what says how it serialises, goes through.
    const fine = {
      at: new Date(0),
      none: null,
      nested: Object.assign(Object.create(null), { a: [1, 'x', true] }),
    }
    expect(createEvent({ type: 't', source, data: fine }).data).toBe(fine)
  })
})
