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
export {
  defineSaga,
  runSaga,
  type SagaContext,
  type SagaDefinition,
  type SagaHandler,
  timeoutType,
} from './saga.js'
export { PostgresSagaStore } from './saga-postgres.js'
export {
  MemorySagaStore,
  type SagaEffects,
  type SagaInstance,
  type SagaRun,
  type SagaSender,
  type SagaStore,
} from './saga-store.js'
export { migrate, SCHEMA_VERSION } from './schema.js'
