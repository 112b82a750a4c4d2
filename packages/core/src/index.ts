/**
 * @omnibus/core: the application API. What a service needs to send and handle messages; at most
 * 35 names (test/exports.test.ts holds the line). What adapters and packages built on core
 * (postgres, opentelemetry, asyncapi, the conformance suite) need besides is in
 * `@omnibus/core/adapter`.
 */

// The bus: made from a config, started, stopped; handlers get the envelope and a context.
export { Bus } from './bus/bus.js'
export type { HandlerContext } from './bus/context.js'
// Typed message definitions (docs/CATALOG.md). The definition types are here so that a package
// exporting its definitions can emit declarations; the rest are in `@omnibus/core/catalog`.
export { defineCatalog } from './catalog/catalog.js'
export {
  type CommandDefinition,
  defineCommand,
  defineEvent,
  defineQuery,
  type EventDefinition,
  type QueryDefinition,
} from './catalog/define.js'
export { upcast } from './catalog/typed.js'
// Errors: every one is an OmnibusError with a stable `code`.
export { SchemaError } from './catalog/validate.js'
export { type BusConfig, configFromEnv, readConfigFile } from './config/config.js'
export { createBus } from './config/create-bus.js'
// Messages: CloudEvents envelopes, and what publish/send accept as one.
export type { Envelope, EnvelopeInput } from './envelope/envelope.js'
export {
  ArgumentError,
  ConfigError,
  EnvelopeError,
  HandlerTimeoutError,
  MessageTooLargeError,
  NonRetryableError,
  OmnibusError,
  QueryFailedError,
  QueryTimeoutError,
} from './errors.js'
// Logging: Omnibus never prints; it writes to the logger in the config.
export { consoleLogger, type Logger, silentLogger } from './logger.js'

// Middleware around every handler call, and the idempotency one.
export { type IdempotencyStore, idempotency } from './middleware/idempotency.js'
export type { Middleware } from './middleware/middleware.js'
export { AccessDeniedError } from './security/access.js'

// The in-process transport (adapter name `memory`), for tests and single-process services.
export { MemoryBroker } from './transport/memory-broker.js'
export { memoryTransport } from './transport/memory-transport.js'
