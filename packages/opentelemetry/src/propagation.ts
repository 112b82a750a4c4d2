import type { Envelope } from '@omnibus/core'
import type { TraceAttributes } from '@omnibus/core/adapter'
import { type Context, createTraceState, type SpanContext, TraceFlags, trace } from '@opentelemetry/api'

const INVALID_TRACE = '00000000000000000000000000000000'
const INVALID_SPAN = '0000000000000000'

/** The producer's span context an envelope carries, if any (and valid). */
export function producerContext(envelope: Envelope): SpanContext | undefined {
  const header = envelope.traceparent
  // Every envelope a bus sends or hands over was held to core's traceparent rule (lower-case hex,
  // dashes in place) when made or received: version 00 is then told by its length and prefix.
  if (typeof header !== 'string' || header.length !== 55 || !header.startsWith('00-')) return undefined
  const traceId = header.slice(3, 35)
  const spanId = header.slice(36, 52)
  if (traceId === INVALID_TRACE || spanId === INVALID_SPAN) return undefined
  const state = envelope.tracestate
  return {
    traceId,
    spanId,
    traceFlags: Number.parseInt(header.slice(53), 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(typeof state === 'string' && state !== '' ? { traceState: createTraceState(state) } : {}),
  }
}

/** `context` with the producer's span context as its remote parent. */
export function withProducer(context: Context, producer: SpanContext): Context {
  return trace.setSpanContext(context, producer)
}

/**
 * The extension attributes that carry `span` to the consumer; without a trace state, an undefined
 * `tracestate` removes one the message had (it belonged to another span's context).
 */
export function traceAttributes(span: SpanContext): TraceAttributes {
  const traceparent = `00-${span.traceId}-${span.spanId}-${span.traceFlags & TraceFlags.SAMPLED ? '01' : '00'}`
  const state = span.traceState?.serialize()
  return { traceparent, tracestate: state === '' ? undefined : state }
}
