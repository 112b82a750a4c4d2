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
  /** Aborted when the bus stops; long handlers may give up early (the message is then redelivered). */
  readonly signal: AbortSignal
  /** Publishes a follow-up event that carries this message's correlation id and names it as cause. */
  publish<T>(input: EnvelopeInput<T>): Promise<void>
  /** Sends a follow-up command, correlated the same way. */
  send<T>(input: EnvelopeInput<T>): Promise<void>
  /** Asks a follow-up query, correlated the same way. */
  query<R = unknown, T = unknown>(input: EnvelopeInput<T>, options?: QueryOptions): Promise<R>
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
