import { afterEach, describe, expect, it } from 'vitest'
import { type Bus, createBus, MemoryBroker, memoryTransport, OmnibusError } from '../src/index.js'
import { waitFor } from './helpers.js'

const buses: Bus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.stop()))
})

async function bus(broker: MemoryBroker, delivery: Record<string, number> = {}): Promise<Bus> {
  const b = await createBus({ service: 'svc', transports: { m: memoryTransport({ broker }) }, delivery })
  buses.push(b)
  return b
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since)
  return (used.user + used.system) / 1000
}

describe('stop()', () => {
  it('resolves at the stop timeout when a handler never settles, and leaves its message to the broker', async () => {
    const broker = new MemoryBroker()
    const first = await bus(broker, { stopTimeoutMs: 300 })
    let signal: AbortSignal | undefined
    first.on('t', (_e, ctx) => {
      signal = ctx.signal
      return new Promise(() => {}) // never settles, ignores its signal
    })
    await first.start()
    await first.publish({ type: 't', id: 'stuck' })
    await waitFor('the handler to start', () => signal !== undefined)
    const began = Date.now()
    const cpu = process.cpuUsage()
    await first.stop()
    const took = Date.now() - began
    expect(took).toBeGreaterThanOrEqual(290)
    expect(took).toBeLessThan(300 + 5000) // not the handler's for ever; room for a loaded machine
    expect(cpuMs(cpu)).toBeLessThan(150)
    expect(signal!.aborted).toBe(true)
    const seen: string[] = []
    const second = await bus(broker)
    second.on('t', async (e, ctx) => void seen.push(`${e.id}#${ctx.deliveryCount}`))
    await second.start()
    await waitFor('the redelivery', () => seen.length === 1)
    expect(seen).toEqual(['stuck#2'])
  })

  it('waits for a long handler without spending CPU on the wait', async () => {
    const b = await bus(new MemoryBroker(), { stopTimeoutMs: 5000 })
    let started = false
    let finished = false
    b.on('t', async () => {
      started = true
      await new Promise((resolve) => setTimeout(resolve, 1500))
      finished = true
    })
    await b.start()
    await b.publish({ type: 't' })
    await waitFor('the handler to start', () => started)
    const cpu = process.cpuUsage()
    await b.stop()
    expect(finished).toBe(true)
    // A busy wait spends the whole 1.5 s on the CPU; waiting on promises spends next to nothing.
    expect(cpuMs(cpu)).toBeLessThan(200)
  })

  it('shares one outcome between concurrent and repeated calls', async () => {
    const b = await bus(new MemoryBroker())
    let started = false
    let finished = false
    b.on('t', async () => {
      started = true
      await new Promise((resolve) => setTimeout(resolve, 300))
      finished = true
    })
    await b.start()
    await b.publish({ type: 't' })
    await waitFor('the handler to start', () => started)
    const first = b.stop()
    const second = b.stop()
    await second
    expect(finished).toBe(true)
    await first
    await b.stop()
  })
})

describe('start()', () => {
  it('shares one outcome between concurrent calls, and refuses a second start', async () => {
    const b = await bus(new MemoryBroker())
    await Promise.all([b.start(), b.start()])
    const again = await b.start().catch((e: unknown) => e)
    expect(again).toBeInstanceOf(OmnibusError)
    expect((again as OmnibusError).code).toBe('BUS_STATE')
    expect((again as Error).message).toMatch(/already started/)
    await b.stop()
    const afterStop = await b.start().catch((e: unknown) => e)
    expect((afterStop as Error).message).toMatch(/stopped; create a new bus/)
  })

  it('a stop() during start() ends the start and the bus stays stopped', async () => {
    const b = await bus(new MemoryBroker())
    b.on('t', async () => {})
    const starting = b.start().catch((e: unknown) => e)
    await b.stop()
    const outcome = await starting
    expect(outcome === undefined || outcome instanceof OmnibusError).toBe(true)
    await expect(b.publish({ type: 't' })).rejects.toMatchObject({ code: 'BUS_STATE' })
  })
})
