import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { runSagaExample } from '../src/saga/run.js'

const url = process.env.OMNIBUS_POSTGRES_URL ?? 'postgres://omnibus@127.0.0.1:5433/omnibus'
const pool = new pg.Pool({ connectionString: url, max: 20 })
afterAll(() => pool.end())

describe('the order saga example on PostgreSQL and the memory transport', () => {
  it('confirms paid orders, compensates declined and unanswered ones, and leaks no stock', async () => {
    const schema = `saga_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
    const report = await runSagaExample({
      pool,
      schema,
      config: { transports: { main: { adapter: 'memory' } } },
      orders: 30,
      paymentDeadlineMs: 1000,
      timeoutMs: 30_000,
    })
    expect(report.problems).toEqual([])
    expect(report.sagas).toEqual({ confirmed: 24, compensated: 3, 'timed-out': 3 })
    expect(report.orderStatus).toEqual({ confirmed: 24, cancelled: 6 })
    expect(report.charges).toBe(24)
    await pool.query(`drop schema ${schema} cascade`)
  })
})
