import type { Envelope } from '@omnibus/core'
import { type Context, createTraceState, type SpanContext, TraceFlags, trace } from '@opentelemetry/api'

/** W3C trace context, version 00, as the CloudEvents distributed-tracing extension carries it. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/
const INVALID_TRACE = '00000000000000000000000000000000'
const INVALID_SPAN = '0000000000000000'

/** The producer's span context an envelope carries, if any (and valid). */
export function producerContext(envelope: Envelope): SpanContext | undefined {
  const header = envelope.traceparent
  if (typeof header !== 'string') return undefined
  const match = TRACEPARENT.exec(header)
  if (!match || match[1] === INVALID_TRACE || match[2] === INVALID_SPAN) return undefined
  const state = envelope.tracestate
  return {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(typeof state === 'string' && state !== '' ? { traceState: createTraceState(state) } : {}),
  }
}

/** `context` with the producer's span context as its remote parent. */
export function withProducer(context: Context, producer: SpanContext): Context {
  return trace.setSpanContext(context, producer)
}

/** The extension attributes that carry `span` to the consumer. */
export function traceAttributes(span: SpanContext): { traceparent: string; tracestate?: string } {
  const flags = (span.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0')
  const traceparent = `00-${span.traceId}-${span.spanId}-${flags}`
  const state = span.traceState?.serialize()
  return state ? { traceparent, tracestate: state } : { traceparent }
}
