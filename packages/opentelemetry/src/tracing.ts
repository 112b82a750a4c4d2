import { type Envelope, OmnibusError } from '@omnibus/core'
import {
  errorMessage,
  type MessageKind,
  type MessagingSource,
  type MessagingTarget,
  type ProcessHooks,
  type TraceAttributes,
  withAttributes,
} from '@omnibus/core/adapter'
import type { AuthorizationRecord } from '@omnibus/core/security'
import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import type { Metrics, ProcessRecord } from './metrics.js'
import { producerContext, traceAttributes, withProducer } from './propagation.js'
import { A, systemOf } from './semconv.js'

/**
 * The key every OpenTelemetry SDK tracer checks before starting a span (the SDK's
 * `suppressTracing`); `createContextKey` makes the same global symbol from its name.
 */
const SUPPRESS_TRACING = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING')

/** The memory transport's adapter name (MessagingTarget.system). */
const MEMORY = 'memory'

/** The key under which the API keeps the active span (`trace.setSpan`): the same global symbol. */
const SPAN_KEY = createContextKey('OpenTelemetry Context Key SPAN')

/**
 * A context that adds two values to its parent. The API's own context copies its
 * whole Map on every setValue; a send or process span sets two values per message.
 */
class Layer implements Context {
  constructor(
    private readonly parent: Context,
    private readonly key: symbol,
    private readonly value: unknown,
    private readonly key2: symbol,
    private readonly value2: unknown,
  ) {}
  getValue(key: symbol): unknown {
    if (key === this.key) return this.value
    if (key === this.key2) return this.value2
    return this.parent.getValue(key)
  }
  setValue(key: symbol, value: unknown): Context {
    return new Layer(this, key, value, key, value)
  }
  deleteValue(key: symbol): Context {
    return new Layer(this, key, undefined, key, undefined)
  }
}

/** The message a log line written inside a process span is about (read by the logger decorator). */
export const MESSAGE_KEY = createContextKey('omnibus message')
export interface MessageFields {
  readonly id: string
  readonly type: string
}

/** How a process span relates to the producer's span. */
export type ProcessParent = 'producer' | 'link'

export interface TracingSettings {
  readonly processParent: ProcessParent
  readonly suppressClientSpans: boolean
}

/** A low-cardinality name for an error: its Omnibus code, or its class. */
export function errorType(error: unknown): string {
  if (error instanceof OmnibusError) return error.code
  if (error instanceof Error) return error.constructor.name === 'Error' ? 'Error' : error.constructor.name
  return '_OTHER'
}

function messageAttributes(event: Envelope, into: Attributes): Attributes {
  into[A.messageId] = event.id
  into[A.ceId] = event.id
  into[A.ceSource] = event.source
  into[A.ceType] = event.type
  into[A.ceSpecVersion] = event.specversion
  if (typeof event.subject === 'string') into[A.ceSubject] = event.subject
  const correlation = event.correlationid
  if (typeof correlation === 'string') into[A.conversationId] = correlation
  return into
}

/** Spans per the messaging conventions, around what the bus sends, handles and asks. */
export class Tracing {
  constructor(
    private readonly tracer: Tracer,
    private readonly metrics: Metrics,
    private readonly settings: TracingSettings,
  ) {}

  send(
    to: MessagingTarget,
    kind: MessageKind,
    events: readonly Envelope[],
    publish: (events: readonly Envelope[]) => Promise<void>,
  ): Promise<void> {
    let parent = context.active()
    // Outside any span, a traceparent the caller put on the message is the parent.
    if (!trace.getSpanContext(parent)) {
      const producer = events[0] && producerContext(events[0])
      if (producer) parent = withProducer(parent, producer)
    }
    return this.sendIn(parent, to, kind, events, publish)
  }

  /** One message made once its span has started, with the span's context written in as it is made. */
  sendOne(
    to: MessagingTarget,
    kind: MessageKind,
    traceparent: unknown,
    make: (trace: TraceAttributes | undefined) => Envelope,
    publish: (events: readonly Envelope[]) => Promise<void>,
  ): Promise<void> {
    const parent = context.active()
    // The caller's own traceparent parents a send outside any span: read once made (and checked).
    if (traceparent !== undefined && !trace.getSpanContext(parent))
      return this.send(to, kind, [make(undefined)], publish)
    return this.sendIn(parent, to, kind, make, publish)
  }

  /** The send span around `messages`, made (one) or copied (any) with the span's trace context. */
  private async sendIn(
    parent: Context,
    to: MessagingTarget,
    kind: MessageKind,
    messages: readonly Envelope[] | ((trace: TraceAttributes | undefined) => Envelope),
    publish: (events: readonly Envelope[]) => Promise<void>,
  ): Promise<void> {
    const started = performance.now()
    const span = this.tracer.startSpan(`send ${to.channel.name}`, { kind: SpanKind.PRODUCER }, parent)
    const attributes = this.metrics.sendAttributes(to)
    let count = typeof messages === 'function' ? 1 : messages.length
    try {
      // An unsampled span still carries its context on, so that downstream agrees not to sample.
      // (A recording span has a valid context: the ids are checked only for one that is not.)
      const recording = span.isRecording()
      if (!recording && !isSpanContextValid(span.spanContext()))
        await publish(typeof messages === 'function' ? [messages(undefined)] : messages)
      else {
        const carried = traceAttributes(span.spanContext())
        const traced =
          typeof messages === 'function'
            ? [messages(carried)]
            : messages.map((e) => withAttributes(e, carried))
        count = traced.length
        if (recording) span.setAttributes(this.sendSpanAttributes(to, kind, traced))
        // The in-memory transport runs no client library and reads no context while it publishes.
        if (to.system === MEMORY) await publish(traced)
        else {
          // The broker client's own instrumentation would add a second send span (and its own traceparent).
          const inside = this.settings.suppressClientSpans
            ? new Layer(parent, SPAN_KEY, span, SUPPRESS_TRACING, true)
            : trace.setSpan(parent, span)
          await context.with(inside, publish, undefined, traced)
        }
      }
      this.metrics.sent(attributes, count, performance.now() - started)
    } catch (error) {
      fail(span, error)
      this.metrics.sendFailed(attributes, error, performance.now() - started)
      throw error
    } finally {
      span.end()
    }
  }

  private sendSpanAttributes(
    to: MessagingTarget,
    kind: MessageKind,
    events: readonly Envelope[],
  ): Attributes {
    const attributes: Attributes = {
      [A.system]: systemOf(to.system, to.channel.kind === 'topic', false),
      [A.operationName]: 'send',
      [A.operationType]: 'send',
      [A.destination]: to.channel.name,
      [A.transport]: to.transport,
      [A.kind]: kind,
    }
    if (to.channel.mustExist) attributes[A.temporary] = true
    if (events.length > 1) attributes[A.batchCount] = events.length
    else if (events[0]) messageAttributes(events[0], attributes)
    return attributes
  }

  async process(
    from: MessagingSource,
    event: Envelope,
    deliveryCount: number,
    handle: (hooks: ProcessHooks) => Promise<void>,
  ): Promise<void> {
    const started = performance.now()
    const producer = producerContext(event)
    const links: Link[] = producer ? [{ context: producer }] : []
    // Not the active context: a delivery may run inside the publish that caused it (memory), or
    // inside a broker client's own span; the process span's place is given by the message alone.
    const active = ROOT_CONTEXT
    const parent =
      producer && this.settings.processParent === 'producer' ? withProducer(active, producer) : undefined
    const span = this.tracer.startSpan(
      `process ${from.channel.name}`,
      parent ? { kind: SpanKind.CONSUMER, links } : { kind: SpanKind.CONSUMER, links, root: true },
      parent ?? active,
    )
    const record = this.metrics.processRecord(from)
    const recording = span.isRecording()
    const hooks = recording ? new SpanHooks(span, record) : new QuietHooks(record)
    try {
      if (!recording && !isSpanContextValid(span.spanContext())) await handle(hooks)
      else if (!recording) await context.with(trace.setSpan(parent ?? active, span), handle, undefined, hooks)
      else {
        const attributes = messageAttributes(event, {
          [A.system]: systemOf(from.system, from.channel.kind === 'topic', true),
          [A.operationName]: 'process',
          [A.operationType]: 'process',
          [A.destination]: from.channel.name,
          [A.group]: from.group,
          [A.transport]: from.transport,
          [A.deliveryCount]: deliveryCount,
        })
        span.setAttributes(attributes)
        // The envelope itself gives the logger its id and type (MessageFields).
        const inside = new Layer(parent ?? active, SPAN_KEY, span, MESSAGE_KEY, event)
        await context.with(inside, handle, undefined, hooks)
      }
      record.done(hooks.outcome, performance.now() - started)
    } catch (error) {
      // Given back to the broker (stop, abandon): it will come again.
      fail(span, error)
      record.done('released', performance.now() - started, error)
      throw error
    } finally {
      span.end()
    }
  }

  malformed(from: MessagingSource): void {
    this.metrics.malformed(from)
  }

  authorization(record: AuthorizationRecord): void {
    this.metrics.authorization(record)
  }

  async query(to: MessagingTarget, query: Envelope, ask: () => Promise<unknown>): Promise<unknown> {
    const span = this.tracer.startSpan(`query ${to.channel.name}`, { kind: SpanKind.CLIENT })
    if (!span.isRecording()) {
      span.end()
      return ask()
    }
    span.setAttributes(
      messageAttributes(query, {
        [A.system]: systemOf(to.system, to.channel.kind === 'topic', false),
        [A.operationName]: 'query',
        [A.destination]: to.channel.name,
        [A.transport]: to.transport,
        [A.kind]: 'query',
      }),
    )
    try {
      return await context.with(trace.setSpan(context.active(), span), ask)
    } catch (error) {
      fail(span, error)
      throw error
    } finally {
      span.end()
    }
  }
}

function fail(span: Span, error: unknown): void {
  if (!span.isRecording()) return
  span.setAttribute(A.errorType, errorType(error))
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) })
}

type Outcome = 'ok' | 'dead_lettered' | 'failed'

/** What a recording process span hears from the consumer (one object per delivery, no closures). */
class SpanHooks implements ProcessHooks {
  outcome: Outcome = 'ok'
  constructor(
    private readonly span: Span,
    private readonly record: ProcessRecord,
  ) {}
  retrying(attempt: number, error: unknown, delayMs: number): void {
    this.span.addEvent('retry', {
      'omnibus.attempt': attempt,
      'omnibus.retry_delay_ms': delayMs,
      [A.errorType]: errorType(error),
      'exception.message': errorMessage(error),
    })
    this.record.retried()
  }
  deadLettered(reason: string, attempts: number, error?: unknown): void {
    this.outcome = 'dead_lettered'
    this.span.addEvent('dead_letter', { 'omnibus.reason': reason, 'omnibus.attempts': attempts })
    this.span.setAttribute(A.errorType, error === undefined ? 'max_deliveries' : errorType(error))
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: reason })
    this.record.deadLettered()
  }
  failed(error: unknown): void {
    this.outcome = 'failed'
    fail(this.span, error)
  }
}

/** The same for a span that records nothing: the metrics still count. */
class QuietHooks implements ProcessHooks {
  outcome: Outcome = 'ok'
  constructor(private readonly record: ProcessRecord) {}
  retrying(): void {
    this.record.retried()
  }
  deadLettered(): void {
    this.outcome = 'dead_lettered'
    this.record.deadLettered()
  }
  failed(): void {
    this.outcome = 'failed'
  }
}
