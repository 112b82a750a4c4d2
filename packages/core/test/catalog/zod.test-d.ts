import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { type Bus, defineCommand, defineEvent, defineQuery, type Envelope, upcast } from '../../src/index.js'

const OrderPlaced = defineEvent({
  type: 'com.acme.order.placed',
  version: '2',
  data: z.object({
    orderId: z.string(),
    total: z.number(),
    placedAt: z.string().transform((s) => new Date(s)),
  }),
  partitionKey: (order) => order.orderId,
})
const OrderPlacedV1 = defineEvent({
  type: 'com.acme.order.placed',
  version: '1',
  data: z.object({ orderId: z.string() }),
})
const ReserveStock = defineCommand({
  type: 'com.acme.stock.reserve',
  data: z.object({ sku: z.string(), quantity: z.number().int() }),
})
const StockLevel = defineQuery({
  type: 'com.acme.stock.level',
  data: z.object({ sku: z.string() }),
  answer: z.object({ available: z.number() }),
})

declare const bus: Bus

describe('typed bus with zod 4', () => {
  it('infers the input type when sending and the output type when handling', () => {
    expectTypeOf(
      bus.publish(OrderPlaced, { orderId: 'o-1', total: 3, placedAt: '2026-01-01T00:00:00Z' }),
    ).toEqualTypeOf<Promise<void>>()
    bus.on(OrderPlaced, (event, ctx) => {
      expectTypeOf(event).toEqualTypeOf<
        Envelope<{ orderId: string; total: number; placedAt: Date }> & {
          readonly data: { orderId: string; total: number; placedAt: Date }
        }
      >()
      expectTypeOf(ctx.attempt).toEqualTypeOf<number>()
    })
    bus.handle(ReserveStock, (cmd) => {
      expectTypeOf(cmd.data).toEqualTypeOf<{ sku: string; quantity: number }>()
    })
    bus.answer(StockLevel, (q) => {
      expectTypeOf(q.data).toEqualTypeOf<{ sku: string }>()
      return { available: 3 }
    })
    expectTypeOf(bus.query(StockLevel, { sku: 'mug' }, { timeoutMs: 100 })).toEqualTypeOf<
      Promise<{ available: number }>
    >()
  })

  it('refuses a wrong payload, a wrong kind and a wrong answer at compile time', () => {
    // @ts-expect-error total must be a number
    bus.publish(OrderPlaced, { orderId: 'o-1', total: '3', placedAt: 'x' })
    // @ts-expect-error data is required
    bus.publish(OrderPlaced)
    // @ts-expect-error a command is sent, not published
    bus.publish(ReserveStock, { sku: 'mug', quantity: 1 })
    // @ts-expect-error an event is published, not sent
    bus.send(OrderPlaced, { orderId: 'o-1', total: 3, placedAt: 'x' })
    // @ts-expect-error an event is not answered as a query
    bus.answer(OrderPlaced, () => ({ available: 1 }))
    // @ts-expect-error the answer has the wrong shape
    bus.answer(StockLevel, () => ({ available: 'many' }))
    // @ts-expect-error a command handler cannot take an event definition
    bus.handle(OrderPlaced, () => {})
    // @ts-expect-error an event cannot be queried
    bus.query(OrderPlaced, { orderId: 'o-1', total: 3, placedAt: 'x' })
    // @ts-expect-error the upcaster must return the current version's input
    bus.on(OrderPlaced, () => {}, { accept: [upcast(OrderPlacedV1, (v1) => ({ orderId: v1.orderId }))] })
  })

  it('types follow-ups sent from a handler context', () => {
    bus.on(OrderPlaced, async (_e, ctx) => {
      await ctx.send(ReserveStock, { sku: 'mug', quantity: 1 }, { subject: 'o-1' })
      expectTypeOf(await ctx.query(StockLevel, { sku: 'mug' })).toEqualTypeOf<{ available: number }>()
      // @ts-expect-error a command is sent, not published
      await ctx.publish(ReserveStock, { sku: 'mug', quantity: 1 })
      // @ts-expect-error a definition needs its data
      await ctx.send(ReserveStock)
      // @ts-expect-error quantity must be a number
      await ctx.send(ReserveStock, { sku: 'mug', quantity: '1' })
    })
  })

  it('takes upcasters from older versions, typed by the older output', () => {
    bus.on(OrderPlaced, () => {}, {
      accept: [
        upcast(OrderPlacedV1, (v1) => {
          expectTypeOf(v1).toEqualTypeOf<{ orderId: string }>()
          return { orderId: v1.orderId, total: 0, placedAt: '1970-01-01T00:00:00Z' }
        }),
      ],
    })
  })

  it('keeps the string-typed API', () => {
    bus.on<{ n: number }>('com.acme.any', (e) =>
      expectTypeOf(e.data).toEqualTypeOf<{ n: number } | undefined>(),
    )
    bus.publish({ type: 'com.acme.any', data: 42 })
    expectTypeOf(bus.query<unknown, { ok: boolean }>({ type: 'com.acme.q' })).toEqualTypeOf<
      Promise<{ ok: boolean }>
    >()
  })
})
