/**
 * @omnibus/core/adapter: what a transport adapter needs and applications do not. The contract
 * (transport.ts), the wire binding, and the mechanics every adapter would otherwise write again;
 * each piece is tested in core (test/adapter.test.ts). docs/ADAPTERS.md is the checklist.
 */

// Option checks: the same checker core's config uses (declare them as TransportAdapter.options).
export { checkOptions, type OptionSpec, type OptionSpecs } from '../config/check.js'
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
// Errors and logs.
export { errorMessage, MessageTooLargeError, OmnibusError } from '../errors.js'
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
export { Semaphore, sleep } from '../util/async.js'
// Provisioning: made-once resources, broker names.
export { PromiseCache } from './cache.js'
export {
  DEFAULT_PUBLISH_TIMEOUT_MS,
  publishTimeoutOption,
  withDeadline,
} from './deadline.js'
export { adapterError, adapterLogger, describeError } from './errors.js'
// Settling and closing.
export { InFlight } from './in-flight.js'
export { brokerName, type NameRule, shortHash } from './names.js'
export { BatchFailure, type PublishQueueOptions, PublishQueues } from './publish-queues.js'
export { Backoff, pause, type RetryOptions, retrying } from './retry.js'
export { KeyedSerial } from './serial.js'
