#!/usr/bin/env node
/**
 * The outbox relay as its own process: `omnibus-relay`. Reads the bus config as createBus()
 * does (OMNIBUS_CONFIG, OMNIBUS_* variables), OMNIBUS_POSTGRES_URL and OMNIBUS_OUTBOX_SCHEMA
 * (default `omnibus`); stops cleanly on SIGTERM/SIGINT.
 */
import { type BusConfig, ConfigError, configFromEnv, consoleLogger, createBus } from '@omnibus/core'
import type { LogLevel } from '@omnibus/core/adapter'
import pg from 'pg'
import { Durable } from './durable.js'

const logger = consoleLogger((process.env.OMNIBUS_LOG_LEVEL as LogLevel | undefined) ?? 'info')
const pool = new pg.Pool({ connectionString: process.env.OMNIBUS_POSTGRES_URL })
pool.on('error', (error) => logger.warn('idle PostgreSQL connection lost', { error: error.message }))
const config = configFromEnv()
if (!config) throw new ConfigError('(root)', 'no bus config: set OMNIBUS_CONFIG (a JSON file or inline JSON)')
const bus = await createBus({ ...config, logger } as BusConfig) // createBus validates it
const durable = new Durable({
  pool,
  schema: process.env.OMNIBUS_OUTBOX_SCHEMA ?? 'omnibus',
  service: bus.service,
  logger,
})
await durable.start(bus)
logger.info('outbox relay running', { schema: durable.schema })
const stop = async (): Promise<void> => {
  await durable.stop()
  await pool.end()
}
process.once('SIGTERM', () => void stop())
process.once('SIGINT', () => void stop())
