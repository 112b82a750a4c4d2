import { createRequire } from 'node:module'
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs'
import { describe, expect, it } from 'vitest'
import { kafka } from './brokers.js'
import { conversation, expectConversation, sdk } from './helpers.js'

const telemetry = sdk()
const client = new KafkaJsInstrumentation()
client.setTracerProvider(telemetry.tracerProvider)
client.enable()
// The adapter imports kafkajs as ESM; requiring it once here lets the instrumentation patch the
// (shared) Kafka class before the adapter first uses it.
const { Kafka } = createRequire(import.meta.resolve('@omnibus/adapter-kafka'))('kafkajs')

const OURS = '@omnibus/opentelemetry'
const scopeOf = (s: ReturnType<typeof telemetry.spans>[number]) => s.instrumentationScope.name

describe('with @opentelemetry/instrumentation-kafkajs registered', () => {
  it('is really active: it patched kafkajs', () => {
    expect(Kafka.prototype.producer.__wrapped).toBe(true)
  })

  it("an order's trace has one send and one process span per message: ours", async () => {
    telemetry.exporter.reset()
    const result = await conversation(telemetry, kafka())
    expectConversation(result, { send: 'kafka', process: 'kafka' })
    const traceId = result.spans[0]!.spanContext().traceId
    const trace = telemetry.spans().filter((s) => s.spanContext().traceId === traceId)
    expect(trace.map(scopeOf)).toEqual([OURS, OURS, OURS, OURS])
    // The client's consumer side still records (its poll and process spans start at the root
    // context before Omnibus is called), in traces of their own, outside the order's.
    const theirs = telemetry.spans().filter((s) => scopeOf(s) !== OURS)
    expect(theirs.some((s) => s.name.startsWith('process '))).toBe(true)
    expect(theirs.filter((s) => s.name.startsWith('send '))).toEqual([])
  })

  it('without suppressClientSpans the client would add a second send span into the trace', async () => {
    telemetry.exporter.reset()
    const result = await conversation(telemetry, kafka(), { suppressClientSpans: false })
    const traceId = result.spans[0]!.spanContext().traceId
    const sends = telemetry
      .spans()
      .filter((s) => s.spanContext().traceId === traceId && s.name.startsWith('send '))
    expect(sends.filter((s) => scopeOf(s) !== OURS).length).toBeGreaterThanOrEqual(2)
  })
})
