import type pg from 'pg'
import { cardOf } from './shop.js'

export interface ShopReport {
  orders: number
  /** Saga instances per status: confirmed, compensated (declined), timed-out (no answer), running. */
  sagas: Record<string, number>
  /** Orders per final status. */
  orderStatus: Record<string, number>
  charges: number
  /** Outbox rows not yet published. */
  unpublished: number
  /** Everything that is not as it must be; empty when all is well. */
  problems: string[]
}

/** What orders 0..total-1 must have come to, against what the database says. */
export async function shopReport(
  pool: pg.Pool,
  schema: string,
  total: number,
  initialStock: Record<string, number>,
): Promise<ShopReport> {
  const rows = async <T>(sql: string): Promise<T[]> => (await pool.query(sql)).rows as T[]
  const tally = async (sql: string) =>
    Object.fromEntries((await rows<{ k: string; n: string }>(sql)).map((r) => [r.k, Number(r.n)]))
  const expected = { confirmed: 0, compensated: 0, 'timed-out': 0 }
  for (let n = 0; n < total; n++) {
    const card = cardOf(n)
    expected[card === 'ok' ? 'confirmed' : card === 'declined' ? 'compensated' : 'timed-out']++
  }
  const sagas = await tally(
    `select status as k, count(*) as n from ${schema}.saga where name = 'order' group by status`,
  )
  const orderStatus = await tally(`select status as k, count(*) as n from ${schema}.orders group by status`)
  const problems: string[] = []
  for (const [status, n] of Object.entries(expected)) {
    if ((sagas[status] ?? 0) !== n) problems.push(`${sagas[status] ?? 0} sagas ${status}, expected ${n}`)
  }
  if ((sagas.running ?? 0) > 0) problems.push(`${sagas.running} sagas still running`)
  const wantConfirmed = expected.confirmed
  const wantCancelled = expected.compensated + expected['timed-out']
  if ((orderStatus.confirmed ?? 0) !== wantConfirmed)
    problems.push(`${orderStatus.confirmed ?? 0} orders confirmed, expected ${wantConfirmed}`)
  if ((orderStatus.cancelled ?? 0) !== wantCancelled)
    problems.push(`${orderStatus.cancelled ?? 0} orders cancelled, expected ${wantCancelled}`)
  // Wrong outcome per order: confirmed with a card that was not ok, or the reverse.
  const wrong = await rows<{ id: string }>(
    `select id from ${schema}.orders where (status = 'confirmed') <> (card = 'ok') limit 5`,
  )
  if (wrong.length) problems.push(`orders with the wrong outcome: ${wrong.map((r) => r.id).join(', ')}`)
  // No effect twice (the inbox's promise), none missing.
  const twice = await rows<{ order_id: string; effect: string; n: string }>(
    `select order_id, effect, count(*) as n from ${schema}.ledger group by 1, 2 having count(*) > 1 limit 5`,
  )
  for (const r of twice) problems.push(`${r.effect} of ${r.order_id} happened ${r.n} times`)
  const charges = Number(
    (await rows<{ n: string }>(`select count(*) as n from ${schema}.ledger where effect = 'charge'`))[0]!.n,
  )
  if (charges !== wantConfirmed) problems.push(`${charges} payments charged, expected ${wantConfirmed}`)
  // Stock: nothing held at the end, and what left the shelf is exactly what was confirmed.
  const held = await tally(`select status as k, count(*) as n from ${schema}.reservations group by status`)
  if ((held.held ?? 0) > 0) problems.push(`${held.held} reservations still held (stock leaked)`)
  const stock = await rows<{ sku: string; available: number; shipped: string }>(
    `select s.sku, s.available, coalesce((select sum(r.quantity) from ${schema}.reservations r
       join ${schema}.orders o on o.id = r.order_id where r.sku = s.sku and o.status = 'confirmed'), 0) as shipped
     from ${schema}.stock s`,
  )
  for (const s of stock) {
    const initial = initialStock[s.sku] ?? 0
    if (s.available + Number(s.shipped) !== initial)
      problems.push(`${s.sku}: ${s.available} available + ${s.shipped} shipped != ${initial} stocked`)
  }
  const unpublished = Number(
    (await rows<{ n: string }>(`select count(*) as n from ${schema}.outbox where published_at is null`))[0]!
      .n,
  )
  if (unpublished > 0) problems.push(`${unpublished} outbox rows unpublished`)
  return { orders: total, sagas, orderStatus, charges, unpublished, problems }
}
