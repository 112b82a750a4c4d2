import * as v from 'valibot'
import { describe, expectTypeOf, it } from 'vitest'
import { type Bus, defineCommand, defineEvent, defineQuery, type Envelope } from '../../src/index.js'

const Shipped = defineEvent({
  type: 'com.acme.parcel.shipped',
  data: v.object({ parcelId: v.string(), weightGrams: v.pipe(v.string(), v.transform(Number)) }),
})
const Ship = defineCommand({ type: 'com.acme.parcel.ship', data: v.object({ parcelId: v.string() }) })
const Where = defineQuery({
  type: 'com.acme.parcel.where',
  data: v.object({ parcelId: v.string() }),
  answer: v.object({ city: v.string(), since: v.optional(v.string()) }),
})

declare const bus: Bus

describe('typed bus with valibot', () => {
  it('infers input, output and answer types', () => {
    bus.publish(Shipped, { parcelId: 'p-1', weightGrams: '1200' })
    bus.on(Shipped, (e) =>
      expectTypeOf(e).toEqualTypeOf<
        Envelope<{ parcelId: string; weightGrams: number }> & {
          readonly data: { parcelId: string; weightGrams: number }
        }
      >(),
    )
    bus.handle(Ship, (c) => expectTypeOf(c.data).toEqualTypeOf<{ parcelId: string }>())
    bus.answer(Where, () => ({ city: 'Lyon' }))
    expectTypeOf(bus.query(Where, { parcelId: 'p-1' })).toEqualTypeOf<
      Promise<{ city: string; since?: string | undefined }>
    >()
  })

  it('refuses what does not fit', () => {
    // @ts-expect-error weightGrams is sent as the schema's input, a string
    bus.publish(Shipped, { parcelId: 'p-1', weightGrams: 1200 })
    // @ts-expect-error a command is sent, not published
    bus.publish(Ship, { parcelId: 'p-1' })
    // @ts-expect-error an event is not answered
    bus.answer(Shipped, () => ({ city: 'Lyon' }))
    // @ts-expect-error the answer misses city
    bus.answer(Where, () => ({ since: 'today' }))
  })
})
