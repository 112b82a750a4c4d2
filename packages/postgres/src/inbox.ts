import type { Envelope, EnvelopeInput, HandlerContext, IdempotencyStore, Middleware } from '@omnibus/core'
import { OmnibusError } from '@omnibus/core'
import type { Pool, PoolClient } from 'pg'
import { storeCall } from './errors.js'
import type { Outbox, OutboxWriteOptions } from './outbox.js'
import { inTransaction } from './tx.js'

const DAY = 24 * 60 * 60 * 1000

/** Inserts the inbox row unless a live one exists; true if this call owns the key now. */
export async function claimInbox(
  client: Pick<PoolClient, 'query'>,
  schema: string,
  key: string,
  ttlMs: number,
): Promise<boolean> {
  // PostgreSQL text cannot hold NUL, which core's idempotency keys use as a separator.
  const r = await client.query(
    `insert into ${schema}.inbox (key, expires_at) values ($1, now() + $2 * interval '1 millisecond')
     on conflict (key) do update set expires_at = excluded.expires_at, handled_at = now()
       where ${schema}.inbox.expires_at < now()`,
    [key.replaceAll('\u0000', '\u001f'), ttlMs],
  )
  return (r.rowCount ?? 0) > 0
}

/**
 * A shared, durable IdempotencyStore for core's `idempotency()` middleware. Claims are
 * rows, so every instance sees them and they survive restarts. Like every claim-first
 * store, a process that dies inside the handler leaves the claim behind (that delivery's
 * effect may be lost); `inbox()` has no such gap.
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  claim(key: string, ttlMs: number): Promise<boolean> {
    return storeCall('claiming an idempotency key', () => claimInbox(this.pool, this.schema, key, ttlMs))
  }

  async release(key: string): Promise<void> {
    await storeCall('releasing an idempotency key', () =>
      this.pool.query(`delete from ${this.schema}.inbox where key = $1`, [
        key.replaceAll('\u0000', '\u001f'),
      ]),
    )
  }
}

/** The transaction a handler runs in under `inbox()`, with outbox writes in it. */
export interface HandlerTransaction {
  /** The pg client, inside BEGIN: run your own statements on it; do not commit or roll back. */
  readonly client: PoolClient
  /** Queues a follow-up event in this transaction (correlated with the message being handled). */
  publish<T>(input: EnvelopeInput<T>, options?: OutboxWriteOptions): Promise<Envelope<T>[]>
  /** Queues a follow-up command in this transaction. */
  send<T>(input: EnvelopeInput<T>, options?: OutboxWriteOptions): Promise<Envelope<T>[]>
}

const transactions = new WeakMap<HandlerContext, HandlerTransaction>()

/** The transaction `inbox()` opened for this handler call. Throws if the bus has no inbox() middleware. */
export function transactionOf(ctx: HandlerContext): HandlerTransaction {
  const tx = transactions.get(ctx)
  if (!tx) {
    throw new OmnibusError(
      'BUS_STATE',
      'this handler has no PostgreSQL transaction: add bus.use(durable.inbox()) before registering handlers',
    )
  }
  return tx
}

/** What a follow-up of `cause` carries: its correlation id (or its id), cause and trace. */
export function correlated<T>(cause: Envelope, input: EnvelopeInput<T>): EnvelopeInput<T> {
  const correlationid = typeof cause.correlationid === 'string' ? cause.correlationid : cause.id
  const trace: Partial<EnvelopeInput<T>> = {}
  if (typeof cause.traceparent === 'string') trace.traceparent = cause.traceparent
  if (typeof cause.tracestate === 'string') trace.tracestate = cause.tracestate
  return { correlationid, causationid: cause.id, ...trace, ...input }
}

export interface InboxOptions {
  /** How long a handled message is remembered (a redelivery within it has no effect). Default 7 days. */
  ttlMs?: number
}

/**
 * The strong form of idempotency: each delivery runs in a PostgreSQL transaction that first
 * inserts its inbox row (group + source + id), then runs the handler, whose writes (via
 * `transactionOf(ctx).client`) and outbox messages commit together with that row. A
 * redelivery after the commit finds the row and is acknowledged without running again;
 * a crash before the commit leaves nothing, so it runs again. A concurrent duplicate waits
 * on the row lock and then sees it.
 */
export function inboxMiddleware(
  pool: Pool,
  schema: string,
  outbox: Outbox,
  options: InboxOptions = {},
): Middleware {
  const ttlMs = options.ttlMs ?? 7 * DAY
  return async (event, ctx, next) => {
    const key = `${ctx.group}\u001f${event.source}\u001f${event.id}`
    try {
      return await inTransaction(pool, 'opening an inbox transaction', async (client) => {
        if (!(await claimInbox(client, schema, key, ttlMs))) {
          ctx.logger.debug('already handled (inbox); acknowledged', { id: event.id, type: event.type })
          return undefined
        }
        transactions.set(ctx, {
          client,
          publish: (input, o) => outbox.publish(client, correlated(event, input), o),
          send: (input, o) => outbox.send(client, correlated(event, input), o),
        })
        return next()
      })
    } finally {
      transactions.delete(ctx)
    }
  }
}
