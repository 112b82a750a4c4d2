import { afterEach, describe, expect, it } from 'vitest'
import { createEvent, type Instrumentation } from '../src/adapter/index.js'
import { type Bus, createBus, type Logger, MemoryBroker, memoryTransport } from '../src/index.js'
import { asLogger } from '../src/telemetry/logger.js'
import { waitFor } from './helpers.js'

const buses: Bus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.stop()))
})

/** Records what the bus tells its instrumentation, and marks what it sends. */
function recorder() {
  const calls: string[] = []
  const instrumentation: Instrumentation = {
    async send(to, kind, events, publish) {
      calls.push(`send ${kind} ${to.system}/${to.transport} ${to.channel.name} x${events.length}`)
      await publish(events.map((e) => e))
    },
    async process(from, event, count, handle) {
      calls.push(`process ${from.channel.name} ${from.group} ${event.type} #${count}`)
      await handle({
        retrying: (attempt) => calls.push(`retry ${attempt}`),
        deadLettered: (_r, attempts) => calls.push(`dead-lettered after ${attempts}`),
        failed: () => calls.push('query failed'),
      })
    },
    async query(to, query, ask) {
      calls.push(`query ${to.channel.name} ${query.type}`)
      return ask()
    },
    subscribed(from) {
      calls.push(`subscribed ${from.channel.name} backlog:${typeof from.backlog}`)
      return () => calls.push(`unsubscribed ${from.channel.name}`)
    },
  }
  return { calls, instrumentation }
}

describe('instrumentation hooks', () => {
  it('are called around publish, every delivery with its retries and dead letter, queries and replies', async () => {
    const { calls, instrumentation } = recorder()
    const b = await createBus({
      service: 'svc',
      transports: { m: memoryTransport({ broker: new MemoryBroker() }) },
      delivery: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
      instrumentation,
    })
    buses.push(b)
    b.on('com.acme.failing', () => {
      throw new Error('no')
    })
    b.answer('com.acme.level', () => 3)
    await b.start()
    await b.publish({ type: 'com.acme.failing', data: {} })
    expect(await b.query({ type: 'com.acme.level', data: {} })).toBe(3)
    await waitFor('the dead letter', () => calls.includes('dead-lettered after 2'))
    await b.stop()
    expect(calls).toEqual(
      expect.arrayContaining([
        'subscribed com.acme.failing backlog:undefined',
        'send event memory/m com.acme.failing x1',
        'process com.acme.failing svc com.acme.failing #1',
        'retry 1',
        'query com.acme.level com.acme.level',
        'send query memory/m com.acme.level x1',
        'process com.acme.level com.acme.level com.acme.level #1',
        'unsubscribed com.acme.failing',
      ]),
    )
    // The answer goes back through the send hook too.
    expect(calls.some((c) => c.startsWith('send event memory/m omnibus.reply.svc.'))).toBe(true)
  })

  it('refuses an instrumentation without its hooks, naming the key', async () => {
    await expect(
      createBus({
        service: 'svc',
        transports: { m: { adapter: 'memory' } },
        instrumentation: {} as Instrumentation,
      }),
    ).rejects.toThrow(/instrumentation/)
  })
})

describe('the sendOne hook', () => {
  it('makes a single message inside it with the trace attributes it gives; batches and whole CloudEvents go through send', async () => {
    const { calls, instrumentation } = recorder()
    const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const made = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    instrumentation.sendOne = async (to, kind, traceparent, make, publish) => {
      calls.push(`sendOne ${kind} ${to.channel.name} given:${String(traceparent)}`)
      await publish([make({ traceparent: made, tracestate: undefined })])
    }
    const seen: Record<string, unknown>[] = []
    const b = await createBus({
      service: 'svc',
      transports: { m: memoryTransport({ broker: new MemoryBroker() }) },
      instrumentation,
    })
    buses.push(b)
    b.on('com.acme.one', (event) => void seen.push(event))
    await b.start()
    await b.publish({ type: 'com.acme.one', data: {}, traceparent: given, tracestate: 'a=1' })
    await b.publish([
      { type: 'com.acme.one', data: {} },
      { type: 'com.acme.one', data: {} },
    ])
    await b.publish(createEvent({ source: 'urn:x', type: 'com.acme.one', data: {} }))
    await waitFor('four deliveries', () => seen.length === 4)
    expect(calls.filter((c) => c.startsWith('send'))).toEqual([
      `sendOne event com.acme.one given:${given}`,
      'send event memory/m com.acme.one x2',
      'send event memory/m com.acme.one x1',
    ])
    expect(seen[0]!.traceparent).toBe(made)
    expect(seen[0]!.tracestate).toBeUndefined()
  })
})

describe('a pino logger as the logger option', () => {
  it('gets its fields first and its message second', () => {
    const lines: unknown[][] = []
    const pinoLike = {
      [Symbol.for('pino.serializers')]: {},
      debug: (...a: unknown[]) => lines.push(a),
      info: (...a: unknown[]) => lines.push(a),
      warn: (...a: unknown[]) => lines.push(a),
      error: (...a: unknown[]) => lines.push(a),
    }
    const logger = asLogger(pinoLike as unknown as Logger)
    logger.info('bus started', { service: 'svc' })
    expect(lines).toEqual([[{ service: 'svc' }, 'bus started']])
    const plain: Logger = { debug() {}, info() {}, warn() {}, error() {} }
    expect(asLogger(plain)).toBe(plain)
  })
})
