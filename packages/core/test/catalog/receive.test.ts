import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineEvent, type Envelope, MemoryBroker, upcast } from '../../src/index.js'
import { bus, waitFor } from './helpers.js'

const OrderPlaced = defineEvent({
  type: 'com.acme.order.placed',
  data: z.object({
    orderId: z.string(),
    lines: z.array(z.object({ sku: z.string(), quantity: z.number().int().positive() })),
  }),
})

describe('versions', () => {
  const V1 = defineEvent({
    type: 'com.acme.user.renamed',
    version: '1',
    data: z.object({ name: z.string() }),
  })
  const V2 = defineEvent({
    type: 'com.acme.user.renamed',
    version: '2',
    data: z.object({ first: z.string(), last: z.string() }),
  })
  const V3 = defineEvent({
    type: 'com.acme.user.renamed',
    version: '3',
    data: z.object({ full: z.string() }),
  })

  it('feeds one v2 consumer from a v1 and a v2 producer; v1 is upcast, an unknown version dead-lettered', async () => {
    const broker = new MemoryBroker()
    const got: { first: string; last: string }[] = []
    const consumer = await bus('users', broker)
    consumer.on(V2, (e) => void got.push(e.data!), {
      accept: [
        upcast(V1, (old) => {
          const [first = '', ...rest] = old.name.split(' ')
          return { first, last: rest.join(' ') }
        }),
      ],
    })
    const letters: Envelope[] = []
    consumer.onDeadLetter('com.acme.user.renamed', (e) => void letters.push(e))
    await consumer.start()
    const v1 = await bus('old-producer', broker)
    const v2 = await bus('new-producer', broker)
    const v3 = await bus('future-producer', broker)
    await Promise.all([v1.start(), v2.start(), v3.start()])
    await v1.publish(V1, { name: 'Ada Lovelace' })
    await v2.publish(V2, { first: 'Grace', last: 'Hopper' })
    await v3.publish(V3, { full: 'Alan Turing' })
    await waitFor('two handled, one dead letter', () => got.length === 2 && letters.length === 1)
    expect(got).toContainEqual({ first: 'Ada', last: 'Lovelace' })
    expect(got).toContainEqual({ first: 'Grace', last: 'Hopper' })
    expect(letters[0]).toMatchObject({
      dataschema: 'urn:omnibus:schema:com.acme.user.renamed:3',
      dlattempts: 1,
    })
    expect(letters[0]!.dlreason).toContain('not a version this handler accepts')
  })
})

describe('typed receiving', () => {
  it('dead-letters data its schema refuses at once, naming the path; the handler never sees it', async () => {
    const broker = new MemoryBroker()
    const seen: string[] = []
    const consumer = await bus('strict', broker, 5)
    consumer.on(OrderPlaced, (e) => void seen.push(e.data!.orderId))
    const letters: Envelope[] = []
    consumer.onDeadLetter(OrderPlaced.type, (e) => void letters.push(e))
    await consumer.start()
    const sloppy = await bus('sloppy', broker)
    await sloppy.start()
    // An untyped producer can still send anything.
    await sloppy.publish({
      type: OrderPlaced.type,
      id: 'bad',
      data: { orderId: 'o-9', lines: [{ sku: 'mug', quantity: -1 }], placedAt: '2026-11-30T08:00:00Z' },
    })
    await sloppy.publish({
      type: OrderPlaced.type,
      id: 'good',
      data: { orderId: 'o-10', lines: [], placedAt: '2026-11-30T08:00:00Z' },
    })
    await waitFor('one dead letter, one handled', () => letters.length === 1 && seen.length === 1)
    expect(seen).toEqual(['o-10'])
    expect(letters[0]).toMatchObject({ id: 'bad', dlattempts: 1 })
    expect(letters[0]!.dlreason).toContain('data.lines[0].quantity')
    expect(consumer.stats()).toMatchObject({ retried: 0, deadLettered: 1 })
  })
})

describe('typed receiving with an async schema', () => {
  it('awaits the validator; a refused message is dead-lettered, an accepted one handled', async () => {
    const Known = defineEvent({
      type: 'com.acme.sku.seen',
      data: z.object({
        sku: z.string().refine(async (sku) => {
          await new Promise((r) => setTimeout(r, 5))
          return sku !== 'unknown'
        }, 'no such sku'),
      }),
    })
    const broker = new MemoryBroker()
    const seen: string[] = []
    const consumer = await bus('async-reader', broker)
    consumer.on(Known, (e) => void seen.push(e.data.sku))
    const letters: Envelope[] = []
    consumer.onDeadLetter(Known.type, (e) => void letters.push(e))
    await consumer.start()
    const producer = await bus('async-writer', broker)
    await producer.start()
    await producer.publish([
      { type: Known.type, data: { sku: 'unknown' } },
      { type: Known.type, data: { sku: 'mug' } },
    ])
    await waitFor('one handled, one dead letter', () => seen.length === 1 && letters.length === 1)
    expect(seen).toEqual(['mug'])
    expect(letters[0]!.dlreason).toContain('data.sku: no such sku')
  })
})

describe('typed receiving with each schema library', () => {
  const schemas = {
    zod: z.object({
      items: z.array(z.object({ cents: z.number() })),
      at: z.string().transform((s) => new Date(s)),
    }),
    valibot: v.object({
      items: v.array(v.object({ cents: v.number() })),
      at: v.pipe(
        v.string(),
        v.transform((s) => new Date(s)),
      ),
    }),
    arktype: type({ items: type({ cents: 'number' }).array(), at: 'string.date.parse' }),
  }
  for (const [library, schema] of Object.entries(schemas)) {
    it(`hands the output to the handler and dead-letters refused data naming the path (${library})`, async () => {
      const Paid = defineEvent({ type: `com.acme.paid.${library}`, data: schema })
      const broker = new MemoryBroker()
      const got: unknown[] = []
      const consumer = await bus(`reader-${library}`, broker)
      consumer.on(Paid, (e) => void got.push(e.data.at))
      const letters: Envelope[] = []
      consumer.onDeadLetter(Paid.type, (e) => void letters.push(e))
      await consumer.start()
      const producer = await bus(`writer-${library}`, broker)
      await producer.start()
      await producer.publish({
        type: Paid.type,
        data: { items: [{ cents: 'ten' }], at: '2026-11-30T09:00:00Z' },
      })
      await producer.publish(Paid, { items: [{ cents: 10 }], at: '2026-11-30T09:00:00Z' })
      await waitFor('one handled, one dead letter', () => got.length === 1 && letters.length === 1)
      expect(got[0]).toEqual(new Date('2026-11-30T09:00:00Z'))
      expect(letters[0]).toMatchObject({ dlattempts: 1 })
      expect(letters[0]!.dlreason).toContain('data.items[0].cents')
    })
  }
})
