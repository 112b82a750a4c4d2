// One bench run in a fresh process: node one.mjs <memory|kafka> <none|api|sdk> <events>
// Prints {"eventsPerSecond": …} on the last line.
import { createBus, MemoryBroker, memoryTransport } from '@omnibus/core'

const [transportName, mode, count = '20000'] = process.argv.slice(2)
const total = Number(count)
let instrumentation
if (mode === 'sdk') {
  const { context } = await import('@opentelemetry/api')
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks')
  const { BasicTracerProvider, BatchSpanProcessor, AlwaysOnSampler } = await import(
    '@opentelemetry/sdk-trace-base'
  )
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics')
  const { trace, metrics } = await import('@opentelemetry/api')
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  // Every span sampled and exported in batches, to an exporter that drops them (no I/O measured).
  const exporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({
      sampler: new AlwaysOnSampler(),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    }),
  )
  class Reader extends MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new Reader()] }))
}
if (mode === 'api' || mode === 'sdk') {
  const { openTelemetry } = await import('@omnibus/opentelemetry')
  instrumentation = openTelemetry()
}

const transport =
  transportName === 'kafka'
    ? { adapter: 'kafka', brokers: [process.env.OMNIBUS_KAFKA_BROKERS ?? '127.0.0.1:9092'] }
    : memoryTransport({ broker: new MemoryBroker({ retainMessages: 0 }) })
const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
const type = `com.omnibus.bench.otel${id}`
const bus = await createBus({
  service: `otel-bench-${id}`,
  transports: { main: transport },
  delivery: { maxInFlight: 256 },
  ...(instrumentation ? { instrumentation } : {}),
})
let handled = 0
let finished
const done = new Promise((resolve) => {
  finished = resolve
})
bus.on(type, () => {
  if (++handled === total) finished()
})
await bus.start()
const data = { text: 'x'.repeat(1024) }
const window = 64
const started = performance.now()
let next = 0
await Promise.all(
  Array.from({ length: window }, async () => {
    while (next < total) {
      next++
      await bus.publish({ type, data })
    }
  }),
)
await done
const seconds = (performance.now() - started) / 1000
await bus.stop()
console.log(
  JSON.stringify({ transport: transportName, mode, events: total, eventsPerSecond: total / seconds }),
)
process.exit(0)
