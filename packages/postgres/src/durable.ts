import type { Bus, Logger, Middleware } from '@omnibus/core'
import { ConfigError, silentLogger } from '@omnibus/core'
import type { Pool } from 'pg'
import { checkSchema } from './errors.js'
import { type InboxOptions, inboxMiddleware, PostgresIdempotencyStore } from './inbox.js'
import { Outbox } from './outbox.js'
import { Relay, type RelayOptions } from './relay.js'
import { PostgresSagaStore } from './saga-postgres.js'
import { migrate } from './schema.js'

export interface DurableOptions {
  /** A pg Pool; the relay also opens one extra connection from its options for LISTEN. */
  pool: Pool
  /** The schema that holds the tables; created by migrate(). Default `omnibus`. */
  schema?: string
  /** The service name: the `source` (`urn:omnibus:<service>`) of outbox messages that set none. */
  service: string
  logger?: Logger
}

/** Outbox, relay, inbox and saga storage on one PostgreSQL schema. */
export class Durable {
  readonly pool: Pool
  readonly schema: string
  readonly outbox: Outbox
  readonly logger: Logger
  private readonly relays: Relay[] = []

  constructor(options: DurableOptions) {
    if (!options || typeof options.pool?.connect !== 'function') {
      throw new ConfigError('pool', 'needs a pg Pool (new pg.Pool({ connectionString }))')
    }
    if (typeof options.service !== 'string' || options.service.length === 0) {
      throw new ConfigError('service', 'needs the service name (the source of outbox messages)')
    }
    this.pool = options.pool
    this.schema = checkSchema(options.schema ?? 'omnibus')
    this.logger = options.logger ?? silentLogger
    this.outbox = new Outbox(this.schema, `urn:omnibus:${options.service}`)
  }

  /** Creates the schema and applies pending migrations (idempotent; safe from several instances at once). */
  migrate(): Promise<number[]> {
    return migrate(this.pool, this.schema)
  }

  /** A relay publishing this schema's outbox through `bus` (not started). */
  relay(bus: Pick<Bus, 'publish' | 'send'>, options: RelayOptions = {}): Relay {
    return new Relay(this.pool, this.schema, bus, { logger: this.logger, ...options })
  }

  /** The transactional inbox middleware: `bus.use(durable.inbox())`, then `transactionOf(ctx)` in handlers. */
  inbox(options?: InboxOptions): Middleware {
    return inboxMiddleware(this.pool, this.schema, this.outbox, options)
  }

  /** A shared IdempotencyStore for core's `idempotency({ store })`. */
  idempotencyStore(): PostgresIdempotencyStore {
    return new PostgresIdempotencyStore(this.pool, this.schema)
  }

  /** Saga instances in this schema, their messages through this outbox: `runSaga(bus, saga, durable.sagaStore())`. */
  sagaStore(): PostgresSagaStore {
    return new PostgresSagaStore(this.pool, this.schema, this.outbox)
  }

  /** Migrates, starts the bus, then a relay on it; `stop()` undoes it in reverse. */
  async start(bus: Bus, options: RelayOptions = {}): Promise<Relay> {
    await this.migrate()
    await bus.start()
    const relay = this.relay(bus, options)
    this.relays.push(relay)
    try {
      await relay.start()
    } catch (error) {
      await bus.stop()
      throw error
    }
    this.stopBus = () => bus.stop()
    return relay
  }

  /** Stops the relays started by start(), then the bus. The pool is the caller's to end. */
  async stop(): Promise<void> {
    await Promise.all(this.relays.splice(0).map((r) => r.stop()))
    await this.stopBus?.()
  }

  private stopBus: (() => Promise<void>) | undefined
}
