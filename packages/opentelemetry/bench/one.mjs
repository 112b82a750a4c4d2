// One bench run in a fresh process: node one.mjs <memory|kafka> <none|api|sdk> <events>
// (also sdk-traces, sdk-metrics: the SDK with only its tracer, or only its meter, provider)
// Prints {"eventsPerSecond": …, "cpuMicrosPerEvent": …} on the last line.
import { createBus, MemoryBroker, memoryTransport } from '@omnibus/core'

const [transportName, mode, count = '20000'] = process.argv.slice(2)
const total = Number(count)
let instrumentation
let sdk
if (mode.startsWith('sdk')) {
  const { registerSdk } = await import('./sdk.mjs')
  sdk = registerSdk({ traces: mode !== 'sdk-metrics', metrics: mode !== 'sdk-traces' })
}
if (mode !== 'none') {
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
// CPU time too: on a shared machine it moves far less than wall time when others run.
const cpu = process.cpuUsage()
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
const used = process.cpuUsage(cpu)
await bus.stop()
console.log(
  JSON.stringify({
    transport: transportName,
    mode,
    events: total,
    eventsPerSecond: total / seconds,
    cpuMicrosPerEvent: (used.user + used.system) / total,
    ...(sdk ? { spansDropped: sdk.dropped() } : {}),
  }),
)
process.exit(0)
