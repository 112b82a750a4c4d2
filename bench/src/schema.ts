// What validating with a schema costs, end to end on the memory transport:
//   npm run build -w bench && node bench/dist/schema.js [events] [rounds]
// Modes alternate within each round (none, no-op, zod 4, valibot, arktype), each in a fresh
// process so that one mode's garbage does not slow the next; the figure is the median of the rounds. A typed publish validates once on send and the handler's
// consumer once on receive, so the per-message cost below is counted twice in the end-to-end run.
import { execFileSync } from 'node:child_process'
import { type Bus, createBus, defineEvent, MemoryBroker, memoryTransport } from '@omnibus/core'
import type { Schema } from '@omnibus/core/catalog'
import { type } from 'arktype'
import * as v from 'valibot'
import { z } from 'zod'

const EVENTS = Number(process.argv[2] ?? 20_000)
const ROUNDS = Number(process.argv[3] ?? 5)
const CONCURRENCY = 256

/** About 1 KiB of JSON in 20 fields: what an order event looks like. */
function payload(i: number) {
  return {
    orderId: `order-${i.toString().padStart(8, '0')}`,
    customerId: `customer-${(i % 977).toString().padStart(6, '0')}`,
    email: `customer${i % 977}@example.com`,
    sku: `sku-${(i % 31).toString().padStart(5, '0')}`,
    quantity: 1 + (i % 5),
    unitCents: 1299 + (i % 100),
    currency: 'EUR',
    gift: i % 7 === 0,
    express: i % 3 === 0,
    placedAt: '2026-11-30T09:00:00.000Z',
    channel: 'web',
    locale: 'fr-FR',
    street: `${i % 300} rue de la République, bâtiment ${i % 9}, escalier ${i % 4}`,
    city: 'Lyon',
    postcode: '69002',
    country: 'FR',
    note: 'Leave the parcel with the concierge if nobody answers; call before delivering please.'.repeat(5),
    coupon: i % 11 === 0 ? 'WINTER10' : 'NONE',
    loyaltyPoints: (i * 7) % 1000,
    source: 'campaign-2026-11-black-friday-newsletter-variant-b-with-a-long-tracking-code',
  }
}

const zodOrder = z.object({
  orderId: z.string(),
  customerId: z.string(),
  email: z.email(),
  sku: z.string(),
  quantity: z.number().int().positive(),
  unitCents: z.number().int(),
  currency: z.enum(['EUR', 'USD']),
  gift: z.boolean(),
  express: z.boolean(),
  placedAt: z.iso.datetime(),
  channel: z.string(),
  locale: z.string(),
  street: z.string(),
  city: z.string(),
  postcode: z.string(),
  country: z.string().length(2),
  note: z.string(),
  coupon: z.string(),
  loyaltyPoints: z.number().int(),
  source: z.string(),
})

const valibotOrder = v.object({
  orderId: v.string(),
  customerId: v.string(),
  email: v.pipe(v.string(), v.email()),
  sku: v.string(),
  quantity: v.pipe(v.number(), v.integer(), v.minValue(1)),
  unitCents: v.pipe(v.number(), v.integer()),
  currency: v.picklist(['EUR', 'USD']),
  gift: v.boolean(),
  express: v.boolean(),
  placedAt: v.pipe(v.string(), v.isoTimestamp()),
  channel: v.string(),
  locale: v.string(),
  street: v.string(),
  city: v.string(),
  postcode: v.string(),
  country: v.pipe(v.string(), v.length(2)),
  note: v.string(),
  coupon: v.string(),
  loyaltyPoints: v.pipe(v.number(), v.integer()),
  source: v.string(),
})

const arkOrder = type({
  orderId: 'string',
  customerId: 'string',
  email: 'string.email',
  sku: 'string',
  quantity: 'number.integer > 0',
  unitCents: 'number.integer',
  currency: "'EUR' | 'USD'",
  gift: 'boolean',
  express: 'boolean',
  placedAt: 'string.date.iso',
  channel: 'string',
  locale: 'string',
  street: 'string',
  city: 'string',
  postcode: 'string',
  country: 'string == 2',
  note: 'string',
  coupon: 'string',
  loyaltyPoints: 'number.integer',
  source: 'string',
})

/** Accepts anything: what the typed path costs without any validation work. */
const pass: Schema = { '~standard': { version: 1, vendor: 'bench', validate: (value) => ({ value }) } }

const schemas: Record<string, Schema | undefined> = {
  none: undefined,
  'no-op': pass,
  'zod 4': zodOrder,
  valibot: valibotOrder,
  arktype: arkOrder,
}

const TYPE = 'com.acme.bench.order.placed'

async function run(schema: Schema | undefined): Promise<number> {
  const bus: Bus = await createBus({
    service: 'bench',
    transports: { m: memoryTransport({ broker: new MemoryBroker() }) },
    delivery: { maxInFlight: 64 },
  })
  const definition = schema && defineEvent({ type: TYPE, data: schema })
  let handled = 0
  let done: () => void = () => {}
  const all = new Promise<void>((resolve) => {
    done = resolve
  })
  const count = () => {
    if (++handled === EVENTS) done()
  }
  if (definition) bus.on(definition, count)
  else bus.on(TYPE, count)
  await bus.start()
  const data = Array.from({ length: EVENTS }, (_, i) => payload(i))
  const started = performance.now()
  for (let i = 0; i < EVENTS; i += CONCURRENCY) {
    const slice = data.slice(i, i + CONCURRENCY)
    await Promise.all(
      slice.map((d) => (definition ? bus.publish(definition, d) : bus.publish({ type: TYPE, data: d }))),
    )
  }
  await all
  const seconds = (performance.now() - started) / 1000
  await bus.stop()
  return EVENTS / seconds
}

/** Nanoseconds per validate() of one payload, by itself. */
function validateCost(schema: Schema): number {
  const data = Array.from({ length: 1000 }, (_, i) => payload(i))
  for (const d of data) schema['~standard'].validate(d) // warm up
  const loops = 50
  const started = performance.now()
  for (let l = 0; l < loops; l++) for (const d of data) schema['~standard'].validate(d)
  return ((performance.now() - started) * 1e6) / (loops * data.length)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const mode = process.argv[4]
if (mode !== undefined) {
  // A child: one timed run of one mode after an untimed warm-up, printed as a number.
  await run(schemas[mode])
  console.log(await run(schemas[mode]))
  process.exit(0)
}

const figures: Record<string, number[]> = Object.fromEntries(Object.keys(schemas).map((k) => [k, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const name of Object.keys(schemas)) {
    const out = execFileSync(process.execPath, [process.argv[1]!, String(EVENTS), '1', name], {
      encoding: 'utf8',
    })
    figures[name]!.push(Number(out.trim()))
  }
}
const base = median(figures.none!)
console.log(
  `memory transport, ${EVENTS} events of ${JSON.stringify(payload(1)).length} bytes (20 fields) per run, median of ${ROUNDS} rounds`,
)
console.log('schema    events/s end to end   vs none   validate() per message')
for (const [name, schema] of Object.entries(schemas)) {
  const rate = median(figures[name]!)
  const cost = schema ? `${(validateCost(schema) / 1000).toFixed(2)} µs` : '—'
  console.log(
    `${name.padEnd(9)} ${Math.round(rate).toLocaleString('en-US').padStart(18)}   ${(rate / base).toFixed(2).padStart(6)}×   ${cost}`,
  )
}
