import { configFromEnv } from '@omnibus/core'
import pg from 'pg'
import { runSagaExample } from './run.js'

// `npm run example -- --saga`: the order saga on PostgreSQL (OMNIBUS_POSTGRES_URL, started by
// `npm run brokers -- up postgres`), over the memory transport unless OMNIBUS_CONFIG names a broker.
const url = process.env.OMNIBUS_POSTGRES_URL ?? 'postgres://omnibus@127.0.0.1:5433/omnibus'
const config = (configFromEnv() ?? { transports: { main: { adapter: 'memory' } } }) as never
const pool = new pg.Pool({ connectionString: url, max: 20 })
const schema = `saga_example_${Date.now().toString(36)}`
console.log(`order saga on PostgreSQL (${url}, schema ${schema})\n`)
const report = await runSagaExample({
  pool,
  schema,
  config,
  orders: 50,
  paymentDeadlineMs: 2000,
  timeoutMs: 30_000,
  say: (line) => console.log(line),
}).catch((error: unknown) => {
  console.error(`the saga example could not run: ${error instanceof Error ? error.message : String(error)}`)
  console.error('is PostgreSQL up? npm run brokers -- up postgres')
  process.exit(1)
})
await pool.query(`drop schema ${schema} cascade`).catch(() => undefined)
await pool.end()
console.log('')
console.log(
  `orders:            ${report.orders} (every 10th from 3 declined, every 10th from 7 never answered)`,
)
console.log(`sagas:             ${JSON.stringify(report.sagas)}`)
console.log(`orders by status:  ${JSON.stringify(report.orderStatus)}`)
console.log(`payments charged:  ${report.charges}`)
console.log(`outbox unpublished: ${report.unpublished}`)
console.log(
  `problems:          ${report.problems.length === 0 ? 'none (no stock leaked)' : report.problems.join('; ')}`,
)
process.exit(report.problems.length === 0 ? 0 : 1)
