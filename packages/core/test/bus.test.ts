import { afterEach, describe, expect, it } from 'vitest'
import {
  type Bus,
  createBus,
  type Envelope,
  MemoryBroker,
  memoryTransport,
  OmnibusError,
} from '../src/index.js'
import { waitFor } from './helpers.js'

const buses: Bus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.stop()))
})

async function bus(
  service: string,
  broker: MemoryBroker,
  routes = [] as { match: string; transport: string; channel: string }[],
) {
  const b = await createBus({ service, transports: { m: memoryTransport({ broker }) }, routes })
  buses.push(b)
  return b
}

describe('the bus', () => {
  it('gives follow-ups the correlation id of the conversation and the cause', async () => {
    const broker = new MemoryBroker()
    const seen: Envelope[] = []
    const b = await bus('svc', broker)
    b.on('com.acme.order.placed', async (_e, ctx) => ctx.send({ type: 'com.acme.stock.reserve', data: {} }))
    b.handle('com.acme.stock.reserve', async (c) => void seen.push(c))
    await b.start()
    await b.publish({ type: 'com.acme.order.placed', id: 'order-1', correlationid: 'conv-9' })
    await waitFor('the follow-up command', () => seen.length === 1)
    expect(seen[0]).toMatchObject({ correlationid: 'conv-9', causationid: 'order-1', messagekind: 'command' })
    expect(seen[0]!.source).toBe('urn:omnibus:svc')
  })

  it('acknowledges and counts types it has no handler for on a shared channel', async () => {
    const broker = new MemoryBroker()
    const routes = [{ match: 'com.acme.order.*', transport: 'm', channel: 'orders' }]
    const handled: string[] = []
    const b = await bus('svc', broker, routes)
    b.on('com.acme.order.placed', async (e) => void handled.push(e.type))
    await b.start()
    await b.publish([{ type: 'com.acme.order.cancelled' }, { type: 'com.acme.order.placed' }])
    await waitFor('one handled, one skipped', () => handled.length === 1 && b.stats().skipped === 1)
    expect(handled).toEqual(['com.acme.order.placed'])
  })

  it('refuses handlers after start and sending after stop, with BUS_STATE', async () => {
    const b = await bus('svc', new MemoryBroker())
    await b.start()
    expect(() => b.on('t', async () => {})).toThrow(/before start/)
    await b.stop()
    const error = await b.publish({ type: 't' }).catch((e) => e)
    expect(error).toBeInstanceOf(OmnibusError)
    expect(error.code).toBe('BUS_STATE')
  })

  it('refuses two handlers for one type in one group, as a bad argument (not a bus state)', async () => {
    const b = await bus('svc', new MemoryBroker())
    b.on('t', async () => {})
    expect(() => b.on('t', async () => {})).toThrow(
      expect.objectContaining({
        code: 'ARGUMENT_INVALID',
        message: expect.stringMatching(/already has a event handler/),
      }),
    )
  })

  it('stop() gives a message waiting for its retry back to the broker for the next consumer', async () => {
    const broker = new MemoryBroker()
    const first = await createBus({
      service: 'svc',
      transports: { m: memoryTransport({ broker }) },
      delivery: { initialDelayMs: 60_000, maxDelayMs: 60_000, maxAttempts: 5 },
    })
    let attempts = 0
    first.on('t', async () => {
      attempts++
      throw new Error('fails; its retry is a minute away')
    })
    await first.start()
    await first.publish({ type: 't', id: 'kept' })
    await waitFor('the first attempt', () => attempts === 1)
    const stopped = Date.now()
    await first.stop()
    expect(Date.now() - stopped).toBeLessThan(10_000) // not the minute of the retry
    const ids: string[] = []
    const second = await bus('svc', broker)
    second.on('t', async (e, ctx) => void ids.push(`${e.id}#${ctx.deliveryCount}`))
    await second.start()
    await waitFor('redelivery to the next consumer', () => ids.length === 1)
    expect(ids).toEqual(['kept#2'])
  })
})

describe('query replies', () => {
  it('a late answer to an asker that has stopped leaves no reply queue behind', async () => {
    const broker = new MemoryBroker()
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const answerer = await bus('stock', broker)
    let asked = false
    answerer.answer('com.acme.stock.level', async () => {
      asked = true
      await gate
      return { available: 1 }
    })
    await answerer.start()
    const asker = await createBus({ service: 'asker', transports: { m: memoryTransport({ broker }) } })
    await asker.start()
    const pending = asker
      .query({ type: 'com.acme.stock.level' }, { timeoutMs: 5000 })
      .catch((e: unknown) => e)
    await waitFor('the query to reach its answerer', () => asked)
    await asker.stop()
    expect(await pending).toBeInstanceOf(OmnibusError)
    release()
    await waitFor('the late answer', () => answerer.stats().handled === 1)
    expect(broker.names().filter((name) => name.startsWith('omnibus.reply.asker'))).toEqual([])
  })
})
