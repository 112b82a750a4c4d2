import { ConfigError, OmnibusError } from '@omnibus/core'

/** PostgreSQL refused or failed a statement of the outbox, inbox or saga store; `cause` is pg's error. */
export class StoreError extends OmnibusError {
  override readonly name = 'StoreError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_FAILED', message, options)
  }
}

/** Runs `work`, turning a pg error into a StoreError that says what was being done. */
export async function storeCall<T>(doing: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof OmnibusError) throw error
    const detail = error instanceof Error ? error.message : String(error)
    throw new StoreError(
      `${doing} failed in PostgreSQL (${detail}); check that the server is reachable and the schema is migrated (durable.migrate())`,
      { cause: error },
    )
  }
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/

/** A schema name safe to put in SQL unquoted. */
export function checkSchema(schema: unknown, key = 'schema'): string {
  if (typeof schema !== 'string' || !identifier.test(schema)) {
    throw new ConfigError(
      key,
      `must be a lower-case PostgreSQL identifier (a-z, 0-9, _; at most 63 characters), got ${JSON.stringify(schema)}`,
    )
  }
  return schema
}
