// node floor.mjs [messages]: what tracing costs per message without a bus, in one process.
//   sdk:   the SDK's own work, called directly: a PRODUCER and a CONSUMER span (with the same
//          attributes, parent, link and context switches as openTelemetry() asks for) and the two
//          duration histograms; the least any instrumentation following the conventions pays.
//   hooks: openTelemetry()'s sendOne and process hooks around a publish and a handler that do nothing
//          (the memory transport's path: no context switch around its publish).
// Each variant is timed in rounds of `messages`, 64 at a time between microtask turns (so that the
// BatchSpanProcessor exports, as it does behind a real bus); medians of the process's CPU time in
// µs per message (wall time swings with whatever else runs on the machine).
import { createEvent } from '@omnibus/core/adapter'
import { context, metrics, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api'
import { registerSdk } from './sdk.mjs'

const total = Number(process.argv[2] ?? 100000)
const sdk = registerSdk()
const { openTelemetry } = await import('@omnibus/opentelemetry')

const tracer = trace.getTracer('floor')
const meter = metrics.getMeter('floor')
const sendDuration = meter.createHistogram('messaging.client.operation.duration', { unit: 's' })
const processDuration = meter.createHistogram('messaging.process.duration', { unit: 's' })
const channel = { name: 'orders', kind: 'topic' }
const event = createEvent({
  source: 'bench',
  type: 'com.omnibus.bench.floor',
  data: { text: 'x'.repeat(1024) },
})
const sendMetric = {
  'messaging.system': 'omnibus_memory',
  'messaging.operation.name': 'send',
  'messaging.destination.name': 'orders',
  'omnibus.transport': 'main',
}
const processMetric = {
  'messaging.system': 'omnibus_memory',
  'messaging.operation.name': 'process',
  'messaging.destination.name': 'orders',
  'messaging.consumer.group.name': 'bench',
  'omnibus.transport': 'main',
  'omnibus.outcome': 'ok',
}
const messageAttributes = (operation) => ({
  'messaging.system': 'omnibus_memory',
  'messaging.operation.name': operation,
  'messaging.operation.type': operation,
  'messaging.destination.name': 'orders',
  'omnibus.transport': 'main',
  'messaging.message.id': event.id,
  'cloudevents.event_id': event.id,
  'cloudevents.event_source': event.source,
  'cloudevents.event_type': event.type,
  'cloudevents.event_spec_version': '1.0',
})
const noop = () => undefined

function sdkMessage() {
  let started = performance.now()
  const send = tracer.startSpan('send orders', { kind: SpanKind.PRODUCER }, ROOT_CONTEXT)
  send.setAttributes({ ...messageAttributes('send'), 'omnibus.message.kind': 'event' })
  context.with(trace.setSpan(ROOT_CONTEXT, send), noop)
  send.end()
  sendDuration.record((performance.now() - started) / 1000, sendMetric)
  started = performance.now()
  const producer = send.spanContext()
  const parent = trace.setSpanContext(ROOT_CONTEXT, { ...producer, isRemote: true })
  const process = tracer.startSpan(
    'process orders',
    { kind: SpanKind.CONSUMER, links: [{ context: producer }] },
    parent,
  )
  process.setAttributes({
    ...messageAttributes('process'),
    'messaging.consumer.group.name': 'bench',
    'omnibus.delivery_count': 1,
  })
  context.with(trace.setSpan(parent, process), noop)
  process.end()
  processDuration.record((performance.now() - started) / 1000, processMetric)
}

const hooks = openTelemetry()
const to = { transport: 'main', system: 'memory', channel }
const from = { ...to, group: 'bench' }
// The message as the consumer gets it, with a producer's traceparent: made once, so that only the
// hooks' own work is timed (making and encoding a message is the bus's).
const delivered = createEvent({
  source: 'bench',
  type: 'com.omnibus.bench.floor',
  data: { text: 'x'.repeat(1024) },
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
})
const make = () => delivered
const publish = async () => {}
const handle = async () => {}
async function hooksMessage() {
  await hooks.sendOne(to, 'event', undefined, make, publish)
  await hooks.process(from, delivered, 1, handle)
}

const variants = { sdk: sdkMessage, hooks: hooksMessage }
const results = Object.fromEntries(Object.keys(variants).map((v) => [v, []]))
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
for (let round = 0; round < 7; round++) {
  for (const [name, message] of Object.entries(variants)) {
    const cpu = process.cpuUsage()
    for (let i = 0; i < total; i += 64) {
      const batch = []
      for (let j = 0; j < 64; j++) batch.push(message())
      await Promise.all(batch)
    }
    const used = process.cpuUsage(cpu)
    results[name].push((used.user + used.system) / total)
  }
}
for (const [name, us] of Object.entries(results))
  console.log(
    `${name.padEnd(6)} ${median(us).toFixed(2)} µs CPU/message  (rounds: ${us.map((u) => u.toFixed(2)).join(', ')})`,
  )
console.log(`spans dropped by the processor: ${sdk.dropped()}`)
process.exit(0)
