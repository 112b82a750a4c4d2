import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  defineCatalog,
  defineCommand,
  defineEvent,
  defineQuery,
  type Envelope,
  MemoryBroker,
  OmnibusError,
  SchemaError,
} from '../../src/index.js'

import { bus, waitFor } from './helpers.js'

const line = z.object({ sku: z.string(), quantity: z.number().int().positive() })
const OrderPlaced = defineEvent({
  type: 'com.acme.order.placed',
  data: z.object({
    orderId: z.string(),
    lines: z.array(line),
    placedAt: z.iso.datetime().transform((s) => new Date(s)),
  }),
  partitionKey: (order) => order.orderId,
})

/** Three schema libraries, one contract: what each refuses and how it names the path. */
const libraries = {
  zod: defineCommand({
    type: 'com.acme.pay',
    data: z.object({ items: z.array(z.object({ cents: z.number() })) }),
  }),
  valibot: defineCommand({
    type: 'com.acme.pay',
    data: v.object({ items: v.array(v.object({ cents: v.number() })) }),
  }),
  arktype: defineCommand({ type: 'com.acme.pay', data: type({ items: type({ cents: 'number' }).array() }) }),
}

describe('typed sending', () => {
  for (const [library, Pay] of Object.entries(libraries)) {
    it(`refuses invalid data before the broker with SCHEMA_INVALID naming the path (${library})`, async () => {
      const broker = new MemoryBroker()
      const b = await bus('payer', broker)
      await b.start()
      const error = await b
        .send(Pay, { items: [{ cents: 'ten' as unknown as number }] })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(SchemaError)
      expect(error).toMatchObject({
        code: 'SCHEMA_INVALID',
        field: 'data.items[0].cents',
        type: 'com.acme.pay',
      })
      expect((error as Error).message).toMatch(/^\[omnibus\] envelope data\.items\[0\]\.cents: /)
    })
  }

  it('sends the data as given, with the partition key and dataschema of the definition; handlers get the output', async () => {
    const broker = new MemoryBroker()
    const seen: Envelope<{ orderId: string; placedAt: Date }>[] = []
    const consumer = await bus('consumer', broker)
    consumer.on(OrderPlaced, (e) => void seen.push(e))
    const raw: Envelope[] = []
    consumer.on<unknown>('com.acme.raw', (e) => void raw.push(e))
    await consumer.start()
    const producer = await bus('producer', broker)
    await producer.start()
    const order = { orderId: 'o-1', lines: [{ sku: 'mug', quantity: 2 }], placedAt: '2026-11-30T08:00:00Z' }
    await producer.publish(OrderPlaced, order, { subject: 'o-1' })
    await waitFor('the order', () => seen.length === 1)
    expect(seen[0]!.data!.placedAt).toEqual(new Date('2026-11-30T08:00:00Z'))
    expect(seen[0]).toMatchObject({ partitionkey: 'o-1', subject: 'o-1', messagekind: 'event' })
  })

  it('sends typed follow-ups from a handler, correlated with their cause and validated', async () => {
    const broker = new MemoryBroker()
    const got: Envelope[] = []
    const refused: unknown[] = []
    const b = await bus('follow', broker)
    b.on(OrderPlaced, async (e, ctx) => {
      await ctx.send(libraries.zod, { items: [{ cents: e.data!.lines.length }] })
      await ctx
        .send(libraries.zod, { items: [{ cents: 'x' as unknown as number }] })
        .catch((x) => refused.push(x))
    })
    b.handle(libraries.zod, (c) => void got.push(c))
    await b.start()
    await b.publish(
      OrderPlaced,
      { orderId: 'o-2', lines: [], placedAt: '2026-11-30T08:00:00Z' },
      { id: 'cause-1' },
    )
    await waitFor('the follow-up and the refusal', () => got.length === 1 && refused.length === 1)
    expect(got[0]).toMatchObject({
      causationid: 'cause-1',
      correlationid: 'cause-1',
      data: { items: [{ cents: 0 }] },
    })
    expect(refused[0]).toMatchObject({ code: 'SCHEMA_INVALID' })
  })

  it('refuses a definition sent with the wrong bus method', async () => {
    const b = await bus('x', new MemoryBroker())
    await b.start()
    const publish = b.publish as (d: unknown, data: unknown) => Promise<void>
    await expect(publish.call(b, libraries.zod, { items: [] })).rejects.toMatchObject({
      code: 'ENVELOPE_INVALID',
      message: expect.stringContaining('use bus.send, not bus.publish'),
    })
  })

  it('awaits async validators on both ends', async () => {
    const known = new Set(['mug'])
    const Reserve = defineCommand({
      type: 'com.acme.reserve.async',
      data: z.object({ sku: z.string().refine(async (sku) => known.has(sku), 'unknown sku') }),
    })
    const broker = new MemoryBroker()
    const got: string[] = []
    const b = await bus('async', broker)
    b.handle(Reserve, (c) => void got.push(c.data!.sku))
    await b.start()
    await expect(b.send(Reserve, { sku: 'teapot' })).rejects.toMatchObject({
      field: 'data.sku',
      code: 'SCHEMA_INVALID',
    })
    await b.send(Reserve, { sku: 'mug' })
    await waitFor('the valid command', () => got.length === 1)
    expect(got).toEqual(['mug'])
  })
})

describe('typed queries', () => {
  const Level = defineQuery({
    type: 'com.acme.stock.level.typed',
    data: z.object({ sku: z.string() }),
    answer: z.object({ available: z.number(), asOf: z.iso.datetime().transform((s) => new Date(s)) }),
  })

  it('answers with the answer schema output, and fails the query when the answer breaks its schema', async () => {
    const broker = new MemoryBroker()
    const b = await bus('stock', broker)
    b.answer(Level, (q) =>
      q.data!.sku === 'bad'
        ? ({ available: 'lots', asOf: '2026-11-30T08:00:00Z' } as unknown as {
            available: number
            asOf: string
          })
        : { available: 7, asOf: '2026-11-30T08:00:00Z' },
    )
    await b.start()
    await expect(b.query(Level, { sku: 'mug' }, { timeoutMs: 3000 })).resolves.toEqual({
      available: 7,
      asOf: new Date('2026-11-30T08:00:00Z'),
    })
    await expect(b.query(Level, { sku: 'bad' }, { timeoutMs: 3000 })).rejects.toMatchObject({
      code: 'QUERY_FAILED',
      message: expect.stringContaining('answer.available'),
    })
  })
})

describe('the catalog', () => {
  it('refuses a type defined twice with one dataschema, or with two kinds', () => {
    const a = defineEvent({ type: 'com.acme.t', version: '1', data: z.object({}) })
    const b = defineEvent({ type: 'com.acme.t', version: '1', data: z.object({}) })
    const c = defineCommand({ type: 'com.acme.t', version: '2', data: z.object({}) })
    expect(() => defineCatalog({ title: 't', messages: [a, b] })).toThrow(/defined twice with dataschema/)
    expect(() => defineCatalog({ title: 't', messages: [a, c] })).toThrow(/both as a event and as a command/)
    expect(() => defineCatalog({ title: 't', messages: [a], services: { s: { sends: [c] } } })).toThrow(
      OmnibusError,
    )
    expect(defineCatalog({ title: 't', messages: [a] }).versionsOf('com.acme.t')).toEqual([a])
  })

  it('refuses a definition without a Standard Schema', () => {
    expect(() => defineEvent({ type: 'com.acme.t', data: { parse: () => 1 } as never })).toThrow(
      /data must be a Standard Schema/,
    )
  })
})
