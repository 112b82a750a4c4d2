import type { Pool, PoolClient } from 'pg'
import { storeCall } from './errors.js'
import { claimInbox } from './inbox.js'
import type { Outbox } from './outbox.js'
import type { SagaEffects, SagaInstance, SagaRun, SagaStore, SagaWork } from './saga-store.js'
import { inTransaction } from './tx.js'

interface Row {
  state: unknown
  status: string
  timeouts: Record<string, string>
}

/**
 * Saga instances in PostgreSQL. A run is one transaction: the message's inbox row, the
 * instance row locked FOR UPDATE (runs on one instance wait for each other), the handler's
 * outbox messages and timeouts, and the new state commit together or not at all.
 */
export class PostgresSagaStore implements SagaStore {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly outbox: Outbox,
    private readonly inboxTtlMs = 7 * 24 * 60 * 60 * 1000,
  ) {}

  run<S>(run: SagaRun<S>, work: SagaWork<S>): Promise<boolean> {
    return inTransaction(this.pool, 'running a saga', async (client) => {
      if (
        !(await claimInbox(client, this.schema, `saga.${run.saga}\u001f${run.messageKey}`, this.inboxTtlMs))
      ) {
        return false
      }
      let row = await this.load(client, run)
      if (!row && run.create) {
        await client.query(
          `insert into ${this.schema}.saga (name, key, state) values ($1, $2, $3) on conflict do nothing`,
          [run.saga, run.key, JSON.stringify(run.create())],
        )
        row = await this.load(client, run)
      }
      const effects: SagaEffects = {
        client,
        dispatch: async (kind, input, delayMs) => {
          const options = { delayMs: delayMs ?? 0 }
          await (kind === 'command'
            ? this.outbox.send(client, input, options)
            : this.outbox.publish(client, input, options))
        },
        cancel: async (id) => {
          await this.outbox.cancel(client, id)
        },
      }
      const result = await work(
        row ? { state: row.state as S, status: row.status, timeouts: row.timeouts } : undefined,
        effects,
      )
      if (result && row) {
        await client.query(
          `update ${this.schema}.saga set state = $3, status = $4, timeouts = $5, version = version + 1, updated_at = now()
           where name = $1 and key = $2`,
          [run.saga, run.key, JSON.stringify(result.state), result.status, JSON.stringify(result.timeouts)],
        )
      }
      return true
    })
  }

  private async load<S>(client: PoolClient, run: SagaRun<S>): Promise<Row | undefined> {
    const r = await client.query<Row>(
      `select state, status, timeouts from ${this.schema}.saga where name = $1 and key = $2 for update`,
      [run.saga, run.key],
    )
    return r.rows[0]
  }

  async get<S>(saga: string, key: string): Promise<SagaInstance<S> | undefined> {
    const r = await storeCall('reading a saga instance', () =>
      this.pool.query<Row>(
        `select state, status, timeouts from ${this.schema}.saga where name = $1 and key = $2`,
        [saga, key],
      ),
    )
    const row = r.rows[0]
    return row ? { state: row.state as S, status: row.status, timeouts: row.timeouts } : undefined
  }

  async counts(saga: string): Promise<Record<string, number>> {
    const r = await storeCall('counting saga instances', () =>
      this.pool.query<{ status: string; n: string }>(
        `select status, count(*) as n from ${this.schema}.saga where name = $1 group by status`,
        [saga],
      ),
    )
    return Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)]))
  }
}
