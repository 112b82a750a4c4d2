import { createBus, type Envelope, MemoryBroker, memoryTransport } from '@omnibus/core'
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import { conversation, expectConversation, sdk, uniq, waitFor } from './helpers.js'

describe('tracing on the memory transport', () => {
  it('makes publish → process → follow-up send → process one trace, with the conventions attributes', async () => {
    const telemetry = sdk()
    const result = await conversation(telemetry, memoryTransport({ broker: new MemoryBroker() }))
    expectConversation(result, { send: 'omnibus_memory', process: 'omnibus_memory' })
  })

  it("with processParent 'link' starts a trace per process span, linked to the producer", async () => {
    const telemetry = sdk()
    const { spans } = await conversation(telemetry, memoryTransport({ broker: new MemoryBroker() }), {
      processParent: 'link',
    })
    const send = spans.find((s) => s.kind === SpanKind.PRODUCER && !s.parentSpanContext)!
    const process = spans.find((s) => s.links[0]?.context.spanId === send.spanContext().spanId)!
    expect(process.kind).toBe(SpanKind.CONSUMER)
    expect(process.parentSpanContext).toBeUndefined()
    expect(process.spanContext().traceId).not.toBe(send.spanContext().traceId)
    // Follow-ups are children of the process span.
    const followUp = spans.find((s) => s.parentSpanContext?.spanId === process.spanContext().spanId)!
    expect(followUp.kind).toBe(SpanKind.PRODUCER)
  })

  it('shows retries as span events, dead-lettering as an event and an error status, and counts them', async () => {
    const telemetry = sdk()
    const type = `com.omnibus.${uniq('fail')}`
    const bus = await createBus({
      service: 'svc',
      transports: { m: memoryTransport({ broker: new MemoryBroker() }) },
      delivery: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
      instrumentation: telemetry.instrumentation(),
    })
    bus.on(type, () => {
      throw new TypeError('bad stock')
    })
    await bus.start()
    await bus.publish({ type, data: {} })
    await waitFor('the dead letter', () => bus.stats().deadLettered === 1)
    await waitFor('the process span', () => telemetry.spans().some((s) => s.name === `process ${type}`))
    await bus.stop()
    const process = telemetry.spans().find((s) => s.name === `process ${type}`)!
    expect(process.events.map((e) => e.name)).toEqual(['retry', 'retry', 'dead_letter'])
    expect(process.events[0]!.attributes).toMatchObject({ 'omnibus.attempt': 1, 'error.type': 'TypeError' })
    expect(process.status.code).toBe(SpanStatusCode.ERROR)
    expect(process.attributes['error.type']).toBe('TypeError')
    const retries = await telemetry.metric('omnibus.consumer.retries')
    expect(retries?.dataPoints[0]?.value).toBe(2)
    const dead = await telemetry.metric('omnibus.consumer.dead_letters')
    expect(dead?.dataPoints[0]?.value).toBe(1)
    const consumed = await telemetry.metric('messaging.client.consumed.messages')
    expect(consumed?.dataPoints[0]).toMatchObject({
      value: 1,
      attributes: { 'omnibus.outcome': 'dead_lettered', 'messaging.destination.name': type },
    })
  })

  it('traces a query round trip: query span, send, the answer handler, its reply', async () => {
    const telemetry = sdk()
    const type = `com.omnibus.${uniq('level')}`
    const broker = new MemoryBroker()
    const asker = await createBus({
      service: 'asker',
      transports: { m: memoryTransport({ broker }) },
      instrumentation: telemetry.instrumentation(),
    })
    const answerer = await createBus({
      service: 'answerer',
      transports: { m: memoryTransport({ broker }) },
      instrumentation: telemetry.instrumentation(),
    })
    answerer.answer(type, () => ({ available: 3 }))
    await Promise.all([asker.start(), answerer.start()])
    expect(await asker.query({ type, data: {} })).toEqual({ available: 3 })
    await waitFor('the query span', () => telemetry.spans().some((s) => s.name === `query ${type}`))
    await Promise.all([asker.stop(), answerer.stop()])
    const spans = telemetry.spans()
    const query = spans.find((s) => s.name === `query ${type}`)!
    const send = spans.find((s) => s.name === `send ${type}`)!
    const process = spans.find((s) => s.name === `process ${type}`)!
    const reply = spans.find((s) => s.name.startsWith('send omnibus.reply.asker.'))!
    expect(query.kind).toBe(SpanKind.CLIENT)
    expect(send.parentSpanContext?.spanId).toBe(query.spanContext().spanId)
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId)
    expect(reply.parentSpanContext?.spanId).toBe(process.spanContext().spanId)
    expect(reply.attributes['messaging.destination.temporary']).toBe(true)
  })

  it('counts sends with their duration, and a batch is one span with its message count', async () => {
    const telemetry = sdk()
    const type = `com.omnibus.${uniq('batch')}`
    const bus = await createBus({
      service: 'svc',
      transports: { m: memoryTransport({ broker: new MemoryBroker() }) },
      instrumentation: telemetry.instrumentation(),
    })
    await bus.start()
    await bus.publish([1, 2, 3].map((n) => ({ type, data: { n } })))
    await bus.stop()
    const sends = telemetry.spans().filter((s) => s.name === `send ${type}`)
    expect(sends).toHaveLength(1)
    expect(sends[0]!.attributes['messaging.batch.message_count']).toBe(3)
    const sent = await telemetry.metric('messaging.client.sent.messages')
    expect(sent?.dataPoints[0]?.value).toBe(3)
    const duration = await telemetry.metric('messaging.client.operation.duration')
    expect(duration?.descriptor.unit).toBe('s')
  })
})

describe('the trace context a sender gives', () => {
  it("parents the send outside any span; inside one the span's context replaces it, tracestate too", async () => {
    const telemetry = sdk()
    const type = `com.omnibus.${uniq('given')}`
    const received: Envelope[] = []
    const bus = await createBus({
      service: 'svc',
      transports: { m: memoryTransport({ broker: new MemoryBroker() }) },
      instrumentation: telemetry.instrumentation(),
    })
    bus.on(type, (event) => void received.push(event))
    await bus.start()
    const given = {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'a=1',
    }
    await bus.publish({ type, data: { n: 1 }, ...given })
    const outer = telemetry.tracerProvider.getTracer('test').startSpan('outer')
    await context.with(trace.setSpan(context.active(), outer), () =>
      bus.publish({ type, data: { n: 2 }, ...given }),
    )
    outer.end()
    await waitFor('both messages', () => received.length === 2)
    await bus.stop()
    const [first, second] = telemetry.spans().filter((s) => s.name === `send ${type}`)
    expect(first!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(first!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7')
    expect(received[0]!.traceparent).toBe(
      `00-${first!.spanContext().traceId}-${first!.spanContext().spanId}-01`,
    )
    expect(received[0]!.tracestate).toBe('a=1')
    expect(second!.parentSpanContext?.spanId).toBe(outer.spanContext().spanId)
    expect(received[1]!.traceparent).toBe(
      `00-${outer.spanContext().traceId}-${second!.spanContext().spanId}-01`,
    )
    expect(received[1]!.tracestate).toBeUndefined()
  })

  it('refuses a malformed traceparent inside a span as it does with tracing off', async () => {
    const telemetry = sdk()
    const type = `com.omnibus.${uniq('bad')}`
    const bus = await createBus({
      service: 'svc',
      transports: { m: memoryTransport({ broker: new MemoryBroker() }) },
      instrumentation: telemetry.instrumentation(),
    })
    await bus.start()
    const outer = telemetry.tracerProvider.getTracer('test').startSpan('outer')
    const sent = context.with(trace.setSpan(context.active(), outer), () =>
      bus.publish({ type, data: { n: 1 }, traceparent: 'not-a-traceparent' }),
    )
    await expect(sent).rejects.toMatchObject({ code: 'ENVELOPE_INVALID', field: 'traceparent' })
    outer.end()
    await bus.stop()
  })
})

describe('an unsampled trace', () => {
  it('still carries its context on, so that the consumer and its follow-ups are not sampled either', async () => {
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, TraceIdRatioBasedSampler } =
      await import('@opentelemetry/sdk-trace-base')
    const exporter = new InMemorySpanExporter()
    const tracerProvider = new BasicTracerProvider({
      sampler: new TraceIdRatioBasedSampler(0),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    })
    const telemetry = sdk()
    const seen: string[] = []
    const broker = new MemoryBroker()
    const prefix = uniq('unsampled')
    const bus = await createBus({
      service: 'svc',
      transports: { m: memoryTransport({ broker }) },
      instrumentation: telemetry.instrumentation({ tracerProvider }),
    })
    bus.on(`com.omnibus.${prefix}.a`, async (event, ctx) => {
      seen.push(String(event.traceparent))
      await ctx.publish({ type: `com.omnibus.${prefix}.b`, data: {} })
    })
    bus.on(`com.omnibus.${prefix}.b`, (event) => void seen.push(String(event.traceparent)))
    await bus.start()
    await bus.publish({ type: `com.omnibus.${prefix}.a`, data: {} })
    await waitFor('the follow-up', () => seen.length === 2)
    await bus.stop()
    expect(exporter.getFinishedSpans()).toEqual([])
    const [first, second] = seen.map((tp) => tp.split('-'))
    expect(first![3]).toBe('00')
    expect(second![1]).toBe(first![1])
    expect(second![3]).toBe('00')
  })
})
