import { type MalformedMessage, malformedData } from '../envelope/binding.js'
import { decodeWarning } from '../envelope/encoded.js'
import type { Envelope, MessageKind } from '../envelope/envelope.js'
import { errorMessage, HandlerTimeoutError, isNonRetryable, OmnibusError } from '../errors.js'
import { childLogger, type Logger } from '../logger.js'
import type { Middleware } from '../middleware/middleware.js'
import { compose, SKIPPED } from '../middleware/middleware.js'
import type { Instrumentation, MessagingSource, ProcessHooks } from '../telemetry/instrumentation.js'
import type { GuardedTransport } from '../transport/guarded.js'
import type { Channel, Delivery, StartPosition, Subscription } from '../transport/transport.js'
import { Semaphore, sleep } from '../util/async.js'
import { DeliveryContext, type Handler, type HandlerContext, type Origin, type Sender } from './context.js'
import {
  type DeathInfo,
  deadLetterChannel,
  deadLetterOf,
  deadLetterOfMalformed,
  type Remains,
  remainsOfEvent,
  remainsOfMalformed,
  truncatedDeadLetter,
} from './dead-letter.js'
import { queryExpired } from './query.js'
import { backoffDelay, type RetryPolicy } from './retry.js'

export interface Registration {
  readonly kind: MessageKind
  readonly handler: Handler
  /** A limit on each call: past it the handler's signal aborts and the attempt counts as failed. */
  readonly timeoutMs?: number
}

/** One subscription of a bus: a channel, a group, and the handlers for the types that arrive there. */
export interface ConsumerPlan {
  readonly transportKey: string
  readonly transport: GuardedTransport
  readonly channel: Channel
  readonly group: string
  readonly handlers: Map<string, Registration>
  /** Handles every type `handlers` does not name (a dead-letter reader). */
  fallback?: Registration
  maxInFlight: number
  from?: StartPosition
}

/** What a consumer needs from its bus. */
export interface ConsumerHost {
  readonly logger: Logger
  readonly retry: RetryPolicy
  readonly maxDeliveries: number
  readonly middleware: readonly Middleware[]
  readonly signal: AbortSignal
  readonly sender: Sender
  /** Tracing and metrics hooks (see Instrumentation); absent: none are called. */
  readonly instrumentation?: Instrumentation
  reply(
    transport: GuardedTransport,
    query: Envelope,
    outcome: { data: unknown } | { error: string },
  ): Promise<void>
}

export interface ConsumerStats {
  handled: number
  retried: number
  deadLettered: number
  malformed: number
  skipped: number
}

/**
 * Core's delivery policy, the same on every transport: malformed input to the
 * dead-letter channel, per-key order, `maxInFlight`, retry with backoff, then
 * dead-letter; queries answered instead of retried.
 */
export class Consumer {
  readonly stats: ConsumerStats = { handled: 0, retried: 0, deadLettered: 0, malformed: 0, skipped: 0 }
  private readonly slots: Semaphore
  private readonly keyTails = new Map<string, Promise<void>>()
  private readonly logger: Logger
  private readonly run: (event: Envelope, context: HandlerContext) => Promise<unknown>
  private subscription: Subscription | undefined
  private readonly origin: Origin
  /** The host's signal, read once per abort rather than through its getter once per delivery. */
  private stopping: boolean
  /** The settlements owed to the adapter for deliveries not yet settled (see abandon()). */
  private readonly owed = new OwedList()
  /** This subscription as the instrumentation sees it. */
  private readonly source: MessagingSource
  private unsubscribed: (() => void) | undefined

  constructor(
    private readonly plan: ConsumerPlan,
    private readonly host: ConsumerHost,
  ) {
    this.slots = new Semaphore(plan.maxInFlight)
    this.stopping = host.signal.aborted
    host.signal.addEventListener(
      'abort',
      () => {
        this.stopping = true
      },
      { once: true },
    )
    this.logger = childLogger(host.logger, {
      transport: plan.transportKey,
      channel: plan.channel.name,
      group: plan.group,
    })
    this.origin = {
      transport: plan.transportKey,
      channel: plan.channel.name,
      group: plan.group,
      logger: this.logger,
      signal: host.signal,
    }
    const inner = plan.transport.inner
    this.source = {
      transport: plan.transportKey,
      system: plan.transport.name,
      channel: plan.channel,
      group: plan.group,
      ...(inner.backlog ? { backlog: () => inner.backlog!(plan.channel, plan.group) } : {}),
    }
    this.run = compose(host.middleware, (event, context) => {
      const registration = (plan.handlers.get(event.type) ?? plan.fallback)!
      return Promise.resolve(registration.handler(event, context))
    })
  }

  async start(): Promise<void> {
    const { transport, channel, group, maxInFlight, from } = this.plan
    // Dead letters must have somewhere to wait before the first one is sent.
    await transport.provision(deadLetterChannel(channel.name), deadLetterChannel(channel.name).name)
    this.subscription = await transport.subscribe(channel, group, (d) => this.onDelivery(d), {
      maxInFlight,
      ...(from ? { from } : {}),
    })
    this.unsubscribed = this.host.instrumentation?.subscribed?.(this.source)
  }

  /** Stops intake and waits for what was handed out to settle. */
  async stop(): Promise<void> {
    this.unsubscribed?.()
    await this.subscription?.close()
  }

  /**
   * Gives every unsettled delivery back to the broker now, whatever its handler
   * is doing: the adapter sees a rejection (so it redelivers, and its close() can
   * finish). The handlers are not stopped; what they do afterwards is ignored.
   */
  abandon(): void {
    const reason = new Error('the bus stopped before the handler finished; left to the broker to redeliver')
    this.owed.rejectAll(reason)
  }

  /** What the adapter waits on: the handling's outcome, or a rejection at abandon(). */
  private onDelivery(delivery: Delivery): Promise<void> {
    const owed = this.owed.add()
    this.handle(delivery).then(
      () => this.owed.settle(owed),
      (error) => this.owed.fail(owed, error),
    )
    return owed.promise
  }

  /** The common case, a handled type without a key, goes on to its slot without an async frame of its own. */
  private handle(delivery: Delivery): Promise<void> {
    const event = delivery.event
    if (event !== undefined) {
      const warning = decodeWarning(event)
      if (warning !== undefined) this.logger.warn(warning, { id: event.id, type: event.type })
    }
    if (!this.stopping && event !== undefined && typeof event.partitionkey !== 'string') {
      const registration = this.plan.handlers.get(event.type) ?? this.plan.fallback
      if (registration) return this.withSlot(event, registration, delivery.deliveryCount)
    }
    return this.route(delivery)
  }

  private async route(delivery: Delivery): Promise<void> {
    if (this.stopping) throw new Error('bus is stopping; leave the message for the next consumer')
    if (delivery.malformed) return this.deadLetterMalformed(delivery.malformed, delivery.deliveryCount)
    const event = delivery.event
    const registration = this.plan.handlers.get(event.type) ?? this.plan.fallback
    if (!registration) {
      // A shared channel carries types this group does not handle.
      this.stats.skipped++
      this.logger.debug('no handler for type; acknowledged and skipped', { type: event.type, id: event.id })
      return
    }
    const key = typeof event.partitionkey === 'string' ? event.partitionkey : undefined
    if (key === undefined) return this.withSlot(event, registration, delivery.deliveryCount)
    // Same key, one at a time, in arrival order.
    const previous = this.keyTails.get(key)
    const mine = (previous ?? Promise.resolve()).then(() =>
      this.withSlot(event, registration, delivery.deliveryCount),
    )
    const tail = mine.catch(() => undefined)
    this.keyTails.set(key, tail)
    try {
      await mine
    } finally {
      if (this.keyTails.get(key) === tail) this.keyTails.delete(key)
    }
  }

  /** A message that is not a CloudEvent (or whose data a read found broken) to the dead-letter channel. */
  private async deadLetterMalformed(bad: MalformedMessage, deliveryCount: number): Promise<void> {
    const info = this.death(bad.reason, deliveryCount)
    await this.deadLetter(
      info,
      () => deadLetterOfMalformed(bad, info),
      () => remainsOfMalformed(bad),
    )
    // Counted once it has left the channel: a message, not an attempt.
    this.stats.malformed++
    this.logger.warn('malformed message dead-lettered', { reason: bad.reason })
    this.host.instrumentation?.malformed?.(this.source, bad.reason)
  }

  /**
   * After an attempt: when it read the data and found it broken (lazy data, see
   * LazyData), the message is malformed, whatever the handler made of the error:
   * dead-lettered as the decoder would have, never retried. The dead-lettering
   * when it is; undefined (no promise, no await: nearly every delivery) when not.
   */
  private brokenData(
    event: Envelope,
    deliveryCount: number,
    attempt: number,
    hooks: ProcessHooks | undefined,
    error?: unknown,
  ): Promise<void> | undefined {
    const bad = malformedData(event)
    if (bad === undefined) return undefined
    hooks?.deadLettered(bad.reason, attempt, error)
    return this.deadLetterMalformed(bad, deliveryCount)
  }

  private async withSlot(event: Envelope, registration: Registration, deliveryCount: number): Promise<void> {
    if (!this.slots.tryAcquire()) await this.slots.acquire()
    try {
      const instrumentation = this.host.instrumentation
      if (instrumentation)
        await instrumentation.process(this.source, event, deliveryCount, (hooks) =>
          this.attempt(event, registration, deliveryCount, hooks),
        )
      else await this.attempt(event, registration, deliveryCount)
    } finally {
      this.slots.release()
    }
  }

  private async attempt(
    event: Envelope,
    registration: Registration,
    deliveryCount: number,
    hooks?: ProcessHooks,
  ): Promise<void> {
    const { retry } = this.host
    if (registration.kind === 'query') return this.answer(event, registration, deliveryCount, hooks)
    if (deliveryCount > this.host.maxDeliveries) {
      // Brokers count every delivery, also those given back unhandled at a stop or a
      // rebalance, so only a count well past what retries explain means that the
      // message keeps killing its consumer (maxDeliveries: maxAttempts + 10 by default).
      const reason = `delivered ${deliveryCount} times without being settled, over maxDeliveries ${this.host.maxDeliveries} (its handler may crash the process)`
      hooks?.deadLettered(reason, deliveryCount)
      await this.deadLetterEvent(event, this.death(reason, deliveryCount))
      return
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.call(event, registration, attempt, deliveryCount)
        const broken = this.brokenData(event, deliveryCount, attempt, hooks)
        if (broken !== undefined) return await broken
        if (result === SKIPPED) this.stats.skipped++
        else this.stats.handled++
        return
      } catch (error) {
        const broken = this.brokenData(event, deliveryCount, attempt, hooks, error)
        if (broken !== undefined) return await broken
        const reason = errorMessage(error)
        const hopeless = isNonRetryable(error)
        if (hopeless || attempt >= retry.maxAttempts) {
          this.logger.error(
            hopeless ? 'handler says retrying cannot help; dead-lettering' : 'handler failed; dead-lettering',
            { id: event.id, type: event.type, attempt, reason },
          )
          hooks?.deadLettered(reason, attempt, error)
          await this.deadLetterEvent(event, this.death(reason, attempt))
          return
        }
        this.stats.retried++
        this.logger.warn('handler failed; will retry', { id: event.id, type: event.type, attempt, reason })
        const delay = backoffDelay(retry, attempt)
        hooks?.retrying(attempt, error, delay)
        // Aborted by stop(): the rejection leaves the message to the broker for redelivery.
        await sleep(delay, this.host.signal)
      }
    }
  }

  /** One handler call (through the middleware), bounded by the registration's timeoutMs if it has one. */
  private call(
    event: Envelope,
    registration: Registration,
    attempt: number,
    deliveryCount: number,
  ): Promise<unknown> {
    const timeoutMs = registration.timeoutMs
    if (timeoutMs === undefined) return this.run(event, this.context(event, attempt, deliveryCount))
    return this.callWithin(timeoutMs, event, attempt, deliveryCount)
  }

  private async callWithin(
    timeoutMs: number,
    event: Envelope,
    attempt: number,
    deliveryCount: number,
  ): Promise<unknown> {
    const timeout = new AbortController()
    const signal = AbortSignal.any([this.host.signal, timeout.signal])
    const context = new DeliveryContext(this.host.sender, event, this.origin, attempt, deliveryCount, signal)
    let timer: ReturnType<typeof setTimeout> | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new HandlerTimeoutError(event.type, timeoutMs)
        // Failed first: a handler that settles on its abort must not win the race.
        reject(error)
        timeout.abort(error)
      }, timeoutMs)
    })
    try {
      // A handler that ignores its signal runs on, but its attempt has failed.
      return await Promise.race([this.run(event, context), expired])
    } finally {
      clearTimeout(timer)
    }
  }

  private async answer(
    query: Envelope,
    registration: Registration,
    deliveryCount: number,
    hooks?: ProcessHooks,
  ): Promise<void> {
    if (queryExpired(query)) {
      this.stats.skipped++
      this.logger.debug('query expired before it was answered; skipped', { id: query.id })
      return
    }
    const transport = this.plan.transport
    let outcome: { data: unknown } | { error: string }
    try {
      outcome = { data: await this.call(query, registration, 1, deliveryCount) }
    } catch (error) {
      const broken = this.brokenData(query, deliveryCount, 1, hooks, error)
      if (broken !== undefined) return await broken
      hooks?.failed(error)
      outcome = { error: errorMessage(error) }
    }
    // As the decoder would have: a query whose data is broken is dead-lettered, not answered.
    const broken = 'data' in outcome ? this.brokenData(query, deliveryCount, 1, hooks) : undefined
    if (broken !== undefined) return await broken
    // An answer that cannot be sent goes back as the asker's error (see Bus.reply), never as a redelivery.
    await this.host.reply(transport, query, outcome)
    this.stats.handled++
  }

  private context(event: Envelope, attempt: number, deliveryCount: number): HandlerContext {
    return new DeliveryContext(this.host.sender, event, this.origin, attempt, deliveryCount)
  }

  private death(reason: string, attempts: number) {
    return { reason, attempts, channel: this.plan.channel.name, group: this.plan.group }
  }

  private deadLetterEvent(event: Envelope, info: DeathInfo): Promise<void> {
    // The dead letter carries the data: unread until now, it may turn out broken (malformed, then).
    try {
      void event.data
    } catch {
      const bad = malformedData(event)
      if (bad) return this.deadLetterMalformed(bad, info.attempts)
    }
    return this.deadLetter(
      info,
      () => deadLetterOf(event, info),
      () => remainsOfEvent(event),
    )
  }

  /**
   * Publishes the dead letter whole; when it cannot be (too large for the broker
   * once base64-encoded, headers over a client's or broker's limit, …), a
   * truncated one, and failing that a bare one: the message must leave the
   * channel, or it comes back forever. Rejects only when nothing could be
   * published (the broker is down), leaving the message for redelivery.
   */
  private async deadLetter(info: DeathInfo, whole: () => Envelope, remains: () => Remains): Promise<void> {
    const { transport, channel } = this.plan
    const dlq = deadLetterChannel(channel.name)
    const budget = Math.max(
      0,
      Math.min(64 * 1024, Math.floor((transport.capabilities.maxMessageBytes - 8192) / 2)),
    )
    const attempts: [string, () => Envelope][] = [
      ['whole', whole],
      ['truncated', () => truncatedDeadLetter(remains(), info, budget)],
      ['bare', () => truncatedDeadLetter(remains(), info, 0)],
    ]
    for (const [i, [form, letter]] of attempts.entries()) {
      try {
        const sent = letter()
        await transport.publish(dlq, [sent])
        this.stats.deadLettered++
        // Every dead-lettering is said, whatever the logger's level filter lets through below warn.
        this.logger.warn('message dead-lettered', {
          channel: channel.name,
          group: this.plan.group,
          id: sent.id,
          type: sent.type,
          reason: info.reason,
          to: dlq.name,
          ...(form === 'whole' ? {} : { form }),
        })
        return
      } catch (error) {
        const last = i === attempts.length - 1
        const closed = error instanceof OmnibusError && error.code === 'TRANSPORT_CLOSED'
        const cause =
          error instanceof Error && error.cause !== undefined ? errorMessage(error.cause) : undefined
        this.logger[last || closed ? 'error' : 'warn'](
          last || closed
            ? 'dead letter could not be published; the message stays on its channel'
            : `${form} dead letter could not be published; trying a smaller one`,
          { channel: dlq.name, reason: info.reason, error: errorMessage(error), ...(cause ? { cause } : {}) },
        )
        if (last || closed || this.stopping) throw error
      }
    }
  }
}

/**
 * A settlement owed to the adapter for one delivery: a promise that settles with
 * the handling, or earlier at abandon(). Nodes of an intrusive list, because a
 * Set's add and delete per delivery cost more than all the rest of this (about
 * 0.4 µs a delivery, 5-10 % of the memory transport's throughput).
 */
interface Owed {
  readonly promise: Promise<void>
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
  prev: Owed | undefined
  next: Owed | undefined
}

/** Promise.withResolvers (Node 22+; the compile target's lib predates it): no executor closure. */
const withResolvers = <T>(): {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (error: unknown) => void
} => (Promise as unknown as { withResolvers<V>(): ReturnType<typeof withResolvers<V>> }).withResolvers<T>()

class OwedList {
  private head: Owed | undefined = undefined

  add(): Owed {
    const { promise, resolve, reject } = withResolvers<void>()
    const owed: Owed = { promise, resolve, reject, prev: undefined, next: this.head }
    if (this.head !== undefined) this.head.prev = owed
    this.head = owed
    return owed
  }

  /** Resolves `owed` and unlinks it (after abandon() rejected it, nothing changes). */
  settle(owed: Owed): void {
    this.unlink(owed)
    owed.resolve()
  }

  fail(owed: Owed, error: unknown): void {
    this.unlink(owed)
    owed.reject(error)
  }

  private unlink(owed: Owed): void {
    if (owed.prev !== undefined) owed.prev.next = owed.next
    else if (this.head === owed) this.head = owed.next
    if (owed.next !== undefined) owed.next.prev = owed.prev
    owed.prev = owed.next = undefined
  }

  rejectAll(reason: Error): void {
    let owed = this.head
    this.head = undefined
    while (owed !== undefined) {
      const next = owed.next
      owed.prev = owed.next = undefined
      owed.reject(reason)
      owed = next
    }
  }
}
