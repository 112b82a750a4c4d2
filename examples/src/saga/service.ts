import { consoleLogger } from '@omnibus/core'
import type { LogLevel } from '@omnibus/core/adapter'
import pg from 'pg'
import { startShop } from './shop.js'

// The shop as its own process (the chaos test starts and SIGKILLs it): SAGA_SCHEMA, SAGA_PREFIX,
// SAGA_DEADLINE_MS, SAGA_CONFIG (bus config JSON), OMNIBUS_POSTGRES_URL. Says "ready" when started.
const env = (name: string): string => {
  const value = process.env[name]
  if (!value) throw new Error(`set ${name}`)
  return value
}
const level = process.env.OMNIBUS_TEST_LOG as LogLevel | undefined
const pool = new pg.Pool({ connectionString: env('OMNIBUS_POSTGRES_URL'), max: 40 })
pool.on('error', () => undefined) // idle connections lost in a PostgreSQL restart; queries reconnect
const shop = await startShop({
  pool,
  schema: env('SAGA_SCHEMA'),
  prefix: env('SAGA_PREFIX'),
  paymentDeadlineMs: Number(env('SAGA_DEADLINE_MS')),
  config: JSON.parse(env('SAGA_CONFIG')),
  ...(level ? { logger: consoleLogger(level) } : {}),
})
console.log('ready')
process.once('SIGTERM', () => {
  void shop.stop().then(() => pool.end())
})
