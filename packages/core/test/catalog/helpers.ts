import { afterEach } from 'vitest'
import { type Bus, createBus, type MemoryBroker, memoryTransport } from '../../src/index.js'

const buses: Bus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.stop()))
})

export async function bus(service: string, broker: MemoryBroker, maxAttempts = 5): Promise<Bus> {
  const b = await createBus({
    service,
    transports: { m: memoryTransport({ broker }) },
    delivery: { maxAttempts, initialDelayMs: 50, maxDelayMs: 50 },
  })
  buses.push(b)
  return b
}

export async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
