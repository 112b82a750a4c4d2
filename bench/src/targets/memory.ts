import { MemoryBroker, memoryTransport } from '@omnibus/core'
import type { BenchTarget } from '../target.js'

const broker = new MemoryBroker()

export const memory: BenchTarget = {
  name: 'memory',
  transport: () => memoryTransport({ broker, maxMessageBytes: 4 * 1024 * 1024 }),
  steadyEvents: 100_000,
}
