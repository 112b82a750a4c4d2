import type { BusConfig, Logger } from '@omnibus/core'
import { Durable } from '@omnibus/postgres'
import type pg from 'pg'
import { type ShopReport, shopReport } from './report.js'
import { createShopTables, placeOrders, startShop } from './shop.js'

export const SKUS = { 'sku-0': 10_000, 'sku-1': 10_000, 'sku-2': 10_000, 'sku-3': 10_000 }

/** Polls the database until every order has its final status (or `timeoutMs` passed). */
export async function settled(
  pool: pg.Pool,
  schema: string,
  total: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const r = await pool
      .query(
        `select (select count(*) from ${schema}.orders where status <> 'placed') as done,
                (select count(*) from ${schema}.outbox where published_at is null) as pending,
                (select count(*) from ${schema}.saga where status = 'running') as running`,
      )
      .catch(() => undefined) // PostgreSQL may be restarting
    const row = r?.rows[0] as { done: string; pending: string; running: string } | undefined
    if (row && Number(row.done) === total && Number(row.pending) === 0 && Number(row.running) === 0)
      return true
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
}

export interface SagaRunOptions {
  pool: pg.Pool
  schema: string
  config: Omit<BusConfig, 'service'>
  orders: number
  paymentDeadlineMs: number
  timeoutMs: number
  say?: (line: string) => void
  logger?: Logger
}

/** The whole example in one process: the shop's services, then orders placed ten at a time. */
export async function runSagaExample(options: SagaRunOptions): Promise<ShopReport> {
  const { pool, schema } = options
  const say = options.say ?? (() => {})
  const prefix = `com.shop.${schema.replaceAll('_', '-')}`
  await createShopTables(pool, schema, SKUS)
  const shop = await startShop({ ...options, prefix })
  const orders = new Durable({ pool, schema, service: 'orders' })
  try {
    for (let n = 0; n < options.orders; n += 10) {
      await placeOrders(pool, orders, schema, prefix, n, Math.min(n + 10, options.orders))
    }
    say(
      `placed ${options.orders} orders; waiting for every saga to finish (payment deadline ${options.paymentDeadlineMs} ms)`,
    )
    if (!(await settled(pool, schema, options.orders, options.timeoutMs)))
      say(`not settled after ${options.timeoutMs} ms`)
  } finally {
    await shop.stop()
  }
  return shopReport(pool, schema, options.orders, SKUS)
}
