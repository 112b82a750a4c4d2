import { uniq, waitFor as wait } from '@omnibus/conformance'
import { type Bus, type BusConfig, createBus, type Envelope } from '@omnibus/core'
import type { Transport, TransportSpec } from '@omnibus/core/adapter'
import { context, propagation, SpanKind, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { MeterProvider, type MetricData, MetricReader } from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { expect } from 'vitest'
import { type OpenTelemetryOptions, openTelemetry } from '../src/index.js'

// One AsyncLocalStorage context manager for the whole test process, as an SDK registers it.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
void propagation

/** A metric reader the test collects from when it wants. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** The real OpenTelemetry SDK with in-memory exporters. */
export function sdk() {
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const reader = new TestReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  return {
    exporter,
    tracerProvider,
    meterProvider,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    async metric(name: string): Promise<MetricData | undefined> {
      const { resourceMetrics } = await reader.collect()
      for (const scope of resourceMetrics.scopeMetrics)
        for (const m of scope.metrics) if (m.descriptor.name === name) return m
      return undefined
    },
    instrumentation: (options: OpenTelemetryOptions = {}) =>
      openTelemetry({ tracerProvider, meterProvider, ...options }),
  }
}

export type Sdk = ReturnType<typeof sdk>

export { uniq }

/** Traces cross brokers and an SDK's exporter: a longer default deadline than the suite's. */
export const waitFor = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) =>
  wait(what, check, timeoutMs)

/**
 * Two services on `transport`: orders publishes an order event; inventory handles it and
 * sends a follow-up command, which inventory handles too. Returns the buses and what was handled.
 */
export async function conversation(
  telemetry: Sdk,
  transport: TransportSpec | Transport,
  options: OpenTelemetryOptions & { extra?: Partial<BusConfig> } = {},
) {
  const { extra, ...otel } = options
  const prefix = uniq('otel')
  const placed = `com.omnibus.${prefix}.placed`
  const reserve = `com.omnibus.${prefix}.reserve`
  const handled: Envelope[] = []
  const buses: Bus[] = []
  const make = async (service: string) => {
    const bus = await createBus({
      service: `${prefix}-${service}`,
      transports: { main: transport },
      instrumentation: telemetry.instrumentation(otel),
      ...extra,
    })
    buses.push(bus)
    return bus
  }
  const orders = await make('orders')
  const inventory = await make('inventory')
  inventory.on(placed, async (event, ctx) => {
    handled.push(event)
    await ctx.send({ type: reserve, data: { sku: 'mug' } })
  })
  inventory.handle(reserve, async (command) => void handled.push(command))
  await Promise.all(buses.map((b) => b.start()))
  const stop = () => Promise.all(buses.map((b) => b.stop()))
  try {
    await orders.publish({ type: placed, data: { orderId: 'o-1' }, correlationid: 'order-o-1' })
    await waitFor('the follow-up handled', () => handled.length >= 2)
    await waitFor('every span ended', () => spansOf(telemetry, placed, reserve).length >= 4)
  } catch (error) {
    await stop()
    throw error
  }
  await stop()
  return { placed, reserve, handled, spans: spansOf(telemetry, placed, reserve) }
}

function spansOf(telemetry: Sdk, ...types: string[]): ReadableSpan[] {
  return telemetry.spans().filter((s) => types.includes(String(s.attributes['cloudevents.event_type'])))
}

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId

/**
 * publish → process → follow-up send → process: one trace; each process span the
 * child of its send span and linked to it; the follow-up send the child of the
 * first process span; the conventions' attributes on each.
 */
export function expectConversation(
  result: Awaited<ReturnType<typeof conversation>>,
  system: { send: string; sendCommand?: string; process: string },
): void {
  const { spans, placed, reserve, handled } = result
  const one = (name: string, kind: SpanKind, type: string) => {
    const found = spans.filter(
      (s) => s.kind === kind && s.attributes['cloudevents.event_type'] === type && s.name.startsWith(name),
    )
    expect(found.map((s) => s.name)).toHaveLength(1)
    return found[0]!
  }
  const send1 = one('send ', SpanKind.PRODUCER, placed)
  const process1 = one('process ', SpanKind.CONSUMER, placed)
  const send2 = one('send ', SpanKind.PRODUCER, reserve)
  const process2 = one('process ', SpanKind.CONSUMER, reserve)
  const traceId = send1.spanContext().traceId
  for (const s of [process1, send2, process2]) expect(s.spanContext().traceId).toBe(traceId)
  expect(parentOf(send1)).toBeUndefined()
  expect(parentOf(process1)).toBe(send1.spanContext().spanId)
  expect(process1.links.map((l) => l.context.spanId)).toEqual([send1.spanContext().spanId])
  expect(parentOf(send2)).toBe(process1.spanContext().spanId)
  expect(parentOf(process2)).toBe(send2.spanContext().spanId)
  expect(process2.links.map((l) => l.context.spanId)).toEqual([send2.spanContext().spanId])
  // What the handlers got carries the send span's context, in the CloudEvents extension.
  expect(handled[0]!.traceparent).toBe(`00-${traceId}-${send1.spanContext().spanId}-01`)
  expect(handled[1]!.traceparent).toBe(`00-${traceId}-${send2.spanContext().spanId}-01`)
  expect(send1.attributes).toMatchObject({
    'messaging.system': system.send,
    'messaging.operation.name': 'send',
    'messaging.operation.type': 'send',
    'messaging.message.id': handled[0]!.id,
    'messaging.message.conversation_id': 'order-o-1',
    'cloudevents.event_id': handled[0]!.id,
    'cloudevents.event_source': handled[0]!.source,
    'cloudevents.event_type': placed,
    'omnibus.transport': 'main',
  })
  expect(send1.name).toBe(`send ${send1.attributes['messaging.destination.name']}`)
  expect(process1.attributes).toMatchObject({
    'messaging.system': system.process,
    'messaging.operation.name': 'process',
    'messaging.operation.type': 'process',
    'messaging.message.id': handled[0]!.id,
    'messaging.message.conversation_id': 'order-o-1',
    'messaging.consumer.group.name': expect.stringMatching(/inventory$/),
  })
  expect(send2.attributes).toMatchObject({
    'messaging.system': system.sendCommand ?? system.send,
    'messaging.message.conversation_id': 'order-o-1',
    'omnibus.message.kind': 'command',
  })
  expect(process2.attributes['messaging.message.id']).toBe(handled[1]!.id)
  for (const s of [send1, process1, send2, process2]) expect(s.status.code).toBe(0)
}

export { trace }
