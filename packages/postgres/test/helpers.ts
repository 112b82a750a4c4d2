import { type BusConfig, consoleLogger, createBus, type Logger, silentLogger } from '@omnibus/core'
import type { LogLevel } from '@omnibus/core/adapter'
import pg from 'pg'
import { Durable } from '../src/index.js'

export const POSTGRES_URL = process.env.OMNIBUS_POSTGRES_URL ?? 'postgres://omnibus@127.0.0.1:5433/omnibus'

/** A name no other test (or earlier run) uses; lower case, so it is also a schema name. */
export const uniq = (prefix: string): string =>
  `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`

/** OMNIBUS_TEST_LOG=debug|info|warn shows what the package logs. */
export const logger: Logger = process.env.OMNIBUS_TEST_LOG
  ? consoleLogger(process.env.OMNIBUS_TEST_LOG as LogLevel)
  : silentLogger

export { waitFor } from '@omnibus/conformance'

export const newPool = (max = 10): pg.Pool => {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max })
  pool.on('error', () => undefined) // idle clients lost in a server restart; the next query reconnects
  return pool
}

const created: string[] = []

/** Drops the schemas freshDurable made, then ends the pool: for afterAll. */
export async function cleanUp(pool: pg.Pool): Promise<void> {
  for (const schema of created.splice(0)) await pool.query(`drop schema if exists ${schema} cascade`)
  await pool.end()
}

/** A Durable on a fresh schema, migrated. */
export async function freshDurable(pool: pg.Pool, service = 'test'): Promise<Durable> {
  const schema = uniq('t')
  created.push(schema)
  const durable = new Durable({ pool, schema, service, logger })
  await durable.migrate()
  return durable
}

/** A bus on a private memory broker (no handlers registered yet). */
export const memoryBus = (service: string, extra: Partial<BusConfig> = {}) =>
  createBus({ service, transports: { main: { adapter: 'memory' } }, logger, ...extra })

export async function count(pool: pg.Pool, sql: string, values: unknown[] = []): Promise<number> {
  const r = await pool.query<{ n: string }>(sql, values)
  return Number(r.rows[0]?.n ?? 0)
}
