import type { Envelope, EnvelopeInput } from '../envelope/envelope.js'
import type { Logger } from '../logger.js'

export interface QueryOptions {
  /** How long to wait for the answer. Default: the bus's `queryTimeoutMs` (5 s). */
  timeoutMs?: number
}

/** What a handler gets besides the event. */
export interface HandlerContext {
  /** 1 for the first attempt at this delivery, 2 for the first retry, … */
  readonly attempt: number
  /** How often the broker has delivered this message (1 the first time; higher after crashes or stops). */
  readonly deliveryCount: number
  /** The config name of the transport it came through. */
  readonly transport: string
  readonly channel: string
  readonly group: string
  readonly logger: Logger
  /**
   * Aborted when the bus stops (long handlers may give up early; the message is then
   * redelivered), or when the handler's `timeoutMs` runs out (the attempt has failed).
   */
  readonly signal: AbortSignal
  /** Publishes a follow-up event that carries this message's correlation id and names it as cause. */
  publish<T>(input: EnvelopeInput<T>): Promise<void>
  /** Sends a follow-up command, correlated the same way. */
  send<T>(input: EnvelopeInput<T>): Promise<void>
  /** Asks a follow-up query, correlated the same way. */
  query<T = unknown, R = unknown>(input: EnvelopeInput<T>, options?: QueryOptions): Promise<R>
}

export type Handler<T = unknown, R = unknown> = (
  event: Envelope<T>,
  context: HandlerContext,
) => R | Promise<R>

/** The correlation attributes a follow-up of `cause` carries. */
export function followUp<T>(cause: Envelope, input: EnvelopeInput<T>): EnvelopeInput<T> {
  const correlation = typeof cause.correlationid === 'string' ? cause.correlationid : cause.id
  const traced: Partial<EnvelopeInput<T>> = {}
  if (typeof cause.traceparent === 'string' && input.traceparent === undefined)
    traced.traceparent = cause.traceparent
  if (typeof cause.tracestate === 'string' && input.tracestate === undefined)
    traced.tracestate = cause.tracestate
  return { correlationid: correlation, causationid: cause.id, ...traced, ...input }
}

/** What a context sends follow-ups through: the bus. */
export interface Sender {
  publish<T>(input: EnvelopeInput<T>): Promise<void>
  send<T>(input: EnvelopeInput<T>): Promise<void>
  query<T, R>(input: EnvelopeInput<T>, options?: QueryOptions): Promise<R>
}

/** Where a delivery came from; the same for every delivery of one subscription. */
export interface Origin {
  readonly transport: string
  readonly channel: string
  readonly group: string
  readonly logger: Logger
  readonly signal: AbortSignal
}

/** One per handler call; a class so that the hot path allocates one small object. */
export class DeliveryContext implements HandlerContext {
  constructor(
    private readonly sender: Sender,
    private readonly cause: Envelope,
    private readonly origin: Origin,
    readonly attempt: number,
    readonly deliveryCount: number,
    /** A signal of this call alone (a handler with timeoutMs); otherwise the subscription's. */
    private readonly callSignal?: AbortSignal,
  ) {}

  get transport(): string {
    return this.origin.transport
  }
  get channel(): string {
    return this.origin.channel
  }
  get group(): string {
    return this.origin.group
  }
  get logger(): Logger {
    return this.origin.logger
  }
  get signal(): AbortSignal {
    return this.callSignal ?? this.origin.signal
  }

  publish<T>(input: EnvelopeInput<T>): Promise<void> {
    return this.sender.publish(followUp(this.cause, input))
  }
  send<T>(input: EnvelopeInput<T>): Promise<void> {
    return this.sender.send(followUp(this.cause, input))
  }
  query<T = unknown, R = unknown>(input: EnvelopeInput<T>, options?: QueryOptions): Promise<R> {
    return this.sender.query<T, R>(followUp(this.cause, input), options)
  }
}
