import { type Envelope, OmnibusError } from '@omnibus/core'
import {
  errorMessage,
  type MessageKind,
  type MessagingSource,
  type MessagingTarget,
  type ProcessHooks,
  withAttributes,
} from '@omnibus/core/adapter'
import {
  type Attributes,
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
import type { Metrics } from './metrics.js'
import { producerContext, traceAttributes, withProducer } from './propagation.js'
import { A, systemOf } from './semconv.js'

/**
 * The key every OpenTelemetry SDK tracer checks before starting a span (the SDK's
 * `suppressTracing`); `createContextKey` makes the same global symbol from its name.
 */
const SUPPRESS_TRACING = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING')

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

  async send(
    to: MessagingTarget,
    kind: MessageKind,
    events: readonly Envelope[],
    publish: (events: readonly Envelope[]) => Promise<void>,
  ): Promise<void> {
    const started = performance.now()
    let parent = context.active()
    // Outside any span, a traceparent the caller put on the message is the parent.
    if (!trace.getSpanContext(parent)) {
      const producer = events[0] && producerContext(events[0])
      if (producer) parent = withProducer(parent, producer)
    }
    const span = this.tracer.startSpan(`send ${to.channel.name}`, { kind: SpanKind.PRODUCER }, parent)
    const attributes = this.metrics.sendAttributes(to)
    try {
      // An unsampled span still carries its context on, so that downstream agrees not to sample.
      if (!isSpanContextValid(span.spanContext())) await publish(events)
      else {
        if (span.isRecording()) span.setAttributes(this.sendSpanAttributes(to, kind, events))
        const carried = traceAttributes(span.spanContext())
        const traced = events.map((e) => withAttributes(e, carried))
        let inside = trace.setSpan(parent, span)
        // The broker client's own instrumentation would add a second send span (and its own traceparent).
        if (this.settings.suppressClientSpans) inside = inside.setValue(SUPPRESS_TRACING, true)
        await context.with(inside, () => publish(traced))
      }
      this.metrics.sent(attributes, events.length, performance.now() - started)
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
    let outcome: 'ok' | 'dead_lettered' | 'failed' = 'ok'
    const hooks: ProcessHooks = span.isRecording()
      ? {
          retrying: (attempt, error, delayMs) => {
            span.addEvent('retry', {
              'omnibus.attempt': attempt,
              'omnibus.retry_delay_ms': delayMs,
              [A.errorType]: errorType(error),
              'exception.message': errorMessage(error),
            })
            record.retried()
          },
          deadLettered: (reason, attempts, error) => {
            outcome = 'dead_lettered'
            span.addEvent('dead_letter', { 'omnibus.reason': reason, 'omnibus.attempts': attempts })
            span.setAttribute(A.errorType, error === undefined ? 'max_deliveries' : errorType(error))
            span.setStatus({ code: SpanStatusCode.ERROR, message: reason })
            record.deadLettered()
          },
          failed: (error) => {
            outcome = 'failed'
            fail(span, error)
          },
        }
      : {
          retrying: () => record.retried(),
          deadLettered: () => {
            outcome = 'dead_lettered'
            record.deadLettered()
          },
          failed: () => {
            outcome = 'failed'
          },
        }
    try {
      if (!isSpanContextValid(span.spanContext())) await handle(hooks)
      else if (!span.isRecording())
        await context.with(trace.setSpan(parent ?? active, span), () => handle(hooks))
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
        const fields: MessageFields = { id: event.id, type: event.type }
        await context.with(trace.setSpan(parent ?? active, span).setValue(MESSAGE_KEY, fields), () =>
          handle(hooks),
        )
      }
      record.done(outcome, performance.now() - started)
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
