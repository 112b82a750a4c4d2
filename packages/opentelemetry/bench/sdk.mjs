// The SDK set-up both benches use: what a service would register (NodeSDK's pieces), minus I/O.
import { context, metrics, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'

/**
 * Every span sampled (AlwaysOnSampler) and handed to the BatchSpanProcessor that production uses
 * (default queue 2,048, batches of 512), whose exporter drops each batch: what an OTLP exporter
 * spends (serialising, the network) is the backend's cost, the same per span for any
 * instrumentation, and would measure the exporter, not Omnibus. Metrics go to a MeterProvider
 * whose reader is never asked to collect (a periodic reader collects once a minute).
 */
export function registerSdk({ traces = true, metrics: withMetrics = true } = {}) {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  const exporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }
  const processor = new BatchSpanProcessor(exporter)
  if (traces)
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [processor] }),
    )
  class Reader extends MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  if (withMetrics) metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new Reader()] }))
  return { dropped: () => processor._droppedSpansCount ?? 0 }
}
