import { type Bus, type BusConfig, createBus } from '@omnibus/core'
import { type Order, OrderPlaced, ReserveStock, StockLevel, StockReserved } from './catalog.js'

/**
 * The order flow our users know, as three services on one bus config:
 * - orders asks inventory for the stock level (query), sends ReserveStock
 *   (command) and publishes OrderPlaced (event);
 * - inventory answers the query, reserves stock and publishes StockReserved,
 *   correlated with the order;
 * - notifications sends a confirmation for every placed order. It is down for
 *   part of the run; when it comes back it catches up, and nothing is lost.
 * Every message is a typed definition of ./catalog.ts: checked by the compiler
 * and validated by the bus when sent and when received.
 */

export interface FlowOptions {
  /** The bus config without `service`; each service sets its own. */
  config: Omit<BusConfig, 'service'>
  orders?: number
  /** Orders placed while the notification service is down: [first, last), 1-based. */
  downtime?: [number, number]
  say?: (line: string) => void
  timeoutMs?: number
  /** What a service adds to the shared config (e.g. its own instrumentation). */
  configFor?: (service: string) => Partial<BusConfig>
  /** Runs the placing of one order (e.g. inside a span, so that the order is one trace). */
  placeOrder?: (orderId: string, place: () => Promise<void>) => Promise<void>
}

export interface FlowSummary {
  placed: number
  reserved: number
  notified: number
  caughtUp: number
  missing: string[]
}

const SKUS = ['kettle', 'teapot', 'mug', 'strainer']

export async function runOrderFlow(options: FlowOptions): Promise<FlowSummary> {
  const total = options.orders ?? 10
  const [downFrom, downTo] = options.downtime ?? [4, 8]
  const say = options.say ?? (() => {})
  const bus = (service: string) =>
    createBus({
      ...options.config,
      ...options.configFor?.(service),
      service,
      delivery: { queryTimeoutMs: 15_000, ...options.config.delivery },
    })
  const stock = new Map(SKUS.map((sku) => [sku, 100]))
  const reserved = new Set<string>()
  const notified = new Set<string>()
  const caughtUp = new Set<string>()
  let notificationsDown = false
  const running: Bus[] = []

  // inventory: answers stock queries, handles ReserveStock, confirms with StockReserved.
  const inventory = await bus('inventory')
  inventory.answer(StockLevel, (q) => ({ sku: q.data.sku, available: stock.get(q.data.sku) ?? 0 }))
  inventory.handle(ReserveStock, async (command, ctx) => {
    const { orderId, sku, quantity } = command.data
    stock.set(sku, (stock.get(sku) ?? 0) - quantity)
    reserved.add(orderId)
    say(`[inventory]     reserved ${quantity} × ${sku} for ${orderId} (${stock.get(sku)} left)`)
    await ctx.publish(StockReserved, { orderId, sku, quantity }, { subject: orderId })
  })
  running.push(inventory)

  // notifications: one confirmation per placed order.
  const notifications = async () => {
    const b = await bus('notifications')
    b.on(OrderPlaced, (event) => {
      const { orderId, email } = event.data
      const n = Number(orderId.split('-')[1])
      const late = !notified.has(orderId) && n >= downFrom && n < downTo
      if (late) caughtUp.add(orderId)
      notified.add(orderId)
      say(
        `[notifications] confirmation for ${orderId} sent to ${email}${late ? ' (caught up after downtime)' : ''}`,
      )
    })
    await b.start()
    return b
  }
  let notifier = await notifications()

  const orders = await bus('orders')
  await inventory.start()
  await orders.start()
  running.push(orders)

  try {
    for (let n = 1; n <= total; n++) {
      if (n === downFrom) {
        await notifier.stop()
        notificationsDown = true
        say('[notifications] --- service stopped; orders keep flowing ---')
      }
      if (n === downTo && notificationsDown) {
        // Said first: the service hands out what it missed as soon as it starts.
        say('[notifications] --- service back; catching up ---')
        notifier = await notifications()
        notificationsDown = false
      }
      const order: Order = {
        orderId: `order-${n}`,
        sku: SKUS[n % SKUS.length]!,
        quantity: 1 + (n % 3),
        email: `customer${n}@example.com`,
      }
      const place = async () => {
        const level = await orders.query(StockLevel, { sku: order.sku })
        say(
          `[orders]        ${order.orderId}: ${level.available} × ${order.sku} in stock; placing ${order.quantity}`,
        )
        await orders.send(ReserveStock, order, { correlationid: order.orderId })
        // The partition key (the order id) comes from the definition.
        await orders.publish(OrderPlaced, order, {
          id: `placed-${order.orderId}`,
          correlationid: order.orderId,
        })
      }
      await (options.placeOrder ? options.placeOrder(order.orderId, place) : place())
    }
    if (notificationsDown) notifier = await notifications()
    running.push(notifier)

    const ids = Array.from({ length: total }, (_, i) => `order-${i + 1}`)
    const deadline = Date.now() + (options.timeoutMs ?? 60_000)
    while (!ids.every((id) => reserved.has(id) && notified.has(id)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const missing = [
      ...ids.filter((id) => !reserved.has(id)).map((id) => `${id}: stock not reserved`),
      ...ids.filter((id) => !notified.has(id)).map((id) => `${id}: no confirmation sent`),
    ]
    return {
      placed: total,
      reserved: reserved.size,
      notified: notified.size,
      caughtUp: caughtUp.size,
      missing,
    }
  } finally {
    await Promise.allSettled([...new Set([...running, notifier])].map((b) => b.stop()))
  }
}
