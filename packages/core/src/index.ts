/** @omnibus/core: CloudEvents envelopes, the bus, routing, config, delivery policy and the in-memory transport. */
export { Bus, type HandlerOptions } from './bus/bus.js'
export type { ConsumerStats } from './bus/consumer.js'
export type { Handler, HandlerContext, QueryOptions } from './bus/context.js'
export { DeadLetterExt, deadLetterChannel, MALFORMED_TYPE } from './bus/dead-letter.js'
export { backoffDelay, defaultRetry, type RetryPolicy } from './bus/retry.js'
export { type Catalog, type CatalogSpec, defineCatalog, type ServiceSpec } from './catalog/catalog.js'
export {
  type AnswerIn,
  type AnswerOut,
  type AnyDefinition,
  type CommandDefinition,
  type DataIn,
  type DataOut,
  type DefinitionSpec,
  defineCommand,
  defineEvent,
  defineQuery,
  type EventDefinition,
  type InputOf,
  isDefinition,
  type MessageDefinition,
  type OutputOf,
  type QueryDefinition,
  type QuerySpec,
  type Schema,
} from './catalog/define.js'
export {
  type Accepted,
  type SendOptions,
  type TypedHandler,
  type Upcaster,
  upcast,
  type VersionOptions,
} from './catalog/typed.js'
export { SchemaError } from './catalog/validate.js'
export { registerAdapter, resolveAdapter } from './config/adapters.js'
export {
  checkOptions,
  MAX_DURATION_MS,
  type OptionSpec,
  type OptionSpecs,
} from './config/check.js'
export {
  type BusConfig,
  configFromEnv,
  type DeliveryConfig,
  readConfigFile,
  type TransportSpec,
  validateConfig,
} from './config/config.js'
export { createBus } from './config/create-bus.js'
export {
  type Decoded,
  decodeMessage,
  encodeBinary,
  encodeStructured,
  type MalformedMessage,
  STRUCTURED_CONTENT_TYPE,
  structuredSize,
  TYPES_HEADER,
  type WireMessage,
} from './envelope/binding.js'
export {
  createCommand,
  createEnvelope,
  createEvent,
  createQuery,
  type Envelope,
  type EnvelopeInput,
  Ext,
  type ExtensionValue,
  kindOf,
  type MessageKind,
  withAttributes,
} from './envelope/envelope.js'
export {
  ArgumentError,
  ConfigError,
  EnvelopeError,
  type ErrorCode,
  errorMessage,
  HandlerTimeoutError,
  MessageTooLargeError,
  NonRetryableError,
  OmnibusError,
  QueryFailedError,
  QueryTimeoutError,
} from './errors.js'
export { childLogger, consoleLogger, type Logger, type LogLevel, silentLogger } from './logger.js'
export {
  type IdempotencyOptions,
  type IdempotencyStore,
  idempotency,
  MemoryIdempotencyStore,
} from './middleware/idempotency.js'
export { compose, type Middleware, SKIPPED } from './middleware/middleware.js'
export { type Destination, type Route, Router } from './routing/router.js'
export { AccessDeniedError } from './security/access.js'
export type { AuthorizationRecord } from './security/audit.js'
export {
  type EncryptionConfig,
  EncryptionExt,
  UndecryptableError,
} from './security/encryption.js'
export {
  type CachingKeysOptions,
  cachingKeys,
  type DataKey,
  type KeyProvider,
  staticKeys,
} from './security/keys.js'
export {
  readSecretFile,
  redacted,
  redactUrl,
  secretOption,
  type TlsOptions,
  tlsOptions,
  withSafeView,
} from './security/secrets.js'
export { type SecureTransportOptions, secureTransport } from './security/secured-transport.js'
export { TENANT_EXT, type TenantConfig } from './security/tenant.js'
export type {
  Instrumentation,
  MessagingSource,
  MessagingTarget,
  ProcessHooks,
} from './telemetry/instrumentation.js'
export { asLogger, type FieldsFirstLogger, fromFieldsFirst } from './telemetry/logger.js'
export { GuardedTransport } from './transport/guarded.js'
export {
  DEFAULT_RETAINED_MESSAGES,
  MEMORY,
  MemoryBroker,
  type MemoryBrokerOptions,
  MemoryTransport,
  type MemoryTransportOptions,
  memoryAdapter,
  memoryTransport,
} from './transport/memory.js'
export type {
  Capabilities,
  Channel,
  ChannelKind,
  Delivery,
  DeliveryHandler,
  StartPosition,
  SubscribeOptions,
  Subscription,
  Transport,
  TransportAdapter,
  TransportContext,
} from './transport/transport.js'
export { Semaphore, sleep } from './util/async.js'
