import { afterEach } from 'vitest'
import { type Bus, createBus, type MemoryBroker, memoryTransport } from '../../src/index.js'

export { waitFor } from '../helpers.js'

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
