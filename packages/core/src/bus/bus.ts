import type * as C from '../catalog/define.js'
import { isDefinition } from '../catalog/define.js'
import {
  parseAnswer,
  type SendOptions,
  sendTyped,
  type TypedHandler,
  typedHandler,
  type VersionOptions,
} from '../catalog/typed.js'
import { shown } from '../config/check.js'
import {
  checked,
  type Envelope,
  type EnvelopeInput,
  type MessageKind,
  type SendInput,
  toEnvelope,
  withAttributes,
} from '../envelope/envelope.js'
import { ArgumentError, ConfigError, OmnibusError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Middleware } from '../middleware/middleware.js'
import type { Router } from '../routing/router.js'
import type { Instrumentation } from '../telemetry/instrumentation.js'
import type { GuardedTransport } from '../transport/guarded.js'
import type { Channel, StartPosition } from '../transport/transport.js'
import { within } from '../util/async.js'
import {
  checkCount,
  checkDurationArgument,
  checkFunction,
  checkHandlerOptions,
  checkMessages,
  checkName,
  checkOptionsObject,
  checkType,
} from './arguments.js'
import { Consumer, type ConsumerHost, type ConsumerPlan, type ConsumerStats } from './consumer.js'
import type { Handler, QueryOptions } from './context.js'
import { deadLetterChannel } from './dead-letter.js'
import { type Outcome, queryAttributes, Replies, sendAnswer } from './query.js'
import type { RetryPolicy } from './retry.js'

export interface HandlerOptions {
  /** The consumer group (events only). Default: the service name, so instances of one service share the load. */
  group?: string
  /** Handlers of this subscription running at once. Default: the bus's `maxInFlight`. */
  maxInFlight?: number
  /** Where a new group starts (events only; needs the transport's replay capability). Default `latest`. */
  from?: StartPosition
  /**
   * The longest one call of the handler may take: past it the handler's `ctx.signal`
   * aborts and the attempt counts as failed (retried, then dead-lettered). Default: no limit.
   */
  timeoutMs?: number
}

type QueueOptions = Omit<HandlerOptions, 'group' | 'from'>

export interface BusSettings {
  readonly service: string
  readonly source: string
  readonly transports: ReadonlyMap<string, GuardedTransport>
  readonly router: Router
  readonly retry: RetryPolicy
  readonly maxInFlight: number
  readonly queryTimeoutMs: number
  readonly stopTimeoutMs: number
  /** Broker deliveries of one message after which it is dead-lettered unhandled (it keeps killing its consumer). */
  readonly maxDeliveries: number
  readonly logger: Logger
  /** Tracing and metrics hooks; absent, none are called. */
  readonly instrumentation?: Instrumentation
}

type State = 'new' | 'starting' | 'started' | 'stopping' | 'stopped'

/** How long stop() lets subscriptions and transports close once handlers are done or given up on. */
const CLOSE_GRACE_MS = 5000

/**
 * `kind?: never`: a message definition is not an envelope input (it goes to the typed overloads).
 * SendInput spells a whole CloudEvent without an index signature, so a misspelt field fails to compile.
 */
type Input<T> = SendInput<T> & { readonly kind?: never }

const TRACE_FIELDS = ['traceparent', 'tracestate'] as const

/** Fields to make an envelope from (not a whole CloudEvent), with a type to route it by. */
const isFields = <T>(input: Input<T> | undefined): input is Input<T> & EnvelopeInput<T> =>
  typeof input?.type === 'string' && (input as { specversion?: unknown }).specversion === undefined

/** The one object a service talks to: sends and handles events, commands and queries. */
export class Bus {
  private state: State = 'new'
  private readonly plans = new Map<string, ConsumerPlan>()
  private readonly consumers: Consumer[] = []
  private readonly middleware: Middleware[] = []
  private readonly abort = new AbortController()
  private readonly replies: Replies
  private starting: Promise<void> | undefined
  private stopping: Promise<void> | undefined

  constructor(private readonly settings: BusSettings) {
    const instance = crypto.randomUUID().slice(0, 8)
    this.replies = new Replies(`omnibus.reply.${settings.service}.${instance}`, settings.logger)
  }

  get service(): string {
    return this.settings.service
  }

  /** Adds middleware around every handler of this bus (in the order added). Before start(). */
  use(middleware: Middleware): this {
    checkFunction(middleware, 'middleware')
    this.assertState('new', 'add middleware')
    this.middleware.push(middleware)
    return this
  }

  /** Handles events of `type` (of a definition: typed and validated), in `options.group` (default: the service). Before start(). */
  on<D extends C.EventDefinition>(
    type: D,
    handler: TypedHandler<C.DataOut<D>>,
    options?: HandlerOptions & VersionOptions<D>,
  ): this
  on<T = unknown>(type: string, handler: Handler<T>, options?: HandlerOptions): this
  on(
    type: string | C.EventDefinition,
    handler: Handler | TypedHandler<never>,
    options: HandlerOptions = {},
  ): this {
    return this.register('event', type, handler as Handler, options)
  }

  /** Handles commands of `type`; instances of any service handling it share the commands. Before start(). */
  handle<D extends C.CommandDefinition>(
    type: D,
    handler: TypedHandler<C.DataOut<D>>,
    options?: QueueOptions & VersionOptions<D>,
  ): this
  handle<T = unknown>(type: string, handler: Handler<T>, options?: QueueOptions): this
  handle(
    type: string | C.CommandDefinition,
    handler: Handler | TypedHandler<never>,
    options: QueueOptions = {},
  ): this {
    return this.register('command', type, handler as Handler, options)
  }

  /** Answers queries of `type` with what `handler` returns; a throw rejects the asker's query. Before start(). */
  answer<Q extends C.QueryDefinition>(
    type: Q,
    handler: TypedHandler<C.DataOut<Q>, C.AnswerIn<Q>>,
    options?: QueueOptions & VersionOptions<Q>,
  ): this
  answer<T = unknown, R = unknown>(type: string, handler: Handler<T, R>, options?: QueueOptions): this
  answer(
    type: string | C.QueryDefinition,
    handler: Handler | TypedHandler<never>,
    options: QueueOptions = {},
  ): this {
    return this.register('query', type, handler as Handler, options)
  }

  /**
   * Reads the dead letters of `channel` (a channel name, by default the message
   * type): every letter whatever its type, with `dlreason`, `dlattempts`,
   * `dlchannel` attached. The transport is the one the routes put that channel on
   * (for any kind of message); where routes put a channel of that name on several
   * transports, it reads each of them. `options.transport` names one instead. Before start().
   */
  onDeadLetter(
    channel: string,
    handler: Handler,
    options: { transport?: string; maxInFlight?: number } = {},
  ): this {
    if (typeof channel !== 'string' || channel === '')
      throw new ArgumentError('channel', `must name a channel (a non-empty string), got ${shown(channel)}`)
    checkFunction(handler, 'handler')
    checkOptionsObject(options)
    checkName(options.transport, 'options.transport')
    checkCount(options.maxInFlight, 'options.maxInFlight')
    if (options.transport !== undefined && !this.settings.transports.has(options.transport)) {
      throw new ArgumentError(
        'options.transport',
        `names no transport of this bus: ${JSON.stringify(options.transport)}; defined: ${[...this.settings.transports.keys()].join(', ')}`,
      )
    }
    this.assertState('new', 'register a handler')
    const transportKeys = options.transport ? [options.transport] : this.settings.router.transportsOf(channel)
    const dlq = deadLetterChannel(channel)
    for (const transportKey of transportKeys) {
      const plan = this.plan(transportKey, dlq, dlq.name, options.maxInFlight)
      // Any type may arrive; one registration serves them all.
      plan.fallback = { kind: 'event', handler }
    }
    return this
  }

  private register(
    kind: MessageKind,
    typeOrDefinition: string | C.AnyDefinition,
    untyped: Handler,
    options: HandlerOptions & { accept?: VersionOptions<C.AnyDefinition>['accept'] },
  ): this {
    checkType(typeOrDefinition)
    checkFunction(untyped, 'handler')
    checkHandlerOptions(options)
    this.assertState('new', 'register a handler')
    const typed = isDefinition(typeOrDefinition)
    const type = typed ? typeOrDefinition.type : typeOrDefinition
    const handler = typed ? typedHandler(kind, typeOrDefinition, untyped, options.accept) : untyped
    if (typeof type !== 'string' || type.length === 0) {
      throw new ArgumentError('type', `a ${kind} handler needs a message type, got ${JSON.stringify(type)}`)
    }
    const { transport, channel } = this.settings.router.resolve(type, kind)
    // A queue has one line of messages, so its group is the channel itself.
    const group = channel.kind === 'queue' ? channel.name : (options.group ?? this.settings.service)
    const plan = this.plan(transport, channel, group, options.maxInFlight)
    if (plan.handlers.has(type)) {
      throw new ArgumentError(
        'type',
        `${type} already has a ${kind} handler in group ${group} on this bus; register one handler per type and group`,
      )
    }
    plan.handlers.set(type, {
      kind,
      handler,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    })
    if (options.from) plan.from = options.from
    return this
  }

  private plan(transportKey: string, channel: Channel, group: string, maxInFlight?: number): ConsumerPlan {
    const key = `${transportKey}\u0000${channel.kind}\u0000${channel.name}\u0000${group}`
    let plan = this.plans.get(key)
    if (!plan) {
      plan = {
        transportKey,
        transport: this.transport(transportKey),
        channel,
        group,
        handlers: new Map(),
        maxInFlight: maxInFlight ?? this.settings.maxInFlight,
      }
      this.plans.set(key, plan)
    } else if (maxInFlight !== undefined) {
      plan.maxInFlight = Math.min(plan.maxInFlight, maxInFlight)
    }
    return plan
  }

  /**
   * Connects every transport, provisions, and starts consuming. Calls made while
   * it runs share its outcome; a second start() after it finished is refused.
   */
  start(): Promise<void> {
    if (this.state === 'starting') return this.starting!
    if (this.state === 'started') {
      return Promise.reject(new OmnibusError('BUS_STATE', 'cannot start: the bus is already started'))
    }
    if (this.state !== 'new') {
      return Promise.reject(
        new OmnibusError('BUS_STATE', `cannot start: the bus is ${this.state}; create a new bus`),
      )
    }
    this.state = 'starting'
    this.starting = this.startUp()
    return this.starting
  }

  private async startUp(): Promise<void> {
    // A stop() during start ends it at the next step.
    const going = () => {
      if (this.state !== 'starting')
        throw new OmnibusError('BUS_STATE', 'start abandoned: the bus was stopped while starting')
    }
    try {
      await Promise.all([...this.settings.transports.values()].map((t) => t.connect()))
      going()
      const host = this.host()
      for (const plan of this.plans.values()) this.consumers.push(new Consumer(plan, host))
      await Promise.all(this.consumers.map((c) => c.start()))
      going()
      this.state = 'started'
      this.settings.logger.info('bus started', {
        service: this.service,
        subscriptions: this.consumers.length,
      })
    } catch (error) {
      await this.stop().catch(() => undefined)
      throw error
    }
  }

  /**
   * Stops intake, waits up to `stopTimeoutMs` for running handlers to finish and
   * be acknowledged (retries waiting for their backoff are given back to the
   * broker instead), then gives whatever is still running back to the broker
   * unacknowledged, removes reply queues and closes the transports. Resolves
   * within `stopTimeoutMs` plus at most CLOSE_GRACE_MS, whatever handlers do.
   * Every call, concurrent or later, shares the one outcome.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown()
    return this.stopping
  }

  private async shutDown(): Promise<void> {
    const { logger, stopTimeoutMs } = this.settings
    this.state = 'stopping'
    this.abort.abort(new OmnibusError('BUS_STATE', 'the bus is stopping'))
    const closing = Promise.allSettled(this.consumers.map((c) => c.stop()))
    if (!(await within(stopTimeoutMs, closing))) {
      logger.warn('handlers still running at the stop timeout; their messages are left to the broker', {
        stopTimeoutMs,
      })
      for (const consumer of this.consumers) consumer.abandon()
    }
    // Past the drain, closing is the adapters' work: bounded, so that one stuck client cannot hang stop().
    const graceEnd = Date.now() + CLOSE_GRACE_MS
    const closed = await within(
      CLOSE_GRACE_MS,
      closing.then(async () => {
        await within(graceEnd - Date.now(), this.replies.close())
        await Promise.allSettled([...this.settings.transports.values()].map((t) => t.close()))
      }),
    )
    if (!closed) {
      logger.warn('transports still closing after the grace period; left closing in the background', {
        graceMs: CLOSE_GRACE_MS,
      })
    }
    this.state = 'stopped'
    logger.info('bus stopped', { service: this.service })
  }

  /** Counts per subscription (handled, retried, dead-lettered, malformed, skipped) since start. */
  stats(): ConsumerStats {
    const total: ConsumerStats = { handled: 0, retried: 0, deadLettered: 0, malformed: 0, skipped: 0 }
    for (const c of this.consumers)
      for (const k of Object.keys(total) as (keyof ConsumerStats)[]) total[k] += c.stats[k]
    return total
  }

  /** Publishes one event or several (or one of a definition, validated first); resolves once the broker(s) confirmed every one. */
  publish<D extends C.EventDefinition>(definition: D, data: C.DataIn<D>, options?: SendOptions): Promise<void>
  publish<T>(input: Input<T> | readonly Input<T>[]): Promise<void>
  publish(
    input: C.AnyDefinition | Input<unknown> | readonly Input<unknown>[],
    data?: unknown,
    options?: SendOptions,
  ): Promise<void> {
    if (isDefinition(input)) return sendTyped('event', input, data, options, (i) => this.dispatch('event', i))
    return this.dispatch('event', input as Input<unknown>)
  }

  /** Sends one command or several to their handlers (or one of a definition, validated first); resolves once the broker(s) confirmed. */
  send<D extends C.CommandDefinition>(definition: D, data: C.DataIn<D>, options?: SendOptions): Promise<void>
  send<T>(input: Input<T> | readonly Input<T>[]): Promise<void>
  send(
    input: C.AnyDefinition | Input<unknown> | readonly Input<unknown>[],
    data?: unknown,
    options?: SendOptions,
  ): Promise<void> {
    if (isDefinition(input))
      return sendTyped('command', input, data, options, (i) => this.dispatch('command', i))
    return this.dispatch('command', input)
  }

  /** Asks a query and waits for its answer (the handler's return value; of a definition: checked by its answer schema), or rejects on timeout or on the handler's error. */
  query<Q extends C.QueryDefinition>(
    definition: Q,
    data: C.DataIn<Q>,
    options?: SendOptions & QueryOptions,
  ): Promise<C.AnswerOut<Q>>
  query<T = unknown, R = unknown>(input: Input<T>, options?: QueryOptions): Promise<R>
  query(
    input: C.AnyDefinition | Input<unknown>,
    data?: unknown,
    options?: SendOptions & QueryOptions,
  ): Promise<unknown> {
    if (!isDefinition(input)) return this.ask(input, data as QueryOptions | undefined)
    const { timeoutMs, ...attributes } = options ?? {}
    return sendTyped('query', input, data, attributes, (i) => this.ask(i, { timeoutMs })).then((answer) =>
      parseAnswer(input as C.QueryDefinition, answer),
    )
  }

  private async ask(input: Input<unknown>, options: QueryOptions = {}): Promise<unknown> {
    checkMessages(input)
    checkOptionsObject(options)
    checkDurationArgument(options?.timeoutMs, 'options.timeoutMs')
    options ??= {}
    this.assertSending()
    const timeoutMs = options.timeoutMs ?? this.settings.queryTimeoutMs
    const draft = toEnvelope('query', input, this.settings.source)
    const { transport, channel } = this.settings.router.resolve(draft.type, 'query')
    const guarded = this.transport(transport)
    const replyChannel = await this.replies.channelFor(guarded)
    const query = withAttributes(draft, queryAttributes(replyChannel, timeoutMs))
    const round = async () => {
      const answer = this.replies.expect(query, timeoutMs)
      // The answer may arrive, and reject, before the broker has confirmed the query;
      // it is awaited below, so it must not count as unhandled meanwhile.
      answer.catch(() => undefined)
      try {
        // A publish that never confirms must not outlast the query's own timeout.
        await Promise.race([this.publishTo(guarded, channel, 'query', [query]), answer])
      } catch (error) {
        this.replies.cancel(query.id)
        throw error
      }
      return await answer
    }
    const instrumentation = this.settings.instrumentation
    if (!instrumentation) return round()
    return instrumentation.query({ transport, system: guarded.name, channel }, query, round)
  }

  /** Publishes through the instrumentation's send hook when there is one. */
  private publishTo(
    transport: GuardedTransport,
    channel: Channel,
    kind: MessageKind,
    events: readonly Envelope[],
  ): Promise<void> {
    const instrumentation = this.settings.instrumentation
    if (!instrumentation) return transport.publish(channel, events)
    return instrumentation.send(
      { transport: transport.key, system: transport.name, channel },
      kind,
      events,
      (e) => transport.publish(channel, e),
    )
  }

  /** One message made inside the instrumentation's send span, its trace context written as it is made. */
  private sendTraced<T>(kind: MessageKind, plain: EnvelopeInput<T>): Promise<void> {
    const { transport, channel } = this.settings.router.resolve(plain.type, kind)
    const guarded = this.transport(transport)
    const source = this.settings.source
    return this.settings.instrumentation!.sendOne!(
      { transport: guarded.key, system: guarded.name, channel },
      kind,
      plain.traceparent,
      (trace) => {
        // The span's context replaces the sender's, which is still checked: tracing on or off,
        // the same inputs are accepted.
        if (trace) for (const name of TRACE_FIELDS) if (plain[name] !== undefined) checked(name, plain[name])
        return toEnvelope(kind, trace ? { ...plain, ...trace } : plain, source)
      },
      (events) => guarded.publish(channel, events),
    )
  }

  private async dispatch<T>(kind: MessageKind, input: Input<T> | readonly Input<T>[]): Promise<void> {
    checkMessages(input)
    this.assertSending()
    const inputs = Array.isArray(input) ? (input as readonly Input<T>[]) : [input as Input<T>]
    if (inputs.length === 1 && this.settings.instrumentation?.sendOne && isFields(inputs[0]))
      return this.sendTraced(kind, inputs[0])
    // Most batches go to one channel: group only when a destination differs from the first.
    let first: { transport: GuardedTransport; channel: Channel; events: Envelope[] } | undefined
    let firstKey: { transport: string; channel: Channel } | undefined
    let others: Map<string, { transport: GuardedTransport; channel: Channel; events: Envelope[] }> | undefined
    for (const one of inputs) {
      const envelope = toEnvelope(kind, one, this.settings.source)
      const destination = this.settings.router.resolve(envelope.type, kind)
      if (!first || !firstKey) {
        firstKey = destination
        first = {
          transport: this.transport(destination.transport),
          channel: destination.channel,
          events: [envelope],
        }
      } else if (destination.transport === firstKey.transport && destination.channel === firstKey.channel) {
        first.events.push(envelope)
      } else {
        others ??= new Map()
        const key = `${destination.transport}\u0000${destination.channel.name}`
        let batch = others.get(key)
        if (!batch) {
          batch = {
            transport: this.transport(destination.transport),
            channel: destination.channel,
            events: [],
          }
          others.set(key, batch)
        }
        batch.events.push(envelope)
      }
    }
    if (!first) return
    if (!others) return this.publishTo(first.transport, first.channel, kind, first.events)
    await Promise.all(
      [first, ...others.values()].map((b) => this.publishTo(b.transport, b.channel, kind, b.events)),
    )
  }

  private host(): ConsumerHost {
    return {
      logger: this.settings.logger,
      retry: this.settings.retry,
      maxDeliveries: this.settings.maxDeliveries,
      middleware: this.middleware,
      signal: this.abort.signal,
      sender: this,
      ...(this.settings.instrumentation ? { instrumentation: this.settings.instrumentation } : {}),
      reply: (transport, query, outcome) => this.reply(transport, query, outcome),
    }
  }

  private reply(transport: GuardedTransport, query: Envelope, outcome: Outcome): Promise<void> {
    return sendAnswer(query, outcome, {
      source: this.settings.source,
      logger: this.settings.logger,
      publish: (channel, events) => this.publishTo(transport, channel, 'event', events),
    })
  }

  private transport(key: string): GuardedTransport {
    const transport = this.settings.transports.get(key)
    if (!transport) {
      throw new ConfigError(
        'transports',
        `no transport named "${key}" in this bus; routes must name one of transports`,
      )
    }
    return transport
  }

  private assertState(expected: State, action: string): void {
    if (this.state !== expected) {
      throw new OmnibusError('BUS_STATE', `cannot ${action}: the bus is ${this.state}; do it before start()`)
    }
  }

  private assertSending(): void {
    if (this.state === 'stopping' || this.state === 'stopped') {
      throw new OmnibusError('BUS_STATE', `cannot send: the bus is ${this.state}; create a new bus`)
    }
  }
}
