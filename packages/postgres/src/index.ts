/** @omnibus/postgres: transactional outbox and relay, inbox (exactly-once effects) and sagas on PostgreSQL. */
export { Durable, type DurableOptions } from './durable.js'
export { StoreError } from './errors.js'
export {
  correlated,
  type HandlerTransaction,
  type InboxOptions,
  PostgresIdempotencyStore,
  transactionOf,
} from './inbox.js'
export { Outbox, type OutboxWriteOptions, type Queryable } from './outbox.js'
export { Relay, type RelayOptions, type RelaySender, type RelayStats } from './relay.js'
export { migrate, SCHEMA_VERSION } from './schema.js'
