import { type Bus, type BusConfig, createBus, type Envelope, type Logger } from '@omnibus/core'
import { Durable, defineSaga, runSaga, transactionOf } from '@omnibus/postgres'
import type pg from 'pg'

/**
 * The order saga: orders → reserve stock → charge payment → confirm. A declined payment, or
 * none within the deadline, releases the stock and cancels the order (compensation).
 * Four services share one PostgreSQL schema here; each keeps its own tables and handles its
 * commands through the inbox, so a redelivered command has no second effect.
 */
export const shopTypes = (prefix: string) => ({
  orderPlaced: `${prefix}.order.placed`,
  orderConfirmed: `${prefix}.order.confirmed`,
  orderCancelled: `${prefix}.order.cancelled`,
  reserveStock: `${prefix}.stock.reserve`,
  releaseStock: `${prefix}.stock.release`,
  stockReserved: `${prefix}.stock.reserved`,
  chargePayment: `${prefix}.payment.charge`,
  paymentCharged: `${prefix}.payment.charged`,
  paymentDeclined: `${prefix}.payment.declined`,
})

/** How the payment service treats a card: charge it, decline it, or never answer. */
export type Card = 'ok' | 'declined' | 'silent'

export interface Order {
  orderId: string
  sku: string
  quantity: number
  amount: number
  card: Card
}

interface OrderState extends Order {
  step: 'reserving' | 'charging'
}

export interface ShopOptions {
  pool: pg.Pool
  schema: string
  /** Bus config without `service` (transports, routes, delivery). */
  config: Omit<BusConfig, 'service'>
  /** Message type prefix (unique per run when brokers keep old messages). */
  prefix: string
  /** How long the saga waits for the payment answer. */
  paymentDeadlineMs: number
  logger?: Logger
}

/** The shop's own tables (idempotent). `ledger` has one row per stock or payment effect. */
export async function createShopTables(
  pool: pg.Pool,
  schema: string,
  skus: Record<string, number>,
): Promise<void> {
  await pool.query(`create schema if not exists ${schema}`)
  await pool.query(`
    create table if not exists ${schema}.orders (id text primary key, n int not null, sku text not null,
      quantity int not null, amount int not null, card text not null, status text not null default 'placed');
    create table if not exists ${schema}.stock (sku text primary key, available int not null);
    create table if not exists ${schema}.reservations (order_id text primary key, sku text not null,
      quantity int not null, status text not null);
    create table if not exists ${schema}.ledger (seq bigserial primary key, order_id text not null, effect text not null);`)
  for (const [sku, available] of Object.entries(skus)) {
    await pool.query(`insert into ${schema}.stock values ($1, $2) on conflict do nothing`, [sku, available])
  }
}

export const orderSaga = (prefix: string, paymentDeadlineMs: number) => {
  const t = shopTypes(prefix)
  return defineSaga<OrderState>({
    name: 'order',
    startedBy: [t.orderPlaced],
    initial: (m: Envelope<Order>) => ({ ...m.data!, step: 'reserving' }),
    on: {
      [t.orderPlaced]: async (_m, saga) => {
        const { orderId, sku, quantity } = saga.state
        await saga.send({ type: t.reserveStock, data: { orderId, sku, quantity } })
      },
      [t.stockReserved]: async (_m, saga) => {
        saga.state.step = 'charging'
        const { orderId, amount, card } = saga.state
        await saga.send({ type: t.chargePayment, data: { orderId, amount, card } })
        await saga.schedule('payment', paymentDeadlineMs)
      },
      [t.paymentCharged]: async (_m, saga) => {
        await saga.publish({ type: t.orderConfirmed, data: { orderId: saga.state.orderId } })
        saga.complete('confirmed')
      },
      [t.paymentDeclined]: async (_m, saga) => {
        await compensate(
          saga.state,
          'payment declined',
          (i) => saga.send(i),
          (i) => saga.publish(i),
        )
        saga.complete('compensated')
      },
    },
    timeouts: {
      payment: async (_data, saga) => {
        await compensate(
          saga.state,
          'no payment answer',
          (i) => saga.send(i),
          (i) => saga.publish(i),
        )
        saga.complete('timed-out')
      },
    },
  })

  async function compensate(
    state: OrderState,
    reason: string,
    send: (input: { type: string; data: unknown }) => Promise<void>,
    publish: (input: { type: string; data: unknown }) => Promise<void>,
  ): Promise<void> {
    await send({ type: t.releaseStock, data: { orderId: state.orderId } })
    await publish({ type: t.orderCancelled, data: { orderId: state.orderId, reason } })
  }
}

/** Starts the saga and the orders, inventory and payment services; returns how to stop them. */
export async function startShop(
  options: ShopOptions,
): Promise<{ durable: Durable; stop: () => Promise<void> }> {
  const { pool, schema, prefix } = options
  const t = shopTypes(prefix)
  const logger = options.logger
  const bus = (service: string): Promise<Bus> =>
    createBus({ ...options.config, service, ...(logger ? { logger } : {}) })
  const durable = new Durable({ pool, schema, service: 'shop', ...(logger ? { logger } : {}) })
  await durable.migrate()

  const sagas = await bus('order-saga')
  runSaga(sagas, orderSaga(prefix, options.paymentDeadlineMs), durable.sagaStore())

  const services = await bus('shop')
  services.use(durable.inbox())
  const sql = (ctx: Parameters<typeof transactionOf>[0]) => transactionOf(ctx).client
  const ledger = (ctx: Parameters<typeof transactionOf>[0], orderId: string, effect: string) =>
    sql(ctx).query(`insert into ${schema}.ledger (order_id, effect) values ($1, $2)`, [orderId, effect])

  // inventory
  services.handle<Pick<Order, 'orderId' | 'sku' | 'quantity'>>(t.reserveStock, async (cmd, ctx) => {
    const { orderId, sku, quantity } = cmd.data!
    const r = await sql(ctx).query(
      `update ${schema}.stock set available = available - $2 where sku = $1 and available >= $2`,
      [sku, quantity],
    )
    if (r.rowCount !== 1) throw new Error(`out of stock: ${sku}`) // the example stocks enough
    await sql(ctx).query(`insert into ${schema}.reservations values ($1, $2, $3, 'held')`, [
      orderId,
      sku,
      quantity,
    ])
    await ledger(ctx, orderId, 'reserve')
    await transactionOf(ctx).publish({ type: t.stockReserved, data: { orderId } })
  })
  services.handle<{ orderId: string }>(t.releaseStock, async (cmd, ctx) => {
    const r = await sql(ctx).query(
      `update ${schema}.reservations set status = 'released' where order_id = $1 and status = 'held'
       returning sku, quantity`,
      [cmd.data!.orderId],
    )
    const held = r.rows[0] as { sku: string; quantity: number } | undefined
    if (!held) return
    await sql(ctx).query(`update ${schema}.stock set available = available + $2 where sku = $1`, [
      held.sku,
      held.quantity,
    ])
    await ledger(ctx, cmd.data!.orderId, 'release')
  })
  services.on<{ orderId: string }>(
    t.orderConfirmed,
    async (e, ctx) => {
      await sql(ctx).query(`update ${schema}.reservations set status = 'shipped' where order_id = $1`, [
        e.data!.orderId,
      ])
    },
    { group: 'inventory' },
  )

  // payment: charges, declines, or (card 'silent') never answers
  services.handle<Pick<Order, 'orderId' | 'amount' | 'card'>>(t.chargePayment, async (cmd, ctx) => {
    const { orderId, card } = cmd.data!
    if (card === 'silent') return
    if (card === 'declined') {
      await transactionOf(ctx).publish({ type: t.paymentDeclined, data: { orderId } })
      return
    }
    await ledger(ctx, orderId, 'charge')
    await transactionOf(ctx).publish({ type: t.paymentCharged, data: { orderId } })
  })

  // orders: the order's final status
  for (const [type, status] of [
    [t.orderConfirmed, 'confirmed'],
    [t.orderCancelled, 'cancelled'],
  ] as const) {
    services.on<{ orderId: string }>(
      type,
      async (e, ctx) => {
        await sql(ctx).query(`update ${schema}.orders set status = $2 where id = $1`, [
          e.data!.orderId,
          status,
        ])
      },
      { group: 'orders' },
    )
  }

  await sagas.start()
  await durable.start(services)
  return {
    durable,
    stop: async () => {
      await durable.stop()
      await sagas.stop()
    },
  }
}

/** The card order `n` pays with: every 10th from 3 declined, every 10th from 7 silent. */
export const cardOf = (n: number): Card => (n % 10 === 3 ? 'declined' : n % 10 === 7 ? 'silent' : 'ok')

/** Places orders `from..to-1` the way an orders service does: the row and its event in one transaction. */
export async function placeOrders(
  pool: pg.Pool,
  durable: Durable,
  schema: string,
  prefix: string,
  from: number,
  to: number,
): Promise<void> {
  const client = await pool.connect()
  // A checked-out client whose server goes away emits 'error'; unheard, it ends the process (the
  // chaos test restarts PostgreSQL under this loop). The query in flight rejects all the same.
  let lost: Error | undefined
  const onError = (error: Error): void => {
    lost = error
  }
  client.on('error', onError)
  try {
    await client.query('begin')
    const orders: (Order & { n: number })[] = []
    for (let n = from; n < to; n++) {
      orders.push({
        n,
        orderId: `o-${n}`,
        sku: `sku-${n % 4}`,
        quantity: 1 + (n % 3),
        amount: 10 + n,
        card: cardOf(n),
      })
    }
    await client.query(
      `insert into ${schema}.orders (id, n, sku, quantity, amount, card)
       select * from unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::int[], $6::text[])`,
      [
        orders.map((o) => o.orderId),
        orders.map((o) => o.n),
        orders.map((o) => o.sku),
        orders.map((o) => o.quantity),
        orders.map((o) => o.amount),
        orders.map((o) => o.card),
      ],
    )
    await durable.outbox.publish(
      client,
      orders.map(({ n: _, ...o }) => ({
        type: shopTypes(prefix).orderPlaced,
        correlationid: o.orderId,
        data: o,
      })),
    )
    await client.query('commit')
  } catch (error) {
    await client.query('rollback').catch((e: Error) => {
      lost ??= e
    })
    throw error
  } finally {
    client.off('error', onError)
    client.release(lost) // a broken client is discarded, not handed to the next caller
  }
}
