import type { Pool, PoolClient } from 'pg'
import { storeCall } from './errors.js'

/**
 * Runs `work` inside BEGIN/COMMIT on a pooled client; a throw rolls back and rethrows. A client
 * whose rollback failed (its connection is gone) is discarded instead of returned to the pool.
 */
export async function inTransaction<T>(
  pool: Pool,
  doing: string,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await storeCall(doing, () => pool.connect())
  let broken: Error | undefined
  // A checked-out client whose server goes away emits 'error'; unheard, it would end the process.
  const lost = (error: Error): void => {
    broken = error
  }
  client.on('error', lost)
  try {
    await client.query('begin')
    const value = await work(client)
    await client.query('commit')
    return value
  } catch (error) {
    await client.query('rollback').catch((e: Error) => {
      broken = e
    })
    throw error
  } finally {
    client.off('error', lost)
    client.release(broken)
  }
}
