import type { OptionSpecs } from '../config/check.js'
import type { Decoded } from '../envelope/binding.js'
import type { Envelope } from '../envelope/envelope.js'
import type { Logger } from '../logger.js'

/**
 * How a channel spreads its messages.
 * - `topic`: every group gets every message; members of one group share them (events).
 * - `queue`: one shared line of messages, whatever group name a consumer gives
 *   (commands, queries, replies, dead letters). Messages wait in it until consumed,
 *   even when nobody has subscribed yet.
 */
export type ChannelKind = 'topic' | 'queue'

/** A broker-level destination. Adapters map `name` onto their broker's naming rules. */
export interface Channel {
  readonly name: string
  readonly kind: ChannelKind
  /**
   * An asker's query-reply queue, made and removed by that asker. Publishing to
   * it must not create it: when it is gone, so is the asker, and the reply may be
   * dropped (resolve) instead of leaving a queue behind that nobody reads.
   */
  readonly reply?: boolean
}

/** What a transport can and cannot do; the conformance suite skips by these, naming the reason. */
export interface Capabilities {
  /** Per-key order within a group (events with the same `partitionkey` handled in publish order). */
  readonly ordering: boolean
  /** A new group can start from the beginning of a channel or from a time. */
  readonly replay: boolean
  /** The largest message, in bytes of its structured JSON form, the transport accepts. */
  readonly maxMessageBytes: number
  /** The broker keeps channels and messages across its own restart (false for in-memory emulators). */
  readonly durableAcrossRestart: boolean
  /** Free-text reasons shown when a capability is missing, e.g. `{ replay: 'RabbitMQ queues cannot rewind' }`. */
  readonly notes?: Readonly<Record<string, string>>
}

/** Where a new group starts reading. `latest` is the default; the rest need `capabilities.replay`. */
export type StartPosition = 'latest' | 'earliest' | { readonly time: Date }

export interface SubscribeOptions {
  /** At most this many deliveries handed out and not yet settled, for this subscription. */
  readonly maxInFlight: number
  /** Where a group that does not exist yet starts. Ignored for a group that already has a position. */
  readonly from?: StartPosition
  /** The channel belongs to this subscriber alone (a reply queue): remove it when the subscription closes. */
  readonly temporary?: boolean
}

/**
 * One message handed to a subscriber: either a decoded event or the malformed
 * bytes with the reason. `deliveryCount` is how often the broker has delivered
 * it (1 the first time) where the broker knows; 1 otherwise.
 */
export type Delivery = Decoded & { readonly deliveryCount: number }

/**
 * Settles a delivery: resolve = acknowledge (done, never again); reject = the
 * broker should deliver it again (now or after a restart), to this or another member.
 */
export type DeliveryHandler = (delivery: Delivery) => Promise<void>

export interface Subscription {
  /**
   * Stops intake, waits for the deliveries already handed out to settle, then
   * releases the broker resources (and removes a temporary channel). Idempotent.
   */
  close(): Promise<void>
}

/** Given to an adapter factory: who is asking, and where to log. */
export interface TransportContext {
  /** The config key of this transport (`transports.events`), for error messages. */
  readonly key: string
  readonly service: string
  readonly logger: Logger
}

/**
 * The contract every adapter implements: wire format, provisioning, ack,
 * reconnection and batching. Retry, dead letters, idempotency and the
 * command/event/query semantics live in core; connect-once, close-once and
 * closed errors are added by core's wrapper, so an adapter needs none of them.
 */
export interface Transport {
  /** The adapter's name (`kafka`, `memory`, …), for logs and errors. */
  readonly name: string
  readonly capabilities: Capabilities
  /** Connects to the broker. Core calls it once, before anything else. */
  connect(): Promise<void>
  /**
   * Publishes one event, resolving only when the broker has confirmed it and
   * rejecting when it could not be confirmed. Creates the channel if needed
   * (unless provisioning is off). The event is valid and within `maxMessageBytes`.
   */
  publish(channel: Channel, event: Envelope): Promise<void>
  /**
   * Optional: publishes several events in one round trip, in order, with the
   * same confirmation rule for every one. Without it, core publishes one by one.
   */
  publishBatch?(channel: Channel, events: readonly Envelope[]): Promise<void>
  /**
   * Makes sure `channel` and `group` exist, so that messages published from now
   * on wait for the group even while nobody consumes it. Optional: brokers that
   * retain everything (Kafka) need nothing here.
   */
  provision?(channel: Channel, group: string, from?: StartPosition): Promise<void>
  /** Starts consuming `channel` as a member of `group`. */
  subscribe(
    channel: Channel,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<Subscription>
  /**
   * Optional: how many messages of `channel` wait for `group` (not yet consumed,
   * or consumed and not yet settled), or undefined when the broker cannot say
   * now. Read by the backlog gauge of `@omnibus/opentelemetry`; a transport that
   * can never tell leaves it out and says why in `capabilities.notes.backlog`.
   */
  backlog?(channel: Channel, group: string): Promise<number | undefined>
  /**
   * Releases connections. Core calls it at most once, after it closed every subscription it made
   * (each settling its in-flight deliveries), so an adapter need not track its subscriptions for this;
   * one a caller left open may simply die with the connection (the broker redelivers what it held).
   */
  close(): Promise<void>
}

/** What an adapter package exports (as `adapter`) so that configs can name it. */
export interface TransportAdapter<Options = Record<string, unknown>> {
  readonly name: string
  /**
   * The options `create` accepts. When given, createBus checks them first (unknown keys
   * and wrong types fail naming the key, environment text becomes the declared types).
   */
  readonly options?: OptionSpecs
  /** Builds a transport from config options; throws ConfigError naming the key of a bad option. */
  create(options: Options, context: TransportContext): Transport
}
