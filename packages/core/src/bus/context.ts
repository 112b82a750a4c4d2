import type * as C from '../catalog/define.js'
import { isDefinition } from '../catalog/define.js'
import type { SendOptions } from '../catalog/typed.js'
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
  publish<D extends C.EventDefinition>(definition: D, data: C.DataIn<D>, options?: SendOptions): Promise<void>
  publish<T>(input: Untyped<T>): Promise<void>
  /** Sends a follow-up command, correlated the same way. */
  send<D extends C.CommandDefinition>(definition: D, data: C.DataIn<D>, options?: SendOptions): Promise<void>
  send<T>(input: Untyped<T>): Promise<void>
  /** Asks a follow-up query, correlated the same way. */
  query<Q extends C.QueryDefinition>(
    definition: Q,
    data: C.DataIn<Q>,
    options?: SendOptions & QueryOptions,
  ): Promise<C.AnswerOut<Q>>
  query<T = unknown, R = unknown>(input: Untyped<T>, options?: QueryOptions): Promise<R>
}

/** An envelope input, never a message definition (those take the typed overloads). */
type Untyped<T> = EnvelopeInput<T> & { readonly kind?: never }

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
  publish(input: EnvelopeInput | C.AnyDefinition, data?: unknown, options?: SendOptions): Promise<void>
  send(input: EnvelopeInput | C.AnyDefinition, data?: unknown, options?: SendOptions): Promise<void>
  query(input: EnvelopeInput | C.AnyDefinition, data?: unknown, options?: QueryOptions): Promise<unknown>
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

  publish(input: EnvelopeInput | C.AnyDefinition, data?: unknown, options?: SendOptions): Promise<void> {
    if (isDefinition(input)) return this.sender.publish(input, data, this.typed(input, options))
    return this.sender.publish(followUp(this.cause, input))
  }
  send(input: EnvelopeInput | C.AnyDefinition, data?: unknown, options?: SendOptions): Promise<void> {
    if (isDefinition(input)) return this.sender.send(input, data, this.typed(input, options))
    return this.sender.send(followUp(this.cause, input))
  }
  /** Typed `never`: one implementation serves both overloads' answer types. */
  query(
    input: EnvelopeInput | C.AnyDefinition,
    data?: unknown,
    options?: SendOptions & QueryOptions,
  ): Promise<never> {
    const answer = isDefinition(input)
      ? this.sender.query(input, data, this.typed(input, options))
      : this.sender.query(followUp(this.cause, input), data as QueryOptions | undefined)
    return answer as Promise<never>
  }
  /** A typed follow-up's attributes: the caller's, plus the correlation of this message. */
  private typed<O extends SendOptions>(definition: C.AnyDefinition, options: O | undefined): O {
    return followUp(this.cause, { ...options, type: definition.type }) as unknown as O
  }
}
