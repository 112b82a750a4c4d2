import { defineCatalog, defineCommand, defineEvent, defineQuery } from '@omnibus/core'
import { z } from 'zod'

/**
 * The order flow's contracts, declared once: the services send and handle these
 * definitions, so the compiler checks every payload and the bus validates it at
 * both ends; `npm run asyncapi -w examples` documents them as asyncapi.yaml.
 */
const order = z.object({
  orderId: z.string().regex(/^order-\d+$/),
  sku: z.string().min(1),
  quantity: z.number().int().positive(),
  email: z.email(),
})

export const OrderPlaced = defineEvent({
  type: 'com.acme.order.placed',
  version: '1',
  description: 'A customer placed an order; every interested service reacts.',
  data: order,
  partitionKey: (o) => o.orderId,
  examples: [{ orderId: 'order-1', sku: 'mug', quantity: 2, email: 'customer1@example.com' }],
})

export const ReserveStock = defineCommand({
  type: 'com.acme.stock.reserve',
  version: '1',
  description: 'Take stock out of the warehouse for an order; one inventory instance does it.',
  data: order,
})

export const StockReserved = defineEvent({
  type: 'com.acme.stock.reserved',
  version: '1',
  description: 'Inventory reserved the stock of an order.',
  data: order.pick({ orderId: true, sku: true, quantity: true }),
  partitionKey: (r) => r.orderId,
})

export const StockLevel = defineQuery({
  type: 'com.acme.stock.level',
  version: '1',
  description: 'How many of a SKU are in stock.',
  data: z.object({ sku: z.string().min(1) }),
  answer: z.object({ sku: z.string(), available: z.number().int() }),
})

export const catalog = defineCatalog({
  title: 'Acme order flow',
  version: '1.0.0',
  description: 'The example services of Omnibus: orders, inventory and notifications.',
  messages: [OrderPlaced, ReserveStock, StockReserved, StockLevel],
  services: {
    orders: { sends: [StockLevel, ReserveStock, OrderPlaced] },
    inventory: { receives: [StockLevel, ReserveStock], sends: [StockReserved] },
    notifications: { receives: [OrderPlaced] },
  },
})

export type Order = z.infer<typeof order>
