/**
 * @omnibus/core/adapter: what a transport adapter, or a package built on core (postgres,
 * opentelemetry, asyncapi, the conformance suite), needs and applications do not. The contract
 * (transport.ts), the wire binding, and the mechanics every adapter would otherwise write again;
 * each piece is tested in core (test/adapter.test.ts). docs/ADAPTERS.md is the checklist.
 * The application API is the root, `@omnibus/core`.
 */

// Catalogs read by tools (the AsyncAPI document), and the router that places messages on channels.
export type { Handler } from '../bus/context.js'
// Envelopes built and changed outside a bus (transport tests, outboxes, trace propagation).
export { MALFORMED_TYPE } from '../bus/dead-letter.js'
export type { Catalog } from '../catalog/catalog.js'
export type { AnyDefinition, Schema } from '../catalog/define.js'
// Config and registration: a config checked without a bus; an adapter outside the Omnibus packages.
export { registerAdapter } from '../config/adapters.js'
// Option checks: the same checker core's config uses (declare them as TransportAdapter.options).
export {
  type AnyOption,
  anyOption,
  checkOptions,
  type OptionSpec,
  type OptionSpecs,
  type OptionValues,
} from '../config/check.js'
export { readConfigFile, type TransportSpec, validateConfig } from '../config/config.js'
// The CloudEvents binding: binary or structured on the way out, decoded (or malformed) on the way in.
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
} from '../envelope/binding.js'
export {
  createEnvelope,
  createEvent,
  type ExtensionValue,
  type MessageKind,
  withAttributes,
} from '../envelope/envelope.js'
// Errors and logs.
export { type ErrorCode, errorMessage, MessageTooLargeError, OmnibusError } from '../errors.js'
export type { LogLevel } from '../logger.js'
export { MemoryIdempotencyStore } from '../middleware/idempotency.js'
export { type Route, Router } from '../routing/router.js'
// Broker credentials and TLS, read from files and kept out of logs.
export {
  redactUrl,
  secretOption,
  type TlsOptions,
  tlsOption,
  tlsOptions,
  withSafeView,
} from '../security/secrets.js'
// Instrumentation hooks (the OpenTelemetry package implements them).
export type {
  Instrumentation,
  MessagingSource,
  MessagingTarget,
  ProcessHooks,
  TraceAttributes,
} from '../telemetry/instrumentation.js'
export { fromFieldsFirst } from '../telemetry/logger.js'
// Core's wrapper around every transport (connect once, close once, the size check), for adapter tests.
export { GuardedTransport } from '../transport/guarded.js'
// The contract.
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
} from '../transport/transport.js'
// Concurrency, retries, batching.
export { Semaphore, sleep, within } from '../util/async.js'
export { accessDenied, errorChain, tlsDenied, tlsFailure } from './access-errors.js'
export { Backpressure } from './backpressure.js'
// Provisioning: made-once resources, broker names.
export { PromiseCache } from './cache.js'
export { type ChannelSwitch, channelSwitch, channelSwitchOption } from './channel-switch.js'
export { PendingConfirms } from './confirms.js'
export { credentialsOption } from './credentials-option.js'
export { type CumulativeAckOptions, CumulativeAcks } from './cumulative-acks.js'
export {
  DEFAULT_PUBLISH_TIMEOUT_MS,
  publishTimeoutOption,
  withDeadline,
} from './deadline.js'
export { errorIs, isConnectionError } from './error-match.js'
export { adapterError, adapterLogger, describeError } from './errors.js'
// Settling and closing.
export { InFlight } from './in-flight.js'
export { brokerName, type NameRule, shortHash } from './names.js'
export { logBacklog, OffsetLedger, type OffsetLedgerOptions } from './offset-ledger.js'
export { Outage } from './outage.js'
export { channelNotFound, KnownGroups, provisioningFailure } from './provisioning.js'
export { BatchFailure, type PublishQueueOptions, PublishQueues } from './publish-queues.js'
export { type PullLoopOptions, PullLoops } from './pull-loops.js'
export { Reconnecting, type ReconnectingOptions } from './reconnecting.js'
export { type ResendOptions, resend } from './resend.js'
export { type ResendAttempt, ResendLine, type ResendLineOptions } from './resend-line.js'
export { Backoff, pause, type RetryOptions, retrying } from './retry.js'
export { KeyedSerial } from './serial.js'
export { SettleBatches, type SettleBatchOptions } from './settle-batches.js'
export { sharedLimit } from './shared-limit.js'
export { tlsPreflight } from './tls-preflight.js'
