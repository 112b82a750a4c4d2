import { type } from 'arktype'
import { describe, expectTypeOf, it } from 'vitest'
import { type Bus, defineCommand, defineEvent, defineQuery, type Envelope } from '../../src/index.js'

const Paid = defineEvent({
  type: 'com.acme.invoice.paid',
  data: type({ invoiceId: 'string', cents: 'number.integer', paidAt: 'string.date.parse' }),
})
const Refund = defineCommand({ type: 'com.acme.invoice.refund', data: type({ invoiceId: 'string' }) })
const Balance = defineQuery({
  type: 'com.acme.invoice.balance',
  data: type({ customer: 'string' }),
  answer: type({ cents: 'number' }),
})

declare const bus: Bus

describe('typed bus with arktype', () => {
  it('infers input, output and answer types', () => {
    bus.publish(Paid, { invoiceId: 'i-1', cents: 100, paidAt: '2026-01-01' })
    bus.on(Paid, (e) =>
      expectTypeOf(e).toEqualTypeOf<
        Envelope<{ invoiceId: string; cents: number; paidAt: Date }> & {
          readonly data: { invoiceId: string; cents: number; paidAt: Date }
        }
      >(),
    )
    bus.handle(Refund, (c) => expectTypeOf(c.data).toEqualTypeOf<{ invoiceId: string }>())
    bus.answer(Balance, () => ({ cents: 5 }))
    expectTypeOf(bus.query(Balance, { customer: 'c-1' })).toEqualTypeOf<Promise<{ cents: number }>>()
  })

  it('refuses what does not fit', () => {
    // @ts-expect-error invoiceId is missing
    bus.publish(Paid, { cents: 100, paidAt: '2026-01-01' })
    // @ts-expect-error an event is published, not sent
    bus.send(Paid, { invoiceId: 'i-1', cents: 100, paidAt: '2026-01-01' })
    // @ts-expect-error a query is asked, not handled as a command
    bus.handle(Balance, () => {})
    // @ts-expect-error the answer has the wrong shape
    bus.answer(Balance, () => ({ cents: '5' }))
  })
})
