import type { BusConfig } from '@omnibus/core'
import { openTelemetry } from '@omnibus/opentelemetry'
import { context, SpanKind } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { type FlowSummary, runOrderFlow } from './order-flow.js'

/**
 * The order flow with the OpenTelemetry SDK: each service its own tracer provider
 * (its own `service.name`), one exporter keeping every span in memory; each order
 * placed inside a root span, so that the order and all its follow-ups are one trace.
 */
export async function tracedOrderFlow(config: Omit<BusConfig, 'service'>, orderToShow: number) {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  const exporter = new InMemorySpanExporter()
  const processor = new SimpleSpanProcessor(exporter)
  const providers = new Map<string, BasicTracerProvider>()
  const provider = (service: string) => {
    let p = providers.get(service)
    if (!p) {
      p = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [processor],
      })
      providers.set(service, p)
    }
    return p
  }
  const tracer = provider('orders').getTracer('order-flow')
  const traceIds = new Map<string, string>()
  const summary: FlowSummary = await runOrderFlow({
    config,
    configFor: (service) => ({ instrumentation: openTelemetry({ tracerProvider: provider(service) }) }),
    placeOrder: (orderId, place) =>
      tracer.startActiveSpan(`place ${orderId}`, { kind: SpanKind.INTERNAL }, async (span) => {
        traceIds.set(orderId, span.spanContext().traceId)
        try {
          await place()
        } finally {
          span.end()
        }
      }),
  })
  const traceId = traceIds.get(`order-${orderToShow}`)!
  const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId)
  return { summary, traceId, spans }
}

const serviceOf = (s: ReadableSpan) => String(s.resource.attributes['service.name'] ?? '?')
const transportOf = (s: ReadableSpan) => s.attributes['messaging.system'] as string | undefined

/** One trace as an indented tree: service, span name, transport, duration; then the totals line. */
export function traceTree(traceId: string, spans: readonly ReadableSpan[]): string[] {
  const children = new Map<string | undefined, ReadableSpan[]>()
  const ids = new Set(spans.map((s) => s.spanContext().spanId))
  for (const s of spans) {
    const parent = s.parentSpanContext?.spanId
    const key = parent && ids.has(parent) ? parent : undefined
    children.set(key, [...(children.get(key) ?? []), s])
  }
  const start = (s: ReadableSpan) => s.startTime[0] * 1e9 + s.startTime[1]
  const lines: string[] = []
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => start(a) - start(b))) {
      const ms = (s.duration[0] * 1e3 + s.duration[1] / 1e6).toFixed(1)
      const via = transportOf(s) ? ` [${transportOf(s)}]` : ''
      lines.push(`${'  '.repeat(depth)}${serviceOf(s).padEnd(14)} ${s.name}${via} ${ms} ms`)
      walk(s.spanContext().spanId, depth + 1)
    }
  }
  walk(undefined, 0)
  const services = new Set(spans.map(serviceOf))
  const transports = new Set(spans.map(transportOf).filter((t) => t !== undefined))
  lines.push(
    `trace ${traceId}: ${spans.length} spans, ${services.size} services, ${transports.size} transports`,
  )
  return lines
}
