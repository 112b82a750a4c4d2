import type { Envelope, MessageKind } from '../envelope/envelope.js'
import type { Logger } from '../logger.js'
import type { AuthorizationRecord } from '../security/audit.js'
import type { Channel } from '../transport/transport.js'

/**
 * The hooks a bus calls around its messaging so that tracing and metrics
 * (`@omnibus/opentelemetry`) live outside core. Without an instrumentation a bus
 * calls none of them: one `undefined` check per publish and per delivery.
 */
export interface Instrumentation {
  /**
   * Wraps one publish of `events` (one batch, one channel). Calls `publish` with
   * the events to put on the wire (for instance with trace context attached) and
   * returns its outcome.
   */
  send(
    to: MessagingTarget,
    kind: MessageKind,
    events: readonly Envelope[],
    publish: (events: readonly Envelope[]) => Promise<void>,
  ): Promise<void>
  /**
   * As `send`, for one message not made yet: `make(trace)` makes it with `trace`'s attributes
   * (`traceparent`, `tracestate`), so that the trace context is written once instead of copied
   * into a made message. `traceparent` is the one the sender put on its input (unchecked: `make`
   * checks it). Optional: without it the bus makes the message and calls `send`.
   */
  sendOne?(
    to: MessagingTarget,
    kind: MessageKind,
    traceparent: unknown,
    make: (trace: TraceAttributes | undefined) => Envelope,
    publish: (events: readonly Envelope[]) => Promise<void>,
  ): Promise<void>
  /**
   * Wraps the handling of one delivery, every attempt included. `handle` must run
   * in the instrumentation's context (so follow-ups sent by the handler are its
   * children) and reports retries and dead-lettering through `span`.
   */
  process(
    from: MessagingSource,
    event: Envelope,
    deliveryCount: number,
    handle: (span: ProcessHooks) => Promise<void>,
  ): Promise<void>
  /** Wraps one query round trip: send, then wait for the answer (or the timeout). */
  query(to: MessagingTarget, query: Envelope, ask: () => Promise<unknown>): Promise<unknown>
  /** A delivery that is not a CloudEvent arrived (and is dead-lettered). */
  malformed?(from: MessagingSource, reason: string): void
  /** A subscription started; what it returns is called when it stops (e.g. to drop a backlog gauge). */
  subscribed?(from: MessagingSource): (() => void) | undefined
  /** The broker allowed a subscription or denied an attempt (the audit; see README, Security). */
  authorization?(record: AuthorizationRecord): void
  /** Decorates the bus's logger (e.g. adds trace and span ids to every line). */
  logger?(logger: Logger): Logger
}

/** The distributed-tracing extension's attributes; an undefined `tracestate` removes the input's. */
export type TraceAttributes = {
  readonly traceparent: string
  readonly tracestate: string | undefined
}

/** Where messages go: the transport's config key, its adapter's name, the channel. */
export interface MessagingTarget {
  /** The config name of the transport (`events`). */
  readonly transport: string
  /** The adapter's name (`kafka`, `rabbitmq`, `aws`, `gcp`, `memory`). */
  readonly system: string
  readonly channel: Channel
}

/** Where a delivery comes from: a subscription. */
export interface MessagingSource extends MessagingTarget {
  readonly group: string
  /** Messages of this group not yet consumed, where the transport can tell (see Transport.backlog). */
  readonly backlog?: () => Promise<number | undefined>
}

/** What the consumer reports while it handles one delivery. */
export interface ProcessHooks {
  /** Attempt `attempt` failed and is retried after `delayMs`. */
  retrying(attempt: number, error: unknown, delayMs: number): void
  /** The message went to the dead-letter channel after `attempts`. */
  deadLettered(reason: string, attempts: number, error?: unknown): void
  /** A query handler failed (the asker gets the error). */
  failed(error: unknown): void
}
