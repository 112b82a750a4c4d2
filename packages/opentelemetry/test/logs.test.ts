import { Writable } from 'node:stream'
import { createBus, MemoryBroker, memoryTransport } from '@omnibus/core'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { sdk, uniq, waitFor } from './helpers.js'

/** A pino logger as users make it, writing its JSON lines into `lines`. */
function pinoInto(lines: Record<string, unknown>[]) {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line))
      done()
    },
  })
  return pino({ level: 'debug' }, sink)
}

describe('logs that join the trace', () => {
  it('take a pino logger as it is; every line about a message carries trace and span ids, id, type, channel, group', async () => {
    const telemetry = sdk()
    const lines: Record<string, unknown>[] = []
    const type = `com.omnibus.${uniq('logs')}`
    const bus = await createBus({
      service: 'svc',
      transports: { m: memoryTransport({ broker: new MemoryBroker() }) },
      delivery: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
      logger: pinoInto(lines),
      instrumentation: telemetry.instrumentation(),
    })
    bus.on(type, (_event, ctx) => {
      ctx.logger.info('handling', { step: 1 })
      throw new Error('out of stock')
    })
    await bus.start()
    await bus.publish({ type, data: {} })
    await waitFor('the dead letter', () => bus.stats().deadLettered === 1)
    await bus.stop()
    const process = telemetry.spans().find((s) => s.name === `process ${type}`)!
    const about = lines.filter((l) => l.type === type)
    expect(about.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['handling', 'handler failed; will retry', 'handler failed; dead-lettering']),
    )
    for (const line of about) {
      expect(line).toMatchObject({
        trace_id: process.spanContext().traceId,
        span_id: process.spanContext().spanId,
        id: expect.any(String),
        type,
        channel: type,
        group: 'svc',
      })
    }
    // pino got its fields as fields, and its message as the message.
    expect(lines.find((l) => l.msg === 'bus started')).toMatchObject({ service: 'svc' })
  })
})
